#include "plan_apply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plan_make.h"
#include "util.h"

int plan_check_live(const struct plan *p, const struct kernel_view *live, char *why, size_t n)
{
	char digest[SHA256_HEX];
	uint64_t here = netns_inode();

	if (p->netns != here) {
		snprintf(why, n, "it was made in another network namespace (inode %llu; this one is %llu)",
			 (unsigned long long)p->netns, (unsigned long long)here);
		return -1;
	}
	if (!p->table_present && live->table.present) {
		snprintf(why, n, "table inet %s appeared (generation %u) since the plan was made "
				 "against no table (generation %u)",
			 p->table, live->table.genid, p->genid);
		return -1;
	}
	if (p->table_present && !live->table.present) {
		snprintf(why, n, "table inet %s was deleted since the plan was made (generation %u "
				 "then, %u now)",
			 p->table, p->genid, live->table.genid);
		return -1;
	}
	plan_live_digest(live, digest);
	if (strcmp(digest, p->against)) {
		snprintf(why, n, "table inet %s changed since the plan was made (generation %u then, "
				 "%u now): its elements or structure are not what the plan was computed "
				 "against",
			 p->table, p->genid, live->table.genid);
		return -1;
	}
	if (p->change == PLAN_DELTA && !live->structure_ok) {
		snprintf(why, n, "the plan changes elements, but %s", live->why);
		return -1;
	}
	return 0;
}

/* Live's source bits in terms of the plan's sources (by name). */
static uint64_t remap_bits(uint64_t bits, const struct set_list *from, const struct plan *p)
{
	uint64_t out = 0;

	for (size_t b = 0; b < 64 && b < from->nsource_names; b++) {
		if (!(bits & (1ull << b)))
			continue;
		for (size_t k = 0; k < p->nsources && k < 64; k++)
			if (streq(from->source_names[b], p->sources[k].name))
				out |= 1ull << k;
	}
	return out;
}

static void push(struct set_content *v, size_t *cap, u128 lo, u128 hi, uint64_t bits)
{
	range_vec_push(&v->iv, lo, hi);
	v->sources = grow(v->sources, cap, v->iv.n, sizeof(*v->sources));
	v->sources[v->iv.n - 1] = bits;
}

int plan_wanted_sets(const struct plan *p, const struct policy *pol, const struct kernel_view *live,
		     struct set_list *out, char *why, size_t n)
{
	memset(out, 0, sizeof(*out));
	out->nsource_names = p->nsources;
	out->source_names = xcalloc(p->nsources + 1, sizeof(char *));
	for (size_t i = 0; i < p->nsources; i++)
		out->source_names[i] = xstrdup(p->sources[i].name);
	out->v = xcalloc(p->nsets + 1, sizeof(*out->v));
	out->n = p->nsets;
	for (size_t i = 0; i < p->nsets; i++) {
		const struct plan_set *s = &p->sets[i];
		struct set_content *v = &out->v[i];
		size_t cap = 0;
		snprintf(v->name, sizeof(v->name), "%s", s->name);
		v->svc = &pol->services[s->service];
		v->fam = s->fam;
		v->known = true;
		if (p->change == PLAN_REPLACE) {
			for (size_t k = 0; k < s->full.n; k++)
				push(v, &cap, s->full.v[k].lo, s->full.v[k].hi, s->bits[k]);
			continue;
		}
		const struct set_content *l = set_list_find(&live->sets, s->name);
		if (!l || !l->known || l->fam != s->fam) {
			snprintf(why, n, "set %s is not in the kernel", s->name);
			goto stale;
		}
		/* live - del + add, in order: del must name intervals live holds, exactly. */
		size_t d = 0, a = 0;
		for (size_t k = 0; k <= l->iv.n; k++) {
			const struct range *r = k < l->iv.n ? &l->iv.v[k] : NULL;
			while (a < s->add.n && (!r || s->add.v[a].lo < r->lo)) {
				push(v, &cap, s->add.v[a].lo, s->add.v[a].hi, s->bits[a]);
				a++;
			}
			if (!r)
				break;
			if (d < s->del.n && s->del.v[d].lo == r->lo && s->del.v[d].hi == r->hi) {
				d++;
				continue;
			}
			push(v, &cap, r->lo, r->hi,
			     l->sources ? remap_bits(l->sources[k], &live->sets, p) : 0);
		}
		if (d != s->del.n) {
			snprintf(why, n, "set %s does not hold the intervals the plan deletes", s->name);
			goto stale;
		}
		for (size_t k = 1; k < v->iv.n; k++)
			if (v->iv.v[k].lo <= v->iv.v[k - 1].hi) {
				snprintf(why, n, "the plan's additions to set %s overlap what it holds",
					 s->name);
				goto stale;
			}
	}
	return 0;
stale:
	set_list_free(out);
	return -1;
}
