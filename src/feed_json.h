/*
 * Helpers shared by the JSON feed formats: loading with located syntax
 * errors, typed member access that reports wrong types, version text, and
 * the "filter selects nothing" check.
 *
 * A JSON format places a problem with (entry, item) alone, so both also name
 * places that are not prefixes: entry FJ_ROOT is the top level, and an item
 * at or above FJ_FIELD names a field of the entry (item - FJ_FIELD indexes
 * the format's own table). Neither can clash with a real index: a feed is at
 * most FEED_MAX_BYTES, so no array in it reaches 2^24 elements.
 */
#ifndef MXFENCE_FEED_JSON_H
#define MXFENCE_FEED_JSON_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "feed.h"

#define FJ_ROOT UINT32_MAX
#define FJ_FIELD 0xff000000u

enum fj_kind { FJ_STRING, FJ_ARRAY, FJ_OBJECT, FJ_BOOL, FJ_INT, FJ_SCALAR };

/* Parse the feed. On a syntax error, report "PATH:LINE:COL" and return NULL. */
json_t *fj_load(struct feed_ctx *c);

/* "an object", "a string", ... for messages. */
const char *fj_type(const json_t *v);
/* "an object", ... for what `want` accepts. */
const char *fj_kind_name(enum fj_kind want);
bool fj_is(const json_t *v, enum fj_kind want);

/*
 * Member `key` of obj when it is of kind `want`. NULL when absent, and also
 * when of another kind, which is reported at (entry, item).
 */
json_t *fj_get(struct feed_ctx *c, const json_t *obj, const char *key, enum fj_kind want,
	       uint32_t entry, uint32_t item);

/* A string member as text (see fj_get); NULL when absent or reported. */
const char *fj_string(struct feed_ctx *c, const json_t *obj, const char *key, uint32_t entry,
		      uint32_t item);

/*
 * Copy s, cut to fit n, with control bytes, non-ASCII, '"' and '\\' as '?':
 * feed text that reaches versions and labels, and so generated files.
 */
void fj_plain(char *dst, size_t n, const char *s);

/*
 * Append "key VALUE" to *version (", " between parts) when the top-level
 * member `key` is a string or number; report other types at (FJ_ROOT, item).
 */
void fj_version_part(struct feed_ctx *c, const json_t *root, const char *key, uint32_t item,
		     char **version);

/* The feed's version field v as a number in src->serial, when it is one. */
void fj_serial(struct source *src, const json_t *v);

/* The family a prefix's key promises: "ipv6_prefix" does, an "ips" list does not. */
enum fj_family { FJ_EITHER, FJ_IPV4, FJ_IPV6 };

/*
 * Add the prefix in v, found at (entry, item), as feed_add_text() does. v
 * must be a string and, unless fam is FJ_EITHER, look like that family;
 * otherwise that is reported at (entry, item). Returns true when added.
 */
bool fj_add_prefix(struct feed_ctx *c, const json_t *v, enum fj_family fam, uint32_t entry,
		   uint32_t item);

/* Evaluate filter f on value (may be NULL: absent), counting matches. */
bool fj_match(struct filter *f, const char *value);
/* Evaluate f on string member `key` of obj; the member is read only when f is given. */
bool fj_match_member(struct feed_ctx *c, struct filter *f, const json_t *obj, const char *key,
		     uint32_t entry, uint32_t item);

/*
 * Report every given filter that matched nothing ("... selects no WHAT in
 * FILE") at its policy line, and free them all.
 */
void fj_filters_done(struct feed_ctx *c, struct filter *f, size_t n, const char *what);

/* An array of entries in a feed's top-level object. */
struct fj_array {
	const char *name;  /* "prefixes" */
	uint32_t item;     /* the root location item of that member, for a wrong type */
};

/*
 * The envelope the AWS, Google and Azure feeds share: an object holding
 * version fields and arrays of entries. Reads the file, reports a wrong
 * envelope, keeps the version, calls entry() for every entry of every array
 * (which = the array's index in arrays) with the format's filters, and
 * reports filters that selected nothing. Root locations use FJ_ROOT with the
 * item numbers given here; top_item names the file as a whole.
 */
struct fj_feed {
	const char *const *keys; /* filter keys, NULL-terminated, at most FJ_MAX_KEYS */
	const char *version[2];
	uint32_t version_item[2];
	uint32_t top_item;
	const struct fj_array *arrays;
	size_t narrays;
	const char *what; /* "entry", "service tag" */
	void (*entry)(struct feed_ctx *c, struct filter *f, const json_t *e, int which,
		      uint32_t index);
};
#define FJ_MAX_KEYS 8

int fj_load_feed(struct feed_ctx *c, const struct fj_feed *feed);

#endif
