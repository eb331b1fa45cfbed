/* mxfence status [-c CONF]: what the kernel holds of the policy's table, and what was applied. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "cache.h"
#include "cmd.h"
#include "diag.h"
#include "live.h"
#include "natcheck.h"
#include "nl.h"
#include "ruleplan.h"
#include "util.h"

static void counters(const struct policy *pol, const struct nl_table_live *t)
{
	struct service_counters *c = xcalloc(pol->nservices + 1, sizeof(*c));

	service_counters_read(pol, t, c);
	for (size_t k = 0; k < pol->nservices; k++)
		printf("  service %s: accepted %llu packets (%llu bytes), %s %llu packets (%llu bytes)\n",
		       pol->services[k].name, (unsigned long long)c[k].accepted_packets,
		       (unsigned long long)c[k].accepted_bytes,
		       pol->services[k].otherwise == VERDICT_REJECT ? "rejected" : "dropped",
		       (unsigned long long)c[k].refused_packets, (unsigned long long)c[k].refused_bytes);
	free(c);
}

/* The fetched sources' copies in the cache: when fetched, when last confirmed current. */
static void fetched_sources(const struct policy *pol)
{
	for (size_t i = 0; i < pol->nsources; i++) {
		const struct source *src = &pol->sources[i];
		struct cache_meta m;
		char err[512], fetched[40], checked[40];
		char *path;
		time_t at;
		int r;

		if (!src->remote || !src->used_by)
			continue;
		path = source_cache_path(pol, src, ".meta");
		r = cache_meta_read(path, &m, err, sizeof(err));
		if (r == 1) {
			printf("source %s: no good copy fetched yet\n", src->name);
		} else if (r < 0) {
			printf("source %s: %s: %s\n", src->name, path, err);
		} else {
			at = (time_t)m.fetched;
			strftime(fetched, sizeof(fetched), "%Y-%m-%d %H:%M UTC", gmtime(&at));
			at = (time_t)m.checked;
			strftime(checked, sizeof(checked), "%Y-%m-%d %H:%M UTC", gmtime(&at));
			printf("source %s: %llu prefixes fetched %s, current as of %s%s%s\n", src->name,
			       (unsigned long long)m.prefixes, fetched, checked, m.version ? "; " : "",
			       m.version ? m.version : "");
			cache_meta_free(&m);
		}
		free(path);
	}
}

/* Service ports that another table DNATs past the policy. */
static void dnat_warnings(struct nl *nl, const struct policy *pol)
{
	struct nat_rule_list rules;
	struct diag d = { 0 };
	char err[512];

	if (nl_read_dnat(nl, pol->table, &rules, err, sizeof(err)) < 0)
		diag_warn(&d, NULL, "the kernel's nat rules were not checked: %s", err);
	else
		natcheck(pol, &rules, &d);
	fflush(stdout);
	diag_print(&d, stderr);
	diag_free(&d);
	nat_rule_list_free(&rules);
}

/* The last lines of the audit trail, for people. */
static void recent_changes(const char *state_dir)
{
	char **lines, err[512], text[2048];
	long n = audit_tail(state_dir, 5, &lines, err, sizeof(err));

	if (n < 0) {
		printf("recent changes: unknown (%s)\n", err);
		return;
	}
	if (n == 0) {
		printf("recent changes: none recorded (no %s/%s)\n", state_dir, AUDIT_FILE);
		free(lines);
		return;
	}
	printf("recent changes (%s/%s, oldest first):\n", state_dir, AUDIT_FILE);
	for (long i = 0; i < n; i++) {
		if (audit_describe(lines[i], text, sizeof(text)) < 0)
			printf("  (a line that is not an audit record)\n");
		else
			printf("  %s\n", text);
		free(lines[i]);
	}
	free(lines);
}

int cmd_status(int argc, char **argv, struct globals *g)
{
	static const struct option opts[] = { COMMON_LONGOPTS, { 0 } };
	struct policy pol;
	struct diag d = { 0 };
	struct nl *nl = NULL;
	struct nl_table_live t = { 0 };
	struct state st;
	char err[512];
	int opt, rc = EXIT_OK;

	while ((opt = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		if (common_option(opt, g))
			continue;
		if (opt == 'h') {
			puts("usage: mxfence status [-c CONF]\n"
			     "The policy's table in the kernel: sets, counters, and the last apply.\n"
			     "Exit 0 the table is there as the policy makes it, 1 it is absent or\n"
			     "its chains and rules are not the policy's, 2 error.");
			return EXIT_OK;
		}
		return usage_error("status", "unknown option");
	}
	if (optind < argc)
		return usage_error("status", "unexpected argument '%s'", argv[optind]);

	/* The policy names the table and its services; its sources are not read. */
	if (policy_load(&pol, g->conf, g->cache_dir, &d) < 0) {
		diag_print(&d, stderr);
		diag_free(&d);
		policy_free(&pol);
		return EXIT_INPUT;
	}
	diag_free(&d);
	if (nl_open(&nl, err, sizeof(err)) < 0 ||
	    nl_read_table(nl, pol.table, true, &t, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxfence status: %s\n", err);
		rc = EXIT_INPUT;
		goto out;
	}
	if (!t.present) {
		/* Exit 1: the services' ports are not guarded. */
		printf("table inet %s: absent (generation %u)\n", pol.table, t.genid);
		rc = EXIT_MISMATCH;
	} else {
		printf("table inet %s: present, generation %u\n", pol.table, t.genid);
		for (size_t i = 0; i < t.nsets; i++) {
			const struct nl_set_live *s = &t.sets[i];
			char a[AMOUNT_STRLEN];
			if (!s->name || s->name[0] == '_')
				continue; /* anonymous: a rule's ports */
			struct range_vec rv = { 0 };
			for (size_t k = 0; k < s->n; k++)
				range_vec_push(&rv, s->iv[k].lo, s->iv[k].hi);
			ranges_normalize(&rv);
			amount_format(ranges_addresses(rv.v, rv.n), s->fam, a);
			printf("  set %s: %zu intervals, %s\n", s->name, rv.n, a);
			range_vec_free(&rv);
		}
		char why[512];
		if (kernel_structure_matches(&pol, &t, why, sizeof(why))) {
			counters(&pol, &t);
		} else {
			/* Exit 1: the ports may not be guarded as the policy says. */
			printf("  structure: not the policy's: %s\n", why);
			rc = EXIT_MISMATCH;
		}
	}
	int r = state_read(g->state_dir, pol.table, &st, err, sizeof(err));
	if (r == 0) {
		char when[64];
		time_t at = (time_t)st.applied_at;
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", gmtime(&at));
		printf("last applied: %s, generation %u%s\n", when, st.genid,
		       st.genid == t.genid && st.netns == netns_inode()
			       ? " (the kernel is still there)"
			       : " (the ruleset changed since)");
		state_free(&st);
	} else if (r == 1) {
		printf("last applied: never (no state in %s)\n", g->state_dir);
	} else {
		printf("last applied: unknown (%s)\n", err);
	}
	recent_changes(g->state_dir);
	fetched_sources(&pol);
	dnat_warnings(nl, &pol);
out:
	nl_table_live_free(&t);
	nl_close(nl);
	policy_free(&pol);
	return rc;
}
