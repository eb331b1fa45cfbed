/* Applying a compiled policy to the kernel: shared by apply and refresh. */
#ifndef MXFENCE_APPLY_H
#define MXFENCE_APPLY_H

#include <stdbool.h>
#include <stdint.h>

#include "diffview.h"
#include "live.h"
#include "plan.h"
#include "policy.h"

struct apply_options {
	const char *state_dir;
	bool dry_run; /* send the batch without its commit; print the diff */
	bool force;   /* past the removal gate */
	bool lock;    /* take the state folder's lock (refresh holds it already) */
	unsigned lock_timeout;
	/*
	 * Apply exactly this plan's change instead of the policy's: pol is
	 * plan_policy() of it. A kernel that no longer holds what the plan was
	 * computed against refuses it (stale).
	 */
	const struct plan *plan;
	const char *plan_sha256; /* its digest, for the audit trail */
	/*
	 * A commit appends a line to the audit trail (<state_dir>/audit.log)
	 * naming this command ("apply", "apply --plan", "refresh"); NULL: none.
	 * The trail is opened before the kernel is read: one that cannot be
	 * written stops the change.
	 */
	const char *audit;
};

struct apply_report {
	uint32_t genid;    /* the generation the kernel holds afterwards */
	uint32_t genid_before; /* the generation the last attempt read */
	bool changed;      /* a batch was committed */
	struct diff_totals *services; /* per service (pol->services order), against the live state */
	size_t nservices;
};

/*
 * Make the kernel hold the compiled policy. Fills `want` with the policy's
 * sets (set_list_free() it); unless a dry run, the services' own interval sets
 * are freed on the way. Prints what it did. Returns EXIT_OK, EXIT_REFUSED
 * (the removal gate) or EXIT_INPUT (a kernel error: nothing changed).
 */
int apply_run(const struct apply_options *o, struct policy *pol, struct set_list *want,
	      struct apply_report *rep);
void apply_report_free(struct apply_report *rep);

#endif
