/*
 * The outcome of the last `refresh`, <state-dir>/refresh.json, for `monitor`
 * and the Prometheus metrics: when it ended, its exit code, and when the
 * last run that exited 0 ended. Written atomically at the end of every run.
 */
#ifndef MXFENCE_RUNRECORD_H
#define MXFENCE_RUNRECORD_H

#include <stddef.h>
#include <stdint.h>

struct run_record {
	int64_t ended;        /* Unix time */
	int exit_code;
	int64_t last_success; /* Unix time; 0: none recorded */
};

/* "<dir>/refresh.json" */
char *run_record_path(const char *dir);
/* Record a run that ended now with this exit code. 0, or -1 with err. */
int run_record_write(const char *dir, int64_t ended, int exit_code, char *err, size_t errlen);
/* 0; 1 when no run was recorded; -1 with err (naming the file). */
int run_record_read(const char *dir, struct run_record *r, char *err, size_t errlen);

#endif
