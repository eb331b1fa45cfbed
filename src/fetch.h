/*
 * Fetching sources into the cache: download (or ask DNS), validate, and only
 * then promote the copy. A failed or refused fetch leaves the last good copy
 * in place. Used by `mxfence fetch` and `mxfence refresh`.
 */
#ifndef MXFENCE_FETCH_H
#define MXFENCE_FETCH_H

#include <stdbool.h>
#include <stddef.h>

#include "policy.h"

enum fetch_outcome {
	FETCH_UPDATED,      /* a new copy was validated and promoted */
	FETCH_UNCHANGED,    /* the source says nothing changed (304, same version or bytes) */
	FETCH_KEPT,         /* failed or refused; the last good copy stays */
	FETCH_NONE,         /* failed or refused, and there is no good copy at all */
};

struct fetch_options {
	const char *state_dir; /* where the Microsoft 365 client request id is kept */
	bool force;            /* accept a feed that shrank or went back in version */
};

struct fetch_summary {
	size_t updated, unchanged, kept, none;
};

/*
 * Fetch the policy's fetched sources that a service uses, or only those
 * named (names[0..nnames), each must be a fetched source). One line per
 * source on stdout, problems on stderr. Returns 0 when every source is
 * current, -1 when any failed; the summary counts them.
 */
int fetch_sources(struct policy *pol, const struct fetch_options *o, char **names, size_t nnames,
		  struct fetch_summary *sum);

#endif
