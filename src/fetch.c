/*
 * Fetching sources into the cache. A download lands in <name>.download, is
 * parsed with the source's format and filters and checked against the last
 * good copy (not empty, not HTML, version not backwards, not shrunk by more
 * than max-shrink), and only then renamed to <name>.feed with its metadata.
 * A refused download is kept as <name>.rejected for people to look at.
 */
#include "fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "feed.h"
#include "http.h"
#include "spf.h"
#include "util.h"

#define M365_VERSION_MAX (64u << 10)
#define SNIFF_BYTES 512

struct job {
	struct policy *pol;
	uint32_t index;
	struct source *src;
	const struct fetch_options *o;
	char *meta_path, *download_path, *rejected_path;
	struct cache_meta old; /* of the last good copy, when old_valid */
	bool old_valid;
	struct cache_meta new;
	struct fetch_result *res;
	char where[NAME_MAX_LEN + 16]; /* "mxfence fetch: NAME", for warnings */
	bool refused; /* the download arrived but failed validation: keep it for people */
};

static void fail(struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct job *j, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(j->res->why, sizeof(j->res->why), fmt, ap);
	va_end(ap);
}

static int open_download(const char *path)
{
	return open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

/* The last good copy and its metadata, if they still belong together. */
static void read_last_good(struct job *j)
{
	char err[512], sha[65];
	int rc;

	rc = cache_meta_read(j->meta_path, &j->old, err, sizeof(err));
	if (rc < 0)
		diag_warn(&j->res->diag, j->where, "ignoring %s: %s", j->meta_path, err);
	if (rc != 0)
		return;
	if (sha256_file(j->src->path, sha, err, sizeof(err)) == 0 && streq(sha, j->old.sha256))
		j->old_valid = true;
	else
		cache_meta_free(&j->old);
}

static const char *instance_name(const char *conf)
{
	static const char *const names[] = { "Worldwide", "USGovDoD", "USGovGCCHigh", "China" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(conf, names[i]))
			return names[i];
	return NULL;
}

/*
 * The client request id Microsoft asks callers to send: made once, kept in
 * the state folder. If it cannot be kept, this run uses a fresh one.
 */
static void m365_client_id(const char *state_dir, char id[37], struct diag *d)
{
	char *path = xasprintf("%s/m365-clientrequestid", state_dir);
	unsigned char r[16];
	FILE *f;

	f = fopen(path, "re");
	if (f) {
		bool ok = fgets(id, 37, f) && strlen(id) == 36 && strspn(id, "0123456789abcdef-") == 36;
		fclose(f);
		if (ok)
			goto out;
	}
	if (getrandom(r, sizeof(r), 0) != sizeof(r)) {
		for (size_t i = 0; i < sizeof(r); i++)
			r[i] = (unsigned char)rand();
	}
	r[6] = (r[6] & 0x0f) | 0x40; /* version 4 */
	r[8] = (r[8] & 0x3f) | 0x80; /* variant 1 */
	snprintf(id, 37,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1],
		 r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14],
		 r[15]);
	mkdir_p(state_dir, 0700);
	f = fopen(path, "we");
	if (!f || fprintf(f, "%s\n", id) < 0 || fclose(f) != 0)
		diag_warn(d, "mxfence fetch", "cannot keep the Microsoft 365 client request id in %s: "
			  "%s; using a new one for this run", path, strerror(errno));
out:
	free(path);
}

static void fill_request(const struct job *j, struct http_request *rq, const char *url)
{
	const struct source *src = j->src;

	memset(rq, 0, sizeof(*rq));
	rq->url = url;
	rq->ca_file = src->ca_file;
	rq->allow_http = src->insecure_http;
	rq->max_size = src->max_size;
	rq->connect_timeout = src->connect_timeout;
	rq->timeout = src->timeout;
	rq->retries = src->retries;
	rq->label = src->name;
	rq->progress = j->o->progress;
}

static void http_failed(struct job *j, const char *url, const struct http_response *rs)
{
	if (rs->tries > 1)
		fail(j, "%s: %s (%u tries)", url, rs->err, rs->tries);
	else
		fail(j, "%s: %s", url, rs->err);
}

/* Microsoft 365's version service: the latest version of the instance, as a number. */
static int m365_latest(struct job *j, const char *base, const char *instance, const char *id,
		       uint64_t *latest)
{
	char *url = xasprintf("%s/version/%s?clientrequestid=%s", base, instance, id);
	struct http_request rq;
	struct http_response rs;
	json_error_t jerr;
	json_t *root = NULL, *v;
	char buf[M365_VERSION_MAX + 1];
	ssize_t len;
	int fd, rc = -1;

	fd = memfd_create("m365-version", MFD_CLOEXEC);
	if (fd < 0) {
		fail(j, "cannot make a buffer: %s", strerror(errno));
		goto out;
	}
	fill_request(j, &rq, url);
	rq.max_size = M365_VERSION_MAX;
	if (http_get(&rq, fd, &rs) < 0) {
		http_failed(j, url, &rs);
		http_response_free(&rs);
		goto out;
	}
	http_response_free(&rs);
	len = pread(fd, buf, M365_VERSION_MAX, 0);
	if (len < 0)
		len = 0;
	buf[len] = '\0';
	root = json_loadb(buf, (size_t)len, JSON_REJECT_DUPLICATES, &jerr);
	v = root ? json_object_get(root, "latest") : NULL;
	const char *s = json_is_string(v) ? json_string_value(v) : "";
	char *end;
	errno = 0;
	*latest = strtoull(s, &end, 10);
	if (!root || !*s || *end || errno || s[0] < '0' || s[0] > '9') {
		fail(j, "%s: not a version answer (expected {\"latest\": \"YYYYMMDDNN\"}%s%s)", url,
		     root ? "" : ": ", root ? "" : jerr.text);
		goto out;
	}
	rc = 0;
out:
	json_decref(root);
	if (fd >= 0)
		close(fd);
	free(url);
	return rc;
}

/* Starts like an HTML page: a provider's error page served with status 200. */
static bool looks_like_html(int fd)
{
	char buf[SNIFF_BYTES + 1];
	ssize_t n = pread(fd, buf, SNIFF_BYTES, 0);
	const char *p = buf;

	if (n <= 0)
		return false;
	buf[n] = '\0';
	if (n >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	p += strspn(p, " \t\r\n");
	return !strncasecmp(p, "<!doctype html", 14) || !strncasecmp(p, "<html", 5) ||
	       !strncasecmp(p, "<head", 5) || !strncasecmp(p, "<body", 5) ||
	       !strncasecmp(p, "<?xml", 5);
}

/*
 * Parse the download with the source's format and filters and compare it
 * with the last good copy. Fills j->new's counts and version.
 */
static int validate(struct job *j, int fd, const char *display)
{
	struct source *src = j->src;
	struct diag d = { 0 };
	struct stat st;
	char *saved_path = src->path;
	size_t errors;

	if (fstat(fd, &st) == 0 && st.st_size == 0) {
		fail(j, "%s: the download is empty", display);
		return -1;
	}
	if (looks_like_html(fd)) {
		fail(j, "%s: an HTML page, not a feed of format %s", display, src->fmt->name);
		return -1;
	}
	src->path = (char *)display; /* messages name what was downloaded */
	feed_load_from(j->pol, j->index, j->download_path, &d);
	src->path = saved_path;
	errors = d.errors;
	diag_merge(&j->res->diag, &d);
	if (errors) {
		fail(j, "%s: %zu error%s as format %s (above)", display, errors,
		     errors == 1 ? "" : "s", src->fmt->name);
		return -1;
	}
	j->new.prefixes = src->pfx[FAM_V4].n + src->pfx[FAM_V6].n;
	if (src->has_serial) {
		j->new.serial = src->serial;
		j->new.has_serial = true;
	}
	if (src->version)
		j->new.version = xstrdup(src->version);
	for (int f = 0; f < FAM_COUNT; f++)
		input_vec_free(&src->pfx[f]);

	if (j->old_valid && j->old.has_serial && j->new.has_serial &&
	    j->new.serial < j->old.serial && !j->o->force) {
		fail(j, "%s: the feed's version went backwards (%llu, the last good copy has %llu); "
			"--force accepts it", display, (unsigned long long)j->new.serial,
		     (unsigned long long)j->old.serial);
		return -1;
	}
	if (j->old_valid && j->old.prefixes && !j->o->force &&
	    (double)j->new.prefixes < (double)j->old.prefixes * (1.0 - src->max_shrink / 100.0)) {
		fail(j, "%s: %llu prefixes, %.1f%% fewer than the last good copy's %llu (max-shrink "
			"%g%%); --force accepts it", display, (unsigned long long)j->new.prefixes,
		     100.0 - 100.0 * (double)j->new.prefixes / (double)j->old.prefixes,
		     (unsigned long long)j->old.prefixes, src->max_shrink);
		return -1;
	}
	return 0;
}

static void fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
}

/* The download becomes the last good copy. */
static int promote(struct job *j, int fd)
{
	char err[512];

	if (fsync(fd) < 0 || rename(j->download_path, j->src->path) < 0) {
		fail(j, "cannot put the copy in place at %s: %s", j->src->path, strerror(errno));
		return -1;
	}
	if (cache_meta_write(j->meta_path, &j->new, err, sizeof(err)) < 0) {
		fail(j, "%s", err);
		return -1;
	}
	fsync_dir(j->pol->cache_dir);
	return 0;
}

/* Nothing new: the last good copy stays, and is now known to be current. */
static enum fetch_outcome confirm(struct job *j)
{
	char err[512];

	unlink(j->download_path);
	j->old.checked = (int64_t)time(NULL);
	if (j->new.etag) {
		free(j->old.etag);
		j->old.etag = j->new.etag;
		j->new.etag = NULL;
	}
	if (j->new.last_modified) {
		free(j->old.last_modified);
		j->old.last_modified = j->new.last_modified;
		j->new.last_modified = NULL;
	}
	if (cache_meta_write(j->meta_path, &j->old, err, sizeof(err)) < 0)
		diag_warn(&j->res->diag, j->where, "%s", err);
	return FETCH_UNCHANGED;
}

static int fetch_http(struct job *j, int fd, const char *url, bool conditional)
{
	struct http_request rq;
	struct http_response rs;

	fill_request(j, &rq, url);
	if (conditional && j->old_valid && j->old.url && streq(j->old.url, url)) {
		rq.etag = j->old.etag;
		rq.last_modified = j->old.last_modified;
	}
	if (http_get(&rq, fd, &rs) < 0) {
		http_failed(j, url, &rs);
		http_response_free(&rs);
		return -1;
	}
	j->new.etag = rs.etag;
	j->new.last_modified = rs.last_modified;
	j->new.size = rs.size;
	if (rs.not_modified) {
		snprintf(j->res->how, sizeof(j->res->how), "not modified (HTTP 304)");
		return 1;
	}
	return 0;
}

static int fetch_m365(struct job *j, int fd)
{
	const char *conf = NULL, *instance;
	char id[37], *base, *url;
	uint64_t latest;
	int rc = -1;

	for (size_t i = 0; i < j->src->nopts; i++)
		if (streq(j->src->opts[i].key, "instance"))
			conf = j->src->opts[i].value;
	instance = instance_name(conf ? conf : "worldwide");
	if (!instance) {
		fail(j, "unknown instance (expected worldwide, usgovdod, usgovgcchigh or china) '%s'",
		     conf);
		return -1;
	}
	base = xstrndup(j->src->url, strlen(j->src->url) - (j->src->url[strlen(j->src->url) - 1] == '/'));
	m365_client_id(j->o->state_dir, id, &j->res->diag);
	if (m365_latest(j, base, instance, id, &latest) < 0)
		goto out;
	if (j->old_valid && j->old.has_serial && latest == j->old.serial) {
		snprintf(j->res->how, sizeof(j->res->how), "unchanged (version %llu)",
			 (unsigned long long)latest);
		rc = 1;
		goto out;
	}
	if (j->old_valid && j->old.has_serial && latest < j->old.serial && !j->o->force) {
		fail(j, "%s/version/%s: the version went backwards (%llu, the last good copy has "
			"%llu); --force accepts it", base, instance, (unsigned long long)latest,
		     (unsigned long long)j->old.serial);
		goto out;
	}
	url = xasprintf("%s/endpoints/%s?clientrequestid=%s", base, instance, id);
	rc = fetch_http(j, fd, url, false);
	free(url);
	/* The endpoints list has no version of its own: the version service's is it. */
	j->src->has_serial = true;
	j->src->serial = latest;
out:
	free(base);
	return rc;
}

static int fetch_spf(struct job *j, int fd)
{
	struct spf_opts so;
	struct diag d = { 0 };
	const char *domain = NULL;
	char where[300];
	struct stat st;
	FILE *out;
	int rc;

	if (spf_source_opts(j->src, j->pol->path, &domain, &so, &d) < 0) {
		diag_merge(&j->res->diag, &d);
		fail(j, "the source's spf keys are wrong (above)");
		return -1;
	}
	if (j->src->timeout_set)
		so.timeout_ms = j->src->timeout * 1000;
	out = fdopen(dup(fd), "w");
	if (!out) {
		fail(j, "cannot write the flattened record: %s", strerror(errno));
		diag_merge(&j->res->diag, &d);
		return -1;
	}
	snprintf(where, sizeof(where), "%s: spf %s", j->src->name, domain);
	rc = spf_flatten(domain, &so, out, &d, where);
	if (fclose(out) != 0 && rc == 0) {
		fail(j, "cannot write the flattened record: %s", strerror(errno));
		rc = -1;
	}
	if (rc < 0 && !j->res->why[0])
		fail(j, "spf %s: %zu error%s while flattening (above)", domain, d.errors,
		     d.errors == 1 ? "" : "s");
	diag_merge(&j->res->diag, &d);
	if (rc == 0 && fstat(fd, &st) == 0)
		j->new.size = (uint64_t)st.st_size;
	return rc < 0 ? -1 : 0;
}

/* Fetch one source into res (its diag to be freed by the caller). */
static void fetch_one(struct policy *pol, uint32_t index, const struct fetch_options *o,
		      struct fetch_result *res)
{
	struct source *src = &pol->sources[index];
	struct job j = { .pol = pol, .index = index, .src = src, .o = o, .res = res };
	char display[600], sha[65], err[512];
	int fd, rc;

	memset(res, 0, sizeof(*res));
	res->src = src;
	res->outcome = FETCH_UPDATED;
	snprintf(j.where, sizeof(j.where), "mxfence fetch: %s", src->name);
	j.meta_path = source_cache_path(pol, src, ".meta");
	j.download_path = source_cache_path(pol, src, ".download");
	j.rejected_path = source_cache_path(pol, src, ".rejected");
	read_last_good(&j);
	if (src->url)
		snprintf(display, sizeof(display), "%s", src->url);
	else
		snprintf(display, sizeof(display), "%s (flattened)", src->name);

	fd = open_download(j.download_path);
	if (fd < 0) {
		fail(&j, "cannot write %s: %s", j.download_path, strerror(errno));
		goto failed;
	}
	if (src->fmt->fetch)
		rc = fetch_spf(&j, fd);
	else if (streq(src->fmt->name, "m365"))
		rc = fetch_m365(&j, fd);
	else
		rc = fetch_http(&j, fd, src->url, true);
	if (rc < 0)
		goto failed;
	if (rc > 0) {
		res->outcome = confirm(&j);
		goto end;
	}
	j.refused = true;
	if (validate(&j, fd, display) < 0)
		goto failed;
	if (sha256_file(j.download_path, sha, err, sizeof(err)) < 0) {
		fail(&j, "%s: %s", j.download_path, err);
		goto failed;
	}
	if (j.old_valid && streq(sha, j.old.sha256)) {
		snprintf(res->how, sizeof(res->how), "unchanged (the same %llu bytes)",
			 (unsigned long long)j.new.size);
		if (j.new.has_serial) {
			j.old.serial = j.new.serial;
			j.old.has_serial = true;
		}
		res->outcome = confirm(&j);
		goto end;
	}
	memcpy(j.new.sha256, sha, sizeof(sha));
	j.new.url = xstrdup(src->url ? src->url : "");
	j.new.fetched = j.new.checked = (int64_t)time(NULL);
	j.refused = false;
	if (promote(&j, fd) < 0)
		goto failed;
	snprintf(res->how, sizeof(res->how), "updated: %llu prefixes, %llu bytes%s%s",
		 (unsigned long long)j.new.prefixes, (unsigned long long)j.new.size,
		 j.new.version ? "; " : "", j.new.version ? j.new.version : "");
	goto end;

failed:
	if (fd >= 0 && j.refused && rename(j.download_path, j.rejected_path) == 0) {
		size_t len = strlen(res->why);
		snprintf(res->why + len, sizeof(res->why) - len, " (kept as %s)", j.rejected_path);
	} else {
		unlink(j.download_path);
	}
	if (j.old_valid) {
		res->outcome = FETCH_KEPT;
		res->last_good = j.old.fetched;
	} else {
		res->outcome = FETCH_NONE;
	}
end:
	if (fd >= 0)
		close(fd);
	cache_meta_free(&j.old);
	cache_meta_free(&j.new);
	free(j.meta_path);
	free(j.download_path);
	free(j.rejected_path);
}

int fetch_run(struct policy *pol, const struct fetch_options *o, char **names, size_t nnames,
	      struct fetch_summary *sum, char *err, size_t errlen)
{
	memset(sum, 0, sizeof(*sum));
	if (http_init(err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < pol->nsources; i++) {
		struct source *src = &pol->sources[i];
		bool wanted = nnames == 0 && src->used_by;
		struct fetch_result res;

		for (size_t k = 0; k < nnames; k++)
			wanted |= streq(names[k], src->name);
		if (!wanted || !src->remote)
			continue;
		fetch_one(pol, (uint32_t)i, o, &res);
		switch (res.outcome) {
		case FETCH_UPDATED:
			sum->updated++;
			break;
		case FETCH_UNCHANGED:
			sum->unchanged++;
			break;
		case FETCH_KEPT:
			sum->kept++;
			break;
		case FETCH_NONE:
			sum->none++;
			break;
		}
		if (o->done)
			o->done(&res, o->arg);
		diag_free(&res.diag);
	}
	http_cleanup();
	return 0;
}
