/*
 * Lists of sets: the policy's sets as the kernel should hold them (wanted),
 * or as the kernel, a state file or a model file says they are. Used by
 * apply, diff, verify, status and the model file reader.
 */
#ifndef MXFENCE_SETS_H
#define MXFENCE_SETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "model.h"
#include "policy.h"

/* One set of the policy: a service and a family. */
struct set_content {
	char name[NAME_MAX_LEN + 8];
	const struct service *svc; /* NULL when read from a model file of another policy */
	enum family fam;
	struct range_vec iv;
	uint64_t *sources; /* per interval, a bit per source (the first 64), or NULL */
	bool known;        /* the other side holds this set at all */
};

struct set_list {
	struct set_content *v;
	size_t n;
	char **source_names; /* what the bits of `sources` mean */
	size_t nsource_names;
};

/* The policy's sets by name (service by service, v4 then v6), empty and not known yet. */
void set_list_names_from_policy(const struct policy *pol, struct set_list *out);
/* The sets the compiled policy asks for, service by service, v4 then v6. */
void wanted_sets_from_policy(const struct policy *pol, struct set_list *out);
/* The same, the intervals moved over from the policy's sets, which are left empty. */
void wanted_sets_take_from_policy(struct policy *pol, struct set_list *out);
/*
 * The other way: the policy's interval sets hold the list's intervals, set by
 * set name (no inputs behind them), so that a plan's structure renders with
 * the sets the kernel holds.
 */
void policy_sets_from_list(struct policy *pol, const struct set_list *sets);
void set_list_free(struct set_list *sv);
struct set_content *set_list_find(const struct set_list *sv, const char *name);

#endif
