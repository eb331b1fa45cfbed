/*
 * mxfence apply [-c CONF] [--dry-run] [--force]: make the kernel hold the
 * compiled policy in one netlink transaction (see apply.c), one run at a time.
 */
#include <stdio.h>

#include "apply.h"
#include "cmd.h"
#include "lock.h"

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
	int opt, rc;

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
	rc = apply_run(&ao, &pol, &want, &rep);
	print_apply_report(&pol, &want, &rep);
	apply_report_free(&rep);
	set_list_free(&want);
out:
	policy_free(&pol);
	return rc;
}
