/*
 * Batches: every operation is one or more messages in libnftnl batch pages;
 * nl_batch_send() passes the pages to one sendmsg() as an iovec, so the
 * kernel sees BEGIN ... END in one skb and commits or aborts the lot. Each
 * message remembers what it was about (struct op_record, indexed by sequence
 * number) so that a kernel error becomes a sentence naming the object.
 *
 * Set elements are written straight into the pages with libmnl rather than
 * through nftnl_set_elem objects: ~300 bytes and an allocation per element
 * is what makes big loads slow and heavy, and writing them ourselves lets a
 * message end only between two intervals.
 */
#include "nl-private.h"

/*
 * Batch pages: a message may start anywhere below the page size and run into
 * the overrun, so the overrun holds the largest message (an element message
 * is at most ~66 KiB). sendmsg() takes at most UIO_MAXIOV (1024) iovecs:
 * 1 MiB pages allow 1 GiB, beyond what a socket buffer can take anyway.
 * Pages are malloc'ed and touched only as far as written.
 */
#define BATCH_PAGE (1u << 20)
#define BATCH_OVERRUN (128u << 10)

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

/* A BEGIN or END message: the subsystem in res_id. */
static struct nlmsghdr *batch_control(struct nl_batch *b, uint16_t type)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(batch_cursor(b));
	struct nfgenmsg *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST;
	nlh->nlmsg_seq = batch_seq(b);
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = AF_UNSPEC;
	g->version = NFNETLINK_V0;
	g->res_id = htons(NFNL_SUBSYS_NFTABLES);
	return nlh;
}

/* BEGIN also carries the generation to compare with. */
static void batch_begin(struct nl_batch *b)
{
	struct nlmsghdr *nlh = batch_control(b, NFNL_MSG_BATCH_BEGIN);

	if (b->genid)
		mnl_attr_put_u32(nlh, NFNL_BATCH_GENID, htonl(b->genid));
	batch_next(b, OP_BEGIN, "transaction", 0);
}

void batch_end(struct nl_batch *b)
{
	batch_control(b, NFNL_MSG_BATCH_END);
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

void nl_batch_add_chain(struct nl_batch *b, const char *table, const struct rule_chain *pc)
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

/* Attribute sizes of one element, as laid out by elems_put(). */
#define ATTR_SZ(payload) (MNL_ATTR_HDRLEN + MNL_ALIGN(payload))
#define ELEM_START_SZ(kl) (MNL_ATTR_HDRLEN + ATTR_SZ(ATTR_SZ(kl)))
#define ELEM_END_SZ(kl) (ELEM_START_SZ(kl) + ATTR_SZ(sizeof(uint32_t)))
#define ELEM_OPEN_UDATA 6 /* one nftnl_udata: type, len, u32 */
#define ELEM_OPEN_SZ(kl) (ELEM_START_SZ(kl) + ATTR_SZ(ELEM_OPEN_UDATA))

/*
 * Element messages of one set being written: the open message takes
 * elements until the next interval would pass NL_ELEMS_MAX, then the next
 * message opens.
 */
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
 * An anonymous set as nft makes it for a rule: constant, sized, interval only
 * when some element is a range or prefix, with its elements. Its name is a
 * template the kernel fills in ("__set%d" -> "__set0"), so the rule and the
 * elements find it by id, which is returned. v: n elements of `size` bytes
 * each, as elems_put takes them.
 */
static uint32_t anon_set(struct nl_batch *b, const char *table, uint32_t key_type,
			 uint32_t key_len, bool interval, const void *v, size_t size, size_t n,
			 const char *what)
{
	struct nftnl_set *s = xcheck(nftnl_set_alloc());
	uint32_t id = b->next_id++;
	/* nft counts the key-0 end element it adds to interval sets; we add none. */
	uint32_t elems = interval ? (uint32_t)(2 * n) : (uint32_t)n;
	uint32_t flags = NFT_SET_ANONYMOUS | NFT_SET_CONSTANT | (interval ? NFT_SET_INTERVAL : 0);

	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, ANON_SET_NAME);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, flags);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, key_len);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, elems);
	set_udata_byteorder(s);
	set_msg(b, s, what);
	nftnl_set_free(s);
	elems_put(b, NFT_MSG_NEWSETELEM, table, ANON_SET_NAME, id, what, key_len, interval, v,
		  size, n);
	return id;
}

/* A rule's ports. */
static uint32_t anon_port_set(struct nl_batch *b, const char *table, const struct rule_ports *pp)
{
	char what[64];

	snprintf(what, sizeof(what), "__set%%d (%s ports)", proto_name(pp->proto));
	return anon_set(b, table, TYPE_INET_SERVICE, 2, pp->ranges, pp->v, sizeof(*pp->v), pp->n,
			what);
}

/* A rule's destinations (`to`); nft has merged the prefixes that touch: the plan's intervals. */
static uint32_t anon_dest_set(struct nl_batch *b, const char *table, const struct rule_dests *d)
{
	char what[64];

	snprintf(what, sizeof(what), "__set%%d (%s destinations)", d->fam == FAM_V4 ? "IPv4" : "IPv6");
	return anon_set(b, table, d->fam == FAM_V4 ? TYPE_IPADDR : TYPE_IP6ADDR,
			fam_key_len(d->fam), d->interval, d->v, sizeof(*d->v), d->n, what);
}

/* "rule of service smtp: tcp from @smtp_v4 accept": how an error names a rule. */
static void rule_what(const struct rule_spec *pr, char *buf, size_t n)
{
	if (pr->from)
		snprintf(buf, n, "rule of service %s: %s from @%s %s", pr->svc->name,
			 proto_name(pr->ports.proto), pr->from->name, verdict_name(pr->verdict));
	else
		snprintf(buf, n, "rule of service %s: %s %s", pr->svc->name,
			 proto_name(pr->ports.proto), verdict_name(pr->verdict));
}

void nl_batch_add_rules(struct nl_batch *b, const char *table, const struct rule_chain *pc)
{
	char what[256];

	for (size_t i = 0; i < pc->nrules; i++) {
		const struct rule_spec *pr = &pc->rules[i];
		/* A rule's port set comes just before it, as nft sends them. */
		uint32_t port_set = pr->ports.n > 1 ? anon_port_set(b, table, &pr->ports) : 0;
		uint32_t dest_set = pr->dest == RULE_DEST_ORIGINAL && !pr->to->single
					    ? anon_dest_set(b, table, pr->to)
					    : 0;
		uint32_t addr_set = pr->from ? batch_set_id(b, table, pr->from->name) : 0;
		struct nftnl_rule *r = rule_build(table, pc->name, pr, port_set, addr_set, dest_set);
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
