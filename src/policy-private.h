/* What the policy's reader (policy.c) and its checks (policy_check.c) share. */
#ifndef MXFENCE_POLICY_PRIVATE_H
#define MXFENCE_POLICY_PRIVATE_H

#include "diag.h"
#include "policy.h"

/* file against the policy's folder dir (NULL: as it is); malloc'ed. */
char *policy_resolve(const char *dir, const char *file);
/* Does the format take this key in a [source]? */
struct feed_format;
bool policy_format_has_key(const struct feed_format *fmt, const char *key);
/* Every check of a policy read whole; errors into d. */
void policy_check(struct policy *pol, struct diag *d);

#endif
