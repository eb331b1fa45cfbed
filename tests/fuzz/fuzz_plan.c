/*
 * The plan reader on hostile bytes: plan_decode() on the input as it is, and
 * on the input sealed with the digest line a plan ends with, so that the
 * fields behind the digest check are reached too. Then what `apply --plan`
 * does with a plan it accepted: the policy skeleton, and the netlink batch of
 * its change (built, not sent).
 *
 * Checked: a refused input says why and leaves nothing allocated; an
 * accepted plan is well formed (sets in order, intervals ascending and
 * disjoint inside their family, source bits inside the named sources, the
 * gates' verdict consistent, the destinations of `to` ascending and disjoint)
 * and encodes back to the input byte for byte.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "live.h"
#include "nl.h"
#include "plan.h"
#include "ruleplan.h"
#include "util.h"

static int count_msg(const struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	++*(size_t *)arg;
	return 0;
}

static void use_plan(const struct plan *p, const char *data, size_t size)
{
	char *again;
	size_t len, msgs = 0;
	struct policy pol;
	bool over = false;

	plan_encode(p, &again, &len);
	FUZZ_CHECK(len == size && !memcmp(again, data, size),
		   "an accepted plan encodes to other bytes (%zu, read %zu)", len, size);
	free(again);
	FUZZ_CHECK(p->nservices >= 1 && p->nsets == p->nservices * FAM_COUNT && p->nsources >= 1,
		   "%zu services, %zu sets, %zu sources", p->nservices, p->nsets, p->nsources);
	for (size_t i = 0; i < p->nsets; i++) {
		const struct plan_set *s = &p->sets[i];
		char name[NAME_MAX_LEN + 8];
		snprintf(name, sizeof(name), "%s_%s", p->services[i / 2].name, i % 2 ? "v6" : "v4");
		FUZZ_CHECK(!strcmp(s->name, name) && s->service == i / 2 && s->fam == (enum family)(i % 2),
			   "set %zu is %s", i, s->name);
		fuzz_check_ranges(s->del.v, s->del.n, s->fam, true, "deletes");
		fuzz_check_ranges(s->add.v, s->add.n, s->fam, true, "adds");
		fuzz_check_ranges(s->full.v, s->full.n, s->fam, true, "whole set");
		size_t nb = p->change == PLAN_REPLACE ? s->full.n : s->add.n;
		FUZZ_CHECK(p->change == PLAN_REPLACE ? !s->del.n && !s->add.n : !s->full.n,
			   "set %s holds intervals of the other kind of change", s->name);
		for (size_t k = 0; k < nb; k++)
			FUZZ_CHECK(p->nsources >= 64 || !(s->bits[k] >> p->nsources),
				   "set %s: a source bit beyond %zu sources", s->name, p->nsources);
		over |= p->gates[i].over;
		FUZZ_CHECK(p->gates[i].lost <= p->gates[i].had, "gate %zu loses more than it has", i);
	}
	FUZZ_CHECK(over == (p->verdict != PLAN_GATES_OK), "gates verdict inconsistent");
	for (size_t i = 0; i < p->nservices; i++)
		for (int f = 0; f < FAM_COUNT; f++)
			fuzz_check_ranges(p->services[i].to[f].v, p->services[i].to[f].n,
					  (enum family)f, true, "destinations");

	plan_policy(p, &pol);
	struct nl_batch *b = nl_batch_new(NULL, p->genid);
	if (p->change == PLAN_REPLACE) {
		struct rule_plan rp;
		rule_plan_build(&pol, &rp);
		if (p->table_present)
			nl_batch_del_table(b, pol.table);
		nl_batch_add_plan(b, &rp);
		rule_plan_free(&rp);
		for (size_t i = 0; i < p->nsets; i++)
			nl_batch_add_elems(b, pol.table, p->sets[i].name, p->sets[i].fam,
					   p->sets[i].full.v, p->sets[i].full.n);
	} else {
		for (size_t i = 0; i < p->nsets; i++)
			nl_batch_del_elems(b, pol.table, p->sets[i].name, p->sets[i].fam,
					   p->sets[i].del.v, p->sets[i].del.n);
		for (size_t i = 0; i < p->nsets; i++)
			nl_batch_add_elems(b, pol.table, p->sets[i].name, p->sets[i].fam,
					   p->sets[i].add.v, p->sets[i].add.n);
	}
	nl_batch_foreach(b, count_msg, &msgs);
	FUZZ_CHECK(msgs >= 1, "a batch without BEGIN");
	nl_batch_free(b);
	policy_free(&pol);
}

static void one(const char *data, size_t size)
{
	struct plan p;
	char err[256];

	memset(err, 'x', sizeof(err));
	if (plan_decode(data, size, &p, err, sizeof(err)) < 0) {
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0], "no reason for a refusal");
		FUZZ_CHECK(!p.table && !p.services && !p.sources && !p.sets && !p.gates && !p.why &&
				   !p.policy_path,
			   "a refused plan keeps allocations");
		return;
	}
	use_plan(&p, data, size);
	plan_free(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char digest[SHA256_HEX];

	one((const char *)data, size);
	/* Sealed: the digest line appended, as a writer would. */
	char *sealed = xmalloc(size + 80);
	memcpy(sealed, data, size);
	sha256_hex(data, size, digest);
	int n = snprintf(sealed + size, 80, "end sha256 %s\n", digest);
	one(sealed, size + (size_t)n);
	free(sealed);
	return 0;
}
