/*
 * DNAT rules of all tables (see dnat.h). A rule is read expression by
 * expression, following what each register holds: a load (meta, payload, ct,
 * immediate), masked by bitwise, then compared (cmp, range) or looked up in a
 * set. What is compared against the destination address or port becomes the
 * rule's match; a nat expression of type dnat, or xtables' DNAT target, says
 * it is a DNAT rule and where to. Set lookups are resolved once the rules are
 * read: the sets' elements are dumped then.
 *
 * The messages are read with libmnl's attribute validation rather than
 * libnftnl's rule parser: on a malformed attribute the latter ends the
 * process or reads past a name, where this reader takes the attribute as
 * absent and the rule as broader. (libnftnl builds every message mxfence
 * sends; tests/fuzz/fuzz_dnat.c has it build the rules this reader reads.)
 */
#include <limits.h>
#include <netinet/in.h>

#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables_compat.h>

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
	}
	return "?";
}

/* ------------------------------------------------------------ attributes */

/*
 * Rule messages are read here attribute by attribute, not by libnftnl's
 * parser: that one exits the process on an attribute of the wrong size
 * (abi_breakage()) and follows a NULL pointer for an expression without a
 * name. What the kernel sends is well formed; an attribute that is not is
 * taken as absent.
 */
enum kind { K_NONE, K_U8, K_U32, K_U64, K_STR, K_NEST, K_BIN };

#define ATTR_MAX 15
typedef const struct nlattr *attrs[ATTR_MAX + 1];

struct attr_parse {
	const uint8_t *kinds;
	const struct nlattr **tb;
};

static bool attr_ok(const struct nlattr *a, uint8_t kind)
{
	size_t len = mnl_attr_get_payload_len(a);

	switch (kind) {
	case K_U8:
		return len >= 1;
	case K_U32:
		return len >= 4;
	case K_U64:
		return len >= 8;
	case K_STR:
		return memchr(mnl_attr_get_payload(a), '\0', len) != NULL;
	case K_NEST:
	case K_BIN:
		return true;
	}
	return false;
}

static int attr_cb(const struct nlattr *a, void *data)
{
	struct attr_parse *p = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type <= ATTR_MAX && p->kinds[type] && attr_ok(a, p->kinds[type]))
		p->tb[type] = a;
	return MNL_CB_OK;
}

/* The attributes of a nest that are of the kind kinds[type] says; the others NULL. */
static void nest_read(const struct nlattr *nest, const uint8_t kinds[ATTR_MAX + 1], attrs tb)
{
	struct attr_parse p = { kinds, tb };

	memset(tb, 0, sizeof(attrs));
	if (nest)
		mnl_attr_parse_nested(nest, attr_cb, &p);
}

static uint32_t get_u32(const struct nlattr *a)
{
	uint32_t v;

	if (!a)
		return 0;
	memcpy(&v, mnl_attr_get_payload(a), sizeof(v));
	return ntohl(v);
}

static uint64_t get_u64(const struct nlattr *a)
{
	uint64_t v;

	if (!a)
		return 0;
	memcpy(&v, mnl_attr_get_payload(a), sizeof(v));
	return be64toh(v);
}

static uint8_t get_u8(const struct nlattr *a)
{
	return a ? *(const uint8_t *)mnl_attr_get_payload(a) : 0;
}

static const char *get_str(const struct nlattr *a)
{
	return a ? mnl_attr_get_payload(a) : NULL;
}

/* The bytes of a data nest's NFTA_DATA_VALUE, or NULL (a verdict, or none). */
static const uint8_t *get_data(const struct nlattr *nest, uint32_t *len)
{
	static const uint8_t kinds[ATTR_MAX + 1] = { [NFTA_DATA_VALUE] = K_BIN };
	attrs tb;

	*len = 0;
	nest_read(nest, kinds, tb);
	if (!tb[NFTA_DATA_VALUE] ||
	    mnl_attr_get_payload_len(tb[NFTA_DATA_VALUE]) > NFT_DATA_VALUE_MAXLEN)
		return NULL;
	*len = mnl_attr_get_payload_len(tb[NFTA_DATA_VALUE]);
	return mnl_attr_get_payload(tb[NFTA_DATA_VALUE]);
}

/* ------------------------------------------------------------ matches */

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
	bool have_dest, have_port;   /* dest, port narrowed from the whole space */
	bool dest_any, port_any;     /* a match not understood: any */
	bool dest_none, port_none;   /* a match nothing passes */
	struct range dest, port;
	bool dest_set, port_set; /* decided by a lookup (resolved later) */
	bool dnat;
	char target[160];
	struct lookup pending[2];
	size_t npending;
};

/*
 * The packets the rule matches are of family f only. A rule already bound to
 * the other family matches nothing: the kernel's ct expression breaks on a
 * conntrack of another family, and meta nfproto is the table's in ip and ip6.
 */
static void match_family(struct match *m, enum family f)
{
	if (m->fam < 0)
		m->fam = (int)f;
	else if (m->fam != (int)f)
		m->dest_none = true;
}

/* [lo, hi] of a value of `total` bytes that the register's bytes, masked, equal to data. */
static struct range masked_range(const struct regval *v, const uint8_t *data, unsigned total)
{
	uint8_t lo[16] = { 0 }, hi[16];

	memset(hi, 0xff, sizeof(hi));
	for (unsigned i = 0; i < v->len && v->skip + i < total; i++) {
		lo[v->skip + i] = data[i] & v->mask[i];
		hi[v->skip + i] = (uint8_t)((data[i] & v->mask[i]) | (uint8_t)~v->mask[i]);
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

static bool mask_is_full(const struct regval *v)
{
	for (unsigned i = 0; i < v->len; i++)
		if (v->mask[i] != 0xff)
			return false;
	return true;
}

/* r narrowed to [lo, hi]; *none if nothing is left. */
static void narrow(struct range *r, bool *none, u128 lo, u128 hi)
{
	if (lo > r->lo)
		r->lo = lo;
	if (hi < r->hi)
		r->hi = hi;
	if (r->lo > r->hi)
		*none = true;
}

/*
 * A comparison of a value of `total` bytes (an address, a port) with data:
 * narrows r from [0, max], or says *any when it is not understood (a
 * negation, a mask that is no prefix, part of the value compared by order).
 */
static void value_cmp(const struct regval *v, uint32_t op, const uint8_t *data, unsigned total,
		      u128 max, struct range *r, bool *have, bool *none, bool *any)
{
	bool whole = !v->skip && v->len == total && mask_is_full(v);
	/* data holds v->len bytes at least: the whole value only when whole. */
	u128 x = whole ? be_value(data, total) : 0;

	if (!*have)
		*r = (struct range){ 0, max };
	*have = true;
	if (op == NFT_CMP_EQ && !v->skip && mask_is_prefix(v)) {
		struct range eq = masked_range(v, data, total);
		narrow(r, none, eq.lo, eq.hi);
	} else if (op == NFT_CMP_GTE && whole) {
		narrow(r, none, x, max);
	} else if (op == NFT_CMP_GT && whole) {
		if (x == max)
			*none = true;
		else
			narrow(r, none, x + 1, max);
	} else if (op == NFT_CMP_LTE && whole) {
		narrow(r, none, 0, x);
	} else if (op == NFT_CMP_LT && whole) {
		if (x == 0)
			*none = true;
		else
			narrow(r, none, 0, x - 1);
	} else {
		*any = true;
	}
}

static void match_cmp(struct match *m, const struct regval *v, uint32_t op, const uint8_t *data,
		      uint32_t dlen)
{
	if (dlen < v->len || v->len == 0)
		return;
	switch (v->field) {
	case F_NFPROTO:
		if (op == NFT_CMP_EQ && mask_is_full(v) &&
		    (data[0] == NFPROTO_IPV4 || data[0] == NFPROTO_IPV6))
			match_family(m, data[0] == NFPROTO_IPV4 ? FAM_V4 : FAM_V6);
		break;
	case F_L4PROTO:
		if (op == NFT_CMP_EQ && mask_is_full(v))
			m->l4proto = data[0];
		break;
	case F_DADDR4:
	case F_DADDR6: {
		enum family f = v->field == F_DADDR4 ? FAM_V4 : FAM_V6;
		match_family(m, f);
		value_cmp(v, op, data, f == FAM_V4 ? 4 : 16, fam_max(f), &m->dest, &m->have_dest,
			  &m->dest_none, &m->dest_any);
		break;
	}
	case F_DPORT:
		value_cmp(v, op, data, 2, 65535, &m->port, &m->have_port, &m->port_none,
			  &m->port_any);
		break;
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
static void xt_dnat(struct match *m, uint32_t rev, const uint8_t *info, size_t len,
		   uint32_t nfproto)
{
	m->dnat = true;
	if (info && rev == 0 && len >= sizeof(struct nf_nat_ipv4_multi_range_compat)) {
		struct nf_nat_ipv4_multi_range_compat c;
		memcpy(&c, info, sizeof(c));
		format_target(m, FAM_V4, (const uint8_t *)&c.range[0].min_ip,
			      c.range[0].flags & NF_NAT_RANGE_MAP_IPS,
			      (const uint8_t *)&c.range[0].min.all,
			      c.range[0].flags & NF_NAT_RANGE_PROTO_SPECIFIED);
	} else if (info && (rev == 1 || rev == 2) && len >= sizeof(struct nf_nat_range)) {
		struct nf_nat_range r;
		memcpy(&r, info, sizeof(r));
		int fam = nfproto == NFPROTO_IPV6 ? FAM_V6 : FAM_V4;
		format_target(m, fam, (const uint8_t *)&r.min_addr, r.flags & NF_NAT_RANGE_MAP_IPS,
			      (const uint8_t *)&r.min_proto.all, r.flags & NF_NAT_RANGE_PROTO_SPECIFIED);
	} else {
		snprintf(m->target, sizeof(m->target), "(xtables DNAT revision %u)", rev);
	}
}

/* ------------------------------------------------------------ registers */

static void reg_clear(struct regval *regs, int slot, unsigned len)
{
	unsigned n = len ? len / 4 + (len % 4 != 0) : 4;

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

/* ------------------------------------------------------------ expressions */

static const uint8_t meta_attrs[ATTR_MAX + 1] = {
	[NFTA_META_DREG] = K_U32, [NFTA_META_KEY] = K_U32,
};
static const uint8_t payload_attrs[ATTR_MAX + 1] = {
	[NFTA_PAYLOAD_DREG] = K_U32, [NFTA_PAYLOAD_BASE] = K_U32,
	[NFTA_PAYLOAD_OFFSET] = K_U32, [NFTA_PAYLOAD_LEN] = K_U32,
};
static const uint8_t ct_attrs[ATTR_MAX + 1] = {
	[NFTA_CT_DREG] = K_U32, [NFTA_CT_KEY] = K_U32, [NFTA_CT_DIRECTION] = K_U8,
};
static const uint8_t immediate_attrs[ATTR_MAX + 1] = {
	[NFTA_IMMEDIATE_DREG] = K_U32, [NFTA_IMMEDIATE_DATA] = K_NEST,
};
static const uint8_t bitwise_attrs[ATTR_MAX + 1] = {
	[NFTA_BITWISE_SREG] = K_U32, [NFTA_BITWISE_DREG] = K_U32, [NFTA_BITWISE_MASK] = K_NEST,
	[NFTA_BITWISE_XOR] = K_NEST, [NFTA_BITWISE_OP] = K_U32,
};
static const uint8_t cmp_attrs[ATTR_MAX + 1] = {
	[NFTA_CMP_SREG] = K_U32, [NFTA_CMP_OP] = K_U32, [NFTA_CMP_DATA] = K_NEST,
};
static const uint8_t range_attrs[ATTR_MAX + 1] = {
	[NFTA_RANGE_SREG] = K_U32, [NFTA_RANGE_OP] = K_U32, [NFTA_RANGE_FROM_DATA] = K_NEST,
	[NFTA_RANGE_TO_DATA] = K_NEST,
};
static const uint8_t lookup_attrs[ATTR_MAX + 1] = {
	[NFTA_LOOKUP_SET] = K_STR, [NFTA_LOOKUP_SREG] = K_U32, [NFTA_LOOKUP_DREG] = K_U32,
	[NFTA_LOOKUP_FLAGS] = K_U32,
};
static const uint8_t nat_attrs[ATTR_MAX + 1] = {
	[NFTA_NAT_TYPE] = K_U32, [NFTA_NAT_FAMILY] = K_U32, [NFTA_NAT_REG_ADDR_MIN] = K_U32,
	[NFTA_NAT_REG_PROTO_MIN] = K_U32,
};
static const uint8_t target_attrs[ATTR_MAX + 1] = {
	[NFTA_TARGET_NAME] = K_STR, [NFTA_TARGET_REV] = K_U32, [NFTA_TARGET_INFO] = K_BIN,
};

/* One expression (its name, its NFTA_EXPR_DATA nest) into regs and m. */
static void read_expr(const char *name, const struct nlattr *data, uint32_t nfproto,
		      struct regval *regs, struct match *m)
{
	attrs a;
	uint32_t dlen = 0;
	struct regval *v;

	if (streq(name, "meta")) {
		nest_read(data, meta_attrs, a);
		if (!a[NFTA_META_DREG])
			return; /* meta set: no register written */
		uint32_t key = get_u32(a[NFTA_META_KEY]);
		enum field f = key == NFT_META_NFPROTO ? F_NFPROTO
			       : key == NFT_META_L4PROTO ? F_L4PROTO
							   : F_NONE;
		/* Other keys load up to 16 bytes (interface names): all of the register goes. */
		reg_load(regs, get_u32(a[NFTA_META_DREG]), f, f == F_NONE ? 16 : 1);
	} else if (streq(name, "payload")) {
		nest_read(data, payload_attrs, a);
		if (!a[NFTA_PAYLOAD_DREG])
			return; /* payload set */
		uint32_t base = get_u32(a[NFTA_PAYLOAD_BASE]);
		uint64_t off = get_u32(a[NFTA_PAYLOAD_OFFSET]);
		uint32_t len = get_u32(a[NFTA_PAYLOAD_LEN]);
		enum field f = F_NONE;
		unsigned skip = 0;
		/* The network header's meaning depends on the family the rule is of. */
		if (base == NFT_PAYLOAD_NETWORK_HEADER && m->fam == FAM_V4 && off >= 16 &&
		    off + len <= 20)
			f = F_DADDR4, skip = (unsigned)off - 16;
		else if (base == NFT_PAYLOAD_NETWORK_HEADER && m->fam == FAM_V6 && off >= 24 &&
			 off + len <= 40)
			f = F_DADDR6, skip = (unsigned)off - 24;
		else if (base == NFT_PAYLOAD_TRANSPORT_HEADER && off == 2 && len == 2)
			f = F_DPORT;
		v = reg_load(regs, get_u32(a[NFTA_PAYLOAD_DREG]), f, len);
		if (v)
			v->skip = skip;
	} else if (streq(name, "ct")) {
		nest_read(data, ct_attrs, a);
		if (!a[NFTA_CT_DREG])
			return; /* ct set */
		uint32_t key = get_u32(a[NFTA_CT_KEY]);
		bool original = !a[NFTA_CT_DIRECTION] ||
				get_u8(a[NFTA_CT_DIRECTION]) == IP_CT_DIR_ORIGINAL;
		enum field f = F_NONE;
		unsigned len = 16;
		if (original && (key == NFT_CT_DST_IP || key == NFT_CT_DST_IP6)) {
			/* Of one family: a conntrack of the other breaks the rule. */
			f = key == NFT_CT_DST_IP ? F_DADDR4 : F_DADDR6;
			len = f == F_DADDR4 ? 4 : 16;
			match_family(m, f == F_DADDR4 ? FAM_V4 : FAM_V6);
		} else if (original && key == NFT_CT_DST && m->fam >= 0) {
			f = m->fam == FAM_V4 ? F_DADDR4 : F_DADDR6, len = m->fam == FAM_V4 ? 4 : 16;
		} else if (original && key == NFT_CT_PROTO_DST) {
			f = F_DPORT, len = 2;
		}
		reg_load(regs, get_u32(a[NFTA_CT_DREG]), f, len);
	} else if (streq(name, "immediate")) {
		nest_read(data, immediate_attrs, a);
		const uint8_t *d = get_data(a[NFTA_IMMEDIATE_DATA], &dlen);
		if (!d)
			return; /* a verdict */
		v = reg_load(regs, get_u32(a[NFTA_IMMEDIATE_DREG]), F_IMM, dlen);
		if (v)
			memcpy(v->data, d, dlen > 16 ? 16 : dlen);
	} else if (streq(name, "bitwise")) {
		nest_read(data, bitwise_attrs, a);
		const struct regval *src = reg_get(regs, get_u32(a[NFTA_BITWISE_SREG]));
		uint32_t mlen = 0, xlen = 0;
		const uint8_t *mask = get_data(a[NFTA_BITWISE_MASK], &mlen);
		const uint8_t *xr = get_data(a[NFTA_BITWISE_XOR], &xlen);
		struct regval copy = src ? *src : (struct regval){ 0 };
		bool plain = mask != NULL;
		for (uint32_t i = 0; xr && i < xlen; i++)
			plain &= xr[i] == 0;
		if (a[NFTA_BITWISE_OP] && get_u32(a[NFTA_BITWISE_OP]) != NFT_BITWISE_BOOL)
			plain = false;
		for (uint32_t i = 0; plain && i < mlen && i < 16; i++)
			copy.mask[i] &= mask[i];
		if (!plain)
			copy.field = F_NONE;
		v = reg_load(regs, get_u32(a[NFTA_BITWISE_DREG]), copy.field, copy.len);
		if (v)
			*v = copy;
	} else if (streq(name, "cmp")) {
		nest_read(data, cmp_attrs, a);
		const struct regval *src = reg_get(regs, get_u32(a[NFTA_CMP_SREG]));
		const uint8_t *d = get_data(a[NFTA_CMP_DATA], &dlen);
		if (src && d)
			match_cmp(m, src, get_u32(a[NFTA_CMP_OP]), d, dlen);
	} else if (streq(name, "range")) {
		nest_read(data, range_attrs, a);
		const struct regval *src = reg_get(regs, get_u32(a[NFTA_RANGE_SREG]));
		uint32_t flen = 0, tlen = 0;
		const uint8_t *from = get_data(a[NFTA_RANGE_FROM_DATA], &flen);
		const uint8_t *to = get_data(a[NFTA_RANGE_TO_DATA], &tlen);
		if (src && from && to && get_u32(a[NFTA_RANGE_OP]) == NFT_RANGE_EQ) {
			match_cmp(m, src, NFT_CMP_GTE, from, flen);
			match_cmp(m, src, NFT_CMP_LTE, to, tlen);
		} else if (src && src->field == F_DPORT) {
			m->port_any = true;
		} else if (src && (src->field == F_DADDR4 || src->field == F_DADDR6)) {
			m->dest_any = true;
		}
	} else if (streq(name, "lookup")) {
		nest_read(data, lookup_attrs, a);
		const struct regval *src = reg_get(regs, get_u32(a[NFTA_LOOKUP_SREG]));
		const char *set = get_str(a[NFTA_LOOKUP_SET]);
		bool inv = get_u32(a[NFTA_LOOKUP_FLAGS]) & NFT_LOOKUP_F_INV;
		bool map = a[NFTA_LOOKUP_DREG] != NULL;
		enum field f = src ? src->field : F_NONE;
		bool whole = src && !src->skip && mask_is_prefix(src) &&
			     (f == F_DPORT || (f == F_DADDR4 && src->len == 4) ||
			      (f == F_DADDR6 && src->len == 16));
		if (map)
			reg_load(regs, get_u32(a[NFTA_LOOKUP_DREG]), F_MAP, 16);
		if (f != F_DPORT && f != F_DADDR4 && f != F_DADDR6)
			return;
		if (inv || !whole || !set || m->npending == 2) {
			if (f == F_DPORT)
				m->port_any = true;
			else
				m->dest_any = true;
			return;
		}
		struct lookup *l = &m->pending[m->npending++];
		l->field = f;
		l->set = xstrdup(set);
		l->map = map;
		if (f == F_DPORT)
			m->port_set = true;
		else
			m->dest_set = true;
	} else if (streq(name, "nat")) {
		nest_read(data, nat_attrs, a);
		if (get_u32(a[NFTA_NAT_TYPE]) != NFT_NAT_DNAT)
			return;
		int fam = get_u32(a[NFTA_NAT_FAMILY]) == NFPROTO_IPV6 ? FAM_V6 : FAM_V4;
		const struct regval *ra = a[NFTA_NAT_REG_ADDR_MIN]
						  ? reg_get(regs, get_u32(a[NFTA_NAT_REG_ADDR_MIN]))
						  : NULL;
		const struct regval *rp = a[NFTA_NAT_REG_PROTO_MIN]
						  ? reg_get(regs, get_u32(a[NFTA_NAT_REG_PROTO_MIN]))
						  : NULL;
		m->dnat = true;
		if (m->fam < 0)
			m->fam = fam;
		if (ra && ra->field == F_MAP)
			snprintf(m->target, sizeof(m->target), "addresses of a map");
		else
			format_target(m, fam, ra ? ra->data : NULL, ra && ra->field == F_IMM,
				      rp ? rp->data : NULL, rp && rp->field == F_IMM);
	} else if (streq(name, "target")) {
		nest_read(data, target_attrs, a);
		const char *tg = get_str(a[NFTA_TARGET_NAME]);
		if (!tg || !streq(tg, "DNAT"))
			return;
		const struct nlattr *info = a[NFTA_TARGET_INFO];
		xt_dnat(m, get_u32(a[NFTA_TARGET_REV]), info ? mnl_attr_get_payload(info) : NULL,
			info ? mnl_attr_get_payload_len(info) : 0, nfproto);
		if (m->fam < 0)
			m->fam = nfproto == NFPROTO_IPV6 ? FAM_V6 : FAM_V4;
	} else if (!streq(name, "counter") && !streq(name, "log") && !streq(name, "limit") &&
		   !streq(name, "quota") && !streq(name, "notrack") && !streq(name, "objref") &&
		   !streq(name, "last")) {
		/*
		 * Not understood, and it may write registers (hash, numgen, fib,
		 * socket, exthdr, ...): none holds anything known any more, so no
		 * later comparison can make the rule read narrower than it is.
		 */
		memset(regs, 0, SLOTS * sizeof(*regs));
	}
}

/* One rule's expressions (NFTA_RULE_EXPRESSIONS) into m; the context is the table's family. */
static void read_rule(const struct nlattr *exprs, uint32_t nfproto, struct match *m)
{
	static const uint8_t elem_attrs[ATTR_MAX + 1] = {
		[NFTA_EXPR_NAME] = K_STR, [NFTA_EXPR_DATA] = K_NEST,
	};
	struct regval regs[SLOTS];
	const struct nlattr *el;

	memset(regs, 0, sizeof(regs));
	m->fam = nfproto == NFPROTO_IPV4 ? FAM_V4 : nfproto == NFPROTO_IPV6 ? FAM_V6 : -1;
	m->l4proto = -1;
	if (!exprs)
		return;
	mnl_attr_for_each_nested(el, exprs) {
		attrs x;
		if (mnl_attr_get_type(el) != NFTA_LIST_ELEM)
			continue;
		nest_read(el, elem_attrs, x);
		if (x[NFTA_EXPR_NAME])
			read_expr(get_str(x[NFTA_EXPR_NAME]), x[NFTA_EXPR_DATA], nfproto, regs, m);
	}
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	static const uint8_t rule_attrs[ATTR_MAX + 1] = {
		[NFTA_RULE_TABLE] = K_STR, [NFTA_RULE_CHAIN] = K_STR, [NFTA_RULE_HANDLE] = K_U64,
		[NFTA_RULE_EXPRESSIONS] = K_NEST,
	};
	struct reader *r = data;
	attrs tb = { 0 };
	struct attr_parse p = { rule_attrs, tb };
	const struct nfgenmsg *g;
	struct match m;
	uint32_t nfproto;
	const char *table, *chain;

	if (nlh->nlmsg_type != (NFNL_SUBSYS_NFTABLES << 8 | NFT_MSG_NEWRULE) ||
	    nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*g)))
		return 0; /* no rule */
	g = mnl_nlmsg_get_payload(nlh);
	nfproto = g->nfgen_family;
	mnl_attr_parse(nlh, sizeof(*g), attr_cb, &p);
	table = get_str(tb[NFTA_RULE_TABLE]);
	chain = get_str(tb[NFTA_RULE_CHAIN]);
	/* The kernel names both: a message without them is no rule of a table. */
	if (!table || !chain ||
	    (nfproto == NFPROTO_INET && r->skip_table && streq(table, r->skip_table)) ||
	    (nfproto != NFPROTO_IPV4 && nfproto != NFPROTO_IPV6 && nfproto != NFPROTO_INET))
		return 0;
	memset(&m, 0, sizeof(m));
	read_rule(tb[NFTA_RULE_EXPRESSIONS], nfproto, &m);
	if (!m.dnat) {
		for (size_t i = 0; i < m.npending; i++)
			free(m.pending[i].set);
		return 0;
	}

	struct nat_rule_list *l = r->out;
	l->v = grow(l->v, &r->rcap, l->n + 1, sizeof(*l->v));
	struct nat_rule *nr = &l->v[l->n];
	/* A match that is not understood wins over one that nothing passes: broader, never narrower. */
	bool dest_none = !m.dest_any && m.dest_none;
	bool port_none = !m.port_any && m.port_none;
	memset(nr, 0, sizeof(*nr));
	nr->family = xstrdup(family_name(nfproto));
	nr->table = xstrdup(table);
	nr->chain = xstrdup(chain);
	nr->handle = get_u64(tb[NFTA_RULE_HANDLE]);
	nr->fam = m.fam;
	nr->l4proto = m.l4proto;
	nr->any_port = !port_none && (m.port_any || (!m.have_port && !m.port_set));
	if (!nr->any_port && !port_none && !m.port_set) {
		nr->ports = xmalloc(sizeof(*nr->ports));
		nr->ports[0] = m.port;
		nr->nports = 1;
	}
	nr->any_dest = m.fam < 0 || (!dest_none && (m.dest_any || (!m.have_dest && !m.dest_set)));
	if (!nr->any_dest && !dest_none && !m.dest_set) {
		nr->dest = xmalloc(sizeof(*nr->dest));
		nr->dest[0] = m.dest;
		nr->ndest = 1;
	}
	snprintf(nr->target, sizeof(nr->target), "%s", m.target);
	for (size_t i = 0; i < m.npending; i++) {
		bool port = m.pending[i].field == F_DPORT;
		if (port ? nr->any_port || port_none : nr->any_dest || dest_none) {
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

/* A lookup's set: 0 and its intervals in rv, or -errno (-ENOENT: there is no such set). */
typedef int (*set_reader)(struct reader *r, const struct lookup *l, struct range_vec *rv);

/* With no kernel to ask, every set is one that is gone. */
static int no_set(struct reader *r, const struct lookup *l, struct range_vec *rv)
{
	(void)r, (void)l, (void)rv;
	return -ENOENT;
}

/*
 * Each lookup's set into the rule it decides. A set that is not there
 * (-ENOENT: gone meanwhile, unreadable, or no kernel to ask) reads as
 * everything of its kind. 0 or -errno.
 */
static int lookups_resolve(struct reader *r, set_reader read)
{
	for (size_t i = 0; i < r->nlk; i++) {
		struct lookup *l = &r->lk[i];
		struct nat_rule *nr = &r->out->v[l->rule];
		struct range_vec rv = { 0 };
		int rc = read(r, l, &rv);
		if (rc == -ENOENT) {
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
	return 0;
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
	rc = lookups_resolve(r, read_set);
	if (rc < 0)
		return rc;
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

int nl_dnat_parse(const void *buf, size_t len, const char *skip_table, struct nat_rule_list *out)
{
	struct reader r = { .skip_table = skip_table, .out = out };
	struct replies rp = { .cb = rule_cb, .data = &r };
	const struct nlmsghdr *first = buf;
	int rc;

	memset(out, 0, sizeof(*out));
	if (len > INT_MAX)
		return -EMSGSIZE;
	/* The replies of one dump: the request's seq and portid are the first message's. */
	if (nlmsg_whole(first, (int)len)) {
		rp.seq = first->nlmsg_seq;
		rp.portid = first->nlmsg_pid;
	}
	replies_parse(&rp, buf, len);
	rc = rp.rc;
	if (rc == 0)
		rc = lookups_resolve(&r, no_set);
	lookups_free(&r);
	if (rc < 0)
		nat_rule_list_free(out);
	return rc;
}
