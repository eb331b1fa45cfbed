/*
 * Saved plans: the exact change that `mxfence plan` computed, what it was
 * computed against, and the gates' verdicts, so that `apply --plan` applies
 * exactly what a reviewer approved, or nothing.
 *
 * The file is text, one record a line, in a fixed order (see plan.c and
 * mxfence(8)); it ends with "end sha256 HEX", the digest of every byte before
 * that line. The reader is strict: every field is checked, and a plan it
 * accepts encodes back to the same bytes. The digest a reviewer approves is
 * the sha256 of the whole file.
 */
#ifndef MXFENCE_PLAN_H
#define MXFENCE_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "addr.h"
#include "diffview.h"
#include "model.h"
#include "policy.h"

#define PLAN_VERSION 2
#define PLAN_VERSION_TEXT "2"
#define PLAN_MAX_BYTES ((size_t)1 << 30)
#define PLAN_MAX_SERVICES 1024
#define PLAN_MAX_SOURCES 4096
#define PLAN_MAX_PORTS 1024
/*
 * A service line holds its `to` as prefixes, never more of them than the
 * policy (at most POLICY_MAX_BYTES) wrote, each at most 6 times as long.
 */
#define PLAN_MAX_LINE ((size_t)8 << 20)
#define SHA256_HEX 65 /* 64 hex digits and a NUL */

enum plan_change {
	PLAN_DELTA,   /* element deletes and adds, set by set */
	PLAN_REPLACE, /* the table deleted (if present) and made again, whole */
};

/* The gates' verdict of the whole plan. */
enum plan_gates {
	PLAN_GATES_OK,      /* no gate refused */
	PLAN_GATES_REFUSED, /* the removal gate refused: apply --plan refuses it */
	PLAN_GATES_FORCED,  /* the removal gate refused, and the plan was made with --force */
};

struct plan_service {
	char *name;
	struct portrange *ports;
	size_t nports;
	enum verdict otherwise;
	struct range_vec to[FAM_COUNT]; /* the destinations of `to`, as the policy's */
	struct diff_totals totals; /* what the change gives and takes (changed unused) */
};

struct plan_source {
	char *name;
	char *format;
	char sha256[SHA256_HEX]; /* of the file the build read */
	char *version;           /* the feed's own version, or NULL */
};

/* The removal gate of one set (plan->sets order). */
struct plan_gate {
	bool over; /* lost more than max percent of had */
	u128 lost, had;
	double max; /* percent */
};

struct plan_set {
	char name[NAME_MAX_LEN + 8]; /* <service>_v4, <service>_v6 */
	size_t service;              /* index into plan->services */
	enum family fam;
	/* PLAN_DELTA: exactly the kernel's intervals to delete, and those to add. */
	struct range_vec del, add;
	/* PLAN_REPLACE: everything the set holds. */
	struct range_vec full;
	/* Per interval of add (delta) or full (replace): a bit per plan source (the first 64). */
	uint64_t *bits;
};

struct plan {
	int64_t created; /* seconds since the epoch, UTC */
	char *table;
	int priority;
	struct plan_service *services;
	size_t nservices;

	/* What it was computed against. */
	uint64_t netns;        /* inode of the network namespace (see netns_inode()) */
	uint32_t genid;        /* the ruleset's generation id */
	bool table_present;
	char against[SHA256_HEX]; /* plan_live_digest() of the table then */

	char *policy_path;
	char policy_sha256[SHA256_HEX];
	struct plan_source *sources;
	size_t nsources;

	struct plan_gate *gates; /* nsets of them */
	enum plan_gates verdict;

	enum plan_change change;
	char *why; /* PLAN_REPLACE: why the table is made whole ("first install", ...) */
	struct plan_set *sets; /* two per service: v4, v6 */
	size_t nsets;
};

/* The plan's text; *out is malloc'ed. Its last line carries the digest of the rest. */
void plan_encode(const struct plan *p, char **out, size_t *len);
/*
 * Parse and check a plan's bytes. Returns 0, or -1 with err filled ("line N:
 * what 'token'"); p is then empty and needs no plan_free().
 */
int plan_decode(const char *buf, size_t len, struct plan *p, char *err, size_t errlen);
/*
 * Read and decode PATH; file_sha256 gets the digest of its bytes (the one a
 * reviewer approves) even when decoding fails. Returns 0, or -1 with err
 * filled ("PATH: ..." or "PATH:N: ...").
 */
int plan_read(const char *path, struct plan *p, char file_sha256[SHA256_HEX], char *err,
	      size_t errlen);
/*
 * Write the plan to PATH atomically (and durably), with this mode; file_sha256
 * gets the digest of the bytes written. Returns 0, or -1 with err filled.
 */
int plan_write(const char *path, const struct plan *p, mode_t mode,
	       char file_sha256[SHA256_HEX], char *err, size_t errlen);
void plan_free(struct plan *p);

/* Does applying it change anything? */
bool plan_changes(const struct plan *p);
/* "delta", "replace", "none" */
const char *plan_change_name(const struct plan *p);

/*
 * The policy's skeleton the plan describes: table, priority, services with
 * their ports and verdicts, and its sources' names; no inputs. Enough to name
 * the sets, compare the kernel's structure and make the table. policy_free() it.
 */
void plan_policy(const struct plan *p, struct policy *out);

/* sha256 of bytes, as 64 lowercase hex digits. */
void sha256_hex(const void *buf, size_t len, char out[SHA256_HEX]);
/* "sha256:<64 hex>" or a bare digest to 64 lowercase hex digits: 0, or -1. */
int sha256_parse(const char *s, char out[SHA256_HEX]);

#endif
