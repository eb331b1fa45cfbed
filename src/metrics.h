/*
 * The monitor's report as Prometheus metrics, in the text format that
 * node_exporter's textfile collector reads: `mxfence_` names in base units,
 * `# HELP` and `# TYPE` for each. Written atomically (a file beside it, then
 * a rename), so that the collector never reads half of one.
 */
#ifndef MXFENCE_METRICS_H
#define MXFENCE_METRICS_H

#include <stddef.h>
#include <stdio.h>

#include "monitor.h"

void metrics_format(FILE *f, const struct monitor_report *r);
/* 0, or -1 with err filled. */
int metrics_write(const char *path, const struct monitor_report *r, char *err, size_t errlen);

#endif
