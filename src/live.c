#include "live.h"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Does the live table have exactly the policy's sets, chain and rules? */
static bool structure_matches(const struct policy *pol, const struct nl_table_live *t, char *why,
			      size_t n)
{
	size_t named = 0, expect_rules = 0, r = 0;
	char name[NAME_MAX_LEN + 8];

	if (!t->present)
		return snprintf(why, n, "table inet %s is absent", pol->table), false;
	for (size_t i = 0; i < t->nsets; i++) {
		const struct nl_set_live *s = &t->sets[i];
		if (s->flags & NFT_SET_ANONYMOUS)
			continue;
		named++;
		bool found = false;
		for (size_t k = 0; k < pol->nservices && !found; k++)
			for (int f = 0; f < FAM_COUNT && !found; f++) {
				service_set_name(&pol->services[k], (enum family)f, name, sizeof(name));
				if (!streq(name, s->name))
					continue;
				found = true;
				if (s->key_len != (f == FAM_V4 ? 4u : 16u) || s->fam != (enum family)f ||
				    !(s->flags & NFT_SET_INTERVAL) || (s->flags & NFT_SET_CONSTANT))
					return snprintf(why, n, "set %s has another type or flags", s->name),
					       false;
			}
		if (!found)
			return snprintf(why, n, "set %s is not the policy's", s->name), false;
	}
	if (named != pol->nservices * FAM_COUNT)
		return snprintf(why, n, "the table has %zu sets, the policy %zu", named,
				pol->nservices * FAM_COUNT),
		       false;
	if (t->nchains != 1 || !streq(t->chains[0].name, "input"))
		return snprintf(why, n, "the table's chains are not the policy's (one chain, input)"),
		       false;
	const struct nl_chain_live *c = &t->chains[0];
	if (!c->base || c->hook != NF_INET_LOCAL_IN || c->prio != pol->priority ||
	    c->policy != NF_ACCEPT || !c->type || !streq(c->type, "filter"))
		return snprintf(why, n, "chain input is not type filter hook input priority %d policy accept",
				pol->priority),
		       false;
	for (size_t k = 0; k < pol->nservices; k++) {
		char **fp;
		size_t nfp = nl_service_fingerprints(&pol->services[k], &fp);
		expect_rules += nfp;
		for (size_t j = 0; j < nfp; j++, r++) {
			if (r >= t->nrules || !streq(t->rules[r].fingerprint, fp[j])) {
				snprintf(why, n, "the rules of service %s differ from the policy's",
					 pol->services[k].name);
				nl_fingerprints_free(fp, nfp);
				return false;
			}
		}
		nl_fingerprints_free(fp, nfp);
	}
	if (t->nrules != expect_rules)
		return snprintf(why, n, "chain input has %zu rules, the policy %zu", t->nrules,
				expect_rules),
		       false;
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
	out->structure_ok = structure_matches(pol, &out->table, out->why, sizeof(out->why));
	return 0;
}

void kernel_view_free(struct kernel_view *l)
{
	nl_table_live_free(&l->table);
	set_list_free(&l->sets);
	if (l->have_state)
		state_free(&l->state);
	memset(l, 0, sizeof(*l));
}
