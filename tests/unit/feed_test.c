/*
 * Unit tests of what every feed shares (src/feed.c, src/feed_json.c) where
 * the golden cases do not reach: the feed version as a number (which fetch
 * compares to refuse a feed that went backwards) for every form a version
 * field takes, the prefix checks at their limits, the line and prefix
 * limits at their bounds, and which formats warn about special-purpose
 * space. Each case loads a real file through policy_load() and feed_load().
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "feed.h"
#include "policy.h"
#include "tmpfiles.h"

struct loaded {
	struct policy pol;
	struct diag d;
	int rc;
};

/* A policy of one source (format, extra keys) reading `feed`, loaded. */
static void load(struct loaded *l, const char *format, const char *keys, const void *feed,
		 size_t len)
{
	char conf[1024];

	tmp_write("feed.dat", feed, len);
	snprintf(conf, sizeof(conf),
		 "[service s]\nports = tcp/25\nsources = f\n[source f]\nformat = %s\n"
		 "file = feed.dat\n%s",
		 format, keys);
	memset(l, 0, sizeof(*l));
	l->rc = policy_load(&l->pol, tmp_text("f.conf", conf), NULL, &l->d);
	if (l->rc == 0)
		l->rc = feed_load(&l->pol, 0, &l->d);
}

static void unload(struct loaded *l)
{
	diag_free(&l->d);
	policy_free(&l->pol);
}

/* Does any message of the level contain text? */
static bool said(const struct loaded *l, enum diag_level lvl, const char *text)
{
	for (size_t i = 0; i < l->d.nmsgs; i++)
		if (l->d.msgs[i].level == lvl && strstr(l->d.msgs[i].text, text))
			return true;
	return false;
}

static const char *first_msg(const struct loaded *l)
{
	return l->d.nmsgs ? l->d.msgs[0].text : "no message";
}

static void version_case(const char *format, const char *json, bool want_serial, uint64_t serial,
			 const char *want_version)
{
	struct loaded l;
	char name[256];

	load(&l, format, "allow-empty = yes\n", json, strlen(json));
	const struct source *s = &l.pol.sources[0];
	snprintf(name, sizeof(name), "feed version: %s %.80s", format, json);
	bool version_ok = want_version ? s->version && strcmp(s->version, want_version) == 0
				       : s->version == NULL;
	CHECK(name,
	      l.rc == 0 && s->has_serial == want_serial && (!want_serial || s->serial == serial) &&
		      version_ok,
	      "rc %d (%s), has_serial %d serial %" PRIu64 ", version '%s'", l.rc, first_msg(&l),
	      s->has_serial, s->serial, s->version ? s->version : "(none)");
	unload(&l);
}

#define AWS(sync) "{\"syncToken\": " sync ", \"createDate\": \"2026-11-20-03-12-00\", " \
		  "\"prefixes\": [], \"ipv6_prefixes\": []}"

static void test_versions(void)
{
	/* syncToken: a string of digits, or an integer, is the feed's serial. */
	version_case("aws", AWS("\"1784582225\""), true, 1784582225,
		     "syncToken 1784582225, createDate 2026-11-20-03-12-00");
	version_case("aws", AWS("1784582225"), true, 1784582225,
		     "syncToken 1784582225, createDate 2026-11-20-03-12-00");
	version_case("aws", AWS("\"0017\""), true, 17,
		     "syncToken 0017, createDate 2026-11-20-03-12-00");
	version_case("aws", AWS("0"), true, 0, "syncToken 0, createDate 2026-11-20-03-12-00");
	version_case("aws", AWS("\"18446744073709551615\""), true, UINT64_MAX,
		     "syncToken 18446744073709551615, createDate 2026-11-20-03-12-00");
	/* Anything else is shown, but is no number to compare. */
	version_case("aws", AWS("\"18446744073709551616\""), false, 0,
		     "syncToken 18446744073709551616, createDate 2026-11-20-03-12-00");
	version_case("aws", AWS("\"12a\""), false, 0, "syncToken 12a, createDate 2026-11-20-03-12-00");
	version_case("aws", AWS("\" 5\""), false, 0, "syncToken  5, createDate 2026-11-20-03-12-00");
	version_case("aws", AWS("\"-5\""), false, 0, "syncToken -5, createDate 2026-11-20-03-12-00");
	version_case("aws", AWS("-5"), false, 0, "syncToken -5, createDate 2026-11-20-03-12-00");
	version_case("aws", AWS("\"\""), false, 0, "syncToken , createDate 2026-11-20-03-12-00");
	version_case("aws", AWS("1.5"), false, 0, "syncToken 1.5, createDate 2026-11-20-03-12-00");
	version_case("aws", AWS("true"), false, 0, "syncToken true, createDate 2026-11-20-03-12-00");
	version_case("aws", AWS("null"), false, 0, "createDate 2026-11-20-03-12-00");
	version_case("aws", "{\"prefixes\": [], \"ipv6_prefixes\": []}", false, 0, NULL);
	/* Bytes that could forge a line of the script's header become '?'. */
	version_case("aws", AWS("\"7\\n# x\\u0007\""), false, 0,
		     "syncToken 7?# x?, createDate 2026-11-20-03-12-00");
	version_case("google",
		     "{\"syncToken\": \"1732000000000\", \"creationTime\": \"2024-11-19T10:00:00\", "
		     "\"prefixes\": []}",
		     true, 1732000000000ull,
		     "syncToken 1732000000000, creationTime 2024-11-19T10:00:00");
	version_case("azure", "{\"changeNumber\": 331, \"cloud\": \"Public\", \"values\": []}", true,
		     331, "changeNumber 331, cloud Public");
	version_case("azure", "{\"changeNumber\": \"331\", \"cloud\": \"Public\", \"values\": []}",
		     true, 331, "changeNumber 331, cloud Public");
	/* A list has no version. */
	version_case("list", "192.0.2.1\n", false, 0, NULL);

	struct loaded l;
	const char *obj = AWS("{\"n\": 1}");
	load(&l, "aws", "allow-empty = yes\n", obj, strlen(obj));
	CHECK("feed version: an object as syncToken is an error naming it",
	      l.rc < 0 && said(&l, DIAG_ERROR, "feed.dat: syncToken: error: expected a string or "
						"a number, found an object") &&
		      !l.pol.sources[0].has_serial,
	      "rc %d: %s", l.rc, first_msg(&l));
	unload(&l);
}

/* A list of text: its prefix counts per family, and its messages. */
static void list_case(const char *name, const char *keys, const char *text, int want_rc,
		      size_t v4, size_t v6, enum diag_level lvl, const char *msg)
{
	struct loaded l;

	load(&l, "list", keys, text, strlen(text));
	const struct source *s = &l.pol.sources[0];
	bool msg_ok = msg ? said(&l, lvl, msg) : l.d.nmsgs == 0;
	CHECK(name,
	      (want_rc < 0) == (l.rc < 0) && s->pfx[FAM_V4].n == v4 && s->pfx[FAM_V6].n == v6 &&
		      msg_ok,
	      "rc %d, %zu IPv4 %zu IPv6, %zu messages: %s", l.rc, s->pfx[FAM_V4].n,
	      s->pfx[FAM_V6].n, l.d.nmsgs, first_msg(&l));
	unload(&l);
}

static void test_prefix_checks(void)
{
	list_case("feed: /8 and /16 are the default limits", "", "1.0.0.0/8\n2001::/16\n", 0, 1,
		  1, DIAG_ERROR, NULL);
	list_case("feed: /7 is broader than the default", "", "2.0.0.0/7\n", -1, 0, 0, DIAG_ERROR,
		  "feed.dat:1: error: prefix '2.0.0.0/7' is broader than /8 (the source's broadest "
		  "limit)");
	list_case("feed: /15 is broader than the default broadest6", "", "2000::/15\n", -1, 0, 0,
		  DIAG_ERROR, "broadest6 limit");
	list_case("feed: with broadest /1, /1 is taken", "broadest = /1\nbroadest6 = /1\n",
		  "128.0.0.0/1\n::/1\n", 0, 1, 1, DIAG_ERROR, NULL);
	list_case("feed: 0.0.0.0/0 never, whatever the limit", "broadest = /1\n", "0.0.0.0/0\n",
		  -1, 0, 0, DIAG_ERROR, "is the whole address space: never allowed");
	list_case("feed: ::/0 never, whatever the limit", "broadest6 = /1\n", "::/0\n", -1, 0, 0,
		  DIAG_ERROR, "is the whole address space: never allowed");
	list_case("feed: ::ffff:0:0/96 is IPv4 0.0.0.0/0: never", "broadest = /1\n",
		  "::ffff:0:0/96\n", -1, 0, 0, DIAG_ERROR, "whole address space");
	list_case("feed: ::ffff:10.0.0.0/104 is IPv4 10.0.0.0/8, with a warning", "",
		  "::ffff:10.0.0.0/104\n", 0, 1, 0, DIAG_WARNING,
		  "IPv4-mapped IPv6 prefix '::ffff:10.0.0.0/104' taken as IPv4 10.0.0.0/8");
	list_case("feed: ::fff0:0:0/92 is IPv6 (shorter than /96)", "", "::fff0:0:0/92\n", 0, 0, 1,
		  DIAG_ERROR, NULL);
	list_case("feed: host bits: a warning and the network", "", "192.0.2.1/24\n", 0, 1, 0,
		  DIAG_WARNING, "host bits set in '192.0.2.1/24', using 192.0.2.0/24");
	list_case("feed: host bits with strict: an error", "strict = yes\n", "192.0.2.1/24\n", -1,
		  0, 0, DIAG_ERROR, "host bits set in '192.0.2.1/24' (strict: expected 192.0.2.0/24)");
	list_case("feed: BOM, CRLF, comments after entries, a last line without newline", "",
		  "\xef\xbb\xbf# c\r\n192.0.2.1 ; one\r\n\r\n 2001:db8::1\t# two\r\n198.51.100.0/24",
		  0, 2, 1, DIAG_ERROR, NULL);
	list_case("feed: two addresses on one line", "", "192.0.2.1 192.0.2.2\n", -1, 0, 0,
		  DIAG_ERROR, "feed.dat:1: error: unexpected text after the address '192.0.2.2'");
	list_case("feed: a source of comments only is empty: an error", "", "# a\n; b\n\n", -1, 0,
		  0, DIAG_ERROR, "source f yields no prefixes (allow-empty = yes permits it)");
	list_case("feed: allow-empty permits it", "allow-empty = yes\n", "# a\n", 0, 0, 0,
		  DIAG_ERROR, NULL);

	/* Lines of at most 4096 bytes: the entry at the start of a 4096-byte line counts. */
	char *text = malloc(3 * 4200);
	size_t o = 0;
	o += (size_t)sprintf(text + o, "192.0.2.1 #");
	memset(text + o, 'x', 4096 - o);
	o = 4096;
	text[o++] = '\n';
	size_t start = o;
	o += (size_t)sprintf(text + o, "192.0.2.2 #");
	memset(text + o, 'y', 4097 - (o - start));
	o = start + 4097;
	text[o++] = '\n';
	o += (size_t)sprintf(text + o, "192.0.2.3\n");
	text[o] = '\0';
	list_case("feed: a line of 4096 bytes is read, one of 4097 is refused", "", text, -1, 2, 0,
		  DIAG_ERROR, "feed.dat:2: error: line longer than 4096 bytes");
	free(text);

	/* Origins: a prefix's origin is its line, blank and comment lines counted. */
	struct loaded l;
	const char *lines = "\n# x\n192.0.2.1\n\n\n2001:db8::/32\n192.0.2.9\n";
	load(&l, "list", "", lines, strlen(lines));
	const struct source *s = &l.pol.sources[0];
	CHECK("feed: origins are line numbers, norigins past the last",
	      l.rc == 0 && s->pfx[FAM_V4].n == 2 && s->pfx[FAM_V4].v[0].origin == 3 &&
		      s->pfx[FAM_V4].v[1].origin == 7 && s->pfx[FAM_V6].v[0].origin == 6 &&
		      s->norigins == 8,
	      "rc %d, norigins %u", l.rc, s->norigins);
	unload(&l);
}

static void test_special_purpose(void)
{
	struct loaded l;
	const char *aws = "{\"syncToken\": \"1\", \"prefixes\": [{\"ip_prefix\": \"10.0.0.0/8\", "
			  "\"region\": \"r\", \"service\": \"AMAZON\", \"network_border_group\": "
			  "\"r\"}, {\"ip_prefix\": \"203.0.113.0/24\", \"region\": \"r\", \"service\": "
			  "\"AMAZON\", \"network_border_group\": \"r\"}], \"ipv6_prefixes\": []}";

	load(&l, "aws", "", aws, strlen(aws));
	CHECK("feed: a published feed warns about special-purpose space, and takes it",
	      l.rc == 0 && l.d.warnings == 2 && l.pol.sources[0].pfx[FAM_V4].n == 2 &&
		      said(&l, DIAG_WARNING, "'10.0.0.0/8' is special-purpose address space"),
	      "rc %d, %zu warnings: %s", l.rc, l.d.warnings, first_msg(&l));
	unload(&l);
	list_case("feed: a local list does not warn about it", "", "10.0.0.0/8\n203.0.113.0/24\n", 0,
		  2, 0, DIAG_ERROR, NULL);
	load(&l, "postfix-cidr", "", "10.0.0.0/8 OK\n", 14);
	CHECK("feed: neither does a postfix table", l.rc == 0 && l.d.nmsgs == 0, "rc %d: %s", l.rc,
	      first_msg(&l));
	unload(&l);

	/* Filters compare case-insensitively; words are split at blanks and commas. */
	load(&l, "aws", "region = R, other\nservice = amazon\n", aws, strlen(aws));
	CHECK("feed: filters match whatever the case, any word of the list",
	      l.rc == 0 && l.pol.sources[0].pfx[FAM_V4].n == 2, "rc %d: %s", l.rc, first_msg(&l));
	unload(&l);
}

/* At most FEED_MAX_PREFIXES a source: the limit itself passes, one more does not. */
static void test_prefix_limit(void)
{
	for (size_t extra = 0; extra < 2; extra++) {
		size_t n = FEED_MAX_PREFIXES + extra, len = n * 10;
		char *buf = malloc(len);
		struct loaded l;
		char name[128];
		for (size_t i = 0; i < n; i++)
			memcpy(buf + 10 * i, "192.0.2.1\n", 10);
		load(&l, "list", "", buf, len);
		free(buf);
		snprintf(name, sizeof(name), "feed: %zu prefixes in one source %s", n,
			 extra ? "are too many" : "are taken");
		CHECK(name,
		      extra ? l.rc < 0 && said(&l, DIAG_ERROR, "more than 2097152 prefixes in one "
							       "source")
			    : l.rc == 0 && l.pol.sources[0].pfx[FAM_V4].n == n,
		      "rc %d: %s", l.rc, first_msg(&l));
		unload(&l);
	}
}

int main(void)
{
	tmp_begin("feed-test");
	test_versions();
	test_prefix_checks();
	test_special_purpose();
	test_prefix_limit();
	tmp_end();
	return failures ? 1 : 0;
}
