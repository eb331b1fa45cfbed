/*
 * The compiled model: per service and family, the union of its sources as
 * sorted, non-overlapping intervals, each remembering which input prefixes
 * (and so which sources, and where in them) it came from. Plain data, no I/O.
 */
#ifndef MXFENCE_MODEL_H
#define MXFENCE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"

/* Where an input prefix came from: a source and a place in it. */
struct origin {
	uint32_t src;   /* index into the policy's sources */
	uint32_t entry; /* line number, or feed entry index */
	uint32_t item;  /* position inside that entry (JSON arrays) */
};

/* One input prefix of one family: 24 bytes, so that a million sort quickly. */
struct __attribute__((packed, aligned(8))) input_prefix {
	u128 lo;
	uint32_t origin; /* see policy_origin() */
	uint8_t plen;
};

struct input_vec {
	struct input_prefix *v;
	size_t n, cap;
};

void input_vec_grow(struct input_vec *pv, size_t need);

static inline void input_vec_push(struct input_vec *pv, u128 lo, uint8_t plen, uint32_t origin)
{
	if (pv->n == pv->cap)
		input_vec_grow(pv, pv->n + 1);
	struct input_prefix *p = &pv->v[pv->n++];
	p->lo = lo;
	p->plen = plen;
	p->origin = origin;
}
void input_vec_append(struct input_vec *dst, const struct input_vec *src);
void input_vec_free(struct input_vec *pv);

static inline u128 input_last(const struct input_prefix *p, enum family f)
{
	return p->lo | host_mask(fam_bits(f), p->plen);
}

/* 40 bytes: a million of them are written once each, and fresh memory is dear. */
struct __attribute__((packed, aligned(8))) interval {
	u128 lo, hi;    /* inclusive */
	uint32_t first; /* its input prefixes: in[first .. first + count) */
	uint32_t count;
};

struct interval_set {
	enum family fam;
	struct input_vec in; /* sorted by start once built */
	struct interval *iv;
	size_t n;
	u128 addresses; /* covered by iv (saturating), counted as they are merged */
	/* Lookup index (interval_set_index): the ends alone, and where each /16 of keys starts. */
	u128 *hi;
	uint32_t *top;
};

void interval_set_init(struct interval_set *s, enum family f);
/* Sort the inputs and merge overlapping and adjacent ones. */
void interval_set_build(struct interval_set *s);
void interval_set_free(struct interval_set *s);

/*
 * Prepare many lookups: a compact array of interval ends and a table of where
 * each of the 65536 leading 16-bit key values starts, so that a lookup is a
 * short binary search in cache instead of one over the whole set.
 */
void interval_set_index(struct interval_set *s);

/* The interval holding addr, or NULL. Binary search (narrowed by the index, if built). */
const struct interval *interval_set_lookup(const struct interval_set *s, u128 addr);

/* Addresses covered (saturating), and the number of CIDRs in the minimal cover. */
u128 interval_set_addresses(const struct interval_set *s);
size_t interval_set_cidr_count(const struct interval_set *s);

/* Plain intervals [lo, hi], sorted and disjoint: what the kernel holds, what a diff is. */
struct range_vec {
	struct range *v;
	size_t n, cap;
};

void range_vec_push(struct range_vec *rv, u128 lo, u128 hi);
void range_vec_free(struct range_vec *rv);
/* dst (empty) gets a copy of src. */
void range_vec_copy(struct range_vec *dst, const struct range_vec *src);
/* The set holds exactly these intervals (sorted, disjoint), with no inputs behind them. */
void interval_set_from_ranges(struct interval_set *s, const struct range *v, size_t n);
/* The intervals of a built set. */
void interval_set_ranges(const struct interval_set *s, struct range_vec *out);
/* The same, taken from the set: its memory is reused, and the set is left empty (interval_set_free). */
void interval_set_take_ranges(struct interval_set *s, struct range_vec *out);
/* Merge touching neighbours (the kernel keeps adjacent intervals apart). */
void ranges_normalize(struct range_vec *rv);
/* Addresses in a \ b, as intervals. */
void ranges_subtract(const struct range *a, size_t na, const struct range *b, size_t nb,
		     struct range_vec *out);
/* Element changes from old to new: intervals of old not in new, and of new not in old, exactly. */
void ranges_delta(const struct range *old, size_t nold, const struct range *new, size_t nnew,
		  struct range_vec *del, struct range_vec *add);
u128 ranges_addresses(const struct range *v, size_t n);
/* The interval of v holding addr, or -1. */
ssize_t ranges_find(const struct range *v, size_t n, u128 addr);

/*
 * An element of a set as the kernel keeps an interval set: where an interval
 * starts, or (end) the key just past where one ends. 20 bytes, for dumps of a
 * million.
 */
struct set_element {
	u128 key;
	uint32_t end; /* NFT_SET_ELEM_INTERVAL_END */
} __attribute__((packed, aligned(4)));

/*
 * Elements (ascending; on equal keys an end first) to the intervals a lookup
 * of the kernel sees: a key matches if the nearest element at or below it is
 * a start. A start opens, the next end closes, a start left open runs to
 * `last`. A start while open and an end while closed change nothing: they
 * pair with nothing and are counted in *unpaired (a delete could not name
 * them), except the end at key 0 that nft adds to new interval sets.
 * interval = false: a set of single keys, each its own interval. *out is
 * allocated (one interval per start at most), *nout set.
 */
void elements_to_ranges(const struct set_element *v, size_t n, bool interval, u128 last,
			struct range **out, size_t *nout, size_t *unpaired);

/* Sort n prefixes by start address (MSD radix; tmp holds n). Stable. */
void input_sort(struct input_prefix *v, size_t n, struct input_prefix *tmp);

#endif
