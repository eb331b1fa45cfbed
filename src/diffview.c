#include "diffview.h"

#include <jansson.h>
#include <string.h>

#include "feed.h"
#include "render.h"
#include "util.h"

/* "microsoft365 (m365 id 10)" for the policy inputs behind [lo, hi]. */
static void new_sources(const struct policy *pol, const struct set_content *v, u128 lo, u128 hi,
			char *buf, size_t n)
{
	const struct interval_set *s = &v->svc->set[v->fam];
	const struct interval *iv = interval_set_lookup(s, lo);
	size_t o = 0, shown = 0, more = 0;

	buf[0] = '\0';
	if (!iv)
		return;
	for (size_t j = iv->first; j < iv->first + iv->count; j++) {
		const struct input_prefix *p = &s->in.v[j];
		if (p->lo > hi || input_last(p, v->fam) < lo)
			continue;
		if (shown == 3) {
			more++;
			continue;
		}
		struct origin og = policy_origin(pol, p->origin);
		const struct source *src = &pol->sources[og.src];
		char where[256];
		src->fmt->where(src, og.entry, og.item, where, sizeof(where));
		o += (size_t)snprintf(buf + o, o < n ? n - o : 0, "%s%s (%s)", shown ? ", " : "",
				      src->name, where);
		shown++;
	}
	if (more && o < n)
		snprintf(buf + o, n - o, " and %zu more", more);
}

/* "relays, partners" from the old side's bits for the interval holding lo. */
static void old_sources(const struct set_list *old, const struct set_content *v, u128 lo, char *buf,
			size_t n)
{
	ssize_t k = ranges_find(v->iv.v, v->iv.n, lo);
	size_t o = 0;

	snprintf(buf, n, "live");
	if (k < 0 || !v->sources || !v->sources[k])
		return;
	buf[0] = '\0';
	for (size_t b = 0; b < 64 && b < old->nsource_names; b++)
		if (v->sources[k] & (1ull << b))
			o += (size_t)snprintf(buf + o, o < n ? n - o : 0, "%s%s", o ? ", " : "",
					      old->source_names[b]);
}


static const struct set_content *other_side(const struct set_list *sv, const struct set_content *like)
{
	const struct set_content *v = set_list_find(sv, like->name);
	return v && v->known && v->fam == like->fam ? v : NULL;
}

static void count_set(const struct set_content *o, const struct set_content *nw, struct range_vec *gain,
		      struct range_vec *loss, struct diff_totals *t)
{
	static const struct range *none = NULL;

	ranges_subtract(nw->iv.v, nw->iv.n,
			o ? o->iv.v : none, o ? o->iv.n : 0, gain);
	if (o)
		ranges_subtract(o->iv.v, o->iv.n,
				nw->iv.v, nw->iv.n, loss);
	struct prefix cover[256];
	for (size_t i = 0; i < gain->n; i++) {
		t->prefixes_added += cidr_cover(gain->v[i].lo, gain->v[i].hi, nw->fam, cover);
		u128 a = range_size(gain->v[i].lo, gain->v[i].hi);
		if (nw->fam == FAM_V4)
			t->v4_gained = sat_add(t->v4_gained, a);
		else
			t->v6_gained = sat_add(t->v6_gained, a == ~(u128)0 ? (u128)1 << 64 : a >> 64);
	}
	for (size_t i = 0; i < loss->n; i++) {
		t->prefixes_removed += cidr_cover(loss->v[i].lo, loss->v[i].hi, nw->fam, cover);
		u128 a = range_size(loss->v[i].lo, loss->v[i].hi);
		if (nw->fam == FAM_V4)
			t->v4_lost = sat_add(t->v4_lost, a);
		else
			t->v6_lost = sat_add(t->v6_lost, a == ~(u128)0 ? (u128)1 << 64 : a >> 64);
	}
	if (gain->n || loss->n || !o)
		t->changed = true;
}

void diff_count(const struct set_list *old, const struct set_list *new,
		struct diff_totals *totals)
{
	memset(totals, 0, sizeof(*totals));
	for (size_t i = 0; i < new->n; i++) {
		struct range_vec gain = { 0 }, loss = { 0 };
		count_set(other_side(old, &new->v[i]), &new->v[i], &gain, &loss, totals);
		range_vec_free(&gain);
		range_vec_free(&loss);
	}
}

void diff_print(FILE *f, const struct policy *pol, const struct set_list *old,
		const struct set_list *new, const char *structure, bool json,
		struct diff_totals *t)
{
	json_t *root = json ? json_object() : NULL, *jsets = json ? json_array() : NULL;
	char text[PREFIX_STRLEN], who[1024], b1[48], b2[48], b3[48], b4[48];
	struct prefix cover[256];

	memset(t, 0, sizeof(*t));
	if (structure) {
		t->changed = true;
		if (!json)
			fprintf(f, "table inet %s: %s: it is replaced whole\n", pol->table, structure);
	}
	for (size_t i = 0; i < new->n; i++) {
		const struct set_content *nw = &new->v[i], *o = other_side(old, nw);
		struct range_vec gain = { 0 }, loss = { 0 };
		json_t *jadd = json ? json_array() : NULL, *jdel = json ? json_array() : NULL;

		count_set(o, nw, &gain, &loss, t);
		if (!json) {
			if (!gain.n && !loss.n && o)
				fprintf(f, "%s (service %s, %s): no change\n", nw->name, nw->svc->name,
					fam_name(nw->fam));
			else
				fprintf(f, "%s (service %s, %s):%s\n", nw->name, nw->svc->name,
					fam_name(nw->fam), o ? "" : " new set");
		}
		for (size_t k = 0; k < gain.n; k++) {
			size_t c = cidr_cover(gain.v[k].lo, gain.v[k].hi, nw->fam, cover);
			for (size_t j = 0; j < c; j++) {
				prefix_format(&cover[j], text);
				new_sources(pol, nw, cover[j].addr, prefix_last(&cover[j]), who,
					    sizeof(who));
				if (json) {
					json_t *e = json_object();
					json_object_set_new(e, "prefix", json_string(text));
					json_object_set_new(e, "sources", text_json(who));
					json_array_append_new(jadd, e);
				} else {
					fprintf(f, "+ %-24s %s\n", text, who);
				}
			}
		}
		for (size_t k = 0; k < loss.n; k++) {
			size_t c = cidr_cover(loss.v[k].lo, loss.v[k].hi, nw->fam, cover);
			old_sources(old, o, loss.v[k].lo, who, sizeof(who));
			for (size_t j = 0; j < c; j++) {
				prefix_format(&cover[j], text);
				if (json) {
					json_t *e = json_object();
					json_object_set_new(e, "prefix", json_string(text));
					json_object_set_new(e, "was", text_json(who));
					json_array_append_new(jdel, e);
				} else {
					fprintf(f, "- %-24s (was: %s)\n", text, who);
				}
			}
		}
		if (json) {
			json_t *js = json_object();
			json_object_set_new(js, "set", json_string(nw->name));
			json_object_set_new(js, "service", json_string(nw->svc->name));
			json_object_set_new(js, "family", json_string(fam_name(nw->fam)));
			json_object_set_new(js, "new", json_boolean(!o));
			json_object_set_new(js, "added", jadd);
			json_object_set_new(js, "removed", jdel);
			json_array_append_new(jsets, js);
		}
		range_vec_free(&gain);
		range_vec_free(&loss);
	}
	u128_format(t->v4_gained, b1);
	u128_format(t->v4_lost, b2);
	u128_format(t->v6_gained, b3);
	u128_format(t->v6_lost, b4);
	if (json) {
		json_t *tot = json_object();
		json_object_set_new(root, "changed", json_boolean(t->changed));
		json_object_set_new(root, "structure", structure ? json_string(structure) : json_null());
		json_object_set_new(root, "sets", jsets);
		json_object_set_new(tot, "prefixes_added", json_integer((json_int_t)t->prefixes_added));
		json_object_set_new(tot, "prefixes_removed",
				    json_integer((json_int_t)t->prefixes_removed));
		json_object_set_new(tot, "ipv4_addresses_gained", json_string(b1));
		json_object_set_new(tot, "ipv4_addresses_lost", json_string(b2));
		json_object_set_new(tot, "ipv6_64s_gained", json_string(b3));
		json_object_set_new(tot, "ipv6_64s_lost", json_string(b4));
		json_object_set_new(root, "totals", tot);
		json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', f);
		json_decref(root);
	} else {
		fprintf(f, "total: %zu prefixes added, %zu removed; IPv4 addresses +%s/-%s; "
			   "IPv6 /64s +%s/-%s\n",
			t->prefixes_added, t->prefixes_removed, b1, b2, b3, b4);
	}
}
