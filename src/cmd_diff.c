/*
 * mxfence diff [-c CONF] [--against live|FILE] [--json] [--full-dump]: what
 * applying would change. Exit 0 no change, 1 changes, 2 error, as diff(1).
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "diag.h"
#include "diffview.h"
#include "live.h"
#include "modelfile.h"
#include "nl.h"
#include "util.h"

enum { OPT_AGAINST = 0x200, OPT_FULL_DUMP };

int cmd_diff(int argc, char **argv, struct globals *g)
{
	static const struct option opts[] = {
		COMMON_LONGOPTS,
		{ "against", required_argument, NULL, OPT_AGAINST },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "full-dump", no_argument, NULL, OPT_FULL_DUMP },
		{ 0 },
	};
	const char *against = "live";
	bool json = false, full_dump = false;
	struct policy pol;
	struct set_list want = { 0 }, file = { 0 };
	struct kernel_view live = { 0 };
	struct diff_totals t;
	struct nl *nl = NULL;
	const struct set_list *old;
	const char *structure = NULL;
	char err[512];
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		if (common_option(opt, g))
			continue;
		switch (opt) {
		case OPT_AGAINST:
			against = optarg;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_FULL_DUMP:
			full_dump = true;
			break;
		case 'h':
			puts("usage: mxfence diff [-c CONF] [--against live|FILE] [--json] [--full-dump]\n"
			     "What applying the policy would change (exit 0 none, 1 changes, 2 error).");
			return EXIT_OK;
		default:
			return usage_error("diff", "unknown option");
		}
	}
	if (optind < argc)
		return usage_error("diff", "unexpected argument '%s'", argv[optind]);

	rc = policy_open(g, &pol);
	if (rc)
		goto out;
	wanted_sets_from_policy(&pol, &want);
	if (streq(against, "live")) {
		if (nl_open(&nl, err, sizeof(err)) < 0 ||
		    kernel_view_read(nl, &pol, g->state_dir, full_dump, &live, err, sizeof(err)) < 0) {
			fprintf(stderr, "mxfence diff: %s\n", err);
			rc = EXIT_INPUT;
			goto out;
		}
		old = &live.sets;
		if (!live.structure_ok && live.table.present)
			structure = live.why;
		else if (!live.table.present)
			structure = "absent";
	} else {
		struct diag d = { 0 };
		if (modelfile_read(against, &file, &d) < 0) {
			diag_print(&d, stderr);
			diag_free(&d);
			rc = EXIT_INPUT;
			goto out;
		}
		diag_free(&d);
		old = &file;
	}
	diff_print(stdout, &pol, old, &want, structure, json, &t);
	rc = t.changed ? EXIT_MISMATCH : EXIT_OK;
out:
	set_list_free(&want);
	set_list_free(&file);
	if (nl) {
		kernel_view_free(&live);
		nl_close(nl);
	}
	policy_free(&pol);
	return rc;
}
