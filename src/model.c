#include "model.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

uint32_t origin_add(struct origin_vec *ov, uint32_t src, uint32_t entry, uint32_t item)
{
	ov->v = grow(ov->v, &ov->cap, ov->n + 1, sizeof(*ov->v));
	ov->v[ov->n] = (struct origin){ src, entry, item };
	return (uint32_t)ov->n++;
}

void pfx_vec_push(struct pfx_vec *pv, u128 lo, uint8_t plen, uint32_t origin)
{
	if (pv->n == pv->cap)
		pv->v = grow(pv->v, &pv->cap, pv->n + 1, sizeof(*pv->v));
	struct pfx *p = &pv->v[pv->n++];
	p->lo = lo;
	p->plen = plen;
	p->origin = origin;
}

void pfx_vec_append(struct pfx_vec *dst, const struct pfx_vec *src)
{
	if (!src->n)
		return;
	dst->v = grow(dst->v, &dst->cap, dst->n + src->n, sizeof(*dst->v));
	memcpy(dst->v + dst->n, src->v, src->n * sizeof(*src->v));
	dst->n += src->n;
}

void pfx_vec_free(struct pfx_vec *pv)
{
	free(pv->v);
	memset(pv, 0, sizeof(*pv));
}

/*
 * LSD radix sort on the 16 key bytes, 8 bits a pass. A pass whose byte is the
 * same in every key is skipped, so IPv4 keys (high 12 bytes zero) cost four.
 */
void pfx_sort(struct pfx *v, size_t n, struct pfx *tmp)
{
	size_t (*count)[256];
	struct pfx *src = v, *dst = tmp;

	if (n < 2)
		return;
	count = xcalloc(16, sizeof(*count));
	for (size_t i = 0; i < n; i++) {
		u128 k = v[i].lo;
		for (unsigned b = 0; b < 16; b++)
			count[b][(uint8_t)(k >> (8 * b))]++;
	}
	for (unsigned b = 0; b < 16; b++) {
		size_t *c = count[b], sum = 0;
		bool trivial = false;
		for (unsigned d = 0; d < 256; d++) {
			if (c[d] == n)
				trivial = true;
			size_t t = c[d];
			c[d] = sum;
			sum += t;
		}
		if (trivial)
			continue;
		for (size_t i = 0; i < n; i++)
			dst[c[(uint8_t)(src[i].lo >> (8 * b))]++] = src[i];
		struct pfx *t = src;
		src = dst;
		dst = t;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
	free(count);
}

void iset_init(struct iset *s, enum family f)
{
	memset(s, 0, sizeof(*s));
	s->fam = f;
}

void iset_build(struct iset *s)
{
	size_t n = s->in.n;
	struct pfx *in = s->in.v;
	u128 max = fam_max(s->fam);

	free(s->iv);
	s->iv = NULL;
	s->n = 0;
	if (!n)
		return;
	struct pfx *tmp = xmalloc(n * sizeof(*tmp));
	pfx_sort(in, n, tmp);
	free(tmp);

	/* At most n intervals; shrink afterwards. */
	struct interval *iv = xmalloc(n * sizeof(*iv));
	size_t m = 0;
	struct interval cur = { in[0].lo, pfx_last(&in[0], s->fam), 0, 1 };
	for (size_t i = 1; i < n; i++) {
		u128 lo = in[i].lo, hi = pfx_last(&in[i], s->fam);
		/* Overlapping or adjacent; cur.hi == max means nothing can follow. */
		if (cur.hi == max || lo <= cur.hi + 1) {
			if (hi > cur.hi)
				cur.hi = hi;
			cur.count++;
		} else {
			iv[m++] = cur;
			cur = (struct interval){ lo, hi, i, 1 };
		}
	}
	iv[m++] = cur;
	s->iv = xreallocarray(iv, m, sizeof(*iv));
	s->n = m;
}

void iset_free(struct iset *s)
{
	pfx_vec_free(&s->in);
	free(s->iv);
	s->iv = NULL;
	s->n = 0;
}

const struct interval *iset_lookup(const struct iset *s, u128 addr)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->iv[mid].hi < addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->n && s->iv[lo].lo <= addr)
		return &s->iv[lo];
	return NULL;
}

u128 iset_addresses(const struct iset *s)
{
	u128 total = 0;

	for (size_t i = 0; i < s->n; i++) {
		u128 k = range_size(s->iv[i].lo, s->iv[i].hi);
		total = (total + k < total) ? ~(u128)0 : total + k;
	}
	return total;
}

size_t iset_cidr_count(const struct iset *s)
{
	struct prefix out[256];
	size_t total = 0;

	for (size_t i = 0; i < s->n; i++)
		total += cidr_cover(s->iv[i].lo, s->iv[i].hi, s->fam, out);
	return total;
}
