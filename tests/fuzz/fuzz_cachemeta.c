/*
 * The fetch cache's metadata on hostile bytes: cache_meta_parse() on the
 * input. Checked: a refused input leaves nothing allocated and says why; an
 * accepted one is well formed (a 64-digit lowercase sha256), and writing it
 * (cache_meta_write) then reading it back (cache_meta_read) gives the same
 * fields.
 */
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "fuzz.h"

static const char *path;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	path = fuzz_path("source.meta");
	return 0;
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cache_meta m, back;
	char err[512] = "";

	if (size > CACHE_META_MAX)
		return 0;
	if (cache_meta_parse((const char *)data, size, &m, err, sizeof(err)) < 0) {
		FUZZ_CHECK(err[0], "a refused input says why");
		FUZZ_CHECK(!m.url && !m.etag && !m.last_modified && !m.version,
			   "a refused input leaves nothing allocated");
		return 0;
	}
	FUZZ_CHECK(strlen(m.sha256) == 64 && strspn(m.sha256, "0123456789abcdef") == 64,
		   "sha256 '%s'", m.sha256);
	FUZZ_CHECK(cache_meta_write(path, &m, err, sizeof(err)) == 0, "write: %s", err);
	FUZZ_CHECK(cache_meta_read(path, &back, err, sizeof(err)) == 0, "read back: %s", err);
	FUZZ_CHECK(same(m.url, back.url) && same(m.etag, back.etag) &&
			   same(m.last_modified, back.last_modified) && same(m.version, back.version),
		   "strings differ after a round trip");
	FUZZ_CHECK(m.has_serial == back.has_serial && m.serial == back.serial &&
			   m.size == back.size && m.prefixes == back.prefixes &&
			   m.fetched == back.fetched && m.checked == back.checked &&
			   !strcmp(m.sha256, back.sha256),
		   "numbers differ after a round trip");
	cache_meta_free(&m);
	cache_meta_free(&back);
	return 0;
}
