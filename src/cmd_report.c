/*
 * What several commands print alike, from the results the library returns:
 * each fetched source (fetch, refresh) and the differences between the
 * kernel and the policy (verify --exhaustive, refresh).
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "compare.h"
#include "fetch.h"

/* One source: its messages, then one line (stdout when current, stderr when it failed). */
static void print_fetch_result(const struct fetch_result *res, void *arg)
{
	char when[64];
	time_t t;

	(void)arg;
	diag_print(&res->diag, stderr);
	switch (res->outcome) {
	case FETCH_UPDATED:
	case FETCH_UNCHANGED:
		printf("fetch %s: %s\n", res->src->name, res->how);
		break;
	case FETCH_KEPT:
		t = (time_t)res->last_good;
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", gmtime(&t));
		fprintf(stderr, "mxfence fetch: %s: %s; the last good copy (fetched %s) stays\n",
			res->src->name, res->why, when);
		break;
	case FETCH_NONE:
		fprintf(stderr, "mxfence fetch: %s: %s; there is no good copy: the source cannot be "
				"built until a fetch succeeds\n", res->src->name, res->why);
		break;
	}
}

int fetch_and_report(const struct globals *g, struct policy *pol, bool force, char **names,
		     size_t nnames, struct fetch_summary *sum)
{
	struct fetch_options fo = {
		.state_dir = g->state_dir,
		.force = force,
		.progress = isatty(STDERR_FILENO) ? stderr : NULL,
		.done = print_fetch_result,
	};
	char err[512];

	if (fetch_run(pol, &fo, names, nnames, sum, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxfence fetch: %s\n", err);
		return EXIT_INPUT;
	}
	return sum->kept || sum->none ? EXIT_STALE : EXIT_OK;
}

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
