/*
 * mxfence monitor [-c CONF] [--prometheus FILE] [--max-age DURATION]: a
 * Nagios/Icinga plugin. One line "MXFENCE STATUS - text | perfdata", exit 0
 * OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN; optionally the same as Prometheus
 * metrics for node_exporter's textfile collector. See monitor.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd.h"
#include "metrics.h"
#include "monitor.h"

enum { OPT_MAX_AGE = 0x140, OPT_NO_RESTAMP };

/* "3600", "90m", "48h", "2d": seconds, from 1 s to 365 days. */
static int parse_age(const char *s, int64_t *out)
{
	char *end;
	unsigned long long v;
	int64_t unit = 1;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (*end == 's')
		end++;
	else if (*end == 'm')
		unit = 60, end++;
	else if (*end == 'h')
		unit = 3600, end++;
	else if (*end == 'd')
		unit = 86400, end++;
	if (*end || v == 0 || v > 365ull * 86400 / (unsigned long long)unit)
		return -1;
	*out = (int64_t)v * unit;
	return 0;
}

int cmd_monitor(int argc, char **argv, struct globals *g)
{
	static const struct option opts[] = {
		COMMON_LONGOPTS,
		{ "prometheus", required_argument, NULL, OPT_PROMETHEUS },
		{ "max-age", required_argument, NULL, OPT_MAX_AGE },
		{ "no-restamp", no_argument, NULL, OPT_NO_RESTAMP },
		{ 0 },
	};
	struct monitor_options mo = { .max_age = MONITOR_DEFAULT_MAX_AGE, .restamp = true };
	struct monitor_report r;
	const char *prom = NULL;
	char *line, err[600];
	int opt;

	while ((opt = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		if (common_option(opt, g))
			continue;
		switch (opt) {
		case OPT_PROMETHEUS:
			prom = optarg;
			break;
		case OPT_MAX_AGE:
			if (parse_age(optarg, &mo.max_age) < 0) {
				usage_error("monitor", "--max-age takes a duration (3600, 90m, 48h, 2d) '%s'",
					    optarg);
				return MON_UNKNOWN;
			}
			break;
		case OPT_NO_RESTAMP:
			mo.restamp = false;
			break;
		case 'h':
			puts("usage: mxfence monitor [-c CONF] [--prometheus FILE] [--max-age DURATION]\n"
			     "                       [--no-restamp]\n"
			     "A Nagios plugin: one line MXFENCE OK|WARNING|CRITICAL|UNKNOWN - text | perfdata;\n"
			     "exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. --prometheus also writes the\n"
			     "metrics for node_exporter's textfile collector. --max-age (default 48h): a\n"
			     "fetched copy or the last refresh older than this is a WARNING.");
			return MON_OK;
		default:
			usage_error("monitor", "unknown option");
			return MON_UNKNOWN;
		}
	}
	if (optind < argc) {
		usage_error("monitor", "unexpected argument '%s'", argv[optind]);
		return MON_UNKNOWN;
	}
	mo.conf = g->conf;
	mo.state_dir = g->state_dir;
	mo.cache_dir = g->cache_dir;
	monitor_check(&mo, &r);
	monitor_format_nagios(&r, &line);
	fputs(line, stdout);
	free(line);
	int rc = (int)r.status;
	if (prom && metrics_write(prom, &r, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxfence monitor: %s\n", err);
		if (rc == MON_OK)
			rc = MON_UNKNOWN;
	}
	monitor_report_free(&r);
	return rc;
}
