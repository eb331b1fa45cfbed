/* Applying a compiled policy to the kernel: shared by apply and refresh. */
#ifndef MXFENCE_APPLY_H
#define MXFENCE_APPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "diffview.h"
#include "plan.h"
#include "policy.h"
#include "sets.h"

/* The ruleset moving under us this often means something else is busy with it. */
#define APPLY_ATTEMPTS 5

struct apply_options {
	const char *state_dir;
	bool dry_run; /* send the batch without its commit; report the diff */
	bool force;   /* past the removal gate */
	bool lock;    /* take the state folder's lock (refresh holds it already) */
	unsigned lock_timeout;
	/*
	 * Apply exactly this plan's change instead of the policy's: pol is
	 * plan_policy() of it. A kernel that no longer holds what the plan was
	 * computed against refuses it (APPLY_STALE).
	 */
	const struct plan *plan;
	const char *plan_sha256; /* its digest, for the audit trail */
	/*
	 * A commit appends a line to the audit trail (<state_dir>/audit.log)
	 * naming this command ("apply", "apply --plan", "refresh"); NULL: none.
	 * The trail is opened once the lock is held, before the kernel is read:
	 * one that cannot be written stops the change.
	 */
	const char *audit;
};

enum apply_outcome {
	APPLY_CHANGED, /* a batch was committed */
	APPLY_NOTHING, /* the kernel holds the policy already */
	APPLY_CHECKED, /* dry run: the kernel accepted the batch and discarded it */
	APPLY_REFUSED, /* the removal gate: see refusals; the kernel is untouched */
	APPLY_STALE,   /* a plan's kernel state is gone: see stale; the kernel is untouched */
	APPLY_FAILED,  /* see stage and err; nothing was changed */
};

/* Where an APPLY_FAILED run stopped. */
enum apply_stage {
	APPLY_AT_OPEN,    /* netlink could not be opened (err) */
	APPLY_AT_LOCK,    /* the state folder's lock (err) */
	APPLY_AT_AUDIT,   /* the audit trail cannot be opened (err) */
	APPLY_AT_READ,    /* reading the kernel (err) */
	APPLY_AT_SEND,    /* the kernel refused the batch (err) */
	APPLY_AT_RETRIES, /* the ruleset kept changing, APPLY_ATTEMPTS times */
};

/* A service that would lose more than its max-removal of a family's addresses. */
struct apply_refusal {
	const struct service *svc;
	enum family fam;
	double share; /* percent of `had` */
	u128 lost, had;
};

/* What happened on the way, in order, over every attempt. */
enum apply_note_kind {
	APPLY_NOTE_RESTART, /* the ruleset changed while it was read: read again (attempt) */
	APPLY_NOTE_UNKNOWN, /* the kernel's replies were lost (text): read again to settle it */
	APPLY_NOTE_HOOK,    /* the test hook (text) failed */
};

struct apply_note {
	enum apply_note_kind kind;
	int attempt;
	char text[600];
};

/* Dry run: the kernel's sets a batch was built against, for the diff. */
struct apply_diff {
	struct set_list live;
	char structure[512]; /* the structural difference that replaces the table, or "" */
};

/* A set whose elements change, in intervals. */
struct apply_set_delta {
	char name[NAME_MAX_LEN + 8];
	size_t added, removed;
};

struct apply_report {
	enum apply_outcome outcome;
	enum apply_stage stage; /* APPLY_FAILED */
	char err[600];          /* APPLY_FAILED, but at APPLY_AT_RETRIES */
	uint32_t genid;         /* the generation the kernel holds afterwards */
	uint32_t genid_before;  /* the generation the last attempt read */
	char stale[512];        /* APPLY_STALE: why the plan no longer fits the kernel */
	char audit_err[512];    /* APPLY_CHANGED: the audit line could not be appended, why */

	/* APPLY_CHANGED, APPLY_CHECKED: the batch. */
	bool replaced;       /* the table is made whole... */
	bool first_install;  /* ...because it was absent, */
	char why[512];       /* or because its structure differs so */
	struct apply_set_delta *deltas; /* otherwise the sets whose elements change */
	size_t ndeltas;
	size_t messages, elements;

	struct apply_refusal *refusals; /* APPLY_REFUSED */
	size_t nrefusals;

	struct apply_note *notes;
	size_t nnotes;
	char state_err[512]; /* APPLY_CHANGED, APPLY_NOTHING: the state file was not saved, why */

	struct diff_totals *services; /* per service (pol->services order), against the live state */
	size_t nservices;

	/* Dry run: one diff per attempt that built a batch (a retry shows the view again). */
	struct apply_diff *diffs;
	size_t ndiffs;
};

/*
 * Make the kernel hold the compiled policy. Fills `want` with the policy's
 * sets (set_list_free() it); unless a dry run, the services' own interval sets
 * are freed on the way. Prints nothing: what it did, or why not, is in rep
 * (apply_report_free() it). Returns EXIT_OK, EXIT_REFUSED (the removal gate,
 * a stale plan) or EXIT_INPUT (nothing changed). With o->plan, `want` is made
 * from the plan and the kernel.
 */
int apply_run(const struct apply_options *o, struct policy *pol, struct set_list *want,
	      struct apply_report *rep);
void apply_report_free(struct apply_report *rep);

#endif
