/*
 * The state file: what the last apply committed, the generation id that
 * commit produced and the network namespace it was made in. While the kernel
 * still reports that generation in that namespace, the live sets are known
 * without dumping them (the kernel's element dump is quadratic).
 */
#ifndef MXFENCE_STATE_H
#define MXFENCE_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "outfile.h"

struct state_set {
	char *name;
	enum family fam;
	struct range_vec iv;
	uint64_t *sources; /* per interval: a bit per state.sources entry (the first 64) */
};

struct state {
	char *table;
	uint32_t genid;
	uint64_t netns;     /* inode of /proc/self/ns/net */
	int64_t applied_at; /* seconds since the epoch */
	char **sources;     /* source names, for "was: relays" */
	size_t nsources;
	struct state_set *sets;
	size_t nsets;
};

#define STATE_MAX_SETS 4096
#define STATE_MAX_SOURCES 4096

/* "<dir>/<table>.state" */
char *state_path(const char *dir, const char *table);
/* Atomic: a temp file renamed into place (not fsynced). 0, or -1 with err filled. */
int state_write(const char *dir, const struct state *st, char *err, size_t errlen);
/*
 * The same in two steps, so that the bulk is written while the kernel
 * commits: state_prepare() writes the file beside its place (0, or -1 with
 * p->err); state_finish() puts in the generation id the commit produced and
 * renames the file into place (0, or -1 with err); state_discard() drops it.
 * Both end p; state_discard() is harmless on an ended one.
 */
struct state_pending {
	struct pending_file file;
	char err[512];
};
int state_prepare(const char *dir, const struct state *st, struct state_pending *p);
int state_finish(struct state_pending *p, uint32_t genid, char *err, size_t errlen);
void state_discard(struct state_pending *p);
/* 0; 1 when there is no state file; -1 with err filled when it is unreadable or corrupt. */
int state_read(const char *dir, const char *table, struct state *st, char *err, size_t errlen);
/* The decoder alone (fuzzed): 0, or -1 with err. */
int state_decode(const unsigned char *buf, size_t len, struct state *st, char *err, size_t errlen);
void state_free(struct state *st);
const struct state_set *state_set_find(const struct state *st, const char *name);

/* The inode of this process's network namespace, 0 if unknown. */
uint64_t netns_inode(void);

#endif
