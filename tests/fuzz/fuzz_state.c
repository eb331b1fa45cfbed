/*
 * The state file on hostile bytes: state_decode() on the input, then what
 * `diff`, `status` and `apply` do with a state they trust: its sets stand for
 * the live sets of the fixed policy (fuzz_fixed_policy), the diff against the
 * compiled sets is printed, the element delta is computed and put in a
 * netlink batch (built, not sent).
 *
 * Checked: a decoded state is well formed (sets sorted, disjoint, inside
 * their family); writing it back (state_write) gives the input byte for byte
 * and state_read() agrees; a refused input leaves nothing allocated and says
 * why; the delta turns the state's intervals into the compiled ones exactly.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diffview.h"
#include "fuzz.h"
#include "fuzz_fixtures.h"
#include "nl.h"
#include "state.h"
#include "util.h"

static struct policy pol;
static struct set_list want;
static const char *dir;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_fixed_policy(&pol);
	wanted_sets_from_policy(&pol, &want);
	dir = fuzz_dir();
	return 0;
}

/* A name state_path() can take without leaving the directory. */
static bool plain_name(const char *s)
{
	size_t n = strlen(s);

	return n >= 1 && n <= NAME_MAX_LEN &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == n;
}

static bool same_state(const struct state *a, const struct state *b)
{
	if (strcmp(a->table, b->table) || a->genid != b->genid || a->netns != b->netns ||
	    a->applied_at != b->applied_at || a->nsources != b->nsources || a->nsets != b->nsets)
		return false;
	for (size_t i = 0; i < a->nsources; i++)
		if (strcmp(a->sources[i], b->sources[i]))
			return false;
	for (size_t i = 0; i < a->nsets; i++) {
		const struct state_set *x = &a->sets[i], *y = &b->sets[i];
		if (strcmp(x->name, y->name) || x->fam != y->fam || x->iv.n != y->iv.n)
			return false;
		if (x->iv.n && (memcmp(x->iv.v, y->iv.v, x->iv.n * sizeof(*x->iv.v)) ||
				memcmp(x->sources, y->sources, x->iv.n * sizeof(*x->sources))))
			return false;
	}
	return true;
}

static void check_roundtrip(const struct state *st, const uint8_t *data, size_t size)
{
	char err[512], *path;
	struct state again;
	size_t len;
	char *bytes;

	if (!plain_name(st->table))
		return;
	FUZZ_CHECK(state_write(dir, st, err, sizeof(err)) == 0, "state_write: %s", err);
	path = state_path(dir, st->table);
	bytes = fuzz_read(path, &len);
	FUZZ_CHECK(bytes && len == size && memcmp(bytes, data, size) == 0,
		   "the state written back differs from the one read (%zu bytes, read %zu)", len,
		   size);
	free(bytes);
	FUZZ_CHECK(state_read(dir, st->table, &again, err, sizeof(err)) == 0, "state_read: %s", err);
	FUZZ_CHECK(same_state(st, &again), "state_read gives another state");
	state_free(&again);
	unlink(path);
	free(path);
}

static int count_msg(const struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	++*(size_t *)arg;
	return 0;
}

/* The state's sets as the live side, as kernel_view_read() makes them from a state. */
static void live_from_state(struct state *st, struct set_list *old)
{
	memset(old, 0, sizeof(*old));
	old->v = xcalloc(want.n + 1, sizeof(*old->v));
	old->n = want.n;
	for (size_t i = 0; i < want.n; i++) {
		struct set_content *v = &old->v[i];
		struct state_set *s = (struct state_set *)state_set_find(st, want.v[i].name);
		memcpy(v->name, want.v[i].name, sizeof(v->name));
		v->svc = want.v[i].svc;
		v->fam = want.v[i].fam;
		if (s && s->fam == v->fam) {
			v->known = true;
			v->iv = s->iv;
			v->sources = s->sources;
			memset(&s->iv, 0, sizeof(s->iv));
			s->sources = NULL;
		}
	}
	old->nsource_names = st->nsources;
	old->source_names = xcalloc(st->nsources + 1, sizeof(char *));
	for (size_t i = 0; i < st->nsources; i++)
		old->source_names[i] = xstrdup(st->sources[i]);
}

/* old - del + add must be new, interval for interval. */
static void check_delta(const struct set_content *o, const struct set_content *nw,
			const struct range_vec *del, const struct range_vec *add)
{
	size_t i = 0, d = 0, a = 0, k = 0;
	struct range_vec got = { 0 };

	fuzz_check_ranges(del->v, del->n, nw->fam, true, "deletes");
	fuzz_check_ranges(add->v, add->n, nw->fam, true, "adds");
	for (i = 0; i < o->iv.n; i++) {
		if (d < del->n && del->v[d].lo == o->iv.v[i].lo && del->v[d].hi == o->iv.v[i].hi) {
			d++;
			continue;
		}
		while (a < add->n && add->v[a].lo < o->iv.v[i].lo)
			range_vec_push(&got, add->v[a].lo, add->v[a].hi), a++;
		range_vec_push(&got, o->iv.v[i].lo, o->iv.v[i].hi);
	}
	while (a < add->n)
		range_vec_push(&got, add->v[a].lo, add->v[a].hi), a++;
	FUZZ_CHECK(d == del->n, "%s: %zu deletes name no interval of the state", nw->name,
		   del->n - d);
	FUZZ_CHECK(got.n == nw->iv.n, "%s: the delta gives %zu intervals, not %zu", nw->name,
		   got.n, nw->iv.n);
	for (k = 0; k < got.n; k++)
		FUZZ_CHECK(got.v[k].lo == nw->iv.v[k].lo && got.v[k].hi == nw->iv.v[k].hi,
			   "%s: the delta gives another interval %zu", nw->name, k);
	range_vec_free(&got);
}

static void use_state(struct state *st)
{
	struct set_list old;
	struct diff_totals t1, t2, t3;
	struct nl_batch *b = nl_batch_new(NULL, st->genid);
	size_t msgs = 0;

	live_from_state(st, &old);
	fuzz_check_views(&old);
	diff_print(fuzz_null(), &pol, &old, &want, NULL, false, &t1);
	diff_print(fuzz_null(), &pol, &old, &want, NULL, true, &t2);
	diff_count(&old, &want, &t3);
	FUZZ_CHECK(t1.prefixes_added == t3.prefixes_added && t2.prefixes_added == t3.prefixes_added &&
			   t1.prefixes_removed == t3.prefixes_removed && t1.changed == t3.changed &&
			   t1.v4_gained == t3.v4_gained && t1.v6_lost == t3.v6_lost,
		   "diff_print and diff_count disagree");

	for (size_t i = 0; i < want.n; i++) {
		const struct set_content *o = &old.v[i], *nw = &want.v[i];
		struct range_vec del = { 0 }, add = { 0 };
		if (!o->known)
			continue;
		ranges_delta(o->iv.v, o->iv.n, nw->iv.v,
			     nw->iv.n, &del, &add);
		check_delta(o, nw, &del, &add);
		if (del.n)
			nl_batch_del_elems(b, pol.table, nw->name, nw->fam, del.v,
					   del.n);
		if (add.n)
			nl_batch_add_elems(b, pol.table, nw->name, nw->fam, add.v,
					   add.n);
		range_vec_free(&del);
		range_vec_free(&add);
	}
	nl_batch_foreach(b, count_msg, &msgs);
	FUZZ_CHECK(msgs >= 1, "an empty batch has no BEGIN");
	nl_batch_free(b);
	set_list_free(&old);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state st;
	char err[256];

	memset(err, 'x', sizeof(err));
	if (state_decode(data, size, &st, err, sizeof(err)) < 0) {
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0], "no reason for a refusal");
		FUZZ_CHECK(!st.table && !st.sets && !st.sources && !st.nsets && !st.nsources,
			   "a refused state keeps allocations");
		return 0;
	}
	FUZZ_CHECK(st.table && st.nsources <= STATE_MAX_SOURCES && st.nsets <= STATE_MAX_SETS,
		   "decoded: table %p, %zu sources, %zu sets", (void *)st.table, st.nsources,
		   st.nsets);
	for (size_t i = 0; i < st.nsources; i++)
		FUZZ_CHECK(st.sources[i] != NULL, "source %zu has no name", i);
	for (size_t i = 0; i < st.nsets; i++) {
		const struct state_set *s = &st.sets[i];
		FUZZ_CHECK(s->name && (s->fam == FAM_V4 || s->fam == FAM_V6) &&
				   (s->sources || !s->iv.n),
			   "set %zu is malformed", i);
		fuzz_check_ranges(s->iv.v, s->iv.n, s->fam, true, s->name);
		FUZZ_CHECK(state_set_find(&st, s->name) != NULL, "set %s not found by name", s->name);
	}
	check_roundtrip(&st, data, size);
	use_state(&st);
	state_free(&st);
	return 0;
}
