#include "fuzz.h"

#include <dirent.h>
#include <jansson.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diag.h"
#include "diffview.h"
#include "modelfile.h"
#include "render.h"

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "\n==fuzz== %s:%d: invariant broken: %s\n==fuzz== ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	abort();
}

static char dir[4096];
static pid_t dir_owner;

static void dir_remove(void)
{
	DIR *d;
	struct dirent *e;
	char p[sizeof(dir) + 256];

	/* A child of fork() inherits the handler; only the creator cleans up. */
	if (!dir[0] || getpid() != dir_owner)
		return;
	d = opendir(dir);
	if (d) {
		while ((e = readdir(d))) {
			if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
		closedir(d);
	}
	rmdir(dir);
}

const char *fuzz_dir(void)
{
	const char *base = getenv("TMPDIR");

	if (dir[0])
		return dir;
	if (!base || !*base)
		base = access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp";
	snprintf(dir, sizeof(dir), "%s/mxfence-fuzz.XXXXXX", base);
	if (!mkdtemp(dir)) {
		fprintf(stderr, "fuzz: cannot create %s: %s\n", dir, strerror(errno));
		abort();
	}
	dir_owner = getpid();
	atexit(dir_remove);
	return dir;
}

struct named_path {
	char *name;
	char *path;
};
static struct named_path *paths;
static size_t npaths;

const char *fuzz_path(const char *name)
{
	for (size_t i = 0; i < npaths; i++)
		if (strcmp(paths[i].name, name) == 0)
			return paths[i].path;
	paths = realloc(paths, (npaths + 1) * sizeof(*paths));
	if (!paths)
		abort();
	paths[npaths].name = strdup(name);
	if (asprintf(&paths[npaths].path, "%s/%s", fuzz_dir(), name) < 0 || !paths[npaths].name)
		abort();
	return paths[npaths++].path;
}

void fuzz_write(const char *path, const void *data, size_t size)
{
	const char *p = data;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0) {
		fprintf(stderr, "fuzz: cannot write %s: %s\n", path, strerror(errno));
		abort();
	}
	while (size) {
		ssize_t w = write(fd, p, size);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fprintf(stderr, "fuzz: cannot write %s: %s\n", path, strerror(errno));
			abort();
		}
		p += w;
		size -= (size_t)w;
	}
	close(fd);
}

void fuzz_write_str(const char *path, const char *text)
{
	fuzz_write(path, text, strlen(text));
}

char *fuzz_read(const char *path, size_t *size)
{
	FILE *f = fopen(path, "re");
	char *buf = NULL;
	size_t len = 0, cap = 0, got;

	if (!f)
		return NULL;
	do {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		got = fread(buf + len, 1, cap - len - 1, f);
		len += got;
	} while (got > 0);
	fclose(f);
	buf[len] = '\0';
	*size = len;
	return buf;
}

FILE *fuzz_null(void)
{
	static FILE *f;

	if (!f) {
		f = fopen("/dev/null", "we");
		if (!f)
			abort();
	}
	return f;
}

void fuzz_policy_fixed(struct policy *pol, const char *path)
{
	struct diag d = { 0 };

	if (policy_load(pol, path, NULL, &d) < 0 || policy_compile(pol, &d) < 0 ||
	    policy_empty_services(pol, &d) < 0) {
		diag_print(&d, stderr);
		fprintf(stderr, "fuzz: the harness's own policy %s does not compile\n", path);
		abort();
	}
	diag_free(&d);
}

const char *fuzz_hex(u128 v, char buf[36])
{
	snprintf(buf, 36, "0x%016llx%016llx", (unsigned long long)(v >> 64),
		 (unsigned long long)v);
	return buf;
}

void fuzz_check_ranges(const struct range *v, size_t n, enum family f, bool adjacent,
		       const char *what)
{
	char a[36], b[36];

	for (size_t i = 0; i < n; i++) {
		FUZZ_CHECK(v[i].lo <= v[i].hi && v[i].hi <= fam_max(f),
			   "%s: range %zu [%s, %s] runs backwards or leaves %s", what, i,
			   fuzz_hex(v[i].lo, a), fuzz_hex(v[i].hi, b), fam_name(f));
		if (!i)
			continue;
		FUZZ_CHECK(v[i - 1].hi < v[i].lo && (adjacent || v[i - 1].hi + 1 < v[i].lo),
			   "%s: range %zu starts at %s, the one before ends at %s", what, i,
			   fuzz_hex(v[i].lo, a), fuzz_hex(v[i - 1].hi, b));
	}
}

void fuzz_check_iset(const struct interval_set *s, const char *what)
{
	unsigned bits = fam_bits(s->fam);
	size_t next = 0;
	u128 total = 0;
	char a[36], b[36];

	FUZZ_CHECK(s->n <= s->in.n, "%s: %zu intervals from %zu prefixes", what, s->n, s->in.n);
	for (size_t i = 0; i < s->n; i++) {
		const struct interval *iv = &s->iv[i];
		u128 hi = 0;

		FUZZ_CHECK(iv->lo <= iv->hi && iv->hi <= fam_max(s->fam),
			   "%s: interval %zu [%s, %s]", what, i, fuzz_hex(iv->lo, a),
			   fuzz_hex(iv->hi, b));
		if (i)
			FUZZ_CHECK(s->iv[i - 1].hi + 1 < iv->lo,
				   "%s: interval %zu at %s touches the one before (ends %s)", what, i,
				   fuzz_hex(iv->lo, a), fuzz_hex(s->iv[i - 1].hi, b));
		FUZZ_CHECK(iv->first == next && iv->count > 0 && (size_t)iv->first + iv->count <= s->in.n,
			   "%s: interval %zu holds inputs [%zu, +%zu), expected from %zu", what, i,
			   (size_t)iv->first, (size_t)iv->count, next);
		next = (size_t)iv->first + iv->count;
		for (size_t j = iv->first; j < next; j++) {
			const struct input_prefix *p = &s->in.v[j];
			u128 last = input_last(p, s->fam);
			FUZZ_CHECK(p->plen <= bits && !(p->lo & host_mask(bits, p->plen)) &&
					   p->lo <= fam_max(s->fam),
				   "%s: input %zu %s/%u is not a prefix", what, j, fuzz_hex(p->lo, a),
				   p->plen);
			FUZZ_CHECK(j == 0 || s->in.v[j - 1].lo <= p->lo, "%s: input %zu out of order",
				   what, j);
			FUZZ_CHECK(iv->lo <= p->lo && last <= iv->hi,
				   "%s: input %zu %s/%u lies outside its interval %zu", what, j,
				   fuzz_hex(p->lo, a), p->plen, i);
			if (last > hi)
				hi = last;
		}
		FUZZ_CHECK(s->in.v[iv->first].lo == iv->lo && hi == iv->hi,
			   "%s: interval %zu is not the union of its inputs", what, i);

		FUZZ_CHECK(interval_set_lookup(s, iv->lo) == iv && interval_set_lookup(s, iv->hi) == iv,
			   "%s: lookup misses interval %zu", what, i);
		if (iv->lo > 0)
			FUZZ_CHECK(!interval_set_lookup(s, iv->lo - 1), "%s: lookup before interval %zu",
				   what, i);
		if (iv->hi < fam_max(s->fam))
			FUZZ_CHECK(!interval_set_lookup(s, iv->hi + 1), "%s: lookup after interval %zu",
				   what, i);

		u128 k = range_size(iv->lo, iv->hi);
		total = total + k < total ? ~(u128)0 : total + k;
	}
	FUZZ_CHECK(next == s->in.n, "%s: intervals hold %zu of %zu inputs", what, next, s->in.n);
	FUZZ_CHECK(interval_set_addresses(s) == total, "%s: interval_set_addresses disagrees", what);
}

void fuzz_check_views(const struct set_list *sv)
{
	for (size_t i = 0; i < sv->n; i++) {
		const struct set_content *v = &sv->v[i];
		FUZZ_CHECK(v->fam == FAM_V4 || v->fam == FAM_V6, "view %zu: family %d", i, v->fam);
		FUZZ_CHECK(memchr(v->name, '\0', sizeof(v->name)) != NULL, "view %zu: name", i);
		FUZZ_CHECK(v->iv.n <= v->iv.cap || (v->iv.n == 0), "view %zu: %zu of %zu", i, v->iv.n,
			   v->iv.cap);
		fuzz_check_ranges(v->iv.v, v->iv.n, v->fam, true, v->name);
	}
}

/* Every member the model promises is there: jansson drops a string that is not UTF-8. */
static void check_model_members(const json_t *root, const struct policy *pol)
{
	static const char *const src_keys[] = { "name", "format", "file", "version", "prefixes" };
	static const char *const in_keys[] = { "source", "prefix", "where" };
	const json_t *sources = json_object_get(root, "sources"),
		     *services = json_object_get(root, "services");

	FUZZ_CHECK(json_array_size(sources) == pol->nsources &&
			   json_array_size(services) == pol->nservices,
		   "the model has %zu sources and %zu services, the policy %zu and %zu",
		   json_array_size(sources), json_array_size(services), pol->nsources,
		   pol->nservices);
	for (size_t i = 0; i < pol->nsources; i++)
		for (size_t k = 0; k < sizeof(src_keys) / sizeof(src_keys[0]); k++)
			FUZZ_CHECK(json_object_get(json_array_get(sources, i), src_keys[k]),
				   "the model's source %s has no \"%s\"", pol->sources[i].name,
				   src_keys[k]);
	for (size_t i = 0; i < pol->nservices; i++) {
		const json_t *fams = json_object_get(json_array_get(services, i), "families");
		for (int f = 0; f < FAM_COUNT; f++) {
			const json_t *ivs = json_object_get(json_object_get(fams, fam_name((enum family)f)),
							    "intervals");
			for (size_t k = 0; k < json_array_size(ivs); k++) {
				const json_t *ins = json_object_get(json_array_get(ivs, k), "sources");
				for (size_t j = 0; j < json_array_size(ins); j++)
					for (size_t m = 0; m < sizeof(in_keys) / sizeof(in_keys[0]); m++)
						FUZZ_CHECK(json_is_string(json_object_get(
								   json_array_get(ins, j), in_keys[m])),
							   "service %s %s interval %zu input %zu has no \"%s\"",
							   pol->services[i].name, fam_name((enum family)f), k,
							   j, in_keys[m]);
			}
		}
	}
}

/* build --json, read back by diff --against: the same sets, nothing to change. */
void fuzz_check_model(const struct policy *pol)
{
	struct set_list file, want;
	struct diff_totals t;
	struct diag d = { 0 };
	json_error_t jerr;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	FUZZ_CHECK(f != NULL, "open_memstream");
	FUZZ_CHECK(render_json(f, pol) == 0, "render_json failed");
	fclose(f);
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	FUZZ_CHECK(root != NULL, "the JSON model does not parse: %s (line %d)", jerr.text,
		   jerr.line);
	check_model_members(root, pol);
	json_decref(root);
	fuzz_write(fuzz_path("model.json"), text, len);
	free(text);

	if (modelfile_read(fuzz_path("model.json"), &file, &d) < 0) {
		diag_print(&d, stderr);
		FUZZ_CHECK(false, "the JSON model does not read back");
	}
	diag_free(&d);
	wanted_sets_from_policy(pol, &want);
	fuzz_check_views(&file);
	fuzz_check_views(&want);
	FUZZ_CHECK(file.n == want.n, "%zu sets read back, %zu compiled", file.n, want.n);
	for (size_t i = 0; i < want.n; i++) {
		const struct set_content *w = &want.v[i], *r = set_list_find(&file, w->name);
		FUZZ_CHECK(r && r->fam == w->fam && r->iv.n == w->iv.n &&
				   (!w->iv.n || memcmp(r->iv.v, w->iv.v, w->iv.n * sizeof(*w->iv.v)) == 0),
			   "set %s reads back different", w->name);
	}
	diff_count(&file, &want, &t);
	FUZZ_CHECK(!t.changed && !t.prefixes_added && !t.prefixes_removed,
		   "diff against its own model: %zu added, %zu removed", t.prefixes_added,
		   t.prefixes_removed);
	diff_print(fuzz_null(), pol, &file, &want, NULL, false, &t);
	set_list_free(&file);
	set_list_free(&want);
	unlink(fuzz_path("model.json"));
}
