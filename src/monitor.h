/*
 * The monitor's verdict on the policy's table, computed without printing:
 * what `mxfence monitor` says in the Nagios plugin format and writes as
 * Prometheus metrics (metrics.c), and what `refresh --prometheus` writes.
 */
#ifndef MXFENCE_MONITOR_H
#define MXFENCE_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "policy.h"

/* Nagios plugin return codes, in this order of severity but for UNKNOWN. */
enum monitor_status { MON_OK = 0, MON_WARNING = 1, MON_CRITICAL = 2, MON_UNKNOWN = 3 };

#define MONITOR_DEFAULT_MAX_AGE (48 * 3600) /* seconds */

struct monitor_options {
	const char *conf, *state_dir, *cache_dir;
	int64_t max_age; /* a fetched copy or the last refresh older than this: WARNING */
	int64_t now;     /* Unix time; 0: the clock's */
	bool restamp;    /* after a full read that agrees with the state, record its generation */
};

struct monitor_problem {
	enum monitor_status status;
	char *text;
};

struct monitor_set {
	char name[NAME_MAX_LEN + 8];
	enum family fam;
	bool known;       /* the table holds it */
	size_t intervals; /* merged */
	u128 addresses;
};

struct monitor_service {
	char *name;
	bool counted; /* its rules were found */
	uint64_t accepted_packets, accepted_bytes, refused_packets, refused_bytes;
};

struct monitor_source {
	char *name;
	bool has_copy;
	uint64_t prefixes;
	int64_t fetched; /* its copy's download (the last change) */
	int64_t checked; /* the last time a fetch found it current (the last success) */
};

struct monitor_report {
	enum monitor_status status; /* the worst of the problems; OK when none */
	struct monitor_problem *problems;
	size_t nproblems;
	char *ok_text; /* what an OK line says */

	bool policy_read, kernel_read;
	char *table;
	bool table_present, structure_ok;
	uint32_t genid;
	bool fast;      /* the sets came from the state file: no element dump */
	bool restamped; /* the state file now carries the current generation */
	double read_seconds;

	bool have_state;
	int64_t applied_at;
	uint32_t applied_genid;

	int saved; /* -1 not checked, 0 missing, 1 the same as the kernel, 2 differs */
	int dnat_open; /* service ports DNAT'd past every `to` (natcheck.h); -1 not checked */

	struct monitor_set *sets;
	size_t nsets;
	struct monitor_service *services;
	size_t nservices;
	struct monitor_source *sources;
	size_t nsources;

	bool have_refresh;
	int64_t refresh_ended, refresh_last_success;
	int refresh_exit_code;

	int64_t now, max_age;
};

/* Fills r; never prints. The verdict is r->status. */
void monitor_check(const struct monitor_options *o, struct monitor_report *r);
void monitor_report_free(struct monitor_report *r);

/* "MXFENCE OK - ... | perfdata" (one line, with its newline) into buf. */
void monitor_format_nagios(const struct monitor_report *r, char **out);

#endif
