/*
 * The removal gate's verdicts, computed apart from anything that prints or
 * changes the kernel: apply refuses on them, plans carry them, reports show
 * them. Plain data, no I/O.
 */
#ifndef MXFENCE_GATE_H
#define MXFENCE_GATE_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "live.h"

/* One service and family: what it holds now, what it would lose, its limit. */
struct removal_verdict {
	const char *service; /* the policy's name: lives as long as the policy */
	enum family fam;
	u128 had, lost;      /* addresses (IPv6 too: amount_format() shows /64s) */
	double share;        /* lost / had, in percent (0 when nothing is held) */
	double max;          /* the service's max-removal, percent */
	bool over;           /* share > max: the gate refuses, unless forced */
};

/*
 * A verdict per set of `want` (service by service, v4 then v6), against what
 * `live` holds of it. A set live does not hold (absent, a first install) has
 * had = 0 and is never over. *out is malloc'ed; returns how many.
 */
size_t removal_verdicts(const struct set_list *live, const struct set_list *want,
			struct removal_verdict **out);
/* Any verdict over its limit? */
bool removal_refused(const struct removal_verdict *v, size_t n);
/*
 * "service smtp would lose 25.00% of its IPv4 addresses (256 of 1024;
 * max-removal 10%)" into buf.
 */
void removal_describe(const struct removal_verdict *v, char *buf, size_t n);

#endif
