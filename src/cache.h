/*
 * The fetch cache: per fetched source, its last good copy "<name>.feed" and
 * what is known of it, "<name>.meta" (JSON, written atomically after the
 * copy). A copy only lands there after it was validated; the metadata's
 * sha256 says whether the two still belong together.
 */
#ifndef MXFENCE_CACHE_H
#define MXFENCE_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CACHE_META_MAX (64u << 10) /* a metadata file larger than this is refused */

struct cache_meta {
	char *url;
	char *etag;
	char *last_modified;
	char *version;     /* the feed's own version fields, for people */
	uint64_t serial;   /* the version as a number, if has_serial */
	bool has_serial;
	char sha256[65];   /* of the .feed, hex */
	uint64_t size;     /* bytes */
	uint64_t prefixes; /* taken with the source's filters */
	int64_t fetched;   /* when this copy was downloaded (Unix time) */
	int64_t checked;   /* when it was last confirmed current */
};

/*
 * Parse metadata text. Returns 0, or -1 with err filled (a message without
 * the file's name).
 */
int cache_meta_parse(const char *buf, size_t len, struct cache_meta *m, char *err, size_t errlen);
/* Read <path>; 1 when it does not exist, 0, or -1 with err. */
int cache_meta_read(const char *path, struct cache_meta *m, char *err, size_t errlen);
/* Write atomically; 0, or -1 with err (naming the file). */
int cache_meta_write(const char *path, const struct cache_meta *m, char *err, size_t errlen);
void cache_meta_free(struct cache_meta *m);

/* sha256 of a file, hex; 0, or -1 with err. */
int sha256_file(const char *path, char out[65], char *err, size_t errlen);

#endif
