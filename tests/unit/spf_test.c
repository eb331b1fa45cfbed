/*
 * Unit tests of SPF: the record parser on every real record of the shared
 * TSV and on malformed ones, TXT records out of the two real DNS answers,
 * the resolver text, and format = spf read through a policy. No network.
 * Prints "PASS: name" / "FAIL: name: why" per check (see tests/run).
 *
 * The data is in $SHARED/data/providers/spf (tests/run sets SHARED; else
 * ../shared from the top of the tree).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "diag.h"
#include "feed.h"
#include "policy.h"
#include "spf.h"
#include "util.h"
#include "check.h"

static char *data_path(const char *file)
{
	const char *shared = getenv("SHARED");
	char *p;

	if (asprintf(&p, "%s/data/providers/spf/%s", shared ? shared : "../shared", file) < 0)
		abort();
	return p;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	*len = 0;
	if (!f)
		return NULL;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap);
			if (!buf)
				abort();
		}
		size_t r = fread(buf + n, 1, cap - n - 1, f);
		if (r == 0)
			break;
		n += r;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

static size_t count_kind(const struct spf_record *rec, enum spf_kind k)
{
	size_t n = 0;

	for (size_t i = 0; i < rec->n; i++)
		n += rec->terms[i].kind == k;
	return n;
}

static int parse(const char *text, struct spf_record *rec, struct diag *d)
{
	memset(d, 0, sizeof(*d));
	return spf_parse_record(text, strlen(text), rec, d, "test", NULL);
}

/* Per TSV row, in order: ip4, ip6 and include terms, and all the terms. */
static const struct {
	const char *name;
	size_t ip4, ip6, include, terms;
} tsv_counts[] = {
	{ "_spf.google.com", 0, 0, 3, 4 },	 { "_netblocks.google.com", 11, 0, 0, 12 },
	{ "_netblocks2.google.com", 0, 6, 0, 7 }, { "_netblocks3.google.com", 10, 0, 0, 11 },
	{ "sendgrid.net", 8, 0, 1, 10 },	 { "github.com", 1, 0, 5, 7 },
	{ "sgmail.github.com", 1, 0, 1, 3 },	 { "aspmx.pardot.com", 0, 0, 1, 2 },
	{ "et._spf.pardot.com", 12, 0, 0, 13 },	 { "discoursemail.com", 9, 9, 1, 22 },
	{ "janestreet.com", 4, 0, 3, 8 },	 { "bloomberg.net", 3, 0, 0, 4 },
	{ "mail148.suw18.rsgsv.net", 1, 0, 1, 3 }, { "_spf.mailgun.org", 16, 0, 0, 17 },
	{ "github.com", 12, 0, 7, 20 },
};
#define TSV_ROWS (sizeof(tsv_counts) / sizeof(tsv_counts[0]))

/* The record_text of every data row; strings[i]: its character_strings_json, or "". */
static char *tsv_names[TSV_ROWS], *tsv_texts[TSV_ROWS], *tsv_strings[TSV_ROWS];

static size_t read_tsv(void)
{
	char *path = data_path("spf-txt-records.tsv"), *buf, *line, *save = NULL;
	size_t len, rows = 0;
	bool header = false;

	buf = slurp(path, &len);
	free(path);
	if (!buf)
		return 0;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *col[5] = { line };
		if (line[0] == '#')
			continue;
		for (int i = 1; i < 5; i++) {
			col[i] = col[i - 1] ? strchr(col[i - 1], '\t') : NULL;
			if (col[i])
				*col[i]++ = '\0';
		}
		if (!header) {
			header = true;
			continue;
		}
		if (!col[4] || rows == TSV_ROWS)
			return 0;
		tsv_names[rows] = strdup(col[0]);
		tsv_strings[rows] = strdup(col[3]);
		tsv_texts[rows++] = strdup(col[4]);
	}
	free(buf);
	return rows;
}

static void test_tsv_records(void)
{
	char name[160];
	size_t rows = read_tsv();

	CHECK("tsv: read 15 records", rows == TSV_ROWS, "read %zu rows", rows);
	for (size_t i = 0; i < rows; i++) {
		struct spf_record rec;
		struct diag d;
		int rc = parse(tsv_texts[i], &rec, &d);
		snprintf(name, sizeof(name), "tsv: %s (row %zu) parses", tsv_names[i], i + 1);
		CHECK(name, rc == 0 && d.errors == 0 && d.warnings == 0, "rc %d, %zu errors: %s", rc,
		      d.errors, d.nmsgs ? d.msgs[0].text : "");
		snprintf(name, sizeof(name), "tsv: %s (row %zu) terms", tsv_names[i], i + 1);
		CHECK(name,
		      streq(tsv_names[i], tsv_counts[i].name) && rec.n == tsv_counts[i].terms &&
			      count_kind(&rec, SPF_IP4) == tsv_counts[i].ip4 &&
			      count_kind(&rec, SPF_IP6) == tsv_counts[i].ip6 &&
			      count_kind(&rec, SPF_INCLUDE) == tsv_counts[i].include,
		      "%s: %zu terms, %zu ip4, %zu ip6, %zu include", tsv_names[i], rec.n,
		      count_kind(&rec, SPF_IP4), count_kind(&rec, SPF_IP6),
		      count_kind(&rec, SPF_INCLUDE));
		spf_record_free(&rec);
		diag_free(&d);
	}
}

/* Term k of TSV row `row`. */
static void tsv_term(size_t row, size_t k, enum spf_kind kind, char qual, const char *net,
		     const char *domain)
{
	struct spf_record rec;
	struct diag d;
	char name[160];

	if (row >= TSV_ROWS || !tsv_texts[row]) {
		CHECK("tsv: term", false, "no row %zu", row);
		return;
	}
	parse(tsv_texts[row], &rec, &d);
	const struct spf_term *t = k < rec.n ? &rec.terms[k] : NULL;
	snprintf(name, sizeof(name), "tsv: %s term %zu", tsv_names[row], k);
	CHECK(name,
	      t && t->kind == kind && t->qual == qual && streq(t->net ? t->net : "", net) &&
		      streq(t->domain ? t->domain : "", domain),
	      "got %s %c '%s' '%s'", t ? spf_kind_name(t->kind) : "none", t ? t->qual : '0',
	      t && t->net ? t->net : "", t && t->domain ? t->domain : "");
	spf_record_free(&rec);
	diag_free(&d);
}

static void test_tsv_terms(void)
{
	tsv_term(0, 1, SPF_INCLUDE, '+', "", "_netblocks2.google.com");
	tsv_term(0, 3, SPF_ALL, '~', "", "");
	tsv_term(2, 0, SPF_IP6, '+', "2001:4860:4000::/36", "");
	tsv_term(7, 1, SPF_ALL, '-', "", "");
	tsv_term(9, 17, SPF_IP6, '+', "2602:fd3f:0000:ff06::/64", "");
	tsv_term(9, 18, SPF_INCLUDE, '+', "", "mailgun.org");
	tsv_term(9, 19, SPF_MX, '+', "", "");
	tsv_term(9, 20, SPF_PTR, '+', "", "");
	tsv_term(9, 21, SPF_ALL, '~', "", "");
	tsv_term(10, 0, SPF_IP4, '+', "38.105.200.78/32", "");
	tsv_term(12, 0, SPF_IP4, '+', "198.2.181.148/32", "");
	tsv_term(14, 9, SPF_IP4, '+', "166.78.69.170/32", "");
	tsv_term(14, 12, SPF_IP4, '+', "167.89.101.192/28", "");
}

/* The strings of character_strings_json joined: the record_text. */
static void test_tsv_strings(void)
{
	size_t split = 0;

	for (size_t i = 0; i < TSV_ROWS; i++) {
		char *s = tsv_strings[i], joined[4096] = "", name[160];
		size_t n = 0;
		if (!s || !s[0])
			continue;
		split++;
		/* ["a", "b"]: no escapes in these records. */
		for (char *p = strchr(s, '"'); p; p = strchr(p, '"')) {
			char *end = strchr(p + 1, '"');
			if (!end)
				break;
			n += (size_t)snprintf(joined + n, sizeof(joined) - n, "%.*s",
					      (int)(end - p - 1), p + 1);
			p = end + 1;
		}
		snprintf(name, sizeof(name), "tsv: %s strings join to record_text", tsv_names[i]);
		CHECK(name, !strchr(s, '\\') && streq(joined, tsv_texts[i]), "'%s'", joined);
	}
	CHECK("tsv: two records given as strings", split == 2, "%zu", split);
}

static void test_wire(const char *file, size_t want_txt, size_t row)
{
	char *path = data_path(file), name[200];
	size_t len, n = 0, spf = 0, at = 0;
	uint8_t *wire = (uint8_t *)slurp(path, &len);
	struct spf_txt *txt = NULL;
	int rc;

	free(path);
	snprintf(name, sizeof(name), "wire: %s parses", file);
	rc = wire ? spf_txt_from_wire(wire, len, &txt, &n) : -1;
	CHECK(name, rc == 0 && n == want_txt, "rc %d, %zu TXT records", rc, n);
	for (size_t i = 0; i < n; i++) {
		if (spf_is_record(txt[i].text, txt[i].len)) {
			spf++;
			at = i;
		}
	}
	snprintf(name, sizeof(name), "wire: %s joins to the TSV's record_text", file);
	CHECK(name, spf == 1 && tsv_texts[row] && txt[at].len == strlen(tsv_texts[row]) &&
			    memcmp(txt[at].text, tsv_texts[row], txt[at].len) == 0,
	      "%zu SPF records; '%s'", spf, spf ? txt[at].text : "");
	spf_txt_free(txt, n);

	/* Cut short, it does not parse: nothing is returned. */
	snprintf(name, sizeof(name), "wire: %s cut short", file);
	rc = wire ? spf_txt_from_wire(wire, len - 7, &txt, &n) : 0;
	CHECK(name, rc == -1 && n == 0 && txt == NULL, "rc %d, %zu records", rc, n);
	free(wire);
}

static void parse_ok(const char *text, size_t want_terms)
{
	struct spf_record rec;
	struct diag d;
	char name[200];
	int rc = parse(text, &rec, &d);

	snprintf(name, sizeof(name), "parse '%s'", text);
	CHECK(name, rc == 0 && rec.n == want_terms && d.errors == 0, "rc %d, %zu terms: %s", rc,
	      rec.n, d.nmsgs ? d.msgs[0].text : "");
	spf_record_free(&rec);
	diag_free(&d);
}

/* Refused, with `errors` errors, the first holding `want`. */
static void parse_bad_n(const char *text, size_t len, size_t errors, const char *want)
{
	struct spf_record rec;
	struct diag d = { 0 };
	char name[200];
	int rc = spf_parse_record(text, len, &rec, &d, "test", "a.example > b.example");

	snprintf(name, sizeof(name), "refuse '%.60s'", text);
	CHECK(name,
	      rc == -1 && rec.n == 0 && rec.terms == NULL && d.errors == errors && d.nmsgs &&
		      strstr(d.msgs[0].text, want) &&
		      strstr(d.msgs[0].text, "(chain: a.example > b.example)"),
	      "rc %d, %zu errors: %s", rc, d.errors, d.nmsgs ? d.msgs[0].text : "(none)");
	spf_record_free(&rec);
	diag_free(&d);
}

static void parse_bad(const char *text, const char *want)
{
	parse_bad_n(text, strlen(text), 1, want);
}

static void test_parse(void)
{
	parse_ok("v=spf1", 0);
	parse_ok("V=SpF1 IP4:192.0.2.1 Include:example.org -ALL", 3);
	parse_ok("v=spf1   a   mx  ", 2);
	parse_ok("v=spf1 foo=bar x-y.z_1=%{d} a", 1);
	parse_ok("v=spf1 exp=explain.%{d} redirect=_spf.example.org", 2);
	parse_ok("v=spf1 ip6:::ffff:192.0.2.1 ip6:2001:db8::1 ?ptr ptr:example.org", 4);

	parse_bad("v=spf10 a", "not an SPF record");
	parse_bad("spf1 a", "not an SPF record");
	parse_bad_n("v=spf1 a\0 +all", 14, 1, "NUL byte in the SPF record");
	parse_bad("v=spf1 ip4:192.0.2.0/33", "prefix length out of range");
	parse_bad("v=spf1 ip4:192.0.2.0/", "malformed SPF term");
	parse_bad("v=spf1 ip4:2001:db8::/32", "not an IPv4 network");
	parse_bad("v=spf1 ip6:192.0.2.1", "not an IPv6 network");
	parse_bad("v=spf1 ip4", "ip4 needs ':' and a network");
	parse_bad("v=spf1 ip4:example.org", "malformed SPF term");
	parse_bad("v=spf1 include", "include needs ':' and a domain");
	parse_bad("v=spf1 include:", "expected a domain after ':'");
	parse_bad("v=spf1 include:localhost", "not a domain name");
	parse_bad("v=spf1 include:example.123", "not a domain name");
	parse_bad("v=spf1 include:bad..example.org", "not a domain name");
	parse_bad("v=spf1 include:example.org/24", "not a domain name");
	parse_bad("v=spf1 exists", "exists needs ':' and a domain");
	parse_bad("v=spf1 all:example.org", "all takes no argument");
	parse_bad("v=spf1 all/24", "all takes no argument");
	parse_bad("v=spf1 +redirect=example.org", "a modifier takes no qualifier");
	parse_bad("v=spf1 redirect=a.example.org redirect=b.example.org", "redirect= given twice");
	parse_bad("v=spf1 exp=a.example.org exp=b.example.org", "exp= given twice");
	parse_bad("v=spf1 redirect=", "expected a domain after ':'");
	parse_bad("v=spf1 foo", "unknown mechanism");
	parse_bad("v=spf1 ipv4:192.0.2.1", "unknown mechanism");
	parse_bad("v=spf1 !a", "unknown mechanism");
	parse_bad("v=spf1 a:ex%ample.org", "malformed macro");
	parse_bad("v=spf1 a:%{x}.example.org", "malformed macro");
	parse_bad("v=spf1 a:%{i.example.org", "malformed macro");
	parse_bad("v=spf1 foo=%{", "malformed macro");
	parse_bad("v=spf1 mx/33", "IPv4 cidr length must be 0 to 32");
	parse_bad("v=spf1 a/024", "IPv4 cidr length must be 0 to 32");
	parse_bad("v=spf1 a//129", "IPv6 cidr length must be 0 to 128");
	parse_bad("v=spf1 a/", "expected ':', '/' or the end");
	parse_bad("v=spf1 ax", "unknown mechanism");
	parse_bad("v=spf1 ptr/24", "ptr takes only ':' and a domain");
	parse_bad("v=spf1 a:example.org\x01", "only visible ASCII");
	parse_bad("v=spf1 a\ta", "only visible ASCII");
	parse_bad("v=spf1 a:\xc3\xa9.example.org", "only visible ASCII");
	parse_bad_n("v=spf1 foo ip4:x a:b mx", 23, 3, "unknown mechanism");

	char big[SPF_MAX_RECORD + 16];
	memset(big, 'a', sizeof(big) - 1);
	memcpy(big, "v=spf1 ", 7);
	big[sizeof(big) - 1] = '\0';
	parse_bad(big, "SPF record longer than 4096 bytes");
}

/* One term alone: its parsed fields. */
static void term_is(const char *text, enum spf_kind kind, const char *domain, unsigned c4,
		    unsigned c6, bool macro)
{
	struct spf_record rec;
	struct diag d;
	char name[200];
	int rc = parse(text, &rec, &d);
	const struct spf_term *t = rc == 0 && rec.n == 1 ? &rec.terms[0] : NULL;

	snprintf(name, sizeof(name), "term '%s'", text);
	CHECK(name,
	      t && t->kind == kind && streq(t->domain ? t->domain : "", domain) &&
		      t->cidr4 == c4 && t->cidr6 == c6 && t->macro == macro,
	      "rc %d: %s '%s' /%u //%u macro %d", rc, t ? spf_kind_name(t->kind) : "-",
	      t && t->domain ? t->domain : "", t ? t->cidr4 : 0, t ? t->cidr6 : 0,
	      t ? t->macro : 0);
	spf_record_free(&rec);
	diag_free(&d);
}

static void test_terms(void)
{
	term_is("v=spf1 a:example.org/24//64", SPF_A, "example.org", 24, 64, false);
	term_is("v=spf1 mx/24", SPF_MX, "", 24, 128, false);
	term_is("v=spf1 mx//64", SPF_MX, "", 32, 64, false);
	term_is("v=spf1 a:mail.example.org", SPF_A, "mail.example.org", 32, 128, false);
	term_is("v=spf1 a/0//0", SPF_A, "", 0, 0, false);
	term_is("v=spf1 mx:example.org.", SPF_MX, "example.org.", 32, 128, false);
	term_is("v=spf1 include:_spf.example.org", SPF_INCLUDE, "_spf.example.org", 0, 0, false);
	term_is("v=spf1 include:%{i}._spf.%{d}", SPF_INCLUDE, "%{i}._spf.%{d}", 0, 0, true);
	term_is("v=spf1 exists:%{ir}.%{l1r+-}._spf.%{d}", SPF_EXISTS, "%{ir}.%{l1r+-}._spf.%{d}",
		0, 0, true);
	term_is("v=spf1 a:%{d2}/24", SPF_A, "%{d2}", 24, 128, true);
	term_is("v=spf1 redirect=%{d}.example.org", SPF_REDIRECT, "%{d}.example.org", 0, 0, true);
	term_is("v=spf1 ptr:a%%b%_c%-d.example.org", SPF_PTR, "a%%b%_c%-d.example.org", 0, 0, true);

	struct spf_record rec;
	struct diag d;
	parse("v=spf1 ip4:192.0.2.1 ip4:192.0.2.1/24 ip6:2001:DB8::/32 ~ip6:2001:db8::1", &rec, &d);
	CHECK("ip4/ip6 networks as written",
	      rec.n == 4 && streq(rec.terms[0].net, "192.0.2.1/32") &&
		      streq(rec.terms[1].net, "192.0.2.1/24") && rec.terms[1].prefix.plen == 24 &&
		      streq(rec.terms[2].net, "2001:DB8::/32") &&
		      streq(rec.terms[3].net, "2001:db8::1/128") && rec.terms[3].qual == '~',
	      "%zu terms", rec.n);
	spf_record_free(&rec);
	diag_free(&d);
}

static void test_is_record(void)
{
	CHECK("is record 'v=spf1'", spf_is_record("v=spf1", 6), "no");
	CHECK("is record 'V=SPF1 a'", spf_is_record("V=SPF1 a", 8), "no");
	CHECK("not record 'v=spf10'", !spf_is_record("v=spf10", 7), "yes");
	CHECK("not record 'v=spf1\\ta'", !spf_is_record("v=spf1\ta", 8), "yes");
	CHECK("not record ' v=spf1'", !spf_is_record(" v=spf1", 7), "yes");
	CHECK("not record 'v=spf'", !spf_is_record("v=spf", 5), "yes");
}

static void resolver_ok(const char *s, const char *addr, uint16_t port)
{
	char a[64] = "", name[120];
	uint16_t p = 0;
	int rc = spf_resolver_parse(s, a, sizeof(a), &p);

	snprintf(name, sizeof(name), "resolver '%s'", s);
	CHECK(name, rc == 0 && streq(a, addr) && p == port, "rc %d, '%s' port %u", rc, a, p);
}

static void resolver_bad(const char *s)
{
	char a[64], name[120];
	uint16_t p;

	snprintf(name, sizeof(name), "resolver refused '%s'", s);
	CHECK(name, spf_resolver_parse(s, a, sizeof(a), &p) == -1, "accepted");
}

static void test_resolver(void)
{
	resolver_ok("192.0.2.53", "192.0.2.53", 53);
	resolver_ok("127.0.0.1:5353", "127.0.0.1", 5353);
	resolver_ok("[2001:db8::53]:5300", "2001:db8::53", 5300);
	resolver_ok("[2001:db8::53]", "2001:db8::53", 53);
	resolver_ok("2001:db8::53", "2001:db8::53", 53);
	resolver_bad("");
	resolver_bad("localhost");
	resolver_bad("localhost:53");
	resolver_bad("192.0.2.53:");
	resolver_bad("192.0.2.53:0");
	resolver_bad("192.0.2.53:053");
	resolver_bad("192.0.2.53:65536");
	resolver_bad("[2001:db8::53");
	resolver_bad("[2001:db8::53]:");
	resolver_bad("[2001:db8::53]x53");
	resolver_bad("[192.0.2.53]:53x");
	resolver_bad("010.0.2.53");
}

/* format = spf through a policy: labels, the header check, bad lines, the domain key. */
static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		abort();
}

static int load_policy(const char *dir, const char *keys, const char *feed, struct policy *pol,
		       struct diag *d)
{
	char path[600], text[1024];

	snprintf(path, sizeof(path), "%s/feed.txt", dir);
	write_file(path, feed);
	snprintf(text, sizeof(text),
		 "[service smtp]\nports = tcp/25\nsources = s\n\n[source s]\nformat = spf\n"
		 "file = feed.txt\n%s",
		 keys);
	snprintf(path, sizeof(path), "%s/policy.conf", dir);
	write_file(path, text);
	memset(d, 0, sizeof(*d));
	if (policy_load(pol, path, NULL, d) < 0)
		return -1;
	return feed_load(pol, 0, d);
}

static const char *first_msg(const struct diag *d)
{
	return d->nmsgs ? d->msgs[0].text : "(none)";
}

static void test_format(void)
{
	char dir[] = "/tmp/mxfence-spf-test.XXXXXX", where[256], path[600];
	struct policy pol;
	struct diag d;
	int rc;

	if (!mkdtemp(dir))
		abort();
	rc = load_policy(dir, "domain = _spf.example.org\nmax-lookups = 50\nresolver = 127.0.0.1:53\n",
			 "# spf _spf.example.org\n"
			 "192.0.2.0/24\t_spf.example.org > _a.example.org\n"
			 "# a comment\n\n"
			 "2001:db8::/32\t_spf.example.org > mx mail.example.org\r\n",
			 &pol, &d);
	struct source *src = pol.nsources ? &pol.sources[0] : NULL;
	CHECK("format spf: loads", rc == 0 && src && src->pfx[FAM_V4].n == 1 && src->pfx[FAM_V6].n == 1,
	      "rc %d: %s", rc, first_msg(&d));
	if (rc == 0 && src) {
		origin_where(&pol, src->pfx[FAM_V6].v[0].origin, where, sizeof(where));
		CHECK("format spf: where names the chain",
		      streq(where, "s, spf _spf.example.org > mx mail.example.org"), "'%s'", where);
		/* Documentation addresses: special-purpose warnings, as for any provider feed. */
		CHECK("format spf: published", d.warnings == 2 && d.errors == 0, "%zu warnings",
		      d.warnings);
	}
	policy_free(&pol);
	diag_free(&d);

	rc = load_policy(dir, "domain = other.example.org\n", "# spf _spf.example.org\n192.0.2.0/24\tx\n",
			 &pol, &d);
	CHECK("format spf: another domain's file",
	      rc < 0 && strstr(first_msg(&d), "feed.txt:1: error: the file flattens the SPF record "
					       "of another domain than other.example.org "
					       "'_spf.example.org'"),
	      "%s", first_msg(&d));
	policy_free(&pol);
	diag_free(&d);

	rc = load_policy(dir, "domain = example.org\n", "192.0.2.0/24\n192.0.2.0/24\t\n\tx\n", &pol, &d);
	CHECK("format spf: lines without a chain",
	      rc < 0 && d.errors == 3 && strstr(first_msg(&d), "feed.txt:1: error: expected PREFIX<TAB>CHAIN '192.0.2.0/24'"),
	      "%zu errors: %s", d.errors, first_msg(&d));
	policy_free(&pol);
	diag_free(&d);

	rc = load_policy(dir, "", "192.0.2.0/24\tx\n", &pol, &d);
	CHECK("format spf: no domain",
	      rc < 0 && strstr(first_msg(&d), "policy.conf:5: error: source s of format spf has no domain"),
	      "%s", first_msg(&d));
	policy_free(&pol);
	diag_free(&d);

	rc = load_policy(dir, "domain = localhost\nmax-lookups = 0\nresolver = name:53\n",
			 "192.0.2.0/24\tx\n", &pol, &d);
	CHECK("format spf: bad keys", rc < 0 && d.errors == 3 &&
					      strstr(first_msg(&d), "domain must be a domain name 'localhost'"),
	      "%zu errors: %s", d.errors, first_msg(&d));
	policy_free(&pol);
	diag_free(&d);

	snprintf(path, sizeof(path), "%s/feed.txt", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/policy.conf", dir);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_tsv_records();
	test_tsv_terms();
	test_tsv_strings();
	test_wire("dns-wire-txt-github.com-ae-dns-answer12.bin", 10, 14);
	test_wire("dns-wire-txt-_spf.mailgun.org-ae-dns-answer10.bin", 1, 13);
	test_parse();
	test_terms();
	test_is_record();
	test_resolver();
	test_format();
	for (size_t i = 0; i < TSV_ROWS; i++) {
		free(tsv_names[i]);
		free(tsv_texts[i]);
		free(tsv_strings[i]);
	}
	return failures ? 1 : 0;
}
