/* The fetch cache's metadata files, and the digests that tie them to their copies. */
#include "cache.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "outfile.h"
#include "util.h"

#define META_FORMAT 1

static int fail(char *err, size_t n, const char *fmt, const char *arg)
{
	snprintf(err, n, fmt, arg);
	return -1;
}

/* An optional string member: absent or null is NULL; another type is an error. */
static int get_string(json_t *root, const char *key, char **out, char *err, size_t n)
{
	json_t *v = json_object_get(root, key);

	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v))
		return fail(err, n, "\"%s\" is not a string", key);
	*out = xstrdup(json_string_value(v));
	return 0;
}

static int get_count(json_t *root, const char *key, uint64_t *out, bool *present, char *err,
		     size_t n)
{
	json_t *v = json_object_get(root, key);

	if (present)
		*present = false;
	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return fail(err, n, "\"%s\" is not a count", key);
	*out = (uint64_t)json_integer_value(v);
	if (present)
		*present = true;
	return 0;
}

int cache_meta_parse(const char *buf, size_t len, struct cache_meta *m, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	char *sha = NULL;
	uint64_t format, fetched, checked;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		snprintf(err, errlen, "line %d: %s", jerr.line, jerr.text);
		return -1;
	}
	if (!json_is_object(root)) {
		fail(err, errlen, "%s", "not a JSON object");
		goto out;
	}
	if (get_count(root, "format", &format, NULL, err, errlen) < 0)
		goto out;
	if (format != META_FORMAT) {
		snprintf(err, errlen, "unknown format %llu (expected %d)", (unsigned long long)format,
			 META_FORMAT);
		goto out;
	}
	if (get_string(root, "url", &m->url, err, errlen) < 0 ||
	    get_string(root, "etag", &m->etag, err, errlen) < 0 ||
	    get_string(root, "last_modified", &m->last_modified, err, errlen) < 0 ||
	    get_string(root, "version", &m->version, err, errlen) < 0 ||
	    get_string(root, "sha256", &sha, err, errlen) < 0 ||
	    get_count(root, "serial", &m->serial, &m->has_serial, err, errlen) < 0 ||
	    get_count(root, "size", &m->size, NULL, err, errlen) < 0 ||
	    get_count(root, "prefixes", &m->prefixes, NULL, err, errlen) < 0 ||
	    get_count(root, "fetched", &fetched, NULL, err, errlen) < 0 ||
	    get_count(root, "checked", &checked, NULL, err, errlen) < 0)
		goto out;
	if (!sha || strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64) {
		fail(err, errlen, "%s", "\"sha256\" is not 64 hex digits");
		goto out;
	}
	memcpy(m->sha256, sha, 65);
	m->fetched = (int64_t)fetched;
	m->checked = (int64_t)checked;
	rc = 0;
out:
	free(sha);
	json_decref(root);
	if (rc)
		cache_meta_free(m);
	return rc;
}

int cache_meta_read(const char *path, struct cache_meta *m, char *err, size_t errlen)
{
	char buf[CACHE_META_MAX + 1];
	size_t len;
	FILE *f;

	memset(m, 0, sizeof(*m));
	f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 1;
		return fail(err, errlen, "cannot open: %s", strerror(errno));
	}
	len = fread(buf, 1, sizeof(buf), f);
	if (ferror(f)) {
		fclose(f);
		return fail(err, errlen, "cannot read: %s", strerror(errno));
	}
	fclose(f);
	if (len > CACHE_META_MAX)
		return fail(err, errlen, "%s", "larger than 64 KiB");
	return cache_meta_parse(buf, len, m, err, errlen);
}

static json_t *string_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

int cache_meta_write(const char *path, const struct cache_meta *m, char *err, size_t errlen)
{
	json_t *root = json_object();
	char *text, *line;
	int rc;

	json_object_set_new(root, "format", json_integer(META_FORMAT));
	json_object_set_new(root, "url", string_or_null(m->url));
	json_object_set_new(root, "etag", string_or_null(m->etag));
	json_object_set_new(root, "last_modified", string_or_null(m->last_modified));
	json_object_set_new(root, "version", string_or_null(m->version));
	json_object_set_new(root, "serial",
			    m->has_serial ? json_integer((json_int_t)m->serial) : json_null());
	json_object_set_new(root, "sha256", json_string(m->sha256));
	json_object_set_new(root, "size", json_integer((json_int_t)m->size));
	json_object_set_new(root, "prefixes", json_integer((json_int_t)m->prefixes));
	json_object_set_new(root, "fetched", json_integer(m->fetched));
	json_object_set_new(root, "checked", json_integer(m->checked));
	text = json_dumps(root, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
	json_decref(root);

	/* One line per member, and a final newline. */
	line = xasprintf("%s\n", text);
	rc = write_atomic(path, line, strlen(line), 0644, WRITE_DURABLE, err, errlen);
	free(line);
	free(text);
	return rc;
}

void cache_meta_free(struct cache_meta *m)
{
	free(m->url);
	free(m->etag);
	free(m->last_modified);
	free(m->version);
	memset(m, 0, sizeof(*m));
}

int sha256_file(const char *path, char out[65], char *err, size_t errlen)
{
	unsigned char md[EVP_MAX_MD_SIZE], buf[1 << 16];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	ssize_t r;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(err, errlen, "cannot open: %s", strerror(errno));
	ctx = EVP_MD_CTX_new();
	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		fail(err, errlen, "%s", "sha256 is not available");
		goto out;
	}
	while ((r = read(fd, buf, sizeof(buf))) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			fail(err, errlen, "cannot read: %s", strerror(errno));
			goto out;
		}
		EVP_DigestUpdate(ctx, buf, (size_t)r);
	}
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	for (unsigned i = 0; i < mdlen && i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	rc = 0;
out:
	EVP_MD_CTX_free(ctx);
	close(fd);
	return rc;
}
