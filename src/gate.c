#include "gate.h"

#include <stdio.h>
#include <stdlib.h>

#include "util.h"

size_t removal_verdicts(const struct set_list *live, const struct set_list *want,
			struct removal_verdict **out)
{
	struct removal_verdict *v = xcalloc(want->n ? want->n : 1, sizeof(*v));

	for (size_t i = 0; i < want->n; i++) {
		const struct set_content *w = &want->v[i];
		const struct set_content *l = set_list_find(live, w->name);
		v[i].service = w->svc ? w->svc->name : w->name;
		v[i].fam = w->fam;
		v[i].max = w->svc ? w->svc->max_removal : DEFAULT_MAX_REMOVAL;
		if (!l || !l->known || !l->iv.n || l->fam != w->fam)
			continue;
		struct range_vec lost = { 0 };
		ranges_subtract(l->iv.v, l->iv.n, w->iv.v, w->iv.n, &lost);
		v[i].had = ranges_addresses(l->iv.v, l->iv.n);
		v[i].lost = ranges_addresses(lost.v, lost.n);
		range_vec_free(&lost);
		/* In floating point: the counts reach 2^128. */
		v[i].share = v[i].had ? (double)v[i].lost / (double)v[i].had * 100.0 : 0;
		v[i].over = v[i].share > v[i].max;
	}
	*out = v;
	return want->n;
}

bool removal_refused(const struct removal_verdict *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i].over)
			return true;
	return false;
}

void removal_describe(const struct removal_verdict *v, char *buf, size_t n)
{
	char a[48], b[48];

	u128_format(v->lost, a);
	u128_format(v->had, b);
	snprintf(buf, n, "service %s would lose %.2f%% of its %s addresses (%s of %s; max-removal %g%%)",
		 v->service, v->share, v->fam == FAM_V4 ? "IPv4" : "IPv6", a, b, v->max);
}
