/* The compiled model as JSON (build --json): what `diff --against FILE` reads back. */
#include <jansson.h>
#include <stdlib.h>

#include "feed.h"
#include "render.h"
#include "util.h"

/* A string for the model: bytes that are not UTF-8 (a path may hold any) become '?'. */
json_t *text_json(const char *s)
{
	json_t *j = json_string(s);

	if (!j) {
		char *copy = xstrdup(s);
		for (char *p = copy; *p; p++)
			if ((unsigned char)*p >= 0x80)
				*p = '?';
		j = json_string(copy);
		free(copy);
	}
	return j;
}

static json_t *u128_json(u128 v)
{
	char buf[48];

	u128_format(v, buf);
	return json_string(buf);
}

static json_t *interval_json(const struct policy *pol, const struct interval_set *s,
			     const struct interval *iv)
{
	struct prefix cover[256];
	char text[PREFIX_STRLEN], where[512];
	json_t *o = json_object(), *cidrs = json_array(), *srcs = json_array();

	addr_format(iv->lo, s->fam, text);
	json_object_set_new(o, "first", json_string(text));
	addr_format(iv->hi, s->fam, text);
	json_object_set_new(o, "last", json_string(text));
	size_t k = cidr_cover(iv->lo, iv->hi, s->fam, cover);
	for (size_t j = 0; j < k; j++) {
		prefix_format(&cover[j], text);
		json_array_append_new(cidrs, json_string(text));
	}
	json_object_set_new(o, "cidrs", cidrs);
	for (size_t j = iv->first; j < iv->first + iv->count; j++) {
		const struct input_prefix *p = &s->in.v[j];
		struct origin og = policy_origin(pol, p->origin);
		const struct source *src = &pol->sources[og.src];
		struct prefix px = { p->lo, p->plen, (uint8_t)s->fam };
		json_t *e = json_object();
		prefix_format(&px, text);
		src->fmt->where(src, og.entry, og.item, where, sizeof(where));
		json_object_set_new(e, "source", json_string(src->name));
		json_object_set_new(e, "prefix", json_string(text));
		json_object_set_new(e, "where", text_json(where));
		json_array_append_new(srcs, e);
	}
	json_object_set_new(o, "sources", srcs);
	return o;
}

static json_t *family_json(const struct policy *pol, const struct service *svc, enum family f)
{
	const struct interval_set *s = &svc->set[f];
	json_t *o = json_object(), *ivs = json_array();
	char name[64];

	service_set_name(svc, f, name, sizeof(name));
	json_object_set_new(o, "set", json_string(name));
	json_object_set_new(o, "addresses", u128_json(interval_set_addresses(s)));
	json_object_set_new(o, "cidr_count", json_integer((json_int_t)interval_set_cidr_count(s)));
	if (service_has_to(svc, f)) {
		/* The destinations of `to`, as the rules match them. */
		json_t *to = json_array();
		struct prefix cover[256];
		char text[PREFIX_STRLEN];
		for (size_t i = 0; i < svc->to[f].n; i++) {
			size_t c = cidr_cover(svc->to[f].v[i].lo, svc->to[f].v[i].hi, f, cover);
			for (size_t k = 0; k < c; k++) {
				prefix_format(&cover[k], text);
				json_array_append_new(to, json_string(text));
			}
		}
		json_object_set_new(o, "to", to);
	}
	for (size_t i = 0; i < s->n; i++)
		json_array_append_new(ivs, interval_json(pol, s, &s->iv[i]));
	json_object_set_new(o, "intervals", ivs);
	return o;
}

int render_json(FILE *f, const struct policy *pol)
{
	json_t *root = json_object(), *table = json_object(), *sources = json_array(),
	       *services = json_array();
	char buf[64];
	int rc;

	json_object_set_new(table, "name", json_string(pol->table));
	json_object_set_new(table, "family", json_string("inet"));
	json_object_set_new(table, "priority", json_integer(pol->priority));
	json_object_set_new(root, "table", table);

	for (size_t i = 0; i < pol->nsources; i++) {
		const struct source *src = &pol->sources[i];
		json_t *o = json_object(), *counts = json_object();
		json_object_set_new(o, "name", json_string(src->name));
		json_object_set_new(o, "format", json_string(src->fmt->name));
		json_object_set_new(o, "file", text_json(src->file));
		json_object_set_new(o, "version", src->version ? text_json(src->version) : json_null());
		json_object_set_new(counts, "ipv4", json_integer((json_int_t)src->count[FAM_V4]));
		json_object_set_new(counts, "ipv6", json_integer((json_int_t)src->count[FAM_V6]));
		json_object_set_new(o, "prefixes", counts);
		json_array_append_new(sources, o);
	}
	json_object_set_new(root, "sources", sources);

	for (size_t i = 0; i < pol->nservices; i++) {
		const struct service *svc = &pol->services[i];
		json_t *o = json_object(), *ports = json_array(), *names = json_array(),
		       *fams = json_object();
		json_object_set_new(o, "name", json_string(svc->name));
		for (size_t k = 0; k < svc->nports; k++) {
			portrange_format(&svc->ports[k], buf, sizeof(buf));
			json_array_append_new(ports, json_string(buf));
		}
		json_object_set_new(o, "ports", ports);
		for (size_t k = 0; k < svc->nsources; k++)
			json_array_append_new(names, json_string(pol->sources[svc->sources[k]].name));
		json_object_set_new(o, "sources", names);
		json_object_set_new(o, "otherwise", json_string(verdict_name(svc->otherwise)));
		json_object_set_new(o, "max_removal", json_real(svc->max_removal));
		json_object_set_new(o, "allow_empty", json_boolean(svc->allow_empty));
		json_object_set_new(fams, "ipv4", family_json(pol, svc, FAM_V4));
		json_object_set_new(fams, "ipv6", family_json(pol, svc, FAM_V6));
		json_object_set_new(o, "families", fams);
		json_array_append_new(services, o);
	}
	json_object_set_new(root, "services", services);

	rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', f);
	json_decref(root);
	return rc < 0 || ferror(f) ? -1 : 0;
}
