/*
 * Unit tests of the model (address parsing, merging, minimal CIDR cover) and
 * of the input plumbing (the line reader, the mapped-file reader).
 * Prints "PASS: name" / "FAIL: name: why" per check (see tests/run).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <libcidr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "addr.h"
#include "compare.h"
#include "feed.h"
#include "linereader.h"
#include "mapfile.h"
#include "model.h"
#include "sets.h"
#include "state.h"
#include "util.h"
#include "check.h"

static void parse_ok(const char *in, const char *want, unsigned want_flags)
{
	struct prefix p;
	unsigned flags = 0;
	char name[160], got[PREFIX_STRLEN] = "";
	enum parse_err e = prefix_parse(in, strlen(in), &p, &flags);

	if (!e)
		prefix_format(&p, got);
	snprintf(name, sizeof(name), "parse '%s'", in);
	CHECK(name, !e && strcmp(got, want) == 0 && flags == want_flags,
	      "err %d (%s), got '%s' flags %u, want '%s' flags %u", e, parse_strerror(e), got, flags,
	      want, want_flags);
}

static void parse_bad(const char *in, size_t len, enum parse_err want)
{
	struct prefix p;
	unsigned flags;
	char name[160];
	enum parse_err e = prefix_parse(in, len, &p, &flags);

	snprintf(name, sizeof(name), "reject '%.*s'", (int)len, in);
	CHECK(name, e == want, "got %d (%s), want %d (%s)", e, parse_strerror(e), want,
	      parse_strerror(want));
}

static void test_parse(void)
{
	parse_ok("192.0.2.1", "192.0.2.1/32", PARSE_NOLEN);
	parse_ok("192.0.2.0/24", "192.0.2.0/24", 0);
	parse_ok("0.0.0.0/0", "0.0.0.0/0", 0);
	parse_ok("255.255.255.255", "255.255.255.255/32", PARSE_NOLEN);
	parse_ok("40.92.1.0/15", "40.92.0.0/15", PARSE_HOSTBITS);
	parse_ok("2001:db8::/32", "2001:db8::/32", 0);
	parse_ok("2001:DB8:0:0::1", "2001:db8::1/128", PARSE_NOLEN);
	parse_ok("::/0", "::/0", 0);
	parse_ok("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128",
		 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", 0);
	parse_ok("::ffff:192.0.2.1", "192.0.2.1/32", PARSE_NOLEN | PARSE_MAPPED);
	parse_ok("::ffff:192.0.2.0/120", "192.0.2.0/24", PARSE_MAPPED);
	parse_ok("::ffff:0:0/96", "0.0.0.0/0", PARSE_MAPPED);
	parse_ok("2001:db8::1/32", "2001:db8::/32", PARSE_HOSTBITS);

	parse_bad("10.1", 4, PARSE_BAD_V4);
	parse_bad("010.1.1.1", 9, PARSE_BAD_V4);
	parse_bad("1.2.3.04", 8, PARSE_BAD_V4);
	parse_bad("1.2.3.256", 9, PARSE_BAD_V4);
	parse_bad("1.2.3.4.5", 9, PARSE_BAD_V4);
	parse_bad("1.2.3", 5, PARSE_BAD_V4);
	parse_bad("0x1.2.3.4", 9, PARSE_BAD_ADDR);
	parse_bad("1.2.3.4/33", 10, PARSE_PLEN_RANGE);
	parse_bad("1.2.3.4/024", 11, PARSE_BAD_PLEN);
	parse_bad("1.2.3.4/", 8, PARSE_BAD_PLEN);
	parse_bad("1.2.3.4/+8", 10, PARSE_BAD_PLEN);
	parse_bad("1.2.3.4/8/8", 11, PARSE_BAD_PLEN);
	parse_bad("2001:db8::/129", 14, PARSE_PLEN_RANGE);
	parse_bad("fe80::1%eth0", 12, PARSE_ZONE);
	parse_bad("2001:db8:::1", 12, PARSE_BAD_V6);
	parse_bad("2001:db8::g", 11, PARSE_BAD_V6);
	parse_bad("mail.example.com", 16, PARSE_BAD_ADDR);
	parse_bad("", 0, PARSE_EMPTY);
	parse_bad("1.2.3.4\0", 8, PARSE_BAD_ADDR);
	parse_bad(" 1.2.3.4", 8, PARSE_BAD_ADDR);
	char longer[200];
	memset(longer, '1', sizeof(longer));
	parse_bad(longer, sizeof(longer), PARSE_TOO_LONG);
}

/* Build a set from prefix texts and compare its intervals with `want`. */
static void merge_case(const char *name, const char *const *in, const char *want)
{
	struct interval_set s;
	char got[4096] = "", text[ADDR_STRLEN];
	size_t o = 0;
	enum family fam = strchr(in[0], ':') ? FAM_V6 : FAM_V4;

	interval_set_init(&s, fam);
	for (size_t i = 0; in[i]; i++) {
		struct prefix p;
		unsigned flags;
		if (prefix_parse(in[i], strlen(in[i]), &p, &flags) != PARSE_OK) {
			CHECK(name, 0, "cannot parse %s", in[i]);
			return;
		}
		input_vec_push(&s.in, p.addr, p.plen, (uint32_t)i);
	}
	interval_set_build(&s);
	for (size_t i = 0; i < s.n; i++) {
		addr_format(s.iv[i].lo, fam, text);
		o += (size_t)snprintf(got + o, sizeof(got) - o, "%s%s-", i ? " " : "", text);
		addr_format(s.iv[i].hi, fam, text);
		o += (size_t)snprintf(got + o, sizeof(got) - o, "%s", text);
	}
	CHECK(name, strcmp(got, want) == 0, "got '%s', want '%s'", got, want);
	interval_set_free(&s);
}

static void test_merge(void)
{
	merge_case("merge adjacent",
		   (const char *const[]){ "192.0.2.0/25", "192.0.2.128/25", NULL },
		   "192.0.2.0-192.0.2.255");
	merge_case("merge nested",
		   (const char *const[]){ "198.51.100.0/24", "198.51.100.7", "198.51.100.64/26", NULL },
		   "198.51.100.0-198.51.100.255");
	merge_case("merge duplicate",
		   (const char *const[]){ "203.0.113.0/24", "203.0.113.0/24", NULL },
		   "203.0.113.0-203.0.113.255");
	merge_case("keep gap", (const char *const[]){ "192.0.2.1", "192.0.2.3", NULL },
		   "192.0.2.1-192.0.2.1 192.0.2.3-192.0.2.3");
	merge_case("merge unsorted input",
		   (const char *const[]){ "203.0.113.9", "192.0.2.0/24", "192.0.3.0/24", NULL },
		   "192.0.2.0-192.0.3.255 203.0.113.9-203.0.113.9");
	merge_case("first address", (const char *const[]){ "0.0.0.0/32", "0.0.0.1", NULL },
		   "0.0.0.0-0.0.0.1");
	merge_case("last address v4",
		   (const char *const[]){ "255.255.255.255", "255.255.255.254/32", "0.0.0.0/8", NULL },
		   "0.0.0.0-0.255.255.255 255.255.255.254-255.255.255.255");
	merge_case("whole v4 space", (const char *const[]){ "128.0.0.0/1", "0.0.0.0/1", NULL },
		   "0.0.0.0-255.255.255.255");
	merge_case("after the end", (const char *const[]){ "255.255.255.0/24", "255.255.255.255", NULL },
		   "255.255.255.0-255.255.255.255");
	merge_case("last address v6",
		   (const char *const[]){ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
					  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe", NULL },
		   "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	merge_case("whole v6 space", (const char *const[]){ "8000::/1", "::/1", NULL },
		   "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	merge_case("v6 adjacent",
		   (const char *const[]){ "2001:db8::/33", "2001:db8:8000::/33", "2001:db9::/32", NULL },
		   "2001:db8::-2001:db9:ffff:ffff:ffff:ffff:ffff:ffff");
}

static void cover_case(const char *name, const char *lo, const char *hi, const char *want)
{
	struct prefix a, b, out[256];
	unsigned f;
	char got[8192] = "", text[PREFIX_STRLEN];
	size_t o = 0;

	prefix_parse(lo, strlen(lo), &a, &f);
	prefix_parse(hi, strlen(hi), &b, &f);
	size_t n = cidr_cover(a.addr, b.addr, a.family, out);
	for (size_t i = 0; i < n; i++) {
		prefix_format(&out[i], text);
		o += (size_t)snprintf(got + o, sizeof(got) - o, "%s%s", i ? " " : "", text);
	}
	CHECK(name, strcmp(got, want) == 0, "got '%s', want '%s'", got, want);
}

static void test_cover(void)
{
	cover_case("cover single", "192.0.2.7", "192.0.2.7", "192.0.2.7/32");
	cover_case("cover aligned", "192.0.2.0", "192.0.2.255", "192.0.2.0/24");
	cover_case("cover 1-6", "192.0.2.1", "192.0.2.6", "192.0.2.1/32 192.0.2.2/31 192.0.2.4/31 192.0.2.6/32");
	cover_case("cover whole v4", "0.0.0.0", "255.255.255.255", "0.0.0.0/0");
	cover_case("cover 0.0.0.1-255.255.255.254", "0.0.0.1", "255.255.255.254",
		   "0.0.0.1/32 0.0.0.2/31 0.0.0.4/30 0.0.0.8/29 0.0.0.16/28 0.0.0.32/27 0.0.0.64/26 "
		   "0.0.0.128/25 0.0.1.0/24 0.0.2.0/23 0.0.4.0/22 0.0.8.0/21 0.0.16.0/20 0.0.32.0/19 "
		   "0.0.64.0/18 0.0.128.0/17 0.1.0.0/16 0.2.0.0/15 0.4.0.0/14 0.8.0.0/13 0.16.0.0/12 "
		   "0.32.0.0/11 0.64.0.0/10 0.128.0.0/9 1.0.0.0/8 2.0.0.0/7 4.0.0.0/6 8.0.0.0/5 "
		   "16.0.0.0/4 32.0.0.0/3 64.0.0.0/2 128.0.0.0/2 192.0.0.0/3 224.0.0.0/4 240.0.0.0/5 "
		   "248.0.0.0/6 252.0.0.0/7 254.0.0.0/8 255.0.0.0/9 255.128.0.0/10 255.192.0.0/11 "
		   "255.224.0.0/12 255.240.0.0/13 255.248.0.0/14 255.252.0.0/15 255.254.0.0/16 "
		   "255.255.0.0/17 255.255.128.0/18 255.255.192.0/19 255.255.224.0/20 "
		   "255.255.240.0/21 255.255.248.0/22 255.255.252.0/23 255.255.254.0/24 "
		   "255.255.255.0/25 255.255.255.128/26 255.255.255.192/27 255.255.255.224/28 "
		   "255.255.255.240/29 255.255.255.248/30 255.255.255.252/31 255.255.255.254/32");
	cover_case("cover whole v6", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "::/0");
	cover_case("cover v6 end", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe",
		   "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127");
	cover_case("cover v6 odd", "2001:db8::1", "2001:db8::2", "2001:db8::1/128 2001:db8::2/128");
}

/* Random prefixes inside 192.0.0.0/16, checked against a bitmap of that space. */
static void test_random_against_bitmap(void)
{
	static unsigned char bits[65536];
	uint64_t x = 0x9e3779b97f4a7c15ull;
	int ok = 1;

	for (int round = 0; round < 50 && ok; round++) {
		struct interval_set s;
		memset(bits, 0, sizeof(bits));
		interval_set_init(&s, FAM_V4);
		int n = 1 + round * 7;
		for (int i = 0; i < n; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			unsigned plen = 16 + (unsigned)(x % 17);
			uint32_t a = 0xc0000000u | (uint32_t)((x >> 20) & 0xffff);
			a &= ~(uint32_t)host_mask(32, plen);
			input_vec_push(&s.in, a, (uint8_t)plen, (uint32_t)i);
			for (uint32_t k = a; k <= (a | (uint32_t)host_mask(32, plen)); k++)
				bits[k & 0xffff] = 1;
		}
		interval_set_build(&s);
		/* Intervals sorted, disjoint, not adjacent, and exactly the bitmap. */
		for (size_t i = 0; i + 1 < s.n; i++)
			ok &= s.iv[i].hi + 1 < s.iv[i + 1].lo;
		for (uint32_t k = 0; k < 65536 && ok; k++) {
			u128 addr = 0xc0000000u | k;
			ok &= (interval_set_lookup(&s, addr) != NULL) == bits[k];
		}
		/* The same answers through the lookup index, around every interval's ends. */
		const struct interval *plain[4];
		interval_set_index(&s);
		for (size_t i = 0; i < s.n && ok; i++) {
			u128 probe[4] = { s.iv[i].lo - 1, s.iv[i].lo, s.iv[i].hi, s.iv[i].hi + 1 };
			for (int k = 0; k < 4; k++) {
				struct interval_set bare = s;
				bare.top = NULL;
				plain[k] = interval_set_lookup(&bare, probe[k]);
				ok &= interval_set_lookup(&s, probe[k]) == plain[k];
			}
		}
		for (uint32_t k = 0; k < 65536 && ok; k++)
			ok &= (interval_set_lookup(&s, 0xc0000000u | k) != NULL) == bits[k];
		/* Every input prefix lies inside its interval. */
		for (size_t i = 0; i < s.n && ok; i++)
			for (size_t j = s.iv[i].first; j < s.iv[i].first + s.iv[i].count; j++)
				ok &= s.in.v[j].lo >= s.iv[i].lo &&
				      input_last(&s.in.v[j], FAM_V4) <= s.iv[i].hi;
		interval_set_free(&s);
	}
	CHECK("random prefixes match a bitmap", ok, "mismatch");
}

/* Indexed and plain lookups agree on random IPv6 sets. */
static void test_index_v6(void)
{
	uint64_t x = 0x1234567;
	int ok = 1;

	for (int round = 0; round < 20 && ok; round++) {
		struct interval_set s;
		interval_set_init(&s, FAM_V6);
		for (int i = 0; i < 3000; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			unsigned plen = 20 + (unsigned)(x % 100);
			u128 a = ((u128)(0x2000 + (x >> 50) % 5) << 112) | ((u128)x << 40) | (x >> 7);
			a &= ~host_mask(128, plen);
			input_vec_push(&s.in, a, (uint8_t)plen, (uint32_t)i);
		}
		interval_set_build(&s);
		struct interval_set bare = s;
		interval_set_index(&s);
		for (size_t i = 0; i < s.n && ok; i++) {
			u128 probe[4] = { s.iv[i].lo - 1, s.iv[i].lo, s.iv[i].hi, s.iv[i].hi + 1 };
			for (int k = 0; k < 4; k++)
				ok &= interval_set_lookup(&s, probe[k]) == interval_set_lookup(&bare, probe[k]);
		}
		for (int i = 0; i < 100000 && ok; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			u128 a = ((u128)(0x2000 + (x >> 50) % 6) << 112) | ((u128)x << 40) | (x >> 3);
			ok &= interval_set_lookup(&s, a) == interval_set_lookup(&bare, a);
		}
		interval_set_free(&s);
	}
	CHECK("ipv6 lookup index agrees with plain search", ok, "mismatch");
}

static void test_sort(void)
{
	enum { N = 300000 }; /* above the size that sorts in two threads */
	struct input_prefix *v = malloc(N * sizeof(*v)), *tmp = malloc(N * sizeof(*v));
	uint64_t x = 12345;
	int ok = 1;

	for (size_t i = 0; i < N; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		v[i].lo = ((u128)x << 64) | (x * 0x2545f4914f6cdd1dull);
		if (i % 3 == 0)
			v[i].lo >>= 96; /* mix small keys in */
		v[i].origin = (uint32_t)i;
		v[i].plen = 0;
	}
	input_sort(v, N, tmp);
	for (size_t i = 1; i < N; i++)
		ok &= v[i - 1].lo <= v[i].lo && (v[i - 1].lo != v[i].lo || v[i - 1].origin < v[i].origin);
	CHECK("radix sort orders 128-bit keys, stable", ok, "out of order");

	/* Few distinct keys, each in both halves of the input: equal keys keep their order. */
	for (size_t i = 0; i < N; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		v[i].lo = (u128)(x % 5000) << 8 | (x >> 60);
		v[i].origin = (uint32_t)i;
	}
	input_sort(v, N, tmp);
	ok = 1;
	for (size_t i = 1; i < N; i++)
		ok &= v[i - 1].lo < v[i].lo || (v[i - 1].lo == v[i].lo && v[i - 1].origin < v[i].origin);
	CHECK("radix sort keeps equal keys in input order across both halves", ok, "unstable");
	free(v);
	free(tmp);
}

static void test_special(void)
{
	struct prefix p;
	unsigned f;

	prefix_parse("10.1.0.0/16", 11, &p, &f);
	CHECK("special: 10.1.0.0/16 is private", special_purpose(&p) != NULL, "not flagged");
	prefix_parse("8.0.0.0/7", 9, &p, &f);
	CHECK("special: 8.0.0.0/7 is not", special_purpose(&p) == NULL, "flagged %s", special_purpose(&p));
	prefix_parse("192.0.0.0/16", 12, &p, &f);
	CHECK("special: 192.0.0.0/16 overlaps documentation", special_purpose(&p) != NULL, "not flagged");
	prefix_parse("fe80::/64", 9, &p, &f);
	CHECK("special: fe80::/64 link-local", special_purpose(&p) != NULL, "not flagged");
	prefix_parse("2a01:111:f400::/48", 18, &p, &f);
	CHECK("special: 2a01:111:f400::/48 is not", special_purpose(&p) == NULL, "flagged");
}

static uint64_t rng = 0x243f6a8885a308d3ull;
static uint64_t next(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return rng;
}

/*
 * Our IPv6 text is inet_ntop's, zero runs and all, except that it never
 * writes a dotted quad: where inet_ntop writes ::a.b.c.d or ::ffff:a.b.c.d,
 * ours has the last two groups in hexadecimal. It reads back as the same
 * address with inet_pton, and as the same IPv6 address with
 * addr_parse_family (prefix_parse would take ::ffff:0:0/96 as IPv4).
 */
static void test_format_v6_against_inet_ntop(void)
{
	int ok = 1;
	char mine[ADDR_STRLEN], libc[ADDR_STRLEN], want[ADDR_STRLEN + 8];

	for (int i = 0; i < 200000 && ok; i++) {
		unsigned char b[16], back[16];
		uint64_t r = next(), mask = next();
		for (int w = 0; w < 8; w++) {
			uint16_t v = (uint16_t)(r >> (8 * (w % 4)));
			if ((mask >> w) & 1)
				v = 0; /* zero groups, in every pattern */
			if (i % 7 == 0 && w < 5)
				v = 0;
			if (i % 14 == 0 && w == 5)
				v = 0xffff;
			b[2 * w] = (unsigned char)(v >> 8);
			b[2 * w + 1] = (unsigned char)v;
		}
		u128 a = 0, parsed = 0;
		for (int k = 0; k < 16; k++)
			a = a << 8 | b[k];
		size_t n = addr_format(a, FAM_V6, mine);
		inet_ntop(AF_INET6, b, libc, sizeof(libc));
		char *dots = strchr(libc, '.');
		snprintf(want, sizeof(want), "%s", libc);
		if (dots) {
			/* the dotted quad starts after the last colon */
			char *q = strrchr(libc, ':') + 1;
			snprintf(want + (q - libc), sizeof(want) - (size_t)(q - libc), "%x:%x",
				 b[12] << 8 | b[13], b[14] << 8 | b[15]);
		}
		if (strcmp(mine, want) != 0 || n != strlen(mine) || strchr(mine, '.') ||
		    inet_pton(AF_INET6, mine, back) != 1 || memcmp(back, b, 16) != 0 ||
		    addr_parse_family(mine, n, FAM_V6, &parsed) != PARSE_OK || parsed != a) {
			ok = 0;
			CHECK("ipv6 text is inet_ntop's in hex groups, reads back", 0,
			      "'%s' vs '%s' (inet_ntop '%s')", mine, want, libc);
		}
	}
	if (ok)
		CHECK("ipv6 text is inet_ntop's in hex groups, reads back", 1, "%s", "");
}

static void format_is(u128 a, enum family f, const char *want)
{
	char got[ADDR_STRLEN], name[96];

	addr_format(a, f, got);
	snprintf(name, sizeof(name), "format %s", want);
	CHECK(name, strcmp(got, want) == 0, "got '%s'", got);
}

static void family_parse(const char *in, enum family f, enum parse_err want_err, u128 want)
{
	u128 got = 0;
	char name[128];
	enum parse_err e = addr_parse_family(in, strlen(in), f, &got);

	snprintf(name, sizeof(name), "parse '%s' as %s", in, fam_name(f));
	CHECK(name, e == want_err && (e || got == want), "err %d (%s), want %d", e, parse_strerror(e),
	      want_err);
}

/* The text of the model file: the family is given, ::ffff:0:0/96 is IPv6 there. */
static void test_family_text(void)
{
	const u128 mapped = (u128)0xffff << 32;

	format_is(mapped | 0xffffffffu, FAM_V6, "::ffff:ffff:ffff");
	format_is(mapped, FAM_V6, "::ffff:0:0");
	format_is(mapped | 0xc0000201u, FAM_V6, "::ffff:c000:201");
	format_is(0x01020304u, FAM_V6, "::102:304");
	format_is(0x00010000u, FAM_V6, "::1:0");
	format_is(1, FAM_V6, "::1");
	format_is(0, FAM_V6, "::");
	format_is(~(u128)0, FAM_V6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	format_is((u128)0xfff0 << 32, FAM_V6, "::fff0:0:0");
	format_is(0xffffffffu, FAM_V4, "255.255.255.255");
	format_is(0, FAM_V4, "0.0.0.0");

	family_parse("::ffff:255.255.255.255", FAM_V6, PARSE_OK, mapped | 0xffffffffu);
	family_parse("::ffff:ffff:ffff", FAM_V6, PARSE_OK, mapped | 0xffffffffu);
	family_parse("::FFFF:0:0", FAM_V6, PARSE_OK, mapped);
	family_parse("::ffff:192.0.2.1", FAM_V6, PARSE_OK, mapped | 0xc0000201u);
	family_parse("::1.2.3.4", FAM_V6, PARSE_OK, 0x01020304u);
	family_parse("::", FAM_V6, PARSE_OK, 0);
	family_parse("2001:db8::1", FAM_V6, PARSE_OK, (u128)0x20010db8u << 96 | 1);
	family_parse("192.0.2.1", FAM_V6, PARSE_BAD_V6, 0);
	family_parse("192.0.2.1", FAM_V4, PARSE_OK, 0xc0000201u);
	family_parse("::ffff:192.0.2.1", FAM_V4, PARSE_BAD_V4, 0);
	family_parse("2001:db8::1", FAM_V4, PARSE_BAD_V4, 0);
	family_parse("::ffff:0:0/96", FAM_V6, PARSE_HAS_LEN, 0);
	family_parse("192.0.2.0/24", FAM_V4, PARSE_HAS_LEN, 0);
	family_parse("010.1.1.1", FAM_V4, PARSE_BAD_V4, 0);
	family_parse("fe80::1%eth0", FAM_V6, PARSE_ZONE, 0);
	family_parse("", FAM_V6, PARSE_EMPTY, 0);

	/* Every address around the edges and around ::/96 and ::ffff:0:0/96 reads back. */
	const u128 v6_anchors[] = { 0, 0xffffffffu, (u128)1 << 32, mapped, mapped | 0xffffffffu,
				    (u128)1 << 48, ~(u128)0 };
	const u128 v4_anchors[] = { 0, 0x7fffffffu, 0xffffffffu };
	size_t tried = 0, wrong = 0;
	char text[ADDR_STRLEN], bad[ADDR_STRLEN] = "";
	for (int f = 0; f < FAM_COUNT; f++) {
		const u128 *anchors = f == FAM_V4 ? v4_anchors : v6_anchors;
		size_t na = f == FAM_V4 ? 3 : sizeof(v6_anchors) / sizeof(v6_anchors[0]);
		for (size_t i = 0; i < na; i++)
			for (int d = -1024; d <= 1024; d++) {
				u128 a = anchors[i] + (u128)(__int128)d, back = 0;
				if ((d < 0 && a > anchors[i]) || (d > 0 && a < anchors[i]) ||
				    a > fam_max((enum family)f))
					continue; /* past an end of the family */
				size_t n = addr_format(a, (enum family)f, text);
				tried++;
				if (addr_parse_family(text, n, (enum family)f, &back) != PARSE_OK ||
				    back != a || (f == FAM_V6 && strchr(text, '.'))) {
					if (!wrong++)
						snprintf(bad, sizeof(bad), "%s", text);
				}
			}
	}
	CHECK("addresses around the edges print and read back in their family",
	      wrong == 0 && tried > 14000, "%zu of %zu wrong, first '%s'", wrong, tried, bad);
}

/*
 * special_purpose() against libcidr, an independent reading of the same
 * table: a prefix is special exactly when libcidr finds a range of the table
 * that contains it or lies inside it, and the name is the first such range's.
 * Prefixes are drawn around every range's edges, and at random.
 */
static void test_special_against_libcidr(void)
{
	CIDR *table[64];
	struct prefix anchor[64];
	const char *names[64], *text, *name;
	size_t n = 0, special = 0, wrong = 0;
	char first[160] = "";

	/* libcidr reads up to 8 bytes before a text shorter than that: room in front. */
	char padded[16 + PREFIX_STRLEN], *t = padded + 16;
	memset(padded, ' ', 16);
	while (n < 64 && (text = special_purpose_entry(n, &name))) {
		unsigned fl;
		snprintf(t, PREFIX_STRLEN, "%s", text);
		table[n] = cidr_from_str(t);
		names[n] = name;
		if (!table[n] || prefix_parse(text, strlen(text), &anchor[n], &fl) != PARSE_OK) {
			CHECK("special: libcidr reads the table", 0, "entry '%s'", text);
			return;
		}
		n++;
	}
	for (int i = 0; i < 100000; i++) {
		struct prefix p;
		const struct prefix *a = &anchor[next() % n];
		unsigned bits;
		if (i % 4 == 0) {
			p.family = next() % 2 ? FAM_V6 : FAM_V4;
			p.addr = (u128)next() << 64 | next();
		} else {
			/* just inside or outside either end of a range */
			p.family = a->family;
			u128 edge = next() % 2 ? a->addr : prefix_last(a);
			p.addr = edge + (u128)(next() % 64) - 32;
		}
		bits = fam_bits((enum family)p.family);
		p.addr &= fam_max((enum family)p.family);
		p.plen = (uint8_t)(1 + next() % bits);
		p.addr &= ~host_mask(bits, p.plen);
		prefix_format(&p, t);
		CIDR *c = cidr_from_str(t);
		const char *want = NULL;
		for (size_t k = 0; c && k < n && !want; k++)
			if (cidr_get_proto(table[k]) == cidr_get_proto(c) &&
			    (cidr_contains(table[k], c) == 0 || cidr_contains(c, table[k]) == 0))
				want = names[k];
		const char *got = special_purpose(&p);
		special += got != NULL;
		if (!c || got != want) {
			if (!wrong++)
				snprintf(first, sizeof(first), "%s: ours %s, libcidr %s", t,
					 got ? got : "none", c ? (want ? want : "none") : "unreadable");
		}
		cidr_free(c);
	}
	for (size_t k = 0; k < n; k++)
		cidr_free(table[k]);
	CHECK("special: the same verdicts as libcidr on 100000 prefixes around the table's edges",
	      wrong == 0 && special > 10000 && n > 20, "%zu differ (first %s), %zu special, %zu ranges",
	      wrong, first, special, n);
}

/* The IPv4 fast path must accept exactly what inet_pton(AF_INET) accepts. */
static void test_v4_parse_against_inet_pton(void)
{
	static const char alphabet[] = "0123456789..../";
	int ok = 1;

	for (int i = 0; i < 500000 && ok; i++) {
		char s[24];
		size_t n = 7 + next() % 12;
		for (size_t k = 0; k < n; k++)
			s[k] = alphabet[next() % (sizeof(alphabet) - 1)];
		s[n] = '\0';
		struct prefix p;
		unsigned flags;
		enum parse_err e = addr_parse(s, n, &p, &flags);
		unsigned char b[4];
		int libc = inet_pton(AF_INET, s, b);
		uint32_t want = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
		if ((e == PARSE_OK) != (libc == 1) || (libc == 1 && p.addr != want)) {
			ok = 0;
			CHECK("ipv4 parse equals inet_pton", 0, "'%s': ours %d, inet_pton %d", s, e, libc);
		}
	}
	if (ok)
		CHECK("ipv4 parse equals inet_pton", 1, "%s", "");
}

/*
 * The word-at-a-time scan of list lines takes exactly the lines that
 * prefix_parse() reads as an IPv4 prefix, with the same result, and no other.
 */
static void test_v4_line_scan_against_parse(void)
{
	static const char alphabet[] = "0123456789012..../\n3";
	int ok = 1;

	for (int i = 0; i < 1000000 && ok; i++) {
		char s[PREFIX_V4_LINE_MAX + 8];
		size_t n = 1 + next() % 20;
		memset(s, '\n', sizeof(s));
		for (size_t k = 0; k < n && k < PREFIX_V4_LINE_MAX; k++)
			s[k] = alphabet[next() % (sizeof(alphabet) - 1)];
		if (i % 3 == 0) /* a well-formed quad, then noise */
			snprintf(s, sizeof(s), "%u.%u.%u.%u/%u%c", (unsigned)(next() % 300),
				 (unsigned)(next() % 256), (unsigned)(next() % 256),
				 (unsigned)(next() % 260), (unsigned)(next() % 40),
				 "\n\n\n9./x"[next() % 7]);
		size_t line = strcspn(s, "\n");
		struct prefix a, b;
		unsigned fa = 0, fb = 0;
		size_t got = prefix_scan_v4_line(s, &a, &fa);
		/* The scan wants a newline after the text; snprintf may have put a NUL there. */
		bool want = line < PREFIX_V4_LINE_MAX && s[line] == '\n' && prefix_parse(s, line, &b, &fb) == PARSE_OK &&
			    b.family == FAM_V4;
		if ((got != 0) != want || (got && (got != line || a.addr != b.addr ||
						   a.plen != b.plen || fa != fb))) {
			ok = 0;
			s[sizeof(s) - 1] = '\0';
			CHECK("ipv4 line scan equals prefix_parse", 0, "'%.*s': scan %zu, parse %d",
			      (int)line, s, got, want);
		}
	}
	if (ok)
		CHECK("ipv4 line scan equals prefix_parse", 1, "%s", "");
}

/* IPv4 text: every octet in every place, and random addresses, as inet_ntop writes them. */
static void test_format_v4_against_inet_ntop(void)
{
	int ok = 1;

	for (uint32_t i = 0; i < 300000 && ok; i++) {
		uint32_t v = i < 1024 ? (i & 0xff) << (8 * (i >> 8)) | (i & 3) : (uint32_t)next();
		unsigned char b[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
				       (unsigned char)(v >> 8), (unsigned char)v };
		char mine[ADDR_STRLEN], libc[ADDR_STRLEN], pmine[PREFIX_STRLEN], pwant[PREFIX_STRLEN];
		size_t n = addr_format(v, FAM_V4, mine);
		inet_ntop(AF_INET, b, libc, sizeof(libc));
		struct prefix p = { .addr = v, .plen = (uint8_t)(i % 33), .family = FAM_V4 };
		size_t pn = prefix_format(&p, pmine);
		snprintf(pwant, sizeof(pwant), "%s/%u", libc, i % 33);
		if (strcmp(mine, libc) != 0 || n != strlen(libc) || strcmp(pmine, pwant) != 0 ||
		    pn != strlen(pwant)) {
			ok = 0;
			CHECK("ipv4 text equals inet_ntop", 0, "'%s' / '%s' vs '%s'", mine, pmine, libc);
		}
	}
	if (ok)
		CHECK("ipv4 text equals inet_ntop", 1, "%s", "");
}

/* The word-at-a-time newline count against a byte loop: all lengths, offsets, bytes near '\n'. */
static void test_count_lines(void)
{
	static const char alphabet[] = "\n\n\x0a\x0b\x09\x8a\x8b\xff\x00 0.1/";
	char buf[300];
	uint64_t x = 99;
	int ok = 1;

	for (int round = 0; round < 2000 && ok; round++) {
		size_t off = (size_t)round % 8, len = (size_t)(round * 7) % (sizeof(buf) - 8), want = 1;
		for (size_t i = 0; i < len; i++) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			buf[off + i] = alphabet[x % (sizeof(alphabet) - 1)];
			want += buf[off + i] == '\n';
		}
		struct feed_ctx c = { .buf = buf + off, .len = len };
		ok &= feed_count_lines(&c) == want;
	}
	memset(buf, '\n', sizeof(buf));
	struct feed_ctx all = { .buf = buf, .len = sizeof(buf) };
	ok &= feed_count_lines(&all) == sizeof(buf) + 1;
	CHECK("newline count agrees with a byte loop", ok, "mismatch");
}


/* A set of hand-made ranges, [lo, hi] pairs, known (held) or not. */
static void set_of(struct set_content *v, const char *name, enum family fam, bool known,
		   const u128 (*r)[2], size_t n)
{
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->fam = fam;
	v->known = known;
	for (size_t i = 0; i < n; i++)
		range_vec_push(&v->iv, r[i][0], r[i][1]);
}

static bool ranges_are(const struct range_vec *rv, const u128 (*r)[2], size_t n)
{
	if (rv->n != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (rv->v[i].lo != r[i][0] || rv->v[i].hi != r[i][1])
			return false;
	return true;
}

static void test_compare(void)
{
	const u128 max6 = fam_max(FAM_V6);
	const u128 w4[][2] = { { 10, 20 }, { 30, 40 } }, h4[][2] = { { 10, 20 }, { 35, 50 } };
	const u128 w6[][2] = { { 0, max6 } }, h6[][2] = { { 0, max6 - 1 } };
	const u128 gone[][2] = { { 100, 199 }, { 300, 300 } }, same[][2] = { { 5, 5 } };
	struct set_content wv[4], hv[4];
	struct set_list want = { .v = wv, .n = 4 }, have = { .v = hv, .n = 3 };
	struct comparison c;

	set_of(&wv[0], "a_v4", FAM_V4, true, w4, 2);
	set_of(&wv[1], "a_v6", FAM_V6, true, w6, 1);
	set_of(&wv[2], "b_v4", FAM_V4, true, gone, 2); /* not held at all */
	set_of(&wv[3], "c_v4", FAM_V4, true, same, 1);
	/* The other side in another order, b_v4 listed but not known, no c_v4. */
	set_of(&hv[0], "a_v6", FAM_V6, true, h6, 1);
	set_of(&hv[1], "b_v4", FAM_V4, false, NULL, 0);
	set_of(&hv[2], "a_v4", FAM_V4, true, h4, 2);
	sets_compare(&want, &have, &c);

	const u128 miss4[][2] = { { 30, 34 } }, extra4[][2] = { { 41, 50 } };
	const u128 miss6[][2] = { { max6, max6 } };
	CHECK("compare: one entry per wanted set, in order", c.nsets == 4 && c.sets[0].set == &wv[0] &&
	      c.sets[3].set == &wv[3], "nsets %zu", c.nsets);
	CHECK("compare: the ranges only the policy has", ranges_are(&c.sets[0].missing, miss4, 1) &&
	      !c.sets[0].absent, "%zu missing", c.sets[0].missing.n);
	CHECK("compare: the ranges only the other side has", ranges_are(&c.sets[0].extra, extra4, 1),
	      "%zu extra", c.sets[0].extra.n);
	CHECK("compare: the last IPv6 address", ranges_are(&c.sets[1].missing, miss6, 1) &&
	      c.sets[1].extra.n == 0, "%zu missing, %zu extra", c.sets[1].missing.n,
	      c.sets[1].extra.n);
	CHECK("compare: a set not known is absent, all of it missing",
	      c.sets[2].absent && ranges_are(&c.sets[2].missing, gone, 2) && c.sets[2].extra.n == 0,
	      "absent %d, %zu missing", c.sets[2].absent, c.sets[2].missing.n);
	CHECK("compare: a set the other side lacks is absent", c.sets[3].absent &&
	      ranges_are(&c.sets[3].missing, same, 1), "absent %d", c.sets[3].absent);
	/* a_v4 2 ranges, a_v6 1, b_v4 2 and absent, c_v4 1 and absent */
	CHECK("compare: differences counted", c.differences == 8 && c.structure_ok,
	      "%zu differences", c.differences);
	comparison_free(&c);

	/* Against itself: nothing differs. */
	have.v = wv;
	have.n = 4;
	sets_compare(&want, &have, &c);
	bool none = c.differences == 0;
	for (size_t i = 0; i < c.nsets; i++)
		none &= !c.sets[i].absent && !c.sets[i].missing.n && !c.sets[i].extra.n;
	CHECK("compare: a list against itself has no difference", none, "%zu differences",
	      c.differences);
	comparison_free(&c);
	for (size_t i = 0; i < 4; i++)
		range_vec_free(&wv[i].iv);
	for (size_t i = 0; i < 3; i++)
		range_vec_free(&hv[i].iv);
}

/* --- the line reader ------------------------------------------------------ */

#define FAULTS_MAX 128

struct faults {
	char text[FAULTS_MAX][40];
	uint32_t line[FAULTS_MAX];
	int n;
};

static void note_fault(void *arg, uint32_t lineno, const char *what)
{
	struct faults *f = arg;

	if (f->n < FAULTS_MAX) {
		snprintf(f->text[f->n], sizeof(f->text[0]), "%s", what);
		f->line[f->n] = lineno;
	}
	f->n++;
}

/* All the lines of buf as "N:text|" (refused ones empty), and the faults as "N:what|". */
static void read_lines(const char *buf, size_t len, uint32_t first, size_t max, char *out,
		       size_t outsz, char *faults, size_t fsz)
{
	struct line_reader r;
	struct faults f = { .n = 0 };
	const char *s;
	size_t n, o = 0;

	line_reader_init(&r, buf, len, first, max, note_fault, &f);
	out[0] = faults[0] = '\0';
	while (line_reader_next(&r, &s, &n))
		o += (size_t)snprintf(out + o, outsz - o, "%u:%.*s|", r.lineno, (int)n, s);
	o = 0;
	for (int i = 0; i < f.n && i < FAULTS_MAX; i++)
		o += (size_t)snprintf(faults + o, fsz - o, "%u:%s|", f.line[i], f.text[i]);
}

static void lines_case(const char *name, const char *buf, size_t len, uint32_t first, size_t max,
		       const char *want, const char *want_faults)
{
	char got[512], faults[512];

	read_lines(buf, len, first, max, got, sizeof(got), faults, sizeof(faults));
	CHECK(name, strcmp(got, want) == 0 && strcmp(faults, want_faults) == 0,
	      "got '%s' faults '%s', want '%s' faults '%s'", got, faults, want, want_faults);
}

#define LINES(name, text, first, max, want, faults) \
	lines_case(name, text, sizeof(text) - 1, first, max, want, faults)

/*
 * The line reader against a byte-at-a-time model of its rules, on random
 * text made of the bytes that matter: LF, CR, NUL, a BOM's first byte.
 */
static void test_line_reader_random(void)
{
	static const char alphabet[] = "ab\n\n\r\xef";
	char buf[96], line[96], want[4096], got[4096], faults[4096], want_faults[4096];
	int ok = 1;

	for (int round = 0; round < 20000 && ok; round++) {
		size_t len = (size_t)(next() % sizeof(buf)), max = (size_t)(next() % 8), o = 0, fo = 0;
		uint32_t first = 1 + (uint32_t)(next() % 3), lineno = first - 1;
		for (size_t i = 0; i < len; i++)
			buf[i] = next() % 16 == 0 ? '\0' : alphabet[next() % (sizeof(alphabet) - 1)];
		if (len >= 3 && next() % 4 == 0)
			memcpy(buf, "\xef\xbb\xbf", 3);

		size_t i = first == 1 && len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3) ? 3 : 0;
		want[0] = want_faults[0] = '\0';
		while (i < len) {
			size_t n = 0;
			while (i < len && buf[i] != '\n')
				line[n++] = buf[i++];
			i++; /* the LF, or past the end */
			if (n && line[n - 1] == '\r')
				n--;
			bool nul = memchr(line, '\0', n) != NULL;
			lineno++;
			if (max && n > max) {
				fo += (size_t)snprintf(want_faults + fo, sizeof(want_faults) - fo,
						       "%u:line longer than %zu bytes|", lineno, max);
				n = 0;
			} else if (nul) {
				fo += (size_t)snprintf(want_faults + fo, sizeof(want_faults) - fo,
						       "%u:NUL byte in line|", lineno);
				n = 0;
			}
			o += (size_t)snprintf(want + o, sizeof(want) - o, "%u:%.*s|", lineno, (int)n,
					      line);
		}
		read_lines(buf, len, first, max, got, sizeof(got), faults, sizeof(faults));
		ok = strcmp(got, want) == 0 && strcmp(faults, want_faults) == 0;
		if (!ok)
			CHECK("line reader agrees with a byte loop", 0,
			      "round %d: got '%s' '%s', want '%s' '%s'", round, got, faults, want,
			      want_faults);
	}
	if (ok)
		CHECK("line reader agrees with a byte loop", 1, "%s", "");
}

static void test_line_reader(void)
{
	LINES("lines: LF, CRLF, blank, last without LF", "a\nb\r\n\nc", 1, 0, "1:a|2:b|3:|4:c|",
	      "");
	LINES("lines: no empty line after the last LF", "a\n", 1, 0, "1:a|", "");
	LINES("lines: none in an empty text", "", 1, 0, "", "");
	LINES("lines: a lone LF is one empty line", "\n", 1, 0, "1:|", "");
	LINES("lines: BOM skipped before line 1", "\xef\xbb\xbf" "a\nb", 1, 0, "1:a|2:b|", "");
	LINES("lines: BOM kept in a part that starts later", "\xef\xbb\xbf" "a\nb", 7, 0,
	      "7:\xef\xbb\xbf" "a|8:b|", "");
	LINES("lines: only one CR is line ending", "a\r\r\nb\rc\n", 1, 0, "1:a\r|2:b\rc|", "");
	LINES("lines: too long and NUL refused, read as empty", "abcd\nabcde\nab\0c\nx", 1, 4,
	      "1:abcd|2:|3:|4:x|", "2:line longer than 4 bytes|3:NUL byte in line|");
	LINES("lines: the CR does not count against the limit", "abcd\r\n", 1, 4, "1:abcd|", "");
	LINES("lines: the length is checked first", "abc\0e\n", 1, 4, "1:|",
	      "1:line longer than 4 bytes|");
	LINES("lines: a NUL on the last line without LF", "a\nb\0", 1, 0, "1:a|2:|",
	      "2:NUL byte in line|");
	LINES("lines: max 0 takes any length", "0123456789\n", 1, 0, "1:0123456789|", "");

	/* A caller reads a line in place and steps over it. */
	struct line_reader r;
	struct faults f = { .n = 0 };
	const char *s;
	size_t n;
	line_reader_init(&r, "192.0.2.1\nx\n", 12, 1, 4096, note_fault, &f);
	bool ok = line_reader_left(&r) == 12;
	line_reader_skip(&r, 9);
	ok &= r.lineno == 1 && line_reader_left(&r) == 2;
	ok &= line_reader_next(&r, &s, &n) && n == 1 && *s == 'x' && r.lineno == 2;
	ok &= !line_reader_next(&r, &s, &n) && f.n == 0;
	CHECK("lines: skip steps over a line read in place", ok, "lineno %u, %zu left", r.lineno,
	      line_reader_left(&r));

	test_line_reader_random();
}

/* --- the mapped-file reader ----------------------------------------------- */

static char tmpdir[64];

static char *tmp_file(const char *name, size_t size, char fill)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");

	for (size_t i = 0; f && i < size; i++)
		fputc(i % 61 == 60 ? '\n' : fill + (char)(i % 7), f);
	if (!f || fclose(f) != 0) {
		printf("FAIL: mapfile: cannot write %s\n", path);
		failures++;
	}
	return path;
}

/* The file's bytes as the reader gives them, the same as fread's? And a NUL after? */
static bool same_bytes(const struct mapfile *mf, const char *path, bool nul)
{
	FILE *f = fopen(path, "r");
	bool ok = f != NULL;
	size_t i = 0;
	int ch;

	while (ok && (ch = fgetc(f)) != EOF)
		ok = i < mf->len && (unsigned char)mf->data[i++] == ch;
	if (f)
		fclose(f);
	return ok && i == mf->len && (!nul || mf->data[mf->len] == '\0');
}

/* Every byte of the mapping read (a SIGBUS would end the test); their sum. */
static unsigned long touch_all(const struct mapfile *mf)
{
	unsigned long sum = 0;

	for (size_t i = 0; i < mf->len; i++)
		sum += (unsigned char)((volatile const char *)mf->data)[i];
	return sum;
}

static void test_mapfile_cut(size_t page)
{
	struct mapfile mf;
	int rc;

	/* Cut to nothing after it was mapped: every page is gone. */
	char *path = tmp_file("cut.bin", 3 * page + 100, 'a');
	rc = mapfile_read(&mf, path, SIZE_MAX, MAPFILE_BINARY);
	bool ok = rc == MAPFILE_OK && mf.mapped && !mapfile_shrank(&mf);
	ok &= truncate(path, 0) == 0;
	unsigned long sum = ok ? touch_all(&mf) : 1;
	CHECK("mapfile: cut short while mapped: read as zeros, no SIGBUS", ok && sum == 0,
	      "rc %d mapped %d sum %lu", rc, mf.mapped, sum);
	CHECK("mapfile: cut short while mapped: shrank", ok && mapfile_shrank(&mf), "not told");
	mapfile_free(&mf);

	/* Cut inside its last page: no SIGBUS comes, the size tells. */
	unlink(path);
	free(path);
	path = tmp_file("cut2.bin", 2 * page + 100, 'a');
	rc = mapfile_read(&mf, path, SIZE_MAX, MAPFILE_BINARY);
	ok = rc == MAPFILE_OK && mf.mapped && truncate(path, (off_t)(2 * page + 50)) == 0;
	touch_all(&mf);
	CHECK("mapfile: cut inside the last page: shrank", ok && mapfile_shrank(&mf),
	      "rc %d mapped %d", rc, mf.mapped);
	mapfile_free(&mf);

	/* The test hook runs once the file is mapped. */
	unlink(path);
	free(path);
	path = tmp_file("hook.txt", MAPFILE_MAP_MIN + 100, 'a');
	char *hook = xasprintf("truncate -s 0 '%s'", path);
	setenv("MXFENCE_TEST_AFTER_MAP", hook, 1);
	rc = mapfile_read(&mf, path, SIZE_MAX, 0);
	unsetenv("MXFENCE_TEST_AFTER_MAP");
	sum = rc == MAPFILE_OK ? touch_all(&mf) : 1;
	CHECK("mapfile: MXFENCE_TEST_AFTER_MAP cuts it short: shrank",
	      rc == MAPFILE_OK && mf.mapped && sum == 0 && mapfile_shrank(&mf),
	      "rc %d mapped %d sum %lu", rc, mf.mapped, sum);
	mapfile_free(&mf);
	free(hook);

	/*
	 * A SIGBUS that is not about one of these mappings is not swallowed:
	 * in a child, with a mapping of ours in place, a plain mapping cut short.
	 */
	unlink(path);
	free(path);
	path = tmp_file("other.bin", 2 * page, 'a');
	char *mine = tmp_file("mine.bin", 2 * page, 'a');
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(path, O_RDONLY);
		if (!freopen("/dev/null", "w", stderr) || fd < 0 ||
		    mapfile_read(&mf, mine, SIZE_MAX, MAPFILE_BINARY) != MAPFILE_OK)
			_exit(3);
		volatile const char *p = mmap(NULL, 2 * page, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED || ftruncate(open(path, O_WRONLY), 0) != 0)
			_exit(3);
		(void)p[page];
		_exit(0);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	CHECK("mapfile: a SIGBUS elsewhere still ends the process",
	      (WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS) ||
		      (WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 3),
	      "child %s %d", WIFSIGNALED(status) ? "signal" : "exit",
	      WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	unlink(mine);
	free(mine);
	unlink(path);
	free(path);
}

static void test_mapfile(void)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct mapfile mf;
	int rc;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/mxfence-unit.XXXXXX");
	if (!mkdtemp(tmpdir)) {
		CHECK("mapfile: a temporary folder", 0, "mkdtemp failed");
		return;
	}

	char *small = tmp_file("small.txt", 1000, 'a');
	rc = mapfile_read(&mf, small, SIZE_MAX, 0);
	CHECK("mapfile: a small file is read, NUL after it",
	      rc == MAPFILE_OK && !mf.mapped && same_bytes(&mf, small, true) &&
		      !mapfile_shrank(&mf),
	      "rc %d mapped %d", rc, mf.mapped);
	mapfile_free(&mf);

	char *large = tmp_file("large.txt", MAPFILE_MAP_MIN + 100, 'a');
	rc = mapfile_read(&mf, large, SIZE_MAX, 0);
	CHECK("mapfile: a large file is mapped, NUL after it",
	      rc == MAPFILE_OK && mf.mapped && same_bytes(&mf, large, true) && !mapfile_shrank(&mf),
	      "rc %d mapped %d", rc, mf.mapped);
	mapfile_free(&mf);

	/* No room for the NUL in its last page: read. */
	char *pages = tmp_file("pages.txt", MAPFILE_MAP_MIN + 2 * page, 'a');
	rc = mapfile_read(&mf, pages, SIZE_MAX, 0);
	CHECK("mapfile: a large file of whole pages is read, NUL after it",
	      rc == MAPFILE_OK && !mf.mapped && same_bytes(&mf, pages, true),
	      "rc %d mapped %d", rc, mf.mapped);
	mapfile_free(&mf);

	rc = mapfile_read(&mf, small, SIZE_MAX, MAPFILE_BINARY);
	CHECK("mapfile: binary: a small file is mapped",
	      rc == MAPFILE_OK && mf.mapped && same_bytes(&mf, small, false),
	      "rc %d mapped %d", rc, mf.mapped);
	mapfile_free(&mf);

	/* procfs: a regular file of size 0 that has bytes. */
	rc = mapfile_read(&mf, "/proc/self/status", SIZE_MAX, MAPFILE_BINARY);
	CHECK("mapfile: a file that says size 0 is read whole",
	      rc == MAPFILE_OK && !mf.mapped && mf.len > 0 && strstr(mf.data, "Name:") != NULL,
	      "rc %d len %zu", rc, mf.len);
	mapfile_free(&mf);

	rc = mapfile_read(&mf, large, MAPFILE_MAP_MIN, 0);
	CHECK("mapfile: larger than max", rc == MAPFILE_TOO_LARGE, "rc %d", rc);
	rc = mapfile_read(&mf, "/proc/self/status", 10, 0);
	CHECK("mapfile: larger than max, found while reading", rc == MAPFILE_TOO_LARGE, "rc %d",
	      rc);
	rc = mapfile_read(&mf, tmpdir, SIZE_MAX, 0);
	CHECK("mapfile: a directory", rc == MAPFILE_DIRECTORY, "rc %d", rc);
	rc = mapfile_read(&mf, tmpdir, SIZE_MAX, MAPFILE_REGULAR);
	CHECK("mapfile: regular only: a directory", rc == MAPFILE_NOT_REGULAR, "rc %d", rc);
	rc = mapfile_read(&mf, "/dev/null", SIZE_MAX, MAPFILE_REGULAR);
	CHECK("mapfile: regular only: a device", rc == MAPFILE_NOT_REGULAR, "rc %d", rc);
	rc = mapfile_read(&mf, "/dev/null", SIZE_MAX, 0);
	CHECK("mapfile: a device is read", rc == MAPFILE_OK && !mf.mapped && mf.len == 0,
	      "rc %d", rc);
	mapfile_free(&mf);
	char *absent = xasprintf("%s/absent", tmpdir);
	errno = 0;
	rc = mapfile_read(&mf, absent, SIZE_MAX, 0);
	CHECK("mapfile: a missing file", rc == MAPFILE_OPEN && errno == ENOENT, "rc %d errno %d",
	      rc, errno);

	test_mapfile_cut(page);

	/* The state file's reader: a file cut short while mapped is unreadable, not a crash. */
	struct state st = { .table = "unit", .genid = 7 }, back;
	char err[512] = "", *state = state_path(tmpdir, "unit");
	rc = state_write(tmpdir, &st, err, sizeof(err));
	int rd = rc == 0 ? state_read(tmpdir, "unit", &back, err, sizeof(err)) : -2;
	CHECK("mapfile: the state file reads back", rd == 0 && back.genid == 7, "rc %d %d: %s", rc,
	      rd, err);
	if (rd == 0)
		state_free(&back);
	char *hook = xasprintf("truncate -s 0 '%s'", state);
	setenv("MXFENCE_TEST_AFTER_MAP", hook, 1);
	rd = state_read(tmpdir, "unit", &back, err, sizeof(err));
	unsetenv("MXFENCE_TEST_AFTER_MAP");
	CHECK("mapfile: a state file cut short while mapped is unreadable",
	      rd == -1 && strstr(err, "unit.state: file shrank while it was being read"), "rc %d: %s",
	      rd, err);
	unlink(state);
	free(state);
	free(hook);

	unlink(small);
	unlink(large);
	unlink(pages);
	free(absent);
	free(small);
	free(large);
	free(pages);
	rmdir(tmpdir);
}

int main(void)
{
	test_line_reader();
	test_mapfile();
	test_count_lines();
	test_format_v6_against_inet_ntop();
	test_family_text();
	test_v4_parse_against_inet_pton();
	test_v4_line_scan_against_parse();
	test_format_v4_against_inet_ntop();
	test_parse();
	test_merge();
	test_cover();
	test_random_against_bitmap();
	test_sort();
	test_index_v6();
	test_special();
	test_compare();
	test_special_against_libcidr();
	return failures ? 1 : 0;
}
