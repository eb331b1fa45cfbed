/*
 * Unit tests of the policy file (src/policy.c) where the golden cases do not
 * reach: every value at its bounds and just past them, the defaults, port
 * overlaps across and within services, names, duplicate keys, the line
 * limit, BOM and CRLF, paths, and where an input prefix came from.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "feed.h"
#include "natcheck.h"
#include "policy.h"
#include "tmpfiles.h"

/* Load text as tmp/NAME; the lines of the errors, as a string " 3 7" (warnings apart). */
static int load(const char *name, const char *text, struct policy *pol, char *lines, size_t n)
{
	struct diag d = { 0 };
	const char *path = tmp_text(name, text);
	int rc = policy_load(pol, path, tmp_path("cache"), &d);
	size_t plen = strlen(path), o = 0;

	lines[0] = '\0';
	for (size_t i = 0; i < d.nmsgs; i++) {
		const char *t = d.msgs[i].text;
		if (d.msgs[i].level != DIAG_ERROR)
			continue;
		if (strncmp(t, path, plen) == 0 && t[plen] == ':')
			o += (size_t)snprintf(lines + o, o < n ? n - o : 0, " %ld",
					      strtol(t + plen + 1, NULL, 10));
		else
			o += (size_t)snprintf(lines + o, o < n ? n - o : 0, " ?");
	}
	diag_free(&d);
	return rc;
}

/* The error lines of a policy made of text (which must fail, or not when want is ""). */
static void errors_at(const char *name, const char *text, const char *want)
{
	struct policy pol;
	char lines[512];
	int rc = load("p.conf", text, &pol, lines, sizeof(lines));

	CHECK(name, strcmp(lines, want) == 0 && (rc < 0) == (want[0] != '\0'),
	      "errors at lines '%s', want '%s' (rc %d)", lines, want, rc);
	policy_free(&pol);
}

#define SERVICE "[service s]\nports = tcp/25\nsources = a\n"
#define SOURCE "[source a]\nformat = list\nfile = a.txt\n"

static void test_defaults(void)
{
	struct policy pol;
	char lines[256];
	int rc = load("p.conf", SERVICE SOURCE, &pol, lines, sizeof(lines));
	const struct service *svc = &pol.services[0];
	const struct source *src = &pol.sources[0];

	CHECK("policy: a minimal policy loads", rc == 0 && !lines[0], "rc %d, errors at%s", rc, lines);
	if (rc == 0) {
		CHECK("policy: defaults of [table]",
		      strcmp(pol.table, DEFAULT_TABLE) == 0 && pol.priority == 0, "%s %d", pol.table,
		      pol.priority);
		CHECK("policy: defaults of [service]",
		      svc->otherwise == VERDICT_DROP && svc->max_removal == DEFAULT_MAX_REMOVAL &&
			      !svc->allow_empty && svc->nports == 1 && svc->ports[0].lo == 25 &&
			      svc->ports[0].hi == 25 && svc->ports[0].proto == PROTO_TCP,
		      "otherwise %d, max-removal %g", svc->otherwise, svc->max_removal);
		CHECK("policy: defaults of [source]",
		      !src->strict && !src->allow_empty && src->broadest[FAM_V4] == 8 &&
			      src->broadest[FAM_V6] == 16 && src->max_size == 64u << 20 &&
			      src->max_shrink == 10.0 && src->timeout == 120 &&
			      src->connect_timeout == 15 && src->retries == 3 && !src->remote &&
			      src->used_by == 1,
		      "broadest /%u /%u, max-size %llu", src->broadest[0], src->broadest[1],
		      (unsigned long long)src->max_size);
		CHECK("policy: a relative file is resolved against the policy's folder",
		      strcmp(src->path, tmp_path("a.txt")) == 0, "'%s'", src->path);
	}
	policy_free(&pol);
}

static void test_bounds_accepted(void)
{
	struct policy pol;
	char lines[256];
	int rc = load("p.conf",
		      "[table]\n"
		      "name = Abcdefghijklmnopqrstuvwxyz_12345\n" /* 32 characters */
		      "priority = -1000\n"
		      "[service s1]\n"
		      "ports = tcp/1, udp/65535 tcp/2-3,udp/2-65534\n"
		      "sources = a\n"
		      "otherwise = reject\n"
		      "max-removal = 0%\n"
		      "allow-empty = TRUE\n"
		      "[source a]\n"
		      "format = list\n"
		      "file = /nonexistent/a.txt\n"
		      "strict = On\n"
		      "broadest = /32\n"
		      "broadest6 = /128\n"
		      "allow-empty = 0\n"
		      "[service s2]\n"
		      "ports = tcp/4-65535\n"
		      "sources = a\n"
		      "max-removal = 100%\n"
		      "[source b]\n"
		      "format = aws\n"
		      "url = https://ip-ranges.example/ip-ranges.json\n"
		      "max-size = 65536K\n"
		      "max-shrink = 2.5%\n"
		      "timeout = 3600\n"
		      "connect-timeout = 600\n"
		      "retries = 0\n"
		      "broadest = /1\n"
		      "broadest6 = /1\n"
		      "[service s3]\n"
		      "ports = udp/0053 udp/1\n"
		      "sources = b\n",
		      &pol, lines, sizeof(lines));

	/* udp/0053: a leading zero is refused, so line 32 is the one error. */
	CHECK("policy: every value at its bounds is taken (only udp/0053 refused)",
	      rc < 0 && strcmp(lines, " 32") == 0, "errors at%s", lines);
	if (pol.nservices == 3 && pol.nsources == 2) {
		const struct service *s1 = &pol.services[0], *s2 = &pol.services[1];
		const struct source *a = &pol.sources[0], *b = &pol.sources[1];
		CHECK("policy: table name of 32 characters, priority -1000",
		      strcmp(pol.table, "Abcdefghijklmnopqrstuvwxyz_12345") == 0 &&
			      pol.priority == -1000, "%s %d", pol.table, pol.priority);
		CHECK("policy: ports tcp/1 udp/65535 tcp/2-3 udp/2-65534",
		      s1->nports == 4 && s1->ports[0].lo == 1 && s1->ports[1].proto == PROTO_UDP &&
			      s1->ports[1].lo == 65535 && s1->ports[2].lo == 2 && s1->ports[2].hi == 3 &&
			      s1->ports[3].lo == 2 && s1->ports[3].hi == 65534,
		      "%zu ports", s1->nports);
		CHECK("policy: otherwise reject, max-removal 0% and 100%, allow-empty TRUE",
		      s1->otherwise == VERDICT_REJECT && s1->max_removal == 0.0 && s1->allow_empty &&
			      s2->max_removal == 100.0,
		      "%d %g %d %g", s1->otherwise, s1->max_removal, s1->allow_empty, s2->max_removal);
		CHECK("policy: strict On, broadest /32 and /128, allow-empty 0, absolute file",
		      a->strict && a->broadest[FAM_V4] == 32 && a->broadest[FAM_V6] == 128 &&
			      !a->allow_empty && strcmp(a->path, "/nonexistent/a.txt") == 0,
		      "%d /%u /%u %s", a->strict, a->broadest[0], a->broadest[1], a->path);
		CHECK("policy: a source used by two services counts both",
		      a->used_by == 2 && b->used_by == 1, "%zu %zu", a->used_by, b->used_by);
		CHECK("policy: fetch keys at their bounds",
		      b->remote && b->max_size == 64u << 20 && b->max_shrink == 2.5 &&
			      b->timeout == 3600 && b->connect_timeout == 600 && b->retries == 0 &&
			      b->broadest[FAM_V4] == 1 && b->broadest[FAM_V6] == 1,
		      "max-size %llu timeout %u", (unsigned long long)b->max_size, b->timeout);
		CHECK("policy: a fetched source reads its copy in the cache",
		      b->path && strcmp(b->path, tmp_path("cache/b.feed")) == 0, "'%s'",
		      b->path ? b->path : "(null)");
	} else {
		CHECK("policy: every section was read", 0, "%zu services, %zu sources", pol.nservices,
		      pol.nsources);
	}
	policy_free(&pol);
}

/* Each value just past its bound: an error at its own line, and only there. */
static void test_bounds_refused(void)
{
	errors_at("policy: table name of 33 characters",
		  "[table]\nname = Abcdefghijklmnopqrstuvwxyz_123456\n" SERVICE SOURCE, " 2");
	errors_at("policy: priority -1001, 1001, +5, 007, 1e3",
		  "[table]\npriority = -1001\npriority = 1001\npriority = +5\npriority = 007\n"
		  "priority = 1e3\n" SERVICE SOURCE,
		  " 2 3 4 5 6");
	errors_at("policy: ports tcp/0, tcp/65536, tcp/5-4, tcp/, sctp/25, 25, tcp/-5",
		  "[service s]\nsources = a\nports = tcp/25\nports = tcp/0\nports = tcp/65536\n"
		  "ports = tcp/5-4\nports = tcp/\nports = sctp/25\nports = 25\nports = tcp/-5\n" SOURCE,
		  " 4 5 6 7 8 9 10");
	errors_at("policy: max-removal 100.1%, -1%, 5, 5 %, nan%",
		  "[service s]\nports = tcp/25\nsources = a\nmax-removal = 100.1%\nmax-removal = -1%\n"
		  "max-removal = 5\nmax-removal = 5 %\nmax-removal = nan%\n" SOURCE,
		  " 4 5 6 7 8");
	errors_at("policy: max-size 65537K, 0, 1G, 12X; timeout 0, 3601; connect-timeout 601; "
		  "retries 11, -1",
		  SERVICE "[source a]\nformat = list\nurl = https://example.org/a\nmax-size = 65537K\n"
			  "max-size = 0\nmax-size = 1G\nmax-size = 12X\ntimeout = 0\ntimeout = 3601\n"
			  "connect-timeout = 601\nretries = 11\nretries = -1\n",
		  " 7 8 9 10 11 12 13 14 15");
	errors_at("policy: broadest /0, /33, 8; broadest6 /129, /0",
		  SERVICE SOURCE "broadest = /0\nbroadest = /33\nbroadest = 8\nbroadest6 = /129\n"
				 "broadest6 = /0\n",
		  " 7 8 9 10 11");
	errors_at("policy: yes/no words only: y, 2, enabled",
		  SERVICE SOURCE "strict = y\nallow-empty = 2\n[service t]\nports = tcp/26\n"
				 "sources = a\nallow-empty = enabled\n",
		  " 7 8 12");
	errors_at("policy: every yes and no word in any case",
		  SERVICE SOURCE "strict = YES\nstrict = no\nstrict = True\nstrict = FALSE\n"
				 "strict = on\nstrict = Off\nstrict = 1\nstrict = 0\n",
		  "");
}

static void test_ports_overlap(void)
{
	errors_at("policy: tcp/25 and udp/25 in two services do not overlap",
		  SERVICE SOURCE "[service t]\nports = udp/25\nsources = a\n", "");
	errors_at("policy: tcp/1-24 and tcp/25 are adjacent, not overlapping",
		  SERVICE SOURCE "[service t]\nports = tcp/1-24 tcp/26-65535\nsources = a\n", "");
	errors_at("policy: tcp/20-30 overlaps tcp/25 at one end",
		  SERVICE SOURCE "[service t]\nports = tcp/20-25\nsources = a\n", " 8");
	errors_at("policy: a port twice in one service",
		  "[service s]\nports = tcp/25, tcp/587\nports = tcp/25\nsources = a\n" SOURCE, " 2");
	errors_at("policy: the third service overlaps the second alone",
		  SERVICE SOURCE "[service t]\nports = tcp/587\nsources = a\n"
				 "[service u]\nports = tcp/500-600\nsources = a\n",
		  " 11");
}

static void test_to_overlap(void)
{
	errors_at("policy: two services share tcp/25 where their 'to' do not meet",
		  "[service s]\nports = tcp/25\nto = 192.0.2.25 2001:db8::25\nsources = a\n"
		  "[service t]\nports = tcp/25\nto = 192.0.2.26, 2001:db8::26\nsources = a\n" SOURCE, "");
	errors_at("policy: 'to' that meet in IPv4 (a prefix holding an address): at the later 'to'",
		  "[service s]\nports = tcp/25\nto = 192.0.2.25 2001:db8::25\nsources = a\n"
		  "[service t]\nports = tcp/20-30\nsources = a\nto = 2001:db8::26\nto = 192.0.2.16/28\n"
		  SOURCE, " 8");
	errors_at("policy: a service without 'to' meets every destination",
		  "[service s]\nports = tcp/25\nto = 192.0.2.25 2001:db8::25\nsources = a\n"
		  "[service u]\nports = tcp/25\nsources = a\n" SOURCE, " 6");
	errors_at("policy: an IPv4 'to' only: IPv6 is every destination, and meets the other",
		  "[service s]\nports = tcp/25\nto = 192.0.2.25 2001:db8::25\nsources = a\n"
		  "[service t]\nports = tcp/25\nto = 192.0.2.26\nsources = a\n" SOURCE, " 6");
	errors_at("policy: the same 'to' on other ports does not overlap",
		  "[service s]\nports = tcp/25\nto = 192.0.2.25\nsources = a\n"
		  "[service t]\nports = tcp/587\nto = 192.0.2.25\nsources = a\n" SOURCE, "");
	errors_at("policy: 'to' refuses host names, /7, /15, host bits, 0.0.0.0/0",
		  "[service s]\nports = tcp/25\nto = mx.example.org 10.0.0.0/7 2001::/15\n"
		  "to = 192.0.2.1/24\nto = 0.0.0.0/0\nsources = a\n" SOURCE, " 3 3 3 4 5");
	errors_at("policy: 'to' takes /8 and /16, IPv4-mapped IPv6 with a warning",
		  "[service s]\nports = tcp/25\nto = 10.0.0.0/8 2001::/16 ::ffff:192.0.2.1\n"
		  "sources = a\n" SOURCE, "");
}

static void test_names_and_keys(void)
{
	errors_at("policy: a service name with a dash is refused, a source name may have - and .",
		  "[service smtp-in]\nports = tcp/25\nsources = relays-v2.x\n"
		  "[service ok_1]\nports = tcp/26\nsources = relays-v2.x\n"
		  "[source relays-v2.x]\nformat = list\nfile = a.txt\n",
		  " 1");
	errors_at("policy: names start with a letter",
		  "[service 1s]\nports = tcp/25\nsources = a\n[service s]\nports = tcp/26\n"
		  "sources = a\n[source _a]\nformat = list\nfile = a.txt\n" SOURCE,
		  " 1 7");
	errors_at("policy: an nft keyword is no table name",
		  "[table]\nname = drop\n" SERVICE SOURCE, " 2");
	errors_at("policy: duplicate keys: name, priority, format, file, url, ca-file",
		  "[table]\nname = a1\nname = a2\npriority = 1\npriority = 2\n" SERVICE
		  "[source a]\nformat = list\nformat = list\nfile = a.txt\nfile = b.txt\n"
		  "[source b]\nformat = aws\nurl = https://example.org/\nurl = https://example.org/\n"
		  "ca-file = x.pem\nca-file = y.pem\n[service t]\nports = tcp/26\nsources = b\n",
		  " 3 5 11 13 17 19");
	errors_at("policy: a source named twice in one service",
		  "[service s]\nports = tcp/25\nsources = a a\n" SOURCE, " 3");
	errors_at("policy: a key before any section", "ports = tcp/25\n" SERVICE SOURCE, " 1");
	errors_at("policy: duplicate sections", "[table]\n[table]\n" SERVICE SOURCE SOURCE,
		  " 2 9");

	/* ports and sources may be given over several lines: they add up. */
	struct policy pol;
	char lines[128];
	int rc = load("p.conf",
		      "[service s]\nports = tcp/25\nports = tcp/587 udp/53\nsources = a\nsources = b\n"
		      SOURCE "[source b]\nformat = list\nfile = b.txt\n",
		      &pol, lines, sizeof(lines));
	CHECK("policy: ports and sources over several lines add up",
	      rc == 0 && pol.services[0].nports == 3 && pol.services[0].nsources == 2 &&
		      pol.services[0].ports_line == 2 && pol.services[0].sources_line == 4,
	      "rc %d%s", rc, lines);
	policy_free(&pol);
}

static void test_lines(void)
{
	char text[1024], pad[256];

	/* inih reads lines of up to 198 bytes here; a longer one is an error at its line. */
	memset(pad, 'x', sizeof(pad));
	snprintf(text, sizeof(text), SERVICE "#%.*s\n" SOURCE "#%.*s\n", 197, pad, 198, pad);
	errors_at("policy: a line of 198 bytes is read, one of 199 is refused", text, " 8");

	static const char bom_crlf[] = "\xef\xbb\xbf[service s]\r\nports = tcp/25 ; a comment\r\n"
				       "sources = a\r\n# a comment\r\n[source a]\r\nformat = list\r\n"
				       "file = a.txt\r\n";
	struct policy pol;
	char lines[128];
	int rc = load("p.conf", bom_crlf, &pol, lines, sizeof(lines));
	CHECK("policy: a BOM, CRLF line ends and comments",
	      rc == 0 && pol.nservices == 1 && pol.services[0].nports == 1 &&
		      pol.services[0].ports[0].lo == 25 && pol.sources[0].path &&
		      strcmp(pol.sources[0].path, tmp_path("a.txt")) == 0,
	      "rc %d%s", rc, lines);
	policy_free(&pol);

	static const char nul[] = "[service s]\nports = tcp/25\nsources = a\0" "b\n" SOURCE;
	struct diag d = { 0 };
	const char *path = tmp_write("nul.conf", nul, sizeof(nul) - 1);
	rc = policy_load(&pol, path, NULL, &d);
	CHECK("policy: a NUL byte is an error at its line",
	      rc < 0 && d.nmsgs >= 1 && strstr(d.msgs[0].text, "nul.conf:3: error: NUL byte"),
	      "rc %d, %s", rc, d.nmsgs ? d.msgs[0].text : "no message");
	diag_free(&d);
	policy_free(&pol);
}

static void test_ports_and_origins(void)
{
	struct policy pol;
	struct diag d = { 0 };
	const char *path;

	tmp_text("a.txt", "# a\n192.0.2.0/25\n\n198.51.100.7\n2001:db8::/48\n");
	tmp_text("b.txt", "192.0.2.128/25\n2001:db8:1::/48\n");
	tmp_text("empty.txt", "# nothing\n");
	path = tmp_text("o.conf", "[service s]\nports = tcp/1000-1010 udp/53\nsources = a b\n"
				  "[service e]\nports = tcp/2000\nsources = e\n"
				  "[source a]\nformat = list\nfile = a.txt\n"
				  "[source b]\nformat = list\nfile = b.txt\n"
				  "[source e]\nformat = list\nfile = empty.txt\nallow-empty = yes\n");
	int rc = policy_load(&pol, path, NULL, &d);
	if (rc == 0)
		rc = policy_compile(&pol, &d);
	CHECK("policy: two services, three sources compile", rc == 0, "rc %d", rc);
	if (rc != 0) {
		diag_print(&d, stdout);
		diag_free(&d);
		policy_free(&pol);
		return;
	}
	const struct service *s = &pol.services[0];
	CHECK("policy: service_has_port at the ends of a range and beside them",
	      !service_has_port(s, PROTO_TCP, 999) && service_has_port(s, PROTO_TCP, 1000) &&
		      service_has_port(s, PROTO_TCP, 1010) && !service_has_port(s, PROTO_TCP, 1011) &&
		      !service_has_port(s, PROTO_UDP, 1000) && service_has_port(s, PROTO_UDP, 53) &&
		      !service_has_port(s, PROTO_TCP, 53),
	      "%s", "");

	/* Every input prefix names its source and line. */
	static const struct {
		const char *src;
		uint32_t line;
		int fam;
		const char *where;
	} want[] = {
		{ "a", 2, FAM_V4, "a, a.txt:2" }, { "b", 1, FAM_V4, "b, b.txt:1" },
		{ "a", 4, FAM_V4, "a, a.txt:4" }, { "a", 5, FAM_V6, "a, a.txt:5" },
		{ "b", 2, FAM_V6, "b, b.txt:2" },
	};
	size_t k = 0, bad = 0;
	char where[256], first_bad[300] = "";
	for (int f = 0; f < FAM_COUNT; f++)
		for (size_t i = 0; i < s->set[f].in.n && k < 5; i++, k++) {
			struct origin o = policy_origin(&pol, s->set[f].in.v[i].origin);
			origin_where(&pol, s->set[f].in.v[i].origin, where, sizeof(where));
			if (f != want[k].fam || strcmp(pol.sources[o.src].name, want[k].src) != 0 ||
			    o.entry != want[k].line || strcmp(where, want[k].where) != 0) {
				if (!bad++)
					snprintf(first_bad, sizeof(first_bad), "%zu: %s line %u '%s'", k,
						 pol.sources[o.src].name, o.entry, where);
			}
		}
	CHECK("policy: every input prefix's origin names its source and line", k == 5 && !bad,
	      "%zu prefixes, %zu wrong: %s", k, bad, first_bad);
	CHECK("policy: the sets merge both sources (192.0.2.0/24 whole)",
	      s->set[FAM_V4].n == 2 && s->set[FAM_V4].iv[0].lo == 0xc0000200u &&
		      s->set[FAM_V4].iv[0].hi == 0xc00002ffu && s->set[FAM_V6].n == 1,
	      "%zu v4 intervals, %zu v6", s->set[FAM_V4].n, s->set[FAM_V6].n);

	size_t errors = d.errors;
	CHECK("policy: an empty service that allows nothing is an error",
	      policy_empty_services(&pol, &d) < 0 && d.errors == errors + 1, "%zu errors",
	      d.errors - errors);
	pol.services[1].allow_empty = true;
	CHECK("policy: allow-empty on the service permits it",
	      policy_empty_services(&pol, &d) == 0, "%s", "");
	diag_free(&d);
	policy_free(&pol);
}

/* A policy from text, loaded and linted (its sources are not read). */
static int load_policy(const char *text, struct policy *pol)
{
	struct diag d = { 0 };
	int rc = policy_load(pol, tmp_text("natcheck.conf", text), tmp_path("cache"), &d);

	diag_free(&d);
	return rc;
}

static struct nat_rule nat(int fam, int l4, unsigned plo, unsigned phi, const char *dlo,
			   const char *dhi)
{
	struct nat_rule r = { .family = "ip", .table = "nat", .chain = "PREROUTING", .fam = fam,
			      .l4proto = l4 };
	struct prefix a, b;
	unsigned flags;

	snprintf(r.target, sizeof(r.target), "192.0.2.130:25");
	r.any_port = plo == 0;
	if (!r.any_port) {
		r.ports = malloc(sizeof(*r.ports));
		r.ports[0] = (struct range){ plo, phi };
		r.nports = 1;
	}
	r.any_dest = dlo == NULL;
	if (dlo) {
		addr_parse(dlo, strlen(dlo), &a, &flags);
		addr_parse(dhi, strlen(dhi), &b, &flags);
		r.dest = malloc(sizeof(*r.dest));
		r.dest[0] = (struct range){ a.addr, b.addr };
		r.ndest = 1;
	}
	return r;
}

/* The warnings natcheck() gives for one rule, joined by '|'. */
static void nat_warnings(const struct policy *pol, struct nat_rule r, char *buf, size_t n)
{
	struct nat_rule_list l = { &r, 1 };
	struct diag d = { 0 };
	size_t o = 0;

	buf[0] = '\0';
	natcheck(pol, &l, &d);
	for (size_t i = 0; i < d.nmsgs && o < n; i++)
		o += (size_t)snprintf(buf + o, n - o, "%s%s", i ? "|" : "", d.msgs[i].text);
	diag_free(&d);
	free(r.ports);
	free(r.dest);
}

static void test_natcheck(void)
{
	struct policy pol;
	char got[2048];
	const struct service *svc, *other;
	struct prefix dst;
	unsigned flags;

	if (load_policy("[service smtp]\nports = tcp/25\nto = 203.0.113.1 2001:db8:e::1\n"
			"sources = r\n[service sub]\nports = tcp/587 tcp/2525\nsources = r\n"
			"[source r]\nformat = list\nfile = r.txt\n", &pol) < 0) {
		CHECK("natcheck: policy loads", 0, "policy_load failed");
		return;
	}
	nat_warnings(&pol, nat(FAM_V4, 6, 25, 25, "203.0.113.1", "203.0.113.1"), got, sizeof(got));
	CHECK("natcheck: a DNAT of a destination in 'to' is covered", !got[0], "got '%s'", got);
	nat_warnings(&pol, nat(FAM_V4, 6, 25, 25, "203.0.113.0", "203.0.113.3"), got, sizeof(got));
	CHECK("natcheck: the part of a prefix no 'to' covers is named",
	      !strcmp(got, "warning: tcp/25 to 203.0.113.0/30 is DNAT'd by table ip nat chain "
			   "PREROUTING to 192.0.2.130:25; no 'to' of service smtp covers 203.0.113.0, "
			   "203.0.113.2/31: that mail is not filtered"), "got '%s'", got);
	nat_warnings(&pol, nat(FAM_V4, -1, 0, 0, NULL, NULL), got, sizeof(got));
	CHECK("natcheck: any port and address: the service without 'to', at its own port",
	      !strcmp(got, "warning: tcp/587 to any address is DNAT'd by table ip nat chain "
			   "PREROUTING to 192.0.2.130:25; service sub has no 'to': that mail is not "
			   "filtered"), "got '%s'", got);
	nat_warnings(&pol, nat(-1, 6, 2000, 3000, NULL, NULL), got, sizeof(got));
	CHECK("natcheck: a rule of either family: both are named",
	      !strcmp(got, "warning: tcp/2525 to any address is DNAT'd by table ip nat chain "
			   "PREROUTING to 192.0.2.130:25; service sub has no IPv4 'to': that mail is "
			   "not filtered|warning: tcp/2525 to any address is DNAT'd by table ip nat "
			   "chain PREROUTING to 192.0.2.130:25; service sub has no IPv6 'to': that mail "
			   "is not filtered"), "got '%s'", got);
	nat_warnings(&pol, nat(FAM_V4, 17, 25, 25, "203.0.113.9", "203.0.113.9"), got, sizeof(got));
	CHECK("natcheck: another protocol is no service's", !got[0], "got '%s'", got);
	nat_warnings(&pol, nat(FAM_V4, 6, 80, 80, NULL, NULL), got, sizeof(got));
	CHECK("natcheck: another port is no service's", !got[0], "got '%s'", got);
	nat_warnings(&pol, nat(FAM_V6, 6, 25, 25, NULL, NULL), got, sizeof(got));
	CHECK("natcheck: no destination address, the service has a 'to': covered", !got[0],
	      "got '%s'", got);

	struct nat_rule none = nat(FAM_V4, 6, 587, 587, NULL, NULL);
	none.any_dest = false;
	nat_warnings(&pol, none, got, sizeof(got));
	CHECK("natcheck: a rule no destination passes rewrites nothing", !got[0], "got '%s'", got);

	addr_parse("203.0.113.1", 11, &dst, &flags);
	policy_flow_service(&pol, FAM_V4, PROTO_TCP, 25, &dst, &svc, &other);
	CHECK("flow service: a destination in 'to'", svc == &pol.services[0], "got %s",
	      svc ? svc->name : "none");
	addr_parse("203.0.113.2", 11, &dst, &flags);
	policy_flow_service(&pol, FAM_V4, PROTO_TCP, 25, &dst, &svc, &other);
	CHECK("flow service: a destination outside 'to' is not governed", svc == NULL, "got %s",
	      svc ? svc->name : "none");
	policy_flow_service(&pol, FAM_V4, PROTO_TCP, 25, NULL, &svc, &other);
	CHECK("flow service: no destination: the one service with 'to'", svc == &pol.services[0],
	      "got %s", svc ? svc->name : "none");
	policy_flow_service(&pol, FAM_V6, PROTO_TCP, 587, &dst, &svc, &other);
	CHECK("flow service: a service without 'to' governs any destination",
	      svc == &pol.services[1], "got %s", svc ? svc->name : "none");
	policy_free(&pol);
}

int main(void)
{
	tmp_begin("policy-test");
	test_defaults();
	test_bounds_accepted();
	test_bounds_refused();
	test_ports_overlap();
	test_to_overlap();
	test_names_and_keys();
	test_lines();
	test_ports_and_origins();
	test_natcheck();
	tmp_end();
	return failures ? 1 : 0;
}
