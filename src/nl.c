/*
 * nf_tables over netlink (libmnl + libnftnl). See nl.h for the contract and
 * shared/docs/NFTABLES-NOTES.md for the kernel behaviour relied on here.
 *
 * Writing: every operation is one or more messages in libnftnl batch pages;
 * nl_batch_send() passes the pages to one sendmsg() as an iovec, so the
 * kernel sees BEGIN ... END in one skb and commits or aborts the lot. Each
 * message remembers what it was about (indexed by sequence number) so that a
 * kernel error becomes a sentence naming the object, and for set elements the
 * interval, found from the extended ACK's attribute offset.
 *
 * Set elements are written straight into the pages with libmnl rather than
 * through nftnl_set_elem objects: ~300 bytes and an allocation per element
 * is what makes big loads slow and heavy, and writing them ourselves lets a
 * message end only between two intervals.
 */
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

#include "nl.h"
#include "util.h"

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

/*
 * Batch pages: a message may start anywhere below the page size and run into
 * the overrun, so the overrun holds the largest message (an element message
 * is at most ~66 KiB). sendmsg() takes at most UIO_MAXIOV (1024) iovecs:
 * 1 MiB pages allow 1 GiB, beyond what a socket buffer can take anyway.
 * Pages are malloc'ed and touched only as far as written.
 */
#define BATCH_PAGE (1u << 20)
#define BATCH_OVERRUN (128u << 10)

/*
 * Receive buffer: dump messages are at most 32 KiB (the kernel caps its dump
 * skb there); an error echoes at most the failing message, and with
 * NETLINK_CAP_ACK only its header.
 */
#define RECV_BUF (256u << 10)

/* Socket buffers. Errors of a batch queue up until it is processed. */
#define RCVBUF_SIZE (8 << 20)
#define SNDBUF_MIN (4 << 20)

/*
 * nl_read_table: start over at most this many times if the ruleset moves,
 * and at most UNPAIRED_RETRIES of them for unpaired elements (see there).
 */
#define READ_ATTEMPTS 8
#define UNPAIRED_RETRIES 2

/* The largest errno: a reply claiming another error code is malformed. */
#define MAX_ERRNO 4095

/* Errors of a batch kept for the report; the rest are counted. */
#define KEEP_ERRORS 8

struct nl {
	struct mnl_socket *sock;
	uint32_t portid;
	uint32_t seq;
	int sndbuf; /* largest batch that fits: netlink_sendmsg() wants len <= sk_sndbuf - 32 */
	bool force; /* SO_SNDBUFFORCE allowed */
	char *buf;  /* RECV_BUF */
};

/* ---------------------------------------------------------------- helpers */

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

struct sbuf {
	char *s;
	size_t len, cap;
};

static void sb_printf(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = sb->cap - sb->len;
		va_start(ap, fmt);
		n = vsnprintf(sb->s ? sb->s + sb->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < room) {
			sb->len += (size_t)n;
			return;
		}
		sb->cap = sb->cap * 2 + (size_t)n + 64;
		sb->s = xrealloc(sb->s, sb->cap);
	}
}

static char *sb_take(struct sbuf *sb)
{
	if (!sb->s)
		return xstrdup("");
	return sb->s;
}

static unsigned fam_key_len(enum family f)
{
	return f == FAM_V4 ? 4 : 16;
}

static u128 key_max(unsigned key_len)
{
	return key_len >= 16 ? ~(u128)0 : ((u128)1 << (8 * key_len)) - 1;
}

/* "40.92.0.0/15" when [lo, hi] is one prefix, else "lo-hi"; ports as numbers. */
static void interval_text(u128 lo, u128 hi, unsigned key_len, char *buf, size_t n)
{
	char a[ADDR_STRLEN], z[ADDR_STRLEN];

	if (key_len == 4 || key_len == 16) {
		enum family f = key_len == 4 ? FAM_V4 : FAM_V6;
		struct prefix cover[256];
		if (cidr_cover(lo, hi, f, cover) == 1) {
			char p[PREFIX_STRLEN];
			prefix_format(&cover[0], p);
			snprintf(buf, n, "%s", p);
			return;
		}
		addr_format(lo, f, a);
		addr_format(hi, f, z);
		snprintf(buf, n, "%s-%s", a, z);
		return;
	}
	if (key_len <= 8) {
		if (lo == hi)
			snprintf(buf, n, "%llu", (unsigned long long)lo);
		else
			snprintf(buf, n, "%llu-%llu", (unsigned long long)lo, (unsigned long long)hi);
		return;
	}
	snprintf(buf, n, "0x%016llx%016llx-0x%016llx%016llx", (unsigned long long)(lo >> 64),
		 (unsigned long long)lo, (unsigned long long)(hi >> 64), (unsigned long long)hi);
}

/* "{ 465, 587 }": how a fingerprint shows an anonymous set. */
static void range_list_text(struct sbuf *sb, const struct range *iv, size_t n, unsigned key_len)
{
	char t[2 * ADDR_STRLEN + 8];

	sb_printf(sb, "{ ");
	for (size_t i = 0; i < n; i++) {
		interval_text(iv[i].lo, iv[i].hi, key_len, t, sizeof(t));
		sb_printf(sb, "%s%s", i ? ", " : "", t);
	}
	sb_printf(sb, " }");
}

/* ---------------------------------------------------------------- socket */

static int nl_send_raw(struct nl *nl, const struct nlmsghdr *nlh)
{
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return 0;
}

/*
 * One datagram into nl->buf: its length, or -errno (-EAGAIN when not
 * blocking and nothing is there). A truncated datagram is an error: our
 * buffer is larger than anything the kernel sends us.
 */
static ssize_t nl_recv(struct nl *nl, bool block)
{
	struct sockaddr_nl sa;
	struct iovec iov = { nl->buf, RECV_BUF };
	struct msghdr msg = {
		.msg_name = &sa,
		.msg_namelen = sizeof(sa),
		.msg_iov = &iov,
		.msg_iovlen = 1,
	};
	ssize_t r;

	for (;;) {
		r = recvmsg(mnl_socket_get_fd(nl->sock), &msg, block ? 0 : MSG_DONTWAIT);
		if (r >= 0 || errno != EINTR)
			break;
	}
	if (r < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	if (msg.msg_flags & MSG_TRUNC)
		return -EMSGSIZE;
	if (sa.nl_pid != 0)
		return 0; /* not from the kernel: ignore */
	return r;
}

/*
 * A whole message starts at nlh, left bytes before the buffer ends. Not
 * mnl_nlmsg_ok(): it compares the length as an int, so that a message of
 * 2 GiB or more passes and the next one is looked for far outside.
 */
static bool nlmsg_whole(const struct nlmsghdr *nlh, int left)
{
	return left >= (int)sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) &&
	       nlh->nlmsg_len <= (unsigned)left;
}

/* Throw away whatever is queued (replies to an earlier, abandoned request). */
static int nl_drain(struct nl *nl)
{
	ssize_t r;

	while ((r = nl_recv(nl, false)) >= 0)
		;
	return r == -EAGAIN ? 0 : (int)r;
}

static int nl_setbuf(struct nl *nl, int opt, int size)
{
	if (setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, opt, &size, sizeof(size)) < 0)
		return -errno;
	return 0;
}

/* What the kernel made of it: twice the request (capped by wmem_max without FORCE). */
static int nl_getbuf(struct nl *nl, int opt)
{
	int v = 0;
	socklen_t len = sizeof(v);

	if (getsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, opt, &v, &len) < 0)
		return 0;
	return v;
}

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

static void replies_fail(struct replies *r, bool last_word, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* rc, unless there is an earlier error; last_word: rc all the same. */
static void replies_fail(struct replies *r, bool last_word, int rc, const char *fmt, ...)
{
	va_list ap;

	if (r->rc && !last_word)
		return;
	r->rc = rc;
	if (!r->why || !r->whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(r->why, r->whylen, fmt, ap);
	va_end(ap);
}

static void replies_parse(struct replies *r, const void *buf, size_t len)
{
	const struct nlmsghdr *nlh = buf;
	int left = (int)len;

	for (; nlmsg_whole(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		if (nlh->nlmsg_seq != r->seq || nlh->nlmsg_pid != r->portid)
			continue;
		r->seen++;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			r->done = true;
			if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e))) {
				replies_fail(r, true, -EBADMSG,
					     "reply %zu: an error message of %u bytes", r->seen,
					     nlh->nlmsg_len);
			} else if (e->error < -MAX_ERRNO || e->error > 0) {
				replies_fail(r, true, -EBADMSG, "reply %zu: error code %d", r->seen,
					     e->error);
			} else if (e->error) {
				replies_fail(r, true, e->error, "the kernel answered: %s",
					     strerror(-e->error));
			}
			return;
		}
		if (nlh->nlmsg_type == NLMSG_DONE) {
			/* A dump may end with a negative errno as payload. */
			r->done = true;
			if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(int))) {
				int v = *(const int *)mnl_nlmsg_get_payload(nlh);
				if (v < 0 && v >= -MAX_ERRNO)
					replies_fail(r, false, v, "the dump ended with an error: %s",
						     strerror(-v));
				else if (v < 0)
					replies_fail(r, false, -EBADMSG,
						     "the dump ended with error code %d", v);
			}
			return;
		}
		if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
			replies_fail(r, false, -EINTR,
				     "reply %zu: the kernel flagged the dump interrupted", r->seen);
		if (r->gen && nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nfgenmsg))) {
			replies_fail(r, false, -EBADMSG,
				     "reply %zu: %u bytes, no room for its nfgenmsg", r->seen,
				     nlh->nlmsg_len);
			continue;
		}
		if (r->gen) {
			const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
			if (ntohs(g->res_id) != (*r->gen & 0xffff))
				replies_fail(r, false, -EINTR,
					     "reply %zu is of generation %u (res_id), not %u",
					     r->seen, ntohs(g->res_id), *r->gen & 0xffff);
		}
		if (!r->rc && r->cb) {
			int rc = r->cb(nlh, r->data);
			if (rc < 0)
				replies_fail(r, false, rc, "reply %zu: %s", r->seen, strerror(-rc));
		}
	}
	if (left > 0)
		replies_fail(r, false, -EBADMSG,
			     "a message cut short: %d bytes after the last whole one", left);
}

/* Send one request, read its replies (struct replies): 0 or the first error. */
static int nl_talk(struct nl *nl, struct nlmsghdr *req, reply_cb cb, void *data,
		   const uint32_t *gen)
{
	struct replies r = {
		.seq = req->nlmsg_seq,
		.portid = nl->portid,
		.gen = gen,
		.cb = cb,
		.data = data,
	};
	int err;

	err = nl_send_raw(nl, req);
	if (err)
		return err;
	while (!r.done) {
		ssize_t len = nl_recv(nl, true);
		if (len < 0)
			return (int)len;
		replies_parse(&r, nl->buf, (size_t)len);
	}
	return r.rc;
}

/* buf: MNL_SOCKET_BUFFER_SIZE, cleared for the attribute padding (see batch_cursor()). */
static struct nlmsghdr *req_hdr(struct nl *nl, char *buf, uint16_t type, uint16_t fam,
				uint16_t flags)
{
	memset(buf, 0, MNL_SOCKET_BUFFER_SIZE);
	return nftnl_nlmsg_build_hdr(buf, type, fam, flags, ++nl->seq);
}

static int gen_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_gen *g = xcheck(nftnl_gen_alloc());
	int rc = -EBADMSG;

	if (nftnl_gen_nlmsg_parse(nlh, g) == 0 && nftnl_gen_is_set(g, NFTNL_GEN_ID)) {
		*(uint32_t *)data = nftnl_gen_get_u32(g, NFTNL_GEN_ID);
		rc = 0;
	}
	nftnl_gen_free(g);
	return rc;
}

int nl_getgen(struct nl *nl, uint32_t *genid)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = req_hdr(nl, buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK);

	*genid = 0;
	return nl_talk(nl, nlh, gen_cb, genid, NULL);
}

/*
 * Is gen the generation, with no commit under way? A commit bumps the
 * generation first and changes sets, chains and rules after, so a reader
 * can be handed the new number while the tree still moves under its dump.
 * The generation in a batch BEGIN is compared under the commit mutex, that
 * is once any commit under way has finished; without END the batch commits
 * nothing. Errors are queued before sendmsg() returns. Returns 0, -EINTR if
 * the generation is not gen any more, or -errno.
 */
int nl_gen_settled(struct nl *nl, uint32_t gen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct nfgenmsg *g;
	uint32_t seq = ++nl->seq;
	int rc = 0;

	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = NFNL_MSG_BATCH_BEGIN;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(NFNL_SUBSYS_NFTABLES);
	mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(gen));
	/*
	 * Then END: an empty transaction. The kernel checks gen under its
	 * commit mutex (ERESTART if the ruleset moved on) and has nothing to
	 * commit, which costs nothing. A BEGIN alone would be aborted, and an
	 * abort waits for an RCU grace period: 10-15 ms on every read.
	 */
	struct nlmsghdr *end = mnl_nlmsg_put_header((char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len));
	end->nlmsg_type = NFNL_MSG_BATCH_END;
	end->nlmsg_flags = NLM_F_REQUEST;
	end->nlmsg_seq = ++nl->seq;
	g = mnl_nlmsg_put_extra_header(end, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(NFNL_SUBSYS_NFTABLES);
	if (mnl_socket_sendto(nl->sock, buf, (size_t)((char *)end - buf) + end->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t len = nl_recv(nl, false);
		if (len == -EAGAIN)
			break;
		if (len < 0)
			return (int)len;
		const struct nlmsghdr *m = (const struct nlmsghdr *)nl->buf;
		int left = (int)len;
		for (; nlmsg_whole(m, left); m = mnl_nlmsg_next(m, &left)) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(m);
			if (m->nlmsg_type == NLMSG_ERROR && m->nlmsg_seq == seq &&
			    m->nlmsg_len >= mnl_nlmsg_size(sizeof(*e)) && e->error && !rc)
				rc = e->error == -ERESTART ? -EINTR : e->error;
		}
	}
	return rc;
}

static bool no_nftables(int e)
{
	return e == EPROTONOSUPPORT || e == EAFNOSUPPORT || e == EOPNOTSUPP || e == EINVAL;
}

int nl_open(struct nl **out, char *err, size_t errlen)
{
	struct nl *nl = xcalloc(1, sizeof(*nl));
	uint32_t gen;
	int one = 1, rc;

	*out = NULL;
	nl->sock = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl->sock) {
		rc = -errno;
		if (no_nftables(-rc))
			seterr(err, errlen, "nf_tables is not available: no nfnetlink in this kernel");
		else if (rc == -EPERM || rc == -EACCES)
			seterr(err, errlen, "permission denied: needs root or CAP_NET_ADMIN");
		else
			seterr(err, errlen, "cannot open a netfilter netlink socket: %s", strerror(-rc));
		goto err_free;
	}
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		seterr(err, errlen, "cannot bind the netlink socket: %s", strerror(-rc));
		goto err_close;
	}
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);
	nl->buf = xmalloc(RECV_BUF);

	/*
	 * Errors that say where (attribute offset, text: Linux 4.12) and that
	 * echo only the failing message's header, not 64 KiB of elements.
	 * Older kernels ignore both; errors then echo the message in full.
	 */
	setsockopt(mnl_socket_get_fd(nl->sock), SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(mnl_socket_get_fd(nl->sock), SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));

	/*
	 * The *FORCE variants pass net.core.[rw]mem_max but want CAP_NET_ADMIN
	 * in the initial user namespace, which root of a container's own
	 * namespace lacks while nf_tables there is its to change: then take
	 * what the limits allow, and let a batch too big for it fail by name.
	 */
	rc = nl_setbuf(nl, SO_RCVBUFFORCE, RCVBUF_SIZE);
	if (rc == -EPERM)
		rc = nl_setbuf(nl, SO_RCVBUF, RCVBUF_SIZE);
	if (!rc) {
		rc = nl_setbuf(nl, SO_SNDBUFFORCE, SNDBUF_MIN);
		nl->force = !rc;
		if (rc == -EPERM)
			rc = nl_setbuf(nl, SO_SNDBUF, SNDBUF_MIN);
	}
	if (rc) {
		seterr(err, errlen, "cannot size the netlink socket buffers: %s", strerror(-rc));
		goto err_close;
	}
	nl->sndbuf = nl_getbuf(nl, SO_SNDBUF) - 64;

	rc = nl_getgen(nl, &gen);
	if (rc) {
		if (rc == -EPERM)
			seterr(err, errlen, "permission denied: needs root or CAP_NET_ADMIN");
		else if (no_nftables(-rc) || rc == -ENOENT)
			seterr(err, errlen, "nf_tables is not available: %s", strerror(-rc));
		else
			seterr(err, errlen, "cannot read the ruleset generation: %s", strerror(-rc));
		goto err_close;
	}
	*out = nl;
	return 0;

err_close:
	mnl_socket_close(nl->sock);
err_free:
	free(nl->buf);
	free(nl);
	return rc;
}

void nl_close(struct nl *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->sock);
	free(nl->buf);
	free(nl);
}

/* ---------------------------------------------------------------- rules */

static struct nftnl_expr *expr_new(struct nftnl_rule *r, const char *name)
{
	struct nftnl_expr *e = xcheck(nftnl_expr_alloc(name));

	nftnl_rule_add_expr(r, e);
	return e;
}

static void put_meta(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = expr_new(r, "meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
}

static void put_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = expr_new(r, "cmp");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

static void put_payload(struct nftnl_rule *r, uint32_t base, uint32_t offset, uint32_t len)
{
	struct nftnl_expr *e = expr_new(r, "payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
}

static void put_lookup(struct nftnl_rule *r, const char *set, uint32_t set_id)
{
	struct nftnl_expr *e = expr_new(r, "lookup");

	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	if (set_id)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
}

#define ANON_SET_NAME "__set%d"

/* The kernel's hook number of a chain of the plan. */
static uint32_t hook_number(enum plan_hook h)
{
	switch (h) {
	case PLAN_HOOK_INPUT:
		return NF_INET_LOCAL_IN;
	}
	return NF_INET_LOCAL_IN;
}

/* A chain's policy: accept or drop (nf_tables has no reject policy). */
static uint32_t policy_number(enum verdict v)
{
	return v == VERDICT_ACCEPT ? NF_ACCEPT : NF_DROP;
}

/*
 * A rule of the plan as nft 1.0.6 linearizes it:
 *   meta l4proto; dport (cmp eq | cmp gte + lte | lookup of an anonymous set);
 *   [meta nfproto; saddr; lookup of the family's set]; counter; verdict.
 * The nfproto check is not implied by the lookup: without it the first bytes
 * of an IPv6 header would be looked up in the IPv4 set. port_set_id and
 * addr_set_id: the batch's ids of sets it creates, 0 for none.
 */
static struct nftnl_rule *rule_build(const char *table, const char *chain,
				     const struct plan_rule *pr, uint32_t port_set_id,
				     uint32_t addr_set_id)
{
	struct nftnl_rule *r = xcheck(nftnl_rule_alloc());
	const struct plan_ports *pp = &pr->ports;
	struct nftnl_expr *e;
	uint8_t l4 = pp->proto == PROTO_TCP ? IPPROTO_TCP : IPPROTO_UDP;

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);

	put_meta(r, NFT_META_L4PROTO);
	put_cmp(r, NFT_CMP_EQ, &l4, sizeof(l4));
	put_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	if (pp->n == 1) {
		uint16_t lo = htons((uint16_t)pp->v[0].lo), hi = htons((uint16_t)pp->v[0].hi);
		if (lo == hi) {
			put_cmp(r, NFT_CMP_EQ, &lo, sizeof(lo));
		} else {
			put_cmp(r, NFT_CMP_GTE, &lo, sizeof(lo));
			put_cmp(r, NFT_CMP_LTE, &hi, sizeof(hi));
		}
	} else {
		put_lookup(r, ANON_SET_NAME, port_set_id);
	}
	switch (pr->dest) {
	case PLAN_DEST_ANY:
		break;
	}
	if (pr->from) {
		uint8_t nfproto = pr->from->fam == FAM_V4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
		put_meta(r, NFT_META_NFPROTO);
		put_cmp(r, NFT_CMP_EQ, &nfproto, sizeof(nfproto));
		if (pr->from->fam == FAM_V4)
			put_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4);
		else
			put_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 8, 16);
		put_lookup(r, pr->from->name, addr_set_id);
	}
	if (pr->counter)
		expr_new(r, "counter");
	if (pr->verdict == VERDICT_REJECT) {
		e = expr_new(r, "reject");
		if (pp->proto == PROTO_TCP) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_TCP_RST);
			nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, 0);
		} else {
			nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_ICMPX_UNREACH);
			nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, NFT_REJECT_ICMPX_PORT_UNREACH);
		}
	} else {
		e = expr_new(r, "immediate");
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT,
				   pr->verdict == VERDICT_ACCEPT ? NF_ACCEPT : NF_DROP);
	}
	return r;
}

/* Set contents for a fingerprint's anonymous lookup; NULL if unknown. */
typedef bool (*anon_text_fn)(const char *set, void *ctx, struct sbuf *sb);

/*
 * The expressions of a rule as text, the counter's values and the anonymous
 * set's generated name left out; fills the rule's counter and named set.
 */
static char *rule_fingerprint(struct nftnl_rule *r, anon_text_fn anon, void *ctx,
			      struct nl_rule_live *info)
{
	struct nftnl_expr_iter *it = xcheck(nftnl_expr_iter_create(r));
	struct nftnl_expr *e;
	struct sbuf sb = { 0 };
	char t[512];

	while ((e = nftnl_expr_iter_next(it))) {
		const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
		if (sb.len)
			sb_printf(&sb, " ");
		if (streq(name, "counter")) {
			sb_printf(&sb, "[ counter ]");
			if (info) {
				info->has_counter = true;
				info->packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
				info->bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
			}
			continue;
		}
		if (streq(name, "lookup")) {
			const char *set = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
			uint32_t flags = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS)
						 ? nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS)
						 : 0;
			sb_printf(&sb, "[ lookup reg %u set ",
				  nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG));
			if (set && !strncmp(set, "__set", 5)) {
				if (!anon || !anon(set, ctx, &sb))
					sb_printf(&sb, "{ ? }");
			} else {
				sb_printf(&sb, "%s", set ? set : "?");
				if (info && set && !info->set_name)
					info->set_name = xstrdup(set);
			}
			if (nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG))
				sb_printf(&sb, " dreg %u",
					  nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_DREG));
			sb_printf(&sb, "%s ]", flags & NFT_LOOKUP_F_INV ? " inverted" : "");
			continue;
		}
		t[0] = 0;
		nftnl_expr_snprintf(t, sizeof(t), e, NFTNL_OUTPUT_DEFAULT, 0);
		sb_printf(&sb, "[ %s %s]", name, t);
	}
	nftnl_expr_iter_destroy(it);
	return sb_take(&sb);
}

/* ---------------------------------------------------------------- batch */

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

static void batch_problem(struct nl_batch *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void batch_problem(struct nl_batch *b, const char *fmt, ...)
{
	va_list ap;

	if (b->problem[0])
		return;
	va_start(ap, fmt);
	vsnprintf(b->problem, sizeof(b->problem), fmt, ap);
	va_end(ap);
}

static uint32_t batch_what(struct nl_batch *b, const char *what)
{
	if (b->nwhats && streq(b->whats[b->nwhats - 1], what))
		return (uint32_t)(b->nwhats - 1);
	b->whats = grow(b->whats, &b->whats_cap, b->nwhats + 1, sizeof(*b->whats));
	b->whats[b->nwhats] = xstrdup(what);
	return (uint32_t)b->nwhats++;
}

static uint32_t batch_seq(const struct nl_batch *b)
{
	return b->seq0 + (uint32_t)b->nops;
}

/*
 * Where the next message goes, with room for the largest one cleared:
 * libmnl 1.0.4 leaves attribute padding as it finds it, and the pages come
 * from malloc, so without this stale heap bytes would go to the kernel.
 * Pages fill front to back, so each byte is cleared once.
 */
static void *batch_cursor(struct nl_batch *b)
{
	char *p = nftnl_batch_buffer(b->nb);
	char *page = p - nftnl_batch_buffer_len(b->nb);
	char *limit = page + BATCH_PAGE + BATCH_OVERRUN;
	char *want = p + BATCH_OVERRUN < limit ? p + BATCH_OVERRUN : limit;

	if (page != b->page) {
		b->page = page;
		b->cleared = p;
	}
	if (b->cleared < p)
		b->cleared = p;
	if (want > b->cleared) {
		memset(b->cleared, 0, (size_t)(want - b->cleared));
		b->cleared = want;
	}
	return p;
}

static struct nlmsghdr *batch_hdr(struct nl_batch *b, uint16_t type, uint16_t flags)
{
	return nftnl_nlmsg_build_hdr(batch_cursor(b), type, NFPROTO_INET, flags, batch_seq(b));
}

/* The message at the batch cursor is complete: record it and move on. */
static void batch_next(struct nl_batch *b, enum op kind, const char *what, unsigned key_len)
{
	b->ops = grow(b->ops, &b->ops_cap, b->nops + 1, sizeof(*b->ops));
	b->ops[b->nops++] = (struct op_record){
		.kind = (uint8_t)kind,
		.key_len = (uint8_t)key_len,
		.what = batch_what(b, what ? what : ""),
	};
	if (nftnl_batch_update(b->nb) < 0)
		batch_problem(b, "out of memory building the batch");
}

/* BEGIN carries the subsystem in res_id, and the generation to compare with. */
static void batch_begin(struct nl_batch *b)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(batch_cursor(b));
	struct nfgenmsg *g;

	nlh->nlmsg_type = NFNL_MSG_BATCH_BEGIN;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = batch_seq(b);
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(NFNL_SUBSYS_NFTABLES);
	if (b->genid)
		mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(b->genid));
	batch_next(b, OP_BEGIN, "transaction", 0);
}

static void batch_end(struct nl_batch *b)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(batch_cursor(b));
	struct nfgenmsg *g;

	nlh->nlmsg_type = NFNL_MSG_BATCH_END;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = batch_seq(b);
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(NFNL_SUBSYS_NFTABLES);
	batch_next(b, OP_END, "transaction", 0);
}

struct nl_batch *nl_batch_new(struct nl *nl, uint32_t genid)
{
	struct nl_batch *b = xcalloc(1, sizeof(*b));

	b->nl = nl;
	b->genid = genid;
	b->nb = xcheck(nftnl_batch_alloc(BATCH_PAGE, BATCH_OVERRUN));
	b->seq0 = nl ? nl->seq + 1 : 1;
	b->next_id = 1;
	batch_begin(b);
	return b;
}

void nl_batch_free(struct nl_batch *b)
{
	if (!b)
		return;
	nftnl_batch_free(b->nb);
	for (size_t i = 0; i < b->nwhats; i++)
		free(b->whats[i]);
	free(b->whats);
	for (size_t i = 0; i < b->nids; i++) {
		free(b->ids[i].table);
		free(b->ids[i].name);
	}
	free(b->ids);
	free(b->ops);
	free(b);
}

/* The set id of a set this batch creates, or 0. */
static uint32_t batch_set_id(const struct nl_batch *b, const char *table, const char *set)
{
	for (size_t i = b->nids; i-- > 0;)
		if (streq(b->ids[i].name, set) && streq(b->ids[i].table, table))
			return b->ids[i].id;
	return 0;
}

static uint32_t batch_new_set_id(struct nl_batch *b, const char *table, const char *set)
{
	uint32_t id = b->next_id++;

	b->ids = grow(b->ids, &b->ids_cap, b->nids + 1, sizeof(*b->ids));
	b->ids[b->nids++] = (struct set_id){ xstrdup(table), xstrdup(set), id };
	return id;
}

static void table_msg(struct nl_batch *b, uint16_t type, uint16_t flags, const char *table,
		      enum op kind)
{
	struct nftnl_table *t = xcheck(nftnl_table_alloc());
	struct nlmsghdr *nlh;

	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nlh = batch_hdr(b, type, flags);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	batch_next(b, kind, table, 0);
}

void nl_batch_add_table(struct nl_batch *b, const char *table)
{
	table_msg(b, NFT_MSG_NEWTABLE, NLM_F_CREATE, table, OP_TABLE_ADD);
}

void nl_batch_del_table(struct nl_batch *b, const char *table)
{
	table_msg(b, NFT_MSG_DELTABLE, 0, table, OP_TABLE_DEL);
}

/* The key byte order, as nft records it: `nft list` needs it for some types. */
static void set_udata_byteorder(struct nftnl_set *s)
{
	struct nftnl_udata_buf *ud = xcheck(nftnl_udata_buf_alloc(64));

	nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER, NFT_BYTEORDER_BIG_ENDIAN);
	nftnl_set_set_data(s, NFTNL_SET_USERDATA, nftnl_udata_buf_data(ud),
			   nftnl_udata_buf_len(ud));
	nftnl_udata_buf_free(ud);
}

static void set_msg(struct nl_batch *b, struct nftnl_set *s, const char *what)
{
	struct nlmsghdr *nlh = batch_hdr(b, NFT_MSG_NEWSET, NLM_F_CREATE);

	nftnl_set_nlmsg_build_payload(nlh, s);
	batch_next(b, OP_SET_ADD, what, 0);
}

/*
 * No NFT_SET_CONSTANT (a rule's lookup would then forbid later element
 * changes: EBUSY), no auto-merge, no size: NFTA_SET_DESC_SIZE is a hard cap
 * (ENFILE) and each interval takes two elements of it.
 */
void nl_batch_add_set(struct nl_batch *b, const char *table, const char *set, enum family fam)
{
	struct nftnl_set *s = xcheck(nftnl_set_alloc());

	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_INTERVAL);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, fam == FAM_V4 ? TYPE_IPADDR : TYPE_IP6ADDR);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, fam_key_len(fam));
	nftnl_set_set_u32(s, NFTNL_SET_ID, batch_new_set_id(b, table, set));
	set_udata_byteorder(s);
	set_msg(b, s, set);
	nftnl_set_free(s);
}

void nl_batch_add_chain(struct nl_batch *b, const char *table, const struct plan_chain *pc)
{
	struct nftnl_chain *c = xcheck(nftnl_chain_alloc());
	struct nlmsghdr *nlh;

	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, pc->name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hook_number(pc->hook));
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, pc->priority);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, policy_number(pc->policy));
	nlh = batch_hdr(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	batch_next(b, OP_CHAIN_ADD, pc->name, 0);
}

/* ------------------------------------------------------------ elements */

/* Attribute sizes of one element, as laid out by elems_put(). */
#define ATTR_SZ(payload) (MNL_ATTR_HDRLEN + MNL_ALIGN(payload))
#define ELEM_START_SZ(kl) (MNL_ATTR_HDRLEN + ATTR_SZ(ATTR_SZ(kl)))
#define ELEM_END_SZ(kl) (ELEM_START_SZ(kl) + ATTR_SZ(sizeof(uint32_t)))
#define ELEM_OPEN_UDATA 6 /* one nftnl_udata: type, len, u32 */
#define ELEM_OPEN_SZ(kl) (ELEM_START_SZ(kl) + ATTR_SZ(ELEM_OPEN_UDATA))

struct elem_writer {
	struct nl_batch *b;
	uint16_t type;
	enum op kind;
	const char *table, *set, *what;
	uint32_t set_id;
	unsigned key_len;
	struct nlmsghdr *nlh;
	struct nlattr *list;
	size_t used;
};

static void elem_writer_open(struct elem_writer *w)
{
	uint16_t flags = w->type == NFT_MSG_NEWSETELEM ? NLM_F_CREATE : 0;

	w->nlh = batch_hdr(w->b, w->type, flags);
	mnl_attr_put_strz(w->nlh, NFTA_SET_ELEM_LIST_TABLE, w->table);
	mnl_attr_put_strz(w->nlh, NFTA_SET_ELEM_LIST_SET, w->set);
	if (w->set_id)
		mnl_attr_put_u32(w->nlh, NFTA_SET_ELEM_LIST_SET_ID, htonl(w->set_id));
	w->list = mnl_attr_nest_start(w->nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	w->used = 0;
}

static void elem_writer_close(struct elem_writer *w)
{
	if (!w->nlh)
		return;
	mnl_attr_nest_end(w->nlh, w->list);
	batch_next(w->b, w->kind, w->what, w->key_len);
	w->nlh = NULL;
}

/* Room for `need` more bytes of elements, in this message or a new one. */
static void elem_writer_reserve(struct elem_writer *w, size_t need)
{
	if (w->nlh && w->used + need > NL_ELEMS_MAX)
		elem_writer_close(w);
	if (!w->nlh)
		elem_writer_open(w);
	w->used += need;
}

static void elem_writer_put(struct elem_writer *w, u128 key, bool end, bool open)
{
	struct nlattr *el, *k;
	uint8_t bytes[16];

	u128_to_be(key, bytes, w->key_len);
	el = mnl_attr_nest_start(w->nlh, NFTA_LIST_ELEM);
	k = mnl_attr_nest_start(w->nlh, NFTA_SET_ELEM_KEY);
	mnl_attr_put(w->nlh, NFTA_DATA_VALUE, w->key_len, bytes);
	mnl_attr_nest_end(w->nlh, k);
	if (end)
		mnl_attr_put_u32(w->nlh, NFTA_SET_ELEM_FLAGS, htonl(NFT_SET_ELEM_INTERVAL_END));
	if (open) {
		/*
		 * nft marks a start without end "interval open" (a host-order
		 * u32 in one udata TLV); the kernel ignores it, `nft list`
		 * reads it.
		 */
		uint8_t ud[ELEM_OPEN_UDATA] = { NFTNL_UDATA_SET_ELEM_FLAGS, 4 };
		uint32_t f = NFTNL_SET_ELEM_F_INTERVAL_OPEN;
		memcpy(ud + 2, &f, sizeof(f));
		mnl_attr_put(w->nlh, NFTA_SET_ELEM_USERDATA, sizeof(ud), ud);
	}
	mnl_attr_nest_end(w->nlh, el);
}

/* A model interval starts like a u128[2]: both kinds go through elems_put(). */
_Static_assert(offsetof(struct interval, lo) == 0 && offsetof(struct interval, hi) == sizeof(u128),
	       "struct interval starts with lo, hi");

/*
 * Intervals [lo, hi] (at base + i * stride) as start/end element pairs, an
 * interval never split between two messages; interval = false: single keys
 * (a hash set).
 */
static void elems_put(struct nl_batch *b, uint16_t type, const char *table, const char *set,
		      uint32_t set_id, const char *what, unsigned key_len, bool interval,
		      const void *base, size_t stride, size_t n)
{
	struct elem_writer w = {
		.b = b,
		.type = type,
		.kind = type == NFT_MSG_NEWSETELEM ? OP_ELEMS_ADD : OP_ELEMS_DEL,
		.table = table,
		.set = set,
		.what = what,
		.set_id = set_id,
		.key_len = key_len,
	};
	const char *p = base;
	u128 max = key_max(key_len), prev_hi = 0;
	bool add = type == NFT_MSG_NEWSETELEM;

	for (size_t i = 0; i < n; i++, p += stride) {
		u128 lo, hi;
		memcpy(&lo, p, sizeof(lo));
		memcpy(&hi, p + sizeof(u128), sizeof(hi));
		if (lo > hi || hi > max || (i && lo <= prev_hi) || (!interval && lo != hi)) {
			batch_problem(b, "set %s: intervals not ascending and disjoint at #%zu", what, i);
			break;
		}
		prev_hi = hi;
		if (!interval) {
			elem_writer_reserve(&w, ELEM_START_SZ(key_len));
			elem_writer_put(&w, lo, false, false);
			b->elements++;
		} else if (hi == max) {
			elem_writer_reserve(&w, add ? ELEM_OPEN_SZ(key_len) : ELEM_START_SZ(key_len));
			elem_writer_put(&w, lo, false, add);
			b->elements++;
		} else {
			elem_writer_reserve(&w, ELEM_START_SZ(key_len) + ELEM_END_SZ(key_len));
			elem_writer_put(&w, lo, false, false);
			elem_writer_put(&w, hi + 1, true, false);
			b->elements += 2;
		}
	}
	elem_writer_close(&w);
}

void nl_batch_add_elems(struct nl_batch *b, const char *table, const char *set, enum family fam,
			const struct range *iv, size_t n)
{
	elems_put(b, NFT_MSG_NEWSETELEM, table, set, batch_set_id(b, table, set), set,
		  fam_key_len(fam), true, iv, sizeof(*iv), n);
}

void nl_batch_del_elems(struct nl_batch *b, const char *table, const char *set, enum family fam,
			const struct range *iv, size_t n)
{
	elems_put(b, NFT_MSG_DELSETELEM, table, set, batch_set_id(b, table, set), set,
		  fam_key_len(fam), true, iv, sizeof(*iv), n);
}

void nl_batch_add_interval_set(struct nl_batch *b, const char *table, const char *set,
		       const struct interval_set *s)
{
	elems_put(b, NFT_MSG_NEWSETELEM, table, set, batch_set_id(b, table, set), set,
		  fam_key_len(s->fam), true, s->iv, sizeof(*s->iv), s->n);
}

/*
 * The anonymous set of a rule's ports, as nft makes it: constant, sized,
 * interval only if there are ranges. Its name is a template the kernel fills
 * in ("__set%d" -> "__set0"), so the rule and the elements find it by id.
 */
static uint32_t anon_port_set(struct nl_batch *b, const char *table, const struct plan_ports *pp)
{
	struct nftnl_set *s = xcheck(nftnl_set_alloc());
	uint32_t id = b->next_id++;
	/* nft counts the key-0 end element it adds to interval sets; we add none. */
	uint32_t size = pp->ranges ? (uint32_t)(2 * pp->n) : (uint32_t)pp->n;
	uint32_t flags = NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | (pp->ranges ? NFT_SET_INTERVAL : 0);
	char what[64];

	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, ANON_SET_NAME);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, TYPE_INET_SERVICE);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, 2);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, size);
	set_udata_byteorder(s);
	snprintf(what, sizeof(what), "__set%%d (%s ports)", proto_name(pp->proto));
	set_msg(b, s, what);
	nftnl_set_free(s);
	elems_put(b, NFT_MSG_NEWSETELEM, table, ANON_SET_NAME, id, what, 2, pp->ranges, pp->v,
		  sizeof(*pp->v), pp->n);
	return id;
}

/* "rule of service smtp: tcp from @smtp_v4 accept": how an error names a rule. */
static void rule_what(const struct plan_rule *pr, char *buf, size_t n)
{
	if (pr->from)
		snprintf(buf, n, "rule of service %s: %s from @%s %s", pr->svc->name,
			 proto_name(pr->ports.proto), pr->from->name, verdict_name(pr->verdict));
	else
		snprintf(buf, n, "rule of service %s: %s %s", pr->svc->name,
			 proto_name(pr->ports.proto), verdict_name(pr->verdict));
}

void nl_batch_add_rules(struct nl_batch *b, const char *table, const struct plan_chain *pc)
{
	char what[256];

	for (size_t i = 0; i < pc->nrules; i++) {
		const struct plan_rule *pr = &pc->rules[i];
		/* A rule's port set comes just before it, as nft sends them. */
		uint32_t port_set = pr->ports.n > 1 ? anon_port_set(b, table, &pr->ports) : 0;
		uint32_t addr_set = pr->from ? batch_set_id(b, table, pr->from->name) : 0;
		struct nftnl_rule *r = rule_build(table, pc->name, pr, port_set, addr_set);
		struct nlmsghdr *nlh = batch_hdr(b, NFT_MSG_NEWRULE, NLM_F_APPEND | NLM_F_CREATE);

		nftnl_rule_nlmsg_build_payload(nlh, r);
		nftnl_rule_free(r);
		rule_what(pr, what, sizeof(what));
		batch_next(b, OP_RULE_ADD, what, 0);
	}
}

void nl_batch_add_plan(struct nl_batch *b, const struct rule_plan *p)
{
	nl_batch_add_table(b, p->table);
	for (size_t i = 0; i < p->nsets; i++)
		nl_batch_add_set(b, p->table, p->sets[i].name, p->sets[i].fam);
	for (size_t i = 0; i < p->nchains; i++) {
		nl_batch_add_chain(b, p->table, &p->chains[i]);
		nl_batch_add_rules(b, p->table, &p->chains[i]);
	}
}

/* A fingerprint shows a rule's port set by its content. */
static bool ports_text(const char *set, void *ctx, struct sbuf *sb)
{
	const struct plan_ports *pp = ctx;

	(void)set;
	range_list_text(sb, pp->v, pp->n, 2);
	return true;
}

size_t nl_chain_fingerprints(const struct plan_chain *pc, char ***out)
{
	char **fp = xcalloc(pc->nrules + 1, sizeof(*fp));

	for (size_t i = 0; i < pc->nrules; i++) {
		struct nftnl_rule *r = rule_build("", "", &pc->rules[i], 0, 0);
		fp[i] = rule_fingerprint(r, ports_text, (void *)&pc->rules[i].ports, NULL);
		nftnl_rule_free(r);
	}
	*out = fp;
	return pc->nrules;
}

void nl_fingerprints_free(char **fp, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(fp[i]);
	free(fp);
}

int nl_batch_foreach(struct nl_batch *b, int (*cb)(const struct nlmsghdr *nlh, void *data),
		     void *data)
{
	int n = nftnl_batch_iovec_len(b->nb), rc = 0;
	struct iovec *iov = xcalloc((size_t)n + 1, sizeof(*iov));

	nftnl_batch_iovec(b->nb, iov, (uint32_t)n);
	for (int i = 0; i < n && !rc; i++) {
		const struct nlmsghdr *nlh = iov[i].iov_base;
		int left = (int)iov[i].iov_len;
		for (; mnl_nlmsg_ok(nlh, left) && !rc; nlh = mnl_nlmsg_next(nlh, &left))
			rc = cb(nlh, data);
	}
	free(iov);
	return rc;
}

/* ---------------------------------------------------------------- send */

struct kernel_error {
	uint32_t seq;
	int error;    /* positive errno */
	bool has_off;
	uint32_t off; /* of the failing attribute, from the start of its message */
	char msg[128];
};

struct find_msg {
	uint32_t seq;
	const struct nlmsghdr *nlh;
};

static int find_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct find_msg *f = data;

	if (nlh->nlmsg_seq != f->seq)
		return 0;
	f->nlh = nlh;
	return 1;
}

struct elem_info {
	bool ok;
	u128 key;
	bool end;
};

static struct elem_info elem_decode(const struct nlattr *el, unsigned key_len)
{
	struct elem_info ei = { 0 };
	const struct nlattr *a, *k;

	mnl_attr_for_each_nested(a, el) {
		switch (mnl_attr_get_type(a)) {
		case NFTA_SET_ELEM_KEY:
			mnl_attr_for_each_nested(k, a) {
				if (mnl_attr_get_type(k) == NFTA_DATA_VALUE &&
				    mnl_attr_get_payload_len(k) == key_len) {
					ei.key = u128_from_be(mnl_attr_get_payload(k), key_len);
					ei.ok = true;
				}
			}
			break;
		case NFTA_SET_ELEM_FLAGS:
			if (mnl_attr_get_payload_len(a) >= 4)
				ei.end = ntohl(mnl_attr_get_u32(a)) & NFT_SET_ELEM_INTERVAL_END;
			break;
		}
	}
	return ei;
}

/*
 * The interval of the element at offset `off` of element message nlh:
 * intervals never straddle messages, so its partner is a neighbour.
 */
static bool failing_interval(const struct nlmsghdr *nlh, uint32_t off, unsigned key_len,
			     u128 *lo, u128 *hi)
{
	const struct nlattr *a, *el;
	struct elem_info prev = { 0 }, cur = { 0 };
	bool found = false, want_next = false;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(el, a) {
			uint32_t start = (uint32_t)((const char *)el - (const char *)nlh);
			struct elem_info ei = elem_decode(el, key_len);
			if (want_next) {
				*hi = ei.ok && ei.end ? ei.key - 1 : key_max(key_len);
				return true;
			}
			if (off >= start && off < start + el->nla_len) {
				cur = ei;
				found = true;
				if (!cur.ok)
					return false;
				if (cur.end) {
					if (!prev.ok || prev.end)
						return false;
					*lo = prev.key;
					*hi = cur.key - 1;
					return true;
				}
				*lo = cur.key;
				want_next = true;
				continue;
			}
			prev = ei;
		}
	}
	if (found && want_next) {
		*hi = key_max(key_len);
		return true;
	}
	return false;
}

static const char *errno_text(int e)
{
	switch (e) {
	case EPERM:
		return "permission denied: needs root or CAP_NET_ADMIN";
	case ENOMEM:
		return "out of kernel memory (or the memory cgroup's limit)";
	case ENFILE:
		return "the set is full (its size limit)";
	case EMSGSIZE:
		return "message too long";
	default:
		return strerror(e);
	}
}

static void describe_error(struct nl_batch *b, const struct kernel_error *k, char *out, size_t n)
{
	const struct op_record *r = NULL;
	const char *what = "?";
	char ext[160] = "";

	if (k->seq - b->seq0 < b->nops) {
		r = &b->ops[k->seq - b->seq0];
		what = b->whats[r->what];
	}
	if (k->msg[0])
		snprintf(ext, sizeof(ext), " (kernel: %s)", k->msg);
	if (k->error == EPERM) {
		snprintf(out, n, "%s", errno_text(EPERM));
		return;
	}
	if (!r) {
		snprintf(out, n, "message %u: %s%s", k->seq, errno_text(k->error), ext);
		return;
	}
	switch (r->kind) {
	case OP_BEGIN:
	case OP_END:
		if (k->error == ERESTART)
			snprintf(out, n,
				 "the ruleset changed since generation %u (another process committed); nothing applied",
				 b->genid);
		else
			snprintf(out, n, "transaction: %s%s", errno_text(k->error), ext);
		break;
	case OP_TABLE_ADD:
		snprintf(out, n, "table %s: cannot create: %s%s", what, errno_text(k->error), ext);
		break;
	case OP_TABLE_DEL:
		snprintf(out, n, "table %s: cannot delete: %s%s", what,
			 k->error == ENOENT ? "no such table" : errno_text(k->error), ext);
		break;
	case OP_SET_ADD:
		snprintf(out, n, "set %s: cannot create: %s%s", what,
			 k->error == ENOENT ? "no such table" : errno_text(k->error), ext);
		break;
	case OP_CHAIN_ADD:
		snprintf(out, n, "chain %s: cannot create: %s%s", what,
			 k->error == ENOENT ? "no such table" : errno_text(k->error), ext);
		break;
	case OP_RULE_ADD:
		snprintf(out, n, "%s: %s%s", what,
			 k->error == ENOENT ? "a chain or set it names does not exist"
					    : errno_text(k->error),
			 ext);
		break;
	case OP_ELEMS_ADD:
	case OP_ELEMS_DEL: {
		struct find_msg f = { .seq = k->seq };
		char iv[2 * ADDR_STRLEN + 8] = "";
		u128 lo, hi;
		bool add = r->kind == OP_ELEMS_ADD;

		if (k->has_off && nl_batch_foreach(b, find_msg_cb, &f) > 0 &&
		    failing_interval(f.nlh, k->off, r->key_len, &lo, &hi))
			interval_text(lo, hi, r->key_len, iv, sizeof(iv));
		if (!iv[0]) {
			snprintf(out, n, "set %s: cannot %s elements: %s%s", what,
				 add ? "add" : "delete",
				 k->error == ENOENT ? "no such set" : errno_text(k->error), ext);
		} else if (add && k->error == EEXIST) {
			snprintf(out, n, "set %s: overlapping interval %s%s", what, iv, ext);
		} else if (!add && k->error == ENOENT) {
			snprintf(out, n, "set %s: cannot delete interval %s: not in the set%s", what,
				 iv, ext);
		} else {
			snprintf(out, n, "set %s: cannot %s interval %s: %s%s", what,
				 add ? "add" : "delete", iv, errno_text(k->error), ext);
		}
		break;
	}
	}
}

/* Collect the errors (and ignore the ACKs) of this batch's replies. */
static void parse_errors(struct nl_batch *b, const char *buf, size_t len, struct kernel_error *keep,
			 size_t *nerr)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
	uint32_t nseq = (uint32_t)b->nops;
	int left = (int)len;

	for (; nlmsg_whole(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		const struct nlmsgerr *e;
		if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_seq - b->seq0 >= nseq)
			continue;
		if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*e)))
			continue;
		e = mnl_nlmsg_get_payload(nlh);
		if (!e->error)
			continue;
		if (*nerr < KEEP_ERRORS) {
			struct kernel_error *k = &keep[*nerr];
			memset(k, 0, sizeof(*k));
			k->seq = nlh->nlmsg_seq;
			k->error = -e->error;
			if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
				size_t off = sizeof(*e);
				if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
					off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
				const struct nlattr *a;
				mnl_attr_for_each(a, nlh, off) {
					switch (mnl_attr_get_type(a)) {
					case NLMSGERR_ATTR_MSG:
						snprintf(k->msg, sizeof(k->msg), "%.*s",
							 (int)mnl_attr_get_payload_len(a),
							 (const char *)mnl_attr_get_payload(a));
						k->msg[strcspn(k->msg, "\n")] = 0;
						break;
					case NLMSGERR_ATTR_OFFS:
						if (mnl_attr_get_payload_len(a) >= 4) {
							k->off = mnl_attr_get_u32(a);
							k->has_off = true;
						}
						break;
					}
				}
			}
		}
		(*nerr)++;
	}
}

static void result_error(struct nl_result *res, enum nl_status st, int error, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void result_error(struct nl_result *res, enum nl_status st, int error, const char *fmt, ...)
{
	va_list ap;

	res->status = st;
	res->error = error;
	va_start(ap, fmt);
	vsnprintf(res->err, sizeof(res->err), fmt, ap);
	va_end(ap);
}

enum nl_status nl_batch_send(struct nl_batch *b, bool dry_run, struct nl_result *res)
{
	struct nl *nl = b->nl;
	struct kernel_error keep[KEEP_ERRORS];
	size_t nerr = 0;
	struct iovec *iov = NULL;
	uint32_t gen0 = 0, gen1 = 0;
	bool lost = false;
	int niov, rc;

	memset(res, 0, sizeof(*res));
	if (b->sent) {
		result_error(res, NL_ERROR, EINVAL, "batch sent already");
		return res->status;
	}
	b->sent = true;
	if (b->problem[0]) {
		result_error(res, NL_ERROR, EINVAL, "%s; nothing sent", b->problem);
		return res->status;
	}
	if (!nl) {
		result_error(res, NL_ERROR, EINVAL, "no netlink socket");
		return res->status;
	}
	if (!dry_run)
		batch_end(b);
	if (b->problem[0]) {
		result_error(res, NL_ERROR, ENOMEM, "%s; nothing sent", b->problem);
		return res->status;
	}
	nl->seq = b->seq0 + (uint32_t)b->nops;
	res->messages = b->nops;
	res->elements = b->elements;

	niov = nftnl_batch_iovec_len(b->nb);
	iov = xcalloc((size_t)niov + 1, sizeof(*iov));
	nftnl_batch_iovec(b->nb, iov, (uint32_t)niov);
	for (int i = 0; i < niov; i++)
		res->bytes += iov[i].iov_len;

	rc = nl_drain(nl);
	if (!rc)
		rc = nl_getgen(nl, &gen0);
	if (rc) {
		result_error(res, NL_ERROR, -rc, "cannot read the ruleset generation: %s",
			     errno_text(-rc));
		goto out;
	}
	res->genid = gen0;

	/*
	 * netlink_sendmsg() refuses (EMSGSIZE) a message larger than the send
	 * buffer; the kernel doubles what it is given and keeps it in an int.
	 */
	if (res->bytes > (size_t)nl->sndbuf) {
		if (res->bytes > (size_t)(INT32_MAX / 2) - (64u << 10)) {
			result_error(res, NL_ERROR, EMSGSIZE,
				     "batch of %zu bytes is larger than a netlink socket takes",
				     res->bytes);
			goto out;
		}
		int want = (int)(res->bytes + (64u << 10));
		rc = nl_setbuf(nl, nl->force ? SO_SNDBUFFORCE : SO_SNDBUF, want);
		if (rc) {
			result_error(res, NL_ERROR, -rc, "cannot raise the send buffer to %d bytes: %s",
				     want, errno_text(-rc));
			goto out;
		}
		nl->sndbuf = nl_getbuf(nl, SO_SNDBUF) - 64;
		if (res->bytes > (size_t)nl->sndbuf) {
			result_error(res, NL_ERROR, EMSGSIZE,
				     "batch of %zu bytes does not fit the socket's send buffer (%d bytes): raising it needs CAP_NET_ADMIN in the initial namespace, or a larger net.core.wmem_max",
				     res->bytes, nl->sndbuf);
			goto out;
		}
	}

	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct msghdr msg = {
		.msg_name = &kernel,
		.msg_namelen = sizeof(kernel),
		.msg_iov = iov,
		.msg_iovlen = (size_t)niov,
	};
	ssize_t sent;
	do
		sent = sendmsg(mnl_socket_get_fd(nl->sock), &msg, 0);
	while (sent < 0 && errno == EINTR);
	if (sent < 0) {
		int e = errno;
		if (e == ENOBUFS)
			result_error(res, NL_UNKNOWN, e, "sending the batch: %s", strerror(e));
		else if (e == EMSGSIZE)
			result_error(res, NL_ERROR, e, "batch of %zu bytes: message too long",
				     res->bytes);
		else
			result_error(res, NL_ERROR, e, "sending the batch: %s", errno_text(e));
		goto settle;
	}

	/*
	 * nfnetlink runs the whole batch inside sendmsg() and queues every error
	 * before returning, so what is not queued now will not come. We ask for
	 * no ACKs: BEGIN/END are only acknowledged from Linux 6.10, and a zero
	 * ACK of an operation means nothing until the commit.
	 */
	for (;;) {
		ssize_t len = nl_recv(nl, false);
		if (len == -EAGAIN)
			break;
		if (len == -ENOBUFS) {
			lost = true;
			continue;
		}
		if (len < 0) {
			result_error(res, NL_UNKNOWN, (int)-len, "reading the replies: %s",
				     strerror((int)-len));
			goto settle;
		}
		parse_errors(b, nl->buf, (size_t)len, keep, &nerr);
	}
	res->errors = nerr;

	if (nerr) {
		char first[400];
		bool restart = false;
		for (size_t i = 0; i < nerr && i < KEEP_ERRORS; i++)
			if (keep[i].error == ERESTART && keep[i].seq == b->seq0)
				restart = true;
		describe_error(b, &keep[0], first, sizeof(first));
		if (nerr > 1)
			result_error(res, restart ? NL_RESTART : NL_ERROR, keep[0].error,
				     "%s (and %zu more error%s)", first, nerr - 1,
				     nerr == 2 ? "" : "s");
		else
			result_error(res, restart ? NL_RESTART : NL_ERROR, keep[0].error, "%s",
				     first);
		res->genid = gen0;
		goto out;
	}
	if (lost) {
		result_error(res, NL_UNKNOWN, ENOBUFS,
			     "replies were lost (ENOBUFS): outcome unknown until the generation is checked");
		goto settle;
	}
	if (dry_run) {
		res->status = NL_OK;
		res->genid = gen0;
		goto out;
	}
	rc = nl_getgen(nl, &gen1);
	if (rc) {
		result_error(res, NL_UNKNOWN, -rc,
			     "batch sent, but the generation cannot be read: %s", strerror(-rc));
		goto out;
	}
	/*
	 * Every error is queued before sendmsg() returns, so none means the
	 * commit happened. A batch that changes nothing (elements already
	 * there, a table that exists) commits nothing: the generation stays.
	 * With compare-and-swap a real commit is exactly the next generation;
	 * without, another one may have come in since, and gen1 is later.
	 */
	res->status = NL_OK;
	res->changed = gen1 != gen0;
	if (!res->changed)
		res->genid = gen0;
	else if (b->genid)
		res->genid = b->genid + 1 ? b->genid + 1 : 1; /* the kernel skips 0 */
	else
		res->genid = gen1;
	goto out;

settle:
	if (nl_getgen(nl, &gen1) == 0) {
		res->genid = gen1;
		size_t l = strlen(res->err);
		snprintf(res->err + l, sizeof(res->err) - l, "; generation %u before, %u now", gen0,
			 gen1);
	}
out:
	free(iov);
	return res->status;
}

/* ---------------------------------------------------------------- read */

static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_elem_dump *d = data;
	const struct nlattr *a, *el;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(el, a) {
			struct elem_info ei = elem_decode(el, d->key_len);
			if (!ei.ok) {
				d->bad++;
				continue;
			}
			if (d->n == d->cap)
				d->v = grow(d->v, &d->cap, d->n + 1, sizeof(*d->v));
			d->v[d->n].key = ei.key;
			d->v[d->n].end = ei.end;
			d->n++;
		}
	}
	return MNL_CB_OK;
}

int nl_elems_parse(struct nl_elem_dump *d, const void *buf, size_t len)
{
	struct replies r = {
		.seq = d->seq,
		.portid = d->portid,
		.gen = &d->genid,
		.cb = elems_cb,
		.data = d,
		.rc = d->rc,
		.done = d->done,
		.seen = d->seen,
		.why = d->err,
		.whylen = sizeof(d->err),
	};

	if (!d->done)
		replies_parse(&r, buf, len);
	d->rc = r.rc;
	d->done = r.done;
	d->seen = r.seen;
	if (!d->done)
		return 0;
	return d->rc ? d->rc : 1;
}

/* Ascending by key; on equal keys the end (of the interval before) first. */
static int element_cmp(const void *pa, const void *pb)
{
	const struct set_element *a = pa, *b = pb;

	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return (int)b->end - (int)a->end;
}

static bool element_before(const struct set_element *a, const struct set_element *b)
{
	return a->key < b->key || (a->key == b->key && a->end && !b->end);
}

/*
 * Ascending (the dump comes descending; anything else is sorted), and count
 * elements seen twice: strictly ordered input cannot hold any.
 */
static void elems_order(struct nl_elem_dump *d)
{
	struct set_element *v = d->v;
	size_t n = d->n;
	bool asc = true, desc = true;

	for (size_t i = 1; i < n && (asc || desc); i++) {
		if (!element_before(&v[i - 1], &v[i]))
			asc = false;
		if (!element_before(&v[i], &v[i - 1]))
			desc = false;
	}
	if (!asc && desc) {
		for (size_t i = 0; i < n / 2; i++) {
			struct set_element t = v[i];
			v[i] = v[n - 1 - i];
			v[n - 1 - i] = t;
		}
	} else if (!asc) {
		qsort(v, n, sizeof(*v), element_cmp);
		for (size_t i = 1; i < n; i++)
			d->dups += v[i].key == v[i - 1].key && v[i].end == v[i - 1].end;
	}
}

int nl_elems_finish(struct nl_elem_dump *d, struct nl_set_live *s)
{
	elems_order(d);
	/*
	 * A dump walks the tree again from the start each round and skips
	 * what it has counted; a batch inserting elements meanwhile (not
	 * yet committed, no new generation) makes it count some twice.
	 */
	if (d->dups) {
		seterr(d->err, sizeof(d->err), "%zu element%s came twice: the dump raced a change",
		       d->dups, d->dups == 1 ? "" : "s");
		return -EINTR;
	}
	s->nelems = d->n;
	elements_to_ranges(d->v, d->n, s->flags & NFT_SET_INTERVAL, key_max(d->key_len), &s->iv,
			   &s->n, &s->unpaired);
	s->unpaired += d->bad;
	s->has_elems = true;
	return 0;
}

void nl_elem_dump_free(struct nl_elem_dump *d)
{
	free(d->v);
	d->v = NULL;
	d->n = d->cap = 0;
}

struct read_ctx {
	struct nl *nl;
	const char *table;
	struct nl_table_live *t;
	size_t set_cap, chain_cap, rule_cap;
};

static int table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *rc = data;
	struct nftnl_table *t = xcheck(nftnl_table_alloc());

	if (nftnl_table_nlmsg_parse(nlh, t) == 0) {
		const char *name = nftnl_table_get_str(t, NFTNL_TABLE_NAME);
		if (name && streq(name, rc->table)) {
			rc->t->present = true;
			rc->t->flags = nftnl_table_get_u32(t, NFTNL_TABLE_FLAGS);
		}
	}
	nftnl_table_free(t);
	return MNL_CB_OK;
}

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *rc = data;
	struct nftnl_set *s = xcheck(nftnl_set_alloc());
	struct nl_table_live *t = rc->t;

	if (nftnl_set_nlmsg_parse(nlh, s) == 0) {
		const char *table = nftnl_set_get_str(s, NFTNL_SET_TABLE);
		const char *name = nftnl_set_get_str(s, NFTNL_SET_NAME);
		if (table && name && streq(table, rc->table)) {
			t->sets = grow(t->sets, &rc->set_cap, t->nsets + 1, sizeof(*t->sets));
			struct nl_set_live *l = &t->sets[t->nsets++];
			memset(l, 0, sizeof(*l));
			l->name = xstrdup(name);
			l->flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
			l->key_type = nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE);
			l->key_len = nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN);
			l->handle = nftnl_set_get_u64(s, NFTNL_SET_HANDLE);
			l->fam = l->key_type == TYPE_IP6ADDR ? FAM_V6 : FAM_V4;
		}
	}
	nftnl_set_free(s);
	return MNL_CB_OK;
}

static int chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *rc = data;
	struct nftnl_chain *c = xcheck(nftnl_chain_alloc());
	struct nl_table_live *t = rc->t;

	if (nftnl_chain_nlmsg_parse(nlh, c) == 0) {
		const char *table = nftnl_chain_get_str(c, NFTNL_CHAIN_TABLE);
		const char *name = nftnl_chain_get_str(c, NFTNL_CHAIN_NAME);
		if (table && name && streq(table, rc->table)) {
			t->chains = grow(t->chains, &rc->chain_cap, t->nchains + 1,
					 sizeof(*t->chains));
			struct nl_chain_live *l = &t->chains[t->nchains++];
			memset(l, 0, sizeof(*l));
			l->name = xstrdup(name);
			l->handle = nftnl_chain_get_u64(c, NFTNL_CHAIN_HANDLE);
			if (nftnl_chain_is_set(c, NFTNL_CHAIN_HOOKNUM)) {
				const char *type = nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE);
				l->base = true;
				l->hook = nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM);
				l->prio = nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO);
				l->policy = nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY);
				l->type = type ? xstrdup(type) : NULL;
			}
		}
	}
	nftnl_chain_free(c);
	return MNL_CB_OK;
}

static bool live_anon_text(const char *set, void *ctx, struct sbuf *sb)
{
	const struct nl_set_live *s = nl_table_live_set(ctx, set);

	if (!s || !s->has_elems)
		return false;
	range_list_text(sb, s->iv, s->n, s->key_len);
	return true;
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *rc = data;
	struct nftnl_rule *r = xcheck(nftnl_rule_alloc());
	struct nl_table_live *t = rc->t;

	if (nftnl_rule_nlmsg_parse(nlh, r) == 0) {
		const char *table = nftnl_rule_get_str(r, NFTNL_RULE_TABLE);
		const char *chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
		if (table && chain && streq(table, rc->table)) {
			t->rules = grow(t->rules, &rc->rule_cap, t->nrules + 1, sizeof(*t->rules));
			struct nl_rule_live *l = &t->rules[t->nrules++];
			memset(l, 0, sizeof(*l));
			l->chain = xstrdup(chain);
			l->handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
			l->fingerprint = rule_fingerprint(r, live_anon_text, t, l);
		}
	}
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

static int read_elems(struct read_ctx *rc, struct nl_set_live *s, uint32_t gen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = req_hdr(rc->nl, buf, NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_DUMP);
	struct nl_elem_dump d = {
		.seq = nlh->nlmsg_seq,
		.portid = rc->nl->portid,
		.genid = gen,
		.key_len = s->key_len,
	};
	int err;

	if (s->key_len == 0 || s->key_len > 16)
		return 0; /* concatenations and the like: not ours */
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, rc->table);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, s->name);
	err = nl_send_raw(rc->nl, nlh);
	while (!err) {
		ssize_t len = nl_recv(rc->nl, true);
		err = len < 0 ? (int)len : nl_elems_parse(&d, rc->nl->buf, (size_t)len);
	}
	if (err == 1)
		err = nl_elems_finish(&d, s);
	nl_elem_dump_free(&d);
	return err;
}

static int dump_objects(struct read_ctx *rc, uint16_t type, reply_cb cb, uint32_t gen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = req_hdr(rc->nl, buf, type, NFPROTO_INET, NLM_F_DUMP);

	/* The kernel filters set and rule dumps by table; chains are filtered here. */
	if (type == NFT_MSG_GETSET)
		mnl_attr_put_strz(nlh, NFTA_SET_TABLE, rc->table);
	else if (type == NFT_MSG_GETRULE)
		mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, rc->table);
	return nl_talk(rc->nl, nlh, cb, rc, &gen);
}

static int read_once(struct nl *nl, const char *table, bool with_elements,
		     struct nl_table_live *t, uint32_t gen)
{
	struct read_ctx rc = { .nl = nl, .table = table, .t = t };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int err;

	nlh = req_hdr(nl, buf, NFT_MSG_GETTABLE, NFPROTO_INET, NLM_F_ACK);
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, table);
	err = nl_talk(nl, nlh, table_cb, &rc, &gen);
	if (err == -ENOENT)
		return 0;
	if (err)
		return err;
	/* From here on a missing table or set means someone deleted it meanwhile. */
	err = dump_objects(&rc, NFT_MSG_GETSET, set_cb, gen);
	for (size_t i = 0; !err && i < t->nsets; i++) {
		if (!with_elements && !(t->sets[i].flags & NFT_SET_ANONYMOUS))
			continue;
		err = read_elems(&rc, &t->sets[i], gen);
	}
	if (!err)
		err = dump_objects(&rc, NFT_MSG_GETCHAIN, chain_cb, gen);
	if (!err)
		err = dump_objects(&rc, NFT_MSG_GETRULE, rule_cb, gen);
	if (err)
		return err == -ENOENT ? -EINTR : err;
	for (size_t i = 0; i < t->nrules; i++)
		for (size_t c = 0; c < t->nchains; c++)
			if (streq(t->chains[c].name, t->rules[i].chain))
				t->chains[c].nrules++;
	return 0;
}

static bool table_has_unpaired(const struct nl_table_live *t)
{
	for (size_t i = 0; i < t->nsets; i++)
		if (t->sets[i].unpaired)
			return true;
	return false;
}

int nl_read_table(struct nl *nl, const char *table, bool with_elements,
		  struct nl_table_live *out, char *err, size_t errlen)
{
	int rc = 0;

	memset(out, 0, sizeof(*out));
	for (int attempt = 0, unpaired_retries = 0; attempt < READ_ATTEMPTS; attempt++) {
		uint32_t g1, g2;

		nl_table_live_free(out);
		rc = nl_drain(nl);
		if (!rc)
			rc = nl_getgen(nl, &g1);
		if (!rc)
			rc = nl_gen_settled(nl, g1);
		/*
		 * EINTR: a commit under way or since, a dump interrupted or
		 * answered for another generation, an element seen twice.
		 */
		if (rc == -EINTR || rc == -ENOBUFS)
			continue;
		if (rc)
			break;
		rc = read_once(nl, table, with_elements, out, g1);
		if (rc == -EINTR || rc == -ENOBUFS)
			continue;
		if (rc)
			break;
		rc = nl_getgen(nl, &g2);
		if (rc)
			break;
		if (g2 != g1) {
			rc = -EINTR;
			continue;
		}
		/*
		 * A batch that inserted elements and was then aborted (a dry
		 * run, a failed apply) leaves no trace in the generation, but a
		 * dump that ran across it loses elements and shows unpaired ones:
		 * read again, a couple of times, before reporting them as found.
		 */
		if (table_has_unpaired(out) && unpaired_retries++ < UNPAIRED_RETRIES) {
			rc = -EINTR;
			continue;
		}
		out->genid = g1;
		out->attempts = (unsigned)attempt + 1;
		return 0;
	}
	nl_table_live_free(out);
	if (rc == -EINTR || rc == -ENOBUFS)
		seterr(err, errlen,
		       "table %s: the ruleset kept changing while it was read (%d attempts)", table,
		       READ_ATTEMPTS);
	else
		seterr(err, errlen, "table %s: cannot read: %s", table, errno_text(-rc));
	return rc ? rc : -EINTR;
}

void nl_table_live_free(struct nl_table_live *t)
{
	for (size_t i = 0; i < t->nsets; i++) {
		free(t->sets[i].name);
		free(t->sets[i].iv);
	}
	free(t->sets);
	for (size_t i = 0; i < t->nchains; i++) {
		free(t->chains[i].name);
		free(t->chains[i].type);
	}
	free(t->chains);
	for (size_t i = 0; i < t->nrules; i++) {
		free(t->rules[i].chain);
		free(t->rules[i].set_name);
		free(t->rules[i].fingerprint);
	}
	free(t->rules);
	memset(t, 0, sizeof(*t));
}

bool nl_chain_live_is(const struct nl_chain_live *c, const struct plan_chain *pc)
{
	return streq(c->name, pc->name) && c->base && c->type && streq(c->type, "filter") &&
	       c->hook == hook_number(pc->hook) && c->prio == pc->priority &&
	       c->policy == policy_number(pc->policy);
}

const struct nl_set_live *nl_table_live_set(const struct nl_table_live *t, const char *name)
{
	for (size_t i = 0; i < t->nsets; i++)
		if (streq(t->sets[i].name, name))
			return &t->sets[i];
	return NULL;
}
