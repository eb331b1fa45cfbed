/*
 * The DNAT rule reader (src/nl/dnat.c, what `check` and `status` read of
 * every other table) on hostile rule dumps, through nl_dnat_parse(): the
 * per-rule path of nl_read_dnat() without a socket.
 *
 * Input: byte 0 chooses the mode.
 *   even  raw: the bytes after it are the replies of a rule dump, netlink
 *         messages as recvmsg() gives them (host byte order).
 *   odd   built: the bytes after it say what rules libnftnl writes as
 *         NEWRULE messages (nftnl_rule_nlmsg_build_payload), as the kernel
 *         would dump them, into one buffer:
 *           byte  seq of the dump (1 + byte); byte: its portid
 *           byte  bit 0: first, a rule of exactly `ip daddr A tcp dport P
 *                 dnat to X[:Q]` (bytes after: family 0 ip, 1 inet, 2 ip6;
 *                 A; P; X; a byte whose bit 0 says Q follows; Q);
 *                 bit 1: NLMSG_DONE at the end; bit 2: a copy of the first
 *                 rule of another request (seq + 1) after it; bit 3:
 *                 NLMSG_DONE after the first rule
 *           then rules, each: a byte of family (bits 0-1: ip, ip6, inet,
 *           arp) and flags (bit 2: no table, bit 3: no chain, bit 4: no
 *           handle); table and chain (a byte choosing a usual name or,
 *           at 3 and up, that many bytes of name); a byte of how many
 *           expressions (0-15); each an opcode byte and its operands (see
 *           add_expr(): meta, payload, ct, bitwise, cmp, range, lookup,
 *           immediate, nat, xtables target and match, counter).
 *
 * Checked, in both modes: every rule read names its family (ip, ip6 or
 * inet), table and chain; fam is -1, FAM_V4 or FAM_V6, and not -1 unless
 * any_dest; any_dest and any_port come without ranges; destinations are
 * sorted, disjoint, inside the family; ports within 0-65535, lo <= hi;
 * l4proto -1 or 0-255; the target text is terminated and not empty; the
 * skipped table (inet mxfence) never shows. In built mode: the dump reads
 * without error, and the rules read are exactly the DNAT rules (a nat
 * expression of type dnat, or the xtables DNAT target) that have a table
 * and a chain, of ip, ip6 or inet, not in the skipped table, of the dump's
 * request and before its NLMSG_DONE, in order, with their names and handles;
 * and the exact rule reads back as its destination A, port P, protocol tcp
 * and target X[:Q].
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include "fuzz.h"
#include "nl/dnat.h"
#include "util.h"

#define SKIP "mxfence"
#define MAX_RULES 8
#define MSG_BUF 16384

/* ------------------------------------------------------------ what every reading holds */

static void check_rules(const struct nat_rule_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct nat_rule *r = &l->v[i];
		FUZZ_CHECK(r->family && r->table && r->chain, "rule %zu: a name is NULL", i);
		FUZZ_CHECK(streq(r->family, "ip") || streq(r->family, "ip6") ||
				   streq(r->family, "inet"),
			   "rule %zu: family %s", i, r->family);
		FUZZ_CHECK(!(streq(r->family, "inet") && streq(r->table, SKIP)),
			   "rule %zu: of the skipped table", i);
		FUZZ_CHECK(r->fam == -1 || r->fam == FAM_V4 || r->fam == FAM_V6, "rule %zu: fam %d",
			   i, r->fam);
		FUZZ_CHECK(r->any_dest || r->fam >= 0, "rule %zu: destinations of no family", i);
		FUZZ_CHECK(!r->any_dest || (!r->ndest && !r->dest), "rule %zu: any_dest and %zu ranges",
			   i, r->ndest);
		FUZZ_CHECK(!r->any_port || (!r->nports && !r->ports), "rule %zu: any_port and %zu ranges",
			   i, r->nports);
		FUZZ_CHECK(!r->ndest == !r->dest && !r->nports == !r->ports,
			   "rule %zu: a count without ranges", i);
		if (r->ndest)
			fuzz_check_ranges(r->dest, r->ndest, (enum family)r->fam, true, "destinations");
		for (size_t k = 0; k < r->nports; k++)
			FUZZ_CHECK(r->ports[k].lo <= r->ports[k].hi && r->ports[k].hi <= 65535 &&
					   (k == 0 || r->ports[k - 1].hi < r->ports[k].lo),
				   "rule %zu: port range %zu is [%u, %u]", i, k,
				   (unsigned)r->ports[k].lo, (unsigned)r->ports[k].hi);
		FUZZ_CHECK(r->l4proto >= -1 && r->l4proto <= 255, "rule %zu: l4proto %d", i,
			   r->l4proto);
		FUZZ_CHECK(memchr(r->target, '\0', sizeof(r->target)) && r->target[0],
			   "rule %zu: target text", i);
	}
}

static void raw(const uint8_t *data, size_t size)
{
	struct nat_rule_list out;
	/* Its own allocation, exactly as long, aligned as recvmsg()'s. */
	uint8_t *buf = xmalloc(size ? size : 1);
	int rc;

	if (size)
		memcpy(buf, data, size);
	rc = nl_dnat_parse(buf, size, SKIP, &out);
	free(buf);
	FUZZ_CHECK(rc <= 0 && rc >= -4095, "returns %d", rc);
	FUZZ_CHECK(rc == 0 || (!out.n && !out.v), "failed with %zu rules kept", out.n);
	check_rules(&out);
	nat_rule_list_free(&out);
}

/* ------------------------------------------------------------ built rules */

struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t get8(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static uint16_t get16(struct input *in)
{
	return (uint16_t)(get8(in) << 8 | get8(in));
}

static uint32_t get32(struct input *in)
{
	return (uint32_t)get16(in) << 16 | get16(in);
}

static void getn(struct input *in, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = get8(in);
}

/* A register: the four 16-byte ones, the sixteen 4-byte ones, the verdict's, or none. */
static uint32_t get_reg(struct input *in)
{
	uint8_t b = get8(in) % 22;

	if (b < 4)
		return NFT_REG_1 + b;
	if (b < 20)
		return NFT_REG32_00 + (b - 4u);
	return b == 20 ? NFT_REG_VERDICT : 0x7f;
}

/* A name: one of the usual ones, or that many bytes of the input (up to 32). */
static void get_name(struct input *in, const char *const *usual, char *out)
{
	uint8_t b = get8(in);

	if (b < 3) {
		snprintf(out, 33, "%s", usual[b]);
		return;
	}
	size_t n = (b - 3u) % 33;
	getn(in, (uint8_t *)out, n);
	out[n] = '\0';
}

static void put_data(struct nftnl_expr *e, uint16_t attr, struct input *in, size_t len)
{
	uint8_t d[16];

	getn(in, d, len);
	nftnl_expr_set(e, attr, d, (uint32_t)len);
}

struct built {
	bool dnat;    /* a nat dnat or an xtables DNAT target */
	bool visible; /* to be read: names, family, not skipped, of the request */
	char table[33], chain[33];
	bool has_handle;
	uint64_t handle;
};

/* One expression from the input into r; says whether it makes the rule a DNAT rule. */
static bool add_expr(struct nftnl_rule *r, struct input *in)
{
	static const char *const sets[] = { "__set0", "dests", "ports" };
	static const char *const targets[] = { "DNAT", "SNAT", "MASQUERADE" };
	uint8_t op = get8(in) % 12, b;
	struct nftnl_expr *e = NULL;
	bool dnat = false;
	size_t len;

	switch (op) {
	case 0:
		e = nftnl_expr_alloc("meta");
		b = get8(in) % 3;
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY,
				   b == 0 ? NFT_META_NFPROTO : b == 1 ? NFT_META_L4PROTO : get8(in));
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, get_reg(in));
		break;
	case 1: {
		e = nftnl_expr_alloc("payload");
		b = get8(in);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, b % 4);
		/* Offsets and lengths as bytes, or (base byte's top bit) as any 32 bits. */
		uint32_t off = b & 0x80 ? get32(in) : get8(in);
		uint32_t plen = b & 0x80 ? get32(in) : get8(in) % 20u;
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, plen);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, get_reg(in));
		break;
	}
	case 2: {
		static const uint32_t keys[] = { NFT_CT_DST_IP, NFT_CT_DST_IP6, NFT_CT_DST,
						 NFT_CT_PROTO_DST, NFT_CT_SRC_IP, NFT_CT_STATE };
		e = nftnl_expr_alloc("ct");
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, keys[get8(in) % 6]);
		b = get8(in) % 3;
		if (b)
			nftnl_expr_set_u8(e, NFTNL_EXPR_CT_DIR,
					  b == 1 ? IP_CT_DIR_ORIGINAL : IP_CT_DIR_REPLY);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, get_reg(in));
		break;
	}
	case 3:
		e = nftnl_expr_alloc("bitwise");
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, get_reg(in));
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, get_reg(in));
		b = get8(in);
		len = b % 17;
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, (uint32_t)len);
		put_data(e, NFTNL_EXPR_BITWISE_MASK, in, len);
		if (b & 0x20)
			put_data(e, NFTNL_EXPR_BITWISE_XOR, in, len);
		else {
			uint8_t zero[16] = { 0 };
			nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, (uint32_t)len);
		}
		if (b & 0x40)
			nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_OP,
					   b & 0x80 ? NFT_BITWISE_LSHIFT : NFT_BITWISE_BOOL);
		break;
	case 4: {
		static const uint32_t ops[] = { NFT_CMP_EQ, NFT_CMP_NEQ, NFT_CMP_LT, NFT_CMP_LTE,
						NFT_CMP_GT, NFT_CMP_GTE, 99 };
		e = nftnl_expr_alloc("cmp");
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, get_reg(in));
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, ops[get8(in) % 7]);
		put_data(e, NFTNL_EXPR_CMP_DATA, in, get8(in) % 17);
		break;
	}
	case 5:
		e = nftnl_expr_alloc("range");
		nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_SREG, get_reg(in));
		b = get8(in);
		nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_OP, b & 1 ? NFT_RANGE_NEQ : NFT_RANGE_EQ);
		len = (b >> 1) % 17;
		put_data(e, NFTNL_EXPR_RANGE_FROM_DATA, in, len);
		put_data(e, NFTNL_EXPR_RANGE_TO_DATA, in, len);
		break;
	case 6: {
		char name[33];
		e = nftnl_expr_alloc("lookup");
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, get_reg(in));
		get_name(in, sets, name);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, name);
		b = get8(in);
		if (b & 1)
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
		if (b & 2)
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, get_reg(in));
		break;
	}
	case 7:
		e = nftnl_expr_alloc("immediate");
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, get_reg(in));
		len = get8(in) % 17;
		if (len)
			put_data(e, NFTNL_EXPR_IMM_DATA, in, len);
		else
			nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
		break;
	case 8: {
		e = nftnl_expr_alloc("nat");
		b = get8(in) % 3;
		uint32_t type = b == 0 ? NFT_NAT_DNAT : b == 1 ? NFT_NAT_SNAT : get8(in);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, type);
		dnat = type == NFT_NAT_DNAT;
		b = get8(in);
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY,
				   b % 3 == 0 ? NFPROTO_IPV4 : b % 3 == 1 ? NFPROTO_IPV6 : NFPROTO_INET);
		if (b & 4)
			nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, get_reg(in));
		if (b & 8)
			nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, get_reg(in));
		break;
	}
	case 9:
	case 10: {
		char name[33];
		e = nftnl_expr_alloc(op == 9 ? "target" : "match");
		get_name(in, op == 9 ? targets : (const char *const[]){ "addrtype", "tcp", "DNAT" },
			 name);
		nftnl_expr_set_str(e, op == 9 ? NFTNL_EXPR_TG_NAME : NFTNL_EXPR_MT_NAME, name);
		b = get8(in);
		nftnl_expr_set_u32(e, op == 9 ? NFTNL_EXPR_TG_REV : NFTNL_EXPR_MT_REV, b % 4);
		if (!(b & 4)) {
			/* Taken, not copied, by libnftnl. */
			len = get8(in) % 81;
			uint8_t *info = xmalloc(len ? len : 1);
			getn(in, info, len);
			nftnl_expr_set(e, op == 9 ? NFTNL_EXPR_TG_INFO : NFTNL_EXPR_MT_INFO, info,
				       (uint32_t)len);
		}
		dnat = op == 9 && streq(name, "DNAT");
		break;
	}
	default:
		e = nftnl_expr_alloc("counter");
		break;
	}
	nftnl_rule_add_expr(r, xcheck(e));
	return dnat;
}

struct dump {
	uint8_t *buf;
	size_t len;
};

static void dump_add(struct dump *d, const struct nlmsghdr *nlh)
{
	d->buf = xrealloc(d->buf, d->len + NLMSG_ALIGN(nlh->nlmsg_len));
	memset(d->buf + d->len, 0, NLMSG_ALIGN(nlh->nlmsg_len));
	memcpy(d->buf + d->len, nlh, nlh->nlmsg_len);
	d->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

static void dump_rule(struct dump *d, struct nftnl_rule *r, uint16_t family, uint32_t seq,
		      uint32_t portid)
{
	char *buf = xcalloc(1, MSG_BUF);
	struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE, family, NLM_F_MULTI, seq);

	nlh->nlmsg_pid = portid;
	nftnl_rule_nlmsg_build_payload(nlh, r);
	FUZZ_CHECK(nlh->nlmsg_len <= MSG_BUF, "a message of %u bytes", nlh->nlmsg_len);
	dump_add(d, nlh);
	free(buf);
}

static void dump_done(struct dump *d, uint32_t seq, uint32_t portid)
{
	struct {
		struct nlmsghdr h;
		int32_t v;
	} done = {
		.h = { .nlmsg_len = sizeof(done), .nlmsg_type = NLMSG_DONE,
		       .nlmsg_flags = NLM_F_MULTI, .nlmsg_seq = seq, .nlmsg_pid = portid },
	};
	dump_add(d, &done.h);
}

/*
 * A rule into the dump. After the first one, if the flags say so: the same
 * rule of another request (never read), and NLMSG_DONE (nothing after it is
 * read; *end says how many rules come before it).
 */
static void emit(struct dump *d, struct nftnl_rule *r, uint16_t family, uint32_t seq,
		 uint32_t portid, size_t n, uint8_t flags, size_t *end)
{
	dump_rule(d, r, family, seq, portid);
	if (n != 1)
		return;
	if (flags & 4)
		dump_rule(d, r, family, seq + 1, portid);
	if (flags & 8) {
		dump_done(d, seq, portid);
		*end = 1;
	}
}

/* The exact rule: `ip daddr A tcp dport P dnat to X[:Q]`, as nft writes it. */
struct exact {
	int fam;
	uint8_t a[16], x[16];
	uint16_t p, q;
	bool has_q;
};

static struct nftnl_expr *expr_u32s(const char *name, uint16_t k1, uint32_t v1, uint16_t k2,
				    uint32_t v2)
{
	struct nftnl_expr *e = xcheck(nftnl_expr_alloc(name));

	nftnl_expr_set_u32(e, k1, v1);
	nftnl_expr_set_u32(e, k2, v2);
	return e;
}

static void add_cmp_eq(struct nftnl_rule *r, const void *data, uint32_t len)
{
	struct nftnl_expr *e = expr_u32s("cmp", NFTNL_EXPR_CMP_SREG, NFT_REG_1, NFTNL_EXPR_CMP_OP,
					 NFT_CMP_EQ);

	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	nftnl_rule_add_expr(r, e);
}

static void add_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len)
{
	struct nftnl_expr *e = expr_u32s("payload", NFTNL_EXPR_PAYLOAD_BASE, base,
					 NFTNL_EXPR_PAYLOAD_OFFSET, off);

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, e);
}

static uint32_t exact_family(const struct exact *x, bool inet)
{
	return inet ? NFPROTO_INET : x->fam == FAM_V6 ? NFPROTO_IPV6 : NFPROTO_IPV4;
}

static void exact_exprs(struct nftnl_rule *r, const struct exact *x, bool inet)
{
	unsigned alen = x->fam == FAM_V4 ? 4 : 16;
	uint8_t nfproto = x->fam == FAM_V4 ? NFPROTO_IPV4 : NFPROTO_IPV6, tcp = IPPROTO_TCP;
	uint16_t p = htons(x->p), q = htons(x->q);
	struct nftnl_expr *e;

	if (inet) {
		nftnl_rule_add_expr(r, expr_u32s("meta", NFTNL_EXPR_META_KEY, NFT_META_NFPROTO,
						 NFTNL_EXPR_META_DREG, NFT_REG_1));
		add_cmp_eq(r, &nfproto, 1);
	}
	add_payload(r, NFT_PAYLOAD_NETWORK_HEADER, x->fam == FAM_V4 ? 16 : 24, alen);
	add_cmp_eq(r, x->a, alen);
	nftnl_rule_add_expr(r, expr_u32s("meta", NFTNL_EXPR_META_KEY, NFT_META_L4PROTO,
					 NFTNL_EXPR_META_DREG, NFT_REG_1));
	add_cmp_eq(r, &tcp, 1);
	add_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	add_cmp_eq(r, &p, 2);
	e = xcheck(nftnl_expr_alloc("immediate"));
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, x->x, alen);
	nftnl_rule_add_expr(r, e);
	if (x->has_q) {
		e = xcheck(nftnl_expr_alloc("immediate"));
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_2);
		nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, &q, 2);
		nftnl_rule_add_expr(r, e);
	}
	e = expr_u32s("nat", NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT, NFTNL_EXPR_NAT_FAMILY, nfproto);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
	if (x->has_q)
		nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
	nftnl_rule_add_expr(r, e);
}

static u128 be(const uint8_t *p, unsigned n)
{
	u128 v = 0;

	for (unsigned i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void check_exact(const struct nat_rule *r, const struct exact *x)
{
	unsigned alen = x->fam == FAM_V4 ? 4 : 16;
	u128 a = be(x->a, alen);
	char want[160], text[ADDR_STRLEN], h[36];

	FUZZ_CHECK(r->fam == x->fam && !r->any_dest && r->ndest == 1 && r->dest[0].lo == a &&
			   r->dest[0].hi == a,
		   "exact rule: fam %d, any_dest %d, %zu destinations, not just %s", r->fam,
		   r->any_dest, r->ndest, fuzz_hex(a, h));
	FUZZ_CHECK(r->l4proto == IPPROTO_TCP, "exact rule: l4proto %d", r->l4proto);
	FUZZ_CHECK(!r->any_port && r->nports == 1 && r->ports[0].lo == x->p && r->ports[0].hi == x->p,
		   "exact rule: any_port %d, %zu port ranges, not just %u", r->any_port, r->nports,
		   x->p);
	addr_format(be(x->x, alen), (enum family)x->fam, text);
	if (x->has_q)
		snprintf(want, sizeof(want), x->fam == FAM_V6 ? "[%s]:%u" : "%s:%u", text, x->q);
	else
		snprintf(want, sizeof(want), "%s", text);
	FUZZ_CHECK(streq(r->target, want), "exact rule: target %s, not %s", r->target, want);
}

static void built(struct input *in)
{
	static const char *const tables[] = { "nat", SKIP, "docker-bridges" };
	static const char *const chains[] = { "PREROUTING", "DOCKER", "prerouting" };
	static const uint16_t families[] = { NFPROTO_IPV4, NFPROTO_IPV6, NFPROTO_INET, NFPROTO_ARP };
	struct built want[MAX_RULES + 1];
	struct dump d = { 0 };
	struct nat_rule_list out;
	struct exact x = { 0 };
	size_t n = 0, end = SIZE_MAX;
	uint32_t seq = 1u + get8(in), portid = get8(in);
	uint8_t flags = get8(in);
	int rc;

	if (flags & 1) {
		uint8_t f = get8(in) % 3;
		struct nftnl_rule *r = xcheck(nftnl_rule_alloc());
		struct built *w = &want[n++];
		x.fam = f == 2 ? FAM_V6 : FAM_V4;
		getn(in, x.a, x.fam == FAM_V4 ? 4 : 16);
		x.p = get16(in);
		getn(in, x.x, x.fam == FAM_V4 ? 4 : 16);
		x.has_q = get8(in) & 1;
		x.q = x.has_q ? get16(in) : 0;
		*w = (struct built){ .dnat = true, .visible = true, .table = "nat",
				     .chain = "PREROUTING", .has_handle = true, .handle = 1 };
		nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, exact_family(&x, f == 1));
		nftnl_rule_set_str(r, NFTNL_RULE_TABLE, w->table);
		nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, w->chain);
		nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, w->handle);
		exact_exprs(r, &x, f == 1);
		emit(&d, r, (uint16_t)exact_family(&x, f == 1), seq, portid, n, flags, &end);
		nftnl_rule_free(r);
	}
	while (in->n && n < MAX_RULES) {
		struct nftnl_rule *r = xcheck(nftnl_rule_alloc());
		struct built *w = &want[n];
		uint8_t b = get8(in);
		uint16_t family = families[b & 3];
		size_t nexpr;

		memset(w, 0, sizeof(*w));
		get_name(in, tables, w->table);
		get_name(in, chains, w->chain);
		w->has_handle = !(b & 16);
		w->handle = n + 1;
		nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, family);
		if (!(b & 4))
			nftnl_rule_set_str(r, NFTNL_RULE_TABLE, w->table);
		if (!(b & 8))
			nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, w->chain);
		if (w->has_handle)
			nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, w->handle);
		nexpr = get8(in) % 16;
		for (size_t k = 0; k < nexpr; k++)
			w->dnat |= add_expr(r, in);
		w->visible = !(b & 12) && family != NFPROTO_ARP &&
			     !(family == NFPROTO_INET && streq(w->table, SKIP));
		emit(&d, r, family, seq, portid, ++n, flags, &end);
		nftnl_rule_free(r);
	}
	if (flags & 2)
		dump_done(&d, seq, portid);

	uint8_t *buf = xmalloc(d.len ? d.len : 1);
	if (d.len)
		memcpy(buf, d.buf, d.len);
	free(d.buf);
	rc = nl_dnat_parse(buf, d.len, SKIP, &out);
	free(buf);
	FUZZ_CHECK(rc == 0, "built dump: returns %d", rc);
	check_rules(&out);

	size_t k = 0;
	for (size_t i = 0; i < n && i < end; i++) {
		const struct built *w = &want[i];
		if (!w->visible || !w->dnat)
			continue;
		FUZZ_CHECK(k < out.n, "built rule %zu (%s %s, handle %llu) not read", i, w->table,
			   w->chain, (unsigned long long)w->handle);
		const struct nat_rule *r = &out.v[k++];
		FUZZ_CHECK(streq(r->table, w->table) && streq(r->chain, w->chain) &&
				   r->handle == (w->has_handle ? w->handle : 0),
			   "built rule %zu read as %s %s handle %llu", i, r->table, r->chain,
			   (unsigned long long)r->handle);
		if (i == 0 && (flags & 1))
			check_exact(r, &x);
	}
	FUZZ_CHECK(k == out.n, "%zu rules read, %zu built to be read", out.n, k);
	nat_rule_list_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = { data + (size ? 1 : 0), size ? size - 1 : 0 };

	if (size && (data[0] & 1))
		built(&in);
	else
		raw(in.p, in.n);
	return 0;
}
