/*
 * mxfence apply [-c CONF] [--dry-run] [--force]: make the kernel hold the
 * compiled policy in one netlink transaction (see apply.c), one run at a time.
 * mxfence apply --plan PLAN [--expect-sha256 HEX] [--max-age AGE]: make exactly
 * the change of a saved plan, or nothing.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apply.h"
#include "cmd.h"
#include "gate.h"
#include "lock.h"
#include "nl.h"
#include "saved.h"
#include "plan.h"
#include "report.h"
#include "state.h"
#include "util.h"

enum { OPT_PLAN = 0x200, OPT_EXPECT, OPT_MAX_AGE };

/* The checks of a plan before the kernel is read: its digest, version, age and gates. */
static int plan_open(const char *path, const char *expect, int64_t max_age, struct plan *p,
		     char sha[SHA256_HEX])
{
	char err[PATH_MAX + 600];
	int64_t now = (int64_t)time(NULL), age;

	int rc = plan_read(path, p, sha, err, sizeof(err));
	if (expect && sha[0] && strcmp(expect, sha)) {
		fprintf(stderr, "mxfence apply: %s has sha256:%s, not the expected sha256:%s; "
				"nothing was changed\n", path, sha, expect);
		if (rc == 0)
			plan_free(p);
		return EXIT_INPUT;
	}
	if (rc < 0) {
		fprintf(stderr, "mxfence apply: %s; nothing was changed\n", err);
		return EXIT_INPUT;
	}
	age = now - p->created;
	if (age < -300) {
		fprintf(stderr, "mxfence apply: refused: %s was made %lld seconds in the future (the "
				"clocks disagree); the kernel is untouched\n", path, (long long)-age);
		plan_free(p);
		return EXIT_REFUSED;
	}
	if (max_age >= 0 && age > max_age) {
		char when[32];
		report_time(p->created, when);
		fprintf(stderr, "mxfence apply: refused: %s was made %s, %lld seconds ago, more than "
				"--max-age %lld; make a new plan; the kernel is untouched\n",
			path, when, (long long)age, (long long)max_age);
		plan_free(p);
		return EXIT_REFUSED;
	}
	if (p->verdict == PLAN_GATES_REFUSED) {
		for (size_t i = 0; i < p->nsets; i++) {
			const struct plan_gate *g = &p->gates[i];
			struct removal_verdict v = {
				.service = p->services[p->sets[i].service].name, .fam = p->sets[i].fam,
				.had = g->had, .lost = g->lost, .max = g->max,
				.share = g->had ? (double)g->lost / (double)g->had * 100.0 : 0,
			};
			char why[256];
			if (!g->over)
				continue;
			removal_describe(&v, why, sizeof(why));
			fprintf(stderr, "mxfence apply: refused: when the plan was made, %s\n", why);
		}
		fprintf(stderr, "mxfence apply: refused: the removal gate refused %s when it was made; "
				"a plan made with --force is applied; the kernel is untouched\n", path);
		plan_free(p);
		return EXIT_REFUSED;
	}
	return EXIT_OK;
}

int cmd_apply(int argc, char **argv, struct globals *g)
{
	static const struct option opts[] = {
		COMMON_LONGOPTS,
		APPLY_LONGOPTS,
		{ "plan", required_argument, NULL, OPT_PLAN },
		{ "expect-sha256", required_argument, NULL, OPT_EXPECT },
		{ "max-age", required_argument, NULL, OPT_MAX_AGE },
		{ 0 },
	};
	struct apply_options ao = { .state_dir = g->state_dir, .lock = true,
				    .lock_timeout = DEFAULT_LOCK_TIMEOUT };
	struct apply_report rep;
	struct policy pol;
	struct set_list want = { 0 };
	struct pending_file saved = PENDING_FILE_INIT;
	char err[600];
	int lock = -1;
	struct plan plan;
	const char *plan_path = NULL;
	char expect[SHA256_HEX], sha[SHA256_HEX] = "";
	bool have_expect = false, conf_given = false;
	int64_t max_age = DEFAULT_PLAN_MAX_AGE;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		if (common_option(opt, g)) {
			conf_given |= opt == 'c';
			continue;
		}
		if ((rc = apply_option("apply", opt, &ao)) != 0) {
			if (rc < 0)
				return EXIT_INPUT;
			continue;
		}
		switch (opt) {
		case OPT_PLAN:
			plan_path = optarg;
			break;
		case OPT_EXPECT:
			if (sha256_parse(optarg, expect) < 0)
				return usage_error("apply", "--expect-sha256 takes 64 hex digits '%s'", optarg);
			have_expect = true;
			break;
		case OPT_MAX_AGE:
			if (parse_duration(optarg, &max_age) < 0)
				return usage_error("apply", "--max-age takes a duration such as 3600, 90m, "
							    "24h, 7d or none '%s'", optarg);
			break;
		case 'h':
			puts("usage: mxfence apply [-c CONF] [--dry-run] [--force] [--lock-timeout SEC]\n"
			     "       mxfence apply --plan PLAN [--expect-sha256 HEX] [--max-age AGE]\n"
			     "                     [--dry-run] [--lock-timeout SEC]\n"
			     "Make the kernel hold the compiled policy, or exactly a plan's change, in one\n"
			     "transaction.");
			return EXIT_OK;
		default:
			return usage_error("apply", "unknown option");
		}
	}
	ao.state_dir = g->state_dir;
	if (optind < argc)
		return usage_error("apply", "unexpected argument '%s'", argv[optind]);
	if (!plan_path && (have_expect || max_age != DEFAULT_PLAN_MAX_AGE))
		return usage_error("apply", "--expect-sha256 and --max-age go with --plan");
	if (plan_path && ao.force)
		return usage_error("apply", "--force belongs to plan time (mxfence plan --force), where "
					    "the review sees it; a plan is applied as it was made");
	if (plan_path && conf_given)
		return usage_error("apply", "--plan applies the plan alone: it reads no policy (-c)");

	if (plan_path) {
		rc = plan_open(plan_path, have_expect ? expect : NULL, max_age, &plan, sha);
		if (rc)
			return rc;
		plan_policy(&plan, &pol);
		ao.plan = &plan;
	} else {
		rc = policy_open_gated(g, &pol);
		if (rc)
			goto out;
	}
	/* No kernel access says so first, as apply_run() would, before the lock is tried. */
	struct nl *nl;
	if (nl_open(&nl, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxfence apply: %s\n", err);
		rc = EXIT_INPUT;
		goto out;
	}
	nl_close(nl);
	/* The lock covers the commit and the saved ruleset that goes with it. */
	lock = lock_take(g->state_dir, ao.lock_timeout, err, sizeof(err));
	if (lock < 0) {
		fprintf(stderr, "mxfence apply: %s; the kernel is untouched\n", err);
		rc = EXIT_INPUT;
		goto out;
	}
	ao.lock = false;
	/*
	 * The policy's saved ruleset is rendered now, its writeback hidden behind
	 * the commit; a plan's once its sets are known (after the commit).
	 */
	if (!plan_path && !ao.dry_run && saved_prepare(g->state_dir, &pol, &saved, err, sizeof(err)) < 0)
		fprintf(stderr, "mxfence apply: warning: the ruleset will not be saved (%s)\n", err);
	ao.audit = plan_path ? "apply --plan" : "apply";
	ao.plan_sha256 = plan_path ? sha : NULL;
	rc = apply_run(&ao, &pol, &want, &rep);
	print_apply_report(&pol, &want, &rep);
	if (rep.outcome == APPLY_CHANGED && plan_path)
		printf("apply: plan sha256:%s applied\n", sha);
	if (plan_path && rc == EXIT_OK && !ao.dry_run) {
		/* The plan's structure with the sets the kernel now holds: what a boot restores. */
		policy_sets_from_list(&pol, &want);
		if (saved_prepare(g->state_dir, &pol, &saved, err, sizeof(err)) < 0)
			fprintf(stderr, "mxfence apply: warning: the ruleset will not be saved (%s)\n",
				err);
	}
	if (!ao.dry_run)
		saved_end(&saved, rc == EXIT_OK, rep.outcome == APPLY_CHANGED, "apply");
	if (lock >= 0)
		lock_release(lock);
	apply_report_free(&rep);
	set_list_free(&want);
out:
	policy_free(&pol);
	if (plan_path)
		plan_free(&plan);
	return rc;
}
