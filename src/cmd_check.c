/* mxfence check [-c CONF]: parse and lint the policy and its sources; write nothing. */
#include <stdio.h>

#include "cmd.h"
#include "diag.h"
#include "natcheck.h"
#include "nl.h"

/*
 * Service ports that another table DNATs past the policy, read from the
 * kernel: where it can be read (root, nf_tables), else nothing is said.
 */
static void dnat_warnings(const struct policy *pol)
{
	struct nat_rule_list rules;
	struct diag d = { 0 };
	struct nl *nl;
	char err[512];
	int rc;

	/* Without the capability, or without nf_tables, there is nothing to read. */
	if (nl_open(&nl, err, sizeof(err)) < 0)
		return;
	rc = nl_read_dnat(nl, pol->table, &rules, err, sizeof(err));
	nl_close(nl);
	if (rc < 0)
		diag_warn(&d, NULL, "the kernel's nat rules were not checked: %s", err);
	else
		natcheck(pol, &rules, &d);
	diag_print(&d, stderr);
	diag_free(&d);
	nat_rule_list_free(&rules);
}

int cmd_check(int argc, char **argv, struct globals *g)
{
	static const struct option opts[] = { COMMON_LONGOPTS, { 0 } };
	struct policy pol;
	size_t v4 = 0, v6 = 0, iv4 = 0, iv6 = 0;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		if (common_option(opt, g))
			continue;
		if (opt == 'h') {
			puts("usage: mxfence check [-c CONF]\nParse and lint the policy and its sources.");
			return EXIT_OK;
		}
		return usage_error("check", "unknown option");
	}
	if (optind < argc)
		return usage_error("check", "unexpected argument '%s'", argv[optind]);

	rc = policy_open(g, &pol);
	if (rc == EXIT_OK) {
		for (size_t i = 0; i < pol.nsources; i++) {
			v4 += pol.sources[i].count[FAM_V4];
			v6 += pol.sources[i].count[FAM_V6];
		}
		for (size_t i = 0; i < pol.nservices; i++) {
			iv4 += pol.services[i].set[FAM_V4].n;
			iv6 += pol.services[i].set[FAM_V6].n;
		}
		dnat_warnings(&pol);
		printf("configuration OK\n");
		printf("%zu service%s, %zu source%s, %zu prefixes (%zu IPv4, %zu IPv6), "
		       "%zu intervals (%zu IPv4, %zu IPv6)\n",
		       pol.nservices, pol.nservices == 1 ? "" : "s", pol.nsources,
		       pol.nsources == 1 ? "" : "s", v4 + v6, v4, v6, iv4 + iv6, iv4, iv6);
	}
	policy_free(&pol);
	return rc;
}
