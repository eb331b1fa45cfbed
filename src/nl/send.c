/*
 * Sending a batch: one sendmsg(), the errors the kernel queued for it, and
 * each error as a sentence that names its object (and for set elements, the
 * interval, found from the extended ACK's attribute offset).
 */
#include "nl-private.h"

/* Errors of a batch kept for the report; the rest are counted. */
#define KEEP_ERRORS 8

/* An error the kernel returned for a message of the batch (NLMSG_ERROR, extended ACK). */
struct kernel_error {
	uint32_t seq;
	int error;    /* positive errno */
	bool has_off;
	uint32_t off; /* of the failing attribute, from the start of its message */
	char msg[128];
};

/* The message of sequence number seq, looked for with nl_batch_foreach(). */
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
