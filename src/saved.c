#include "saved.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render.h"
#include "util.h"

char *saved_path(const char *dir, const char *table)
{
	return xasprintf("%s/%s.nft", dir, table);
}

int saved_prepare(const char *dir, const struct policy *pol, struct pending_file *p, char *err,
		  size_t errlen)
{
	static char buf[1 << 16];
	FILE *f;
	int fd2;

	if (pending_create(p, saved_path(dir, pol->table), err, errlen) < 0)
		return -1;
	fd2 = dup(p->fd);
	f = fd2 >= 0 ? fdopen(fd2, "w") : NULL;
	if (!f) {
		snprintf(err, errlen, "%s: cannot write: %s", p->path, strerror(errno));
		if (fd2 >= 0)
			close(fd2);
		pending_discard(p);
		return -1;
	}
	setvbuf(f, buf, _IOFBF, sizeof(buf));
	int rc = render_nft(f, pol);
	if (fclose(f) != 0 || rc < 0 || fchmod(p->fd, 0600) != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", p->path, strerror(errno ? errno : EIO));
		pending_discard(p);
		return -1;
	}
	/* Writeback starts now, while the kernel commits; saved_finish() waits for the rest. */
	sync_file_range(p->fd, 0, 0, SYNC_FILE_RANGE_WRITE);
	return 0;
}

/* Do the two files hold the same bytes? false also when either cannot be read. */
static bool same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	bool same = false;
	int fa = open(a, O_RDONLY | O_CLOEXEC), fb = open(b, O_RDONLY | O_CLOEXEC);

	if (fa < 0 || fb < 0 || fstat(fa, &sa) != 0 || fstat(fb, &sb) != 0 ||
	    !S_ISREG(sb.st_mode) || sa.st_size != sb.st_size)
		goto out;
	static char ba[1 << 16], bb[1 << 16];
	for (;;) {
		ssize_t na = read(fa, ba, sizeof(ba));
		if (na < 0)
			goto out;
		if (na == 0) {
			same = true;
			goto out;
		}
		ssize_t got = 0;
		while (got < na) {
			ssize_t nb = read(fb, bb + got, (size_t)(na - got));
			if (nb <= 0)
				goto out;
			got += nb;
		}
		if (memcmp(ba, bb, (size_t)na) != 0)
			goto out;
	}
out:
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return same;
}

int saved_finish(struct pending_file *p, bool unchanged, char *err, size_t errlen)
{
	if (p->fd < 0 || !p->tmp) {
		snprintf(err, errlen, "no saved ruleset was prepared");
		pending_discard(p);
		return -1;
	}
	if (unchanged && same_file(p->tmp, p->path)) {
		pending_discard(p);
		return 0;
	}
	/* Durable: this is the file a boot loads; a crash must leave the old one or the new. */
	return pending_commit(p, WRITE_DURABLE, err, errlen) < 0 ? -1 : 1;
}

/* --- reading back ------------------------------------------------------------ */

void saved_ruleset_free(struct saved_ruleset *s)
{
	free(s->table);
	for (size_t i = 0; i < s->nsets; i++) {
		free(s->sets[i].name);
		range_vec_free(&s->sets[i].iv);
	}
	free(s->sets);
	free(s->skeleton);
	memset(s, 0, sizeof(*s));
}

const struct saved_set *saved_set_find(const struct saved_ruleset *s, const char *name)
{
	for (size_t i = 0; i < s->nsets; i++)
		if (streq(s->sets[i].name, name))
			return &s->sets[i];
	return NULL;
}

static bool starts(const char *p, size_t n, const char *with)
{
	size_t k = strlen(with);
	return n >= k && memcmp(p, with, k) == 0;
}

static bool ends(const char *p, size_t n, const char *with)
{
	size_t k = strlen(with);
	return n >= k && memcmp(p + n - k, with, k) == 0;
}

/* The lines of the script, classified; the element lines parsed into their set. */
static int parse(const char *path, const char *buf, size_t len, struct saved_ruleset *out,
		 char *err, size_t errlen)
{
	FILE *sk;
	const char *p = buf, *end = buf + len;
	unsigned line = 0;
	struct saved_set *cur = NULL;
	bool in_elements = false;
	int rc = -1;

	sk = open_memstream(&out->skeleton, &out->skeleton_len);
	if (!sk) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		const char *next = nl ? nl + 1 : end;
		line++;
		if (!nl) {
			snprintf(err, errlen, "%s:%u: the last line has no newline: cut short?", path,
				 line);
			goto out;
		}
		if (in_elements) {
			if (n == 3 && memcmp(p, "\t\t}", 3) == 0) {
				in_elements = false;
				p = next;
				continue;
			}
			const char *s = p;
			size_t k = n;
			while (k && *s == '\t')
				s++, k--;
			if (k && s[k - 1] == ',')
				k--;
			struct prefix px;
			unsigned flags = 0;
			/* Most lines are IPv4: the word-wise reader first, on a copy ended by a newline. */
			char v4[PREFIX_V4_LINE_MAX + 8];
			bool scanned = false;
			if (cur->fam == FAM_V4 && k && k < PREFIX_V4_LINE_MAX) {
				memcpy(v4, s, k);
				v4[k] = '\n';
				scanned = prefix_scan_v4_line(v4, &px, &flags) == k;
			}
			if (k == 0 || (!scanned && prefix_parse(s, k, &px, &flags) != PARSE_OK) ||
			    (flags & (PARSE_HOSTBITS | PARSE_MAPPED)) || px.family != cur->fam) {
				snprintf(err, errlen, "%s:%u: not an element of set %s", path, line,
					 cur->name);
				goto out;
			}
			range_vec_push(&cur->iv, px.addr, prefix_last(&px));
			p = next;
			continue;
		}
		if (n && p[0] == '#') {
			p = next;
			continue;
		}
		/* Names of at least one byte: "\tset {" is no set, and would be a length of -1. */
		if (n > 13 && starts(p, n, "table inet ") && ends(p, n, " {")) {
			char *t = xstrndup(p + 11, n - 13);
			if (out->table && !streq(out->table, t)) {
				snprintf(err, errlen, "%s:%u: a second table", path, line);
				free(t);
				goto out;
			}
			free(out->table);
			out->table = t;
		} else if (n > 7 && starts(p, n, "\tset ") && ends(p, n, " {")) {
			out->sets = xreallocarray(out->sets, out->nsets + 1, sizeof(*out->sets));
			cur = &out->sets[out->nsets++];
			memset(cur, 0, sizeof(*cur));
			cur->name = xstrndup(p + 5, n - 7);
			cur->fam = (enum family)-1;
		} else if (cur && n == 16 && (memcmp(p, "\t\ttype ipv4_addr", 16) == 0 ||
					      memcmp(p, "\t\ttype ipv6_addr", 16) == 0)) {
			/* Once, before the elements: they were read as addresses of that family. */
			if (cur->fam == FAM_V4 || cur->fam == FAM_V6) {
				snprintf(err, errlen, "%s:%u: set %s: a second type", path, line,
					 cur->name);
				goto out;
			}
			cur->fam = p[10] == '4' ? FAM_V4 : FAM_V6;
		} else if (n == 14 && memcmp(p, "\t\telements = {", 14) == 0) {
			if (!cur || (cur->fam != FAM_V4 && cur->fam != FAM_V6)) {
				snprintf(err, errlen, "%s:%u: elements outside an address set", path,
					 line);
				goto out;
			}
			in_elements = true;
			p = next;
			continue;
		} else if (starts(p, n, "\tchain ")) {
			cur = NULL;
		}
		fwrite(p, 1, (size_t)(next - p), sk);
		p = next;
	}
	if (in_elements || !out->table) {
		snprintf(err, errlen, "%s: %s", path,
			 in_elements ? "cut short inside a set's elements" : "no table in it");
		goto out;
	}
	rc = 0;
out:
	if (fclose(sk) != 0 && rc == 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	}
	return rc;
}

int saved_read(const char *path, struct saved_ruleset *out, char *err, size_t errlen)
{
	struct stat sb;
	int fd, rc = -1;

	memset(out, 0, sizeof(*out));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size == 0) {
		snprintf(err, errlen, "%s: %s", path,
			 S_ISREG(sb.st_mode) ? "empty" : "not a regular file");
		close(fd);
		return -1;
	}
	/*
	 * Read, not mapped: it is renamed into place, never rewritten, but a
	 * file someone cut short under a mapping would end this process.
	 */
	size_t len = (size_t)sb.st_size;
	char *buf = xmalloc_big(len + 1);
	size_t got = read_all(fd, buf, len, 0);
	close(fd);
	if (got != len) {
		snprintf(err, errlen, "%s: file shrank while it was being read", path);
		goto out;
	}
	rc = saved_parse(path, buf, len, out, err, errlen);
out:
	free(buf);
	return rc;
}

int saved_parse(const char *name, const char *buf, size_t len, struct saved_ruleset *out,
		char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (parse(name, buf, len, out, err, errlen) < 0) {
		saved_ruleset_free(out);
		return -1;
	}
	return 0;
}

char *saved_skeleton(const struct policy *pol, size_t *len)
{
	struct policy bare = *pol;
	char *text = NULL, *skel;
	size_t n = 0, o = 0;
	FILE *f;

	/* The same policy with every set empty: render_nft() then writes no elements. */
	bare.services = xcalloc(pol->nservices ? pol->nservices : 1, sizeof(*bare.services));
	for (size_t i = 0; i < pol->nservices; i++) {
		bare.services[i] = pol->services[i];
		memset(bare.services[i].set, 0, sizeof(bare.services[i].set));
	}
	f = open_memstream(&text, &n);
	if (!f)
		abort();
	render_nft(f, &bare);
	fclose(f);
	free(bare.services);
	/* Without the header: its counts and versions are the sources', not the structure. */
	skel = xmalloc(n + 1);
	for (const char *p = text, *end = text + n; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *next = nl ? nl + 1 : end;
		if (*p != '#') {
			memcpy(skel + o, p, (size_t)(next - p));
			o += (size_t)(next - p);
		}
		p = next;
	}
	skel[o] = '\0';
	free(text);
	*len = o;
	return skel;
}

/* The next run of touching ranges of v from *i: [*lo, *hi]. */
static bool next_run(const struct range *v, size_t n, size_t *i, u128 *lo, u128 *hi)
{
	if (*i >= n)
		return false;
	*lo = v[*i].lo;
	*hi = v[*i].hi;
	for ((*i)++; *i < n && *hi != ~(u128)0 && v[*i].lo == *hi + 1; (*i)++)
		*hi = v[*i].hi;
	return true;
}

bool ranges_same_addresses(const struct range *a, size_t na, const struct range *b, size_t nb)
{
	size_t i = 0, j = 0;
	u128 alo, ahi, blo, bhi;

	for (;;) {
		bool ga = next_run(a, na, &i, &alo, &ahi), gb = next_run(b, nb, &j, &blo, &bhi);
		if (!ga || !gb)
			return ga == gb;
		if (alo != blo || ahi != bhi)
			return false;
	}
}

int state_restamp(const char *dir, const struct state *old, const struct restamp_set *sets,
		  size_t nsets, uint32_t genid, char *err, size_t errlen)
{
	struct state st = *old;
	int rc;

	st.genid = genid;
	st.netns = netns_inode();
	st.sets = xcalloc(old->nsets ? old->nsets : 1, sizeof(*st.sets));
	uint64_t **bits = xcalloc(old->nsets ? old->nsets : 1, sizeof(*bits));
	for (size_t i = 0; i < old->nsets; i++) {
		const struct state_set *o = &old->sets[i];
		const struct restamp_set *r = NULL;
		st.sets[i] = *o;
		for (size_t k = 0; k < nsets && !r; k++)
			if (streq(sets[k].name, o->name) && sets[k].iv)
				r = &sets[k];
		if (!r)
			continue;
		st.sets[i].iv = (struct range_vec){ (struct range *)r->iv, r->n, r->n };
		bits[i] = xcalloc(r->n ? r->n : 1, sizeof(**bits));
		/* Each range lies inside one of old's intervals (the same addresses, merged). */
		size_t j = 0;
		for (size_t k = 0; k < r->n; k++) {
			while (j < o->iv.n && o->iv.v[j].hi < r->iv[k].lo)
				j++;
			if (j < o->iv.n && o->sources)
				bits[i][k] = o->sources[j];
		}
		st.sets[i].sources = bits[i];
	}
	rc = state_write(dir, &st, err, errlen);
	for (size_t i = 0; i < old->nsets; i++)
		free(bits[i]);
	free(bits);
	free(st.sets);
	return rc;
}
