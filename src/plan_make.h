/*
 * Making a plan from a compiled policy and what the kernel holds, and the
 * digest that ties a plan to the kernel state it was computed against.
 */
#ifndef MXFENCE_PLAN_MAKE_H
#define MXFENCE_PLAN_MAKE_H

#include <stdbool.h>
#include <sys/types.h>

#include "diffview.h"
#include "gate.h"
#include "live.h"
#include "plan.h"

/*
 * sha256 of what the kernel holds of the policy's table: "absent", or the
 * table's flags, its named sets' types and flags, its chains, its rules (as
 * fingerprints: counters and handles left out) and the intervals of the
 * policy's sets. The same whether the sets came from the state file or a
 * full dump; any element or structure change changes it.
 */
void plan_live_digest(const struct kernel_view *live, char out[SHA256_HEX]);

struct plan_inputs {
	const struct policy *pol;      /* compiled */
	const struct kernel_view *live;
	const struct set_list *want;   /* wanted_sets_from_policy() */
	const struct diff_view *dv;    /* live against want */
	const struct removal_verdict *gates; /* one per set of want */
	bool force;                    /* --force: the removal gate's refusal is overridden */
	int64_t created;
};

/*
 * The plan of applying want over live: a delta when the table is there with
 * the policy's structure, else the whole table. Returns 0, or -1 with err
 * filled (a policy or source file that cannot be read for its digest).
 */
int plan_make(const struct plan_inputs *in, struct plan *out, char *err, size_t errlen);

struct plan_options {
	const char *state_dir;
	const char *path; /* the plan file to write */
	mode_t mode;
	bool force;       /* the removal gate's refusal is overridden (the plan says forced) */
	bool full_dump;   /* read the kernel in full, not through the state file */
};

/* What plan_run() found and wrote: the review report is made from it. */
struct plan_run {
	struct set_list want;
	struct kernel_view live;
	struct diff_view dv;
	struct removal_verdict *gates; /* one per set of want */
	size_t ngates;
	struct plan plan;
	char against[128]; /* the old side, for people */
	char sha256[SHA256_HEX]; /* of the file written */
	bool have_live, have_view, have_plan;
};

/*
 * Read the kernel, make the plan of applying the compiled policy pol and write
 * it to o->path. Returns 0, or -1 with err filled (nothing written). Either
 * way plan_run_free() r.
 */
int plan_run(const struct policy *pol, const struct plan_options *o, struct plan_run *r, char *err,
	     size_t errlen);
void plan_run_free(struct plan_run *r);

#endif
