#include "model.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void input_vec_grow(struct input_vec *pv, size_t need)
{
	pv->v = grow(pv->v, &pv->cap, need, sizeof(*pv->v));
}

void input_vec_append(struct input_vec *dst, const struct input_vec *src)
{
	if (!src->n)
		return;
	dst->v = grow(dst->v, &dst->cap, dst->n + src->n, sizeof(*dst->v));
	memcpy(dst->v + dst->n, src->v, src->n * sizeof(*src->v));
	dst->n += src->n;
}

void input_vec_free(struct input_vec *pv)
{
	free(pv->v);
	memset(pv, 0, sizeof(*pv));
}

static void insertion_sort(struct input_prefix *v, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct input_prefix x = v[i];
		size_t j = i;
		while (j > 0 && v[j - 1].lo > x.lo) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
}

/* Bits in which the keys of v[from, to) differ from v[0]'s. */
static u128 key_diff(const struct input_prefix *v, size_t from, size_t to)
{
	u128 k0 = v[0].lo, diff = 0;

	for (size_t i = from; i < to; i++)
		diff |= v[i].lo ^ k0;
	return diff;
}

/* Index of the highest byte set in diff, or -1 if it is 0 (all keys equal). */
static int top_byte(u128 diff)
{
	if (!diff)
		return -1;
	uint64_t hi = (uint64_t)(diff >> 64);
	return hi ? 15 - __builtin_clzll(hi) / 8 : 7 - __builtin_clzll((uint64_t)diff) / 8;
}

/* One radix level over v[from, to): the keys per bucket of `byte`, then each moved to its bucket. */
static void bucket_count(const struct input_prefix *v, size_t from, size_t to, int byte, size_t count[256])
{
	memset(count, 0, 256 * sizeof(*count));
	for (size_t i = from; i < to; i++)
		count[(uint8_t)(v[i].lo >> (8 * byte))]++;
}

static void bucket_scatter(const struct input_prefix *v, size_t from, size_t to, int byte, size_t pos[256],
			   struct input_prefix *dst)
{
	for (size_t i = from; i < to; i++)
		dst[pos[(uint8_t)(v[i].lo >> (8 * byte))]++] = v[i];
}

/*
 * Stable MSD radix sort, 8 bits a level, starting at the highest byte in
 * which the keys differ (IPv4 keys skip their twelve zero bytes at once);
 * small buckets finish with insertion sort. The keys are in `a`, `b` is as
 * large; the result ends in `a` when in_a, else in `b`, so that no level
 * copies back.
 */
static void msd_sort(struct input_prefix *a, struct input_prefix *b, size_t n, bool in_a)
{
	size_t count[256], pos[256];
	int byte = n > 32 ? top_byte(key_diff(a, 1, n)) : -1;

	if (byte < 0) {
		if (n <= 32)
			insertion_sort(a, n);
		if (!in_a)
			memcpy(b, a, n * sizeof(*a));
		return;
	}
	bucket_count(a, 0, n, byte, count);
	size_t sum = 0;
	for (unsigned d = 0; d < 256; d++) {
		pos[d] = sum;
		sum += count[d];
	}
	bucket_scatter(a, 0, n, byte, pos, b);
	/* The buckets now lie in b; each is sorted from there back into place. */
	for (unsigned d = 0; d < 256; d++) {
		size_t s = pos[d] - count[d];
		if (count[d])
			msd_sort(b + s, a + s, count[d], !in_a);
	}
}

/*
 * Sorting a million prefixes is a few passes over memory, the first of them
 * into memory not touched before: every pass of the first level is split
 * between two threads (halves of the input), and so are the buckets after.
 */
struct sort_job {
	struct input_prefix *v, *tmp;
	size_t from, to;         /* this thread's half of the input */
	int byte;                /* the first level's byte */
	u128 diff;               /* bits in which keys of the half differ from v[0] */
	size_t count[256];       /* this half's keys per bucket */
	size_t pos[256];         /* where this half's next key of a bucket goes in tmp */
	const size_t *bcount, *bstart;
	unsigned bfrom, bto;     /* buckets this thread sorts after the scatter */
	int phase;
};

enum { SORT_DIFF, SORT_COUNT, SORT_SCATTER, SORT_BUCKETS };

static void *sort_phase(void *arg)
{
	struct sort_job *j = arg;
	const struct input_prefix *v = j->v;

	switch (j->phase) {
	case SORT_DIFF:
		j->diff = key_diff(v, j->from, j->to);
		break;
	case SORT_COUNT:
		bucket_count(v, j->from, j->to, j->byte, j->count);
		break;
	case SORT_SCATTER:
		bucket_scatter(v, j->from, j->to, j->byte, j->pos, j->tmp);
		break;
	case SORT_BUCKETS:
		for (unsigned d = j->bfrom; d < j->bto; d++)
			if (j->bcount[d])
				msd_sort(j->tmp + j->bstart[d], j->v + j->bstart[d], j->bcount[d],
					 false);
		break;
	}
	return NULL;
}

/* Run one phase on both halves: the second in a thread when one can be had. */
static void sort_both(struct sort_job job[2], int phase)
{
	pthread_t t;

	job[0].phase = job[1].phase = phase;
	if (pthread_create(&t, NULL, sort_phase, &job[1]) == 0) {
		sort_phase(&job[0]);
		pthread_join(t, NULL);
	} else {
		sort_phase(&job[0]);
		sort_phase(&job[1]);
	}
}

/* Below this, one thread sorts: a second costs more than it saves. */
#define SORT_PARALLEL_MIN 262144

void input_sort(struct input_prefix *v, size_t n, struct input_prefix *tmp)
{
	size_t count[256], start[256];
	struct sort_job job[2];

	if (n < SORT_PARALLEL_MIN) {
		if (n > 1)
			msd_sort(v, tmp, n, true);
		return;
	}
	job[0] = (struct sort_job){ .v = v, .tmp = tmp, .from = 0, .to = n / 2 };
	job[1] = (struct sort_job){ .v = v, .tmp = tmp, .from = n / 2, .to = n };

	sort_both(job, SORT_DIFF);
	int byte = top_byte(job[0].diff | job[1].diff);
	if (byte < 0)
		return;
	job[0].byte = job[1].byte = byte;

	sort_both(job, SORT_COUNT);
	/* Bucket d holds the first half's keys of d, then the second half's: stable. */
	size_t sum = 0;
	unsigned split = 256;
	for (unsigned d = 0; d < 256; d++) {
		count[d] = job[0].count[d] + job[1].count[d];
		start[d] = sum;
		job[0].pos[d] = sum;
		job[1].pos[d] = sum + job[0].count[d];
		sum += count[d];
		if (split == 256 && sum >= n / 2)
			split = d + 1;
	}
	sort_both(job, SORT_SCATTER);

	/* The buckets, now in tmp, are sorted back into v: half of the keys each. */
	for (int k = 0; k < 2; k++) {
		job[k].bcount = count;
		job[k].bstart = start;
	}
	job[0].bfrom = 0;
	job[0].bto = split;
	job[1].bfrom = split;
	job[1].bto = 256;
	sort_both(job, SORT_BUCKETS);
}

void interval_set_init(struct interval_set *s, enum family f)
{
	memset(s, 0, sizeof(*s));
	s->fam = f;
}

/* The intervals and their index gone; the inputs kept. */
static void drop_intervals(struct interval_set *s)
{
	free(s->iv);
	free(s->hi);
	free(s->top);
	s->iv = NULL;
	s->hi = NULL;
	s->top = NULL;
	s->n = 0;
	s->addresses = 0;
}

void interval_set_build(struct interval_set *s)
{
	size_t n = s->in.n;
	struct input_prefix *in = s->in.v;
	u128 max = fam_max(s->fam);

	drop_intervals(s);
	if (!n)
		return;
	/*
	 * One block serves first as the sort's scratch space, then as the
	 * intervals (at most n; shrunk afterwards): fresh memory costs more
	 * than anything done with it here, so it is touched once.
	 */
	struct interval *iv = xmalloc_big(n * sizeof(*iv));
	_Static_assert(sizeof(struct interval) >= sizeof(struct input_prefix), "scratch fits");
	input_sort(in, n, (struct input_prefix *)iv);

	size_t m = 0;
	u128 total = 0;
	struct interval cur = { in[0].lo, input_last(&in[0], s->fam), 0, 1 };
	/* first and count are 32-bit: a service holds at most a few sources of 2M prefixes. */
	for (size_t i = 1; i < n; i++) {
		u128 lo = in[i].lo, hi = input_last(&in[i], s->fam);
		/* Overlapping or adjacent; cur.hi == max means nothing can follow. */
		if (cur.hi == max || lo <= cur.hi + 1) {
			if (hi > cur.hi)
				cur.hi = hi;
			cur.count++;
		} else {
			total = sat_add(total, range_size(cur.lo, cur.hi));
			iv[m++] = cur;
			cur = (struct interval){ lo, hi, (uint32_t)i, 1 };
		}
	}
	s->addresses = sat_add(total, range_size(cur.lo, cur.hi));
	iv[m++] = cur;
	s->iv = xreallocarray(iv, m, sizeof(*iv));
	s->n = m;
}

void interval_set_from_ranges(struct interval_set *s, const struct range *v, size_t n)
{
	drop_intervals(s);
	if (!n)
		return;
	s->iv = xreallocarray(NULL, n, sizeof(*s->iv));
	for (size_t i = 0; i < n; i++)
		s->iv[i] = (struct interval){ v[i].lo, v[i].hi, 0, 0 };
	s->n = n;
	s->addresses = ranges_addresses(v, n);
}

void interval_set_free(struct interval_set *s)
{
	input_vec_free(&s->in);
	drop_intervals(s);
}

#define TOP_BITS 16

void interval_set_index(struct interval_set *s)
{
	unsigned shift = fam_bits(s->fam) - TOP_BITS;
	size_t i = 0;

	free(s->hi);
	free(s->top);
	s->hi = xmalloc_big((s->n ? s->n : 1) * sizeof(*s->hi));
	s->top = xmalloc(((1u << TOP_BITS) + 1) * sizeof(*s->top));
	for (size_t k = 0; k < s->n; k++)
		s->hi[k] = s->iv[k].hi;
	/* top[b]: the first interval that ends at or after the first key of b. */
	for (uint32_t b = 0; b < (1u << TOP_BITS); b++) {
		u128 first = (u128)b << shift;
		while (i < s->n && s->hi[i] < first)
			i++;
		s->top[b] = (uint32_t)i;
	}
	s->top[1u << TOP_BITS] = (uint32_t)s->n;
}

const struct interval *interval_set_lookup(const struct interval_set *s, u128 addr)
{
	size_t lo = 0, hi = s->n;

	if (addr > fam_max(s->fam))
		return NULL;
	if (s->top) {
		/* The answer, the first interval ending at or after addr, lies in [top[b], top[b+1]]. */
		uint32_t b = (uint32_t)(addr >> (fam_bits(s->fam) - TOP_BITS));
		lo = s->top[b];
		hi = s->top[b + 1] < s->n ? s->top[b + 1] + 1 : s->n;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (s->hi[mid] < addr)
				lo = mid + 1;
			else
				hi = mid;
		}
	} else {
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			if (s->iv[mid].hi < addr)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	if (lo < s->n && s->iv[lo].lo <= addr)
		return &s->iv[lo];
	return NULL;
}

u128 interval_set_addresses(const struct interval_set *s)
{
	return s->addresses;
}

size_t interval_set_cidr_count(const struct interval_set *s)
{
	struct prefix out[256];
	size_t total = 0;

	for (size_t i = 0; i < s->n; i++)
		total += cidr_cover(s->iv[i].lo, s->iv[i].hi, s->fam, out);
	return total;
}

void range_vec_push(struct range_vec *rv, u128 lo, u128 hi)
{
	if (rv->n == rv->cap)
		rv->v = grow(rv->v, &rv->cap, rv->n + 1, sizeof(*rv->v));
	rv->v[rv->n].lo = lo;
	rv->v[rv->n].hi = hi;
	rv->n++;
}

void range_vec_copy(struct range_vec *dst, const struct range_vec *src)
{
	memset(dst, 0, sizeof(*dst));
	if (!src->n)
		return;
	dst->v = xreallocarray(NULL, src->n, sizeof(*dst->v));
	memcpy(dst->v, src->v, src->n * sizeof(*dst->v));
	dst->n = dst->cap = src->n;
}

void range_vec_free(struct range_vec *rv)
{
	free(rv->v);
	memset(rv, 0, sizeof(*rv));
}

void interval_set_ranges(const struct interval_set *s, struct range_vec *out)
{
	out->v = grow(out->v, &out->cap, out->n + s->n, sizeof(*out->v));
	for (size_t i = 0; i < s->n; i++) {
		out->v[out->n].lo = s->iv[i].lo;
		out->v[out->n].hi = s->iv[i].hi;
		out->n++;
	}
}

void interval_set_take_ranges(struct interval_set *s, struct range_vec *out)
{
	_Static_assert(sizeof(*out->v) <= sizeof(struct interval), "ranges fit over intervals");
	struct range *r = (struct range *)(void *)s->iv;
	size_t n = s->n;

	/* Range i ends at or before interval i does: each is read before it is overwritten. */
	for (size_t i = 0; i < n; i++) {
		u128 lo = s->iv[i].lo, hi = s->iv[i].hi;
		r[i].lo = lo;
		r[i].hi = hi;
	}
	s->iv = NULL;
	interval_set_free(s);
	range_vec_free(out);
	out->v = n ? r : NULL;
	out->n = out->cap = n;
	if (!n)
		free(r);
}

void ranges_normalize(struct range_vec *rv)
{
	size_t m = 0;

	for (size_t i = 0; i < rv->n; i++) {
		if (m && rv->v[m - 1].hi != ~(u128)0 && rv->v[i].lo <= rv->v[m - 1].hi + 1) {
			if (rv->v[i].hi > rv->v[m - 1].hi)
				rv->v[m - 1].hi = rv->v[i].hi;
			continue;
		}
		rv->v[m].lo = rv->v[i].lo;
		rv->v[m].hi = rv->v[i].hi;
		m++;
	}
	rv->n = m;
}

void ranges_subtract(const struct range *a, size_t na, const struct range *b, size_t nb,
		     struct range_vec *out)
{
	size_t j = 0;

	for (size_t i = 0; i < na; i++) {
		u128 lo = a[i].lo, hi = a[i].hi;
		bool open = true;
		while (j < nb && b[j].hi < lo)
			j++;
		/* Cut every b interval that meets [lo, hi] out of it, left to right. */
		for (size_t k = j; k < nb && b[k].lo <= hi; k++) {
			if (b[k].lo > lo)
				range_vec_push(out, lo, b[k].lo - 1);
			if (b[k].hi >= hi) {
				open = false;
				break;
			}
			lo = b[k].hi + 1;
		}
		if (open)
			range_vec_push(out, lo, hi);
	}
}

void ranges_delta(const struct range *old, size_t nold, const struct range *new, size_t nnew,
		  struct range_vec *del, struct range_vec *add)
{
	size_t i = 0, j = 0;

	while (i < nold || j < nnew) {
		if (j == nnew || (i < nold && old[i].lo < new[j].lo)) {
			range_vec_push(del, old[i].lo, old[i].hi);
			i++;
		} else if (i == nold || new[j].lo < old[i].lo) {
			range_vec_push(add, new[j].lo, new[j].hi);
			j++;
		} else {
			if (old[i].hi != new[j].hi) {
				range_vec_push(del, old[i].lo, old[i].hi);
				range_vec_push(add, new[j].lo, new[j].hi);
			}
			i++;
			j++;
		}
	}
}

u128 ranges_addresses(const struct range *v, size_t n)
{
	u128 total = 0;

	for (size_t i = 0; i < n; i++)
		total = sat_add(total, range_size(v[i].lo, v[i].hi));
	return total;
}

ssize_t ranges_find(const struct range *v, size_t n, u128 addr)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].hi < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo].lo <= addr ? (ssize_t)lo : -1;
}

void elements_to_ranges(const struct set_element *v, size_t n, bool interval, u128 last,
			struct range **out, size_t *nout, size_t *unpaired)
{
	struct range *iv;
	size_t k = 0, cap = 0;

	if (!interval) {
		iv = xmalloc_big((n ? n : 1) * sizeof(*iv));
		for (size_t i = 0; i < n; i++) {
			if (k && v[i].key == iv[k - 1].lo)
				continue;
			iv[k].lo = iv[k].hi = v[i].key;
			k++;
		}
		*out = iv;
		*nout = k;
		return;
	}
	for (size_t i = 0; i < n; i++)
		cap += !v[i].end;
	iv = xmalloc_big((cap ? cap : 1) * sizeof(*iv));
	bool open = false;
	u128 lo = 0;
	for (size_t i = 0; i < n; i++) {
		if (!v[i].end) {
			if (open)
				(*unpaired)++;
			else
				lo = v[i].key;
			open = true;
		} else if (open) {
			iv[k].lo = lo;
			iv[k].hi = v[i].key - 1;
			k++;
			open = false;
		} else if (v[i].key != 0) {
			(*unpaired)++;
		}
	}
	if (open) {
		iv[k].lo = lo;
		iv[k].hi = last;
		k++;
	}
	*out = iv;
	*nout = k;
}
