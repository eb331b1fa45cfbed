/*
 * What the kernel holds of the policy's table, and whether it agrees with the
 * policy in structure. Used by apply, diff, verify and status.
 */
#ifndef MXFENCE_LIVE_H
#define MXFENCE_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nl.h"
#include "policy.h"
#include "sets.h"
#include "state.h"

struct kernel_view {
	struct nl_table_live table;
	bool from_state;    /* the sets' contents came from the state file */
	struct set_list sets; /* the policy's sets as the kernel holds them (known = present) */
	bool structure_ok;  /* table, sets, chain and rules are what the policy makes */
	char why[512];      /* if not, the first difference */
	struct state state; /* what the last apply wrote, if anything */
	bool have_state;
};

/*
 * Read what the kernel holds of the policy's table, consistently. Element
 * contents come from the state file when the kernel still reports the
 * generation the last apply produced, in the same network namespace, unless
 * full_dump. Returns 0, or -1 with err filled.
 */
int kernel_view_read(struct nl *nl, const struct policy *pol, const char *state_dir, bool full_dump,
	      struct kernel_view *out, char *err, size_t errlen);
void kernel_view_free(struct kernel_view *l);

/*
 * Does the table t (read with its rules) have exactly the sets, chains and
 * rules the policy makes? If not, why names the first difference.
 */
bool kernel_structure_matches(const struct policy *pol, const struct nl_table_live *t, char *why,
			      size_t n);

/* What a service's rules counted: the accepts of its sets, and the rest (otherwise). */
struct service_counters {
	uint64_t accepted_packets, accepted_bytes;
	uint64_t refused_packets, refused_bytes;
};

/*
 * Per service of the policy (out: pol->nservices entries, zeroed here), the
 * counters of the table's rules, each taken as the rule of the rule plan at
 * its place in its chain. Meaningful when the structure matched.
 */
void service_counters_read(const struct policy *pol, const struct nl_table_live *t,
			   struct service_counters *out);

#endif
