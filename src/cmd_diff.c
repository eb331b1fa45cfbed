/*
 * mxfence diff [-c CONF] [--against live|FILE] [--format F] [--full-dump]:
 * what applying would change. Exit 0 no change, 1 changes, 2 error, as diff(1).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "diag.h"
#include "diffview.h"
#include "gate.h"
#include "live.h"
#include "modelfile.h"
#include "nl.h"
#include "report.h"
#include "util.h"

enum { OPT_AGAINST = 0x200, OPT_FULL_DUMP, OPT_FORMAT };

int cmd_diff(int argc, char **argv, struct globals *g)
{
	static const struct option opts[] = {
		COMMON_LONGOPTS,
		{ "against", required_argument, NULL, OPT_AGAINST },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "full-dump", no_argument, NULL, OPT_FULL_DUMP },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ 0 },
	};
	const char *against = "live";
	enum report_format format = REPORT_TEXT;
	bool full_dump = false;
	struct removal_verdict *gates = NULL;
	struct diff_view dv;
	struct report r = { 0 };
	char against_text[PATH_MAX + 64];
	struct policy pol;
	struct set_list want = { 0 }, file = { 0 };
	struct kernel_view live = { 0 };
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
			format = REPORT_JSON;
			break;
		case OPT_FORMAT:
			if (report_format_parse(optarg, &format) < 0)
				return usage_error("diff", "--format is text, markdown, html or json '%s'",
						   optarg);
			break;
		case OPT_FULL_DUMP:
			full_dump = true;
			break;
		case 'h':
			puts("usage: mxfence diff [-c CONF] [--against live|FILE] [--full-dump]\n"
			     "                    [--format text|markdown|html|json] [--json]\n"
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
		if (live.table.present)
			snprintf(against_text, sizeof(against_text),
				 "what the kernel holds (generation %u)", live.table.genid);
		else
			snprintf(against_text, sizeof(against_text),
				 "what the kernel holds (no table; generation %u)", live.table.genid);
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
		snprintf(against_text, sizeof(against_text), "the model file %s", against);
	}
	diff_view_compute(&dv, &pol, old, &want, structure);
	r.dv = &dv;
	r.against = against_text;
	if (format == REPORT_MARKDOWN || format == REPORT_HTML)
		r.ngates = removal_verdicts(old, &want, &gates);
	r.gates = gates;
	report_write(stdout, format, &r);
	rc = dv.t.changed ? EXIT_MISMATCH : EXIT_OK;
	diff_view_free(&dv);
	free(gates);
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
