/*
 * Google goog.json and cloud.json: {syncToken, creationTime, prefixes:
 * [{ipv4Prefix | ipv6Prefix, service?, scope?}]}. goog.json has neither
 * service nor scope, so a filter on them selects nothing there. item tells
 * which prefix key an entry had (bit 0) and, for problems, which field.
 */
#include <stdio.h>

#include "feed_json.h"
#include "util.h"

enum { K_SERVICE, K_SCOPE, K_COUNT };
static const char *const google_keys[] = {
	[K_SERVICE] = "service",
	[K_SCOPE] = "scope",
	[K_COUNT] = NULL,
};

/* item = family | field << 1 */
enum { G_V4, G_V6 };
enum { F_PREFIX, F_SERVICE, F_SCOPE, F_ELEM, F_COUNT };
#define ITEM(fam, f) ((uint32_t)(fam) | (uint32_t)(f) << 1)

static const char *const google_prefix_keys[] = {"ipv4Prefix", "ipv6Prefix"};
static const char *const google_fields[F_COUNT] = {NULL, ".service", ".scope", ""};

/* Top-level places, as item when entry is FJ_ROOT. */
enum { R_TOP, R_SYNC, R_CREATION, R_PREFIXES, R_COUNT };
static const char *const google_root[R_COUNT] = {
	"top level", "syncToken", "creationTime", "prefixes",
};

static void load_entry(struct feed_ctx *c, struct filter *f, const json_t *el, int which,
		       uint32_t entry)
{
	(void)which; /* one array */
	const json_t *v4, *v6, *pfx;
	int fam;
	bool ok;

	if (!json_is_object(el)) {
		feed_error(c, entry, ITEM(G_V4, F_ELEM), "expected an object, found %s",
			   fj_type(el));
		return;
	}
	/* Every filter sees every entry, so each one's own matches are counted. */
	ok = fj_match_member(c, &f[K_SERVICE], el, "service", entry, ITEM(G_V4, F_SERVICE));
	ok &= fj_match_member(c, &f[K_SCOPE], el, "scope", entry, ITEM(G_V4, F_SCOPE));
	if (!ok)
		return;

	v4 = json_object_get(el, "ipv4Prefix");
	v6 = json_object_get(el, "ipv6Prefix");
	if (!v4 == !v6) {
		feed_error(c, entry, ITEM(G_V4, F_ELEM), "%s",
			   v4 ? "both \"ipv4Prefix\" and \"ipv6Prefix\""
			      : "neither \"ipv4Prefix\" nor \"ipv6Prefix\"");
		return;
	}
	fam = v4 ? G_V4 : G_V6;
	pfx = v4 ? v4 : v6;
	fj_add_prefix(c, pfx, fam == G_V6 ? FJ_IPV6 : FJ_IPV4, entry, ITEM(fam, F_PREFIX));
}

static const struct fj_array google_lists[] = {
	{ "prefixes", R_PREFIXES },
};

static const struct fj_feed google_feed = {
	.keys = google_keys,
	.version = { "syncToken", "creationTime" },
	.version_item = { R_SYNC, R_CREATION },
	.top_item = R_TOP,
	.arrays = google_lists,
	.narrays = 1,
	.what = "entry",
	.entry = load_entry,
};

static int google_load(struct feed_ctx *c)
{
	return fj_load_feed(c, &google_feed);
}

static void google_where(const struct source *src, uint32_t entry, uint32_t item, char *buf,
			 size_t n)
{
	(void)src;
	(void)item;
	snprintf(buf, n, "prefixes[%u]", entry);
}

static void google_diag_where(const struct source *src, uint32_t entry, uint32_t item,
			      char *buf, size_t n)
{
	uint32_t field = item >> 1;

	if (entry == FJ_ROOT)
		snprintf(buf, n, "%s: %s", src->path, google_root[item < R_COUNT ? item : R_TOP]);
	else if (field == F_PREFIX || field >= F_COUNT)
		snprintf(buf, n, "%s: prefixes[%u].%s", src->path, entry,
			 google_prefix_keys[item & 1]);
	else
		snprintf(buf, n, "%s: prefixes[%u]%s", src->path, entry, google_fields[field]);
}

const struct feed_format feed_google = {
	.name = "google",
	.keys = google_keys,
	.published = true,
	.load = google_load,
	.where = google_where,
	.diag_where = google_diag_where,
};
