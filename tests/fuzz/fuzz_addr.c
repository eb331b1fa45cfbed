/*
 * The address parser on hostile text: prefix_parse() and addr_parse() on the
 * whole input, addr_parse_family() and cidr_cover() on "A-B" inputs, and
 * diag_token() on the bytes.
 *
 * Checked against glibc's inet_pton(), which addr.c promises to agree with:
 * the same texts are accepted, with the same address, length and flags. A
 * parsed prefix has its host bits clear and a length within its family; its
 * text form parses back to the same prefix, and the text of an address is
 * inet_ntop()'s, with no dotted quad in an IPv6 address (::ffff:a.b.c.d is
 * written ::ffff:x:y), and reads back as the same address of its family. A
 * CIDR cover is ascending, contiguous, exact and minimal.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "fuzz.h"

static bool same_prefix(const struct prefix *a, const struct prefix *b)
{
	return a->addr == b->addr && a->plen == b->plen && a->family == b->family;
}

/* What the parser must do, from inet_pton() and the documented rules alone. */
static bool reference(const char *s, size_t n, bool with_len, struct prefix *out,
		      unsigned *flags)
{
	char buf[PREFIX_STRLEN], *slash;
	unsigned char bin[16];
	unsigned bits, plen, fl = 0;
	enum family fam;
	u128 a = 0;

	if (n == 0 || n >= sizeof(buf) || memchr(s, '\0', n))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	slash = strchr(buf, '/');
	if (slash) {
		if (!with_len)
			return false;
		*slash++ = '\0';
	}
	if (inet_pton(AF_INET, buf, bin) == 1) {
		fam = FAM_V4;
		for (int i = 0; i < 4; i++)
			a = a << 8 | bin[i];
	} else if (inet_pton(AF_INET6, buf, bin) == 1) {
		fam = FAM_V6;
		for (int i = 0; i < 16; i++)
			a = a << 8 | bin[i];
	} else {
		return false;
	}
	bits = fam_bits(fam);
	if (slash) {
		size_t k = strlen(slash);
		if (k == 0 || k > 3 || (k > 1 && slash[0] == '0') ||
		    strspn(slash, "0123456789") != k)
			return false;
		plen = (unsigned)atoi(slash);
		if (plen > bits)
			return false;
	} else {
		plen = bits;
		fl |= PARSE_NOLEN;
	}
	if (fam == FAM_V6 && plen >= 96 && (a >> 32) == 0xffff) {
		fam = FAM_V4;
		a &= 0xffffffffu;
		plen -= 96;
		fl |= PARSE_MAPPED;
	}
	if (a & host_mask(fam_bits(fam), plen)) {
		a &= ~host_mask(fam_bits(fam), plen);
		fl |= PARSE_HOSTBITS;
	}
	out->addr = a;
	out->plen = (uint8_t)plen;
	out->family = (uint8_t)fam;
	*flags = fl;
	return true;
}

/* inet_ntop's text of an address, the dotted quad it writes in ::/96 and ::ffff:0:0/96 as two hex groups. */
static void ntop_hex(const unsigned char *bin, bool v6, char *out, size_t n)
{
	FUZZ_CHECK(inet_ntop(v6 ? AF_INET6 : AF_INET, bin, out, (socklen_t)n), "inet_ntop");
	char *dot = strchr(out, '.');
	if (v6 && dot) {
		char *q = strrchr(out, ':') + 1;
		snprintf(q, n - (size_t)(q - out), "%x:%x", bin[12] << 8 | bin[13],
			 bin[14] << 8 | bin[15]);
	}
}

static void check_cover(u128 lo, u128 hi, enum family f)
{
	struct prefix out[2 * 128 + 2];
	unsigned bits = fam_bits(f);
	char a[36], b[36];
	size_t n = cidr_cover(lo, hi, f, out);
	u128 expect = lo;

	FUZZ_CHECK(n >= 1 && n <= 2 * bits, "cover of [%s, %s]: %zu prefixes", fuzz_hex(lo, a),
		   fuzz_hex(hi, b), n);
	/* The ends, as the model file writes them, read back in their family. */
	for (int end = 0; end < 2; end++) {
		char text[ADDR_STRLEN];
		u128 v = end ? hi : lo, back = ~v;
		size_t k = addr_format(v, f, text);
		FUZZ_CHECK(addr_parse_family(text, k, f, &back) == PARSE_OK && back == v &&
				   (f == FAM_V4 || !strchr(text, '.')),
			   "'%s' (%s) does not read back as %s", text, fuzz_hex(v, a), fam_name(f));
	}
	for (size_t i = 0; i < n; i++) {
		const struct prefix *p = &out[i];
		u128 last = prefix_last(p);
		FUZZ_CHECK(p->family == f && p->plen <= bits && p->addr == expect &&
				   !(p->addr & host_mask(bits, p->plen)) && last <= hi,
			   "cover of [%s, %s]: prefix %zu is wrong", fuzz_hex(lo, a), fuzz_hex(hi, b),
			   i);
		/* Minimal: the block one bit shorter, were it aligned here, would pass hi. */
		if (p->plen > 0 && !(p->addr & host_mask(bits, p->plen - 1u)))
			FUZZ_CHECK((p->addr | host_mask(bits, p->plen - 1u)) > hi,
				   "cover of [%s, %s]: prefix %zu could be /%u", fuzz_hex(lo, a),
				   fuzz_hex(hi, b), i, p->plen - 1u);
		if (i + 1 == n)
			FUZZ_CHECK(last == hi, "cover of [%s, %s] stops at %s", fuzz_hex(lo, a),
				   fuzz_hex(hi, b), fuzz_hex(last, b));
		else
			FUZZ_CHECK(last < hi, "cover of [%s, %s] runs on", fuzz_hex(lo, a),
				   fuzz_hex(hi, b));
		expect = last + 1;
	}
}

static void check_parse(const char *s, size_t n, bool with_len)
{
	struct prefix p, ref, again;
	unsigned flags = 0, ref_flags = 0, again_flags = 0;
	char text[PREFIX_STRLEN + 16], ntop[INET6_ADDRSTRLEN + 16];
	unsigned char bin[16];
	const char *what = with_len ? "prefix_parse" : "addr_parse";
	enum parse_err e = with_len ? prefix_parse(s, n, &p, &flags) : addr_parse(s, n, &p, &flags);
	bool ok = reference(s, n, with_len, &ref, &ref_flags);
	char t[DIAG_TOKEN_MAX * 4 + 16];

	diag_token(s, n, t, sizeof(t));
	FUZZ_CHECK((e == PARSE_OK) == ok, "%s('%s'): %s, inet_pton %s", what, t,
		   parse_strerror(e), ok ? "accepts it" : "does not");
	FUZZ_CHECK(e <= PARSE_HAS_LEN && parse_strerror(e) != NULL, "%s: error %d", what, e);
	if (e != PARSE_OK)
		return;
	FUZZ_CHECK(same_prefix(&p, &ref) && flags == ref_flags,
		   "%s('%s'): family %u /%u flags %u, expected family %u /%u flags %u", what, t,
		   p.family, p.plen, flags, ref.family, ref.plen, ref_flags);
	FUZZ_CHECK(p.family <= FAM_V6 && p.plen <= fam_bits(p.family) &&
			   !(p.addr & host_mask(fam_bits(p.family), p.plen)) &&
			   p.addr <= fam_max(p.family),
		   "%s('%s'): not a prefix", what, t);
	if (!with_len)
		FUZZ_CHECK(p.plen == fam_bits(p.family) && (flags & PARSE_NOLEN),
			   "addr_parse('%s'): /%u", t, p.plen);

	/* The text form parses back to the same prefix, with nothing to report. */
	size_t k = prefix_format(&p, text);
	FUZZ_CHECK(k == strlen(text) && k < PREFIX_STRLEN, "prefix_format: length %zu", k);
	FUZZ_CHECK(prefix_parse(text, k, &again, &again_flags) == PARSE_OK &&
			   same_prefix(&again, &p) && again_flags == 0,
		   "'%s' formats as '%s', which parses back differently (flags %u)", t, text,
		   again_flags);

	/* The text of the address is inet_ntop()'s in hex groups, and parses back. */
	k = addr_format(p.addr, (enum family)p.family, text);
	for (int i = 0, nb = p.family == FAM_V4 ? 4 : 16; i < nb; i++)
		bin[i] = (unsigned char)(p.addr >> (8 * (nb - 1 - i)));
	ntop_hex(bin, p.family == FAM_V6, ntop, sizeof(ntop));
	FUZZ_CHECK(k == strlen(text) && strcmp(text, ntop) == 0 && k < ADDR_STRLEN,
		   "addr_format gives '%s', inet_ntop in hex groups '%s'", text, ntop);
	FUZZ_CHECK(addr_parse(text, k, &again, &again_flags) == PARSE_OK &&
			   again.addr == p.addr && again.family == p.family &&
			   again_flags == PARSE_NOLEN,
		   "address '%s' parses back differently", text);
	u128 same = 0;
	FUZZ_CHECK(addr_parse_family(text, k, (enum family)p.family, &same) == PARSE_OK &&
			   same == p.addr,
		   "address '%s' does not read back as %s", text, fam_name((enum family)p.family));

	special_purpose(&p);
	check_cover(p.addr, prefix_last(&p), (enum family)p.family);
	struct prefix one[2 * 128 + 2];
	FUZZ_CHECK(cidr_cover(p.addr, prefix_last(&p), (enum family)p.family, one) == 1 &&
			   same_prefix(&one[0], &p),
		   "the cover of prefix '%s' is not itself", t);
}

/* "A-B": two addresses of one family, the range between them. */
static void check_range(const char *s, size_t n)
{
	const char *dash = memchr(s, '-', n);
	/* IPv6 text is an IPv6 range, also in ::ffff:0:0/96, as the model file reads it. */
	enum family f = memchr(s, ':', n) ? FAM_V6 : FAM_V4;
	u128 lo, hi;

	if (!dash)
		return;
	if (addr_parse_family(s, (size_t)(dash - s), f, &lo) != PARSE_OK ||
	    addr_parse_family(dash + 1, n - (size_t)(dash - s) - 1, f, &hi) != PARSE_OK)
		return;
	if (lo > hi) {
		u128 t = lo;
		lo = hi;
		hi = t;
	}
	check_cover(lo, hi, f);
	FUZZ_CHECK(range_size(lo, hi) >= 1, "range_size");
}

static void check_token(const char *s, size_t n)
{
	char big[DIAG_TOKEN_MAX * 4 + 16], small[16];
	const size_t sizes[2] = { sizeof(big), sizeof(small) };
	char *bufs[2] = { big, small };

	for (int k = 0; k < 2; k++) {
		const char *t = diag_token(s, n, bufs[k], sizes[k]);
		size_t len = strnlen(t, sizes[k]);
		FUZZ_CHECK(t == bufs[k] && len < sizes[k], "diag_token: unterminated");
		for (size_t i = 0; i < len; i++)
			FUZZ_CHECK((unsigned char)t[i] >= 0x20 && t[i] != 0x7f,
				   "diag_token: control byte 0x%02x kept", (unsigned char)t[i]);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;

	check_parse(s, size, true);
	check_parse(s, size, false);
	check_range(s, size);
	check_token(s, size);
	return 0;
}
