/* Output that is never half-written: a temp file beside the target, then rename. */
#ifndef MXFENCE_OUTFILE_H
#define MXFENCE_OUTFILE_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

struct outfile {
	char *path;
	char *tmp; /* NULL for an existing device or pipe, written in place */
	FILE *f;
};

/*
 * path NULL or "-": standard output; an existing device or FIFO: written as it
 * is. Returns 0, or -1 with err filled ("PATH: ...").
 */
int outfile_open(struct outfile *o, const char *path, char *err, size_t errlen);
/* Flush, fsync, rename into place. Returns 0, or -1 with err filled (the temp removed). */
int outfile_commit(struct outfile *o, char *err, size_t errlen);
void outfile_abort(struct outfile *o);

/*
 * The whole of buf as the file at path, with this mode: written beside it,
 * renamed into place, so that readers see the old file or the new one.
 * WRITE_DURABLE: fsynced before the rename, so that it also survives a crash.
 * Returns 0, or -1 with err filled ("PATH: ...").
 */
enum { WRITE_DURABLE = 1 };
int write_atomic(const char *path, const void *buf, size_t len, mode_t mode, unsigned flags,
		 char *err, size_t errlen);

/*
 * A file written now and put in place later, when the caller knows it should
 * be (after the kernel took the commit it describes): created beside path,
 * renamed over it by pending_commit, removed by pending_discard. Files a
 * killed run left beside path are removed first; callers hold the lock that
 * makes them stale.
 */
struct pending_file {
	char *path, *tmp;
	int fd; /* -1 when none is open */
};
#define PENDING_FILE_INIT { .path = NULL, .tmp = NULL, .fd = -1 }

/* Takes path (allocated). Returns 0, or -1 with err filled (p is then ended). */
int pending_create(struct pending_file *p, char *path, char *err, size_t errlen);
/*
 * Rename into place; with WRITE_DURABLE the file is fsynced before and its
 * folder after. Returns 0, or -1 with err filled. Ends p either way.
 */
int pending_commit(struct pending_file *p, unsigned flags, char *err, size_t errlen);
void pending_discard(struct pending_file *p);

#endif
