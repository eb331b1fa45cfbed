#include "diffview.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "render.h"
#include "util.h"

size_t diff_origins(const struct diff_view *dv, const struct diff_set *ds, u128 lo, u128 hi,
		    struct diff_origin *out, size_t max, size_t *more)
{
	const struct set_content *v = ds->new;
	const struct interval_set *s = &v->svc->set[v->fam];
	const struct interval *iv = interval_set_lookup(s, lo);
	size_t shown = 0;

	*more = 0;
	if (!iv) {
		/* No inputs behind the set (a plan's): the sources its bits name, without a place. */
		ssize_t k = ranges_find(v->iv.v, v->iv.n, lo);
		if (k < 0 || !v->sources)
			return 0;
		for (size_t b = 0; b < 64 && b < dv->new->nsource_names; b++) {
			if (!(v->sources[k] & (1ull << b)))
				continue;
			if (shown == max) {
				++*more;
				continue;
			}
			out[shown].source = dv->new->source_names[b];
			out[shown++].where[0] = '\0';
		}
		return shown;
	}
	for (size_t j = iv->first; j < iv->first + iv->count; j++) {
		const struct input_prefix *p = &s->in.v[j];
		if (p->lo > hi || input_last(p, v->fam) < lo)
			continue;
		if (shown == max) {
			++*more;
			continue;
		}
		struct origin og = policy_origin(dv->pol, p->origin);
		const struct source *src = &dv->pol->sources[og.src];
		out[shown].source = src->name;
		src->fmt->where(src, og.entry, og.item, out[shown].where, sizeof(out[shown].where));
		shown++;
	}
	return shown;
}

/* "microsoft365 (m365 id 10), relays (relays.txt:3) and 2 more" */
static void origins_text(const struct diff_row *row, char *buf, size_t n)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < row->norigins; i++)
		o += (size_t)snprintf(buf + o, o < n ? n - o : 0,
				      row->og[i].where[0] ? "%s%s (%s)" : "%s%s", i ? ", " : "",
				      row->og[i].source, row->og[i].where);
	if (row->more && o < n)
		snprintf(buf + o, n - o, " and %zu more", row->more);
}

void diff_was(const struct diff_view *dv, const struct diff_set *ds, u128 lo, char *buf, size_t n)
{
	const struct set_content *v = ds->old;
	ssize_t k = v ? ranges_find(v->iv.v, v->iv.n, lo) : -1;
	size_t o = 0;

	snprintf(buf, n, "live");
	if (k < 0 || !v->sources || !v->sources[k])
		return;
	buf[0] = '\0';
	for (size_t b = 0; b < 64 && b < dv->old->nsource_names; b++)
		if (v->sources[k] & (1ull << b))
			o += (size_t)snprintf(buf + o, o < n ? n - o : 0, "%s%s", o ? ", " : "",
					      dv->old->source_names[b]);
}

void diff_rows_start(struct diff_rows *it, const struct diff_view *dv, const struct diff_set *ds)
{
	it->dv = dv;
	it->ds = ds;
	it->removed = false;
	it->k = it->j = it->ncover = 0;
	it->was_known = false;
}

bool diff_rows_next(struct diff_rows *it, struct diff_row *row, bool detail)
{
	const struct diff_set *ds = it->ds;

	while (it->j == it->ncover) {
		const struct range_vec *rv = it->removed ? &ds->loss : &ds->gain;
		if (it->ncover)
			it->k++;
		it->j = it->ncover = 0;
		it->was_known = false;
		if (it->k == rv->n) {
			if (it->removed)
				return false;
			it->removed = true;
			it->k = 0;
			continue;
		}
		it->ncover = cidr_cover(rv->v[it->k].lo, rv->v[it->k].hi, ds->new->fam, it->cover);
	}
	const struct prefix *p = &it->cover[it->j++];
	row->added = !it->removed;
	row->pfx = *p;
	prefix_format(p, row->text);
	row->norigins = row->more = 0;
	row->was = NULL;
	if (!detail)
		return true;
	if (row->added) {
		row->norigins = diff_origins(it->dv, ds, p->addr, prefix_last(p), row->og,
					     DIFF_ORIGINS_SHOWN, &row->more);
	} else {
		if (!it->was_known)
			diff_was(it->dv, ds, ds->loss.v[it->k].lo, it->was, sizeof(it->was));
		it->was_known = true;
		row->was = it->was;
	}
	return true;
}

static const struct set_content *other_side(const struct set_list *sv, const struct set_content *like)
{
	const struct set_content *v = set_list_find(sv, like->name);
	return v && v->known && v->fam == like->fam ? v : NULL;
}

static void count_ranges(const struct range_vec *rv, enum family f, size_t *prefixes, u128 *v4,
			 u128 *v6)
{
	struct prefix cover[256];

	for (size_t i = 0; i < rv->n; i++) {
		*prefixes += cidr_cover(rv->v[i].lo, rv->v[i].hi, f, cover);
		u128 a = range_size(rv->v[i].lo, rv->v[i].hi);
		if (f == FAM_V4)
			*v4 = sat_add(*v4, a);
		else
			*v6 = sat_add(*v6, a == ~(u128)0 ? (u128)1 << 64 : a >> 64);
	}
}

static void count_set(struct diff_set *ds)
{
	static const struct range *none = NULL;
	const struct set_content *o = ds->old, *nw = ds->new;
	struct diff_totals *t = &ds->t;

	memset(t, 0, sizeof(*t));
	ranges_subtract(nw->iv.v, nw->iv.n, o ? o->iv.v : none, o ? o->iv.n : 0, &ds->gain);
	if (o)
		ranges_subtract(o->iv.v, o->iv.n, nw->iv.v, nw->iv.n, &ds->loss);
	count_ranges(&ds->gain, nw->fam, &t->prefixes_added, &t->v4_gained, &t->v6_gained);
	count_ranges(&ds->loss, nw->fam, &t->prefixes_removed, &t->v4_lost, &t->v6_lost);
	t->changed = ds->gain.n || ds->loss.n || !o;
}

static void totals_add(struct diff_totals *sum, const struct diff_totals *t)
{
	sum->prefixes_added += t->prefixes_added;
	sum->prefixes_removed += t->prefixes_removed;
	sum->v4_gained = sat_add(sum->v4_gained, t->v4_gained);
	sum->v4_lost = sat_add(sum->v4_lost, t->v4_lost);
	sum->v6_gained = sat_add(sum->v6_gained, t->v6_gained);
	sum->v6_lost = sat_add(sum->v6_lost, t->v6_lost);
	sum->changed |= t->changed;
}

void diff_view_compute(struct diff_view *dv, const struct policy *pol, const struct set_list *old,
		       const struct set_list *new, const char *structure)
{
	memset(dv, 0, sizeof(*dv));
	dv->pol = pol;
	dv->old = old;
	dv->new = new;
	dv->structure = structure;
	dv->sets = xcalloc(new->n ? new->n : 1, sizeof(*dv->sets));
	dv->n = new->n;
	dv->t.changed = structure != NULL;
	for (size_t i = 0; i < new->n; i++) {
		struct diff_set *ds = &dv->sets[i];
		ds->new = &new->v[i];
		ds->old = other_side(old, ds->new);
		count_set(ds);
		ds->after = ranges_addresses(ds->new->iv.v, ds->new->iv.n);
		ds->before = ds->old ? ranges_addresses(ds->old->iv.v, ds->old->iv.n) : 0;
		totals_add(&dv->t, &ds->t);
	}
}

void diff_view_free(struct diff_view *dv)
{
	for (size_t i = 0; i < dv->n; i++) {
		range_vec_free(&dv->sets[i].gain);
		range_vec_free(&dv->sets[i].loss);
	}
	free(dv->sets);
	memset(dv, 0, sizeof(*dv));
}

void diff_view_service(const struct diff_view *dv, size_t svc, struct diff_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (size_t i = 0; i < dv->n; i++)
		if (dv->sets[i].new->svc == &dv->pol->services[svc])
			totals_add(t, &dv->sets[i].t);
}

void diff_amounts(const struct diff_totals *t, enum family f, char gained[48], char lost[48])
{
	u128_format(f == FAM_V4 ? t->v4_gained : t->v6_gained, gained);
	u128_format(f == FAM_V4 ? t->v4_lost : t->v6_lost, lost);
}

void diff_view_text(FILE *f, const struct diff_view *dv)
{
	char who[1024], b1[48], b2[48], b3[48], b4[48];
	struct diff_rows it;
	struct diff_row row;

	if (dv->structure)
		fprintf(f, "table inet %s: %s: it is replaced whole\n", dv->pol->table, dv->structure);
	for (size_t i = 0; i < dv->n; i++) {
		const struct diff_set *ds = &dv->sets[i];
		const struct set_content *nw = ds->new;

		if (!ds->gain.n && !ds->loss.n && ds->old)
			fprintf(f, "%s (service %s, %s): no change\n", nw->name, nw->svc->name,
				fam_name(nw->fam));
		else
			fprintf(f, "%s (service %s, %s):%s\n", nw->name, nw->svc->name,
				fam_name(nw->fam), ds->old ? "" : " new set");
		diff_rows_start(&it, dv, ds);
		while (diff_rows_next(&it, &row, true)) {
			if (row.added) {
				origins_text(&row, who, sizeof(who));
				fprintf(f, "+ %-24s %s\n", row.text, who);
			} else {
				fprintf(f, "- %-24s (was: %s)\n", row.text, row.was);
			}
		}
	}
	diff_amounts(&dv->t, FAM_V4, b1, b2);
	diff_amounts(&dv->t, FAM_V6, b3, b4);
	fprintf(f, "total: %zu prefixes added, %zu removed; IPv4 addresses +%s/-%s; "
		   "IPv6 /64s +%s/-%s\n",
		dv->t.prefixes_added, dv->t.prefixes_removed, b1, b2, b3, b4);
}

void diff_view_json(FILE *f, const struct diff_view *dv, json_t *extra)
{
	json_t *root = json_object(), *jsets = json_array(), *tot = json_object();
	char who[1024], b1[48], b2[48], b3[48], b4[48];
	struct diff_rows it;
	struct diff_row row;

	for (size_t i = 0; i < dv->n; i++) {
		const struct diff_set *ds = &dv->sets[i];
		const struct set_content *nw = ds->new;
		json_t *jadd = json_array(), *jdel = json_array(), *js = json_object();

		diff_rows_start(&it, dv, ds);
		while (diff_rows_next(&it, &row, true)) {
			json_t *e = json_object();
			json_object_set_new(e, "prefix", json_string(row.text));
			if (row.added) {
				origins_text(&row, who, sizeof(who));
				json_object_set_new(e, "sources", text_json(who));
				json_array_append_new(jadd, e);
			} else {
				json_object_set_new(e, "was", text_json(row.was));
				json_array_append_new(jdel, e);
			}
		}
		json_object_set_new(js, "set", json_string(nw->name));
		json_object_set_new(js, "service", json_string(nw->svc->name));
		json_object_set_new(js, "family", json_string(fam_name(nw->fam)));
		json_object_set_new(js, "new", json_boolean(!ds->old));
		json_object_set_new(js, "added", jadd);
		json_object_set_new(js, "removed", jdel);
		json_array_append_new(jsets, js);
	}
	diff_amounts(&dv->t, FAM_V4, b1, b2);
	diff_amounts(&dv->t, FAM_V6, b3, b4);
	json_object_set_new(root, "changed", json_boolean(dv->t.changed));
	json_object_set_new(root, "structure",
			    dv->structure ? json_string(dv->structure) : json_null());
	json_object_set_new(root, "sets", jsets);
	json_object_set_new(tot, "prefixes_added", json_integer((json_int_t)dv->t.prefixes_added));
	json_object_set_new(tot, "prefixes_removed", json_integer((json_int_t)dv->t.prefixes_removed));
	json_object_set_new(tot, "ipv4_addresses_gained", json_string(b1));
	json_object_set_new(tot, "ipv4_addresses_lost", json_string(b2));
	json_object_set_new(tot, "ipv6_64s_gained", json_string(b3));
	json_object_set_new(tot, "ipv6_64s_lost", json_string(b4));
	json_object_set_new(root, "totals", tot);
	if (extra)
		json_object_update(root, extra);
	json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(root);
}

void diff_print(FILE *f, const struct policy *pol, const struct set_list *old,
		const struct set_list *new, const char *structure, bool json,
		struct diff_totals *totals)
{
	struct diff_view dv;

	diff_view_compute(&dv, pol, old, new, structure);
	if (json)
		diff_view_json(f, &dv, NULL);
	else
		diff_view_text(f, &dv);
	*totals = dv.t;
	diff_view_free(&dv);
}

void diff_count(const struct set_list *old, const struct set_list *new,
		struct diff_totals *totals)
{
	memset(totals, 0, sizeof(*totals));
	for (size_t i = 0; i < new->n; i++) {
		struct diff_set ds = { .new = &new->v[i], .old = other_side(old, &new->v[i]) };
		count_set(&ds);
		totals_add(totals, &ds.t);
		range_vec_free(&ds.gain);
		range_vec_free(&ds.loss);
	}
}
