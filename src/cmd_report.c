/*
 * What several commands print alike, from the results the library returns:
 * the differences between the kernel and the policy (verify --exhaustive,
 * refresh).
 */
#include <stdio.h>

#include "cmd.h"
#include "compare.h"

size_t print_comparison(FILE *out, const struct policy *pol, const struct comparison *c)
{
	char a[ADDR_STRLEN], b[ADDR_STRLEN];

	for (size_t i = 0; i < c->nsets; i++) {
		const struct set_difference *d = &c->sets[i];
		const struct set_content *w = d->set;

		if (d->absent)
			fprintf(out, "%s (service %s, %s): not in the kernel\n", w->name, w->svc->name,
				fam_name(w->fam));
		for (size_t k = 0; k < d->missing.n; k++) {
			addr_format(d->missing.v[k].lo, w->fam, a);
			addr_format(d->missing.v[k].hi, w->fam, b);
			fprintf(out, "%s: policy accepts %s-%s, the kernel does not\n", w->name, a, b);
		}
		for (size_t k = 0; k < d->extra.n; k++) {
			addr_format(d->extra.v[k].lo, w->fam, a);
			addr_format(d->extra.v[k].hi, w->fam, b);
			fprintf(out, "%s: the kernel accepts %s-%s, the policy does not\n", w->name, a, b);
		}
		if (!d->missing.n && !d->extra.n && !d->absent) {
			char addrs[AMOUNT_STRLEN];
			amount_format(ranges_addresses(w->iv.v, w->iv.n), w->fam, addrs);
			fprintf(out, "%s (service %s, %s): %zu intervals, %s, as compiled\n", w->name,
				w->svc->name, fam_name(w->fam), w->iv.n, addrs);
		}
	}
	if (!c->structure_ok)
		fprintf(out, "table inet %s: %s\n", pol->table, c->why);
	fprintf(out, "%s: %zu difference%s\n", c->differences ? "MISMATCH" : "OK", c->differences,
		c->differences == 1 ? "" : "s");
	return c->differences;
}
