/*
 * mxfence plan [-c CONF] -o PLAN [--format F] [--force] [--full-dump] [--mode MODE]:
 * compile the policy, read the kernel, print the review report and write
 * PLAN, the exact change, for `apply --plan`. Exit 0 no change, 1 changes,
 * 2 error (no plan written), as diff.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cmd.h"
#include "diffview.h"
#include "gate.h"
#include "live.h"
#include "nl.h"
#include "plan.h"
#include "plan_make.h"
#include "report.h"
#include "util.h"

enum { OPT_FORMAT = 0x200, OPT_FULL_DUMP, OPT_FORCE_PLAN, OPT_MODE };

int parse_mode(const char *s, mode_t *out)
{
	char *end;
	unsigned long v;

	if (!*s || strspn(s, "01234567") != strlen(s) || strlen(s) > 4)
		return -1;
	v = strtoul(s, &end, 8);
	if (*end || v > 0777)
		return -1;
	*out = (mode_t)v;
	return 0;
}

int plan_report(const struct globals *g, struct policy *pol, const struct plan_request *req)
{
	struct set_list want = { 0 };
	struct kernel_view live = { 0 };
	struct removal_verdict *gates = NULL;
	struct diff_view dv;
	struct plan plan;
	struct nl *nl = NULL;
	const char *structure = NULL;
	char err[600], against[128], sha[SHA256_HEX];
	int rc = EXIT_INPUT;
	size_t ngates;

	wanted_sets_from_policy(pol, &want);
	if (nl_open(&nl, err, sizeof(err)) < 0 ||
	    kernel_view_read(nl, pol, g->state_dir, req->full_dump, &live, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxfence %s: %s; no plan written\n", req->cmd, err);
		goto out;
	}
	if (!live.structure_ok && live.table.present)
		structure = live.why;
	else if (!live.table.present)
		structure = "absent";
	snprintf(against, sizeof(against), "what the kernel holds (%sgeneration %u)",
		 live.table.present ? "" : "no table; ", live.table.genid);
	diff_view_compute(&dv, pol, &live.sets, &want, structure);
	ngates = removal_verdicts(&live.sets, &want, &gates);
	struct plan_inputs in = { .pol = pol, .live = &live, .want = &want, .dv = &dv,
				  .gates = gates, .force = req->force,
				  .created = (int64_t)time(NULL) };
	if (plan_make(&in, &plan, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxfence %s: %s; no plan written\n", req->cmd, err);
		goto free_view;
	}
	if (plan_write(req->path, &plan, req->mode, sha, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxfence %s: %s; no plan written\n", req->cmd, err);
		goto free_plan;
	}
	struct report_plan rp = { .path = req->path, .sha256 = sha, .created = plan.created,
				  .change = plan_change_name(&plan) };
	struct report r = { .dv = &dv, .against = against, .gates = gates, .ngates = ngates,
			    .forced = req->force, .plan = &rp };
	report_write(req->out, (enum report_format)req->format, &r);
	fflush(req->out);
	if (plan.verdict != PLAN_GATES_OK)
		for (size_t i = 0; i < ngates; i++) {
			char why[256];
			if (!gates[i].over)
				continue;
			removal_describe(&gates[i], why, sizeof(why));
			fprintf(stderr, "mxfence %s: %s: %s\n", req->cmd,
				plan.verdict == PLAN_GATES_FORCED ? "allowed by --force" : "the removal gate refuses",
				why);
		}
	if (plan.verdict == PLAN_GATES_REFUSED)
		fprintf(stderr, "mxfence %s: the plan is written, but apply --plan refuses it; a plan "
				"made with --force is applied\n", req->cmd);
	if (req->format != REPORT_TEXT)
		fprintf(stderr, "mxfence %s: wrote %s: plan sha256:%s\n", req->cmd, req->path, sha);
	if (req->result) {
		memcpy(req->result->sha256, sha, sizeof(sha));
		req->result->verdict = plan.verdict;
		req->result->changes = plan_changes(&plan);
	}
	rc = plan_changes(&plan) ? EXIT_MISMATCH : EXIT_OK;
free_plan:
	plan_free(&plan);
free_view:
	diff_view_free(&dv);
	free(gates);
out:
	if (nl) {
		kernel_view_free(&live);
		nl_close(nl);
	}
	set_list_free(&want);
	return rc;
}

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
	struct plan_request req = { .cmd = "plan", .format = REPORT_TEXT, .mode = 0600,
				    .out = stdout };
	enum report_format format;
	struct policy pol;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "+c:o:h", opts, NULL)) != -1) {
		if (common_option(opt, g))
			continue;
		switch (opt) {
		case 'o':
			req.path = optarg;
			break;
		case OPT_FORMAT:
			if (report_format_parse(optarg, &format) < 0)
				return usage_error("plan", "--format is text, markdown, html or json '%s'",
						   optarg);
			req.format = (int)format;
			break;
		case OPT_FORCE_PLAN:
			req.force = true;
			break;
		case OPT_FULL_DUMP:
			req.full_dump = true;
			break;
		case OPT_MODE:
			if (parse_mode(optarg, &req.mode) < 0)
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
	if (!req.path)
		return usage_error("plan", "-o PLAN names the file to write");
	if (streq(req.path, "-"))
		return usage_error("plan", "the plan goes to a file, the report to standard output '-'");

	rc = policy_open(g, &pol);
	if (rc == EXIT_OK)
		rc = plan_report(g, &pol, &req);
	policy_free(&pol);
	return rc;
}
