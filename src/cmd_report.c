/*
 * What several commands print alike, from the results the library returns:
 * an apply (apply, refresh), each fetched source (fetch, refresh) and the
 * differences between the kernel and the policy (verify --exhaustive,
 * refresh).
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "cmd.h"
#include "compare.h"
#include "diag.h"
#include "diffview.h"
#include "fetch.h"
#include "plan_make.h"
#include "report.h"

static void print_state_warning(const struct apply_report *rep)
{
	if (rep->state_err[0])
		fprintf(stderr, "mxfence apply: warning: state not saved (%s); the next run reads "
				"the kernel in full\n", rep->state_err);
}

void print_apply_report(const struct policy *pol, const struct set_list *want,
			const struct apply_report *rep)
{
	for (size_t i = 0; i < rep->nnotes; i++) {
		const struct apply_note *n = &rep->notes[i];
		switch (n->kind) {
		case APPLY_NOTE_RESTART:
			fprintf(stderr, "mxfence apply: the ruleset changed while it was read; reading "
					"again (attempt %d of %d)\n", n->attempt, APPLY_ATTEMPTS);
			break;
		case APPLY_NOTE_UNKNOWN:
			fprintf(stderr, "mxfence apply: %s; reading the kernel again to settle it\n",
				n->text);
			break;
		case APPLY_NOTE_HOOK:
			fprintf(stderr, "mxfence apply: test hook failed: %s\n", n->text);
			break;
		}
	}
	for (size_t i = 0; i < rep->ndiffs; i++) {
		const struct apply_diff *d = &rep->diffs[i];
		struct diff_totals t;
		diff_print(stdout, pol, &d->live, want, d->structure[0] ? d->structure : NULL, false,
			   &t);
	}
	switch (rep->outcome) {
	case APPLY_CHANGED:
		print_state_warning(rep);
		if (rep->audit_err[0])
			fprintf(stderr, "mxfence apply: warning: the change was made, but %s\n",
				rep->audit_err);
		printf("apply: table inet %s: ", pol->table);
		if (rep->replaced)
			printf("%s", rep->first_install ? "first install" : rep->why);
		for (size_t i = 0; !rep->replaced && i < rep->ndeltas; i++)
			printf("%s%s +%zu/-%zu intervals", i ? ", " : "", rep->deltas[i].name,
			       rep->deltas[i].added, rep->deltas[i].removed);
		printf("; %zu elements in %zu messages; generation %u\n", rep->elements,
		       rep->messages, rep->genid);
		break;
	case APPLY_NOTHING:
		printf("apply: nothing to do (table inet %s, generation %u)\n", pol->table, rep->genid);
		print_state_warning(rep);
		break;
	case APPLY_CHECKED:
		printf("dry run: the kernel accepted the batch (%zu messages, %zu elements); nothing "
		       "was changed\n", rep->messages, rep->elements);
		break;
	case APPLY_REFUSED:
		for (size_t i = 0; i < rep->nrefusals; i++) {
			const struct apply_refusal *r = &rep->refusals[i];
			char lost[48], had[48];
			u128_format(r->lost, lost);
			u128_format(r->had, had);
			fprintf(stderr, "mxfence apply: refused: service %s would lose %.2f%% of its %s "
					"addresses (%s of %s; max-removal %g%%); --force overrides\n",
				r->svc->name, r->share, r->fam == FAM_V4 ? "IPv4" : "IPv6", lost, had,
				r->svc->max_removal);
		}
		break;
	case APPLY_STALE:
		fprintf(stderr, "mxfence apply: refused: the plan is stale: %s; the kernel is "
				"untouched\n", rep->stale);
		break;
	case APPLY_FAILED:
		switch (rep->stage) {
		case APPLY_AT_OPEN:
			fprintf(stderr, "mxfence apply: %s\n", rep->err);
			break;
		case APPLY_AT_LOCK:
		case APPLY_AT_AUDIT:
			fprintf(stderr, "mxfence apply: %s; the kernel is untouched\n", rep->err);
			break;
		case APPLY_AT_READ:
			fprintf(stderr, "mxfence apply: reading the kernel: %s\n", rep->err);
			break;
		case APPLY_AT_SEND:
			fprintf(stderr, "mxfence apply: %s; nothing was changed\n", rep->err);
			break;
		case APPLY_AT_RETRIES:
			fprintf(stderr, "mxfence apply: the ruleset kept changing; gave up after %d "
					"attempts\n", APPLY_ATTEMPTS);
			break;
		}
		break;
	}
}

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

void print_plan_report(FILE *out, int format, const char *cmd, const char *path, bool force,
		       const struct plan_run *r)
{
	const struct plan *p = &r->plan;
	struct report_plan rp = { .path = path, .sha256 = r->sha256, .created = p->created,
				  .change = plan_change_name(p) };
	struct report rep = { .dv = &r->dv, .against = r->against, .gates = r->gates,
			      .ngates = r->ngates, .forced = force, .plan = &rp };

	report_write(out, (enum report_format)format, &rep);
	fflush(out);
	for (size_t i = 0; p->verdict != PLAN_GATES_OK && i < r->ngates; i++) {
		char why[256];
		if (!r->gates[i].over)
			continue;
		removal_describe(&r->gates[i], why, sizeof(why));
		fprintf(stderr, "mxfence %s: %s: %s\n", cmd,
			p->verdict == PLAN_GATES_FORCED ? "allowed by --force" : "the removal gate refuses",
			why);
	}
	if (p->verdict == PLAN_GATES_REFUSED)
		fprintf(stderr, "mxfence %s: the plan is written, but apply --plan refuses it; a plan "
				"made with --force is applied\n", cmd);
	if (format != REPORT_TEXT)
		fprintf(stderr, "mxfence %s: wrote %s: plan sha256:%s\n", cmd, path, r->sha256);
}
