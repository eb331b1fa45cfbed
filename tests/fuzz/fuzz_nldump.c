/*
 * A set's element dump (GETSETELEM) read back from the kernel, on hostile
 * bytes: netlink messages as the replies would bring them, in the buffers
 * recvmsg() would give, through nl_elems_parse() and nl_elems_finish() as
 * nl_read_table() runs them.
 *
 * Input: a 20-byte header, then the messages (host byte order, as netlink).
 *   byte 0       bit 0: IPv6 keys (16 bytes), else IPv4 (4 bytes);
 *                bit 1: a set without NFT_SET_INTERVAL
 *   byte 1       buffers: 1 + (byte & 3)
 *   bytes 2-7    three split points, u16 little endian: offsets into the
 *                messages, the first 1 + (byte 1 & 3) - 1 of them used
 *   bytes 8-19   the generation id, the request's seq and portid, u32 little
 *                endian
 *
 * Checked: the outcome is the one the netlink rules give, by an independent
 * walk of the same bytes: a reply of another generation (res_id), flagged
 * interrupted, without room for its nfgenmsg or cut short fails the dump
 * with a reason; NLMSG_DONE or NLMSG_ERROR ends it. A dump that ended well
 * gives intervals sorted, disjoint and inside the family that are exactly
 * what the kernel's lookup sees in the elements: a key matches if the nearest
 * element at or below it is a start. And a random valid dump made from the
 * input as the kernel makes it (the elements nl_batch_add_elems() writes, in
 * descending order, several messages and buffers, a stray reply of another
 * request) reads back as the intervals it was made from.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>

#include "fuzz.h"
#include "nl.h"
#include "util.h"

#define HDR_LEN 20
#define MAX_ERRNO 4095
/* Intervals of a made-up dump. */
#define MADE_MAX 96

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ------------------------------------------------------------ the rules */

/* What the replies should come to, walked without libmnl. */
struct want {
	int rc;
	bool done;
	bool other_gen; /* rc is for a reply of another generation */
};

static void want_error(struct want *w, bool last_word, int rc, bool other_gen)
{
	if (w->rc && !last_word)
		return;
	w->rc = rc;
	w->other_gen = other_gen;
}

/* A message of the request. */
static void want_msg(struct want *w, const uint8_t *p, const struct nlmsghdr *h, uint32_t genid)
{
	int32_t v;
	uint16_t res_id;

	if (h->nlmsg_type == NLMSG_ERROR) {
		w->done = true;
		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr))) {
			want_error(w, true, -EBADMSG, false);
			return;
		}
		memcpy(&v, p + NLMSG_HDRLEN, sizeof(v));
		if (v < -MAX_ERRNO || v > 0)
			want_error(w, true, -EBADMSG, false);
		else if (v)
			want_error(w, true, v, false);
		return;
	}
	if (h->nlmsg_type == NLMSG_DONE) {
		w->done = true;
		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(v)))
			return;
		memcpy(&v, p + NLMSG_HDRLEN, sizeof(v));
		if (v < 0)
			want_error(w, false, v >= -MAX_ERRNO ? v : -EBADMSG, false);
		return;
	}
	if (h->nlmsg_flags & NLM_F_DUMP_INTR)
		want_error(w, false, -EINTR, false);
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nfgenmsg))) {
		want_error(w, false, -EBADMSG, false);
		return;
	}
	memcpy(&res_id, p + NLMSG_HDRLEN + offsetof(struct nfgenmsg, res_id), sizeof(res_id));
	if (ntohs(res_id) != (genid & 0xffff))
		want_error(w, false, -EINTR, true);
}

static void want_buf(struct want *w, const uint8_t *p, size_t len, const struct nl_elem_dump *d)
{
	long left = (long)len;
	struct nlmsghdr h;

	while (!w->done && left >= (long)sizeof(h)) {
		memcpy(&h, p, sizeof(h));
		if (h.nlmsg_len < sizeof(h) || h.nlmsg_len > (unsigned long)left)
			break;
		if (h.nlmsg_seq == d->seq && h.nlmsg_pid == d->portid)
			want_msg(w, p, &h, d->genid);
		p += NLMSG_ALIGN(h.nlmsg_len);
		left -= (long)NLMSG_ALIGN(h.nlmsg_len);
	}
	if (!w->done && left > 0)
		want_error(w, false, -EBADMSG, false);
}

/* ------------------------------------------------------------ the intervals */

static bool has_key(const struct set_element *v, size_t n, u128 key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid].key < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && v[lo].key == key;
}

/*
 * The elements are ascending (end first on equal keys) and the intervals are
 * what a lookup finds: in at every element's key exactly when the last
 * element there is a start (any element for a set without intervals), and
 * bounded by element keys, so nothing changes between two keys.
 */
static void check_lookup(const struct nl_elem_dump *d, const struct nl_set_live *s,
			 enum family f, bool interval)
{
	const struct set_element *v = d->v;
	size_t j = 0;
	char a[36], b[36];

	for (size_t i = 1; i < d->n; i++)
		FUZZ_CHECK(v[i - 1].key < v[i].key ||
				   (v[i - 1].key == v[i].key && v[i - 1].end > v[i].end),
			   "elements %zu and %zu out of order or twice", i - 1, i);
	for (size_t i = 0; i < d->n; i++) {
		u128 x = v[i].key;
		if (i + 1 < d->n && v[i + 1].key == x)
			continue;
		while (j < s->n && s->iv[j].hi < x)
			j++;
		bool in = j < s->n && s->iv[j].lo <= x;
		FUZZ_CHECK(in == (!interval || !v[i].end), "key %s is %s the intervals",
			   fuzz_hex(x, a), in ? "in" : "not in");
	}
	for (j = 0; j < s->n; j++) {
		FUZZ_CHECK(has_key(v, d->n, s->iv[j].lo), "interval %zu starts at %s, no element",
			   j, fuzz_hex(s->iv[j].lo, a));
		if (!interval)
			FUZZ_CHECK(s->iv[j].lo == s->iv[j].hi, "single key %zu is [%s, %s]", j,
				   fuzz_hex(s->iv[j].lo, a), fuzz_hex(s->iv[j].hi, b));
		else if (s->iv[j].hi != fam_max(f))
			FUZZ_CHECK(has_key(v, d->n, s->iv[j].hi + 1),
				   "interval %zu ends at %s, no element after", j,
				   fuzz_hex(s->iv[j].hi, a));
	}
}

/* ------------------------------------------------------------ hostile bytes */

static void hostile(const uint8_t *data, size_t size)
{
	uint8_t h[HDR_LEN] = { 0 };
	enum family f;
	bool interval;
	size_t cut[5], nbuf, msgs_len;
	const uint8_t *msgs;
	struct nl_elem_dump d = { 0 };
	struct want w = { 0 };
	int r = 0;

	memcpy(h, data, size < HDR_LEN ? size : HDR_LEN);
	msgs = data + (size < HDR_LEN ? size : HDR_LEN);
	msgs_len = size < HDR_LEN ? 0 : size - HDR_LEN;
	f = h[0] & 1 ? FAM_V6 : FAM_V4;
	interval = !(h[0] & 2);
	d.key_len = f == FAM_V4 ? 4 : 16;
	d.genid = le32(h + 8);
	d.seq = le32(h + 12);
	d.portid = le32(h + 16);

	nbuf = 1 + (h[1] & 3);
	cut[0] = 0;
	for (size_t i = 1; i < nbuf; i++) {
		size_t at = (size_t)h[2 * i] | (size_t)h[2 * i + 1] << 8;
		cut[i] = at < msgs_len ? at : msgs_len;
	}
	cut[nbuf] = msgs_len;
	/* Ascending: a few, insertion sort. */
	for (size_t i = 2; i < nbuf; i++)
		for (size_t k = i; k > 1 && cut[k - 1] > cut[k]; k--) {
			size_t t = cut[k];
			cut[k] = cut[k - 1];
			cut[k - 1] = t;
		}

	for (size_t i = 0; i < nbuf; i++) {
		size_t len = cut[i + 1] - cut[i];
		/* Its own allocation, exactly as long, aligned as recvmsg()'s. */
		uint8_t *buf = xmalloc(len ? len : 1);
		memcpy(buf, msgs + cut[i], len);
		want_buf(&w, buf, len, &d);
		r = nl_elems_parse(&d, buf, len);
		free(buf);
		FUZZ_CHECK(r == (d.done ? (d.rc ? d.rc : 1) : 0),
			   "buffer %zu: returns %d, done %d, rc %d", i, r, d.done, d.rc);
	}
	FUZZ_CHECK(d.done == w.done && d.rc == w.rc,
		   "done %d, rc %d (%s); the rules say done %d, rc %d", d.done, d.rc, d.err, w.done,
		   w.rc);
	if (d.rc) {
		FUZZ_CHECK(d.rc < 0 && d.rc >= -MAX_ERRNO, "rc %d is no -errno", d.rc);
		FUZZ_CHECK(memchr(d.err, '\0', sizeof(d.err)) && d.err[0], "no reason for rc %d",
			   d.rc);
		FUZZ_CHECK(!w.other_gen || strstr(d.err, "generation"),
			   "a reply of another generation, but: %s", d.err);
	}
	if (r == 1) {
		struct nl_set_live s = { .flags = interval ? NFT_SET_INTERVAL : 0 };
		if (nl_elems_finish(&d, &s) < 0) {
			FUZZ_CHECK(d.dups && d.err[0], "finish failed: %zu twice, %s", d.dups,
				   d.err);
		} else {
			FUZZ_CHECK(s.has_elems && s.nelems == d.n && s.unpaired >= d.bad,
				   "%zu elements, %zu bad; the set says %zu, %zu unpaired", d.n, d.bad,
				   s.nelems, s.unpaired);
			fuzz_check_ranges(s.iv, s.n, f, true, "dump");
			check_lookup(&d, &s, f, interval);
		}
		free(s.iv);
	}
	nl_elem_dump_free(&d);
}

/* ------------------------------------------------------------ a valid dump */

static uint64_t rng;

static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A random number of at most `bits` bits, its width random too. */
static u128 rnd_bits(unsigned bits)
{
	unsigned w = (unsigned)(rnd() % (bits + 1));
	u128 v = (u128)rnd() << 64 | rnd();

	return w ? v >> (128 - w) : 0;
}

/* Ascending, disjoint, adjacent at times, the last one open at times. */
static size_t made_ivs(enum family f, struct range *iv)
{
	u128 top = fam_max(f), at = 0;
	unsigned bits = fam_bits(f) - 8;
	size_t n = 0, want = rnd() % (MADE_MAX + 1);

	while (n < want) {
		u128 gap = rnd() % 4 == 0 ? 0 : rnd_bits(bits), len = rnd_bits(bits);
		if (top - at < gap)
			break;
		iv[n].lo = at + gap;
		iv[n].hi = top - iv[n].lo < len || rnd() % 32 == 0 ? top : iv[n].lo + len;
		if (iv[n++].hi == top)
			break;
		at = iv[n - 1].hi + 1;
	}
	return n;
}

struct dump {
	uint8_t **buf;
	size_t *len;
	size_t n, cap;
};

static void dump_add(struct dump *dp, const void *msg, size_t len, bool new_buf)
{
	if (new_buf || !dp->n) {
		dp->buf = grow(dp->buf, &dp->cap, dp->n + 1, sizeof(*dp->buf));
		dp->len = xrealloc(dp->len, dp->cap * sizeof(*dp->len));
		dp->buf[dp->n] = NULL;
		dp->len[dp->n++] = 0;
	}
	dp->buf[dp->n - 1] = xrealloc(dp->buf[dp->n - 1], dp->len[dp->n - 1] + len);
	memcpy(dp->buf[dp->n - 1] + dp->len[dp->n - 1], msg, len);
	dp->len[dp->n - 1] += len;
}

struct batch_msgs {
	struct nlmsghdr **v;
	size_t n, cap;
};

static int collect_elems(const struct nlmsghdr *nlh, void *data)
{
	struct batch_msgs *m = data;

	if (nlh->nlmsg_type != (NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWSETELEM))
		return 0;
	m->v = grow(m->v, &m->cap, m->n + 1, sizeof(*m->v));
	m->v[m->n] = xmalloc(nlh->nlmsg_len);
	memcpy(m->v[m->n++], nlh, nlh->nlmsg_len);
	return 0;
}

/* An element message of the batch as the kernel would dump it: elements descending. */
static struct nlmsghdr *dump_msg(const struct nlmsghdr *in, const struct nl_elem_dump *d,
				 uint32_t seq)
{
	const struct nlattr *a, *el, *els[2 * MADE_MAX];
	struct nlmsghdr *nlh = xcalloc(1, in->nlmsg_len + 256);
	struct nfgenmsg *g;
	struct nlattr *nest;
	size_t n = 0;

	mnl_nlmsg_put_header(nlh);
	nlh->nlmsg_type = NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWSETELEM;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = seq;
	nlh->nlmsg_pid = d->portid;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = NFPROTO_INET;
	g->version = NFNETLINK_V0;
	g->res_id = htons(d->genid & 0xffff);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, "mxfence");
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, "smtp_v4");
	mnl_attr_for_each(a, in, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
			continue;
		mnl_attr_for_each_nested(el, a) {
			FUZZ_CHECK(n < sizeof(els) / sizeof(*els),
				   "more elements than the harness takes");
			els[n++] = el;
		}
	}
	nest = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	while (n--) {
		memcpy(mnl_nlmsg_get_payload_tail(nlh), els[n], MNL_ALIGN(els[n]->nla_len));
		nlh->nlmsg_len += MNL_ALIGN(els[n]->nla_len);
	}
	mnl_attr_nest_end(nlh, nest);
	return nlh;
}

static void made_dump(const uint8_t *data, size_t size)
{
	uint8_t h[HDR_LEN] = { 0 };
	struct range iv[MADE_MAX];
	struct nl_elem_dump d = { 0 };
	struct nl_set_live s = { .flags = NFT_SET_INTERVAL };
	struct batch_msgs m = { 0 };
	struct dump dp = { 0 };
	struct nl_batch *b = nl_batch_new(NULL, 0);
	enum family f;
	size_t n, elements = 0;
	int r = 0;

	/* The seed: FNV-1a of the input. */
	rng = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < size; i++)
		rng = (rng ^ data[i]) * 0x100000001b3ull;
	memcpy(h, data, size < HDR_LEN ? size : HDR_LEN);
	f = h[0] & 1 ? FAM_V6 : FAM_V4;
	d.key_len = f == FAM_V4 ? 4 : 16;
	d.genid = le32(h + 8);
	d.seq = le32(h + 12);
	d.portid = le32(h + 16);

	n = made_ivs(f, iv);
	/* In a few messages: the batch writer ends one at every call. */
	for (size_t i = 0; i < n;) {
		size_t k = 1 + rnd() % (n - i);
		nl_batch_add_elems(b, "mxfence", "smtp_v4", f, iv + i, k);
		i += k;
	}
	nl_batch_foreach(b, collect_elems, &m);
	nl_batch_free(b);

	/* The kernel dumps descending; now and then a reply to another request. */
	for (size_t i = m.n; i--;) {
		struct nlmsghdr *nlh = dump_msg(m.v[i], &d, d.seq);
		const struct nlattr *a, *el;
		mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
			if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS)
				mnl_attr_for_each_nested(el, a)
					elements++;
		dump_add(&dp, nlh, nlh->nlmsg_len, rnd() % 2);
		free(nlh);
		if (rnd() % 8 == 0) {
			nlh = dump_msg(m.v[i], &d, d.seq + 1);
			dump_add(&dp, nlh, nlh->nlmsg_len, rnd() % 2);
			free(nlh);
		}
		free(m.v[i]);
	}
	free(m.v);
	struct {
		struct nlmsghdr h;
		int32_t v;
	} done = {
		.h = { .nlmsg_len = sizeof(done), .nlmsg_type = NLMSG_DONE,
		       .nlmsg_flags = NLM_F_MULTI, .nlmsg_seq = d.seq, .nlmsg_pid = d.portid },
	};
	dump_add(&dp, &done, sizeof(done), rnd() % 2);

	for (size_t i = 0; i < dp.n; i++) {
		r = nl_elems_parse(&d, dp.buf[i], dp.len[i]);
		FUZZ_CHECK(r == (i + 1 == dp.n), "made dump, buffer %zu of %zu: %d (%s)", i, dp.n,
			   r, d.err);
		free(dp.buf[i]);
	}
	free(dp.buf);
	free(dp.len);
	FUZZ_CHECK(d.n == elements && !d.bad, "made dump: %zu elements of %zu read, %zu bad", d.n,
		   elements, d.bad);
	FUZZ_CHECK(nl_elems_finish(&d, &s) == 0, "made dump: %s", d.err);
	FUZZ_CHECK(s.n == n && !s.unpaired, "made dump: %zu intervals, %zu unpaired, not %zu", s.n, s.unpaired, n);
	for (size_t i = 0; i < n; i++) {
		char a[36], z[36];
		FUZZ_CHECK(s.iv[i].lo == iv[i].lo && s.iv[i].hi == iv[i].hi,
			   "made dump: interval %zu is [%s, %s]", i, fuzz_hex(s.iv[i].lo, a),
			   fuzz_hex(s.iv[i].hi, z));
	}
	free(s.iv);
	nl_elem_dump_free(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	hostile(data, size);
	made_dump(data, size);
	return 0;
}
