/* What the commands share: options, usage errors, opening the policy. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "apply.h"
#include "cmd.h"
#include "diag.h"
#include "saved.h"
#include "util.h"

bool common_option(int opt, struct globals *g)
{
	switch (opt) {
	case 'c':
		g->conf = optarg;
		return true;
	case OPT_STATE_DIR:
		g->state_dir = optarg;
		return true;
	case OPT_CACHE_DIR:
		g->cache_dir = optarg;
		return true;
	}
	return false;
}

int parse_seconds(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > 86400)
		return -1;
	*out = (unsigned)v;
	return 0;
}

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

int parse_duration(const char *s, int64_t *out)
{
	char *end;
	unsigned long long v;
	int64_t unit = 1;

	if (streq(s, "none")) {
		*out = -1;
		return 0;
	}
	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || v == 0 || v > 100000000ull)
		return -1;
	if (*end && end[1])
		return -1;
	switch (*end) {
	case '\0':
	case 's':
		break;
	case 'm':
		unit = 60;
		break;
	case 'h':
		unit = 3600;
		break;
	case 'd':
		unit = 86400;
		break;
	default:
		return -1;
	}
	*out = (int64_t)v * unit;
	return 0;
}

int apply_option(const char *cmd, int opt, struct apply_options *ao)
{
	switch (opt) {
	case OPT_DRY_RUN:
		ao->dry_run = true;
		return 1;
	case OPT_FORCE:
		ao->force = true;
		return 1;
	case OPT_LOCK_TIMEOUT:
		if (parse_seconds(optarg, &ao->lock_timeout) < 0) {
			usage_error(cmd, "--lock-timeout takes seconds '%s'", optarg);
			return -1;
		}
		return 1;
	}
	return 0;
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mxfence %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'mxfence %s --help'.\n", cmd);
	return EXIT_INPUT;
}

int policy_open(const struct globals *g, struct policy *pol)
{
	struct diag d = { 0 };
	int rc = EXIT_OK;

	if (policy_load(pol, g->conf, g->cache_dir, &d) < 0 || policy_compile(pol, &d) < 0 ||
	    policy_empty_services(pol, &d) < 0)
		rc = EXIT_INPUT;
	diag_print(&d, stderr);
	if (rc)
		fprintf(stderr, "mxfence: %zu error%s in %s and its sources; nothing written\n",
			d.errors, d.errors == 1 ? "" : "s", g->conf);
	diag_free(&d);
	return rc;
}

int policy_open_gated(const struct globals *g, struct policy *pol)
{
	struct diag d = { 0 };
	const char *why = NULL;
	int rc = EXIT_OK;

	if (policy_load(pol, g->conf, g->cache_dir, &d) < 0)
		rc = EXIT_INPUT;
	else if (policy_compile(pol, &d) < 0)
		why = "a source failed to load";
	else if (policy_empty_services(pol, &d) < 0)
		why = "a service would be left with no allowed source";
	diag_print(&d, stderr);
	if (rc == EXIT_INPUT)
		fprintf(stderr, "mxfence: %zu error%s in %s; the kernel is untouched\n", d.errors,
			d.errors == 1 ? "" : "s", g->conf);
	if (why) {
		fprintf(stderr, "mxfence: refused: %s; the kernel is untouched\n", why);
		rc = EXIT_REFUSED;
	}
	diag_free(&d);
	return rc;
}

void saved_end(struct pending_file *p, bool ok, bool changed, const char *cmd)
{
	char err[600];

	if (!p->tmp)
		return;
	if (!ok) {
		pending_discard(p);
		return;
	}
	if (saved_finish(p, !changed, err, sizeof(err)) < 0)
		fprintf(stderr, "mxfence %s: warning: the ruleset was not saved (%s); a reboot or an "
				"nftables reload would not bring it back\n", cmd, err);
}
