#include "live.h"

#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ruleplan.h"
#include "util.h"

/* Does the live table have exactly the plan's sets, chains and rules? */
static bool structure_matches(const struct rule_plan *plan, const struct nl_table_live *t,
			      char *why, size_t n)
{
	size_t named = 0;

	if (!t->present)
		return snprintf(why, n, "table inet %s is absent", plan->table), false;
	for (size_t i = 0; i < t->nsets; i++) {
		const struct nl_set_live *s = &t->sets[i];
		if (s->flags & NFT_SET_ANONYMOUS)
			continue;
		named++;
		const struct rule_set *ps = rule_plan_set(plan, s->name);
		if (!ps)
			return snprintf(why, n, "set %s is not the policy's", s->name), false;
		if (s->key_len != (ps->fam == FAM_V4 ? 4u : 16u) || s->fam != ps->fam ||
		    !(s->flags & NFT_SET_INTERVAL) || (s->flags & NFT_SET_CONSTANT))
			return snprintf(why, n, "set %s has another type or flags", s->name), false;
	}
	if (named != plan->nsets)
		return snprintf(why, n, "the table has %zu sets, the policy %zu", named, plan->nsets),
		       false;
	if (t->nchains != plan->nchains)
		return snprintf(why, n, "the table has %zu chains, the policy %zu", t->nchains,
				plan->nchains),
		       false;
	for (size_t c = 0; c < plan->nchains; c++) {
		const struct rule_chain *pc = &plan->chains[c];
		const struct nl_chain_live *lc = NULL;
		for (size_t k = 0; k < t->nchains && !lc; k++)
			if (streq(t->chains[k].name, pc->name))
				lc = &t->chains[k];
		if (!lc)
			return snprintf(why, n, "the table has no chain %s", pc->name), false;
		if (!nl_chain_live_is(lc, pc))
			return snprintf(why, n,
					"chain %s is not type filter hook %s priority %d policy %s",
					pc->name, rule_hook_name(pc->hook), pc->priority,
					verdict_name(pc->policy)),
			       false;
		/* The table's rules come chain by chain, each chain's in order. */
		char **fp;
		size_t nfp = nl_chain_fingerprints(pc, &fp), j = 0;
		for (size_t r = 0; r < t->nrules; r++) {
			if (!streq(t->rules[r].chain, pc->name))
				continue;
			if (j < nfp && !streq(t->rules[r].fingerprint, fp[j])) {
				snprintf(why, n, "the rules of service %s differ from the policy's",
					 pc->rules[j].svc->name);
				nl_fingerprints_free(fp, nfp);
				return false;
			}
			j++;
		}
		nl_fingerprints_free(fp, nfp);
		if (j != nfp)
			return snprintf(why, n, "chain %s has %zu rules, the policy %zu", pc->name, j,
					nfp),
			       false;
	}
	return true;
}

int kernel_view_read(struct nl *nl, const struct policy *pol, const char *state_dir, bool full_dump,
	      struct kernel_view *out, char *err, size_t errlen)
{
	char why[512];
	int r;

	memset(out, 0, sizeof(*out));
	r = state_read(state_dir, pol->table, &out->state, why, sizeof(why));
	out->have_state = r == 0;
	/* A damaged or foreign state file only costs a full dump. */

	bool use_state = out->have_state && !full_dump && out->state.netns == netns_inode();
	if (nl_read_table(nl, pol->table, !use_state, &out->table, err, errlen) < 0)
		return -1;
	if (use_state && out->table.present && out->table.genid != out->state.genid) {
		nl_table_live_free(&out->table);
		use_state = false;
		if (nl_read_table(nl, pol->table, true, &out->table, err, errlen) < 0)
			return -1;
	}
	out->from_state = use_state && out->table.present;

	/* The policy's sets, with what the kernel (or the state file) says they hold. */
	set_list_names_from_policy(pol, &out->sets);
	for (size_t i = 0; i < out->sets.n; i++) {
		struct set_content *v = &out->sets.v[i];
		if (out->from_state) {
			/* The state's intervals move over: they are large, and read once. */
			struct state_set *s = (struct state_set *)state_set_find(&out->state, v->name);
			if (s && s->fam == v->fam) {
				v->known = true;
				v->iv = s->iv;
				v->sources = s->sources;
				memset(&s->iv, 0, sizeof(s->iv));
				s->sources = NULL;
			}
		} else {
			const struct nl_set_live *s = nl_table_live_set(&out->table, v->name);
			if (s && s->fam == v->fam) {
				v->known = true;
				/*
				 * As the kernel has them: adjacent intervals stay apart
				 * (nft -f loads one per CIDR), so that a delta deletes
				 * exactly the elements that are there.
				 */
				for (size_t k = 0; k < s->n; k++)
					range_vec_push(&v->iv, s->iv[k].lo, s->iv[k].hi);
			}
		}
	}
	if (out->from_state) {
		/* The bits of the state's masks name the state's sources. */
		for (size_t i = 0; i < out->sets.nsource_names; i++)
			free(out->sets.source_names[i]);
		free(out->sets.source_names);
		out->sets.nsource_names = out->state.nsources;
		out->sets.source_names = xcalloc(out->state.nsources ? out->state.nsources : 1,
						 sizeof(char *));
		for (size_t i = 0; i < out->state.nsources; i++)
			out->sets.source_names[i] = xstrdup(out->state.sources[i]);
	}
	out->structure_ok = kernel_structure_matches(pol, &out->table, out->why, sizeof(out->why));
	return 0;
}

bool kernel_structure_matches(const struct policy *pol, const struct nl_table_live *t, char *why,
			      size_t n)
{
	struct rule_plan plan;

	rule_plan_build(pol, &plan);
	bool ok = structure_matches(&plan, t, why, n);
	rule_plan_free(&plan);
	return ok;
}

void kernel_view_free(struct kernel_view *l)
{
	nl_table_live_free(&l->table);
	set_list_free(&l->sets);
	if (l->have_state)
		state_free(&l->state);
	memset(l, 0, sizeof(*l));
}

void service_counters_read(const struct policy *pol, const struct nl_table_live *t,
			   struct service_counters *out)
{
	struct rule_plan plan;

	memset(out, 0, pol->nservices * sizeof(*out));
	rule_plan_build(pol, &plan);
	for (size_t c = 0; c < plan.nchains; c++) {
		const struct rule_chain *pc = &plan.chains[c];
		size_t j = 0;
		for (size_t r = 0; r < t->nrules && j < pc->nrules; r++) {
			const struct nl_rule_live *rule = &t->rules[r];
			if (!streq(rule->chain, pc->name))
				continue;
			struct service_counters *sc = &out[pc->rules[j++].svc - pol->services];
			if (rule->set_name) {
				sc->accepted_packets += rule->packets;
				sc->accepted_bytes += rule->bytes;
			} else {
				sc->refused_packets += rule->packets;
				sc->refused_bytes += rule->bytes;
			}
		}
	}
	rule_plan_free(&plan);
}
