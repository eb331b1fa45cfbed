/*
 * Applying a compiled policy: one netlink transaction, compare-and-swapped
 * against the generation the live state was read at. Used by apply and refresh.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "audit.h"
#include "diffview.h"
#include "exitcode.h"
#include "live.h"
#include "lock.h"
#include "nl.h"
#include "plan_apply.h"
#include "util.h"

/* The removal gate: refuse when a service would lose more than max-removal of a family. */
static bool removal_gate(const struct kernel_view *live, const struct set_list *want,
			 struct apply_report *rep)
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
			rep->refusals = xreallocarray(rep->refusals, rep->nrefusals + 1,
						      sizeof(*rep->refusals));
			rep->refusals[rep->nrefusals++] = (struct apply_refusal){
				.svc = w->svc, .fam = w->fam, .share = share, .lost = gone, .had = had,
			};
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

/*
 * Deletes of every set first, then the adds, each ascending. Returns intervals
 * changed; the sets that change are in rep->deltas.
 */
static size_t add_delta(struct nl_batch *b, const struct policy *pol, const struct kernel_view *live,
			const struct set_list *want, struct apply_report *rep)
{
	struct range_vec *del = xcalloc(want->n, sizeof(*del)), *add = xcalloc(want->n, sizeof(*add));
	size_t changed = 0;

	for (size_t i = 0; i < want->n; i++) {
		const struct set_content *l = set_list_find(&live->sets, want->v[i].name);
		ranges_delta(l->iv.v, l->iv.n,
			     want->v[i].iv.v, want->v[i].iv.n, &del[i], &add[i]);
		changed += del[i].n + add[i].n;
		if (del[i].n || add[i].n) {
			struct apply_set_delta *d;
			rep->deltas = xreallocarray(rep->deltas, rep->ndeltas + 1, sizeof(*rep->deltas));
			d = &rep->deltas[rep->ndeltas++];
			snprintf(d->name, sizeof(d->name), "%s", want->v[i].name);
			d->added = add[i].n;
			d->removed = del[i].n;
		}
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

static void save_state(const char *state_dir, const struct policy *pol,
		       const struct set_list *want, uint32_t genid, struct apply_report *rep)
{
	struct state st;

	state_of(pol, want, genid, &st);
	mkdir_p(state_dir, 0700);
	state_write(state_dir, &st, rep->state_err, sizeof(rep->state_err));
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

/*
 * committed: put the file in place with this generation id (a failure is
 * noted in err); else drop it.
 */
static void state_job_end(struct state_job *j, bool committed, uint32_t genid, char *err,
			  size_t errlen)
{
	if (j->running)
		pthread_join(j->thread, NULL);
	if (!committed) {
		state_discard(&j->pending);
	} else if (j->rc < 0) {
		snprintf(err, errlen, "%s", j->pending.err);
		state_discard(&j->pending);
	} else {
		state_finish(&j->pending, genid, err, errlen);
	}
	free(j->st.sets);
}

static void note(struct apply_report *rep, enum apply_note_kind kind, int attempt,
		 const char *text)
{
	struct apply_note *n;

	rep->notes = xreallocarray(rep->notes, rep->nnotes + 1, sizeof(*rep->notes));
	n = &rep->notes[rep->nnotes++];
	n->kind = kind;
	n->attempt = attempt;
	snprintf(n->text, sizeof(n->text), "%s", text ? text : "");
}

static void failed(struct apply_report *rep, enum apply_stage stage, const char *err)
{
	rep->outcome = APPLY_FAILED;
	rep->stage = stage;
	snprintf(rep->err, sizeof(rep->err), "%s", err ? err : "");
}

/* What one attempt found and built; the notes and the dry run's diffs stay. */
static void attempt_reset(struct apply_report *rep)
{
	free(rep->services);
	free(rep->deltas);
	rep->services = NULL;
	rep->nservices = 0;
	rep->deltas = NULL;
	rep->ndeltas = 0;
	rep->replaced = rep->first_install = false;
	rep->why[0] = '\0';
	rep->messages = rep->elements = 0;
	rep->genid = 0;
}

/* The audit line of a commit; a trail that cannot be appended to is noted in the report. */
static void audit_commit(const struct apply_options *o, int fd, const struct policy *pol,
			 struct apply_report *rep)
{
	struct audit_service *svc = xcalloc(rep->nservices + 1, sizeof(*svc));
	struct audit_entry e = {
		.time = (int64_t)time(NULL), .command = o->audit, .plan_sha256 = o->plan_sha256,
		.table = pol->table, .netns = netns_inode(), .gen_before = rep->genid_before,
		.gen_after = rep->genid, .services = svc, .nservices = rep->nservices,
	};

	for (size_t i = 0; i < rep->nservices; i++) {
		svc[i].name = pol->services[i].name;
		svc[i].t = rep->services[i];
	}
	audit_append(fd, &e, rep->audit_err, sizeof(rep->audit_err));
	free(svc);
}

int apply_run(const struct apply_options *o, struct policy *pol, struct set_list *want,
	      struct apply_report *rep)
{
	struct nl *nl = NULL;
	char err[600];
	int lock = -1, audit = -1;

	memset(rep, 0, sizeof(*rep));
	if (nl_open(&nl, err, sizeof(err)) < 0) {
		failed(rep, APPLY_AT_OPEN, err);
		return EXIT_INPUT;
	}
	if (o->lock && (lock = lock_take(o->state_dir, o->lock_timeout, err, sizeof(err))) < 0) {
		failed(rep, APPLY_AT_LOCK, err);
		nl_close(nl);
		return EXIT_INPUT;
	}
	if (o->audit && !o->dry_run && (audit = audit_open(o->state_dir, err, sizeof(err))) < 0) {
		failed(rep, APPLY_AT_AUDIT, err);
		lock_release(lock);
		nl_close(nl);
		return EXIT_INPUT;
	}
	/*
	 * From here on the sets' intervals live in `want`; the inputs behind them
	 * only serve provenance, which a dry run's diff shows and a commit does not.
	 */
	/* A plan's sets are made from the plan and the kernel, attempt by attempt. */
	if (!o->plan && o->dry_run)
		wanted_sets_from_policy(pol, want);
	else if (!o->plan)
		wanted_sets_take_from_policy(pol, want);

	rep->outcome = APPLY_FAILED;
	rep->stage = APPLY_AT_RETRIES;
	for (int attempt = 1; attempt <= APPLY_ATTEMPTS; attempt++) {
		struct kernel_view live;
		struct nl_result res;

		if (kernel_view_read(nl, pol, o->state_dir, false, &live, err, sizeof(err)) < 0) {
			failed(rep, APPLY_AT_READ, err);
			goto done;
		}
		if (o->plan) {
			set_list_free(want);
			if (plan_check_live(o->plan, &live, rep->stale, sizeof(rep->stale)) < 0 ||
			    plan_wanted_sets(o->plan, pol, &live, want, rep->stale,
					     sizeof(rep->stale)) < 0) {
				rep->genid = rep->genid_before = live.table.genid;
				kernel_view_free(&live);
				rep->outcome = APPLY_STALE;
				goto done;
			}
		}
		bool present = live.table.present;
		bool replace = o->plan ? o->plan->change == PLAN_REPLACE : !live.structure_ok;
		if (present && !o->force && !o->plan && removal_gate(&live, want, rep)) {
			kernel_view_free(&live);
			rep->outcome = APPLY_REFUSED;
			goto done;
		}
		attempt_reset(rep);
		rep->genid = rep->genid_before = live.table.genid;
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
			rep->replaced = true;
			rep->first_install = !present;
			if (present)
				snprintf(rep->why, sizeof(rep->why), "%s", live.why);
		} else if (add_delta(b, pol, &live, want, rep) == 0) {
			if (!counted)
				count_services(pol, &live, want, rep);
			rep->outcome = APPLY_NOTHING;
			if (!live.from_state && !o->dry_run)
				save_state(o->state_dir, pol, want, live.table.genid, rep);
			nl_batch_free(b);
			kernel_view_free(&live);
			goto done;
		}
		if (o->dry_run) {
			/* The kernel's sets move over to the report: the diff is shown from there. */
			struct apply_diff *d;
			rep->diffs = xreallocarray(rep->diffs, rep->ndiffs + 1, sizeof(*rep->diffs));
			d = &rep->diffs[rep->ndiffs++];
			d->live = live.sets;
			memset(&live.sets, 0, sizeof(live.sets));
			snprintf(d->structure, sizeof(d->structure), "%s",
				 replace && present ? live.why : "");
		}
		/*
		 * Test hook: a command run between reading the kernel and committing,
		 * once, so that tests can change the ruleset in that window and see
		 * the compare-and-swap refuse the stale batch.
		 */
		const char *hook = getenv("MXFENCE_TEST_BEFORE_COMMIT");
		if (hook && attempt == 1 && system(hook) != 0)
			note(rep, APPLY_NOTE_HOOK, attempt, hook);
		struct state_job sj;
		if (!o->dry_run)
			state_job_start(&sj, o->state_dir, pol, &live, want, counted ? NULL : rep);
		nl_batch_send(b, o->dry_run, &res);
		if (!o->dry_run)
			state_job_end(&sj, res.status == NL_OK, res.genid, rep->state_err,
				      sizeof(rep->state_err));
		nl_batch_free(b);
		kernel_view_free(&live);

		switch (res.status) {
		case NL_OK:
			rep->messages = res.messages;
			rep->elements = res.elements;
			if (o->dry_run) {
				rep->outcome = APPLY_CHECKED;
			} else {
				rep->genid = res.genid;
				rep->outcome = APPLY_CHANGED;
				if (audit >= 0)
					audit_commit(o, audit, pol, rep);
			}
			goto done;
		case NL_RESTART:
			note(rep, APPLY_NOTE_RESTART, attempt, NULL);
			continue;
		case NL_UNKNOWN:
			/* Replies were lost: the next round reads the kernel in full and so settles it. */
			note(rep, APPLY_NOTE_UNKNOWN, attempt, res.err);
			char *p = state_path(o->state_dir, pol->table);
			unlink(p);
			free(p);
			continue;
		case NL_ERROR:
			failed(rep, APPLY_AT_SEND, res.err);
			goto done;
		}
	}
done:
	audit_close(audit);
	lock_release(lock);
	nl_close(nl);
	switch (rep->outcome) {
	case APPLY_CHANGED:
	case APPLY_NOTHING:
	case APPLY_CHECKED:
		return EXIT_OK;
	case APPLY_REFUSED:
	case APPLY_STALE:
		return EXIT_REFUSED;
	case APPLY_FAILED:
		break;
	}
	return EXIT_INPUT;
}

void apply_report_free(struct apply_report *rep)
{
	free(rep->services);
	free(rep->deltas);
	free(rep->refusals);
	free(rep->notes);
	for (size_t i = 0; i < rep->ndiffs; i++)
		set_list_free(&rep->diffs[i].live);
	free(rep->diffs);
	memset(rep, 0, sizeof(*rep));
}
