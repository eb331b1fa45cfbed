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
};

struct flow_vec {
	struct flow *v;
	size_t n, cap;
};

/* "EXPECT ADDRESS PROTO/PORT" lines, '#' comments. Errors go to d. path must outlive fv. */
int flows_read(const char *path, struct flow_vec *fv, struct diag *d);
void flows_free(struct flow_vec *fv);

/* Why a verdict was reached. */
struct verdict_why {
	const struct service *svc;   /* NULL: no service governs the port */
	const struct interval *iv;   /* the interval that holds the address, or NULL */
	const struct interval_set *set;
};

/* The verdict of the chain: the service that governs proto/port decides. */
enum verdict policy_evaluate(const struct policy *pol, const struct prefix *addr, enum proto p,
			     unsigned port, struct verdict_why *why);

/* "40.92.0.0/15 from microsoft365, m365 id 10" or why nothing matched. */
void verdict_reason(const struct policy *pol, const struct prefix *addr, enum proto p,
		    unsigned port, const struct verdict_why *why, char *buf, size_t n);

/* The input prefixes of why->iv that hold addr: calls fn for each. */
void covering_inputs(const struct policy *pol, const struct verdict_why *why, u128 addr,
		     void (*fn)(const struct policy *, const struct input_prefix *, enum family, void *),
		     void *arg);

#endif
