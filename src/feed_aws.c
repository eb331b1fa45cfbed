/*
 * AWS ip-ranges.json: {syncToken, createDate, prefixes: [{ip_prefix, region,
 * service, network_border_group}], ipv6_prefixes: [{ipv6_prefix, ...}]}.
 * An entry is an element of one of the two arrays; item tells which array
 * (bit 0) and, for problems, which field (the bits above).
 */
#include <stdio.h>

#include "feed_json.h"
#include "util.h"

enum { K_SERVICE, K_REGION, K_NBG, K_COUNT };
static const char *const aws_keys[] = {
	[K_SERVICE] = "service",
	[K_REGION] = "region",
	[K_NBG] = "network-border-group",
	[K_COUNT] = NULL,
};

/* item = array | field << 1 */
enum { A_V4, A_V6 };
enum { F_PREFIX, F_REGION, F_SERVICE, F_NBG, F_ELEM, F_COUNT };
#define ITEM(a, f) ((uint32_t)(a) | (uint32_t)(f) << 1)

static const char *const aws_arrays[] = {"prefixes", "ipv6_prefixes"};
static const char *const aws_prefix_keys[] = {"ip_prefix", "ipv6_prefix"};
static const char *const aws_fields[F_COUNT] = {
	NULL, ".region", ".service", ".network_border_group", "",
};

/* Top-level places, as item when entry is FJ_ROOT. */
enum { R_TOP, R_SYNC, R_CREATE, R_V4, R_V6, R_COUNT };
static const char *const aws_root[R_COUNT] = {
	"top level", "syncToken", "createDate", "prefixes", "ipv6_prefixes",
};

static void load_entry(struct feed_ctx *c, struct filter *f, const json_t *el, int arr,
		       uint32_t entry)
{
	const char *key = aws_prefix_keys[arr];
	const json_t *pfx;
	bool ok;

	if (!json_is_object(el)) {
		feed_error(c, entry, ITEM(arr, F_ELEM), "expected an object, found %s",
			   fj_type(el));
		return;
	}
	/* Every filter sees every entry, so each one's own matches are counted. */
	ok = fj_match_member(c, &f[K_SERVICE], el, "service", entry, ITEM(arr, F_SERVICE));
	ok &= fj_match_member(c, &f[K_REGION], el, "region", entry, ITEM(arr, F_REGION));
	ok &= fj_match_member(c, &f[K_NBG], el, "network_border_group", entry, ITEM(arr, F_NBG));
	if (!ok)
		return;

	pfx = json_object_get(el, key);
	if (!pfx) {
		feed_error(c, entry, ITEM(arr, F_ELEM), "missing \"%s\"", key);
		return;
	}
	fj_add_prefix(c, pfx, arr == A_V6 ? FJ_IPV6 : FJ_IPV4, entry, ITEM(arr, F_PREFIX));
}

static const struct fj_array aws_lists[] = {
	{ "prefixes", R_V4 },
	{ "ipv6_prefixes", R_V6 },
};

static const struct fj_feed aws_feed = {
	.keys = aws_keys,
	.version = { "syncToken", "createDate" },
	.version_item = { R_SYNC, R_CREATE },
	.top_item = R_TOP,
	.arrays = aws_lists,
	.narrays = 2,
	.what = "entry",
	.entry = load_entry,
};

static int aws_load(struct feed_ctx *c)
{
	return fj_load_feed(c, &aws_feed);
}

static void aws_where(const struct source *src, uint32_t entry, uint32_t item, char *buf,
		      size_t n)
{
	(void)src;
	snprintf(buf, n, "%s[%u]", aws_arrays[item & 1], entry);
}

static void aws_diag_where(const struct source *src, uint32_t entry, uint32_t item, char *buf,
			   size_t n)
{
	int arr = item & 1;
	uint32_t field = item >> 1;

	if (entry == FJ_ROOT)
		snprintf(buf, n, "%s: %s", src->path, aws_root[item < R_COUNT ? item : R_TOP]);
	else if (field == F_PREFIX || field >= F_COUNT)
		snprintf(buf, n, "%s: %s[%u].%s", src->path, aws_arrays[arr], entry,
			 aws_prefix_keys[arr]);
	else
		snprintf(buf, n, "%s: %s[%u]%s", src->path, aws_arrays[arr], entry,
			 aws_fields[field]);
}

const struct feed_format feed_aws = {
	.name = "aws",
	.keys = aws_keys,
	.published = true,
	.load = aws_load,
	.where = aws_where,
	.diag_where = aws_diag_where,
};
