/*
 * mxfence plan [-c CONF] -o PLAN [--format F] [--force] [--full-dump] [--mode MODE]:
 * compile the policy, read the kernel, write PLAN, the exact change, for
 * `apply --plan`, and print the review report. Exit 0 no change, 1 changes,
 * 2 error (no plan written), as diff.
 */
#include <stdio.h>

#include "cmd.h"
#include "plan_make.h"
#include "report.h"
#include "util.h"

enum { OPT_FORMAT = 0x200, OPT_FULL_DUMP, OPT_FORCE_PLAN, OPT_MODE };

int cmd_plan(int argc, char **argv, struct globals *g)
{
	static const struct option opts[] = {
		COMMON_LONGOPTS,
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "force", no_argument, NULL, OPT_FORCE_PLAN },
		{ "full-dump", no_argument, NULL, OPT_FULL_DUMP },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ 0 },
	};
	struct plan_options po = { .mode = 0600 };
	enum report_format format = REPORT_TEXT;
	struct plan_run run;
	struct policy pol;
	char err[600];
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "+c:o:h", opts, NULL)) != -1) {
		if (common_option(opt, g))
			continue;
		switch (opt) {
		case 'o':
			po.path = optarg;
			break;
		case OPT_FORMAT:
			if (report_format_parse(optarg, &format) < 0)
				return usage_error("plan", "--format is text, markdown, html or json '%s'",
						   optarg);
			break;
		case OPT_FORCE_PLAN:
			po.force = true;
			break;
		case OPT_FULL_DUMP:
			po.full_dump = true;
			break;
		case OPT_MODE:
			if (parse_mode(optarg, &po.mode) < 0)
				return usage_error("plan", "--mode takes an octal file mode such as 0600 '%s'",
						   optarg);
			break;
		case 'h':
			puts("usage: mxfence plan [-c CONF] -o PLAN [--format text|markdown|html|json]\n"
			     "                    [--force] [--full-dump] [--mode MODE]\n"
			     "Write PLAN, the exact change applying the policy would make, and print the\n"
			     "review report; apply it with apply --plan PLAN --expect-sha256 HEX.\n"
			     "Exit 0 no change, 1 changes, 2 error.");
			return EXIT_OK;
		default:
			return usage_error("plan", "unknown option");
		}
	}
	if (optind < argc)
		return usage_error("plan", "unexpected argument '%s'", argv[optind]);
	if (!po.path)
		return usage_error("plan", "-o PLAN names the file to write");
	if (streq(po.path, "-"))
		return usage_error("plan", "the plan goes to a file, the report to standard output '-'");
	po.state_dir = g->state_dir;

	rc = policy_open(g, &pol);
	if (rc)
		goto out;
	if (plan_run(&pol, &po, &run, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxfence plan: %s; no plan written\n", err);
		rc = EXIT_INPUT;
	} else {
		print_plan_report(stdout, format, "plan", po.path, po.force, &run);
		rc = plan_changes(&run.plan) ? EXIT_MISMATCH : EXIT_OK;
	}
	plan_run_free(&run);
out:
	policy_free(&pol);
	return rc;
}
