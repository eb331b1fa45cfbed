/*
 * mxfence refresh [-c CONF] [--dry-run] [--force]: the nightly job. Under a
 * lock: fetch, build, the gates, apply, then verify the kernel over the whole
 * address space. One summary line on stderr, whatever happens.
 * --plan-only -o PLAN: fetch, build, the gates, then write a plan instead.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "apply.h"
#include "cmd.h"
#include "compare.h"
#include "diag.h"
#include "fetch.h"
#include "lock.h"
#include "metrics.h"
#include "monitor.h"
#include "runrecord.h"
#include "saved.h"
#include "nl.h"
#include "plan_make.h"
#include "plan.h"
#include "report.h"
#include "util.h"

struct run {
	char services[2048]; /* "smtp +3/-1 prefixes (+768/-256 addresses)" ... */
	size_t ok, stale, failed;
};

static void summarize(struct run *r, const struct policy *pol, const struct apply_report *rep)
{
	size_t o = 0;

	for (size_t i = 0; i < rep->nservices && o < sizeof(r->services); i++) {
		const struct diff_totals *t = &rep->services[i];
		char g4[48], l4[48], g6[48], l6[48];

		u128_format(t->v4_gained, g4);
		u128_format(t->v4_lost, l4);
		u128_format(t->v6_gained, g6);
		u128_format(t->v6_lost, l6);
		o += (size_t)snprintf(r->services + o, sizeof(r->services) - o,
				      "%s%s +%zu/-%zu prefixes (+%s/-%s addresses", o ? ", " : "",
				      pol->services[i].name, t->prefixes_added, t->prefixes_removed,
				      g4, l4);
		if (o < sizeof(r->services) && (t->v6_gained || t->v6_lost))
			o += (size_t)snprintf(r->services + o, sizeof(r->services) - o,
					      ", +%s/-%s IPv6 /64s", g6, l6);
		if (o < sizeof(r->services))
			o += (size_t)snprintf(r->services + o, sizeof(r->services) - o, ")");
	}
}

static void count_sources(struct run *r, const struct policy *pol, const struct fetch_summary *s)
{
	size_t used = 0;

	for (size_t i = 0; i < pol->nsources; i++)
		used += pol->sources[i].used_by > 0;
	r->stale = s->kept;
	r->failed = s->none;
	r->ok = used - s->kept - s->none;
}

static void report(const struct run *r, const char *outcome)
{
	fprintf(stderr, "refresh: %s%ssources %zu ok", r->services, r->services[0] ? "; " : "", r->ok);
	if (r->stale)
		fprintf(stderr, ", %zu last-good", r->stale);
	if (r->failed)
		fprintf(stderr, ", %zu failed", r->failed);
	fprintf(stderr, "; %s\n", outcome);
}

/* After a commit: does the kernel hold, address for address, what was applied? */
static int verify_applied(const struct globals *g, const struct policy *pol,
			  const struct set_list *want, char *err, size_t errlen)
{
	struct comparison cmp;
	size_t differences;

	if (kernel_compare(pol, want, g->state_dir, &cmp, err, errlen) < 0)
		return -1;
	differences = print_comparison(stdout, pol, &cmp);
	comparison_free(&cmp);
	if (differences) {
		snprintf(err, errlen, "the kernel differs from what was applied in %zu place%s",
			 differences, differences == 1 ? "" : "s");
		return -1;
	}
	return 0;
}

/*
 * Every run but a dry run, whatever its outcome, is recorded for monitor and the metrics;
 * with --prometheus the metrics file is written too. Returns rc.
 */
static int refresh_end(const struct globals *g, int rc, bool record, const char *prom)
{
	char err[600];

	if (record && run_record_write(g->state_dir, (int64_t)time(NULL), rc, err, sizeof(err)) < 0)
		fprintf(stderr, "mxfence refresh: warning: the run was not recorded (%s)\n", err);
	if (prom) {
		struct monitor_options mo = { .conf = g->conf, .state_dir = g->state_dir,
					      .cache_dir = g->cache_dir,
					      .max_age = MONITOR_DEFAULT_MAX_AGE };
		struct monitor_report r;
		monitor_check(&mo, &r);
		if (metrics_write(prom, &r, err, sizeof(err)) < 0)
			fprintf(stderr, "mxfence refresh: warning: %s\n", err);
		monitor_report_free(&r);
	}
	return rc;
}
enum { OPT_PLAN_ONLY = 0x200, OPT_FORMAT, OPT_MODE };

int cmd_refresh(int argc, char **argv, struct globals *g)
{
	static const struct option opts[] = {
		COMMON_LONGOPTS,
		APPLY_LONGOPTS,
		{ "prometheus", required_argument, NULL, OPT_PROMETHEUS },
		{ "plan-only", no_argument, NULL, OPT_PLAN_ONLY },
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "mode", required_argument, NULL, OPT_MODE },
		{ 0 },
	};
	struct plan_options po = { .mode = 0600 };
	enum report_format format = REPORT_TEXT;
	bool plan_only = false;
	/* refresh takes the lock itself, for the whole run: apply_run does not. */
	struct apply_options ao = { .state_dir = g->state_dir,
				    .lock_timeout = DEFAULT_LOCK_TIMEOUT };
	struct apply_report rep = { 0 };
	struct fetch_summary fs = { 0 };
	struct set_list want = { 0 };
	struct run run = { 0 };
	struct policy pol;
	struct diag d = { 0 };
	struct pending_file saved = PENDING_FILE_INIT;
	const char *prom = NULL;
	char err[600], outcome[700];
	int opt, rc, lock, cache_lock;

	while ((opt = getopt_long(argc, argv, "+c:o:h", opts, NULL)) != -1) {
		if (common_option(opt, g))
			continue;
		if ((rc = apply_option("refresh", opt, &ao)) != 0) {
			if (rc < 0)
				return EXIT_INPUT;
			continue;
		}
		switch (opt) {
		case OPT_PROMETHEUS:
			prom = optarg;
			break;
		case OPT_PLAN_ONLY:
			plan_only = true;
			break;
		case 'o':
			po.path = optarg;
			break;
		case OPT_FORMAT:
			if (report_format_parse(optarg, &format) < 0)
				return usage_error("refresh", "--format is text, markdown, html or json '%s'",
						   optarg);
			break;
		case OPT_MODE:
			if (parse_mode(optarg, &po.mode) < 0)
				return usage_error("refresh", "--mode takes an octal file mode such as 0600 '%s'",
						   optarg);
			break;
		case 'h':
			puts("usage: mxfence refresh [-c CONF] [--dry-run] [--force] [--lock-timeout SEC]\n"
			     "                       [--prometheus FILE]\n"
			     "       mxfence refresh [-c CONF] --plan-only -o PLAN [--format F] [--force]\n"
			     "                       [--mode MODE] [--lock-timeout SEC] [--prometheus FILE]\n"
			     "Fetch, build, check the gates, apply and verify, one run at a time; or,\n"
			     "with --plan-only, write a plan for apply --plan instead of applying.\n"
			     "Exit 0 applied (planned) or nothing to do, 2 error, 3 refused by a gate,\n"
			     "4 applied (planned) but a source came from its last good copy.");
			return EXIT_OK;
		default:
			return usage_error("refresh", "unknown option");
		}
	}
	if (optind < argc)
		return usage_error("refresh", "unexpected argument '%s'", argv[optind]);
	if (plan_only && !po.path)
		return usage_error("refresh", "--plan-only writes a plan: -o PLAN names it");
	if (!plan_only && (po.path || format != REPORT_TEXT))
		return usage_error("refresh", "-o and --format go with --plan-only");
	if (plan_only && ao.dry_run)
		return usage_error("refresh", "--plan-only and --dry-run: a plan is made without a commit already");
	if (po.path && streq(po.path, "-"))
		return usage_error("refresh", "the plan goes to a file, the report to standard output '-'");
	ao.state_dir = po.state_dir = g->state_dir;

	lock = lock_take(g->state_dir, ao.lock_timeout, err, sizeof(err));
	if (lock < 0) {
		fprintf(stderr, "refresh: %s; nothing changed\n", err);
		return refresh_end(g, EXIT_INPUT, !ao.dry_run, prom);
	}

	/* Fetch: a failed source keeps its last good copy, which the build then reads. */
	rc = policy_load(&pol, g->conf, g->cache_dir, &d) < 0 ? EXIT_INPUT : EXIT_OK;
	diag_print(&d, stderr);
	diag_free(&d);
	if (rc) {
		policy_free(&pol);
		snprintf(outcome, sizeof(outcome), "errors in %s; nothing changed", g->conf);
		goto out;
	}
	cache_lock = lock_take(g->cache_dir, ao.lock_timeout, err, sizeof(err));
	if (cache_lock < 0) {
		policy_free(&pol);
		rc = EXIT_INPUT;
		snprintf(outcome, sizeof(outcome), "%s; nothing changed", err);
		goto out;
	}
	rc = fetch_and_report(g, &pol, false, NULL, 0, &fs);
	lock_release(cache_lock);
	count_sources(&run, &pol, &fs);
	policy_free(&pol);
	if (rc == EXIT_INPUT) {
		snprintf(outcome, sizeof(outcome), "fetching failed; nothing changed");
		goto out;
	}

	/* Build, with the gates of apply: a source that failed to load, an empty service. */
	rc = policy_open_gated(g, &pol);
	if (rc) {
		snprintf(outcome, sizeof(outcome), "%s; nothing changed",
			 rc == EXIT_REFUSED ? "refused by a gate" : "the build failed");
		goto free_policy;
	}
	if (plan_only) {
		struct plan_run pr;
		po.force = ao.force;
		if (plan_run(&pol, &po, &pr, err, sizeof(err)) < 0) {
			fprintf(stderr, "mxfence refresh: %s; no plan written\n", err);
			snprintf(outcome, sizeof(outcome), "no plan written; nothing changed");
			rc = EXIT_INPUT;
		} else {
			print_plan_report(stdout, format, "refresh", po.path, po.force, &pr);
			snprintf(outcome, sizeof(outcome),
				 "planned (%s%s): plan sha256:%s in %s; nothing applied",
				 plan_changes(&pr.plan) ? "changes" : "no change",
				 pr.plan.verdict == PLAN_GATES_REFUSED ? ", refused by the removal gate" :
				 pr.plan.verdict == PLAN_GATES_FORCED ? ", forced" : "", pr.sha256, po.path);
			rc = pr.plan.verdict == PLAN_GATES_REFUSED ? EXIT_REFUSED :
			     run.stale ? EXIT_STALE : EXIT_OK;
		}
		plan_run_free(&pr);
		goto free_policy;
	}
	if (!ao.dry_run && saved_prepare(g->state_dir, &pol, &saved, err, sizeof(err)) < 0)
		fprintf(stderr, "mxfence refresh: warning: the ruleset will not be saved (%s)\n", err);
	ao.audit = "refresh";
	rc = apply_run(&ao, &pol, &want, &rep);
	print_apply_report(&pol, &want, &rep);
	if (!ao.dry_run)
		saved_end(&saved, rc == EXIT_OK, rep.outcome == APPLY_CHANGED, "refresh");
	summarize(&run, &pol, &rep);
	if (rc) {
		snprintf(outcome, sizeof(outcome), "%s; nothing changed",
			 rc == EXIT_REFUSED ? "refused by the removal gate" : "apply failed");
		goto free_sets;
	}
	if (ao.dry_run) {
		snprintf(outcome, sizeof(outcome), "dry run: nothing applied (generation %u)",
			 rep.genid);
	} else if (verify_applied(g, &pol, &want, err, sizeof(err)) < 0) {
		snprintf(outcome, sizeof(outcome), "verify failed after apply: %s", err);
		rc = EXIT_INPUT;
		goto free_sets;
	} else if (rep.outcome == APPLY_CHANGED) {
		snprintf(outcome, sizeof(outcome), "applied gen %u, verified", rep.genid);
	} else {
		snprintf(outcome, sizeof(outcome), "nothing to apply (gen %u), verified", rep.genid);
	}
	rc = run.stale ? EXIT_STALE : EXIT_OK;
free_sets:
	set_list_free(&want);
	apply_report_free(&rep);
free_policy:
	policy_free(&pol);
out:
	report(&run, outcome);
	lock_release(lock);
	return refresh_end(g, rc, !ao.dry_run, prom);
}
