/*
 * Binary, little-endian, versioned:
 *   "MXFSTAT1" u32 genid u64 netns i64 applied_at  str table
 *   u32 nsources { str }  u32 nsets { str name, u8 family, u64 n,
 *   n x (key lo, key hi: 4 or 16 bytes, big-endian), n x u64 source bits }
 *   "END."
 * with str = u16 length + bytes. Every length is checked against what is
 * left before it is used: the file may have been damaged.
 */
#include "state.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mapfile.h"
#include "util.h"

static const char magic[8] = "MXFSTAT1";
static const char trailer[4] = "END.";

char *state_path(const char *dir, const char *table)
{
	return xasprintf("%s/%s.state", dir, table);
}

/* The encoder's output: written to fd a chunk at a time, so that a million intervals never sit whole in fresh memory. */
struct out {
	unsigned char *p;
	size_t n, cap;
	int fd;
	int err; /* errno of the first failed write */
};

#define OUT_CHUNK (1u << 20)

static void flush(struct out *o)
{
	if (!o->err)
		o->err = write_all(o->fd, o->p, o->n);
	o->n = 0;
}

/* Room for n more bytes, flushing first when the chunk is full. */
static unsigned char *room(struct out *o, size_t n)
{
	if (o->n + n > OUT_CHUNK && o->n)
		flush(o);
	o->p = grow(o->p, &o->cap, o->n + n, 1);
	return o->p + o->n;
}

static void put(struct out *o, const void *b, size_t n)
{
	memcpy(room(o, n), b, n);
	o->n += n;
}

static void put_u(struct out *o, uint64_t v, int bytes)
{
	unsigned char b[8];
	for (int i = 0; i < bytes; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	put(o, b, (size_t)bytes);
}

static void put_str(struct out *o, const char *s)
{
	size_t n = strlen(s);
	put_u(o, n, 2);
	put(o, s, n);
}

/* Where the generation id lies in the file: after the magic. */
#define GENID_OFFSET sizeof(magic)

static void encode(struct out *o, const struct state *st)
{
	put(o, magic, sizeof(magic));
	put_u(o, st->genid, 4);
	put_u(o, st->netns, 8);
	put_u(o, (uint64_t)st->applied_at, 8);
	put_str(o, st->table);
	put_u(o, st->nsources, 4);
	for (size_t i = 0; i < st->nsources; i++)
		put_str(o, st->sources[i]);
	put_u(o, st->nsets, 4);
	for (size_t i = 0; i < st->nsets; i++) {
		const struct state_set *s = &st->sets[i];
		size_t klen = s->fam == FAM_V4 ? 4 : 16, block = 16384;
		put_str(o, s->name);
		put_u(o, (uint64_t)s->fam, 1);
		put_u(o, s->iv.n, 8);
		for (size_t k = 0; k < s->iv.n; k++) {
			if (k % block == 0)
				room(o, block * 2 * klen);
			u128_to_be(s->iv.v[k].lo, o->p + o->n, klen);
			u128_to_be(s->iv.v[k].hi, o->p + o->n + klen, klen);
			o->n += 2 * klen;
		}
		for (size_t k = 0; k < s->iv.n; k++) {
			if (k % block == 0)
				room(o, block * 8);
			uint64_t v = htole64(s->sources ? s->sources[k] : 0);
			memcpy(o->p + o->n, &v, 8);
			o->n += 8;
		}
	}
	put(o, trailer, sizeof(trailer));
	flush(o);
}

/*
 * Not fsynced: the state only describes the kernel's ruleset, which a crash
 * loses as well. Whatever a crash leaves of this file (nothing, a short or an
 * old one) fails its checks or its generation id, and the next run reads the
 * kernel instead.
 */
int state_prepare(const char *dir, const struct state *st, struct state_pending *p)
{
	struct out o = { 0 };

	p->err[0] = '\0';
	if (pending_create(&p->file, state_path(dir, st->table), p->err, sizeof(p->err)) < 0)
		return -1;
	o.fd = p->file.fd;
	encode(&o, st);
	free(o.p);
	/*
	 * Writeback started here, off the critical path: ext4 starts it itself
	 * when a file is renamed over another (auto_da_alloc), 10 ms for a
	 * million intervals, inside state_finish(). A hint: errors show later.
	 */
	sync_file_range(p->file.fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	if (o.err || fchmod(p->file.fd, 0600) != 0) {
		snprintf(p->err, sizeof(p->err), "%s: cannot write: %s", p->file.path,
			 strerror(o.err ? o.err : errno));
		return -1;
	}
	return 0;
}

int state_finish(struct state_pending *p, uint32_t genid, char *err, size_t errlen)
{
	uint32_t le = htole32(genid);

	if (p->file.fd < 0 || p->err[0]) {
		snprintf(err, errlen, "%s", p->err[0] ? p->err : "no state was prepared");
		state_discard(p);
		return -1;
	}
	if (pwrite(p->file.fd, &le, 4, GENID_OFFSET) != 4) {
		snprintf(err, errlen, "%s: cannot write: %s", p->file.path, strerror(errno));
		state_discard(p);
		return -1;
	}
	return pending_commit(&p->file, 0, err, errlen);
}

void state_discard(struct state_pending *p)
{
	pending_discard(&p->file);
	p->err[0] = '\0';
}

int state_write(const char *dir, const struct state *st, char *err, size_t errlen)
{
	struct state_pending p;

	if (state_prepare(dir, st, &p) < 0) {
		snprintf(err, errlen, "%s", p.err);
		state_discard(&p);
		return -1;
	}
	return state_finish(&p, st->genid, err, errlen);
}

struct in {
	const unsigned char *p;
	size_t left;
	bool bad;
};

static const unsigned char *take(struct in *in, size_t n)
{
	if (in->bad || n > in->left) {
		in->bad = true;
		return NULL;
	}
	const unsigned char *p = in->p;
	in->p += n;
	in->left -= n;
	return p;
}

static uint64_t get_u(struct in *in, int bytes)
{
	const unsigned char *b = take(in, (size_t)bytes);
	uint64_t v = 0;
	if (!b)
		return 0;
	for (int i = bytes - 1; i >= 0; i--)
		v = v << 8 | b[i];
	return v;
}

static char *get_str(struct in *in)
{
	size_t n = (size_t)get_u(in, 2);
	const unsigned char *b = take(in, n);
	if (!b || memchr(b, '\0', n))
		return in->bad = true, NULL;
	return xstrndup((const char *)b, n);
}

int state_decode(const unsigned char *buf, size_t len, struct state *st, char *err, size_t errlen)
{
	struct in in = { buf, len, false };
	const unsigned char *m;

	memset(st, 0, sizeof(*st));
	m = take(&in, sizeof(magic));
	if (!m || memcmp(m, magic, sizeof(magic)) != 0) {
		snprintf(err, errlen, "not a state file of this version");
		return -1;
	}
	st->genid = (uint32_t)get_u(&in, 4);
	st->netns = get_u(&in, 8);
	st->applied_at = (int64_t)get_u(&in, 8);
	st->table = get_str(&in);
	uint64_t ns = get_u(&in, 4);
	if (ns > STATE_MAX_SOURCES)
		in.bad = true;
	for (uint64_t i = 0; i < ns && !in.bad; i++) {
		char *s = get_str(&in);
		if (!s)
			break;
		st->sources = xreallocarray(st->sources, st->nsources + 1, sizeof(*st->sources));
		st->sources[st->nsources++] = s;
	}
	uint64_t nsets = get_u(&in, 4);
	if (nsets > STATE_MAX_SETS)
		in.bad = true;
	for (uint64_t i = 0; i < nsets && !in.bad; i++) {
		struct state_set s = { 0 };
		s.name = get_str(&in);
		uint64_t fam = get_u(&in, 1), n = get_u(&in, 8);
		size_t keylen = fam == FAM_V4 ? 4 : 16;
		if (!s.name || fam > FAM_V6 || n > in.left / (2 * keylen + 8)) {
			free(s.name);
			in.bad = true;
			break;
		}
		s.fam = (enum family)fam;
		/* Both blocks are there in full (n was checked against what is left). */
		const unsigned char *keys = take(&in, (size_t)n * 2 * keylen);
		const unsigned char *bits = take(&in, (size_t)n * 8);
		s.iv.v = xmalloc_big((n ? n : 1) * sizeof(*s.iv.v));
		s.iv.cap = n;
		s.sources = xmalloc_big((n ? n : 1) * sizeof(*s.sources));
		if (!keys || !bits)
			n = 0;
		u128 prev_hi = 0, max = fam_max(s.fam);
		bool bad = false;
		for (uint64_t k = 0; k < n; k++) {
			u128 lo = u128_from_be(keys + 2 * keylen * k, keylen);
			u128 hi = u128_from_be(keys + 2 * keylen * k + keylen, keylen);
			/* Sorted, disjoint, inside the family: anything else is damage. */
			bad |= lo > hi || (k && lo <= prev_hi) || hi > max;
			s.iv.v[k].lo = lo;
			s.iv.v[k].hi = hi;
			prev_hi = hi;
		}
		in.bad |= bad;
		s.iv.n = (size_t)n;
		for (uint64_t k = 0; k < n; k++) {
			uint64_t v;
			memcpy(&v, bits + 8 * k, 8);
			s.sources[k] = le64toh(v);
		}
		st->sets = xreallocarray(st->sets, st->nsets + 1, sizeof(*st->sets));
		st->sets[st->nsets++] = s;
	}
	m = take(&in, sizeof(trailer));
	if (in.bad || !m || memcmp(m, trailer, sizeof(trailer)) != 0 || in.left != 0 ||
	    !st->table) {
		snprintf(err, errlen, "damaged state file");
		state_free(st);
		return -1;
	}
	return 0;
}

/* The largest state file read: four times a million intervals' worth, and more. */
#define STATE_MAX_BYTES ((size_t)1 << 32)

int state_read(const char *dir, const char *table, struct state *st, char *err, size_t errlen)
{
	char *path = state_path(dir, table);
	struct mapfile mf;
	char why[256];
	int rc = -1, decoded;

	memset(st, 0, sizeof(*st));
	/*
	 * Mapped, not read: the page cache's pages as they are, instead of a
	 * copy in 14 MB of fresh memory for a million intervals. Should someone
	 * else cut the file short while it is decoded, it counts as unreadable
	 * (see mapfile.h), and the caller reads the kernel instead.
	 */
	switch (mapfile_read(&mf, path, STATE_MAX_BYTES, MAPFILE_REGULAR | MAPFILE_BINARY)) {
	case MAPFILE_OK:
		break;
	case MAPFILE_OPEN:
		rc = errno == ENOENT ? 1 : -1;
		if (rc < 0)
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	case MAPFILE_READ:
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		goto out;
	default:
		snprintf(err, errlen, "%s: not a regular state file", path);
		goto out;
	}
	if (mf.len == 0) {
		snprintf(err, errlen, "%s: empty", path);
		goto unmap;
	}
	decoded = state_decode((const unsigned char *)mf.data, mf.len, st, why, sizeof(why));
	if (mapfile_shrank(&mf)) {
		if (decoded == 0)
			state_free(st);
		decoded = -1;
		snprintf(why, sizeof(why), "file shrank while it was being read");
	}
	if (decoded < 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		goto unmap;
	}
	if (!streq(st->table, table)) {
		snprintf(err, errlen, "%s: written for table %s", path, st->table);
		state_free(st);
		goto unmap;
	}
	rc = 0;
unmap:
	mapfile_free(&mf);
out:
	free(path);
	return rc;
}

void state_free(struct state *st)
{
	free(st->table);
	for (size_t i = 0; i < st->nsources; i++)
		free(st->sources[i]);
	free(st->sources);
	for (size_t i = 0; i < st->nsets; i++) {
		free(st->sets[i].name);
		range_vec_free(&st->sets[i].iv);
		free(st->sets[i].sources);
	}
	free(st->sets);
	memset(st, 0, sizeof(*st));
}

const struct state_set *state_set_find(const struct state *st, const char *name)
{
	for (size_t i = 0; i < st->nsets; i++)
		if (streq(st->sets[i].name, name))
			return &st->sets[i];
	return NULL;
}

uint64_t netns_inode(void)
{
	struct stat sb;

	return stat("/proc/self/ns/net", &sb) == 0 ? (uint64_t)sb.st_ino : 0;
}
