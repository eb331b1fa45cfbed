/*
 * Fetching sources into the cache: download (or ask DNS), validate, and only
 * then promote the copy. A failed or refused fetch leaves the last good copy
 * in place. Used by `mxfence fetch` and `mxfence refresh`.
 */
#ifndef MXFENCE_FETCH_H
#define MXFENCE_FETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "policy.h"

enum fetch_outcome {
	FETCH_UPDATED,      /* a new copy was validated and promoted */
	FETCH_UNCHANGED,    /* the source says nothing changed (304, same version or bytes) */
	FETCH_KEPT,         /* failed or refused; the last good copy stays */
	FETCH_NONE,         /* failed or refused, and there is no good copy at all */
};

/* What became of one source. */
struct fetch_result {
	const struct source *src;
	enum fetch_outcome outcome;
	char how[160];      /* UPDATED, UNCHANGED: "updated: 9184 prefixes, ...", "not modified (HTTP 304)" */
	char why[1024];     /* KEPT, NONE: what went wrong, naming the URL or the chain */
	int64_t last_good;  /* KEPT: when the last good copy was fetched (Unix time) */
	struct diag diag;   /* in order: warnings, and what parsing the download found */
};

struct fetch_options {
	const char *state_dir; /* where the Microsoft 365 client request id is kept */
	bool force;            /* accept a feed that shrank or went back in version */
	FILE *progress;        /* downloads that take a while show their progress here, or NULL */
	/* Called with each source's result as soon as that source is done, in the policy's order. */
	void (*done)(const struct fetch_result *res, void *arg);
	void *arg;
};

struct fetch_summary {
	size_t updated, unchanged, kept, none;
};

/*
 * Fetch the policy's fetched sources that a service uses, or only those
 * named (names[0..nnames), each must be a fetched source), one after the
 * other. Returns 0 with the summary filled (kept and none count the sources
 * that failed), or -1 with err filled when downloads cannot start at all.
 */
int fetch_run(struct policy *pol, const struct fetch_options *o, char **names, size_t nnames,
	      struct fetch_summary *sum, char *err, size_t errlen);

#endif
