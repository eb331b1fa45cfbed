#include "natcheck.h"

#include <netinet/in.h>
#include <stdio.h>

#include "model.h"
#include "render.h"

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

size_t natcheck(const struct policy *pol, const struct nat_rule_list *rules, struct diag *d)
{
	size_t warnings = 0;

	for (size_t i = 0; i < rules->n; i++) {
		const struct nat_rule *r = &rules->v[i];
		for (size_t s = 0; s < pol->nservices; s++) {
			const struct service *svc = &pol->services[s];
			struct portrange pt;
			bool met = false;
			for (size_t k = 0; k < svc->nports && !met; k++) {
				int l4 = svc->ports[k].proto == PROTO_TCP ? IPPROTO_TCP : IPPROTO_UDP;
				if (r->l4proto >= 0 && r->l4proto != l4)
					continue;
				met = port_meet(r, &svc->ports[k], &pt);
			}
			if (!met)
				continue;
			for (int f = 0; f < FAM_COUNT; f++) {
				char dest[512], why[512 + 64];
				if (r->fam >= 0 && r->fam != f)
					continue;
				if (r->any_dest)
					snprintf(dest, sizeof(dest), "any address");
				else
					ranges_text(r->dest, r->ndest, (enum family)f, dest, sizeof(dest));
				if (!service_has_to(svc, (enum family)f)) {
					snprintf(why, sizeof(why), "service %s has no %s'to'", svc->name,
						 r->fam < 0 ? (f == FAM_V4 ? "IPv4 " : "IPv6 ") : "");
					warn(d, r, &pt, dest, why);
					warnings++;
					continue;
				}
				if (r->any_dest)
					continue;
				/* What no service's `to` on this port covers. */
				struct range_vec left = { 0 }, next = { 0 };
				for (size_t k = 0; k < r->ndest; k++)
					range_vec_push(&left, r->dest[k].lo, r->dest[k].hi);
				for (size_t o = 0; o < pol->nservices && left.n; o++) {
					const struct service *other = &pol->services[o];
					if (!service_has_port(other, pt.proto, pt.lo))
						continue;
					ranges_subtract(left.v, left.n, other->to[f].v, other->to[f].n, &next);
					range_vec_free(&left);
					left = next;
					next = (struct range_vec){ 0 };
				}
				if (left.n) {
					char open[512];
					ranges_text(left.v, left.n, (enum family)f, open, sizeof(open));
					snprintf(why, sizeof(why), "no 'to' of service %s covers %s",
						 svc->name, open);
					warn(d, r, &pt, dest, why);
					warnings++;
				}
				range_vec_free(&left);
			}
		}
	}
	return warnings;
}
