/*
 * mxfence apply [-c CONF] [--dry-run] [--force]: make the kernel hold the
 * compiled policy in one netlink transaction (see apply.c), one run at a time.
 */
#include <stdio.h>

#include "apply.h"
#include "cmd.h"
#include "lock.h"
#include "nl.h"
#include "saved.h"

int cmd_apply(int argc, char **argv, struct globals *g)
{
	static const struct option opts[] = {
		COMMON_LONGOPTS,
		APPLY_LONGOPTS,
		{ 0 },
	};
	struct apply_options ao = { .state_dir = g->state_dir, .lock = true,
				    .lock_timeout = DEFAULT_LOCK_TIMEOUT };
	struct apply_report rep;
	struct policy pol;
	struct set_list want = { 0 };
	struct saved_pending saved = { .fd = -1 };
	char err[600];
	int opt, rc, lock;

	while ((opt = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		if (common_option(opt, g))
			continue;
		if ((rc = apply_option("apply", opt, &ao)) != 0) {
			if (rc < 0)
				return EXIT_INPUT;
			continue;
		}
		switch (opt) {
		case 'h':
			puts("usage: mxfence apply [-c CONF] [--dry-run] [--force] [--lock-timeout SEC]\n"
			     "Make the kernel hold the compiled policy, in one transaction.");
			return EXIT_OK;
		default:
			return usage_error("apply", "unknown option");
		}
	}
	if (optind < argc)
		return usage_error("apply", "unexpected argument '%s'", argv[optind]);

	rc = policy_open_gated(g, &pol);
	if (rc)
		goto out;
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
	if (!ao.dry_run && saved_prepare(g->state_dir, &pol, &saved, err, sizeof(err)) < 0)
		fprintf(stderr, "mxfence apply: warning: the ruleset will not be saved (%s)\n", err);
	rc = apply_run(&ao, &pol, &want, &rep);
	print_apply_report(&pol, &want, &rep);
	if (!ao.dry_run)
		saved_end(&saved, rc == EXIT_OK, rep.outcome == APPLY_CHANGED, "apply");
	lock_release(lock);
	apply_report_free(&rep);
	set_list_free(&want);
out:
	policy_free(&pol);
	return rc;
}
