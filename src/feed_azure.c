/*
 * Azure Service Tags: {changeNumber, cloud, values: [{name, id, properties:
 * {changeNumber, region, platform, systemService, addressPrefixes: [...]}}]}.
 * An entry is one service tag; item is the index in its addressPrefixes.
 */
#include <stdio.h>

#include "feed_json.h"
#include "util.h"

enum { K_TAG, K_SYSTEM_SERVICE, K_COUNT };
static const char *const azure_keys[] = {
	[K_TAG] = "tag",
	[K_SYSTEM_SERVICE] = "system-service",
	[K_COUNT] = NULL,
};

#define LABEL_MAX 128

/* Fields of a service tag, as item - FJ_FIELD. */
enum { F_VALUE, F_NAME, F_PROPS, F_SYSSVC, F_PREFIXES, F_COUNT };
static const char *const azure_fields[F_COUNT] = {
	"", ".name", ".properties", ".properties.systemService", ".properties.addressPrefixes",
};

/* Top-level places, as item when entry is FJ_ROOT. */
enum { R_TOP, R_CHANGE, R_CLOUD, R_VALUES, R_COUNT };
static const char *const azure_root[R_COUNT] = {"top level", "changeNumber", "cloud", "values"};

static void load_tag(struct feed_ctx *c, struct filter *f, const json_t *tag, int which,
		     uint32_t entry)
{
	(void)which; /* one array */
	const json_t *props, *list;
	const char *name;
	bool ok;

	if (!json_is_object(tag)) {
		feed_error(c, entry, FJ_FIELD + F_VALUE, "expected an object, found %s",
			   fj_type(tag));
		return;
	}
	name = fj_string(c, tag, "name", entry, FJ_FIELD + F_NAME);
	props = json_object_get(tag, "properties");
	if (!props) {
		feed_error(c, entry, FJ_FIELD + F_VALUE, "missing \"properties\"");
		return;
	}
	if (!json_is_object(props)) {
		feed_error(c, entry, FJ_FIELD + F_PROPS, "expected an object, found %s",
			   fj_type(props));
		return;
	}
	/* Every filter sees every tag, so each one's own matches are counted. */
	ok = fj_match(&f[K_TAG], name);
	ok &= fj_match_member(c, &f[K_SYSTEM_SERVICE], props, "systemService", entry,
			      FJ_FIELD + F_SYSSVC);
	if (!ok)
		return;

	if (name) {
		char label[LABEL_MAX + 1];
		fj_plain(label, sizeof(label), name);
		source_set_label(c->src, entry, label);
	}
	list = json_object_get(props, "addressPrefixes");
	if (!list) {
		feed_error(c, entry, FJ_FIELD + F_PROPS, "missing \"addressPrefixes\"");
		return;
	}
	if (!json_is_array(list)) {
		feed_error(c, entry, FJ_FIELD + F_PREFIXES, "expected an array of strings, found %s",
			   fj_type(list));
		return;
	}
	for (size_t j = 0; j < json_array_size(list); j++)
		fj_add_prefix(c, json_array_get(list, j), FJ_EITHER, entry, (uint32_t)j);
}

static const struct fj_array azure_lists[] = {
	{ "values", R_VALUES },
};

static const struct fj_feed azure_feed = {
	.keys = azure_keys,
	.version = { "changeNumber", "cloud" },
	.version_item = { R_CHANGE, R_CLOUD },
	.top_item = R_TOP,
	.arrays = azure_lists,
	.narrays = 1,
	.what = "service tag",
	.entry = load_tag,
};

static int azure_load(struct feed_ctx *c)
{
	return fj_load_feed(c, &azure_feed);
}

static void azure_where(const struct source *src, uint32_t entry, uint32_t item, char *buf,
			size_t n)
{
	const char *label = source_label(src, entry);

	if (label)
		snprintf(buf, n, "%s addressPrefixes[%u]", label, item);
	else
		snprintf(buf, n, "values[%u] addressPrefixes[%u]", entry, item);
}

static void azure_diag_where(const struct source *src, uint32_t entry, uint32_t item,
			     char *buf, size_t n)
{
	if (entry == FJ_ROOT)
		snprintf(buf, n, "%s: %s", src->path, azure_root[item < R_COUNT ? item : R_TOP]);
	else if (item >= FJ_FIELD && item - FJ_FIELD < F_COUNT)
		snprintf(buf, n, "%s: values[%u]%s", src->path, entry, azure_fields[item - FJ_FIELD]);
	else
		snprintf(buf, n, "%s: values[%u].properties.addressPrefixes[%u]", src->path, entry,
			 item);
}

const struct feed_format feed_azure = {
	.name = "azure",
	.keys = azure_keys,
	.published = true,
	.load = azure_load,
	.where = azure_where,
	.diag_where = azure_diag_where,
};
