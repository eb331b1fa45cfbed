#include "sets.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void set_list_names_from_policy(const struct policy *pol, struct set_list *out)
{
	memset(out, 0, sizeof(*out));
	out->v = xcalloc(pol->nservices * FAM_COUNT + 1, sizeof(*out->v));
	out->nsource_names = pol->nsources;
	out->source_names = xcalloc(pol->nsources + 1, sizeof(char *));
	for (size_t i = 0; i < pol->nsources; i++)
		out->source_names[i] = xstrdup(pol->sources[i].name);
	for (size_t i = 0; i < pol->nservices; i++)
		for (int f = 0; f < FAM_COUNT; f++) {
			struct set_content *v = &out->v[out->n++];
			service_set_name(&pol->services[i], (enum family)f, v->name, sizeof(v->name));
			v->svc = &pol->services[i];
			v->fam = (enum family)f;
		}
}

/* Per interval of s, a bit per source (the first 64) behind it. */
static void view_sources(const struct policy *pol, struct set_content *v, const struct interval_set *s)
{
	v->known = true;
	v->sources = xcalloc(s->n ? s->n : 1, sizeof(*v->sources));
	if (v->svc->nsources == 1) {
		/* Every interval has the one source: no need to look at its prefixes. */
		uint32_t src = v->svc->sources[0];
		for (size_t k = 0; src < 64 && k < s->n; k++)
			v->sources[k] = 1ull << src;
		return;
	}
	for (size_t k = 0; k < s->n; k++)
		for (size_t j = s->iv[k].first; j < s->iv[k].first + s->iv[k].count; j++) {
			uint32_t src = policy_origin(pol, s->in.v[j].origin).src;
			if (src < 64)
				v->sources[k] |= 1ull << src;
		}
}

void wanted_sets_from_policy(const struct policy *pol, struct set_list *out)
{
	set_list_names_from_policy(pol, out);
	for (size_t i = 0; i < out->n; i++) {
		struct set_content *v = &out->v[i];
		const struct interval_set *s = &v->svc->set[v->fam];
		view_sources(pol, v, s);
		interval_set_ranges(s, &v->iv);
	}
}

void wanted_sets_take_from_policy(struct policy *pol, struct set_list *out)
{
	set_list_names_from_policy(pol, out);
	for (size_t i = 0; i < out->n; i++) {
		struct set_content *v = &out->v[i];
		struct interval_set *s = &pol->services[v->svc - pol->services].set[v->fam];
		view_sources(pol, v, s);
		interval_set_take_ranges(s, &v->iv);
	}
}

void policy_sets_from_list(struct policy *pol, const struct set_list *sets)
{
	char name[NAME_MAX_LEN + 8];

	for (size_t i = 0; i < pol->nservices; i++)
		for (int f = 0; f < FAM_COUNT; f++) {
			struct interval_set *s = &pol->services[i].set[f];
			service_set_name(&pol->services[i], (enum family)f, name, sizeof(name));
			const struct set_content *v = set_list_find(sets, name);
			if (v && v->fam == (enum family)f)
				interval_set_from_ranges(s, v->iv.v, v->iv.n);
			else
				interval_set_from_ranges(s, NULL, 0);
		}
}

void set_list_free(struct set_list *sv)
{
	for (size_t i = 0; i < sv->n; i++) {
		range_vec_free(&sv->v[i].iv);
		free(sv->v[i].sources);
	}
	free(sv->v);
	for (size_t i = 0; i < sv->nsource_names; i++)
		free(sv->source_names[i]);
	free(sv->source_names);
	memset(sv, 0, sizeof(*sv));
}

struct set_content *set_list_find(const struct set_list *sv, const char *name)
{
	for (size_t i = 0; i < sv->n; i++)
		if (streq(sv->v[i].name, name))
			return &sv->v[i];
	return NULL;
}
