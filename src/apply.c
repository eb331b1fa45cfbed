/*
 * Applying a compiled policy: one netlink transaction, compare-and-swapped
 * against the generation the live state was read at. Used by apply and refresh.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "cmd.h"
#include "diffview.h"
#include "live.h"
#include "lock.h"
#include "nl.h"
#include "util.h"

/* The ruleset moving under us this often means something else is busy with it. */
#define APPLY_ATTEMPTS 5

/* The removal gate: refuse when a service would lose more than max-removal of a family. */
static bool removal_gate(const struct kernel_view *live, const struct set_list *want)
{
	bool refused = false;

	for (size_t i = 0; i < want->n; i++) {
		const struct set_content *w = &want->v[i];
		const struct set_content *l = set_list_find(&live->sets, w->name);
		if (!l || !l->known || !l->iv.n)
			continue;
		struct range_vec lost = { 0 };
		ranges_subtract(l->iv.v, l->iv.n, w->iv.v,
				w->iv.n, &lost);
		u128 had = ranges_addresses(l->iv.v, l->iv.n);
		u128 gone = ranges_addresses(lost.v, lost.n);
		range_vec_free(&lost);
		/* gone / had > max / 100, in floating point: the counts reach 2^128. */
		double share = had ? (double)gone / (double)had * 100.0 : 0;
		if (share > w->svc->max_removal) {
			char a[48], b[48];
			u128_format(gone, a);
			u128_format(had, b);
			fprintf(stderr,
				"mxfence apply: refused: service %s would lose %.2f%% of its %s addresses "
				"(%s of %s; max-removal %g%%); --force overrides\n",
				w->svc->name, share, w->fam == FAM_V4 ? "IPv4" : "IPv6", a, b,
				w->svc->max_removal);
			refused = true;
		}
	}
	return refused;
}

static void add_whole_table(struct nl_batch *b, const struct policy *pol,
			    const struct set_list *want, bool present)
{
	struct rule_plan plan;

	rule_plan_build(pol, &plan);
	if (present)
		nl_batch_del_table(b, pol->table);
	nl_batch_add_plan(b, &plan);
	rule_plan_free(&plan);
	for (size_t i = 0; i < want->n; i++)
		nl_batch_add_elems(b, pol->table, want->v[i].name, want->v[i].fam,
				   want->v[i].iv.v, want->v[i].iv.n);
}

/* Deletes of every set first, then the adds, each ascending. Returns intervals changed. */
static size_t add_delta(struct nl_batch *b, const struct policy *pol, const struct kernel_view *live,
			const struct set_list *want, char *summary, size_t n)
{
	struct range_vec *del = xcalloc(want->n, sizeof(*del)), *add = xcalloc(want->n, sizeof(*add));
	size_t changed = 0, o = 0;

	for (size_t i = 0; i < want->n; i++) {
		const struct set_content *l = set_list_find(&live->sets, want->v[i].name);
		ranges_delta(l->iv.v, l->iv.n,
			     want->v[i].iv.v, want->v[i].iv.n, &del[i], &add[i]);
		changed += del[i].n + add[i].n;
		if (del[i].n || add[i].n)
			o += (size_t)snprintf(summary + o, o < n ? n - o : 0, "%s%s +%zu/-%zu intervals",
					      o ? ", " : "", want->v[i].name, add[i].n, del[i].n);
	}
	for (size_t i = 0; i < want->n; i++)
		if (del[i].n)
			nl_batch_del_elems(b, pol->table, want->v[i].name, want->v[i].fam,
					   del[i].v, del[i].n);
	for (size_t i = 0; i < want->n; i++)
		if (add[i].n)
			nl_batch_add_elems(b, pol->table, want->v[i].name, want->v[i].fam,
					   add[i].v, add[i].n);
	for (size_t i = 0; i < want->n; i++) {
		range_vec_free(&del[i]);
		range_vec_free(&add[i]);
	}
	free(del);
	free(add);
	return changed;
}

/* What was applied, as the state file keeps it; free st->sets after. */
static void state_of(const struct policy *pol, const struct set_list *want, uint32_t genid,
		     struct state *st)
{
	memset(st, 0, sizeof(*st));
	st->table = pol->table;
	st->genid = genid;
	st->netns = netns_inode();
	st->applied_at = (int64_t)time(NULL);
	st->sources = want->source_names;
	st->nsources = want->nsource_names;
	st->sets = xcalloc(want->n ? want->n : 1, sizeof(*st->sets));
	st->nsets = want->n;
	for (size_t i = 0; i < want->n; i++) {
		st->sets[i].name = (char *)want->v[i].name;
		st->sets[i].fam = want->v[i].fam;
		st->sets[i].iv = want->v[i].iv;
		st->sets[i].sources = want->v[i].sources;
	}
}

static void state_warning(const char *err)
{
	fprintf(stderr, "mxfence apply: warning: state not saved (%s); the next run reads the "
			"kernel in full\n", err);
}

static void save_state(const char *state_dir, const struct policy *pol,
		       const struct set_list *want, uint32_t genid)
{
	struct state st;
	char err[512];

	state_of(pol, want, genid, &st);
	mkdir_p(state_dir, 0700);
	if (state_write(state_dir, &st, err, sizeof(err)) < 0)
		state_warning(err);
	free(st.sets);
}

/* What each service gains and loses, for the summary of a run. */
static void count_services(const struct policy *pol, const struct kernel_view *live,
			   const struct set_list *want, struct apply_report *rep)
{
	size_t k = 0;

	rep->services = xcalloc(pol->nservices ? pol->nservices : 1, sizeof(*rep->services));
	rep->nservices = pol->nservices;
	for (size_t i = 0; i < pol->nservices; i++) {
		struct set_list sub = { .v = want->v + k };
		while (k < want->n && want->v[k].svc == &pol->services[i]) {
			sub.n++;
			k++;
		}
		diff_count(&live->sets, &sub, &rep->services[i]);
	}
}

/*
 * While the kernel commits (in this thread's sendmsg), another writes the
 * state file beside its place and counts what each service gains and loses
 * for the report; the file is put in place once the commit has succeeded
 * and its generation id is known.
 */
struct state_job {
	const char *dir;
	struct state st;
	struct state_pending pending;
	int rc;
	const struct policy *pol;
	const struct kernel_view *live;
	const struct set_list *want;
	struct apply_report *rep; /* NULL: counted already */
	pthread_t thread;
	bool running;
};

static void *state_job_run(void *arg)
{
	struct state_job *j = arg;

	j->rc = state_prepare(j->dir, &j->st, &j->pending);
	if (j->rep)
		count_services(j->pol, j->live, j->want, j->rep);
	return NULL;
}

static void state_job_start(struct state_job *j, const char *state_dir, const struct policy *pol,
			    const struct kernel_view *live, const struct set_list *want,
			    struct apply_report *rep)
{
	memset(j, 0, sizeof(*j));
	j->dir = state_dir;
	j->pol = pol;
	j->live = live;
	j->want = want;
	j->rep = rep;
	state_of(pol, want, 0, &j->st);
	mkdir_p(state_dir, 0700);
	j->running = pthread_create(&j->thread, NULL, state_job_run, j) == 0;
	if (!j->running)
		state_job_run(j);
}

/* committed: put the file in place with this generation id; else drop it. */
static void state_job_end(struct state_job *j, bool committed, uint32_t genid)
{
	char err[512];

	if (j->running)
		pthread_join(j->thread, NULL);
	if (!committed)
		state_discard(&j->pending);
	else if (j->rc < 0) {
		state_warning(j->pending.err);
		state_discard(&j->pending);
	} else if (state_finish(&j->pending, genid, err, sizeof(err)) < 0)
		state_warning(err);
	free(j->st.sets);
}

int apply_run(const struct apply_options *o, struct policy *pol, struct set_list *want,
	      struct apply_report *rep)
{
	struct nl *nl = NULL;
	char err[600];
	int rc, lock = -1;

	memset(rep, 0, sizeof(*rep));
	if (nl_open(&nl, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxfence apply: %s\n", err);
		return EXIT_INPUT;
	}
	if (o->lock && (lock = lock_take(o->state_dir, o->lock_timeout, err, sizeof(err))) < 0) {
		fprintf(stderr, "mxfence apply: %s; the kernel is untouched\n", err);
		nl_close(nl);
		return EXIT_INPUT;
	}
	/*
	 * From here on the sets' intervals live in `want`; the inputs behind them
	 * only serve provenance, which a dry run prints and a commit does not.
	 */
	if (o->dry_run)
		wanted_sets_from_policy(pol, want);
	else
		wanted_sets_take_from_policy(pol, want);

	rc = EXIT_INPUT;
	int attempt;
	for (attempt = 1; attempt <= APPLY_ATTEMPTS; attempt++) {
		struct kernel_view live;
		struct nl_result res;
		char summary[4096] = "";

		if (kernel_view_read(nl, pol, o->state_dir, false, &live, err, sizeof(err)) < 0) {
			fprintf(stderr, "mxfence apply: reading the kernel: %s\n", err);
			goto done;
		}
		bool present = live.table.present, replace = !live.structure_ok;
		if (present && !o->force && removal_gate(&live, want)) {
			kernel_view_free(&live);
			rc = EXIT_REFUSED;
			goto done;
		}
		apply_report_free(rep);
		rep->genid = live.table.genid;
		/*
		 * A whole table is counted now, before its batch takes its memory:
		 * its gains are the whole set. A delta is counted during the commit.
		 */
		bool counted = replace || o->dry_run;
		if (counted)
			count_services(pol, &live, want, rep);
		struct nl_batch *b = nl_batch_new(nl, live.table.genid);
		if (replace) {
			add_whole_table(b, pol, want, present);
			snprintf(summary, sizeof(summary), "%s", present ? live.why : "first install");
		} else if (add_delta(b, pol, &live, want, summary, sizeof(summary)) == 0) {
			if (!counted)
				count_services(pol, &live, want, rep);
			printf("apply: nothing to do (table inet %s, generation %u)\n", pol->table,
			       live.table.genid);
			if (!live.from_state && !o->dry_run)
				save_state(o->state_dir, pol, want, live.table.genid);
			nl_batch_free(b);
			kernel_view_free(&live);
			rc = EXIT_OK;
			goto done;
		}
		if (o->dry_run) {
			struct diff_totals t;
			diff_print(stdout, pol, &live.sets, want, replace && present ? live.why : NULL,
				   false, &t);
		}
		/*
		 * Test hook: a command run between reading the kernel and committing,
		 * once, so that tests can change the ruleset in that window and see
		 * the compare-and-swap refuse the stale batch.
		 */
		const char *hook = getenv("MXFENCE_TEST_BEFORE_COMMIT");
		if (hook && attempt == 1 && system(hook) != 0)
			fprintf(stderr, "mxfence apply: test hook failed: %s\n", hook);
		struct state_job sj;
		if (!o->dry_run)
			state_job_start(&sj, o->state_dir, pol, &live, want, counted ? NULL : rep);
		nl_batch_send(b, o->dry_run, &res);
		if (!o->dry_run)
			state_job_end(&sj, res.status == NL_OK, res.genid);
		nl_batch_free(b);
		kernel_view_free(&live);

		switch (res.status) {
		case NL_OK:
			if (o->dry_run) {
				printf("dry run: the kernel accepted the batch (%zu messages, %zu elements); "
				       "nothing was changed\n", res.messages, res.elements);
			} else {
				rep->genid = res.genid;
				rep->changed = true;
				printf("apply: table inet %s: %s; %zu elements in %zu messages; generation %u\n",
				       pol->table, summary, res.elements, res.messages, res.genid);
			}
			rc = EXIT_OK;
			goto done;
		case NL_RESTART:
			fprintf(stderr, "mxfence apply: the ruleset changed while it was read; reading "
					"again (attempt %d of %d)\n", attempt, APPLY_ATTEMPTS);
			continue;
		case NL_UNKNOWN:
			/* Replies were lost: the next round reads the kernel in full and so settles it. */
			fprintf(stderr, "mxfence apply: %s; reading the kernel again to settle it\n",
				res.err);
			char *p = state_path(o->state_dir, pol->table);
			unlink(p);
			free(p);
			continue;
		case NL_ERROR:
			fprintf(stderr, "mxfence apply: %s; nothing was changed\n", res.err);
			rc = EXIT_INPUT;
			goto done;
		}
	}
	fprintf(stderr, "mxfence apply: the ruleset kept changing; gave up after %d attempts\n",
		APPLY_ATTEMPTS);
done:
	lock_release(lock);
	nl_close(nl);
	return rc;
}

void apply_report_free(struct apply_report *rep)
{
	free(rep->services);
	memset(rep, 0, sizeof(*rep));
}
