/*
 * What apply --plan needs of a plan and the kernel: is the kernel still what
 * the plan was computed against, and which sets does it hold once the plan's
 * change is made. No I/O.
 */
#ifndef MXFENCE_PLAN_APPLY_H
#define MXFENCE_PLAN_APPLY_H

#include <stddef.h>

#include "live.h"
#include "plan.h"

/*
 * 0 when the kernel (live, read in this network namespace) holds what the
 * plan was computed against; else -1 with why filled ("table inet mxfence
 * appeared since the plan was made against no table", ...): the plan is stale.
 */
int plan_check_live(const struct plan *p, const struct kernel_view *live, char *why, size_t n);

/*
 * The sets the kernel will hold once the plan's change is made over live:
 * the whole sets of a replacing plan; live's intervals without the plan's
 * deletes and with its adds for a delta, whose deletes must be intervals live
 * holds and whose adds must fit between the others. Sets name the services of
 * pol (plan_policy() of the plan); sources are the plan's. Returns 0, or -1
 * with why filled (the change does not fit live: stale).
 */
int plan_wanted_sets(const struct plan *p, const struct policy *pol, const struct kernel_view *live,
		     struct set_list *out, char *why, size_t n);

#endif
