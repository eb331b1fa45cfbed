/*
 * The monitor: is the policy's table in the kernel, is it what the last apply
 * left, could a reboot bring it back, are its sources and its nightly job
 * current? Reads the kernel the fast way when it can: the table without its
 * elements, and the sets from the state file while the kernel reports the
 * generation the state file names. Any change to the ruleset moves the
 * generation (an element added by hand too), and then the sets are read in
 * full and compared with the state file; when they agree, the state file is
 * given the new generation, so that the next check is fast again.
 */
#include "monitor.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cache.h"
#include "live.h"
#include "lock.h"
#include "natcheck.h"
#include "nl.h"
#include "runrecord.h"
#include "saved.h"
#include "ruleplan.h"
#include "util.h"

static void problem(struct monitor_report *r, enum monitor_status s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct monitor_report *r, enum monitor_status s, const char *fmt, ...)
{
	va_list ap;

	r->problems = xreallocarray(r->problems, r->nproblems + 1, sizeof(*r->problems));
	va_start(ap, fmt);
	r->problems[r->nproblems].text = xvasprintf(fmt, ap);
	va_end(ap);
	/* The plugin line's text ends at '|', where the performance data begins. */
	for (char *p = r->problems[r->nproblems].text; *p; p++)
		if (*p == '|' || *p == '\n')
			*p = '/';
	r->problems[r->nproblems++].status = s;
}

/* CRITICAL before UNKNOWN before WARNING: a table known to be gone beats a check that failed. */
static int rank(enum monitor_status s)
{
	switch (s) {
	case MON_CRITICAL:
		return 3;
	case MON_UNKNOWN:
		return 2;
	case MON_WARNING:
		return 1;
	default:
		return 0;
	}
}

static void when(int64_t t, char *buf, size_t n)
{
	time_t at = (time_t)t;
	strftime(buf, n, "%Y-%m-%d %H:%M UTC", gmtime(&at));
}

static double hours(int64_t s)
{
	return (double)s / 3600.0;
}

static void check_sources(const struct policy *pol, struct monitor_report *r)
{
	for (size_t i = 0; i < pol->nsources; i++) {
		const struct source *src = &pol->sources[i];
		struct cache_meta m;
		char err[512];

		if (!src->remote || !src->used_by)
			continue;
		r->sources = xreallocarray(r->sources, r->nsources + 1, sizeof(*r->sources));
		struct monitor_source *ms = &r->sources[r->nsources++];
		memset(ms, 0, sizeof(*ms));
		ms->name = xstrdup(src->name);
		char *path = source_cache_path(pol, src, ".meta");
		int rc = cache_meta_read(path, &m, err, sizeof(err));
		if (rc == 1) {
			problem(r, MON_WARNING, "source %s: no good copy fetched yet", src->name);
		} else if (rc < 0) {
			problem(r, MON_WARNING, "source %s: %s", src->name, err);
		} else {
			ms->has_copy = true;
			ms->prefixes = m.prefixes;
			ms->fetched = m.fetched;
			ms->checked = m.checked;
			if (r->now - m.checked > r->max_age)
				problem(r, MON_WARNING,
					"source %s: last fetched successfully %.1f h ago (limit %.0f h)",
					src->name, hours(r->now - m.checked), hours(r->max_age));
			cache_meta_free(&m);
		}
		free(path);
	}
}

static void check_refresh(const char *state_dir, struct monitor_report *r)
{
	struct run_record rec;
	char err[512], at[40];
	int rc = run_record_read(state_dir, &rec, err, sizeof(err));

	if (rc == 1)
		return; /* refresh never ran here: apply alone keeps this table */
	if (rc < 0) {
		problem(r, MON_WARNING, "%s", err);
		return;
	}
	r->have_refresh = true;
	r->refresh_ended = rec.ended;
	r->refresh_exit_code = rec.exit_code;
	r->refresh_last_success = rec.last_success;
	when(rec.ended, at, sizeof(at));
	if (rec.exit_code == 4)
		problem(r, MON_WARNING,
			"the last refresh (%s) exited 4: a source came from its last good copy", at);
	else if (rec.exit_code == 3)
		problem(r, MON_WARNING, "the last refresh (%s) exited 3: a safety gate refused", at);
	else if (rec.exit_code != 0)
		problem(r, MON_WARNING, "the last refresh (%s) exited %d: it failed", at,
			rec.exit_code);
	if (r->now - rec.ended > r->max_age)
		problem(r, MON_WARNING, "the last refresh ended %.1f h ago (limit %.0f h)",
			hours(r->now - rec.ended), hours(r->max_age));
}

/*
 * Accepted and refused packets of each service, from its rules' counters:
 * the plan's rules, chain by chain, in the live table's order.
 */
static void count_rules(const struct policy *pol, const struct nl_table_live *t,
			struct monitor_report *r)
{
	struct service_counters *c = xcalloc(pol->nservices + 1, sizeof(*c));

	if (r->structure_ok)
		service_counters_read(pol, t, c);
	r->services = xcalloc(pol->nservices ? pol->nservices : 1, sizeof(*r->services));
	r->nservices = pol->nservices;
	for (size_t i = 0; i < pol->nservices; i++) {
		struct monitor_service *ms = &r->services[i];
		ms->name = xstrdup(pol->services[i].name);
		ms->counted = r->structure_ok;
		ms->accepted_packets = c[i].accepted_packets;
		ms->accepted_bytes = c[i].accepted_bytes;
		ms->refused_packets = c[i].refused_packets;
		ms->refused_bytes = c[i].refused_bytes;
	}
	free(c);
}

static void amount_diff(const struct range_vec *a, const struct range_vec *b, char *gained,
			char *lost, enum family f)
{
	struct range_vec g = { 0 }, l = { 0 };

	ranges_subtract(a->v, a->n, b->v, b->n, &g);
	ranges_subtract(b->v, b->n, a->v, a->n, &l);
	amount_format(ranges_addresses(g.v, g.n), f, gained);
	amount_format(ranges_addresses(l.v, l.n), f, lost);
	range_vec_free(&g);
	range_vec_free(&l);
}

/*
 * A full read (the generation moved since the last apply): do the sets hold
 * what the state file says? Each difference is CRITICAL; agreement lets the
 * state file take the current generation.
 */
static void compare_with_state(const struct monitor_options *o, struct kernel_view *v,
			       struct monitor_report *r)
{
	bool same = true;

	for (size_t i = 0; i < v->sets.n; i++) {
		const struct set_content *k = &v->sets.v[i];
		const struct state_set *s = state_set_find(&v->state, k->name);
		if (!s || s->fam != k->fam) {
			problem(r, MON_CRITICAL, "set %s: not in the record of the last apply", k->name);
			same = false;
			continue;
		}
		if (ranges_same_addresses(k->iv.v, k->iv.n, s->iv.v, s->iv.n))
			continue;
		struct range_vec kn = { 0 }, sn = { 0 };
		for (size_t j = 0; j < k->iv.n; j++)
			range_vec_push(&kn, k->iv.v[j].lo, k->iv.v[j].hi);
		for (size_t j = 0; j < s->iv.n; j++)
			range_vec_push(&sn, s->iv.v[j].lo, s->iv.v[j].hi);
		ranges_normalize(&kn);
		ranges_normalize(&sn);
		char gained[AMOUNT_STRLEN], lost[AMOUNT_STRLEN];
		amount_diff(&kn, &sn, gained, lost, k->fam);
		problem(r, MON_CRITICAL,
			"set %s differs from the last apply (generation %u): %s more, %s fewer; "
			"changed by hand?", k->name, v->state.genid, gained, lost);
		range_vec_free(&kn);
		range_vec_free(&sn);
		same = false;
	}
	if (!same || !o->restamp)
		return;
	char err[512];
	int lock = lock_take(o->state_dir, 0, err, sizeof(err));
	if (lock < 0)
		return; /* another run is busy: it writes the state itself */
	struct restamp_set *rs = xcalloc(v->sets.n ? v->sets.n : 1, sizeof(*rs));
	for (size_t i = 0; i < v->sets.n; i++)
		rs[i] = (struct restamp_set){ v->sets.v[i].name, v->sets.v[i].iv.v, v->sets.v[i].iv.n };
	r->restamped = state_restamp(o->state_dir, &v->state, rs, v->sets.n, v->table.genid, err,
				     sizeof(err)) == 0;
	free(rs);
	lock_release(lock);
}

/* Could a reboot or an nftables reload bring back what the kernel holds? */
static void check_saved(const struct monitor_options *o, const struct policy *pol,
			const struct kernel_view *v, struct monitor_report *r)
{
	struct saved_ruleset s;
	char err[600];
	char *path = saved_path(o->state_dir, pol->table);
	int rc = saved_read(path, &s, err, sizeof(err));

	if (rc == 1) {
		r->saved = 0;
		problem(r, MON_WARNING, "no saved ruleset %s: a reboot or an nftables reload would "
					"not bring the table back", path);
		goto out;
	}
	if (rc < 0) {
		r->saved = 2;
		problem(r, MON_WARNING, "saved ruleset: %s", err);
		goto out;
	}
	size_t n;
	char *skel = saved_skeleton(pol, &n);
	const char *differs = NULL;
	char what[128];
	if (!streq(s.table, pol->table) || n != s.skeleton_len || memcmp(skel, s.skeleton, n) != 0)
		differs = "its table, sets or rules are not the kernel's";
	for (size_t i = 0; i < v->sets.n && !differs; i++) {
		const struct set_content *k = &v->sets.v[i];
		const struct saved_set *ss = saved_set_find(&s, k->name);
		if (!ss || !ranges_same_addresses(ss->iv.v, ss->iv.n, k->iv.v, k->iv.n)) {
			snprintf(what, sizeof(what), "set %s holds other addresses", k->name);
			differs = what;
		}
	}
	free(skel);
	r->saved = differs ? 2 : 1;
	if (differs)
		problem(r, MON_WARNING, "the saved ruleset %s differs from the kernel: %s", path,
			differs);
	saved_ruleset_free(&s);
out:
	free(path);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * Mail that another table DNATs past every `to`: the table may be the
 * policy's, and that mail still unfiltered. WARNING, as check and status say.
 */
static void check_dnat(struct nl *nl, const struct policy *pol, struct monitor_report *r)
{
	struct nat_rule_list rules;
	struct diag d = { 0 };
	char err[512];
	static const char prefix[] = "warning: ";

	if (nl_read_dnat(nl, pol->table, &rules, err, sizeof(err)) < 0) {
		problem(r, MON_WARNING, "the kernel's nat rules were not checked: %s", err);
		return;
	}
	r->dnat_open = (int)natcheck(pol, &rules, &d);
	for (size_t i = 0; i < d.nmsgs; i++) {
		const char *t = d.msgs[i].text;
		problem(r, MON_WARNING, "%s", strncmp(t, prefix, sizeof(prefix) - 1) ? t :
								t + sizeof(prefix) - 1);
	}
	diag_free(&d);
	nat_rule_list_free(&rules);
}

static void check_kernel(const struct monitor_options *o, const struct policy *pol,
			 struct monitor_report *r)
{
	struct kernel_view v;
	struct nl *nl = NULL;
	struct timespec t0;
	char err[600];

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (nl_open(&nl, err, sizeof(err)) < 0) {
		problem(r, MON_UNKNOWN, "cannot read the kernel: %s", err);
		return;
	}
	if (kernel_view_read(nl, pol, o->state_dir, false, &v, err, sizeof(err)) < 0) {
		problem(r, MON_UNKNOWN, "cannot read table inet %s: %s", pol->table, err);
		kernel_view_free(&v);
		nl_close(nl);
		return;
	}
	check_dnat(nl, pol, r);
	nl_close(nl);
	r->kernel_read = true;
	r->table_present = v.table.present;
	r->genid = v.table.genid;
	r->fast = v.from_state;
	r->have_state = v.have_state;
	if (v.have_state) {
		r->applied_at = v.state.applied_at;
		r->applied_genid = v.state.genid;
	}
	if (!v.table.present) {
		problem(r, MON_CRITICAL, "table inet %s is absent: the services' ports are open",
			pol->table);
		goto out;
	}
	r->structure_ok = v.structure_ok;
	if (!v.structure_ok)
		problem(r, MON_CRITICAL, "table inet %s is not the policy's: %s", pol->table, v.why);

	if (v.have_state && !v.from_state && v.structure_ok) {
		compare_with_state(o, &v, r);
	} else if (!v.have_state) {
		struct stat sb;
		char *sp = state_path(o->state_dir, pol->table);
		problem(r, MON_WARNING, "%s %s: what the kernel holds cannot be compared with an apply",
			stat(sp, &sb) == 0 ? "unreadable state file" : "no record of an apply,", sp);
		free(sp);
	}
	if (v.structure_ok)
		check_saved(o, pol, &v, r);

	r->sets = xcalloc(v.sets.n ? v.sets.n : 1, sizeof(*r->sets));
	r->nsets = v.sets.n;
	for (size_t i = 0; i < v.sets.n; i++) {
		struct set_content *k = &v.sets.v[i];
		struct monitor_set *ms = &r->sets[i];
		snprintf(ms->name, sizeof(ms->name), "%s", k->name);
		ms->fam = k->fam;
		ms->known = k->known;
		ranges_normalize(&k->iv);
		ms->intervals = k->iv.n;
		ms->addresses = ranges_addresses(k->iv.v, k->iv.n);
	}
	for (size_t i = 0; i < pol->nservices && v.structure_ok; i++) {
		const struct service *svc = &pol->services[i];
		size_t held = 0;
		for (size_t k = 0; k < r->nsets; k++)
			if (v.sets.v[k].svc == svc)
				held += r->sets[k].intervals;
		if (!held && !svc->allow_empty)
			problem(r, MON_CRITICAL, "service %s allows nothing: its sets are empty",
				svc->name);
	}
	count_rules(pol, &v.table, r);
out:
	r->read_seconds = seconds_since(&t0);
	kernel_view_free(&v);
}

void monitor_check(const struct monitor_options *o, struct monitor_report *r)
{
	struct policy pol;
	struct diag d = { 0 };

	memset(r, 0, sizeof(*r));
	r->saved = -1;
	r->dnat_open = -1;
	r->now = o->now ? o->now : (int64_t)time(NULL);
	r->max_age = o->max_age;
	if (policy_load(&pol, o->conf, o->cache_dir, &d) < 0) {
		const char *first = NULL;
		for (size_t i = 0; i < d.nmsgs && !first; i++)
			if (d.msgs[i].level == DIAG_ERROR)
				first = d.msgs[i].text;
		problem(r, MON_UNKNOWN, "cannot read the policy: %s", first ? first : o->conf);
		diag_free(&d);
		policy_free(&pol);
		goto verdict;
	}
	diag_free(&d);
	r->policy_read = true;
	r->table = xstrdup(pol.table);
	check_kernel(o, &pol, r);
	check_sources(&pol, r);
	check_refresh(o->state_dir, r);

	size_t intervals = 0;
	for (size_t i = 0; i < r->nsets; i++)
		intervals += r->sets[i].intervals;
	char at[40] = "never";
	if (r->have_state)
		when(r->applied_at, at, sizeof(at));
	r->ok_text = xasprintf("table inet %s holds the last apply (%s), generation %u%s; %zu sets, "
			       "%zu intervals; saved ruleset current",
			       pol.table, at, r->genid, r->fast ? "" : ", read in full", r->nsets,
			       intervals);
	policy_free(&pol);
verdict:
	r->status = MON_OK;
	for (size_t i = 0; i < r->nproblems; i++)
		if (rank(r->problems[i].status) > rank(r->status))
			r->status = r->problems[i].status;
}

void monitor_report_free(struct monitor_report *r)
{
	for (size_t i = 0; i < r->nproblems; i++)
		free(r->problems[i].text);
	free(r->problems);
	free(r->ok_text);
	free(r->table);
	free(r->sets);
	for (size_t i = 0; i < r->nservices; i++)
		free(r->services[i].name);
	free(r->services);
	for (size_t i = 0; i < r->nsources; i++)
		free(r->sources[i].name);
	free(r->sources);
	memset(r, 0, sizeof(*r));
}

static const char *status_name(enum monitor_status s)
{
	static const char *const names[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };
	return names[s];
}

void monitor_format_nagios(const struct monitor_report *r, char **out)
{
	size_t len = 0;
	FILE *f = open_memstream(out, &len);

	if (!f)
		abort();
	fprintf(f, "MXFENCE %s - ", status_name(r->status));
	if (!r->nproblems) {
		fputs(r->ok_text ? r->ok_text : "", f);
	} else {
		/* The worst first, each rank in the order found. */
		bool first = true;
		for (int k = 3; k >= 1; k--)
			for (size_t i = 0; i < r->nproblems; i++)
				if (rank(r->problems[i].status) == k) {
					fprintf(f, "%s%s", first ? "" : "; ", r->problems[i].text);
					first = false;
				}
	}
	/* Performance data: 'label'=value[UOM];warn;crit;min;max */
	bool perf = false;
#define PERF(...) (fputs(perf ? " " : " | ", f), perf = true, fprintf(f, __VA_ARGS__))
	if (r->kernel_read) {
		PERF("table_present=%d;;1;0;1", r->table_present ? 1 : 0);
		for (size_t i = 0; i < r->nsets; i++)
			if (r->sets[i].known)
				PERF("%s=%zu;;;0", r->sets[i].name, r->sets[i].intervals);
		for (size_t i = 0; i < r->nservices; i++)
			if (r->services[i].counted)
				PERF("%s_accepted=%lluc %s_refused=%lluc", r->services[i].name,
				     (unsigned long long)r->services[i].accepted_packets,
				     r->services[i].name,
				     (unsigned long long)r->services[i].refused_packets);
		PERF("read_time=%.6fs;;;0", r->read_seconds);
	}
	for (size_t i = 0; i < r->nsources; i++)
		if (r->sources[i].has_copy)
			PERF("source_%s_age=%llds;%lld;;0", r->sources[i].name,
			     (long long)(r->now - r->sources[i].checked), (long long)r->max_age);
	if (r->have_refresh)
		PERF("refresh_age=%llds;%lld;;0 refresh_exit_code=%d;1;;0", (long long)(r->now - r->refresh_ended),
		     (long long)r->max_age, r->refresh_exit_code);
#undef PERF
	fputc('\n', f);
	fclose(f);
}
