/*
 * The policy's sets as the kernel should hold them, what it does hold, and
 * whether the two agree in structure. Used by apply, diff, verify and status.
 */
#ifndef MXFENCE_LIVE_H
#define MXFENCE_LIVE_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"
#include "nl.h"
#include "policy.h"
#include "state.h"

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

/* The sets the compiled policy asks for, service by service, v4 then v6. */
void wanted_sets_from_policy(const struct policy *pol, struct set_list *out);
/* The same, the intervals moved over from the policy's sets, which are left empty. */
void wanted_sets_take_from_policy(struct policy *pol, struct set_list *out);
void set_list_free(struct set_list *sv);
struct set_content *set_list_find(const struct set_list *sv, const char *name);

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

#endif
