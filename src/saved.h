/*
 * The saved ruleset, <state-dir>/<table>.nft: the script `build` prints for
 * the policy the last successful apply committed, byte for byte. nft -f loads
 * it again and again (the script declares the table, deletes it and makes it
 * anew), also after a `flush ruleset` in the same file, so /etc/nftables.conf
 * may include it; `restore` loads it at boot. Written beside its place,
 * fsynced and renamed: after a crash it is the old file or the new one, whole.
 */
#ifndef MXFENCE_SAVED_H
#define MXFENCE_SAVED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "outfile.h"
#include "policy.h"
#include "state.h"

/* "<dir>/<table>.nft" */
char *saved_path(const char *dir, const char *table);

/*
 * Written in two steps around a commit: saved_prepare() renders the compiled
 * policy (as build does) into a file beside its place and starts its
 * writeback, so that the kernel's commit hides the cost; saved_finish() puts
 * it in place once the commit has succeeded. The caller holds the state
 * folder's lock: saved_prepare() removes the files a killed run left beside.
 */
/* 0, or -1 with err filled (p is then ended). */
int saved_prepare(const char *dir, const struct policy *pol, struct pending_file *p, char *err,
		  size_t errlen);
/*
 * fsync, rename into place, fsync the folder. unchanged: the apply found the
 * kernel holding the policy already; the file is then only replaced when the
 * one in place is missing or differs. Returns 1 written, 0 left as it was, or
 * -1 with err. Ends p.
 */
int saved_finish(struct pending_file *p, bool unchanged, char *err, size_t errlen);

/* A set of a saved ruleset: its elements as nft -f loads them, one range per CIDR, in order. */
struct saved_set {
	char *name;
	enum family fam;
	struct range_vec iv;
};

struct saved_ruleset {
	char *table;
	struct saved_set *sets;
	size_t nsets;
	/* The script without its header comments and element blocks: its structure. */
	char *skeleton;
	size_t skeleton_len;
};

/*
 * Read a saved ruleset back: 0; 1 when there is none; -1 with err when it is
 * unreadable or not a script mxfence wrote (err names the file and line).
 */
int saved_read(const char *path, struct saved_ruleset *out, char *err, size_t errlen);
/* The parser alone (fuzzed): name is for messages. 0, or -1 with err and nothing kept. */
int saved_parse(const char *name, const char *buf, size_t len, struct saved_ruleset *out,
		char *err, size_t errlen);
void saved_ruleset_free(struct saved_ruleset *s);
const struct saved_set *saved_set_find(const struct saved_ruleset *s, const char *name);

/* The structure of the script build prints for the policy, its sets' contents left out. */
char *saved_skeleton(const struct policy *pol, size_t *len);

/* Do a and b (each sorted, disjoint; adjacent allowed) cover the same addresses? */
bool ranges_same_addresses(const struct range *a, size_t na, const struct range *b, size_t nb);

/*
 * The state file made to describe the kernel's elements exactly as they are
 * now, at generation genid in this network namespace: after nft -f loaded
 * the saved ruleset (one element per CIDR), or after a full read found the
 * kernel holding what the last apply left under a newer generation. sets
 * holds, per set of old, the kernel's ranges (NULL iv: keep old's), which
 * must cover the same addresses as old's; each range keeps the source bits
 * of old's interval that holds it. The apply time and sources stay. The
 * caller holds the state folder's lock. 0, or -1 with err.
 */
struct restamp_set {
	const char *name;
	const struct range *iv;
	size_t n;
};
int state_restamp(const char *dir, const struct state *old, const struct restamp_set *sets,
		  size_t nsets, uint32_t genid, char *err, size_t errlen);

#endif
