/*
 * Strict address parsing and formatting.
 *
 * IPv6 text is parsed by inet_pton(3), which rejects zone ids; IPv4 by a
 * dotted-quad reader that accepts exactly what glibc's inet_pton(AF_INET)
 * does (four decimal octets, no leading zeros) at a fraction of the cost.
 * libcidr's own parser is lenient (it reads "10.1" as 10.0.0.1 and
 * "010.1.1.1" as octal), so it never sees untrusted text.
 */
#include "addr.h"

#include <arpa/inet.h>
#include <endian.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

/* Decimal prefix length: 1 to 3 digits, no sign, no leading zero. */
static enum parse_err parse_plen(const char *s, unsigned *out)
{
	size_t n = strlen(s);
	unsigned v = 0;

	if (n == 0 || n > 3 || (n > 1 && s[0] == '0'))
		return PARSE_BAD_PLEN;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return PARSE_BAD_PLEN;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return PARSE_OK;
}

/* A parsed dotted quad into *out: host bits cleared (and flagged), flags to *flags if wanted. */
static void v4_store(uint32_t a, unsigned plen, unsigned fl, struct prefix *out, unsigned *flags)
{
	uint32_t hm = (uint32_t)host_mask(32, plen);

	if (a & hm) {
		a &= ~hm;
		fl |= PARSE_HOSTBITS;
	}
	out->addr = a;
	out->plen = (uint8_t)plen;
	out->family = FAM_V4;
	if (flags)
		*flags = fl;
}

/*
 * Most of every large feed is IPv4, so a strict dotted quad is read in place:
 * four decimal octets 0-255 without leading zeros, which is exactly what
 * glibc's inet_pton(AF_INET) accepts (tests/unit checks the two agree).
 * Anything else takes the general path, which also names the fault.
 */
static bool v4_fast(const char *s, size_t len, struct prefix *out, unsigned *flags,
		    bool allow_len)
{
	uint32_t a = 0;
	size_t i = 0;

	for (int part = 0; part < 4; part++) {
		if (part) {
			if (i >= len || s[i] != '.')
				return false;
			i++;
		}
		if (i >= len || s[i] < '0' || s[i] > '9')
			return false;
		unsigned v = (unsigned)(s[i++] - '0');
		for (int k = 0; v && k < 2 && i < len && s[i] >= '0' && s[i] <= '9'; k++)
			v = v * 10 + (unsigned)(s[i++] - '0');
		if (v > 255 || (i < len && s[i] >= '0' && s[i] <= '9'))
			return false;
		a = a << 8 | v;
	}
	unsigned plen = 32, fl = PARSE_NOLEN;
	if (i < len) {
		if (!allow_len || s[i] != '/' || len - i < 2 || len - i > 3 ||
		    (len - i == 3 && s[i + 1] == '0'))
			return false;
		plen = 0;
		for (i++; i < len; i++) {
			if (s[i] < '0' || s[i] > '9')
				return false;
			plen = plen * 10 + (unsigned)(s[i] - '0');
		}
		if (plen > 32)
			return false;
		fl = 0;
	}
	v4_store(a, plen, fl, out, flags);
	return true;
}

static enum parse_err parse_any(const char *s, size_t len, struct prefix *out, unsigned *flags,
				bool allow_len)
{
	char buf[PREFIX_STRLEN];
	unsigned char bin[16];
	unsigned plen = 0, fl = 0;
	char *slash;
	enum family fam;

	if (len == 0)
		return PARSE_EMPTY;
	if (len >= sizeof(buf))
		return PARSE_TOO_LONG;
	if (v4_fast(s, len, out, flags, allow_len))
		return PARSE_OK;

	/* One pass: copy, find the slash, and see which family the text can be. */
	bool colon = false, dot = false, zone = false, other = false;
	slash = NULL;
	for (size_t i = 0; i < len; i++) {
		char ch = s[i];
		buf[i] = ch;
		if (ch >= '0' && ch <= '9')
			continue;
		if (ch == '\0')
			other = true;
		if (slash)
			continue; /* the length is checked on its own */
		if (ch == '.')
			dot = true;
		else if (ch == ':')
			colon = true;
		else if (ch == '/')
			slash = buf + i;
		else if (ch == '%')
			zone = true;
		else
			other = true;
	}
	buf[len] = '\0';
	if (slash) {
		if (!allow_len)
			return PARSE_HAS_LEN;
		*slash++ = '\0';
	}
	if (zone)
		return PARSE_ZONE;
	if (other && memchr(s, '\0', len))
		return PARSE_BAD_ADDR;
	if (colon) {
		if (inet_pton(AF_INET6, buf, bin) != 1)
			return PARSE_BAD_V6;
		fam = FAM_V6;
		out->addr = u128_from_be(bin, 16);
	} else if (other) {
		return PARSE_BAD_ADDR;
	} else if (dot) {
		if (inet_pton(AF_INET, buf, bin) != 1)
			return PARSE_BAD_V4;
		fam = FAM_V4;
		out->addr = u128_from_be(bin, 4);
	} else {
		return PARSE_BAD_V4; /* digits only: "10" */
	}

	if (slash) {
		enum parse_err e = parse_plen(slash, &plen);
		if (e)
			return e;
		if (plen > fam_bits(fam))
			return PARSE_PLEN_RANGE;
	} else {
		plen = fam_bits(fam);
		fl |= PARSE_NOLEN;
	}

	/* ::ffff:0:0/96 and longer: an IPv4 prefix written in IPv6 form. */
	if (fam == FAM_V6 && plen >= 96 && (out->addr >> 32) == (u128)0xffff) {
		fam = FAM_V4;
		out->addr &= 0xffffffffu;
		plen -= 96;
		fl |= PARSE_MAPPED;
	}

	u128 hm = host_mask(fam_bits(fam), plen);
	if (out->addr & hm) {
		out->addr &= ~hm;
		fl |= PARSE_HOSTBITS;
	}
	out->plen = (uint8_t)plen;
	out->family = (uint8_t)fam;
	if (flags)
		*flags = fl;
	return PARSE_OK;
}

enum parse_err prefix_parse(const char *s, size_t len, struct prefix *out, unsigned *flags)
{
	return parse_any(s, len, out, flags, true);
}

/*
 * One octet at s: the count of leading decimal digits in the four bytes
 * there (4: no end among them), and in *val their value. With t = byte ^ '0',
 * a byte is a digit exactly when t < 10; the top bit of t, or of
 * (t & 0x7f) + 0x76, is set otherwise, and no carry crosses a byte.
 */
static inline unsigned octet_scan(const char *s, unsigned *val)
{
	uint32_t w;

	memcpy(&w, s, 4);
	uint32_t t = le32toh(w) ^ 0x30303030u;
	uint32_t nd = (t | ((t & 0x7f7f7f7fu) + 0x76767676u)) & 0x80808080u;
	if (!nd)
		return 4;
	unsigned k = (unsigned)__builtin_ctz(nd) >> 3;
	/* The k digits moved to bytes 3 - k .. 2, most significant first. */
	uint32_t x = (t << (8 * (3 - (k & 3)))) & 0xffffffu;
	*val = (x & 0xff) * 100 + (x >> 8 & 0xff) * 10 + (x >> 16);
	return k;
}

size_t prefix_scan_v4_line(const char *s, struct prefix *out, unsigned *flags)
{
	const char *p = s;
	uint32_t a = 0;

	for (int part = 0; part < 4; part++) {
		unsigned v = 0, k = octet_scan(p, &v);
		/* One to three digits, no leading zero (no octal), at most 255. */
		if (k - 1 > 2 || (k > 1 && *p == '0') || v > 255)
			return 0;
		p += k;
		a = a << 8 | v;
		if (part < 3 && *p++ != '.')
			return 0;
	}
	unsigned plen = 32, fl = PARSE_NOLEN;
	if (*p == '/') {
		unsigned d0 = (unsigned)(unsigned char)p[1] - '0';
		unsigned d1 = (unsigned)(unsigned char)p[2] - '0';
		if (d0 > 9)
			return 0;
		if (d1 <= 9) {
			if (d0 == 0)
				return 0;
			plen = d0 * 10 + d1;
			p += 3;
		} else {
			plen = d0;
			p += 2;
		}
		if (plen > 32)
			return 0;
		fl = 0;
	}
	if (*p != '\n')
		return 0;
	v4_store(a, plen, fl, out, flags);
	return (size_t)(p - s);
}

enum parse_err addr_parse(const char *s, size_t len, struct prefix *out, unsigned *flags)
{
	return parse_any(s, len, out, flags, false);
}

enum parse_err addr_parse_family(const char *s, size_t len, enum family f, u128 *out)
{
	struct prefix p;
	unsigned fl;
	enum parse_err e = parse_any(s, len, &p, &fl, false);

	if (e)
		return e;
	/* An address in ::ffff:0:0/96 was taken as IPv4; here it is the IPv6 one. */
	if (fl & PARSE_MAPPED) {
		p.addr |= (u128)0xffff << 32;
		p.family = FAM_V6;
	}
	if (p.family != f)
		return f == FAM_V4 ? PARSE_BAD_V4 : PARSE_BAD_V6;
	*out = p.addr;
	return PARSE_OK;
}

const char *parse_strerror(enum parse_err e)
{
	switch (e) {
	case PARSE_OK:
		return "no error";
	case PARSE_EMPTY:
		return "empty address";
	case PARSE_TOO_LONG:
		return "address too long";
	case PARSE_ZONE:
		return "zone id not allowed in";
	case PARSE_BAD_V4:
		return "invalid IPv4 address (expected four decimal octets without leading zeros)";
	case PARSE_BAD_V6:
		return "invalid IPv6 address";
	case PARSE_BAD_ADDR:
		return "not an IP address or prefix";
	case PARSE_BAD_PLEN:
		return "invalid prefix length";
	case PARSE_PLEN_RANGE:
		return "prefix length out of range";
	case PARSE_HAS_LEN:
		return "expected an address, not a prefix";
	}
	return "unknown parse error";
}

/*
 * Every octet's text followed by a dot ("7.", "42.", "255."), in four bytes,
 * and its length: the hot path of bulk output copies a word per octet
 * instead of branching on each octet's digits. Built before main().
 */
static char octet_text[256][4];
static uint8_t octet_len[256];

__attribute__((constructor)) static void octet_table(void)
{
	char t[8];

	for (unsigned o = 0; o < 256; o++) {
		octet_len[o] = (uint8_t)snprintf(t, sizeof(t), "%u.", o);
		memcpy(octet_text[o], t, 4);
	}
}

/* The dotted quad of v at p (four writable bytes past its end); its length. */
static size_t v4_format(uint32_t v, char *p)
{
	char *q = p;

	for (int shift = 24; shift >= 0; shift -= 8) {
		unsigned o = (v >> shift) & 0xff;
		memcpy(q, octet_text[o], 4);
		q += octet_len[o];
	}
	return (size_t)(q - p - 1); /* without the last dot */
}

size_t addr_format(u128 a, enum family f, char *buf)
{
	if (f == FAM_V4) {
		/* Same text as inet_ntop. */
		size_t n = v4_format((uint32_t)a, buf);
		buf[n] = '\0';
		return n;
	}
	/*
	 * Hexadecimal groups only, also in ::/96 and ::ffff:0:0/96, where
	 * inet_ntop writes ::a.b.c.d and ::ffff:a.b.c.d: in mxfence's text a
	 * dotted quad is always IPv4 (the parsers take ::ffff:a.b.c.d as IPv4),
	 * so an IPv6 address never looks like one.
	 */
	uint16_t w[8];
	for (int i = 0; i < 8; i++)
		w[i] = (uint16_t)(a >> (112 - 16 * i));
	/* RFC 5952: the longest run of two or more zero groups, the first if tied, is "::". */
	int best = -1, best_len = 1;
	for (int i = 0; i < 8;) {
		if (w[i]) {
			i++;
			continue;
		}
		int j = i;
		while (j < 8 && !w[j])
			j++;
		if (j - i > best_len) {
			best = i;
			best_len = j - i;
		}
		i = j;
	}
	static const char hex[] = "0123456789abcdef";
	char *p = buf;
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			*p++ = ':';
			if (i == 0)
				*p++ = ':';
			i += best_len - 1;
			continue;
		}
		unsigned v = w[i];
		if (v >= 0x1000)
			*p++ = hex[v >> 12];
		if (v >= 0x100)
			*p++ = hex[(v >> 8) & 0xf];
		if (v >= 0x10)
			*p++ = hex[(v >> 4) & 0xf];
		*p++ = hex[v & 0xf];
		if (i < 7)
			*p++ = ':';
	}
	*p = '\0';
	return (size_t)(p - buf);
}

size_t prefix_format(const struct prefix *p, char *buf)
{
	size_t n = addr_format(p->addr, p->family, buf);
	unsigned v = p->plen;

	buf[n++] = '/';
	if (v >= 100)
		buf[n++] = (char)('0' + v / 100);
	if (v >= 10)
		buf[n++] = (char)('0' + (v / 10) % 10);
	buf[n++] = (char)('0' + v % 10);
	buf[n] = '\0';
	return n;
}

static unsigned ctz128(u128 v)
{
	uint64_t lo = (uint64_t)v, hi = (uint64_t)(v >> 64);
	return lo ? (unsigned)__builtin_ctzll(lo) : 64 + (unsigned)__builtin_ctzll(hi);
}

/* floor(log2(v)) for v != 0 */
static unsigned log2_128(u128 v)
{
	uint64_t hi = (uint64_t)(v >> 64);
	return hi ? 127 - (unsigned)__builtin_clzll(hi) : 63 - (unsigned)__builtin_clzll((uint64_t)v);
}

size_t cidr_cover(u128 lo, u128 hi, enum family f, struct prefix *out)
{
	unsigned bits = fam_bits(f);
	size_t n = 0;

	for (;;) {
		/* Largest block aligned at lo that does not pass hi. */
		u128 size = hi - lo + 1; /* 0 only for the whole IPv6 space */
		unsigned host = lo ? ctz128(lo) : bits;
		unsigned fit = size ? log2_128(size) : 128;
		if (fit < host)
			host = fit;
		if (host > bits)
			host = bits;
		out[n].addr = lo;
		out[n].plen = (uint8_t)(bits - host);
		out[n].family = (uint8_t)f;
		n++;
		u128 last = lo | host_mask(bits, bits - host);
		if (last >= hi)
			break;
		lo = last + 1;
	}
	return n;
}

size_t u128_format(u128 v, char *buf)
{
	char tmp[40];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + (unsigned)(v % 10));
		v /= 10;
	} while (v);
	for (size_t i = 0; i < n; i++)
		buf[i] = tmp[n - 1 - i];
	buf[n] = '\0';
	return n;
}

void amount_format(u128 addresses, enum family f, char *buf)
{
	size_t n;

	if (f == FAM_V6 && addresses >= ((u128)1 << 64)) {
		n = u128_format(addresses >> 64, buf);
		snprintf(buf + n, AMOUNT_STRLEN - n, " /64s");
	} else {
		n = u128_format(addresses, buf);
		snprintf(buf + n, AMOUNT_STRLEN - n, " addresses");
	}
}

struct special {
	const char *cidr;
	const char *name;
};

/* RFC 6890 and the IANA special-purpose address registries. */
static const struct special special_table[] = {
	{ "0.0.0.0/8", "this network (RFC 791)" },
	{ "10.0.0.0/8", "private (RFC 1918)" },
	{ "100.64.0.0/10", "shared address space (RFC 6598)" },
	{ "127.0.0.0/8", "loopback (RFC 1122)" },
	{ "169.254.0.0/16", "link-local (RFC 3927)" },
	{ "172.16.0.0/12", "private (RFC 1918)" },
	{ "192.0.0.0/24", "IETF protocol assignments (RFC 6890)" },
	{ "192.0.2.0/24", "documentation (RFC 5737)" },
	{ "192.88.99.0/24", "6to4 relay anycast (RFC 7526)" },
	{ "192.168.0.0/16", "private (RFC 1918)" },
	{ "198.18.0.0/15", "benchmarking (RFC 2544)" },
	{ "198.51.100.0/24", "documentation (RFC 5737)" },
	{ "203.0.113.0/24", "documentation (RFC 5737)" },
	{ "224.0.0.0/4", "multicast (RFC 5771)" },
	{ "240.0.0.0/4", "reserved (RFC 1112)" },
	{ "::/127", "unspecified or loopback (RFC 4291)" },
	{ "64:ff9b::/96", "IPv4-IPv6 translation (RFC 6052)" },
	{ "64:ff9b:1::/48", "local-use IPv4-IPv6 translation (RFC 8215)" },
	{ "100::/64", "discard-only (RFC 6666)" },
	{ "2001::/23", "IETF protocol assignments (RFC 2928)" },
	{ "2001:db8::/32", "documentation (RFC 3849)" },
	{ "2002::/16", "6to4 (RFC 3056)" },
	{ "3fff::/20", "documentation (RFC 9637)" },
	{ "fc00::/7", "unique local (RFC 4193)" },
	{ "fe80::/10", "link-local (RFC 4291)" },
	{ "ff00::/8", "multicast (RFC 4291)" },
};
#define SPECIAL_COUNT (sizeof(special_table) / sizeof(special_table[0]))

static struct prefix special_prefix[SPECIAL_COUNT];
static pthread_once_t special_once = PTHREAD_ONCE_INIT;

static void special_init(void)
{
	for (size_t i = 0; i < SPECIAL_COUNT; i++) {
		unsigned flags;
		const char *t = special_table[i].cidr;
		if (prefix_parse(t, strlen(t), &special_prefix[i], &flags) != PARSE_OK)
			abort(); /* the table above is wrong */
	}
}

const char *special_purpose_entry(size_t i, const char **name)
{
	if (i >= SPECIAL_COUNT)
		return NULL;
	*name = special_table[i].name;
	return special_table[i].cidr;
}

const char *special_purpose(const struct prefix *p)
{
	pthread_once(&special_once, special_init);
	for (size_t i = 0; i < SPECIAL_COUNT; i++) {
		const struct prefix *s = &special_prefix[i];
		if (s->family != p->family)
			continue;
		if (p->addr <= prefix_last(s) && s->addr <= prefix_last(p))
			return special_table[i].name;
	}
	return NULL;
}
