/* Output that is never half-written: a temp file beside the target, then rename. */
#ifndef MXFENCE_OUTFILE_H
#define MXFENCE_OUTFILE_H

#include <stdio.h>

struct outfile {
	char *path;
	char *tmp;
	FILE *f;
};

/* path NULL or "-": standard output. Returns 0, or -1 with a message printed. */
int outfile_open(struct outfile *o, const char *path);
/* Flush, fsync, rename into place. Returns 0, or -1 (temp removed, message printed). */
int outfile_commit(struct outfile *o);
void outfile_abort(struct outfile *o);

#endif
