/* What would change between two lists of sets: for people and for machines. */
#ifndef MXFENCE_DIFFVIEW_H
#define MXFENCE_DIFFVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "addr.h"
#include "policy.h"
#include "sets.h"

struct diff_totals {
	size_t prefixes_added, prefixes_removed;
	u128 v4_gained, v4_lost;    /* addresses */
	u128 v6_gained, v6_lost;    /* /64s */
	bool changed;
};

/*
 * Compare `old` (live, a state or a model file) with `new` (the compiled
 * policy pol). Prints "+ PREFIX  SOURCE (WHERE)" and "- PREFIX  (was: SOURCE)"
 * lines per set and the totals (json: one object). `structure` names a
 * structural difference that makes the table be replaced whole, or NULL.
 */
void diff_print(FILE *f, const struct policy *pol, const struct set_list *old,
		const struct set_list *new, const char *structure, bool json,
		struct diff_totals *totals);

/* The totals alone, for gates and summaries. */
void diff_count(const struct set_list *old, const struct set_list *new,
		struct diff_totals *totals);

#endif
