/*
 * The kernel side: one NETLINK_NETFILTER socket, batches that reach nf_tables
 * as one transaction in one sendmsg(), and a consistent read-back of our
 * table. Its implementation, src/nl/ (see nl/nl-private.h), is the only code
 * that includes libmnl and libnftnl.
 *
 * Everything here works on family inet tables. Keys are addresses as u128
 * (addr.h), sent big-endian in 4 or 16 bytes.
 */
#ifndef MXFENCE_NL_H
#define MXFENCE_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "model.h"
#include "policy.h"
#include "ruleplan.h"

struct nl;
struct nlmsghdr;

/*
 * Open the socket, raise its buffers (SO_SNDBUFFORCE/SO_RCVBUFFORCE) and ask
 * for the generation id once, so that a missing capability or a kernel without
 * nf_tables shows here: "permission denied: needs root or CAP_NET_ADMIN",
 * "nf_tables is not available". Returns 0, or -errno with err filled.
 */
int nl_open(struct nl **out, char *err, size_t errlen);
void nl_close(struct nl *nl);

/* The ruleset generation id. Returns 0 or -errno. */
int nl_getgen(struct nl *nl, uint32_t *genid);

/*
 * Is gen the generation, with no commit under way? A commit makes its new
 * generation visible first and changes sets and rules after, so GETGEN can
 * return a generation whose changes are not all in place yet. This asks
 * under the kernel's commit mutex (an empty batch BEGIN carrying gen): 0 if
 * settled, -EINTR if the ruleset moved on, or -errno. nl_read_table() does
 * it already.
 */
int nl_gen_settled(struct nl *nl, uint32_t gen);

/* A set of our table as the kernel holds it. */
struct nl_set_live {
	char *name;
	enum family fam;          /* from key_type 7 / 8; FAM_V4 for other keys */
	uint32_t flags;           /* NFT_SET_* */
	uint32_t key_type, key_len;
	uint64_t handle;
	bool has_elems;           /* elements were read: with_elements, or anonymous */
	/*
	 * [lo, hi] ascending and disjoint, one per start/end element pair the
	 * kernel holds: adjacent intervals stay apart (nft -f of CIDRs makes
	 * them). A delete must name exactly these: deleting a merge of
	 * [a, b] and [b + 1, c] as [a, c] asks for start a and end c + 1,
	 * which would leave b + 1 open to the end of the address space; the
	 * 6.18 kernel refuses that (ENOENT), a kernel that matches deletes by
	 * key and flag alone may not.
	 */
	struct range *iv;
	size_t n;
	size_t nelems;            /* kernel elements read (starts + ends) */
	/*
	 * Elements that pair with nothing: a start inside an open interval, an
	 * end outside one (nft's end element at key 0 does not count). The
	 * lookup ignores them, a delta cannot name them: replace the set whole.
	 */
	size_t unpaired;
};

struct nl_chain_live {
	char *name;
	char *type;               /* "filter"; NULL for a regular chain */
	bool base;                /* has a hook */
	uint32_t hook;            /* NF_INET_* */
	int32_t prio;
	uint32_t policy;          /* NF_ACCEPT / NF_DROP */
	uint64_t handle;
	size_t nrules;
};

struct nl_rule_live {
	char *chain;
	uint64_t handle;
	bool has_counter;
	uint64_t packets, bytes;
	char *set_name;           /* the named (not anonymous) set it looks up, or NULL */
	/*
	 * Its expressions in libnftnl's debug text, "[ meta load l4proto => reg 1 ]
	 * [ cmp eq reg 1 0x00000006 ] ...", with counter values left out and an
	 * anonymous set shown by content ("{ 465, 587 }"), so that it compares
	 * equal to nl_chain_fingerprints() whoever loaded the rule.
	 */
	char *fingerprint;
};

struct nl_table_live {
	bool present;
	uint32_t genid;           /* the generation everything below was read at */
	unsigned attempts;        /* reads it took (more than 1: the ruleset moved meanwhile) */
	uint32_t flags;           /* NFT_TABLE_F_* */
	struct nl_set_live *sets; /* in the kernel's order, anonymous ones included */
	size_t nsets;
	struct nl_chain_live *chains;
	size_t nchains;
	struct nl_rule_live *rules; /* chain by chain, in rule order */
	size_t nrules;
};

/*
 * Read table `table` (family inet) consistently: GETGEN and nl_gen_settled(),
 * then table, sets, chains, rules (and elements), every reply's res_id
 * checked against the generation, GETGEN again; all over again (8 times at
 * most) if anything moved or an element came twice. Unpaired elements cause
 * up to two more reads before a set's `unpaired` counts them: a batch that was
 * aborted (a dry run) does not change the generation but can make a dump
 * running across it lose elements. with_elements = false skips the named
 * sets' elements (anonymous sets are always read: they are a rule's ports).
 * A missing table is present = false, not an error. Returns 0, or -errno
 * with err filled; out is always safe to free.
 */
int nl_read_table(struct nl *nl, const char *table, bool with_elements,
		  struct nl_table_live *out, char *err, size_t errlen);
void nl_table_live_free(struct nl_table_live *t);

/* Is the chain read back the plan's: name, type filter, hook, priority, policy? */
bool nl_chain_live_is(const struct nl_chain_live *c, const struct rule_chain *pc);

/* The named set of the table, or NULL. */
const struct nl_set_live *nl_table_live_set(const struct nl_table_live *t, const char *name);

/*
 * A set's element dump (GETSETELEM) being read: nl_read_table() hands every
 * buffer it receives to nl_elems_parse(), then makes the set's intervals with
 * nl_elems_finish(). Callable on bytes alone, for tests.
 */
struct nl_elem_dump {
	/* Set by the caller. */
	uint32_t seq, portid; /* of the request: messages of another are skipped */
	uint32_t genid;       /* every reply's res_id must be its low 16 bits */
	unsigned key_len;     /* the set's (1 to 16): keys of another length are bad */
	/* Read so far. */
	struct set_element *v;    /* as received; ascending after nl_elems_finish() */
	size_t n, cap;
	size_t bad;           /* elements without a key of key_len bytes */
	size_t dups;          /* the same element twice (nl_elems_finish()) */
	size_t seen;          /* messages of the request */
	bool done;            /* NLMSG_DONE or NLMSG_ERROR came */
	int rc;               /* the first error */
	char err[160];        /* what rc stands for */
};

/*
 * One buffer as recvmsg() gives it: whole netlink messages. Returns 0 while
 * the dump goes on, 1 once it ended well, -errno once it ended badly (and
 * from then on, reading no more buffers), with d->err saying why: -EINTR for
 * a reply of another generation (res_id) or flagged interrupted, -EBADMSG
 * for a message cut short or malformed, the kernel's error. An error does not
 * end the dump: its replies are read to the end.
 */
int nl_elems_parse(struct nl_elem_dump *d, const void *buf, size_t len);

/*
 * The elements of a dump that ended well, sorted, to the intervals of s (see
 * struct nl_set_live): s->flags say whether it is an interval set; iv, n,
 * nelems and has_elems are set, unpaired is added to. Returns 0, or -EINTR
 * (d->err filled, s untouched) if an element came twice: the dump raced a
 * change.
 */
int nl_elems_finish(struct nl_elem_dump *d, struct nl_set_live *s);
void nl_elem_dump_free(struct nl_elem_dump *d);

/*
 * A batch: one transaction, sent in one sendmsg(). Building never fails
 * visibly: a problem (out of memory, intervals not ascending) is remembered
 * and reported by nl_batch_send(), which then sends nothing.
 * nl may be NULL to build a batch only to look at it (tests).
 */
struct nl_batch;

/* genid 0: no compare-and-swap; else NFNL_BATCH_GENID, ERESTART if the ruleset moved. */
struct nl_batch *nl_batch_new(struct nl *nl, uint32_t genid);
void nl_batch_free(struct nl_batch *b);

void nl_batch_add_table(struct nl_batch *b, const char *table);
void nl_batch_del_table(struct nl_batch *b, const char *table);
/* An interval set of addresses of family fam, with a set id for this batch. */
void nl_batch_add_set(struct nl_batch *b, const char *table, const char *set, enum family fam);
/* A base chain of the plan: type filter, its hook, priority and policy. */
void nl_batch_add_chain(struct nl_batch *b, const char *table, const struct rule_chain *c);
/*
 * The rules of a chain of the plan, in order. Several ports of one protocol
 * become an anonymous constant set per rule, created just before it, as nft
 * does (so `nft list` prints "tcp dport { 465, 587 }" either way).
 */
void nl_batch_add_rules(struct nl_batch *b, const char *table, const struct rule_chain *c);
/* The table, the plan's sets, its chains and their rules: all but the elements. */
void nl_batch_add_plan(struct nl_batch *b, const struct rule_plan *p);

/*
 * Elements of intervals [lo, hi]: ascending, disjoint (adjacent allowed). A
 * start key lo and, unless hi is the family's last address, an end key
 * hi + 1 flagged NFT_SET_ELEM_INTERVAL_END; an interval's two keys always
 * share a message, and a message carries at most NL_ELEMS_MAX bytes of them.
 * The caller issues the deletes of a set before its adds: after deletes the
 * kernel's insert is only fast in ascending order. iv is not kept.
 */
void nl_batch_add_elems(struct nl_batch *b, const char *table, const char *set, enum family fam,
			const struct range *iv, size_t n);
void nl_batch_del_elems(struct nl_batch *b, const char *table, const char *set, enum family fam,
			const struct range *iv, size_t n);
/* The same as nl_batch_add_elems() for a compiled set, without copying its intervals. */
void nl_batch_add_interval_set(struct nl_batch *b, const char *table, const char *set,
		       const struct interval_set *s);

enum nl_status {
	NL_OK,
	NL_ERROR,   /* the kernel refused: nothing applied; err names the object */
	NL_RESTART, /* compare-and-swap failed: the ruleset moved; re-read and retry */
	NL_UNKNOWN, /* replies were lost (ENOBUFS): settle it by the generation id */
};

struct nl_result {
	enum nl_status status;
	/*
	 * NL_OK: the generation our commit made (exactly G + 1 with
	 * compare-and-swap; without, the one read just after), or the
	 * unchanged one if the batch changed nothing. Otherwise the current one.
	 */
	uint32_t genid;
	bool changed;           /* the commit changed something: the generation moved */
	int error;              /* errno of the first error, 0 if none */
	size_t errors;          /* errors the kernel returned */
	size_t messages;        /* netlink messages sent, BEGIN and END included */
	size_t elements;        /* set elements sent (starts + ends) */
	size_t bytes;
	char err[512];
};

/*
 * Send the batch and drain every reply. dry_run leaves out BATCH_END: the
 * kernel checks everything and aborts. Returns res->status. A batch is sent
 * once. res->err is the first error as a sentence naming its object ("set
 * smtp_v4: overlapping interval 40.92.0.0/15", "set smtp_v4: cannot delete
 * interval 192.0.2.0/24: not in the set", "table mxfence: cannot delete: no
 * such table", "rule of service smtp: tcp from @smtp_v4 accept: ...") and
 * how many more there were.
 */
enum nl_status nl_batch_send(struct nl_batch *b, bool dry_run, struct nl_result *res);

/*
 * The messages built so far, in order (BEGIN first; END only once sent), for
 * tests and diagnostics. Stops at, and returns, the first nonzero cb result.
 */
int nl_batch_foreach(struct nl_batch *b, int (*cb)(const struct nlmsghdr *nlh, void *data),
		     void *data);

/*
 * What the rules of a chain of the plan look like to nl_read_table()
 * (struct nl_rule_live's fingerprint): c->nrules fingerprints, in order.
 * Free with nl_fingerprints_free().
 */
size_t nl_chain_fingerprints(const struct rule_chain *c, char ***out);
void nl_fingerprints_free(char **fp, size_t n);

/* Largest element payload of one NEWSETELEM/DELSETELEM message (a 16-bit attribute length). */
#define NL_ELEMS_MAX 65531

#endif
