/*
 * Unit tests of the kernel layer (src/nl/) that need no kernel: batches are built without a
 * socket and their messages parsed back with libnftnl. Rule expressions are
 * compared with what nft 1.0.6 sends for the same rules (its --debug=netlink
 * output), so that `nft list` shows our rules exactly as it shows its own.
 * Prints PASS/FAIL lines for tests/run; exits 1 if any failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>

#include "nl.h"
#include "nl/dnat.h"
#include "util.h"

static int failures;
static char why[512];

static void result(const char *name, bool ok)
{
	if (ok) {
		printf("PASS: nl: %s\n", name);
	} else {
		/* tests/run reads one line per result. */
		for (char *p = why; *p; p++)
			if (*p == '\n')
				*p = '|';
		printf("FAIL: nl: %s: %s\n", name, why);
		failures++;
	}
	why[0] = 0;
}

/* Records the first failed condition of a test in `why`. */
#define EXPECT(cond, ...) \
	do { \
		if (!(cond)) { \
			if (!why[0]) \
				snprintf(why, sizeof(why), __VA_ARGS__); \
			ok = false; \
		} \
	} while (0)

/* ------------------------------------------------------------ messages */

struct msgs {
	struct nlmsghdr **v;
	size_t n, cap;
};

static int collect(const struct nlmsghdr *nlh, void *data)
{
	struct msgs *m = data;
	struct nlmsghdr *copy = xmalloc(nlh->nlmsg_len);

	memcpy(copy, nlh, nlh->nlmsg_len);
	m->v = grow(m->v, &m->cap, m->n + 1, sizeof(*m->v));
	m->v[m->n++] = copy;
	return 0;
}

static void msgs_get(struct nl_batch *b, struct msgs *m)
{
	memset(m, 0, sizeof(*m));
	nl_batch_foreach(b, collect, m);
}

static void msgs_free(struct msgs *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i]);
	free(m->v);
}

static uint16_t msg_type(const struct nlmsghdr *nlh)
{
	return NFNL_MSG_TYPE(nlh->nlmsg_type);
}

static bool is_nft(const struct nlmsghdr *nlh, uint16_t type)
{
	return NFNL_SUBSYS_ID(nlh->nlmsg_type) == NFNL_SUBSYS_NFTABLES && msg_type(nlh) == type;
}

/* The expressions of a rule as nft --debug=netlink prints them, one per line. */
static char *rule_text(const struct nftnl_rule *r)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e;
	char *out = xstrdup(""), t[256];

	while ((e = nftnl_expr_iter_next(it))) {
		t[0] = 0;
		nftnl_expr_snprintf(t, sizeof(t), e, NFTNL_OUTPUT_DEFAULT, 0);
		char *n = xasprintf("%s  [ %s %s]\n", out, nftnl_expr_get_str(e, NFTNL_EXPR_NAME), t);
		free(out);
		out = n;
	}
	nftnl_expr_iter_destroy(it);
	return out;
}

/* The value of the first attribute of `type` of an expression named `name`, or 0. */
static uint32_t expr_u32(const struct nftnl_rule *r, const char *name, uint16_t type, int nth)
{
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(r);
	struct nftnl_expr *e;
	uint32_t v = 0;

	while ((e = nftnl_expr_iter_next(it))) {
		if (strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), name))
			continue;
		if (nth-- > 0)
			continue;
		if (nftnl_expr_is_set(e, type))
			v = nftnl_expr_get_u32(e, type);
		break;
	}
	nftnl_expr_iter_destroy(it);
	return v;
}

/* ------------------------------------------------------------ elements */

struct kel {
	u128 key;
	bool end, open, udata;
};

struct elem_msgs {
	struct kel *v;
	size_t n, cap;
	size_t messages;
	size_t max_list;  /* largest NFTA_SET_ELEM_LIST_ELEMENTS attribute */
	size_t min_list;  /* smallest, the last message excluded */
	size_t last_list;
	bool split_pair;  /* a message started with an end element */
	bool parse_error;
	uint16_t type;
	uint16_t flags;
};

/* Parse every element message with libnftnl, in batch order. */
static void elems_from(struct msgs *m, unsigned key_len, struct elem_msgs *out)
{
	memset(out, 0, sizeof(*out));
	out->min_list = SIZE_MAX;
	for (size_t i = 0; i < m->n; i++) {
		const struct nlmsghdr *nlh = m->v[i];
		if (!is_nft(nlh, NFT_MSG_NEWSETELEM) && !is_nft(nlh, NFT_MSG_DELSETELEM))
			continue;
		out->type = msg_type(nlh);
		out->flags = nlh->nlmsg_flags;
		out->messages++;

		const struct nlattr *a;
		mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
			if (mnl_attr_get_type(a) != NFTA_SET_ELEM_LIST_ELEMENTS)
				continue;
			size_t len = a->nla_len;
			if (out->max_list < len)
				out->max_list = len;
			if (out->last_list && out->min_list > out->last_list)
				out->min_list = out->last_list;
			out->last_list = len;
		}

		struct nftnl_set *s = nftnl_set_alloc();
		if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
			out->parse_error = true;
			nftnl_set_free(s);
			continue;
		}
		struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
		struct nftnl_set_elem *e;
		bool first = true;
		while ((e = nftnl_set_elems_iter_next(it))) {
			uint32_t len = 0;
			const uint8_t *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
			struct kel x = { 0 };
			if (!k || len != key_len) {
				out->parse_error = true;
				continue;
			}
			for (unsigned j = 0; j < len; j++)
				x.key = x.key << 8 | k[j];
			if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS))
				x.end = nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) &
					NFT_SET_ELEM_INTERVAL_END;
			if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_USERDATA)) {
				const uint8_t *ud = nftnl_set_elem_get(e, NFTNL_SET_ELEM_USERDATA, &len);
				uint32_t f;
				x.udata = true;
				if (len == 6 && ud[0] == NFTNL_UDATA_SET_ELEM_FLAGS && ud[1] == 4) {
					memcpy(&f, ud + 2, 4);
					x.open = f & NFTNL_SET_ELEM_F_INTERVAL_OPEN;
				}
			}
			if (first && x.end)
				out->split_pair = true;
			first = false;
			out->v = grow(out->v, &out->cap, out->n + 1, sizeof(*out->v));
			out->v[out->n++] = x;
		}
		nftnl_set_elems_iter_destroy(it);
		nftnl_set_free(s);
	}
}

/* Elements (in order) back to intervals; false if they do not pair as promised. */
static bool elems_to_iv(const struct elem_msgs *em, u128 max, struct range **iv, size_t *n)
{
	size_t cap = 0;

	*iv = NULL;
	*n = 0;
	for (size_t i = 0; i < em->n; i++) {
		const struct kel *s = &em->v[i];
		if (s->end)
			return false;
		if (i + 1 < em->n && em->v[i + 1].end) {
			*iv = grow(*iv, &cap, *n + 1, sizeof(**iv));
			(*iv)[*n].lo = s->key;
			(*iv)[*n].hi = em->v[i + 1].key - 1;
			(*n)++;
			i++;
		} else {
			*iv = grow(*iv, &cap, *n + 1, sizeof(**iv));
			(*iv)[*n].lo = s->key;
			(*iv)[*n].hi = max;
			(*n)++;
		}
	}
	return true;
}

static bool ascending(const struct elem_msgs *em)
{
	for (size_t i = 1; i < em->n; i++)
		if (em->v[i].key <= em->v[i - 1].key)
			return false;
	return true;
}

/* splitmix64, for reproducible random intervals. */
static uint64_t rng = 42;

static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* n ascending, disjoint, non-adjacent intervals spread over the family. */
static struct range *random_ivs(enum family f, size_t n)
{
	struct range *iv = xcalloc(n, sizeof(*iv));
	u128 step = (fam_max(f) / n);
	u128 pos = 0;

	for (size_t i = 0; i < n; i++) {
		u128 span = f == FAM_V4 ? step : ((u128)rnd() << 64 | rnd()) % step;
		u128 lo = pos + 1 + (f == FAM_V4 ? rnd() % (step / 4 + 1) : span / 4);
		u128 len = f == FAM_V4 ? rnd() % (step / 2 + 1) : span / 3;
		iv[i].lo = lo;
		iv[i].hi = lo + len;
		pos += step;
	}
	return iv;
}

/* ------------------------------------------------------------ tests */

static void test_begin(void)
{
	bool ok = true;
	struct msgs m;

	for (int pass = 0; pass < 2; pass++) {
		uint32_t gen = pass ? 1234567 : 0;
		struct nl_batch *b = nl_batch_new(NULL, gen);
		nl_batch_add_table(b, "mxfence");
		msgs_get(b, &m);
		EXPECT(m.n == 2, "%zu messages, want BEGIN + 1", m.n);
		const struct nlmsghdr *nlh = m.v[0];
		const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
		EXPECT(nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN, "first message type %u",
		       nlh->nlmsg_type);
		EXPECT(ntohs(g->res_id) == NFNL_SUBSYS_NFTABLES, "BEGIN res_id %u", ntohs(g->res_id));
		EXPECT(!(nlh->nlmsg_flags & NLM_F_ACK), "BEGIN asks for an ACK");
		const struct nlattr *a;
		uint32_t got = 0;
		mnl_attr_for_each(a, nlh, sizeof(*g))
			if (mnl_attr_get_type(a) == NFNL_BATCH_GENID)
				got = ntohl(mnl_attr_get_u32(a));
		EXPECT(got == gen, "NFNL_BATCH_GENID %u, want %u", got, gen);
		EXPECT(m.v[1]->nlmsg_seq == nlh->nlmsg_seq + 1, "sequence numbers not consecutive");
		msgs_free(&m);
		nl_batch_free(b);
	}
	result("BEGIN carries res_id and NFNL_BATCH_GENID (only when comparing)", ok);
}

static void test_objects(void)
{
	bool ok = true;
	struct nl_batch *b = nl_batch_new(NULL, 0);
	struct msgs m;

	nl_batch_add_table(b, "mxfence");
	nl_batch_del_table(b, "mxfence");
	nl_batch_add_table(b, "mxfence");
	nl_batch_add_set(b, "mxfence", "smtp_v4", FAM_V4);
	nl_batch_add_set(b, "mxfence", "smtp_v6", FAM_V6);
	struct rule_chain input = {
		.name = "input", .hook = RULE_HOOK_INPUT, .priority = -10, .policy = VERDICT_ACCEPT
	};
	nl_batch_add_chain(b, "mxfence", &input);
	msgs_get(b, &m);
	EXPECT(m.n == 7, "%zu messages, want 7", m.n);
	if (m.n == 7) {
		uint16_t want[] = { NFT_MSG_NEWTABLE, NFT_MSG_DELTABLE, NFT_MSG_NEWTABLE,
				    NFT_MSG_NEWSET,   NFT_MSG_NEWSET,   NFT_MSG_NEWCHAIN };
		for (int i = 0; i < 6; i++)
			EXPECT(is_nft(m.v[i + 1], want[i]), "message %d is type %u, want %u", i + 1,
			       msg_type(m.v[i + 1]), want[i]);

		struct nftnl_table *t = nftnl_table_alloc();
		EXPECT(nftnl_table_nlmsg_parse(m.v[1], t) == 0, "table does not parse");
		EXPECT(!strcmp(nftnl_table_get_str(t, NFTNL_TABLE_NAME), "mxfence"), "table name");
		EXPECT(nftnl_table_get_u32(t, NFTNL_TABLE_FAMILY) == NFPROTO_INET, "table family");
		EXPECT(m.v[1]->nlmsg_flags & NLM_F_CREATE, "NEWTABLE without NLM_F_CREATE");
		nftnl_table_free(t);

		uint32_t ids[2] = { 0, 0 };
		for (int k = 0; k < 2; k++) {
			struct nftnl_set *s = nftnl_set_alloc();
			uint32_t len = 0;
			EXPECT(nftnl_set_nlmsg_parse(m.v[4 + k], s) == 0, "set does not parse");
			EXPECT(!strcmp(nftnl_set_get_str(s, NFTNL_SET_NAME), k ? "smtp_v6" : "smtp_v4"),
			       "set name");
			EXPECT(!strcmp(nftnl_set_get_str(s, NFTNL_SET_TABLE), "mxfence"), "set table");
			EXPECT(nftnl_set_get_u32(s, NFTNL_SET_FLAGS) == NFT_SET_INTERVAL,
			       "set flags 0x%x, want interval only", nftnl_set_get_u32(s, NFTNL_SET_FLAGS));
			EXPECT(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE) == (k ? 8u : 7u), "key type");
			EXPECT(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN) == (k ? 16u : 4u), "key len");
			EXPECT(!nftnl_set_is_set(s, NFTNL_SET_DESC_SIZE), "set has a size");
			EXPECT(nftnl_set_is_set(s, NFTNL_SET_ID), "set has no id");
			ids[k] = nftnl_set_get_u32(s, NFTNL_SET_ID);
			const uint8_t *ud = nftnl_set_get_data(s, NFTNL_SET_USERDATA, &len);
			EXPECT(ud && len == 6 && ud[0] == NFTNL_UDATA_SET_KEYBYTEORDER,
			       "no key byte order userdata");
			nftnl_set_free(s);
		}
		EXPECT(ids[0] && ids[1] && ids[0] != ids[1], "set ids %u %u", ids[0], ids[1]);

		struct nftnl_chain *c = nftnl_chain_alloc();
		EXPECT(nftnl_chain_nlmsg_parse(m.v[6], c) == 0, "chain does not parse");
		EXPECT(!strcmp(nftnl_chain_get_str(c, NFTNL_CHAIN_NAME), "input"), "chain name");
		EXPECT(nftnl_chain_get_u32(c, NFTNL_CHAIN_HOOKNUM) == NF_INET_LOCAL_IN, "hook");
		EXPECT(nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO) == -10, "priority %d",
		       nftnl_chain_get_s32(c, NFTNL_CHAIN_PRIO));
		EXPECT(!strcmp(nftnl_chain_get_str(c, NFTNL_CHAIN_TYPE), "filter"), "chain type");
		EXPECT(nftnl_chain_get_u32(c, NFTNL_CHAIN_POLICY) == NF_ACCEPT, "policy");
		nftnl_chain_free(c);
	}
	msgs_free(&m);
	nl_batch_free(b);
	result("table, set and chain messages parse back with the attributes nft sends", ok);
}

static struct service make_service(const char *name, struct portrange *p, size_t n, enum verdict v)
{
	struct service svc;

	memset(&svc, 0, sizeof(svc));
	svc.name = (char *)name;
	svc.ports = p;
	svc.nports = n;
	svc.otherwise = v;
	return svc;
}

/* nft 1.0.6 --debug=netlink for the same rules (tests/kernel/policies). */
#define L4(p) "  [ meta load l4proto => reg 1 ]\n  [ cmp eq reg 1 0x000000" p " ]\n" \
	      "  [ payload load 2b @ transport header + 2 => reg 1 ]\n"
#define V4(set) "  [ meta load nfproto => reg 1 ]\n  [ cmp eq reg 1 0x00000002 ]\n" \
		"  [ payload load 4b @ network header + 12 => reg 1 ]\n" \
		"  [ lookup reg 1 set " set " ]\n"
#define V6(set) "  [ meta load nfproto => reg 1 ]\n  [ cmp eq reg 1 0x0000000a ]\n" \
		"  [ payload load 16b @ network header + 8 => reg 1 ]\n" \
		"  [ lookup reg 1 set " set " ]\n"
#define CTR "  [ counter pkts 0 bytes 0 ]\n"
#define ACCEPT "  [ immediate reg 0 accept ]\n"
#define DROP "  [ immediate reg 0 drop ]\n"

static const char *const golden_submission[] = {
	L4("06") "  [ lookup reg 1 set __set%d ]\n" V4("submission_v4") CTR ACCEPT,
	L4("06") "  [ lookup reg 1 set __set%d ]\n" V6("submission_v6") CTR ACCEPT,
	L4("06") "  [ lookup reg 1 set __set%d ]\n" CTR "  [ reject type 1 code 0 ]\n",
};

static const char *const golden_runs[] = {
	L4("06") "  [ cmp gte reg 1 0x0000d507 ]\n  [ cmp lte reg 1 0x0000da07 ]\n" V4("runs_v4") CTR ACCEPT,
	L4("06") "  [ cmp gte reg 1 0x0000d507 ]\n  [ cmp lte reg 1 0x0000da07 ]\n" V6("runs_v6") CTR ACCEPT,
	L4("11") "  [ cmp eq reg 1 0x0000d507 ]\n" V4("runs_v4") CTR ACCEPT,
	L4("11") "  [ cmp eq reg 1 0x0000d507 ]\n" V6("runs_v6") CTR ACCEPT,
	L4("06") "  [ cmp gte reg 1 0x0000d507 ]\n  [ cmp lte reg 1 0x0000da07 ]\n" CTR DROP,
	L4("11") "  [ cmp eq reg 1 0x0000d507 ]\n" CTR DROP,
};

static const char *const golden_syslog[] = {
	L4("11") "  [ cmp eq reg 1 0x00000202 ]\n" V4("syslog_v4") CTR ACCEPT,
	L4("11") "  [ cmp eq reg 1 0x00000202 ]\n" V6("syslog_v6") CTR ACCEPT,
	L4("11") "  [ cmp eq reg 1 0x00000202 ]\n" CTR "  [ reject type 2 code 1 ]\n",
};

/* The plan of a policy of one service (the plan borrows svc). */
static void plan_of(struct service *svc, struct rule_plan *plan)
{
	struct policy pol = { .table = "mxfence", .priority = -10, .services = svc, .nservices = 1 };

	rule_plan_build(&pol, plan);
}

static bool check_rules(const char *name, struct service *svc, const char *const *golden,
			size_t ngolden, bool anon_ranges)
{
	bool ok = true;
	struct nl_batch *b = nl_batch_new(NULL, 0);
	char v4[64], v6[64];
	struct msgs m;
	uint32_t id4, id6, anon_id = 0;
	size_t rules = 0, anon_sets = 0;

	service_set_name(svc, FAM_V4, v4, sizeof(v4));
	service_set_name(svc, FAM_V6, v6, sizeof(v6));
	nl_batch_add_set(b, "mxfence", v4, FAM_V4);
	nl_batch_add_set(b, "mxfence", v6, FAM_V6);
	struct rule_plan plan;
	plan_of(svc, &plan);
	nl_batch_add_rules(b, "mxfence", &plan.chains[0]);
	rule_plan_free(&plan);
	msgs_get(b, &m);

	struct nftnl_set *s = nftnl_set_alloc();
	nftnl_set_nlmsg_parse(m.v[1], s);
	id4 = nftnl_set_get_u32(s, NFTNL_SET_ID);
	nftnl_set_free(s);
	s = nftnl_set_alloc();
	nftnl_set_nlmsg_parse(m.v[2], s);
	id6 = nftnl_set_get_u32(s, NFTNL_SET_ID);
	nftnl_set_free(s);

	for (size_t i = 3; i < m.n; i++) {
		const struct nlmsghdr *nlh = m.v[i];
		if (is_nft(nlh, NFT_MSG_NEWSET)) {
			s = nftnl_set_alloc();
			nftnl_set_nlmsg_parse(nlh, s);
			uint32_t want = NFT_SET_ANONYMOUS | NFT_SET_CONSTANT |
					(anon_ranges ? NFT_SET_INTERVAL : 0);
			EXPECT(nftnl_set_get_u32(s, NFTNL_SET_FLAGS) == want,
			       "anonymous set flags 0x%x, want 0x%x",
			       nftnl_set_get_u32(s, NFTNL_SET_FLAGS), want);
			EXPECT(!strcmp(nftnl_set_get_str(s, NFTNL_SET_NAME), "__set%d"),
			       "anonymous set name %s", nftnl_set_get_str(s, NFTNL_SET_NAME));
			EXPECT(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE) == 13 &&
				       nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN) == 2,
			       "anonymous set key is not inet_service");
			anon_id = nftnl_set_get_u32(s, NFTNL_SET_ID);
			anon_sets++;
			nftnl_set_free(s);
			continue;
		}
		if (is_nft(nlh, NFT_MSG_NEWSETELEM)) {
			s = nftnl_set_alloc();
			nftnl_set_elems_nlmsg_parse(nlh, s);
			EXPECT(nftnl_set_get_u32(s, NFTNL_SET_ID) == anon_id,
			       "elements go to set id %u, not the anonymous set's %u",
			       nftnl_set_get_u32(s, NFTNL_SET_ID), anon_id);
			nftnl_set_free(s);
			continue;
		}
		EXPECT(is_nft(nlh, NFT_MSG_NEWRULE), "unexpected message type %u", msg_type(nlh));
		EXPECT((nlh->nlmsg_flags & (NLM_F_APPEND | NLM_F_CREATE)) ==
			       (NLM_F_APPEND | NLM_F_CREATE),
		       "rule flags 0x%x", nlh->nlmsg_flags);
		struct nftnl_rule *r = nftnl_rule_alloc();
		EXPECT(nftnl_rule_nlmsg_parse(nlh, r) == 0, "rule does not parse");
		char *text = rule_text(r);
		if (rules < ngolden)
			EXPECT(!strcmp(text, golden[rules]), "rule %zu is\n%s\nwant\n%s", rules, text,
			       golden[rules]);
		/* The address lookup names its set and carries the batch's set id. */
		const char *set = NULL;
		if (strstr(text, "set " /* v4 or v6 */)) {
			if (strstr(text, v4))
				set = v4;
			else if (strstr(text, v6))
				set = v6;
		}
		int nth = strstr(text, "set __set%d") ? 1 : 0;
		if (set)
			EXPECT(expr_u32(r, "lookup", NFTNL_EXPR_LOOKUP_SET_ID, nth) ==
				       (set == v4 ? id4 : id6),
			       "lookup of %s without its set id", set);
		if (nth)
			EXPECT(expr_u32(r, "lookup", NFTNL_EXPR_LOOKUP_SET_ID, 0) == anon_id,
			       "port lookup without the anonymous set's id");
		free(text);
		nftnl_rule_free(r);
		rules++;
	}
	EXPECT(rules == ngolden, "%zu rules, want %zu", rules, ngolden);
	EXPECT(anon_sets == (anon_id ? rules : 0), "%zu anonymous sets for %zu rules", anon_sets,
	       rules);
	msgs_free(&m);
	nl_batch_free(b);
	result(name, ok);
	return ok;
}

static void test_rules(void)
{
	struct portrange sub[] = { { PROTO_TCP, 587, 587 }, { PROTO_TCP, 465, 465 } };
	struct portrange runs[] = { { PROTO_TCP, 2005, 2010 }, { PROTO_UDP, 2005, 2005 } };
	struct portrange sys[] = { { PROTO_UDP, 514, 514 } };
	struct service s1 = make_service("submission", sub, 2, VERDICT_REJECT);
	struct service s2 = make_service("runs", runs, 2, VERDICT_DROP);
	struct service s3 = make_service("syslog", sys, 1, VERDICT_REJECT);

	check_rules("rules with several ports: anonymous set per rule, expressions as nft's", &s1,
		    golden_submission, 3, false);
	check_rules("rules with a port range (cmp gte/lte) and TCP + UDP, as nft's", &s2,
		    golden_runs, 6, false);
	check_rules("UDP reject is icmpx port-unreachable, as nft's", &s3, golden_syslog, 3, false);

	/* The anonymous set's elements: ports ascending, a range as start/end. */
	bool ok = true;
	struct portrange mix[] = { { PROTO_TCP, 10024, 10026 }, { PROTO_TCP, 4190, 4190 },
				   { PROTO_TCP, 65000, 65535 } };
	struct service s4 = make_service("sieve", mix, 3, VERDICT_REJECT);
	struct nl_batch *b = nl_batch_new(NULL, 0);
	struct msgs m;
	struct elem_msgs em;
	struct rule_plan plan;
	plan_of(&s4, &plan);
	nl_batch_add_rules(b, "mxfence", &plan.chains[0]);
	rule_plan_free(&plan);
	msgs_get(b, &m);
	/* BEGIN, set, elements, rule: the first rule's set. */
	struct msgs one = { .v = m.v + 2, .n = 1 };
	elems_from(&one, 2, &em);
	EXPECT(em.n == 5, "%zu elements, want 5", em.n);
	if (em.n == 5) {
		EXPECT(em.v[0].key == 4190 && !em.v[0].end && em.v[1].key == 4191 && em.v[1].end,
		       "4190 not as [4190, 4191)");
		EXPECT(em.v[2].key == 10024 && em.v[3].key == 10027 && em.v[3].end,
		       "10024-10026 not as [10024, 10027)");
		EXPECT(em.v[4].key == 65000 && !em.v[4].end && em.v[4].open,
		       "65000-65535 not as an open start");
	}
	free(em.v);
	msgs_free(&m);
	nl_batch_free(b);
	result("anonymous interval set of ports: ascending, start/end pairs, open at 65535", ok);

	/* Fingerprints: the same text nl_read_table() makes of kernel rules. */
	ok = true;
	char **fp;
	plan_of(&s1, &plan);
	size_t n = nl_chain_fingerprints(&plan.chains[0], &fp);
	rule_plan_free(&plan);
	EXPECT(n == 3, "%zu fingerprints", n);
	if (n == 3) {
		EXPECT(!strcmp(fp[0], "[ meta load l4proto => reg 1 ] [ cmp eq reg 1 0x00000006 ] "
				      "[ payload load 2b @ transport header + 2 => reg 1 ] "
				      "[ lookup reg 1 set { 465, 587 } ] [ meta load nfproto => reg 1 ] "
				      "[ cmp eq reg 1 0x00000002 ] "
				      "[ payload load 4b @ network header + 12 => reg 1 ] "
				      "[ lookup reg 1 set submission_v4 ] [ counter ] "
				      "[ immediate reg 0 accept ]"),
		       "fingerprint 0: %s", fp[0]);
		EXPECT(strstr(fp[2], "[ counter ] [ reject type 1 code 0 ]"), "fingerprint 2: %s",
		       fp[2]);
	}
	nl_fingerprints_free(fp, n);
	plan_of(&s4, &plan);
	n = nl_chain_fingerprints(&plan.chains[0], &fp);
	rule_plan_free(&plan);
	EXPECT(n == 3 && strstr(fp[0], "set { 4190, 10024-10026, 65000-65535 }"),
	       "sieve fingerprint: %s", n ? fp[0] : "none");
	nl_fingerprints_free(fp, n);
	result("fingerprints show counters without values and anonymous sets by content", ok);
}

/*
 * The plan: a service's ports of a protocol sorted, overlapping ones merged
 * (the policy refuses such a service; the plan does not rely on it), rules
 * in the order the script and the batch write them.
 */
static void test_plan(void)
{
	bool ok = true;
	struct portrange p[] = { { PROTO_TCP, 587, 587 }, { PROTO_UDP, 514, 514 },
				 { PROTO_TCP, 25, 30 },   { PROTO_TCP, 26, 26 },
				 { PROTO_TCP, 31, 31 },   { PROTO_TCP, 587, 587 } };
	struct service svc = make_service("mix", p, 6, VERDICT_DROP);
	struct rule_plan plan;

	plan_of(&svc, &plan);
	EXPECT(plan.nsets == 2 && !strcmp(plan.sets[0].name, "mix_v4") &&
		       plan.sets[1].fam == FAM_V6,
	       "%zu sets", plan.nsets);
	EXPECT(plan.nchains == 1 && !strcmp(plan.chains[0].name, "input") &&
		       plan.chains[0].priority == -10 && plan.chains[0].policy == VERDICT_ACCEPT,
	       "not one input chain at -10, policy accept");
	const struct rule_chain *c = &plan.chains[0];
	EXPECT(c->nrules == 6, "%zu rules, want 6", c->nrules);
	if (c->nrules == 6) {
		const struct rule_ports *t = &c->rules[0].ports;
		EXPECT(t->proto == PROTO_TCP && t->n == 3 && t->ranges && t->v[0].lo == 25 &&
			       t->v[0].hi == 30 && t->v[1].lo == 31 && t->v[2].lo == 587 &&
			       t->v[2].hi == 587,
		       "tcp ports not { 25-30, 31, 587 } (%zu entries)", t->n);
		EXPECT(c->rules[2].ports.proto == PROTO_UDP && c->rules[2].ports.n == 1 &&
			       !c->rules[2].ports.ranges,
		       "udp ports not 514 alone");
		EXPECT(c->rules[0].from == &plan.sets[0] && c->rules[1].from == &plan.sets[1] &&
			       c->rules[2].from == &plan.sets[0] && c->rules[3].from == &plan.sets[1] &&
			       !c->rules[4].from && !c->rules[5].from,
		       "rules do not look up v4, v6, v4, v6, then any source");
		for (size_t i = 0; i < 6; i++)
			EXPECT(c->rules[i].counter && c->rules[i].svc == &svc &&
				       c->rules[i].verdict == (i < 4 ? VERDICT_ACCEPT : VERDICT_DROP),
			       "rule %zu: counter, service or verdict", i);
		EXPECT(c->rules[4].ports.proto == PROTO_TCP && c->rules[5].ports.proto == PROTO_UDP,
		       "fallbacks not tcp then udp");
	}

	/* The batch's anonymous set holds the merged ports. */
	struct nl_batch *b = nl_batch_new(NULL, 0);
	struct msgs m;
	struct elem_msgs em;
	nl_batch_add_rules(b, "mxfence", c);
	msgs_get(b, &m);
	struct msgs one = { .v = m.v + 2, .n = 1 };
	elems_from(&one, 2, &em);
	EXPECT(em.n == 6 && em.v[0].key == 25 && em.v[1].key == 31 && em.v[1].end &&
		       em.v[2].key == 31 && em.v[3].key == 32 && em.v[4].key == 587 &&
		       em.v[5].key == 588,
	       "anonymous set not [25, 31) [31, 32) [587, 588): %zu elements", em.n);
	free(em.v);
	msgs_free(&m);
	nl_batch_free(b);

	char **fp;
	size_t n = nl_chain_fingerprints(c, &fp);
	EXPECT(n == 6 && strstr(fp[0], "set { 25-30, 31, 587 }") && strstr(fp[5], "0x00000202"),
	       "fingerprints: %s", n ? fp[0] : "none");
	nl_fingerprints_free(fp, n);
	rule_plan_free(&plan);
	result("the plan merges and sorts a protocol's ports; batch and fingerprints use it", ok);
}

static void check_chunking(enum family f, size_t count)
{
	bool ok = true;
	unsigned kl = f == FAM_V4 ? 4 : 16;
	struct range *iv = random_ivs(f, count);
	struct nl_batch *b = nl_batch_new(NULL, 0);
	struct msgs m;
	struct elem_msgs em;
	char name[128];

	nl_batch_add_elems(b, "mxfence", f == FAM_V4 ? "big_v4" : "big_v6", f,
			   iv, count);
	msgs_get(b, &m);
	elems_from(&m, kl, &em);
	/* 40 / 64 bytes an interval: 1638 IPv4 or 1023 IPv6 intervals a message. */
	size_t per = NL_ELEMS_MAX / (f == FAM_V4 ? 40 : 64);
	size_t want_msgs = (count + per - 1) / per;

	EXPECT(!em.parse_error, "libnftnl cannot parse an element message");
	EXPECT(em.type == NFT_MSG_NEWSETELEM, "type %u", em.type);
	EXPECT(em.flags & NLM_F_CREATE, "NEWSETELEM without NLM_F_CREATE");
	EXPECT(em.messages == want_msgs, "%zu messages, want %zu", em.messages, want_msgs);
	EXPECT(em.max_list <= 65535 && em.max_list <= NL_ELEMS_MAX + 4,
	       "an element list of %zu bytes", em.max_list);
	EXPECT(em.messages < 2 || em.min_list + (f == FAM_V4 ? 40 : 64) > NL_ELEMS_MAX,
	       "a message other than the last holds only %zu bytes", em.min_list);
	EXPECT(!em.split_pair, "an interval is split between two messages");
	EXPECT(em.n == 2 * count, "%zu elements, want %zu", em.n, 2 * count);
	EXPECT(ascending(&em), "keys not ascending across the messages");

	struct range *back;
	size_t nback;
	EXPECT(elems_to_iv(&em, fam_max(f), &back, &nback), "elements do not pair up");
	EXPECT(nback == count && !memcmp(back, iv, count * sizeof(*iv)),
	       "intervals read back differ from those sent");
	free(back);
	free(em.v);
	msgs_free(&m);
	nl_batch_free(b);
	free(iv);
	snprintf(name, sizeof(name),
		 "%zu %s intervals: %zu messages, each list <= %d bytes, ascending, pairs whole",
		 count, fam_name(f), want_msgs, NL_ELEMS_MAX);
	result(name, ok);
}

static void test_ends(void)
{
	for (int fi = 0; fi < 2; fi++) {
		enum family f = (enum family)fi;
		unsigned kl = f == FAM_V4 ? 4 : 16;
		u128 max = fam_max(f);
		bool ok = true;
		struct msgs m;
		struct elem_msgs em;
		char name[160];

		/* An end element at max for [.., max - 1]; none for [.., max]. */
		struct range a[] = { { 0, 0 }, { 10, max - 1 } };
		struct range c[] = { { 0, 0 }, { max, max } };
		struct range all[] = { { 0, max } };
		struct nl_batch *b = nl_batch_new(NULL, 0);
		nl_batch_add_elems(b, "t", "s", f, a, 2);
		msgs_get(b, &m);
		elems_from(&m, kl, &em);
		EXPECT(em.n == 4 && em.v[3].key == max && em.v[3].end && !em.v[2].udata,
		       "[10, max-1] not closed by an end element at max");
		free(em.v);
		msgs_free(&m);
		nl_batch_free(b);

		b = nl_batch_new(NULL, 0);
		nl_batch_add_elems(b, "t", "s", f, c, 2);
		msgs_get(b, &m);
		elems_from(&m, kl, &em);
		EXPECT(em.n == 3 && em.v[0].key == 0 && em.v[1].key == 1 && em.v[1].end &&
			       em.v[2].key == max && !em.v[2].end && em.v[2].open,
		       "[max, max] not a lone start marked open (%zu elements)", em.n);
		free(em.v);
		msgs_free(&m);
		nl_batch_free(b);

		b = nl_batch_new(NULL, 0);
		nl_batch_add_elems(b, "t", "s", f, all, 1);
		msgs_get(b, &m);
		elems_from(&m, kl, &em);
		EXPECT(em.n == 1 && em.v[0].key == 0 && !em.v[0].end && em.v[0].open,
		       "[0, max] not a lone start at 0");
		free(em.v);
		msgs_free(&m);
		nl_batch_free(b);

		/* A delete names the same keys and flags, without the userdata. */
		b = nl_batch_new(NULL, 0);
		nl_batch_del_elems(b, "t", "s", f, c, 2);
		msgs_get(b, &m);
		elems_from(&m, kl, &em);
		EXPECT(em.type == NFT_MSG_DELSETELEM, "delete is type %u", em.type);
		EXPECT(!(em.flags & NLM_F_CREATE), "DELSETELEM with NLM_F_CREATE");
		EXPECT(em.n == 3 && em.v[2].key == max && !em.v[2].udata && !em.v[2].end,
		       "delete of [max, max] not a lone start without userdata");
		free(em.v);
		msgs_free(&m);
		nl_batch_free(b);

		snprintf(name, sizeof(name), "%s interval ends: end key hi+1, none at %s",
			 fam_name(f), f == FAM_V4 ? "255.255.255.255" : "ffff:...:ffff");
		result(name, ok);
	}
}

static void test_bad_input(void)
{
	bool ok = true;
	struct nl_result res;
	struct range overlap[] = { { 10, 20 }, { 15, 30 } };
	struct range descending[] = { { 100, 200 }, { 10, 20 } };
	struct range big[] = { { 1, (u128)1 << 40 } };

	struct range *cases[] = { overlap, descending, big };
	for (int i = 0; i < 3; i++) {
		struct nl_batch *b = nl_batch_new(NULL, 0);
		nl_batch_add_elems(b, "t", "s_v4", FAM_V4, cases[i], i == 2 ? 1 : 2);
		EXPECT(nl_batch_send(b, true, &res) == NL_ERROR, "case %d accepted", i);
		EXPECT(strstr(res.err, "s_v4") && strstr(res.err, "not ascending"),
		       "case %d: error '%.200s'", i, res.err);
		nl_batch_free(b);
	}
	result("intervals not ascending, overlapping or too wide are refused before sending", ok);
}

/* ------------------------------------------------------------ DNAT rules of other tables */

/* A dump of rules being written, as the kernel's replies: one buffer. */
struct rdump {
	uint8_t *buf;
	size_t len;
};

static void rdump_msg(struct rdump *d, const struct nlmsghdr *nlh)
{
	d->buf = xrealloc(d->buf, d->len + NLMSG_ALIGN(nlh->nlmsg_len));
	memset(d->buf + d->len, 0, NLMSG_ALIGN(nlh->nlmsg_len));
	memcpy(d->buf + d->len, nlh, nlh->nlmsg_len);
	d->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

/* Rule r of family f (freed) into the dump, of request seq. */
static void rdump_rule(struct rdump *d, struct nftnl_rule *r, uint16_t f, uint32_t seq)
{
	char buf[8192];
	struct nlmsghdr *nlh;

	memset(buf, 0, sizeof(buf));
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE, f, NLM_F_MULTI, seq);
	nlh->nlmsg_pid = 77;
	nftnl_rule_nlmsg_build_payload(nlh, r);
	rdump_msg(d, nlh);
	nftnl_rule_free(r);
}

static struct nftnl_rule *rrule(uint16_t f, const char *table, const char *chain)
{
	struct nftnl_rule *r = xcheck(nftnl_rule_alloc());

	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, f);
	if (table)
		nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	if (chain)
		nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, 5);
	return r;
}

static void rx(struct nftnl_rule *r, const char *name, uint16_t k1, uint32_t v1, uint16_t k2,
	       uint32_t v2, uint16_t kd, const void *data, uint32_t dlen)
{
	struct nftnl_expr *e = xcheck(nftnl_expr_alloc(name));

	nftnl_expr_set_u32(e, k1, v1);
	if (k2 != UINT16_MAX)
		nftnl_expr_set_u32(e, k2, v2);
	if (data)
		nftnl_expr_set(e, kd, data, dlen);
	nftnl_rule_add_expr(r, e);
}

static void rx_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len)
{
	struct nftnl_expr *e = xcheck(nftnl_expr_alloc("payload"));

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_rule_add_expr(r, e);
}

static void rx_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	rx(r, "cmp", NFTNL_EXPR_CMP_SREG, NFT_REG_1, NFTNL_EXPR_CMP_OP, op, NFTNL_EXPR_CMP_DATA,
	   data, len);
}

static void rx_mask(struct nftnl_rule *r, const void *mask, uint32_t len)
{
	uint8_t zero[16] = { 0 };
	struct nftnl_expr *e = xcheck(nftnl_expr_alloc("bitwise"));

	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	nftnl_rule_add_expr(r, e);
}

/* tcp dport P, then dnat ip to 192.0.2.25:25 */
static void rx_dport_dnat(struct nftnl_rule *r, uint16_t port)
{
	uint8_t tcp = IPPROTO_TCP, to[4] = { 192, 0, 2, 25 };
	uint16_t p = htons(port), q = htons(25);

	rx(r, "meta", NFTNL_EXPR_META_KEY, NFT_META_L4PROTO, NFTNL_EXPR_META_DREG, NFT_REG_1, 0,
	   NULL, 0);
	rx_cmp(r, NFT_CMP_EQ, &tcp, 1);
	if (port) {
		rx_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
		rx_cmp(r, NFT_CMP_EQ, &p, 2);
	}
	rx(r, "immediate", NFTNL_EXPR_IMM_DREG, NFT_REG_1, UINT16_MAX, 0, NFTNL_EXPR_IMM_DATA, to,
	   4);
	rx(r, "immediate", NFTNL_EXPR_IMM_DREG, NFT_REG_2, UINT16_MAX, 0, NFTNL_EXPR_IMM_DATA, &q,
	   2);
	struct nftnl_expr *e = xcheck(nftnl_expr_alloc("nat"));
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
	nftnl_rule_add_expr(r, e);
}

/* The one rule of a dump of one rule, read: 0 or the error. */
static int read_one(struct nftnl_rule *r, uint16_t f, struct nat_rule_list *out)
{
	struct rdump d = { 0 };
	int rc;

	rdump_rule(&d, r, f, 1);
	rc = nl_dnat_parse(d.buf, d.len, "mxfence", out);
	free(d.buf);
	return rc;
}

static bool dest_is(const struct nat_rule *r, u128 lo, u128 hi)
{
	return !r->any_dest && r->ndest == 1 && r->dest[0].lo == lo && r->dest[0].hi == hi;
}

static bool port_is(const struct nat_rule *r, unsigned lo, unsigned hi)
{
	return !r->any_port && r->nports == 1 && r->ports[0].lo == lo && r->ports[0].hi == hi;
}

static void test_dnat(void)
{
	static const uint8_t a28[4] = { 203, 0, 113, 0 }, m28[4] = { 255, 255, 255, 240 };
	static const uint8_t zero4[4] = { 0 }, net10[4] = { 10, 0, 0, 0 }, m8[4] = { 255, 0, 0, 0 };
	static const uint8_t at105[4] = { 10, 5, 0, 0 }, at11[4] = { 11, 0, 0, 0 };
	struct nat_rule_list out;
	struct nftnl_rule *r;
	bool ok = true;

	/* ip daddr 203.0.113.0/28 tcp dport 25 dnat to 192.0.2.25:25 */
	r = rrule(NFPROTO_IPV4, "nat", "PREROUTING");
	rx_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4);
	rx_mask(r, m28, 4);
	rx_cmp(r, NFT_CMP_EQ, a28, 4);
	rx_dport_dnat(r, 25);
	EXPECT(read_one(r, NFPROTO_IPV4, &out) == 0 && out.n == 1, "%zu rules", out.n);
	EXPECT(out.n == 1 && dest_is(&out.v[0], 0xcb007100, 0xcb00710f) && port_is(&out.v[0], 25, 25) &&
		       out.v[0].l4proto == IPPROTO_TCP && out.v[0].handle == 5 &&
		       !strcmp(out.v[0].target, "192.0.2.25:25") && !strcmp(out.v[0].chain, "PREROUTING"),
	       "read as %s", out.n ? out.v[0].target : "nothing");
	nat_rule_list_free(&out);
	result("dnat: a prefix and a port, as nft writes them", ok);
	ok = true;

	/* tcp dport & 0xff00 == 0x1900: ports 6400-6655, not 6400 alone */
	r = rrule(NFPROTO_IPV4, "nat", "PREROUTING");
	rx_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	rx_mask(r, (const uint8_t[]){ 0xff, 0 }, 2);
	rx_cmp(r, NFT_CMP_EQ, (const uint8_t[]){ 0x19, 0 }, 2);
	rx_dport_dnat(r, 0);
	EXPECT(read_one(r, NFPROTO_IPV4, &out) == 0 && out.n == 1 && port_is(&out.v[0], 6400, 6655),
	       "%zu rules, %zu port ranges", out.n, out.n ? out.v[0].nports : 0);
	nat_rule_list_free(&out);
	result("dnat: a masked port reads as all the ports it matches", ok);
	ok = true;

	/* ip daddr < 0.0.0.0: no destination (it wrapped to 2^128 - 1) */
	r = rrule(NFPROTO_IPV4, "nat", "PREROUTING");
	rx_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4);
	rx_cmp(r, NFT_CMP_LT, zero4, 4);
	rx_dport_dnat(r, 25);
	EXPECT(read_one(r, NFPROTO_IPV4, &out) == 0 && out.n == 1 && !out.v[0].any_dest &&
		       !out.v[0].ndest,
	       "%zu rules, any_dest %d, %zu ranges", out.n, out.n && out.v[0].any_dest,
	       out.n ? out.v[0].ndest : 0);
	nat_rule_list_free(&out);
	result("dnat: a destination below 0.0.0.0 is none", ok);
	ok = true;

	/* ip daddr >= 10.5.0.0 ip daddr 10.0.0.0/8: both hold; then >= 11.0.0.0: none */
	for (int i = 0; i < 2; i++) {
		r = rrule(NFPROTO_IPV4, "nat", "PREROUTING");
		rx_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4);
		rx_cmp(r, NFT_CMP_GTE, i ? at11 : at105, 4);
		rx_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4);
		rx_mask(r, m8, 4);
		rx_cmp(r, NFT_CMP_EQ, net10, 4);
		rx_dport_dnat(r, 25);
		EXPECT(read_one(r, NFPROTO_IPV4, &out) == 0 && out.n == 1 &&
			       (i ? !out.v[0].any_dest && !out.v[0].ndest
				  : dest_is(&out.v[0], 0x0a050000, 0x0affffff)),
		       "case %d: %zu rules, %zu ranges", i, out.n, out.n ? out.v[0].ndest : 0);
		nat_rule_list_free(&out);
	}
	result("dnat: two destination matches read as what both pass", ok);
	ok = true;

	/*
	 * ip daddr into reg 1, then an expression the reader does not interpret
	 * (numgen) writes reg 1, then reg 1 == 203.0.113.5: the comparison is of
	 * the number, not the address, so the rule reads as any destination. With
	 * a counter there instead (it writes no register) the address stands.
	 */
	for (int i = 0; i < 2; i++) {
		static const uint8_t a5[4] = { 203, 0, 113, 5 };
		r = rrule(NFPROTO_IPV4, "nat", "PREROUTING");
		rx_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4);
		struct nftnl_expr *x = xcheck(nftnl_expr_alloc(i ? "counter" : "numgen"));
		if (!i) {
			nftnl_expr_set_u32(x, NFTNL_EXPR_NG_DREG, NFT_REG_1);
			nftnl_expr_set_u32(x, NFTNL_EXPR_NG_MODULUS, 2);
			nftnl_expr_set_u32(x, NFTNL_EXPR_NG_TYPE, NFT_NG_INCREMENTAL);
		}
		nftnl_rule_add_expr(r, x);
		rx_cmp(r, NFT_CMP_EQ, a5, 4);
		rx_dport_dnat(r, 25);
		EXPECT(read_one(r, NFPROTO_IPV4, &out) == 0 && out.n == 1 &&
			       (i ? dest_is(&out.v[0], 0xcb007105, 0xcb007105) : out.v[0].any_dest),
		       "case %d: %zu rules, any_dest %d, %zu ranges", i, out.n,
		       out.n && out.v[0].any_dest, out.n ? out.v[0].ndest : 0);
		nat_rule_list_free(&out);
	}
	result("dnat: a register written by an expression not understood holds no destination", ok);
	ok = true;

	/* ct original ip6 daddr in a table ip: the rule matches nothing */
	r = rrule(NFPROTO_IPV4, "nat", "PREROUTING");
	struct nftnl_expr *e = xcheck(nftnl_expr_alloc("ct"));
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_DST_IP6);
	nftnl_expr_set_u8(e, NFTNL_EXPR_CT_DIR, IP_CT_DIR_ORIGINAL);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, e);
	rx_cmp(r, NFT_CMP_EQ, (const uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, 16);
	rx_dport_dnat(r, 25);
	EXPECT(read_one(r, NFPROTO_IPV4, &out) == 0 && out.n == 1 && out.v[0].fam == FAM_V4 &&
		       !out.v[0].any_dest && !out.v[0].ndest,
	       "%zu rules, fam %d, %zu ranges", out.n, out.n ? out.v[0].fam : 9,
	       out.n ? out.v[0].ndest : 0);
	nat_rule_list_free(&out);
	result("dnat: an IPv6 destination in a table ip is none", ok);
	ok = true;

	/* An xtables DNAT target without its info; a set lookup; a rule without chain. */
	struct rdump d = { 0 };
	r = rrule(NFPROTO_IPV4, "nat", "DOCKER");
	e = xcheck(nftnl_expr_alloc("target"));
	nftnl_expr_set_str(e, NFTNL_EXPR_TG_NAME, "DNAT");
	nftnl_expr_set_u32(e, NFTNL_EXPR_TG_REV, 2);
	nftnl_rule_add_expr(r, e);
	rdump_rule(&d, r, NFPROTO_IPV4, 1);
	r = rrule(NFPROTO_IPV4, "nat", "PREROUTING");
	rx_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4);
	e = xcheck(nftnl_expr_alloc("lookup"));
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, "__set0");
	nftnl_rule_add_expr(r, e);
	rx_dport_dnat(r, 25);
	rdump_rule(&d, r, NFPROTO_IPV4, 1);
	r = rrule(NFPROTO_IPV4, "nat", NULL);
	rx_dport_dnat(r, 25);
	rdump_rule(&d, r, NFPROTO_IPV4, 1);
	r = rrule(NFPROTO_INET, "mxfence", "forward");
	rx_dport_dnat(r, 25);
	rdump_rule(&d, r, NFPROTO_INET, 1);
	r = rrule(NFPROTO_IPV4, "nat", "other-request");
	rx_dport_dnat(r, 25);
	rdump_rule(&d, r, NFPROTO_IPV4, 2);
	EXPECT(nl_dnat_parse(d.buf, d.len, "mxfence", &out) == 0 && out.n == 2, "%zu rules", out.n);
	EXPECT(out.n == 2 && !strcmp(out.v[0].chain, "DOCKER") &&
		       !strcmp(out.v[0].target, "(xtables DNAT revision 2)") &&
		       out.v[0].any_dest && out.v[0].any_port,
	       "first: %s %s", out.n ? out.v[0].chain : "", out.n ? out.v[0].target : "");
	EXPECT(out.n == 2 && out.v[1].any_dest && port_is(&out.v[1], 25, 25),
	       "the lookup: any_dest %d", out.n == 2 && out.v[1].any_dest);
	nat_rule_list_free(&out);
	free(d.buf);
	result("dnat: a target without info, a set no kernel can give (any), no chain, our "
	       "table and another request (skipped)", ok);
	ok = true;

	/* The kernel's error ends the dump: nothing is kept. */
	d = (struct rdump){ 0 };
	r = rrule(NFPROTO_IPV4, "nat", "PREROUTING");
	rx_dport_dnat(r, 25);
	rdump_rule(&d, r, NFPROTO_IPV4, 1);
	struct {
		struct nlmsghdr h;
		struct nlmsgerr e;
	} err = { .h = { .nlmsg_len = sizeof(err), .nlmsg_type = NLMSG_ERROR, .nlmsg_seq = 1,
			 .nlmsg_pid = 77 },
		  .e = { .error = -EPERM } };
	rdump_msg(&d, &err.h);
	EXPECT(nl_dnat_parse(d.buf, d.len, "mxfence", &out) == -EPERM && !out.n && !out.v,
	       "%zu rules", out.n);
	EXPECT(nl_dnat_parse(d.buf, d.len - 3, "mxfence", &out) == -EBADMSG && !out.n,
	       "cut short: %zu rules", out.n);
	free(d.buf);
	result("dnat: an error in the replies, or a message cut short, is the result", ok);
	ok = true;
}

int main(void)
{
	test_begin();
	test_objects();
	test_rules();
	test_plan();
	check_chunking(FAM_V4, 100000);
	check_chunking(FAM_V6, 50000);
	check_chunking(FAM_V4, 1);
	test_ends();
	test_bad_input();
	test_dnat();
	return failures ? 1 : 0;
}
