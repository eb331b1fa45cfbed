/*
 * What the libFuzzer harnesses share: a private scratch directory for the
 * parsers that read files, a stream that discards, and the check that turns a
 * broken invariant into a crash libFuzzer saves.
 */
#ifndef MXFENCE_FUZZ_H
#define MXFENCE_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"
#include "live.h"
#include "model.h"
#include "policy.h"

/* A broken invariant: say which, then abort so that libFuzzer keeps the input. */
void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 4, 5)));
#define FUZZ_CHECK(cond, ...)                                                  \
	do {                                                                   \
		if (!(cond))                                                   \
			fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__);     \
	} while (0)

/*
 * A directory of this process (in $TMPDIR, else /dev/shm, else /tmp),
 * emptied and removed at exit. fuzz_path() is "DIR/name" in a buffer
 * that lives as long as the process (one per distinct name).
 */
const char *fuzz_dir(void);
const char *fuzz_path(const char *name);
/* Replace the file with these bytes. */
void fuzz_write(const char *path, const void *data, size_t size);
void fuzz_write_str(const char *path, const char *text);
/* The whole file, NUL-terminated; *size without the NUL. NULL when unreadable. */
char *fuzz_read(const char *path, size_t *size);

/* A stream whose bytes go nowhere: printers run in full, nothing shows. */
FILE *fuzz_null(void);

/* Load and compile a policy written by the harness itself: failure is a harness bug. */
void fuzz_policy_fixed(struct policy *pol, const char *path);

/* Text of a u128 in hex, for messages. */
const char *fuzz_hex(u128 v, char buf[36]);

/* Sorted, disjoint, inside the family; adjacent allowed when `adjacent`. */
void fuzz_check_ranges(const struct range *v, size_t n, enum family f, bool adjacent,
		       const char *what);
/* A built set: intervals merged (never adjacent), every input inside its interval. */
void fuzz_check_iset(const struct interval_set *s, const char *what);
/* Every view of a set_views is well formed. */
void fuzz_check_views(const struct set_list *sv);

/*
 * The policy's JSON model (build --json) parses, and read back by
 * modelfile_read() (diff --against FILE) holds the very same sets.
 */
void fuzz_check_model(const struct policy *pol);

#endif
