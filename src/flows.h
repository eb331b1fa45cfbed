/* Flow files and the verdict of the compiled policy for a flow. */
#ifndef MXFENCE_FLOWS_H
#define MXFENCE_FLOWS_H

#include "diag.h"
#include "policy.h"

struct flow {
	const char *file;
	unsigned line;
	enum verdict expect;
	struct prefix addr; /* plen = full length */
	enum proto proto;
	unsigned port;
	bool has_dest;
	struct prefix dest; /* the destination as the client addresses it, if has_dest */
};

struct flow_vec {
	struct flow *v;
	size_t n, cap;
};

/*
 * "EXPECT ADDRESS PROTO/PORT [DESTINATION]" lines, '#' comments. Errors go
 * to d. path must outlive fv.
 */
int flows_read(const char *path, struct flow_vec *fv, struct diag *d);
void flows_free(struct flow_vec *fv);

/* Why a verdict was reached. */
struct verdict_why {
	const struct service *svc;   /* NULL: no service governs the port */
	const struct interval *iv;   /* the interval that holds the address, or NULL */
	const struct interval_set *set;
	const struct prefix *dest;   /* the flow's destination, or NULL */
};

/*
 * The verdict of the chains: the service that governs the flow decides (see
 * policy_flow_service(); dest may be NULL). A flow without destination that
 * several services with `to` govern is for the caller to refuse first; here
 * the first of them decides.
 */
enum verdict policy_evaluate(const struct policy *pol, const struct prefix *addr, enum proto p,
			     unsigned port, const struct prefix *dest, struct verdict_why *why);

/*
 * Flows that no verdict can be given for: without a destination, on a port
 * that several services with `to` share. Each is an error at its line in d.
 * Returns 0 if there is none.
 */
int flows_check_governed(const struct policy *pol, const struct flow_vec *fv, struct diag *d);

/* "40.92.0.0/15 from microsoft365, m365 id 10" or why nothing matched. */
void verdict_reason(const struct policy *pol, const struct prefix *addr, enum proto p,
		    unsigned port, const struct verdict_why *why, char *buf, size_t n);

/* The input prefixes of why->iv that hold addr: calls fn for each. */
void covering_inputs(const struct policy *pol, const struct verdict_why *why, u128 addr,
		     void (*fn)(const struct policy *, const struct input_prefix *, enum family, void *),
		     void *arg);

#endif
