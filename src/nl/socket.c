/*
 * The NETLINK_NETFILTER socket: opening it, one request and its replies
 * (struct replies), the generation id and whether it has settled.
 */
#include "nl-private.h"

/*
 * Receive buffer: dump messages are at most 32 KiB (the kernel caps its dump
 * skb there); an error echoes at most the failing message, and with
 * NETLINK_CAP_ACK only its header.
 */
#define RECV_BUF (256u << 10)

/* Socket buffers. Errors of a batch queue up until it is processed. */
#define RCVBUF_SIZE (8 << 20)
#define SNDBUF_MIN (4 << 20)

/* The largest errno: a reply claiming another error code is malformed. */
#define MAX_ERRNO 4095

int nl_send_raw(struct nl *nl, const struct nlmsghdr *nlh)
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
ssize_t nl_recv(struct nl *nl, bool block)
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
bool nlmsg_whole(const struct nlmsghdr *nlh, int left)
{
	return left >= (int)sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) &&
	       nlh->nlmsg_len <= (unsigned)left;
}

/* Throw away whatever is queued (replies to an earlier, abandoned request). */
int nl_drain(struct nl *nl)
{
	ssize_t r;

	while ((r = nl_recv(nl, false)) >= 0)
		;
	return r == -EAGAIN ? 0 : (int)r;
}

int nl_setbuf(struct nl *nl, int opt, int size)
{
	if (setsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, opt, &size, sizeof(size)) < 0)
		return -errno;
	return 0;
}

/* What the kernel made of it: twice the request (capped by wmem_max without FORCE). */
int nl_getbuf(struct nl *nl, int opt)
{
	int v = 0;
	socklen_t len = sizeof(v);

	if (getsockopt(mnl_socket_get_fd(nl->sock), SOL_SOCKET, opt, &v, &len) < 0)
		return 0;
	return v;
}

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

void replies_parse(struct replies *r, const void *buf, size_t len)
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
int nl_talk(struct nl *nl, struct nlmsghdr *req, reply_cb cb, void *data,
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
struct nlmsghdr *req_hdr(struct nl *nl, char *buf, uint16_t type, uint16_t fam,
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
