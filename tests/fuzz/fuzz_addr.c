/*
 * The address parser on hostile text: prefix_parse() and addr_parse() on the
 * whole input, cidr_cover() on "A-B" inputs, and diag_token() on the bytes.
 *
 * Checked against glibc's inet_pton(), which addr.c promises to agree with:
 * the same texts are accepted, with the same address, length and flags. A
 * parsed prefix has its host bits clear and a length within its family; its
 * text form parses back to the same prefix, and the text of an address is
 * inet_ntop()'s. A CIDR cover is ascending, contiguous, exact and minimal.
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

static void check_cover(u128 lo, u128 hi, enum family f)
{
	struct prefix out[2 * 128 + 2];
	unsigned bits = fam_bits(f);
	char a[36], b[36];
	size_t n = cidr_cover(lo, hi, f, out);
	u128 expect = lo;

	FUZZ_CHECK(n >= 1 && n <= 2 * bits, "cover of [%s, %s]: %zu prefixes", fuzz_hex(lo, a),
		   fuzz_hex(hi, b), n);
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

	/* The text of the address is inet_ntop()'s, and parses back. */
	k = addr_format(p.addr, (enum family)p.family, text);
	for (int i = 0, nb = p.family == FAM_V4 ? 4 : 16; i < nb; i++)
		bin[i] = (unsigned char)(p.addr >> (8 * (nb - 1 - i)));
	FUZZ_CHECK(inet_ntop(p.family == FAM_V4 ? AF_INET : AF_INET6, bin, ntop, sizeof(ntop)),
		   "inet_ntop");
	FUZZ_CHECK(k == strlen(text) && strcmp(text, ntop) == 0 && k < ADDR_STRLEN,
		   "addr_format gives '%s', inet_ntop '%s'", text, ntop);
	FUZZ_CHECK(addr_parse(text, k, &again, &again_flags) == PARSE_OK &&
			   again.addr == p.addr && again.family == p.family &&
			   again_flags == PARSE_NOLEN,
		   "address '%s' parses back differently", text);

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
	struct prefix a, b;
	unsigned fa, fb;

	if (!dash)
		return;
	if (addr_parse(s, (size_t)(dash - s), &a, &fa) != PARSE_OK ||
	    addr_parse(dash + 1, n - (size_t)(dash - s) - 1, &b, &fb) != PARSE_OK ||
	    a.family != b.family)
		return;
	if (a.addr > b.addr) {
		u128 t = a.addr;
		a.addr = b.addr;
		b.addr = t;
	}
	check_cover(a.addr, b.addr, (enum family)a.family);
	FUZZ_CHECK(range_size(a.addr, b.addr) >= 1, "range_size");
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
