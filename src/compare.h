/*
 * Where the kernel's sets and the wanted ones disagree, address for address,
 * over the whole address space: `verify --exhaustive`, and `refresh` after
 * a commit. Computes; the commands print.
 */
#ifndef MXFENCE_COMPARE_H
#define MXFENCE_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

#include "model.h"
#include "policy.h"
#include "sets.h"

struct set_difference {
	const struct set_content *set; /* the wanted set */
	bool absent;                   /* the other side does not hold it at all */
	struct range_vec missing;      /* wanted, not held (all of it when absent) */
	struct range_vec extra;        /* held, not wanted */
};

struct comparison {
	struct set_difference *sets; /* one per wanted set, in its order */
	size_t nsets;
	bool structure_ok;           /* the table is the policy's in structure */
	char why[512];               /* if not, the first difference */
	size_t differences;          /* ranges missing or extra, sets absent, a structure */
};

/* want against have, set by set (found by name); structure_ok stays true. */
void sets_compare(const struct set_list *want, const struct set_list *have,
		  struct comparison *out);

/*
 * want against what the kernel holds of the policy's table, read back in
 * full (never from the state file). Returns 0, or -1 with err filled.
 */
int kernel_compare(const struct policy *pol, const struct set_list *want, const char *state_dir,
		   struct comparison *out, char *err, size_t errlen);

void comparison_free(struct comparison *c);

#endif
