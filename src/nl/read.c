/*
 * Reading our table back: a consistent dump of its sets, elements, chains
 * and rules at one generation, and the element dump turned into intervals.
 */
#include "nl-private.h"

/*
 * nl_read_table(): start over at most this many times if the ruleset moves,
 * and at most UNPAIRED_RETRIES of them for unpaired elements (see there).
 */
#define READ_ATTEMPTS 8
#define UNPAIRED_RETRIES 2

/* Element attribute el: its key, if it has key_len bytes, and its end flag. */
struct elem_info elem_decode(const struct nlattr *el, unsigned key_len)
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

bool nl_chain_live_is(const struct nl_chain_live *c, const struct rule_chain *pc)
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
