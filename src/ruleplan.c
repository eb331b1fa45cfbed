#include "ruleplan.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

static int range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

bool service_ports(const struct service *svc, enum proto p, struct plan_ports *out)
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

static struct plan_rule *add_rule(struct plan_chain *c, size_t *cap, const struct service *svc,
				  const struct plan_ports *ports)
{
	struct plan_rule *r;

	c->rules = grow(c->rules, cap, c->nrules + 1, sizeof(*c->rules));
	r = &c->rules[c->nrules++];
	memset(r, 0, sizeof(*r));
	r->svc = svc;
	r->ports = *ports;
	r->ports.v = xcalloc(ports->n, sizeof(*ports->v));
	memcpy(r->ports.v, ports->v, ports->n * sizeof(*ports->v));
	r->dest = PLAN_DEST_ANY;
	r->counter = true;
	return r;
}

/*
 * Per protocol the accepts of the IPv4 and the IPv6 set, then per protocol
 * the fallback: a source of no set gets `otherwise`.
 */
static void service_rules(struct plan_chain *c, size_t *cap, const struct service *svc,
			  const struct plan_set *sets)
{
	struct plan_ports ports[2];
	bool have[2];

	for (enum proto p = PROTO_TCP; p <= PROTO_UDP; p++)
		have[p] = service_ports(svc, p, &ports[p]);
	for (enum proto p = PROTO_TCP; p <= PROTO_UDP; p++) {
		if (!have[p])
			continue;
		for (int f = 0; f < FAM_COUNT; f++) {
			struct plan_rule *r = add_rule(c, cap, svc, &ports[p]);
			r->from = &sets[f];
			r->verdict = VERDICT_ACCEPT;
		}
	}
	for (enum proto p = PROTO_TCP; p <= PROTO_UDP; p++) {
		if (!have[p])
			continue;
		struct plan_rule *r = add_rule(c, cap, svc, &ports[p]);
		r->verdict = svc->otherwise;
	}
	for (enum proto p = PROTO_TCP; p <= PROTO_UDP; p++)
		if (have[p])
			free(ports[p].v);
}

void rule_plan_build(const struct policy *pol, struct rule_plan *out)
{
	struct plan_chain *input;
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	out->table = pol->table;
	/* Rules point at the sets: the array is sized once. */
	out->sets = xcalloc(pol->nservices * FAM_COUNT + 1, sizeof(*out->sets));
	for (size_t i = 0; i < pol->nservices; i++)
		for (int f = 0; f < FAM_COUNT; f++) {
			struct plan_set *s = &out->sets[out->nsets++];
			service_set_name(&pol->services[i], (enum family)f, s->name, sizeof(s->name));
			s->fam = (enum family)f;
			s->svc = &pol->services[i];
		}

	out->chains = xcalloc(1, sizeof(*out->chains));
	out->nchains = 1;
	input = &out->chains[0];
	input->name = "input";
	input->hook = PLAN_HOOK_INPUT;
	input->priority = pol->priority;
	input->policy = VERDICT_ACCEPT;
	for (size_t i = 0; i < pol->nservices; i++)
		service_rules(input, &cap, &pol->services[i], &out->sets[i * FAM_COUNT]);
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
	memset(p, 0, sizeof(*p));
}

const struct plan_set *rule_plan_set(const struct rule_plan *p, const char *name)
{
	for (size_t i = 0; i < p->nsets; i++)
		if (streq(p->sets[i].name, name))
			return &p->sets[i];
	return NULL;
}

const char *plan_hook_name(enum plan_hook h)
{
	switch (h) {
	case PLAN_HOOK_INPUT:
		return "input";
	}
	return "?";
}
