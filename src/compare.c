#include "compare.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live.h"
#include "nl.h"
#include "util.h"

void sets_compare(const struct set_list *want, const struct set_list *have,
		  struct comparison *out)
{
	memset(out, 0, sizeof(*out));
	out->structure_ok = true;
	out->sets = xcalloc(want->n ? want->n : 1, sizeof(*out->sets));
	out->nsets = want->n;
	for (size_t i = 0; i < want->n; i++) {
		const struct set_content *w = &want->v[i], *h = set_list_find(have, w->name);
		struct set_difference *d = &out->sets[i];

		d->set = w;
		d->absent = !h || !h->known;
		if (d->absent) {
			ranges_subtract(w->iv.v, w->iv.n, NULL, 0, &d->missing);
		} else {
			ranges_subtract(w->iv.v, w->iv.n, h->iv.v, h->iv.n, &d->missing);
			ranges_subtract(h->iv.v, h->iv.n, w->iv.v, w->iv.n, &d->extra);
		}
		out->differences += d->missing.n + d->extra.n + d->absent;
	}
}

int kernel_compare(const struct policy *pol, const struct set_list *want, const char *state_dir,
		   struct comparison *out, char *err, size_t errlen)
{
	struct nl *nl = NULL;
	struct kernel_view live;

	memset(out, 0, sizeof(*out));
	if (nl_open(&nl, err, errlen) < 0)
		return -1;
	if (kernel_view_read(nl, pol, state_dir, true, &live, err, errlen) < 0) {
		kernel_view_free(&live);
		nl_close(nl);
		return -1;
	}
	sets_compare(want, &live.sets, out);
	if (!live.structure_ok) {
		out->structure_ok = false;
		snprintf(out->why, sizeof(out->why), "%s", live.why);
		out->differences++;
	}
	kernel_view_free(&live);
	nl_close(nl);
	return 0;
}

void comparison_free(struct comparison *c)
{
	for (size_t i = 0; i < c->nsets; i++) {
		range_vec_free(&c->sets[i].missing);
		range_vec_free(&c->sets[i].extra);
	}
	free(c->sets);
	memset(c, 0, sizeof(*c));
}
