/*
 * mxfence fetch [-c CONF] [--force] [SOURCE...]: bring the fetched sources'
 * copies in the cache up to date. Needs no privileges beyond writing the
 * cache (and the state folder, for Microsoft 365's client request id).
 */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "diag.h"
#include "fetch.h"
#include "lock.h"
#include "util.h"

int cmd_fetch(int argc, char **argv, struct globals *g)
{
	static const struct option opts[] = {
		COMMON_LONGOPTS,
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT },
		{ 0 },
	};
	unsigned lock_timeout = DEFAULT_LOCK_TIMEOUT;
	struct fetch_summary sum;
	struct policy pol;
	struct diag d = { 0 };
	bool force = false;
	char err[600];
	int opt, rc, lock;

	while ((opt = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		if (common_option(opt, g))
			continue;
		switch (opt) {
		case OPT_FORCE:
			force = true;
			break;
		case OPT_LOCK_TIMEOUT:
			if (parse_seconds(optarg, &lock_timeout) < 0)
				return usage_error("fetch", "--lock-timeout takes seconds '%s'", optarg);
			break;
		case 'h':
			puts("usage: mxfence fetch [-c CONF] [--force] [--lock-timeout SEC] [SOURCE...]\n"
			     "Download the fetched sources (url =, or format spf) into the cache,\n"
			     "validate them, and keep the last good copy of any that fails.");
			return EXIT_OK;
		default:
			return usage_error("fetch", "unknown option");
		}
	}
	rc = policy_load(&pol, g->conf, g->cache_dir, &d) < 0 ? EXIT_INPUT : EXIT_OK;
	for (int i = optind; i < argc && !rc; i++) {
		struct source *src = policy_source(&pol, argv[i]);
		if (!src)
			rc = usage_error("fetch", "no source named '%s' in %s", argv[i], g->conf);
		else if (!src->remote)
			rc = usage_error("fetch", "source '%s' is read from its file, not fetched",
					 argv[i]);
	}
	diag_print(&d, stderr);
	diag_free(&d);
	if (rc) {
		policy_free(&pol);
		return rc;
	}
	lock = lock_take(g->cache_dir, lock_timeout, err, sizeof(err));
	if (lock < 0) {
		fprintf(stderr, "mxfence fetch: %s\n", err);
		policy_free(&pol);
		return EXIT_INPUT;
	}
	rc = fetch_and_report(g, &pol, force, argv + optind, (size_t)(argc - optind), &sum);
	lock_release(lock);
	policy_free(&pol);
	return rc;
}
