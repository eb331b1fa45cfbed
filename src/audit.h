/*
 * The audit trail: one JSON line per commit in <state-dir>/audit.log, and the
 * same line to syslog (facility authpriv, priority notice: beside sudo's own
 * record of the same person, in the log security teams already watch; the
 * journal keeps it too).
 */
#ifndef MXFENCE_AUDIT_H
#define MXFENCE_AUDIT_H

#include <stddef.h>
#include <stdint.h>

#include "diffview.h"

#define AUDIT_FILE "audit.log"
#define AUDIT_LINE_MAX (256u << 10) /* a longer line is not one of ours */

struct audit_service {
	const char *name;
	struct diff_totals t; /* prefixes, IPv4 addresses and IPv6 /64s added and removed */
};

struct audit_entry {
	int64_t time;            /* seconds since the epoch */
	const char *command;     /* "apply", "apply --plan", "refresh" */
	const char *plan_sha256; /* 64 hex digits, or NULL */
	const char *table;
	uint64_t netns;
	uint32_t gen_before, gen_after;
	const struct audit_service *services;
	size_t nservices;
};

/*
 * Open <state-dir>/audit.log for appending, made mode 0600 if missing. Done
 * before a commit, so that a trail that cannot be written stops the change.
 * Returns the descriptor, or -1 with err filled.
 */
int audit_open(const char *state_dir, char *err, size_t errlen);
/*
 * The entry as one JSON line, in one write(2), synced; then to syslog. The
 * user is SUDO_USER when sudo set it, else the name of the real uid; the uid
 * is recorded too. Returns 0, or -1 with err filled (syslog never fails).
 */
int audit_append(int fd, const struct audit_entry *e, char *err, size_t errlen);
void audit_close(int fd);
/* The line audit_append() writes, without its newline; malloc'ed. */
char *audit_line(const struct audit_entry *e);

/*
 * The last `want` lines of <state-dir>/audit.log, oldest first: malloc'ed
 * strings in *lines. Returns how many (0 with no log), or -1 with err filled.
 */
long audit_tail(const char *state_dir, size_t want, char ***lines, char *err, size_t errlen);
/*
 * One line of the log for people: "2026-12-07 22:40:00 UTC alice (uid 0):
 * apply --plan sha256:1f2e3d4c...: generation 12 -> 13; smtp +3/-1 prefixes
 * (IPv4 +768/-256, IPv6 /64s +0/-0)". 0, or -1 when it is not an audit line.
 */
int audit_describe(const char *line, char *buf, size_t n);

#endif
