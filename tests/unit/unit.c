/*
 * Unit tests of the model: address parsing, merging, minimal CIDR cover.
 * Prints "PASS: name" / "FAIL: name: why" per check (see tests/run).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "addr.h"
#include "compare.h"
#include "feed.h"
#include "model.h"
#include "natcheck.h"
#include "policy.h"
#include "sets.h"
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

/* Our IPv6 text must be inet_ntop's, zero runs and all. */
static void test_format_v6_against_inet_ntop(void)
{
	int ok = 1;
	char mine[ADDR_STRLEN], libc[ADDR_STRLEN];

	for (int i = 0; i < 200000 && ok; i++) {
		unsigned char b[16];
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
		u128 a = 0;
		for (int k = 0; k < 16; k++)
			a = a << 8 | b[k];
		addr_format(a, FAM_V6, mine);
		inet_ntop(AF_INET6, b, libc, sizeof(libc));
		if (strcmp(mine, libc) != 0) {
			ok = 0;
			CHECK("ipv6 text equals inet_ntop", 0, "'%s' vs '%s'", mine, libc);
		}
	}
	if (ok)
		CHECK("ipv6 text equals inet_ntop", 1, "%s", "");
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


/* A policy from text, loaded and linted (its sources are not read). */
static int load_policy(const char *text, struct policy *pol)
{
	char path[] = "/tmp/mxfence-unit-XXXXXX";
	struct diag d = { 0 };
	int fd = mkstemp(path), rc;

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return -1;
	close(fd);
	rc = policy_load(pol, path, NULL, &d);
	diag_print(&d, stdout);
	diag_free(&d);
	unlink(path);
	return rc;
}

static struct nat_rule nat(int fam, int l4, unsigned plo, unsigned phi, const char *dlo,
			   const char *dhi)
{
	struct nat_rule r = { .family = "ip", .table = "nat", .chain = "PREROUTING", .fam = fam,
			      .l4proto = l4 };
	struct prefix a, b;
	unsigned flags;

	snprintf(r.target, sizeof(r.target), "192.0.2.130:25");
	r.any_port = plo == 0;
	if (!r.any_port) {
		r.ports = malloc(sizeof(*r.ports));
		r.ports[0] = (struct range){ plo, phi };
		r.nports = 1;
	}
	r.any_dest = dlo == NULL;
	if (dlo) {
		addr_parse(dlo, strlen(dlo), &a, &flags);
		addr_parse(dhi, strlen(dhi), &b, &flags);
		r.dest = malloc(sizeof(*r.dest));
		r.dest[0] = (struct range){ a.addr, b.addr };
		r.ndest = 1;
	}
	return r;
}

/* The warnings natcheck() gives for one rule, joined by '|'. */
static void nat_warnings(const struct policy *pol, struct nat_rule r, char *buf, size_t n)
{
	struct nat_rule_list l = { &r, 1 };
	struct diag d = { 0 };
	size_t o = 0;

	buf[0] = '\0';
	natcheck(pol, &l, &d);
	for (size_t i = 0; i < d.nmsgs && o < n; i++)
		o += (size_t)snprintf(buf + o, n - o, "%s%s", i ? "|" : "", d.msgs[i].text);
	diag_free(&d);
	free(r.ports);
	free(r.dest);
}

static void test_natcheck(void)
{
	struct policy pol;
	char got[2048];
	const struct service *svc, *other;
	struct prefix dst;
	unsigned flags;

	if (load_policy("[service smtp]\nports = tcp/25\nto = 203.0.113.1 2001:db8:e::1\n"
			"sources = r\n[service sub]\nports = tcp/587 tcp/2525\nsources = r\n"
			"[source r]\nformat = list\nfile = r.txt\n", &pol) < 0) {
		CHECK("natcheck: policy loads", 0, "policy_load failed");
		return;
	}
	nat_warnings(&pol, nat(FAM_V4, 6, 25, 25, "203.0.113.1", "203.0.113.1"), got, sizeof(got));
	CHECK("natcheck: a DNAT of a destination in 'to' is covered", !got[0], "got '%s'", got);
	nat_warnings(&pol, nat(FAM_V4, 6, 25, 25, "203.0.113.0", "203.0.113.3"), got, sizeof(got));
	CHECK("natcheck: the part of a prefix no 'to' covers is named",
	      !strcmp(got, "warning: tcp/25 to 203.0.113.0/30 is DNAT'd by table ip nat chain "
			   "PREROUTING to 192.0.2.130:25; no 'to' of service smtp covers 203.0.113.0, "
			   "203.0.113.2/31: that mail is not filtered"), "got '%s'", got);
	nat_warnings(&pol, nat(FAM_V4, -1, 0, 0, NULL, NULL), got, sizeof(got));
	CHECK("natcheck: any port and address: the service without 'to', at its own port",
	      !strcmp(got, "warning: tcp/587 to any address is DNAT'd by table ip nat chain "
			   "PREROUTING to 192.0.2.130:25; service sub has no 'to': that mail is not "
			   "filtered"), "got '%s'", got);
	nat_warnings(&pol, nat(-1, 6, 2000, 3000, NULL, NULL), got, sizeof(got));
	CHECK("natcheck: a rule of either family: both are named",
	      !strcmp(got, "warning: tcp/2525 to any address is DNAT'd by table ip nat chain "
			   "PREROUTING to 192.0.2.130:25; service sub has no IPv4 'to': that mail is "
			   "not filtered|warning: tcp/2525 to any address is DNAT'd by table ip nat "
			   "chain PREROUTING to 192.0.2.130:25; service sub has no IPv6 'to': that mail "
			   "is not filtered"), "got '%s'", got);
	nat_warnings(&pol, nat(FAM_V4, 17, 25, 25, "203.0.113.9", "203.0.113.9"), got, sizeof(got));
	CHECK("natcheck: another protocol is no service's", !got[0], "got '%s'", got);
	nat_warnings(&pol, nat(FAM_V4, 6, 80, 80, NULL, NULL), got, sizeof(got));
	CHECK("natcheck: another port is no service's", !got[0], "got '%s'", got);
	nat_warnings(&pol, nat(FAM_V6, 6, 25, 25, NULL, NULL), got, sizeof(got));
	CHECK("natcheck: no destination address, the service has a 'to': covered", !got[0],
	      "got '%s'", got);

	addr_parse("203.0.113.1", 11, &dst, &flags);
	policy_flow_service(&pol, FAM_V4, PROTO_TCP, 25, &dst, &svc, &other);
	CHECK("flow service: a destination in 'to'", svc == &pol.services[0], "got %s",
	      svc ? svc->name : "none");
	addr_parse("203.0.113.2", 11, &dst, &flags);
	policy_flow_service(&pol, FAM_V4, PROTO_TCP, 25, &dst, &svc, &other);
	CHECK("flow service: a destination outside 'to' is not governed", svc == NULL, "got %s",
	      svc ? svc->name : "none");
	policy_flow_service(&pol, FAM_V4, PROTO_TCP, 25, NULL, &svc, &other);
	CHECK("flow service: no destination: the one service with 'to'", svc == &pol.services[0],
	      "got %s", svc ? svc->name : "none");
	policy_flow_service(&pol, FAM_V6, PROTO_TCP, 587, &dst, &svc, &other);
	CHECK("flow service: a service without 'to' governs any destination",
	      svc == &pol.services[1], "got %s", svc ? svc->name : "none");
	policy_free(&pol);
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

int main(void)
{
	test_count_lines();
	test_format_v6_against_inet_ntop();
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
	test_natcheck();
	test_compare();
	return failures ? 1 : 0;
}
