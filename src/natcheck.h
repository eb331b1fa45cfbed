/*
 * Mail that another table DNATs past mxfence: a service port rewritten by a
 * DNAT rule to somewhere no `to` of the policy covers. No I/O: the rules come
 * from nl/dnat.h, the findings go to a diag as warnings.
 */
#ifndef MXFENCE_NATCHECK_H
#define MXFENCE_NATCHECK_H

#include "diag.h"
#include "nl/dnat.h"
#include "policy.h"

/*
 * One warning per rule, service and family left open, e.g. "tcp/25 to
 * 203.0.113.1 is DNAT'd by table ip nat chain PREROUTING to 172.17.0.2:25;
 * service smtp has no 'to': that mail is not filtered". A rule that names no
 * destination counts as covered once the service has a `to` of its family.
 * Returns the number of warnings.
 */
size_t natcheck(const struct policy *pol, const struct nat_rule_list *rules, struct diag *d);

#endif
