#include "feed_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define VERSION_PART_MAX 64

/* jansson quotes the input near an error; keep raw bytes out of messages. */
static void plain_text(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

static const char *skip_blank(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p;
}

json_t *fj_load(struct feed_ctx *c)
{
	const char *p = c->buf;
	size_t len = c->len;
	bool bom = len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0;
	json_error_t err;
	json_t *root;
	char where[512];

	if (bom) {
		p += 3;
		len -= 3;
	}
	if (skip_blank(p, p + len) == p + len) {
		diag_error(c->diag, c->src->path, "invalid JSON: the file is empty");
		return NULL;
	}
	root = json_loadb(p, len, JSON_REJECT_DUPLICATES, &err);
	if (root)
		return root;

	plain_text(err.text);
	if (err.line >= 1)
		snprintf(where, sizeof(where), "%s:%d:%d", c->src->path, err.line,
			 err.column + (bom && err.line == 1));
	else
		snprintf(where, sizeof(where), "%s", c->src->path);
	diag_error(c->diag, where, "invalid JSON: %s%s", err.text,
		   *skip_blank(p, p + len) == '<' ? " (an HTML or XML page, not the feed)" : "");
	return NULL;
}

const char *fj_type(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		break;
	}
	return "null";
}

const char *fj_kind_name(enum fj_kind want)
{
	switch (want) {
	case FJ_STRING:
		return "a string";
	case FJ_ARRAY:
		return "an array";
	case FJ_OBJECT:
		return "an object";
	case FJ_BOOL:
		return "a boolean";
	case FJ_INT:
		return "an integer";
	case FJ_SCALAR:
		break;
	}
	return "a string or a number";
}

bool fj_is(const json_t *v, enum fj_kind want)
{
	switch (want) {
	case FJ_STRING:
		return json_is_string(v);
	case FJ_ARRAY:
		return json_is_array(v);
	case FJ_OBJECT:
		return json_is_object(v);
	case FJ_BOOL:
		return json_is_boolean(v);
	case FJ_INT:
		return json_is_integer(v);
	case FJ_SCALAR:
		break;
	}
	return json_is_string(v) || json_is_number(v);
}

json_t *fj_get(struct feed_ctx *c, const json_t *obj, const char *key, enum fj_kind want,
	       uint32_t entry, uint32_t item)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return NULL;
	if (!fj_is(v, want)) {
		feed_error(c, entry, item, "expected %s, found %s", fj_kind_name(want), fj_type(v));
		return NULL;
	}
	return v;
}

const char *fj_string(struct feed_ctx *c, const json_t *obj, const char *key, uint32_t entry,
		      uint32_t item)
{
	json_t *v = fj_get(c, obj, key, FJ_STRING, entry, item);

	return v ? json_string_value(v) : NULL;
}

void fj_plain(char *dst, size_t n, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		dst[i] = ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\' ? '?' : (char)ch;
	}
	dst[i] = '\0';
}

void fj_version_part(struct feed_ctx *c, const json_t *root, const char *key, uint32_t item,
		     char **version)
{
	json_t *v = json_object_get(root, key);
	char text[VERSION_PART_MAX + 4];
	char *joined;

	if (!v || json_is_null(v))
		return;
	if (json_is_string(v)) {
		fj_plain(text, VERSION_PART_MAX + 1, json_string_value(v));
	} else if (json_is_integer(v)) {
		snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	} else if (json_is_real(v)) {
		snprintf(text, sizeof(text), "%.17g", json_real_value(v));
	} else if (json_is_boolean(v)) {
		snprintf(text, sizeof(text), "%s", json_is_true(v) ? "true" : "false");
	} else {
		feed_error(c, FJ_ROOT, item, "expected a string or a number, found %s",
			   fj_type(v));
		return;
	}
	joined = xasprintf("%s%s%s %s", *version ? *version : "", *version ? ", " : "", key,
			   text);
	free(*version);
	*version = joined;
}

/*
 * The feed's first version field as a number, so that a download can be
 * refused when it goes backwards: syncToken is a string of digits,
 * changeNumber an integer.
 */
void fj_serial(struct source *src, const json_t *v)
{
	const char *s;
	char *end;

	src->has_serial = false;
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		src->serial = (uint64_t)json_integer_value(v);
		src->has_serial = true;
	} else if (json_is_string(v) && (s = json_string_value(v))[0] >= '0' && s[0] <= '9') {
		errno = 0;
		src->serial = strtoull(s, &end, 10);
		src->has_serial = !*end && !errno;
	}
}

bool fj_add_prefix(struct feed_ctx *c, const json_t *v, enum fj_family fam, uint32_t entry,
		   uint32_t item)
{
	char tok[DIAG_TOKEN_MAX * 4 + 16];
	const char *s;
	size_t len;

	if (!json_is_string(v)) {
		feed_error(c, entry, item, "expected a string, found %s", fj_type(v));
		return false;
	}
	s = json_string_value(v);
	len = json_string_length(v);
	if (fam != FJ_EITHER && (strchr(s, ':') != NULL) != (fam == FJ_IPV6)) {
		feed_error(c, entry, item, "'%s' is not an %s prefix",
			   diag_token(s, len, tok, sizeof(tok)), fam == FJ_IPV6 ? "IPv6" : "IPv4");
		return false;
	}
	return feed_add_text(c, s, len, entry, item);
}

bool fj_match(struct filter *f, const char *value)
{
	if (f->n == 0)
		return true;
	if (!value || !filter_match(f, value))
		return false;
	f->matched++;
	return true;
}

bool fj_match_member(struct feed_ctx *c, struct filter *f, const json_t *obj, const char *key,
		     uint32_t entry, uint32_t item)
{
	if (f->n == 0)
		return true;
	return fj_match(f, fj_string(c, obj, key, entry, item));
}

void fj_filters_done(struct feed_ctx *c, struct filter *f, size_t n, const char *what)
{
	char where[512];

	for (size_t i = 0; i < n; i++) {
		if (f[i].n > 0 && f[i].matched == 0) {
			char *value = xstrdup("");

			for (size_t w = 0; w < f[i].n; w++) {
				const char *word = f[i].words[w];
				bool blank = strpbrk(word, " \t") != NULL;
				char *v = xasprintf("%s%s%s%s%s", value, w ? " " : "", blank ? "\"" : "",
						    word, blank ? "\"" : "");
				free(value);
				value = v;
			}
			snprintf(where, sizeof(where), "%s:%u", c->pol->path, f[i].line);
			diag_error(c->diag, where, "%s = '%s' selects no %s in %s", f[i].key, value,
				   what, c->src->path);
			free(value);
		}
		filter_free(&f[i]);
	}
}

int fj_load_feed(struct feed_ctx *c, const struct fj_feed *feed)
{
	struct filter f[FJ_MAX_KEYS];
	size_t errors = c->diag->errors, nkeys = 0;
	json_t *root;
	bool parsed = false;

	while (nkeys < FJ_MAX_KEYS && feed->keys[nkeys]) {
		filter_get(c->src, feed->keys[nkeys], &f[nkeys]);
		nkeys++;
	}
	root = fj_load(c);
	if (!root)
		goto out;
	if (!json_is_object(root)) {
		feed_error(c, FJ_ROOT, feed->top_item, "expected an object, found %s", fj_type(root));
		goto out;
	}
	for (int v = 0; v < 2; v++)
		fj_version_part(c, root, feed->version[v], feed->version_item[v], &c->src->version);
	fj_serial(c->src, json_object_get(root, feed->version[0]));
	for (size_t a = 0; a < feed->narrays; a++) {
		const struct fj_array *arr = &feed->arrays[a];
		const json_t *list = json_object_get(root, arr->name);

		if (!list) {
			feed_error(c, FJ_ROOT, feed->top_item, "missing \"%s\" array", arr->name);
			continue;
		}
		if (!json_is_array(list)) {
			feed_error(c, FJ_ROOT, arr->item, "expected an array, found %s", fj_type(list));
			continue;
		}
		for (size_t i = 0; i < json_array_size(list); i++)
			feed->entry(c, f, json_array_get(list, i), (int)a, (uint32_t)i);
	}
	parsed = true;
out:
	if (parsed)
		fj_filters_done(c, f, nkeys, feed->what);
	else
		for (size_t k = 0; k < nkeys; k++)
			filter_free(&f[k]);
	json_decref(root);
	return c->diag->errors > errors ? -1 : 0;
}
