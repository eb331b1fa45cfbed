/*
 * Microsoft 365 endpoints web service: a top-level array of endpoint sets
 * {id, serviceArea, urls, ips, tcpPorts, udpPorts, category, required, ...}.
 * Sets without "ips" list only URLs and are skipped. The answer carries no
 * version of its own.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "feed_json.h"
#include "util.h"

enum { K_AREA, K_PORT, K_IDS, K_CATEGORY, K_REQUIRED, K_COUNT };
static const char *const m365_keys[] = {
	[K_AREA] = "service-area",
	[K_PORT] = "tcp-port",
	[K_IDS] = "ids",
	[K_CATEGORY] = "category",
	[K_REQUIRED] = "required",
	[K_COUNT] = "instance", /* for fetching: worldwide, usgovdod, usgovgcchigh, china */
	[K_COUNT + 1] = NULL,
};

/* Fields of an endpoint set, as item - FJ_FIELD. */
enum { F_SET, F_ID, F_AREA, F_IPS, F_TCP, F_CATEGORY, F_REQUIRED, F_COUNT };
static const char *const m365_fields[F_COUNT] = {
	"", ".id", ".serviceArea", ".ips", ".tcpPorts", ".category", ".required",
};

/* A decimal without sign or leading zeros, at most max. */
static bool parse_number(const char *s, size_t len, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;

	if (len == 0 || (s[0] == '0' && len > 1))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (unsigned long)(s[i] - '0');
		if (v > max)
			return false;
	}
	*out = v;
	return true;
}

/* Does a port list such as "80,443" or "1024-65535" hold port? -1 when malformed. */
static int ports_have(const char *s, unsigned long port)
{
	int hit = 0;

	for (;;) {
		unsigned long lo, hi;
		size_t n;

		while (*s == ' ')
			s++;
		n = strspn(s, "0123456789");
		if (!parse_number(s, n, 65535, &lo))
			return -1;
		s += n;
		hi = lo;
		if (*s == '-') {
			s++;
			n = strspn(s, "0123456789");
			if (!parse_number(s, n, 65535, &hi) || hi < lo)
				return -1;
			s += n;
		}
		while (*s == ' ')
			s++;
		if (port >= lo && port <= hi)
			hit = 1;
		if (*s == '\0')
			return hit;
		if (*s++ != ',')
			return -1;
	}
}

/* Filter values the feed cannot judge: ports, ids, booleans. */
static bool check_filters(struct feed_ctx *c, const struct filter *f)
{
	bool ok = true;
	char where[512];
	unsigned long v;

	for (size_t w = 0; w < f[K_PORT].n; w++) {
		const char *s = f[K_PORT].words[w];
		if (!parse_number(s, strlen(s), 65535, &v) || v == 0) {
			snprintf(where, sizeof(where), "%s:%u", c->pol->path, f[K_PORT].line);
			diag_error(c->diag, where, "tcp-port: '%s' is not a port (1-65535)", s);
			ok = false;
		}
	}
	for (size_t w = 0; w < f[K_IDS].n; w++) {
		const char *s = f[K_IDS].words[w];
		if (!parse_number(s, strlen(s), (unsigned long)-1, &v)) {
			snprintf(where, sizeof(where), "%s:%u", c->pol->path, f[K_IDS].line);
			diag_error(c->diag, where, "ids: '%s' is not an endpoint set id", s);
			ok = false;
		}
	}
	for (size_t w = 0; w < f[K_REQUIRED].n; w++) {
		const char *s = f[K_REQUIRED].words[w];
		if (strcasecmp(s, "true") != 0 && strcasecmp(s, "false") != 0) {
			snprintf(where, sizeof(where), "%s:%u", c->pol->path, f[K_REQUIRED].line);
			diag_error(c->diag, where, "required: '%s' is neither true nor false", s);
			ok = false;
		}
	}
	return ok;
}

static bool match_port(struct feed_ctx *c, struct filter *f, const json_t *set, uint32_t entry)
{
	const char *ports;
	char tok[DIAG_TOKEN_MAX * 4 + 16];

	if (f->n == 0)
		return true;
	ports = fj_string(c, set, "tcpPorts", entry, FJ_FIELD + F_TCP);
	if (!ports)
		return false;
	for (size_t w = 0; w < f->n; w++) {
		unsigned long port = 0;
		int r;

		parse_number(f->words[w], strlen(f->words[w]), 65535, &port);
		r = ports_have(ports, port);
		if (r < 0) {
			feed_error(c, entry, FJ_FIELD + F_TCP, "'%s' is not a port list",
				   diag_token(ports, strlen(ports), tok, sizeof(tok)));
			return false;
		}
		if (r) {
			f->matched++;
			return true;
		}
	}
	return false;
}

/* ids are compared as text: both sides are canonical decimals. */
static bool match_id(struct filter *f, const json_t *id)
{
	char text[32];

	if (f->n == 0)
		return true;
	if (!id)
		return false;
	snprintf(text, sizeof(text), "%" JSON_INTEGER_FORMAT, json_integer_value(id));
	return fj_match(f, text);
}

static bool match_required(struct feed_ctx *c, struct filter *f, const json_t *set,
			   uint32_t entry)
{
	const json_t *v;

	if (f->n == 0)
		return true;
	v = fj_get(c, set, "required", FJ_BOOL, entry, FJ_FIELD + F_REQUIRED);
	return fj_match(f, v ? (json_is_true(v) ? "true" : "false") : NULL);
}

static void take_ips(struct feed_ctx *c, const json_t *ips, uint32_t entry)
{
	for (size_t j = 0; j < json_array_size(ips); j++)
		fj_add_prefix(c, json_array_get(ips, j), FJ_EITHER, entry, (uint32_t)j);
}

static void load_set(struct feed_ctx *c, struct filter *f, const json_t *set, uint32_t entry)
{
	const json_t *ips, *id;
	bool ok;

	if (!json_is_object(set)) {
		feed_error(c, entry, FJ_FIELD + F_SET, "expected an endpoint set (an object), found %s",
			   fj_type(set));
		return;
	}
	ips = json_object_get(set, "ips");
	if (!ips)
		return;
	id = fj_get(c, set, "id", FJ_INT, entry, FJ_FIELD + F_ID);

	/* Every filter sees every set, so each one's own matches are counted. */
	ok = fj_match_member(c, &f[K_AREA], set, "serviceArea", entry, FJ_FIELD + F_AREA);
	ok &= match_port(c, &f[K_PORT], set, entry);
	ok &= match_id(&f[K_IDS], id);
	ok &= fj_match_member(c, &f[K_CATEGORY], set, "category", entry, FJ_FIELD + F_CATEGORY);
	ok &= match_required(c, &f[K_REQUIRED], set, entry);
	if (!ok)
		return;

	if (id) {
		char label[40];
		snprintf(label, sizeof(label), "id %" JSON_INTEGER_FORMAT, json_integer_value(id));
		source_set_label(c->src, entry, label);
	}
	if (!json_is_array(ips)) {
		feed_error(c, entry, FJ_FIELD + F_IPS, "expected an array of strings, found %s",
			   fj_type(ips));
		return;
	}
	take_ips(c, ips, entry);
}

static int m365_load(struct feed_ctx *c)
{
	struct filter f[K_COUNT];
	size_t errors = c->diag->errors;
	json_t *root = NULL;
	bool parsed = false;

	for (int k = 0; k < K_COUNT; k++)
		filter_get(c->src, m365_keys[k], &f[k]);
	if (!check_filters(c, f)) {
		for (int k = 0; k < K_COUNT; k++)
			filter_free(&f[k]);
		return -1;
	}

	root = fj_load(c);
	if (!root)
		goto out;
	if (!json_is_array(root)) {
		feed_error(c, FJ_ROOT, FJ_FIELD, "expected an array of endpoint sets, found %s",
			   fj_type(root));
		goto out;
	}
	for (size_t i = 0; i < json_array_size(root); i++)
		load_set(c, f, json_array_get(root, i), (uint32_t)i);
	parsed = true;
out:
	if (parsed)
		fj_filters_done(c, f, K_COUNT, "endpoint set with ips");
	else
		for (int k = 0; k < K_COUNT; k++)
			filter_free(&f[k]);
	json_decref(root);
	return c->diag->errors > errors ? -1 : 0;
}

static void m365_where(const struct source *src, uint32_t entry, uint32_t item, char *buf,
		       size_t n)
{
	const char *label = source_label(src, entry);

	(void)item;
	if (label)
		snprintf(buf, n, "m365 %s", label);
	else
		snprintf(buf, n, "m365 [%u]", entry);
}

static void m365_diag_where(const struct source *src, uint32_t entry, uint32_t item, char *buf,
			    size_t n)
{
	if (entry == FJ_ROOT)
		snprintf(buf, n, "%s: top level", src->path);
	else if (item >= FJ_FIELD && item - FJ_FIELD < F_COUNT)
		snprintf(buf, n, "%s: [%u]%s", src->path, entry, m365_fields[item - FJ_FIELD]);
	else
		snprintf(buf, n, "%s: [%u].ips[%u]", src->path, entry, item);
}

const struct feed_format feed_m365 = {
	.name = "m365",
	.keys = m365_keys,
	.published = true,
	.load = m365_load,
	.where = m365_where,
	.diag_where = m365_diag_where,
};
