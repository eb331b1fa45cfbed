/* Addresses and prefixes of both families as 128-bit integers. No I/O. */
#ifndef MXFENCE_ADDR_H
#define MXFENCE_ADDR_H

#include <endian.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef unsigned __int128 u128;

enum family { FAM_V4 = 0, FAM_V6 = 1 };
#define FAM_COUNT 2

/* "a.b.c.d/nn" or a full IPv6 text form with "/nnn", plus NUL. */
#define PREFIX_STRLEN 64
#define ADDR_STRLEN 48

static inline unsigned fam_bits(enum family f) { return f == FAM_V4 ? 32 : 128; }
static inline u128 fam_max(enum family f)
{
	return f == FAM_V4 ? (u128)0xffffffffu : ~(u128)0;
}
static inline const char *fam_name(enum family f) { return f == FAM_V4 ? "ipv4" : "ipv6"; }

/* Host part of a prefix of length plen in a family of `bits` bits. */
static inline u128 host_mask(unsigned bits, unsigned plen)
{
	unsigned host = bits - plen;
	if (host == 0)
		return 0;
	if (host >= 128)
		return ~(u128)0;
	return ((u128)1 << host) - 1;
}

/* An inclusive run of addresses (or of ports) [lo, hi]. */
struct range {
	u128 lo, hi;
};

/*
 * The low n bytes (1 to 16) of v, most significant first: network order, as
 * the kernel and the state file keep keys; and back. Inline: a state file or
 * a batch converts millions.
 */
static inline void u128_to_be(u128 v, void *out, size_t n)
{
	unsigned char *b = out;

	if (n == 16) {
		uint64_t hi = htobe64((uint64_t)(v >> 64)), lo = htobe64((uint64_t)v);
		memcpy(b, &hi, 8);
		memcpy(b + 8, &lo, 8);
		return;
	}
	if (n == 4) {
		uint32_t w = htobe32((uint32_t)v);
		memcpy(b, &w, 4);
		return;
	}
	for (size_t i = n; i-- > 0; v >>= 8)
		b[i] = (unsigned char)v;
}

static inline u128 u128_from_be(const void *in, size_t n)
{
	const unsigned char *b = in;
	u128 v = 0;

	if (n == 16) {
		uint64_t hi, lo;
		memcpy(&hi, b, 8);
		memcpy(&lo, b + 8, 8);
		return (u128)be64toh(hi) << 64 | be64toh(lo);
	}
	if (n == 4) {
		uint32_t w;
		memcpy(&w, b, 4);
		return be32toh(w);
	}
	for (size_t i = 0; i < n; i++)
		v = v << 8 | b[i];
	return v;
}

struct prefix {
	u128 addr;
	uint8_t plen;
	uint8_t family; /* enum family */
};

static inline u128 prefix_last(const struct prefix *p)
{
	return p->addr | host_mask(fam_bits(p->family), p->plen);
}

/* Outcome flags of a successful parse that the caller may want to report. */
enum {
	PARSE_HOSTBITS = 1 << 0, /* bits beyond the prefix length were set and cleared */
	PARSE_MAPPED = 1 << 1,   /* ::ffff:a.b.c.d/n taken as IPv4 */
	PARSE_NOLEN = 1 << 2,    /* no "/len": a single address */
};

enum parse_err {
	PARSE_OK = 0,
	PARSE_EMPTY,
	PARSE_TOO_LONG,
	PARSE_ZONE,      /* fe80::1%eth0 */
	PARSE_BAD_V4,    /* not a strict dotted quad: 10.1, 010.1.1.1, 1.2.3.256 */
	PARSE_BAD_V6,
	PARSE_BAD_ADDR,  /* neither family: a hostname, garbage */
	PARSE_BAD_PLEN,  /* not a decimal length, leading zeros */
	PARSE_PLEN_RANGE,/* /33, /129 */
	PARSE_HAS_LEN,   /* a prefix where an address was expected */
};

/*
 * Strict text to prefix: dotted quad IPv4 (no octal, no short forms) or RFC 4291
 * IPv6 (no zone id), optionally "/len". `s` need not be NUL-terminated.
 */
enum parse_err prefix_parse(const char *s, size_t len, struct prefix *out, unsigned *flags);
/*
 * The bulk path of text lists: a strict dotted quad, optionally "/len", then
 * a newline, read a word at a time. s[0 .. PREFIX_V4_LINE_MAX) must be
 * readable (it may run past the line). Returns the length of the text
 * before the newline, or 0 for anything else; prefix_parse() then decides,
 * and says what is wrong.
 */
#define PREFIX_V4_LINE_MAX 19 /* "255.255.255.255/32\n" */
size_t prefix_scan_v4_line(const char *s, struct prefix *out, unsigned *flags);
/* A single address (no "/len" allowed). */
enum parse_err addr_parse(const char *s, size_t len, struct prefix *out, unsigned *flags);
/*
 * A single address of a known family, where the family is given and not
 * guessed (the model file's "ipv6" intervals): an IPv6 address in
 * ::ffff:0:0/96 stays IPv6, in any text form. PARSE_BAD_V4 or PARSE_BAD_V6
 * when the text is an address of the other family (::ffff:a.b.c.d is not IPv4).
 */
enum parse_err addr_parse_family(const char *s, size_t len, enum family f, u128 *out);
const char *parse_strerror(enum parse_err e);

/*
 * Text forms; return the length written. IPv4 as inet_ntop writes it; IPv6
 * as RFC 5952 (inet_ntop's zero runs), in hexadecimal groups only: never
 * ::ffff:a.b.c.d, which mxfence's parsers read as IPv4.
 */
size_t addr_format(u128 a, enum family f, char *buf);
size_t prefix_format(const struct prefix *p, char *buf);

/*
 * Minimal CIDR cover of [lo, hi] within a family: writes the prefixes in
 * ascending order to out (room for 2 * bits) and returns how many.
 */
size_t cidr_cover(u128 lo, u128 hi, enum family f, struct prefix *out);

/* Number of addresses in [lo, hi], saturating at 2^128 - 1. */
static inline u128 range_size(u128 lo, u128 hi)
{
	u128 d = hi - lo;
	return d == ~(u128)0 ? d : d + 1;
}

/* a + b, saturating at 2^128 - 1. */
static inline u128 sat_add(u128 a, u128 b)
{
	return a + b < a ? ~(u128)0 : a + b;
}

/* u128 as decimal; buf of at least 40 bytes. */
size_t u128_format(u128 v, char *buf);

/* An amount of addresses for people: "491545 addresses", or for IPv6 "65536 /64s". */
#define AMOUNT_STRLEN 64
void amount_format(u128 addresses, enum family f, char *buf);

/*
 * Special-purpose ranges (IANA IPv4/IPv6 special-purpose registries, private,
 * loopback, link-local, documentation, multicast, reserved): the name of the
 * first one the prefix overlaps, or NULL.
 */
const char *special_purpose(const struct prefix *p);
/* Entry i of that table as CIDR text, and its name; NULL past the end. */
const char *special_purpose_entry(size_t i, const char **name);

#endif
