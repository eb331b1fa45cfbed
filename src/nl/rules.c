/*
 * A rule of the plan (ruleplan.h) as nf_tables expressions, and a rule as
 * the text that compares rules: the fingerprint.
 */
#include "nl-private.h"

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

/* The kernel's hook number of a chain of the plan. */
uint32_t hook_number(enum rule_hook h)
{
	switch (h) {
	case RULE_HOOK_INPUT:
		return NF_INET_LOCAL_IN;
	case RULE_HOOK_FORWARD:
		return NF_INET_FORWARD;
	}
	return NF_INET_LOCAL_IN;
}

/* A chain's policy: accept or drop (nf_tables has no reject policy). */
uint32_t policy_number(enum verdict v)
{
	return v == VERDICT_ACCEPT ? NF_ACCEPT : NF_DROP;
}

static void put_ct(struct nftnl_rule *r, uint32_t key, bool original)
{
	struct nftnl_expr *e = expr_new(r, "ct");

	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	if (original)
		nftnl_expr_set_u8(e, NFTNL_EXPR_CT_DIR, IP_CT_DIR_ORIGINAL);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
}

/* The port match after its load: one port, or a range (nft 1.0.6: gte, lte). */
static void put_port_cmp(struct nftnl_rule *r, const struct rule_ports *pp, uint32_t port_set_id)
{
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
}

/*
 * The original destination (RULE_DEST_ORIGINAL) after its load: an address
 * (cmp), one prefix (its bytes compared, or its mask and then a cmp when it
 * ends inside a byte, as nft 1.0.6 does), or the rule's anonymous set.
 */
static void put_dest_match(struct nftnl_rule *r, const struct rule_dests *d, uint32_t dest_set_id)
{
	unsigned len = fam_key_len(d->fam);
	uint8_t net[16], mask[16], zero[16] = { 0 };

	if (!d->single) {
		put_lookup(r, ANON_SET_NAME, dest_set_id);
		return;
	}
	u128_to_be(d->one.addr, net, len);
	if (d->one.plen % 8 == 0) {
		/* nft compares the prefix's bytes alone: 2001:db8:5::/64 is 8 bytes. */
		put_cmp(r, NFT_CMP_EQ, net, d->one.plen / 8);
		return;
	}
	{
		struct nftnl_expr *e = expr_new(r, "bitwise");
		u128_to_be(~host_mask(fam_bits(d->fam), d->one.plen) & fam_max(d->fam), mask, len);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
	}
	put_cmp(r, NFT_CMP_EQ, net, len);
}

/*
 * A rule of the plan as nft 1.0.6 linearizes it:
 *   meta l4proto; dport (cmp eq | cmp gte + lte | lookup of an anonymous set);
 *   [meta nfproto; saddr; lookup of the family's set]; counter; verdict.
 * The nfproto check is not implied by the lookup: without it the first bytes
 * of an IPv6 header would be looked up in the IPv4 set. port_set_id and
 * addr_set_id: the batch's ids of sets it creates, 0 for none.
 */
struct nftnl_rule *rule_build(const char *table, const char *chain,
			      const struct rule_spec *pr, uint32_t port_set_id,
			      uint32_t addr_set_id, uint32_t dest_set_id)
{
	struct nftnl_rule *r = xcheck(nftnl_rule_alloc());
	const struct rule_ports *pp = &pr->ports;
	struct nftnl_expr *e;
	uint8_t l4 = pp->proto == PROTO_TCP ? IPPROTO_TCP : IPPROTO_UDP;

	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);

	switch (pr->dest) {
	case RULE_DEST_ANY:
		if (pr->only_fam >= 0 && !pr->from) {
			uint8_t nfproto = pr->only_fam == FAM_V4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
			put_meta(r, NFT_META_NFPROTO);
			put_cmp(r, NFT_CMP_EQ, &nfproto, sizeof(nfproto));
		}
		put_meta(r, NFT_META_L4PROTO);
		put_cmp(r, NFT_CMP_EQ, &l4, sizeof(l4));
		put_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
		put_port_cmp(r, pp, port_set_id);
		break;
	case RULE_DEST_ORIGINAL: {
		/*
		 * The conntrack original tuple: what the client sent, before any
		 * DNAT. It is the same for the packets of both directions, so the
		 * direction comes first: replies are never judged.
		 */
		uint8_t dir = IP_CT_DIR_ORIGINAL;
		put_meta(r, NFT_META_L4PROTO);
		put_cmp(r, NFT_CMP_EQ, &l4, sizeof(l4));
		put_ct(r, NFT_CT_DIRECTION, false);
		put_cmp(r, NFT_CMP_EQ, &dir, sizeof(dir));
		put_ct(r, NFT_CT_PROTO_DST, true);
		put_port_cmp(r, pp, port_set_id);
		put_ct(r, pr->to->fam == FAM_V4 ? NFT_CT_DST_IP : NFT_CT_DST_IP6, true);
		put_dest_match(r, pr->to, dest_set_id);
		break;
	}
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

/*
 * The expressions of a rule as text, the counter's values and the anonymous
 * set's generated name left out; fills the rule's counter and named set.
 */
char *rule_fingerprint(struct nftnl_rule *r, anon_text_fn anon, void *ctx,
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

/* A fingerprint shows a rule's anonymous set by its content: its destinations, or its ports. */
static bool rule_anon_text(const char *set, void *ctx, struct sbuf *sb)
{
	const struct rule_spec *pr = ctx;

	(void)set;
	if (pr->dest == RULE_DEST_ORIGINAL && !pr->to->single)
		range_list_text(sb, pr->to->v, pr->to->n, fam_key_len(pr->to->fam));
	else
		range_list_text(sb, pr->ports.v, pr->ports.n, 2);
	return true;
}

size_t nl_chain_fingerprints(const struct rule_chain *pc, char ***out)
{
	char **fp = xcalloc(pc->nrules + 1, sizeof(*fp));

	for (size_t i = 0; i < pc->nrules; i++) {
		struct nftnl_rule *r = rule_build("", "", &pc->rules[i], 0, 0, 0);
		fp[i] = rule_fingerprint(r, rule_anon_text, (void *)&pc->rules[i], NULL);
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
