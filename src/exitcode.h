/* The exit codes of mxfence, as documented in mxfence(8) and the README. */
#ifndef MXFENCE_EXITCODE_H
#define MXFENCE_EXITCODE_H

enum {
	EXIT_OK = 0,
	EXIT_MISMATCH = 1, /* verify: a flow mismatched; diff: changes; verify --exhaustive: differences */
	EXIT_INPUT = 2,    /* usage or input error, or the kernel refused: nothing written */
	EXIT_REFUSED = 3,  /* apply, refresh: a safety gate refused; the kernel is untouched */
	EXIT_STALE = 4,    /* fetch, refresh: a source kept its last good copy */
};

#endif
