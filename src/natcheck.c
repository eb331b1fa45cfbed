#include "natcheck.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>

#include "model.h"
#include "render.h"
#include "util.h"

/* "203.0.113.1", "203.0.113.0/28, 192.0.2.7 and 3 more" */
static void ranges_text(const struct range *v, size_t n, enum family f, char *buf, size_t len)
{
	struct prefix cover[256];
	char one[PREFIX_STRLEN];
	size_t o = 0, shown = 0, total = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		size_t c = cidr_cover(v[i].lo, v[i].hi, f, cover);
		for (size_t k = 0; k < c; k++, total++) {
			if (shown == 3 || o >= len)
				continue;
			if (cover[k].plen == fam_bits(f))
				addr_format(cover[k].addr, f, one);
			else
				prefix_format(&cover[k], one);
			o += (size_t)snprintf(buf + o, len - o, "%s%s", shown ? ", " : "", one);
			shown++;
		}
	}
	if (total > shown && o < len)
		snprintf(buf + o, len - o, " and %zu more", total - shown);
}

/* The part of [lo, hi] of rule ports that overlaps pr, or false. */
static bool port_meet(const struct nat_rule *r, const struct portrange *pr, struct portrange *out)
{
	if (r->any_port) {
		*out = *pr;
		return true;
	}
	for (size_t i = 0; i < r->nports; i++) {
		u128 lo = r->ports[i].lo > pr->lo ? r->ports[i].lo : pr->lo;
		u128 hi = r->ports[i].hi < pr->hi ? r->ports[i].hi : pr->hi;
		if (lo <= hi) {
			*out = (struct portrange){ pr->proto, (uint16_t)lo, (uint16_t)hi };
			return true;
		}
	}
	return false;
}

static void warn(struct diag *d, const struct nat_rule *r, const struct portrange *pt,
		 const char *dest, const char *why)
{
	char port[32];

	portrange_format(pt, port, sizeof(port));
	diag_warn(d, NULL, "%s to %s is DNAT'd by table %s %s chain %s to %s; %s: that mail is "
			   "not filtered", port, dest, r->family, r->table, r->chain, r->target, why);
}

/* "gateway", "gateway or exchange", "gateway, exchange or mailcow" */
static void names_text(const struct service *const *v, size_t n, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ",
				      v[i]->name);
}

size_t natcheck(const struct policy *pol, const struct nat_rule_list *rules, struct diag *d)
{
	const struct service **on = xcalloc(pol->nservices + 1, sizeof(*on));
	struct portrange *on_pt = xcalloc(pol->nservices + 1, sizeof(*on_pt));
	size_t warnings = 0;

	for (size_t i = 0; i < rules->n; i++) {
		const struct nat_rule *r = &rules->v[i];
		struct portrange one;
		size_t non = 0;

		/* No destination passes its matches: it rewrites nothing. */
		if (!r->any_dest && !r->ndest)
			continue;
		/* The services whose ports the rule rewrites. */
		for (size_t s = 0; s < pol->nservices; s++) {
			const struct service *svc = &pol->services[s];
			bool met = false;
			for (size_t k = 0; k < svc->nports && !met; k++) {
				int l4 = svc->ports[k].proto == PROTO_TCP ? IPPROTO_TCP : IPPROTO_UDP;
				if (r->l4proto >= 0 && r->l4proto != l4)
					continue;
				met = port_meet(r, &svc->ports[k], &one);
			}
			if (!met)
				continue;
			on_pt[non] = one;
			on[non++] = svc;
		}
		for (int f = 0; f < FAM_COUNT && non; f++) {
			char dest[512], why[1024], names[512];
			bool all_to = true;
			if (r->fam >= 0 && r->fam != f)
				continue;
			if (r->any_dest)
				snprintf(dest, sizeof(dest), "any address");
			else
				ranges_text(r->dest, r->ndest, (enum family)f, dest, sizeof(dest));
			for (size_t k = 0; k < non; k++) {
				if (service_has_to(on[k], (enum family)f))
					continue;
				all_to = false;
				snprintf(why, sizeof(why), "service %s has no %s'to'", on[k]->name,
					 r->fam < 0 ? (f == FAM_V4 ? "IPv4 " : "IPv6 ") : "");
				warn(d, r, &on_pt[k], dest, why);
				warnings++;
			}
			if (!all_to || r->any_dest)
				continue;
			/* What no `to` of those services covers. */
			struct range_vec left = { 0 }, next = { 0 };
			for (size_t k = 0; k < r->ndest; k++)
				range_vec_push(&left, r->dest[k].lo, r->dest[k].hi);
			for (size_t k = 0; k < non && left.n; k++) {
				ranges_subtract(left.v, left.n, on[k]->to[f].v, on[k]->to[f].n, &next);
				range_vec_free(&left);
				left = next;
				next = (struct range_vec){ 0 };
			}
			if (left.n) {
				char open[512];
				ranges_text(left.v, left.n, (enum family)f, open, sizeof(open));
				names_text(on, non, names, sizeof(names));
				snprintf(why, sizeof(why), "no 'to' of service%s %s covers %s",
					 non > 1 ? "s" : "", names, open);
				warn(d, r, &on_pt[0], dest, why);
				warnings++;
			}
			range_vec_free(&left);
		}
	}
	free(on);
	free(on_pt);
	return warnings;
}
