/* One file per command; main.c only dispatches. */
#ifndef MXFENCE_CMD_H
#define MXFENCE_CMD_H

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "exitcode.h"
#include "policy.h"

#define DEFAULT_STATE_DIR "/var/lib/mxfence"

struct globals {
	const char *conf;
	const char *state_dir;
	const char *cache_dir;
};

/* Options every command takes; commands append their own. */
enum { OPT_STATE_DIR = 0x100, OPT_CACHE_DIR, OPT_JSON, OPT_HELP };
#define COMMON_LONGOPTS                                                   \
	{ "config", required_argument, NULL, 'c' },                       \
	{ "state-dir", required_argument, NULL, OPT_STATE_DIR },          \
	{ "cache-dir", required_argument, NULL, OPT_CACHE_DIR },          \
	{ "help", no_argument, NULL, 'h' }

/* What apply and refresh both take. */
enum { OPT_DRY_RUN = 0x110, OPT_FORCE, OPT_LOCK_TIMEOUT, OPT_PROMETHEUS };
#define APPLY_LONGOPTS                                                    \
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },                    \
	{ "force", no_argument, NULL, OPT_FORCE },                        \
	{ "lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT }

struct apply_options;
/* An APPLY_LONGOPTS option into ao: 1 taken, 0 not one of them, -1 a bad value (reported). */
int apply_option(const char *cmd, int opt, struct apply_options *ao);

/* Handles a common option; false if `opt` is not one. */
bool common_option(int opt, struct globals *g);
int usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Load, lint and compile the policy; reports diagnostics; 0 or EXIT_INPUT. */
int policy_open(const struct globals *g, struct policy *pol);
/* The same for commands that change the kernel: a policy error is EXIT_INPUT,
 * a source that failed or a service left empty EXIT_REFUSED (a safety gate). */
int policy_open_gated(const struct globals *g, struct policy *pol);

struct pending_file;
/*
 * After apply_run(): ok, put the saved ruleset prepared for it in place (or
 * leave the one there when nothing changed and it is the same); else drop it.
 * A failure is a warning on stderr. Harmless when nothing was prepared.
 */
void saved_end(struct pending_file *p, bool ok, bool changed, const char *cmd);

int cmd_build(int argc, char **argv, struct globals *g);
int cmd_check(int argc, char **argv, struct globals *g);
int cmd_verify(int argc, char **argv, struct globals *g);
int cmd_explain(int argc, char **argv, struct globals *g);
int cmd_apply(int argc, char **argv, struct globals *g);
int cmd_diff(int argc, char **argv, struct globals *g);
int cmd_status(int argc, char **argv, struct globals *g);
int cmd_fetch(int argc, char **argv, struct globals *g);
int cmd_refresh(int argc, char **argv, struct globals *g);
int cmd_restore(int argc, char **argv, struct globals *g);
int cmd_monitor(int argc, char **argv, struct globals *g);
int cmd_plan(int argc, char **argv, struct globals *g);

/* An octal file mode, 0 to 0777. */
int parse_mode(const char *s, mode_t *out);

/* A whole number of seconds, 0 to 86400. */
int parse_seconds(const char *s, unsigned *out);
/* "90", "90s", "15m", "24h", "7d" to seconds (at least 1); "none" to -1. 0, or -1. */
int parse_duration(const char *s, int64_t *out);
#define DEFAULT_PLAN_MAX_AGE (24 * 3600)

/* cmd_report.c: what several commands print alike, from the library's results. */
struct apply_report;
struct set_list;
/* What an apply did, or why not, as apply and refresh print it (stdout and stderr). */
void print_apply_report(const struct policy *pol, const struct set_list *want,
			const struct apply_report *rep);

struct plan_run;
/*
 * The review report of a plan written (format: enum report_format) on out,
 * and on stderr what the gates said and, for a report other than text, the
 * plan's digest. cmd names the command in messages.
 */
void print_plan_report(FILE *out, int format, const char *cmd, const char *path, bool force,
		       const struct plan_run *r);

struct comparison;
/*
 * Every range where the kernel and the wanted sets disagree, one line each
 * on out (a set that agrees: its size, "as compiled"), then "OK" or
 * "MISMATCH: N differences". Returns the number of differences.
 */
size_t print_comparison(FILE *out, const struct policy *pol, const struct comparison *c);

struct fetch_summary;
/*
 * Fetch (all used fetched sources, or those named), printing each source's
 * outcome as it is done; EXIT_OK, EXIT_STALE or EXIT_INPUT.
 */
int fetch_and_report(const struct globals *g, struct policy *pol, bool force, char **names,
		     size_t nnames, struct fetch_summary *sum);

#endif
