/*
 * The kernel layer's own header: what its files share, and the one place
 * outside src/nl/ never includes. Only src/nl/ includes libmnl and libnftnl.
 * See ../nl.h for the contract and shared/docs/NFTABLES-NOTES.md for the
 * kernel behaviour relied on here.
 *
 *   socket.c  the socket, one request and its replies, the generation id
 *   batch.c   batch pages, table/set/chain messages, the element writer,
 *             a chain's rules and anonymous port sets
 *   rules.c   a rule of the plan as expressions; fingerprints
 *   send.c    sending a batch; kernel errors as sentences
 *   read.c    reading our table back; element dumps
 *   text.c    error buffers, growing text, intervals and errno as text
 */
#ifndef MXFENCE_NL_PRIVATE_H
#define MXFENCE_NL_PRIVATE_H

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/batch.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/gen.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "../nl.h"
#include "../ruleplan.h"
#include "../util.h"

/* Older uapi headers lack these (Linux 4.12 / 4.3). */
#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif
#ifndef NLM_F_CAPPED
#define NLM_F_CAPPED 0x100
#endif
#ifndef NLM_F_ACK_TLVS
#define NLM_F_ACK_TLVS 0x200
#endif

/* nft's datatype numbers and byte order, as it stores them in set userdata. */
#define TYPE_IPADDR 7
#define TYPE_IP6ADDR 8
#define TYPE_INET_SERVICE 13
#define NFT_BYTEORDER_BIG_ENDIAN 2

/* The name of an anonymous set: a template the kernel fills in ("__set0"). */
#define ANON_SET_NAME "__set%d"

struct nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	int sndbuf; /* largest batch that fits: netlink_sendmsg() wants len <= sk_sndbuf - 32 */
	bool force; /* SO_SNDBUFFORCE allowed */
	char *buf;  /* RECV_BUF */
};

static inline unsigned fam_key_len(enum family f)
{
	return f == FAM_V4 ? 4 : 16;
}

/* The largest key of key_len bytes. */
static inline u128 key_max(unsigned key_len)
{
	return key_len >= 16 ? ~(u128)0 : ((u128)1 << (8 * key_len)) - 1;
}

/* ---- text.c */

void seterr(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Text that grows as it is printed to; sb_take() hands it over ("" if none). */
struct sbuf {
	char *s;
	size_t len, cap;
};
void sb_printf(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *sb_take(struct sbuf *sb);

void interval_text(u128 lo, u128 hi, unsigned key_len, char *buf, size_t n);
void range_list_text(struct sbuf *sb, const struct range *iv, size_t n, unsigned key_len);
const char *errno_text(int e);

/* ---- socket.c */

int nl_send_raw(struct nl *nl, const struct nlmsghdr *nlh);
ssize_t nl_recv(struct nl *nl, bool block);
bool nlmsg_whole(const struct nlmsghdr *nlh, int left);
int nl_drain(struct nl *nl);
int nl_setbuf(struct nl *nl, int opt, int size);
int nl_getbuf(struct nl *nl, int opt);

typedef int (*reply_cb)(const struct nlmsghdr *nlh, void *data);

/*
 * The replies to one request, buffer by buffer: messages of another request
 * (seq, portid) are skipped, data messages go to cb, NLMSG_DONE (dumps) or
 * the ACK (requests sent with NLM_F_ACK) ends the exchange. rc is the first
 * error: the kernel's -errno, cb's negative result, -EINTR when the kernel
 * flagged a dump as interrupted or a reply carried another generation than
 * *gen, -EBADMSG for a message cut short. An error ends nothing by itself:
 * the replies are always read to the end so that none is left for the next
 * request. why, if not NULL, says what rc stands for.
 */
struct replies {
	uint32_t seq, portid;
	const uint32_t *gen;
	reply_cb cb;
	void *data;
	int rc;
	bool done;
	size_t seen; /* messages of this request so far */
	char *why;
	size_t whylen;
};

void replies_parse(struct replies *r, const void *buf, size_t len);
int nl_talk(struct nl *nl, struct nlmsghdr *req, reply_cb cb, void *data, const uint32_t *gen);
struct nlmsghdr *req_hdr(struct nl *nl, char *buf, uint16_t type, uint16_t fam, uint16_t flags);

/* ---- rules.c */

uint32_t hook_number(enum rule_hook h);
uint32_t policy_number(enum verdict v);
struct nftnl_rule *rule_build(const char *table, const char *chain, const struct rule_spec *pr,
			      uint32_t port_set_id, uint32_t addr_set_id, uint32_t dest_set_id);

/* Set contents for a fingerprint's anonymous lookup; NULL if unknown. */
typedef bool (*anon_text_fn)(const char *set, void *ctx, struct sbuf *sb);
char *rule_fingerprint(struct nftnl_rule *r, anon_text_fn anon, void *ctx,
		       struct nl_rule_live *info);

/* ---- batch.c */

enum op {
	OP_BEGIN,
	OP_END,
	OP_TABLE_ADD,
	OP_TABLE_DEL,
	OP_SET_ADD,
	OP_CHAIN_ADD,
	OP_RULE_ADD,
	OP_ELEMS_ADD,
	OP_ELEMS_DEL,
};

/* What message seq0 + i of a batch was about. */
struct op_record {
	uint8_t kind;
	uint8_t key_len;
	uint32_t what; /* index into whats: "smtp_v4", "mxfence", a rule's description */
};

struct set_id {
	char *table, *name;
	uint32_t id;
};

struct nl_batch {
	struct nl *nl;
	struct nftnl_batch *nb;
	uint32_t genid;
	uint32_t seq0;
	struct op_record *ops;
	size_t nops, ops_cap;
	char **whats;
	size_t nwhats, whats_cap;
	struct set_id *ids;
	size_t nids, ids_cap;
	uint32_t next_id;
	size_t elements;
	bool sent;
	char problem[256];
	char *page, *cleared; /* see batch_cursor() */
};

void batch_end(struct nl_batch *b);

/* ---- read.c */

/* One element of an element message. */
struct elem_info {
	bool ok;
	u128 key;
	bool end;
};

struct elem_info elem_decode(const struct nlattr *el, unsigned key_len);

#endif
