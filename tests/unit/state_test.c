/*
 * Unit tests of the state file (src/state.c): random states written and read
 * back equal in every field; the generation id put in by state_finish();
 * every way of cutting the file short, a byte added, and the bytes whose
 * damage the format always detects; a corrupted byte anywhere either
 * refused or decoded into a well-formed state; the file missing, empty,
 * a folder, or of another table.
 */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "state.h"
#include "tmpfiles.h"
#include "util.h"

static uint64_t rng = 0x5eed5eed1234ull;

static uint64_t next(void)
{
	rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
	return rng;
}

static u128 next128(void)
{
	return (u128)next() << 64 | next();
}

/* Sorted, disjoint intervals of a family, crowding its edges now and then. */
static void random_ranges(struct range_vec *rv, enum family f, size_t n)
{
	u128 max = fam_max(f), pos = 0;
	bool from_zero = next() % 3 == 0, to_max = next() % 3 == 0;

	memset(rv, 0, sizeof(*rv));
	for (size_t i = 0; i < n; i++) {
		u128 room = max - pos, gap, len;
		if (room < 4)
			break;
		gap = (i == 0 && from_zero) ? 0 : 1 + (next128() % (room / (2 * (n - i) + 1) + 1));
		if (gap > room - 2)
			break;
		u128 lo = pos + gap;
		len = next128() % ((max - lo) / (2 * (n - i)) + 1);
		u128 hi = lo + len;
		if (i == n - 1 && to_max)
			hi = max;
		range_vec_push(rv, lo, hi);
		if (hi == max)
			break;
		pos = hi + 1;
	}
}

static void random_state(struct state *st)
{
	memset(st, 0, sizeof(*st));
	st->table = xasprintf("t%" PRIu64, next() % 1000);
	st->genid = (uint32_t)next();
	st->netns = next();
	st->applied_at = (int64_t)next();
	st->nsources = next() % 5;
	st->sources = xcalloc(st->nsources + 1, sizeof(char *));
	for (size_t i = 0; i < st->nsources; i++)
		st->sources[i] = xasprintf("source-%zu.%" PRIu64, i, next() % 100);
	st->nsets = next() % 5;
	st->sets = xcalloc(st->nsets + 1, sizeof(*st->sets));
	for (size_t i = 0; i < st->nsets; i++) {
		struct state_set *s = &st->sets[i];
		s->fam = (enum family)(next() % 2);
		s->name = xasprintf("svc%zu_%s", i, s->fam == FAM_V4 ? "v4" : "v6");
		random_ranges(&s->iv, s->fam, next() % 4 == 0 ? 0 : 1 + next() % 200);
		s->sources = xcalloc(s->iv.n + 1, sizeof(*s->sources));
		for (size_t k = 0; k < s->iv.n; k++)
			s->sources[k] = next() % 4 ? next() : 0;
	}
}

/* The difference between two states, or "" when equal. */
static const char *state_differs(const struct state *a, const struct state *b)
{
	if (!streq(a->table, b->table))
		return "table";
	if (a->genid != b->genid || a->netns != b->netns || a->applied_at != b->applied_at)
		return "genid, netns or applied_at";
	if (a->nsources != b->nsources)
		return "source count";
	for (size_t i = 0; i < a->nsources; i++)
		if (!streq(a->sources[i], b->sources[i]))
			return "a source name";
	if (a->nsets != b->nsets)
		return "set count";
	for (size_t i = 0; i < a->nsets; i++) {
		const struct state_set *x = &a->sets[i], *y = &b->sets[i];
		if (!streq(x->name, y->name) || x->fam != y->fam || x->iv.n != y->iv.n)
			return "a set's name, family or size";
		for (size_t k = 0; k < x->iv.n; k++)
			if (x->iv.v[k].lo != y->iv.v[k].lo || x->iv.v[k].hi != y->iv.v[k].hi ||
			    x->sources[k] != y->sources[k])
				return "an interval or its sources";
	}
	return "";
}

/* What a decoded state must be, whatever the bytes: sorted, disjoint, inside its family. */
static bool well_formed(const struct state *st)
{
	if (!st->table)
		return false;
	for (size_t i = 0; i < st->nsets; i++) {
		const struct state_set *s = &st->sets[i];
		if (!s->name || s->fam > FAM_V6)
			return false;
		for (size_t k = 0; k < s->iv.n; k++)
			if (s->iv.v[k].lo > s->iv.v[k].hi || s->iv.v[k].hi > fam_max(s->fam) ||
			    (k && s->iv.v[k].lo <= s->iv.v[k - 1].hi))
				return false;
	}
	return true;
}

static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	unsigned char *buf = NULL;

	*len = 0;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	*len = (size_t)ftell(f);
	rewind(f);
	buf = xmalloc(*len + 1);
	if (fread(buf, 1, *len, f) != *len)
		*len = 0;
	fclose(f);
	return buf;
}

static void test_round_trip(void)
{
	char err[512];
	int bad = 0, sets = 0, intervals = 0;
	char why[512] = "";

	for (int round = 0; round < 200; round++) {
		struct state st, back;
		random_state(&st);
		if (state_write(tmp_dir, &st, err, sizeof(err)) != 0) {
			CHECK("state: random states are written", 0, "%s", err);
			state_free(&st);
			return;
		}
		int rc = state_read(tmp_dir, st.table, &back, err, sizeof(err));
		const char *d = rc == 0 ? state_differs(&st, &back) : err;
		if ((rc != 0 || d[0]) && !bad++)
			snprintf(why, sizeof(why), "%s", d);
		sets += (int)st.nsets;
		for (size_t i = 0; i < st.nsets; i++)
			intervals += (int)st.sets[i].iv.n;
		if (rc == 0)
			state_free(&back);
		char *path = state_path(tmp_dir, st.table);
		unlink(path);
		free(path);
		state_free(&st);
	}
	CHECK("state: 200 random states read back equal in every field", bad == 0 && sets > 100 &&
	      intervals > 5000, "%d differ (first: %s); %d sets, %d intervals", bad, why, sets,
	      intervals);
}

static void test_finish_genid(void)
{
	struct state st, back;
	struct state_pending p;
	char err[512];

	random_state(&st);
	st.genid = 7;
	int rc = state_prepare(tmp_dir, &st, &p);
	char *path = state_path(tmp_dir, st.table);
	bool absent_before = access(path, F_OK) != 0;
	if (rc == 0)
		rc = state_finish(&p, 0xfeedbeefu, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "%s", p.err);
	int rrc = rc == 0 ? state_read(tmp_dir, st.table, &back, err, sizeof(err)) : -1;
	CHECK("state: nothing is in place until state_finish(), which puts in the generation id",
	      rc == 0 && absent_before && rrc == 0 && back.genid == 0xfeedbeefu, "rc %d/%d: %s", rc,
	      rrc, err);
	if (rrc == 0)
		state_free(&back);

	/* A discarded one leaves nothing, not even the file beside. */
	st.genid = 1;
	unlink(path);
	rc = state_prepare(tmp_dir, &st, &p);
	state_discard(&p);
	bool leftover = false;
	DIR *dir = opendir(tmp_dir);
	for (struct dirent *e; dir && (e = readdir(dir));)
		leftover |= strncmp(e->d_name, st.table, strlen(st.table)) == 0;
	if (dir)
		closedir(dir);
	CHECK("state: state_discard() leaves no file", rc == 0 && !leftover && access(path, F_OK) != 0,
	      "rc %d, leftover %d", rc, leftover);
	free(path);
	state_free(&st);
}

/* One known state's bytes, for the damage tests. */
static unsigned char *known_bytes(size_t *len, struct state *st)
{
	char err[512];

	memset(st, 0, sizeof(*st));
	st->table = xstrdup("mxfence");
	st->genid = 42;
	st->netns = 4026531840u;
	st->applied_at = 1764000000;
	st->nsources = 2;
	st->sources = xcalloc(3, sizeof(char *));
	st->sources[0] = xstrdup("relays");
	st->sources[1] = xstrdup("m365");
	st->nsets = 2;
	st->sets = xcalloc(3, sizeof(*st->sets));
	st->sets[0].name = xstrdup("smtp_v4");
	st->sets[0].fam = FAM_V4;
	range_vec_push(&st->sets[0].iv, 0, 0xff);
	range_vec_push(&st->sets[0].iv, 0xc0000200u, 0xc00002ffu);
	range_vec_push(&st->sets[0].iv, 0xffffff00u, 0xffffffffu);
	st->sets[0].sources = xcalloc(3, sizeof(uint64_t));
	st->sets[0].sources[0] = 1, st->sets[0].sources[1] = 3, st->sets[0].sources[2] = 2;
	st->sets[1].name = xstrdup("smtp_v6");
	st->sets[1].fam = FAM_V6;
	range_vec_push(&st->sets[1].iv, (u128)0xffff << 32, ((u128)0xffff << 32) | 0xffffffffu);
	range_vec_push(&st->sets[1].iv, (u128)0x20010db8u << 96, ((u128)0x20010db8u << 96) | 0xff);
	st->sets[1].sources = xcalloc(2, sizeof(uint64_t));
	st->sets[1].sources[0] = 1, st->sets[1].sources[1] = 1;
	if (state_write(tmp_dir, st, err, sizeof(err)) != 0)
		return NULL;
	char *path = state_path(tmp_dir, "mxfence");
	unsigned char *buf = slurp(path, len);
	free(path);
	return buf;
}

static void test_damage(void)
{
	struct state st, out;
	size_t len = 0;
	char err[256];
	unsigned char *buf = known_bytes(&len, &st);

	if (!buf || len < 100) {
		CHECK("state: a known state is written", 0, "%zu bytes", len);
		state_free(&st);
		free(buf);
		return;
	}
	int rc = state_decode(buf, len, &out, err, sizeof(err));
	CHECK("state: the known state decodes", rc == 0 && !state_differs(&st, &out)[0], "%s",
	      rc ? err : state_differs(&st, &out));
	if (rc == 0)
		state_free(&out);

	/* Cut short by any number of bytes, or one byte longer: refused. */
	size_t accepted = 0;
	for (size_t n = 0; n < len; n++)
		if (state_decode(buf, n, &out, err, sizeof(err)) == 0) {
			accepted++;
			state_free(&out);
		}
	unsigned char *longer = xmalloc(len + 1);
	memcpy(longer, buf, len);
	longer[len] = 0;
	bool longer_ok = state_decode(longer, len + 1, &out, err, sizeof(err)) == 0;
	if (longer_ok)
		state_free(&out);
	CHECK("state: every cut (0 to all but one byte) and one byte more are refused",
	      accepted == 0 && !longer_ok, "%zu cuts accepted, longer %d", accepted, longer_ok);
	free(longer);

	/*
	 * Bytes whose damage is always seen: the magic, the trailer, the high
	 * bytes of the counts and lengths (more than the file could hold), a
	 * family that is neither. The known state's layout:
	 *   magic[8] genid[4] netns[8] applied_at[8] len[2] "mxfence" nsources[4]
	 *   len[2] "relays" len[2] "m365" nsets[4], then smtp_v4: len[2] name[7]
	 *   fam[1] n[8] keys[3 x 8] bits[3 x 8], then smtp_v6, then "END."
	 */
	const size_t table_len_at = 28, nsources_at = table_len_at + 2 + 7,
		     fam_at = nsources_at + 4 + 2 + 6 + 2 + 4 + 4 + 2 + 7, n_at = fam_at + 1;
	const size_t always[] = { 0, 3, 7, table_len_at + 1, nsources_at + 1, nsources_at + 3,
				  n_at + 1, n_at + 7, fam_at, len - 4, len - 1 };
	size_t missed = 0;
	char first[64] = "";
	for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++)
		for (unsigned x = 1; x < 256; x++) {
			/* family 0 -> 1 is a valid family: left to the sweep below */
			if (always[i] == fam_at && x == 1)
				continue;
			unsigned char *b = xmalloc(len);
			memcpy(b, buf, len);
			b[always[i]] ^= (unsigned char)x;
			if (state_decode(b, len, &out, err, sizeof(err)) == 0) {
				if (!missed++)
					snprintf(first, sizeof(first), "byte %zu ^ %#x", always[i], x);
				state_free(&out);
			}
			free(b);
		}
	CHECK("state: damage to the magic, the trailer, a count, a length or a family is refused",
	      missed == 0 && buf[fam_at] == FAM_V4 && buf[n_at] == 3 && buf[nsources_at] == 2 &&
		      buf[table_len_at] == 7,
	      "%zu accepted, first %s", missed, first);

	/* Any byte, any damage: refused, or a well-formed state. Never anything else. */
	size_t refused = 0, decoded = 0, malformed = 0;
	for (size_t pos = 0; pos < len; pos++)
		for (unsigned x = 1; x < 256; x += 17) {
			unsigned char *b = xmalloc(len);
			memcpy(b, buf, len);
			b[pos] ^= (unsigned char)x;
			if (state_decode(b, len, &out, err, sizeof(err)) == 0) {
				decoded++;
				malformed += !well_formed(&out);
				state_free(&out);
			} else {
				refused++;
			}
			free(b);
		}
	CHECK("state: a corrupted byte anywhere is refused or decodes well formed",
	      malformed == 0 && refused > 0 && refused + decoded == len * 15, "%zu malformed of %zu "
	      "decoded, %zu refused", malformed, decoded, refused);

	/* Intervals out of order, overlapping, or past the family: refused as damage. */
	size_t keys_at = n_at + 8;
	unsigned char *b = xmalloc(len);
	memcpy(b, buf, len);
	memcpy(b + keys_at, "\xff\x00\x00\x00", 4); /* first lo above its hi */
	bool lo_hi = state_decode(b, len, &out, err, sizeof(err)) == 0;
	memcpy(b, buf, len);
	memcpy(b + keys_at + 8, "\x00\x00\x00\x10", 4); /* second lo inside the first */
	bool overlap = state_decode(b, len, &out, err, sizeof(err)) == 0;
	CHECK("state: an interval ending before it starts, or overlapping, is damage",
	      !lo_hi && !overlap, "accepted: lo>hi %d, overlap %d", lo_hi, overlap);
	free(b);
	free(buf);
	state_free(&st);
}

static void test_files(void)
{
	struct state st;
	char err[512];
	char sub[600];

	snprintf(sub, sizeof(sub), "%s/files", tmp_dir);
	mkdir(sub, 0700);
	CHECK("state: no file: 1", state_read(sub, "t", &st, err, sizeof(err)) == 1, "%s", err);

	char *path = state_path(sub, "t");
	int fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	close(fd);
	int rc = state_read(sub, "t", &st, err, sizeof(err));
	CHECK("state: an empty file: -1, says so", rc == -1 && strstr(err, ": empty"), "rc %d %s", rc,
	      err);
	unlink(path);
	mkdir(path, 0700);
	rc = state_read(sub, "t", &st, err, sizeof(err));
	CHECK("state: a folder in its place: -1", rc == -1 && strstr(err, "not a regular state file"),
	      "rc %d %s", rc, err);
	rmdir(path);
	free(path);

	/* A state file renamed to another table's name is not that table's. */
	struct state w;
	random_state(&w);
	free(w.table);
	w.table = xstrdup("other");
	rc = state_write(sub, &w, err, sizeof(err));
	char *from = state_path(sub, "other"), *to = state_path(sub, "t");
	rename(from, to);
	rc = rc == 0 ? state_read(sub, "t", &st, err, sizeof(err)) : -2;
	CHECK("state: a file written for another table: -1, names it",
	      rc == -1 && strstr(err, "written for table other"), "rc %d %s", rc, err);
	free(from);
	free(to);
	state_free(&w);
}

int main(void)
{
	tmp_begin("state-test");
	test_round_trip();
	test_finish_genid();
	test_damage();
	test_files();
	tmp_end();
	return failures ? 1 : 0;
}
