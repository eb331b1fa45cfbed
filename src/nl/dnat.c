/*
 * DNAT rules of all tables (see dnat.h). A rule is read expression by
 * expression, following what each register holds: a load (meta, payload, ct,
 * immediate), masked by bitwise, then compared (cmp, range) or looked up in a
 * set. What is compared against the destination address or port becomes the
 * rule's match; a nat expression of type dnat, or xtables' DNAT target, says
 * it is a DNAT rule and where to. Set lookups are resolved once the rules are
 * read: the sets' elements are dumped then.
 */
#include <netinet/in.h>

#include <linux/netfilter/nf_nat.h>

#include "nl-private.h"
#include "dnat.h"

#define READ_ATTEMPTS 8

/* Registers as 32-bit slots: NFT_REG_1..4 are 16 bytes (slots 4..19), NFT_REG32_00.. 4 bytes. */
#define SLOTS 20

static int reg_slot(uint32_t reg)
{
	if (reg >= NFT_REG_1 && reg <= NFT_REG_4)
		return (int)reg * 4;
	if (reg >= NFT_REG32_00 && reg <= NFT_REG32_15)
		return (int)(reg - NFT_REG32_00) + 4;
	return -1;
}

enum field { F_NONE, F_NFPROTO, F_L4PROTO, F_DADDR4, F_DADDR6, F_DPORT, F_IMM, F_MAP };

/* What a register holds. */
struct regval {
	enum field field;
	unsigned len;          /* bytes loaded */
	unsigned skip;         /* F_DADDR*: bytes of the address before the loaded ones */
	uint8_t mask[16];      /* applied by bitwise; all ones when not */
	uint8_t data[16];      /* F_IMM */
	size_t lookup;         /* F_MAP: index of the lookup, + 1 */
};

/* A set lookup that decides the destination or port of a rule, resolved later. */
struct lookup {
	size_t rule;
	enum field field;
	char *table, *set;
	uint32_t nfproto;
	bool map;              /* the dnat address comes from it, too */
};

struct reader {
	struct nl *nl;
	uint32_t gen;
	const char *skip_table;
	struct nat_rule_list *out;
	struct lookup *lk;
	size_t nlk, lkcap;
	size_t rcap;
};

static const char *family_name(uint32_t f)
{
	switch (f) {
	case NFPROTO_IPV4:
		return "ip";
	case NFPROTO_IPV6:
		return "ip6";
	case NFPROTO_INET:
		return "inet";
	case NFPROTO_ARP:
		return "arp";
	case NFPROTO_BRIDGE:
		return "bridge";
	case NFPROTO_NETDEV:
		return "netdev";
	}
	return "?";
}

static u128 be_value(const uint8_t *p, unsigned len)
{
	u128 v = 0;

	for (unsigned i = 0; i < len; i++)
		v = (v << 8) | p[i];
	return v;
}

/* The match being built for one rule. */
struct match {
	int fam;
	int l4proto;
	bool have_dest, have_port, dest_any, port_any;
	struct range dest, port;
	bool dest_set, port_set; /* decided by a lookup (resolved later) */
	bool dnat;
	char target[160];
	struct lookup pending[2];
	size_t npending;
};

/* The bytes of an address of family f the register holds, as [lo, hi] of the whole address. */
static struct range addr_match(const struct regval *v, const uint8_t *data)
{
	uint8_t lo[16] = { 0 }, hi[16];
	unsigned total = v->field == F_DADDR4 ? 4 : 16;

	memset(hi, 0xff, sizeof(hi));
	for (unsigned i = 0; i < v->len && v->skip + i < total; i++) {
		lo[v->skip + i] = data[i] & v->mask[i];
		hi[v->skip + i] = (uint8_t)((data[i] & v->mask[i]) | (uint8_t)~v->mask[i]);
	}
	/* Bytes before the loaded ones are not matched: a load that skips is no prefix. */
	if (v->skip) {
		memset(lo, 0, v->skip);
		memset(hi, 0xff, v->skip);
	}
	return (struct range){ be_value(lo, total), be_value(hi, total) };
}

static bool mask_is_prefix(const struct regval *v)
{
	bool ones = true;

	for (unsigned i = 0; i < v->len; i++)
		for (int b = 7; b >= 0; b--) {
			bool bit = v->mask[i] >> b & 1;
			if (bit && !ones)
				return false;
			ones = bit;
		}
	return true;
}

static void match_cmp(struct match *m, const struct regval *v, uint32_t op, const uint8_t *data,
		      uint32_t dlen)
{
	if (dlen < v->len || v->len == 0)
		return;
	switch (v->field) {
	case F_NFPROTO:
		if (op == NFT_CMP_EQ)
			m->fam = data[0] == NFPROTO_IPV4 ? FAM_V4 : data[0] == NFPROTO_IPV6 ? FAM_V6 : m->fam;
		break;
	case F_L4PROTO:
		if (op == NFT_CMP_EQ)
			m->l4proto = data[0];
		break;
	case F_DADDR4:
	case F_DADDR6: {
		enum family f = v->field == F_DADDR4 ? FAM_V4 : FAM_V6;
		if (m->fam < 0)
			m->fam = (int)f;
		if (op == NFT_CMP_EQ && mask_is_prefix(v) && !v->skip) {
			m->dest = addr_match(v, data);
			m->have_dest = true;
		} else if ((op == NFT_CMP_GTE || op == NFT_CMP_GT) && !v->skip && v->len == (f ? 16u : 4u)) {
			if (!m->have_dest)
				m->dest = (struct range){ 0, fam_max(f) };
			m->dest.lo = be_value(data, v->len) + (op == NFT_CMP_GT);
			m->have_dest = true;
		} else if ((op == NFT_CMP_LTE || op == NFT_CMP_LT) && !v->skip && v->len == (f ? 16u : 4u)) {
			if (!m->have_dest)
				m->dest = (struct range){ 0, fam_max(f) };
			m->dest.hi = be_value(data, v->len) - (op == NFT_CMP_LT);
			m->have_dest = true;
		} else {
			m->dest_any = true; /* a negation or a mask that is no prefix */
		}
		break;
	}
	case F_DPORT: {
		uint16_t port = (uint16_t)be_value(data, 2);
		if (!m->have_port)
			m->port = (struct range){ 0, 65535 };
		if (op == NFT_CMP_EQ)
			m->port = (struct range){ port, port };
		else if (op == NFT_CMP_GTE)
			m->port.lo = port;
		else if (op == NFT_CMP_GT)
			m->port.lo = (u128)port + 1;
		else if (op == NFT_CMP_LTE)
			m->port.hi = port;
		else if (op == NFT_CMP_LT)
			m->port.hi = port ? (u128)port - 1 : 0;
		else
			m->port_any = true;
		m->have_port = true;
		break;
	}
	default:
		break;
	}
}

static void format_target(struct match *m, int fam, const uint8_t *addr, bool have_addr,
			  const uint8_t *port, bool have_port)
{
	char a[ADDR_STRLEN] = "";

	if (have_addr)
		addr_format(be_value(addr, fam == FAM_V4 ? 4 : 16), (enum family)fam, a);
	if (have_addr && have_port)
		snprintf(m->target, sizeof(m->target), fam == FAM_V6 ? "[%s]:%u" : "%s:%u", a,
			 (unsigned)be_value(port, 2));
	else if (have_addr)
		snprintf(m->target, sizeof(m->target), "%s", a);
	else if (have_port)
		snprintf(m->target, sizeof(m->target), "port %u", (unsigned)be_value(port, 2));
	else
		snprintf(m->target, sizeof(m->target), "the same address");
}

/* xtables' DNAT target (iptables-nft): nf_nat_ipv4_multi_range_compat, nf_nat_range(2). */
static void xt_dnat(struct match *m, uint32_t rev, const uint8_t *info, uint32_t len, uint32_t nfproto)
{
	unsigned flags;

	m->dnat = true;
	if (rev == 0 && len >= sizeof(struct nf_nat_ipv4_multi_range_compat)) {
		const struct nf_nat_ipv4_multi_range_compat *c = (const void *)info;
		flags = c->range[0].flags;
		format_target(m, FAM_V4, (const uint8_t *)&c->range[0].min_ip,
			      flags & NF_NAT_RANGE_MAP_IPS, (const uint8_t *)&c->range[0].min.all,
			      flags & NF_NAT_RANGE_PROTO_SPECIFIED);
	} else if ((rev == 1 || rev == 2) && len >= sizeof(struct nf_nat_range)) {
		const struct nf_nat_range *r = (const void *)info;
		int fam = nfproto == NFPROTO_IPV6 ? FAM_V6 : FAM_V4;
		flags = r->flags;
		format_target(m, fam, (const uint8_t *)&r->min_addr, flags & NF_NAT_RANGE_MAP_IPS,
			      (const uint8_t *)&r->min_proto.all, flags & NF_NAT_RANGE_PROTO_SPECIFIED);
	} else {
		snprintf(m->target, sizeof(m->target), "(xtables DNAT revision %u)", rev);
	}
}

static void reg_clear(struct regval *regs, int slot, unsigned len)
{
	unsigned n = len ? (len + 3) / 4 : 4;

	for (unsigned i = 0; i < n && slot + (int)i < SLOTS; i++)
		regs[slot + i].field = F_NONE;
}

static struct regval *reg_load(struct regval *regs, uint32_t reg, enum field f, unsigned len)
{
	int slot = reg_slot(reg);

	if (slot < 0)
		return NULL;
	reg_clear(regs, slot, len);
	memset(&regs[slot], 0, sizeof(regs[slot]));
	regs[slot].field = f;
	regs[slot].len = len > 16 ? 16 : len;
	memset(regs[slot].mask, 0xff, sizeof(regs[slot].mask));
	return &regs[slot];
}

static const struct regval *reg_get(const struct regval *regs, uint32_t reg)
{
	int slot = reg_slot(reg);

	return slot < 0 ? NULL : &regs[slot];
}

/* One rule's expressions into m; the context is the table's family. */
static void read_rule(struct nftnl_rule *rule, uint32_t nfproto, struct match *m)
{
	struct regval regs[SLOTS];
	struct nftnl_expr_iter *it = nftnl_expr_iter_create(rule);
	struct nftnl_expr *e;

	memset(regs, 0, sizeof(regs));
	m->fam = nfproto == NFPROTO_IPV4 ? FAM_V4 : nfproto == NFPROTO_IPV6 ? FAM_V6 : -1;
	m->l4proto = -1;
	if (!it)
		return;
	while ((e = nftnl_expr_iter_next(it))) {
		const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);
		uint32_t dlen = 0;
		struct regval *v;

		if (streq(name, "meta") && nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG)) {
			uint32_t key = nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY);
			enum field f = key == NFT_META_NFPROTO ? F_NFPROTO
				       : key == NFT_META_L4PROTO ? F_L4PROTO
								   : F_NONE;
			reg_load(regs, nftnl_expr_get_u32(e, NFTNL_EXPR_META_DREG), f, 1);
		} else if (streq(name, "payload") && nftnl_expr_is_set(e, NFTNL_EXPR_PAYLOAD_DREG)) {
			uint32_t base = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE);
			uint32_t off = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET);
			uint32_t len = nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN);
			enum field f = F_NONE;
			unsigned skip = 0;
			/* The network header's meaning depends on the family the rule is of. */
			if (base == NFT_PAYLOAD_NETWORK_HEADER && m->fam == FAM_V4 && off >= 16 &&
			    off + len <= 20)
				f = F_DADDR4, skip = off - 16;
			else if (base == NFT_PAYLOAD_NETWORK_HEADER && m->fam == FAM_V6 && off >= 24 &&
				 off + len <= 40)
				f = F_DADDR6, skip = off - 24;
			else if (base == NFT_PAYLOAD_TRANSPORT_HEADER && off == 2 && len == 2)
				f = F_DPORT;
			v = reg_load(regs, nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_DREG), f, len);
			if (v)
				v->skip = skip;
		} else if (streq(name, "ct") && nftnl_expr_is_set(e, NFTNL_EXPR_CT_DREG)) {
			uint32_t key = nftnl_expr_get_u32(e, NFTNL_EXPR_CT_KEY);
			bool original = !nftnl_expr_is_set(e, NFTNL_EXPR_CT_DIR) ||
					nftnl_expr_get_u8(e, NFTNL_EXPR_CT_DIR) == IP_CT_DIR_ORIGINAL;
			enum field f = F_NONE;
			unsigned len = 4;
			if (original && key == NFT_CT_DST_IP)
				f = F_DADDR4;
			else if (original && key == NFT_CT_DST_IP6)
				f = F_DADDR6, len = 16;
			else if (original && key == NFT_CT_DST && m->fam >= 0)
				f = m->fam == FAM_V4 ? F_DADDR4 : F_DADDR6, len = m->fam == FAM_V4 ? 4 : 16;
			else if (original && key == NFT_CT_PROTO_DST)
				f = F_DPORT, len = 2;
			reg_load(regs, nftnl_expr_get_u32(e, NFTNL_EXPR_CT_DREG), f, len);
		} else if (streq(name, "immediate") && nftnl_expr_is_set(e, NFTNL_EXPR_IMM_DATA)) {
			const void *d = nftnl_expr_get(e, NFTNL_EXPR_IMM_DATA, &dlen);
			v = reg_load(regs, nftnl_expr_get_u32(e, NFTNL_EXPR_IMM_DREG), F_IMM, dlen);
			if (v && d)
				memcpy(v->data, d, dlen > 16 ? 16 : dlen);
		} else if (streq(name, "bitwise")) {
			const struct regval *src = reg_get(regs, nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_SREG));
			uint32_t mlen = 0, xlen = 0;
			const uint8_t *mask = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_MASK, &mlen);
			const uint8_t *xr = nftnl_expr_get(e, NFTNL_EXPR_BITWISE_XOR, &xlen);
			struct regval copy = src ? *src : (struct regval){ 0 };
			bool plain = mask != NULL;
			for (uint32_t i = 0; xr && i < xlen; i++)
				plain &= xr[i] == 0;
			if (nftnl_expr_is_set(e, NFTNL_EXPR_BITWISE_OP) &&
			    nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_OP) != NFT_BITWISE_BOOL)
				plain = false;
			for (uint32_t i = 0; plain && i < mlen && i < 16; i++)
				copy.mask[i] &= mask[i];
			if (!plain)
				copy.field = F_NONE;
			v = reg_load(regs, nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_DREG), copy.field,
				     copy.len);
			if (v)
				*v = copy;
		} else if (streq(name, "cmp")) {
			const struct regval *src = reg_get(regs, nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG));
			const uint8_t *d = nftnl_expr_get(e, NFTNL_EXPR_CMP_DATA, &dlen);
			if (src && d)
				match_cmp(m, src, nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP), d, dlen);
		} else if (streq(name, "range")) {
			const struct regval *src = reg_get(regs, nftnl_expr_get_u32(e, NFTNL_EXPR_RANGE_SREG));
			uint32_t flen = 0, tlen = 0;
			const uint8_t *from = nftnl_expr_get(e, NFTNL_EXPR_RANGE_FROM_DATA, &flen);
			const uint8_t *to = nftnl_expr_get(e, NFTNL_EXPR_RANGE_TO_DATA, &tlen);
			if (src && from && to && nftnl_expr_get_u32(e, NFTNL_EXPR_RANGE_OP) == NFT_RANGE_EQ) {
				match_cmp(m, src, NFT_CMP_GTE, from, flen);
				match_cmp(m, src, NFT_CMP_LTE, to, tlen);
			} else if (src && src->field == F_DPORT) {
				m->port_any = true;
			} else if (src && (src->field == F_DADDR4 || src->field == F_DADDR6)) {
				m->dest_any = true;
			}
		} else if (streq(name, "lookup")) {
			const struct regval *src = reg_get(regs, nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG));
			const char *set = nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET);
			bool inv = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_FLAGS) &&
				   (nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV);
			bool map = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG);
			enum field f = src ? src->field : F_NONE;
			bool whole = src && !src->skip && mask_is_prefix(src) &&
				     (f == F_DPORT || (f == F_DADDR4 && src->len == 4) ||
				      (f == F_DADDR6 && src->len == 16));
			if (map)
				reg_load(regs, nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_DREG), F_MAP, 16);
			if ((f == F_DPORT || f == F_DADDR4 || f == F_DADDR6) && (inv || !whole || !set)) {
				if (f == F_DPORT)
					m->port_any = true;
				else
					m->dest_any = true;
			} else if ((f == F_DPORT || f == F_DADDR4 || f == F_DADDR6) && m->npending < 2) {
				struct lookup *l = &m->pending[m->npending++];
				l->field = f;
				l->set = xstrdup(set);
				l->map = map;
				if (f == F_DPORT)
					m->port_set = true;
				else
					m->dest_set = true, m->fam = f == F_DADDR4 ? FAM_V4 : FAM_V6;
			}
		} else if (streq(name, "nat") &&
			   nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_TYPE) == NFT_NAT_DNAT) {
			uint32_t nfam = nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_FAMILY);
			int fam = nfam == NFPROTO_IPV6 ? FAM_V6 : FAM_V4;
			const struct regval *a = nftnl_expr_is_set(e, NFTNL_EXPR_NAT_REG_ADDR_MIN)
						 ? reg_get(regs, nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN))
						 : NULL;
			const struct regval *p = nftnl_expr_is_set(e, NFTNL_EXPR_NAT_REG_PROTO_MIN)
						 ? reg_get(regs, nftnl_expr_get_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN))
						 : NULL;
			m->dnat = true;
			if (m->fam < 0)
				m->fam = fam;
			if (a && a->field == F_MAP)
				snprintf(m->target, sizeof(m->target), "addresses of a map");
			else
				format_target(m, fam, a ? a->data : NULL, a && a->field == F_IMM,
					      p ? p->data : NULL, p && p->field == F_IMM);
		} else if (streq(name, "target") && streq(nftnl_expr_get_str(e, NFTNL_EXPR_TG_NAME), "DNAT")) {
			const void *info = nftnl_expr_get(e, NFTNL_EXPR_TG_INFO, &dlen);
			if (info)
				xt_dnat(m, nftnl_expr_get_u32(e, NFTNL_EXPR_TG_REV), info, dlen, nfproto);
			if (m->fam < 0)
				m->fam = nfproto == NFPROTO_IPV6 ? FAM_V6 : FAM_V4;
		}
	}
	nftnl_expr_iter_destroy(it);
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct reader *r = data;
	struct nftnl_rule *rule = nftnl_rule_alloc();
	struct match m;
	uint32_t nfproto;
	const char *table;

	if (!rule)
		return -ENOMEM;
	if (nftnl_rule_nlmsg_parse(nlh, rule) < 0) {
		nftnl_rule_free(rule);
		return 0; /* not ours to judge: skip it */
	}
	nfproto = nftnl_rule_get_u32(rule, NFTNL_RULE_FAMILY);
	table = nftnl_rule_get_str(rule, NFTNL_RULE_TABLE);
	if (!table || (nfproto == NFPROTO_INET && r->skip_table && streq(table, r->skip_table)) ||
	    (nfproto != NFPROTO_IPV4 && nfproto != NFPROTO_IPV6 && nfproto != NFPROTO_INET)) {
		nftnl_rule_free(rule);
		return 0;
	}
	memset(&m, 0, sizeof(m));
	read_rule(rule, nfproto, &m);
	if (m.dnat) {
		struct nat_rule_list *l = r->out;
		l->v = grow(l->v, &r->rcap, l->n + 1, sizeof(*l->v));
		struct nat_rule *nr = &l->v[l->n];
		memset(nr, 0, sizeof(*nr));
		nr->family = xstrdup(family_name(nfproto));
		nr->table = xstrdup(table);
		nr->chain = xstrdup(nftnl_rule_get_str(rule, NFTNL_RULE_CHAIN));
		nr->handle = nftnl_rule_get_u64(rule, NFTNL_RULE_HANDLE);
		nr->fam = m.fam;
		nr->l4proto = m.l4proto;
		nr->any_port = m.port_any || (!m.have_port && !m.port_set);
		if (!nr->any_port && !m.port_set && m.port.lo <= m.port.hi) {
			nr->ports = xmalloc(sizeof(*nr->ports));
			nr->ports[0] = m.port;
			nr->nports = 1;
		}
		nr->any_dest = m.dest_any || (!m.have_dest && !m.dest_set) || m.fam < 0;
		if (!nr->any_dest && !m.dest_set && m.dest.lo <= m.dest.hi) {
			nr->dest = xmalloc(sizeof(*nr->dest));
			nr->dest[0] = m.dest;
			nr->ndest = 1;
		}
		snprintf(nr->target, sizeof(nr->target), "%s", m.target);
		for (size_t i = 0; i < m.npending; i++) {
			if ((m.pending[i].field == F_DPORT && nr->any_port) ||
			    (m.pending[i].field != F_DPORT && nr->any_dest)) {
				free(m.pending[i].set);
				continue;
			}
			r->lk = grow(r->lk, &r->lkcap, r->nlk + 1, sizeof(*r->lk));
			r->lk[r->nlk] = m.pending[i];
			r->lk[r->nlk].rule = l->n;
			r->lk[r->nlk].table = xstrdup(table);
			r->lk[r->nlk].nfproto = nfproto;
			r->nlk++;
		}
		l->n++;
	} else {
		for (size_t i = 0; i < m.npending; i++)
			free(m.pending[i].set);
	}
	nftnl_rule_free(rule);
	return 0;
}

struct set_info {
	uint32_t flags, key_len;
	bool found;
};

static int set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct set_info *si = data;
	struct nftnl_set *s = nftnl_set_alloc();

	if (s && nftnl_set_nlmsg_parse(nlh, s) == 0) {
		si->flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
		si->key_len = nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN);
		si->found = true;
	}
	nftnl_set_free(s);
	return 0;
}

/* The intervals of a set (its keys, for a map), into rv. 0 or -errno. */
static int read_set(struct reader *r, const struct lookup *l, struct range_vec *rv)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_set *s = nftnl_set_alloc();
	struct set_info si = { 0 };
	struct nlmsghdr *nlh;
	int rc;

	if (!s)
		return -ENOMEM;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, l->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, l->set);
	nlh = req_hdr(r->nl, buf, NFT_MSG_GETSET, (uint16_t)l->nfproto, NLM_F_ACK);
	nftnl_set_nlmsg_build_payload(nlh, s);
	rc = nl_talk(r->nl, nlh, set_cb, &si, &r->gen);
	if (rc < 0 || !si.found || si.key_len == 0 || si.key_len > 16) {
		nftnl_set_free(s);
		return rc < 0 ? rc : -ENOENT;
	}

	/* The elements, through the same reader as our own sets' (nl.h). */
	struct nl_elem_dump d = { .portid = r->nl->portid, .genid = r->gen, .key_len = si.key_len };
	struct nl_set_live live = { .flags = si.flags, .key_len = si.key_len };
	nlh = req_hdr(r->nl, buf, NFT_MSG_GETSETELEM, (uint16_t)l->nfproto, NLM_F_DUMP);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	d.seq = nlh->nlmsg_seq;
	rc = nl_send_raw(r->nl, nlh);
	while (rc == 0) {
		ssize_t len = nl_recv(r->nl, true);
		if (len < 0) {
			rc = (int)len;
			break;
		}
		rc = nl_elems_parse(&d, r->nl->buf, (size_t)len);
	}
	if (rc == 1)
		rc = nl_elems_finish(&d, &live);
	if (rc == 0)
		for (size_t i = 0; i < live.n; i++)
			range_vec_push(rv, live.iv[i].lo, live.iv[i].hi);
	free(live.iv);
	nl_elem_dump_free(&d);
	return rc;
}

void nat_rule_list_free(struct nat_rule_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].family);
		free(l->v[i].table);
		free(l->v[i].chain);
		free(l->v[i].ports);
		free(l->v[i].dest);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void lookups_free(struct reader *r)
{
	for (size_t i = 0; i < r->nlk; i++) {
		free(r->lk[i].table);
		free(r->lk[i].set);
	}
	free(r->lk);
	r->lk = NULL;
	r->nlk = r->lkcap = 0;
}

/* One consistent try: 0, -EINTR if the ruleset moved meanwhile, or -errno. */
static int read_once(struct reader *r)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	uint32_t after;
	int rc;

	rc = nl_getgen(r->nl, &r->gen);
	if (rc < 0)
		return rc;
	nlh = req_hdr(r->nl, buf, NFT_MSG_GETRULE, AF_UNSPEC, NLM_F_DUMP);
	rc = nl_talk(r->nl, nlh, rule_cb, r, &r->gen);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < r->nlk; i++) {
		struct lookup *l = &r->lk[i];
		struct nat_rule *nr = &r->out->v[l->rule];
		struct range_vec rv = { 0 };
		rc = read_set(r, l, &rv);
		if (rc == -ENOENT) {
			/* Gone meanwhile, or unreadable: read the match as everything. */
			rc = 0;
			if (l->field == F_DPORT)
				nr->any_port = true;
			else
				nr->any_dest = true;
		}
		if (rc < 0) {
			range_vec_free(&rv);
			return rc;
		}
		if (l->field == F_DPORT && !nr->any_port) {
			free(nr->ports);
			nr->ports = rv.v;
			nr->nports = rv.n;
		} else if (l->field != F_DPORT && !nr->any_dest) {
			free(nr->dest);
			nr->dest = rv.v;
			nr->ndest = rv.n;
		} else {
			range_vec_free(&rv);
		}
		if (l->map)
			snprintf(nr->target, sizeof(nr->target), "addresses of a map");
	}
	rc = nl_getgen(r->nl, &after);
	if (rc < 0)
		return rc;
	return after == r->gen ? 0 : -EINTR;
}

int nl_read_dnat(struct nl *nl, const char *skip_table, struct nat_rule_list *out, char *err,
		 size_t errlen)
{
	struct reader r = { .nl = nl, .skip_table = skip_table, .out = out };
	int rc = -EINTR;

	memset(out, 0, sizeof(*out));
	for (int attempt = 0; attempt < READ_ATTEMPTS && rc == -EINTR; attempt++) {
		nat_rule_list_free(out);
		r.rcap = 0;
		lookups_free(&r);
		rc = read_once(&r);
	}
	lookups_free(&r);
	if (rc == -EINTR)
		seterr(err, errlen, "the ruleset kept changing while its nat rules were read");
	else if (rc < 0)
		seterr(err, errlen, "cannot read the ruleset's nat rules: %s", errno_text(-rc));
	if (rc < 0)
		nat_rule_list_free(out);
	return rc;
}
