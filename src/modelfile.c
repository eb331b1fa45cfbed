#include "modelfile.h"

#include <jansson.h>
#include <string.h>

#include "util.h"

static uint64_t source_bit(struct set_list *sv, const char *name)
{
	for (size_t i = 0; i < sv->nsource_names; i++)
		if (streq(sv->source_names[i], name))
			return i < 64 ? 1ull << i : 0;
	sv->source_names = xreallocarray(sv->source_names, sv->nsource_names + 1, sizeof(char *));
	sv->source_names[sv->nsource_names] = xstrdup(name);
	size_t i = sv->nsource_names++;
	return i < 64 ? 1ull << i : 0;
}

static bool read_addr(const char *path, const char *where, json_t *j, enum family fam, u128 *out,
		      struct diag *d)
{
	char loc[1024];

	snprintf(loc, sizeof(loc), "%s: %s", path, where);
	if (!json_is_string(j)) {
		diag_error(d, loc, "expected an address string");
		return false;
	}
	/* The family is the model's: ::ffff:0:0/96 in "ipv6" is IPv6, as written. */
	if (addr_parse_family(json_string_value(j), json_string_length(j), fam, out) != PARSE_OK) {
		diag_error(d, loc, "not an %s address '%s'", fam == FAM_V4 ? "IPv4" : "IPv6",
			   json_string_value(j));
		return false;
	}
	return true;
}

static void read_family(const char *path, struct set_list *sv, json_t *jf, size_t si,
			enum family fam, struct diag *d)
{
	char where[256], loc[1024];
	json_t *set = json_object_get(jf, "set"), *ivs = json_object_get(jf, "intervals");

	snprintf(where, sizeof(where), "services[%zu].families.%s", si, fam_name(fam));
	snprintf(loc, sizeof(loc), "%s: %s", path, where);
	if (!json_is_string(set) || !json_is_array(ivs) || json_string_length(set) > NAME_MAX_LEN + 3) {
		diag_error(d, loc, "expected \"set\" (a name) and \"intervals\" (an array)");
		return;
	}
	struct set_content *v = &sv->v[sv->n++];
	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", json_string_value(set));
	v->fam = fam;
	v->known = true;
	v->sources = xcalloc(json_array_size(ivs) + 1, sizeof(*v->sources));
	for (size_t k = 0; k < json_array_size(ivs); k++) {
		json_t *iv = json_array_get(ivs, k), *srcs = json_object_get(iv, "sources");
		char w1[320], w2[320];
		u128 lo, hi;
		snprintf(w1, sizeof(w1), "%s.intervals[%zu].first", where, k);
		snprintf(w2, sizeof(w2), "%s.intervals[%zu].last", where, k);
		if (!read_addr(path, w1, json_object_get(iv, "first"), fam, &lo, d) ||
		    !read_addr(path, w2, json_object_get(iv, "last"), fam, &hi, d))
			continue;
		if (lo > hi || (v->iv.n && lo <= v->iv.v[v->iv.n - 1].hi)) {
			snprintf(loc, sizeof(loc), "%s: %s.intervals[%zu]", path, where, k);
			diag_error(d, loc, "intervals must be ascending and disjoint");
			continue;
		}
		range_vec_push(&v->iv, lo, hi);
		for (size_t j = 0; json_is_array(srcs) && j < json_array_size(srcs); j++) {
			json_t *name = json_object_get(json_array_get(srcs, j), "source");
			if (json_is_string(name))
				v->sources[v->iv.n - 1] |= source_bit(sv, json_string_value(name));
		}
	}
}

int modelfile_read(const char *path, struct set_list *out, struct diag *d)
{
	json_error_t jerr;
	size_t errors = d->errors;
	char loc[1024];
	json_t *root, *services;

	memset(out, 0, sizeof(*out));
	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (jerr.line > 0)
			snprintf(loc, sizeof(loc), "%s:%d:%d", path, jerr.line, jerr.column);
		else
			snprintf(loc, sizeof(loc), "%s", path);
		diag_error(d, loc, "cannot read the model: %s", jerr.text);
		return -1;
	}
	services = json_object_get(root, "services");
	if (!json_is_array(services)) {
		snprintf(loc, sizeof(loc), "%s: services", path);
		diag_error(d, loc, "not a model written by mxfence build --json (no \"services\" array)");
		json_decref(root);
		return -1;
	}
	out->v = xcalloc(json_array_size(services) * FAM_COUNT + 1, sizeof(*out->v));
	for (size_t i = 0; i < json_array_size(services); i++) {
		json_t *fams = json_object_get(json_array_get(services, i), "families");
		for (int f = 0; f < FAM_COUNT; f++) {
			json_t *jf = json_object_get(fams, fam_name((enum family)f));
			if (jf)
				read_family(path, out, jf, i, (enum family)f, d);
		}
	}
	json_decref(root);
	if (d->errors != errors) {
		set_list_free(out);
		return -1;
	}
	return 0;
}
