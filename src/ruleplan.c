#include "ruleplan.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static int range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

bool service_ports(const struct service *svc, enum proto p, struct rule_ports *out)
{
	size_t n = 0, k = 0;

	memset(out, 0, sizeof(*out));
	out->proto = p;
	out->v = xcalloc(svc->nports ? svc->nports : 1, sizeof(*out->v));
	for (size_t i = 0; i < svc->nports; i++) {
		if (svc->ports[i].proto != p)
			continue;
		out->v[n].lo = svc->ports[i].lo;
		out->v[n].hi = svc->ports[i].hi;
		n++;
	}
	qsort(out->v, n, sizeof(*out->v), range_cmp);
	for (size_t i = 0; i < n; i++) {
		if (k && out->v[i].lo <= out->v[k - 1].hi) {
			if (out->v[i].hi > out->v[k - 1].hi)
				out->v[k - 1].hi = out->v[i].hi;
			continue;
		}
		out->v[k++] = out->v[i];
	}
	for (size_t i = 0; i < k; i++)
		out->ranges |= out->v[i].lo != out->v[i].hi;
	out->n = k;
	if (!k) {
		free(out->v);
		out->v = NULL;
	}
	return k > 0;
}

static struct rule_spec *add_rule(struct rule_chain *c, size_t *cap, const struct service *svc,
				  const struct rule_ports *ports)
{
	struct rule_spec *r;

	c->rules = grow(c->rules, cap, c->nrules + 1, sizeof(*c->rules));
	r = &c->rules[c->nrules++];
	memset(r, 0, sizeof(*r));
	r->svc = svc;
	r->ports = *ports;
	r->ports.v = xcalloc(ports->n, sizeof(*ports->v));
	memcpy(r->ports.v, ports->v, ports->n * sizeof(*ports->v));
	r->dest = RULE_DEST_ANY;
	r->only_fam = -1;
	r->counter = true;
	return r;
}

/*
 * Per protocol the accepts of the sets (the IPv4 and the IPv6 set, or, for a
 * service with `to`, the one family without it), then per protocol the
 * fallback: a source of no set gets `otherwise`. only_fam: the fallback's
 * family, -1 for both.
 */
static void input_rules(struct rule_chain *c, size_t *cap, const struct service *svc,
			const struct rule_set *sets, size_t nsets, int only_fam)
{
	struct rule_ports ports[2];
	bool have[2];

	for (enum proto p = PROTO_TCP; p <= PROTO_UDP; p++)
		have[p] = service_ports(svc, p, &ports[p]);
	for (enum proto p = PROTO_TCP; p <= PROTO_UDP; p++) {
		if (!have[p])
			continue;
		for (size_t f = 0; f < nsets; f++) {
			struct rule_spec *r = add_rule(c, cap, svc, &ports[p]);
			r->from = &sets[f];
			r->verdict = VERDICT_ACCEPT;
		}
	}
	for (enum proto p = PROTO_TCP; p <= PROTO_UDP; p++) {
		if (!have[p])
			continue;
		struct rule_spec *r = add_rule(c, cap, svc, &ports[p]);
		r->only_fam = only_fam;
		r->verdict = svc->otherwise;
	}
	for (enum proto p = PROTO_TCP; p <= PROTO_UDP; p++)
		if (have[p])
			free(ports[p].v);
}

/*
 * A service's `to` of one family: per protocol and port (or range), the
 * accept of the family's set and the fallback, on the original destination.
 * One port a rule: a set of them under `ct original proto-dst` has no type
 * that nft 1.0.6 can list back.
 */
static void to_rules(struct rule_chain *c, size_t *cap, const struct service *svc,
		     const struct rule_set *set, const struct rule_dests *to)
{
	struct rule_ports ports;

	for (enum proto p = PROTO_TCP; p <= PROTO_UDP; p++) {
		if (!service_ports(svc, p, &ports))
			continue;
		for (size_t k = 0; k < ports.n; k++) {
			struct rule_ports one = { p, &ports.v[k], 1, ports.v[k].lo != ports.v[k].hi };
			for (int pass = 0; pass < 2; pass++) {
				struct rule_spec *r = add_rule(c, cap, svc, &one);
				r->dest = RULE_DEST_ORIGINAL;
				r->to = to;
				r->from = pass ? NULL : set;
				r->verdict = pass ? svc->otherwise : VERDICT_ACCEPT;
			}
		}
		free(ports.v);
	}
}

/* The elements of a service's `to` in family f, as nft makes them (see struct rule_dests). */
static void dests_build(const struct range_vec *to, enum family f, struct rule_dests *d)
{
	struct prefix cover[256];
	size_t hosts = 0, all = 0;

	memset(d, 0, sizeof(*d));
	d->fam = f;
	for (size_t i = 0; i < to->n; i++) {
		size_t c = cidr_cover(to->v[i].lo, to->v[i].hi, f, cover);
		for (size_t k = 0; k < c; k++) {
			hosts += cover[k].plen == fam_bits(f);
			if (all++ == 0)
				d->one = cover[k];
		}
	}
	d->interval = hosts != all;
	d->single = all == 1;
	d->v = xcalloc(all ? all : 1, sizeof(*d->v));
	if (d->interval) {
		/* nft merges touching prefixes of an anonymous interval set: to's ranges. */
		memcpy(d->v, to->v, to->n * sizeof(*d->v));
		d->n = to->n;
		return;
	}
	for (size_t i = 0; i < to->n; i++)
		for (u128 a = to->v[i].lo;; a++) {
			d->v[d->n].lo = d->v[d->n].hi = a;
			d->n++;
			if (a == to->v[i].hi)
				break;
		}
}

static bool policy_has_to(const struct policy *pol)
{
	for (size_t i = 0; i < pol->nservices; i++)
		for (int f = 0; f < FAM_COUNT; f++)
			if (service_has_to(&pol->services[i], (enum family)f))
				return true;
	return false;
}

static void chain_init(struct rule_chain *c, const char *name, enum rule_hook hook, int prio)
{
	c->name = name;
	c->hook = hook;
	c->priority = prio;
	c->policy = VERDICT_ACCEPT;
}

void rule_plan_build(const struct policy *pol, struct rule_plan *out)
{
	struct rule_chain *input, *forward = NULL;
	size_t cap = 0, fcap = 0;

	memset(out, 0, sizeof(*out));
	out->table = pol->table;
	/* Rules point at the sets: the array is sized once. */
	out->sets = xcalloc(pol->nservices * FAM_COUNT + 1, sizeof(*out->sets));
	for (size_t i = 0; i < pol->nservices; i++)
		for (int f = 0; f < FAM_COUNT; f++) {
			struct rule_set *s = &out->sets[out->nsets++];
			service_set_name(&pol->services[i], (enum family)f, s->name, sizeof(s->name));
			s->fam = (enum family)f;
			s->svc = &pol->services[i];
		}

	out->dests = xcalloc(pol->nservices * FAM_COUNT + 1, sizeof(*out->dests));
	out->nchains = policy_has_to(pol) ? 2 : 1;
	out->chains = xcalloc(out->nchains, sizeof(*out->chains));
	input = &out->chains[0];
	chain_init(input, "input", RULE_HOOK_INPUT, pol->priority);
	if (out->nchains == 2) {
		forward = &out->chains[1];
		chain_init(forward, "forward", RULE_HOOK_FORWARD, pol->priority);
	}
	for (size_t i = 0; i < pol->nservices; i++) {
		const struct service *svc = &pol->services[i];
		const struct rule_set *sets = &out->sets[i * FAM_COUNT];
		if (!service_has_to(svc, FAM_V4) && !service_has_to(svc, FAM_V6)) {
			input_rules(input, &cap, svc, sets, FAM_COUNT, -1);
			continue;
		}
		const struct rule_dests *to[FAM_COUNT] = { NULL, NULL };
		for (int f = 0; f < FAM_COUNT; f++) {
			if (!service_has_to(svc, (enum family)f))
				continue;
			dests_build(&svc->to[f], (enum family)f, &out->dests[out->ndests]);
			to[f] = &out->dests[out->ndests++];
		}
		for (int f = 0; f < FAM_COUNT; f++) {
			if (to[f])
				to_rules(input, &cap, svc, &sets[f], to[f]);
			else
				input_rules(input, &cap, svc, &sets[f], 1, f);
		}
		for (int f = 0; f < FAM_COUNT; f++)
			if (to[f])
				to_rules(forward, &fcap, svc, &sets[f], to[f]);
	}
}

void rule_plan_free(struct rule_plan *p)
{
	for (size_t c = 0; c < p->nchains; c++) {
		for (size_t i = 0; i < p->chains[c].nrules; i++)
			free(p->chains[c].rules[i].ports.v);
		free(p->chains[c].rules);
	}
	free(p->chains);
	free(p->sets);
	for (size_t i = 0; i < p->ndests; i++)
		free(p->dests[i].v);
	free(p->dests);
	memset(p, 0, sizeof(*p));
}

const struct rule_set *rule_plan_set(const struct rule_plan *p, const char *name)
{
	for (size_t i = 0; i < p->nsets; i++)
		if (streq(p->sets[i].name, name))
			return &p->sets[i];
	return NULL;
}

const char *rule_hook_name(enum rule_hook h)
{
	switch (h) {
	case RULE_HOOK_INPUT:
		return "input";
	case RULE_HOOK_FORWARD:
		return "forward";
	}
	return "?";
}
