/*
 * Unit tests of the plan file (plan.c), the live digest (plan_make.c) and the
 * audit trail (audit.c): no kernel needed.
 * Prints "PASS: name" / "FAIL: name: why" per check (see tests/run).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "check.h"
#include "live.h"
#include "plan.h"
#include "plan_make.h"
#include "util.h"

static u128 v4(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return (u128)(a << 24 | b << 16 | c << 8 | d);
}

static u128 v6(uint16_t a, uint16_t b, uint16_t c)
{
	return (u128)a << 112 | (u128)b << 96 | (u128)c << 80;
}

/* Two services, three sources, a delta; or the same as a whole table. */
static void fixture(struct plan *p, enum plan_change change)
{
	memset(p, 0, sizeof(*p));
	p->created = 1796682000; /* 2026-12-07T22:20:00Z */
	p->table = xstrdup("mxfence");
	p->priority = -5;
	p->nservices = 2;
	p->services = xcalloc(2, sizeof(*p->services));
	p->services[0].name = xstrdup("smtp");
	p->services[0].nports = 1;
	p->services[0].ports = xcalloc(1, sizeof(struct portrange));
	p->services[0].ports[0] = (struct portrange){ PROTO_TCP, 25, 25 };
	p->services[0].otherwise = VERDICT_DROP;
	p->services[0].totals.prefixes_added = 3;
	p->services[0].totals.prefixes_removed = 1;
	p->services[0].totals.v4_gained = 768;
	p->services[0].totals.v4_lost = 256;
	p->services[1].name = xstrdup("submission");
	p->services[1].nports = 2;
	p->services[1].ports = xcalloc(2, sizeof(struct portrange));
	p->services[1].ports[0] = (struct portrange){ PROTO_TCP, 465, 465 };
	p->services[1].ports[1] = (struct portrange){ PROTO_TCP, 1000, 2000 };
	p->services[1].otherwise = VERDICT_REJECT;
	p->services[1].totals.v6_gained = 65536;
	/* submission goes to servers behind this host: 192.0.2.16/28 and 192.0.2.25 merged, an IPv6 /64. */
	range_vec_push(&p->services[1].to[FAM_V4], v4(192, 0, 2, 16), v4(192, 0, 2, 31));
	range_vec_push(&p->services[1].to[FAM_V4], v4(203, 0, 113, 1), v4(203, 0, 113, 1));
	range_vec_push(&p->services[1].to[FAM_V6], v6(0x2001, 0xdb8, 5), v6(0x2001, 0xdb8, 5) | (((u128)1 << 64) - 1));
	p->netns = 4026531840u;
	p->genid = 42;
	p->table_present = change == PLAN_DELTA;
	memset(p->against, 'a', 64);
	p->policy_path = xstrdup("/etc/mxfence/my policy%.conf");
	memset(p->policy_sha256, 'b', 64);
	p->nsources = 3;
	p->sources = xcalloc(3, sizeof(*p->sources));
	const char *names[] = { "relays", "microsoft365", "-" };
	for (int i = 0; i < 3; i++) {
		p->sources[i].name = xstrdup(i == 2 ? "spf-google.com" : names[i]);
		p->sources[i].format = xstrdup(i == 0 ? "list" : i == 1 ? "m365" : "spf");
		memset(p->sources[i].sha256, '0' + i, 64);
	}
	p->sources[1].version = xstrdup("2024071400 (Exchange)");
	p->sources[2].version = xstrdup("-");
	p->nsets = 4;
	p->sets = xcalloc(4, sizeof(*p->sets));
	p->gates = xcalloc(4, sizeof(*p->gates));
	for (size_t i = 0; i < 4; i++) {
		struct plan_set *s = &p->sets[i];
		s->service = i / 2;
		s->fam = (enum family)(i % 2);
		snprintf(s->name, sizeof(s->name), "%s_%s", p->services[i / 2].name, i % 2 ? "v6" : "v4");
		p->gates[i].max = i == 2 ? 2.5 : 10;
	}
	p->gates[0].had = 1024;
	p->gates[0].lost = 256;
	p->gates[0].over = true;
	p->verdict = PLAN_GATES_FORCED;
	p->change = change;
	struct plan_set *s4 = &p->sets[0], *s6 = &p->sets[3];
	if (change == PLAN_DELTA) {
		range_vec_push(&s4->del, v4(198, 51, 100, 0), v4(198, 51, 100, 255));
		range_vec_push(&s4->add, v4(192, 0, 2, 0), v4(192, 0, 2, 255));
		range_vec_push(&s4->add, v4(198, 51, 100, 0), v4(198, 51, 100, 127));
		range_vec_push(&s4->add, v4(203, 0, 113, 7), v4(203, 0, 113, 7));
		s4->bits = xcalloc(3, sizeof(uint64_t));
		s4->bits[0] = 1;
		s4->bits[1] = 3;
		s4->bits[2] = 4;
		range_vec_push(&s6->add, v6(0x2001, 0xdb8, 1), v6(0x2001, 0xdb8, 1) | (((u128)1 << 80) - 1));
		s6->bits = xcalloc(1, sizeof(uint64_t));
		s6->bits[0] = 2;
	} else {
		p->why = xstrdup("first install");
		range_vec_push(&s4->full, v4(192, 0, 2, 0), v4(192, 0, 2, 255));
		range_vec_push(&s4->full, v4(203, 0, 113, 7), v4(203, 0, 113, 7));
		s4->bits = xcalloc(2, sizeof(uint64_t));
		s4->bits[0] = 1;
		s4->bits[1] = 4;
		range_vec_push(&s6->full, 0, ~(u128)0);
		s6->bits = xcalloc(1, sizeof(uint64_t));
	}
}

static bool same_ranges(const struct range_vec *a, const struct range_vec *b)
{
	return a->n == b->n && (!a->n || !memcmp(a->v, b->v, a->n * sizeof(*a->v)));
}

static bool same_plan(const struct plan *a, const struct plan *b)
{
	if (a->created != b->created || strcmp(a->table, b->table) || a->priority != b->priority ||
	    a->nservices != b->nservices || a->netns != b->netns || a->genid != b->genid ||
	    a->table_present != b->table_present || strcmp(a->against, b->against) ||
	    strcmp(a->policy_path, b->policy_path) || a->nsources != b->nsources ||
	    a->verdict != b->verdict || a->change != b->change || a->nsets != b->nsets)
		return false;
	for (size_t i = 0; i < a->nservices; i++)
		if (strcmp(a->services[i].name, b->services[i].name) ||
		    a->services[i].nports != b->services[i].nports ||
		    memcmp(a->services[i].ports, b->services[i].ports,
			   a->services[i].nports * sizeof(struct portrange)) ||
		    !same_ranges(&a->services[i].to[FAM_V4], &b->services[i].to[FAM_V4]) ||
		    !same_ranges(&a->services[i].to[FAM_V6], &b->services[i].to[FAM_V6]) ||
		    a->services[i].totals.v4_gained != b->services[i].totals.v4_gained ||
		    a->services[i].totals.v6_gained != b->services[i].totals.v6_gained)
			return false;
	for (size_t i = 0; i < a->nsources; i++)
		if (strcmp(a->sources[i].name, b->sources[i].name) ||
		    !!a->sources[i].version != !!b->sources[i].version ||
		    (a->sources[i].version && strcmp(a->sources[i].version, b->sources[i].version)))
			return false;
	for (size_t i = 0; i < a->nsets; i++) {
		const struct plan_set *x = &a->sets[i], *y = &b->sets[i];
		size_t nb = a->change == PLAN_REPLACE ? x->full.n : x->add.n;
		if (strcmp(x->name, y->name) || !same_ranges(&x->del, &y->del) ||
		    !same_ranges(&x->add, &y->add) || !same_ranges(&x->full, &y->full) ||
		    (nb && memcmp(x->bits, y->bits, nb * sizeof(uint64_t))) ||
		    a->gates[i].over != b->gates[i].over || a->gates[i].max != b->gates[i].max ||
		    a->gates[i].had != b->gates[i].had)
			return false;
	}
	return true;
}

static void test_roundtrip(enum plan_change change)
{
	struct plan p, again;
	char *buf, *buf2, err[512], name[80];
	size_t len, len2;
	const char *kind = change == PLAN_DELTA ? "delta" : "replace";

	fixture(&p, change);
	plan_encode(&p, &buf, &len);
	snprintf(name, sizeof(name), "plan %s: decodes", kind);
	int rc = plan_decode(buf, len, &again, err, sizeof(err));
	CHECK(name, rc == 0, "%s", err);
	if (rc == 0) {
		snprintf(name, sizeof(name), "plan %s: decoded plan is the one encoded", kind);
		CHECK(name, same_plan(&p, &again), "differs");
		plan_encode(&again, &buf2, &len2);
		snprintf(name, sizeof(name), "plan %s: encodes back to the same bytes", kind);
		CHECK(name, len == len2 && !memcmp(buf, buf2, len), "%zu vs %zu bytes", len, len2);
		free(buf2);
		plan_free(&again);
	}
	/* Cut short at every length: always refused, never a crash. */
	size_t accepted = 0;
	for (size_t n = 0; n < len; n++) {
		if (plan_decode(buf, n, &again, err, sizeof(err)) == 0) {
			accepted++;
			plan_free(&again);
		}
	}
	snprintf(name, sizeof(name), "plan %s: refused when cut at any of %zu lengths", kind, len);
	CHECK(name, accepted == 0, "%zu cut plans accepted", accepted);
	/* A flipped bit anywhere: refused. */
	accepted = 0;
	for (size_t i = 0; i < len; i++)
		for (int bit = 0; bit < 8; bit += 3) {
			buf[i] ^= (char)(1 << bit);
			if (plan_decode(buf, len, &again, err, sizeof(err)) == 0) {
				accepted++;
				plan_free(&again);
			}
			buf[i] ^= (char)(1 << bit);
		}
	snprintf(name, sizeof(name), "plan %s: refused with any byte flipped (%zu bytes, 3 bits each)",
		 kind, len);
	CHECK(name, accepted == 0, "%zu damaged plans accepted", accepted);
	free(buf);
	plan_free(&p);
}

/* Replace the first `from` by `to` in the fixture's text, re-seal it, and expect `msg`. */
static void refused(const char *what, enum plan_change change, const char *from, const char *to,
		    const char *msg)
{
	struct plan p, again;
	char *buf, err[512] = "", name[200], digest[SHA256_HEX];
	size_t len;

	fixture(&p, change);
	plan_encode(&p, &buf, &len);
	plan_free(&p);
	char *at = strstr(buf, from);
	snprintf(name, sizeof(name), "plan refused: %s", what);
	if (!at) {
		CHECK(name, false, "fixture has no '%s'", from);
		free(buf);
		return;
	}
	size_t end = (size_t)(strstr(buf, "end sha256 ") - buf);
	char *edited = xasprintf("%.*s%s%.*s", (int)(at - buf), buf, to,
				 (int)(end - (size_t)(at - buf) - strlen(from)), at + strlen(from));
	sha256_hex(edited, strlen(edited), digest);
	char *sealed = xasprintf("%send sha256 %s\n", edited, digest);
	int rc = plan_decode(sealed, strlen(sealed), &again, err, sizeof(err));
	if (rc == 0)
		plan_free(&again);
	CHECK(name, rc < 0 && strstr(err, msg), "rc %d, message '%s', want '%s'", rc, err, msg);
	free(sealed);
	free(edited);
	free(buf);
}

/*
 * Two services on one port are one plan's when their destinations do not
 * meet: smtp's tcp/25 to 198.51.100.0/24 and submission's to 192.0.2.16/28 etc.
 */
static void test_shared_port(void)
{
	struct plan p, again;
	char *buf, *edited, err[512] = "", digest[SHA256_HEX];
	size_t len;

	fixture(&p, PLAN_DELTA);
	range_vec_push(&p.services[0].to[FAM_V4], v4(198, 51, 100, 0), v4(198, 51, 100, 255));
	range_vec_push(&p.services[0].to[FAM_V6], v6(0x2001, 0xdb8, 6), v6(0x2001, 0xdb8, 6) | (((u128)1 << 64) - 1));
	p.services[1].ports[0] = (struct portrange){ PROTO_TCP, 25, 25 };
	plan_encode(&p, &buf, &len);
	int rc = plan_decode(buf, len, &again, err, sizeof(err));
	CHECK("plan: two services share tcp/25 where their destinations do not meet", rc == 0, "%s",
	      err);
	if (rc == 0)
		plan_free(&again);
	/* The same with smtp's IPv6 `to` gone: every IPv6 destination meets submission's. */
	char *v6to = strstr(buf, ",2001:db8:6::/64");
	size_t end = (size_t)(strstr(buf, "end sha256 ") - buf);
	edited = xasprintf("%.*s%.*s", (int)(v6to - buf), buf,
			   (int)(end - (size_t)(v6to - buf) - strlen(",2001:db8:6::/64")),
			   v6to + strlen(",2001:db8:6::/64"));
	sha256_hex(edited, strlen(edited), digest);
	char *sealed = xasprintf("%send sha256 %s\n", edited, digest);
	rc = plan_decode(sealed, strlen(sealed), &again, err, sizeof(err));
	if (rc == 0)
		plan_free(&again);
	CHECK("plan refused: a family without 'to' meets the other service's on a shared port",
	      rc < 0 && strstr(err, "port tcp/25 overlaps one of service smtp"), "rc %d: %s", rc, err);
	free(sealed);
	free(edited);
	free(buf);
	plan_free(&p);
}

static void test_refusals(void)
{
	refused("a newer version", PLAN_DELTA, "mxfence-plan 2\n", "mxfence-plan 3\n",
		"line 1: plan version '3': this mxfence reads version 2");
	refused("a version 1 plan (no 'to')", PLAN_DELTA, "mxfence-plan 2\n", "mxfence-plan 1\n",
		"line 1: plan version '1': this mxfence reads version 2");
	refused("not a plan", PLAN_DELTA, "mxfence-plan 2\n", "hello\n", "line 1: not an mxfence plan");
	refused("a service without its 'to' field", PLAN_DELTA, " tcp/25 to -\n", " tcp/25\n",
		"a 'service' record has 6 fields, not 8");
	refused("'to' prefixes out of order", PLAN_DELTA, "to 192.0.2.16/28,203.0.113.1/32",
		"to 203.0.113.1/32,192.0.2.16/28", "expected '-' or the destinations as prefixes");
	refused("'to' IPv6 before IPv4", PLAN_DELTA, "to 192.0.2.16/28,203.0.113.1/32,2001:db8:5::/64",
		"to 2001:db8:5::/64,192.0.2.16/28,203.0.113.1/32", "expected '-' or the destinations");
	refused("'to' with host bits", PLAN_DELTA, "to 192.0.2.16/28", "to 192.0.2.17/28",
		"expected '-' or the destinations");
	refused("'to' broader than the limit", PLAN_DELTA, "to 192.0.2.16/28", "to 192.0.0.0/7",
		"expected '-' or the destinations");
	refused("'to' not merged", PLAN_DELTA, "to 192.0.2.16/28", "to 192.0.2.16/29,192.0.2.24/29",
		"expected '-' or the destinations");
	refused("'to' empty after a comma", PLAN_DELTA, "2001:db8:5::/64\n", "2001:db8:5::/64,\n",
		"expected '-' or the destinations");
	refused("two services on a port with meeting destinations", PLAN_DELTA,
		"tcp/1000-2000 to 192.0.2.16/28,203.0.113.1/32,2001:db8:5::/64",
		"tcp/25 to 192.0.2.16/28,203.0.113.1/32,2001:db8:5::/64",
		"port tcp/25 overlaps one of service smtp");
	refused("February 30", PLAN_DELTA, "2026-12-07T22:20:00Z", "2026-02-30T22:20:00Z",
		"line 2: expected a time");
	refused("a leading zero", PLAN_DELTA, "generation 42", "generation 042",
		"line 6: expected a decimal number '042'");
	refused("a generation beyond 32 bits", PLAN_DELTA, "generation 42", "generation 4294967296",
		"number out of range");
	refused("upper-case hex", PLAN_DELTA, "digest aaaa", "digest AAAA",
		"expected 64 lowercase hex digits");
	refused("a table name nft cannot load", PLAN_DELTA, "table mxfence", "table drop",
		"line 3: invalid table name 'drop'");
	refused("-0 priority", PLAN_DELTA, "priority -5", "priority -0", "expected a priority");
	refused("overlapping ports", PLAN_DELTA, "tcp/1000-2000", "tcp/25-30",
		"port tcp/25 overlaps one of service smtp");
	refused("a single port written as a range", PLAN_DELTA, "tcp/465,", "tcp/465-465,",
		"expected ports");
	refused("an address not in canonical form", PLAN_DELTA, "+ 192.0.2.0 ", "+ 192.0.2.00 ",
		"expected an IPv4 address as the kernel would print it");
	refused("an IPv6 address spelled long", PLAN_DELTA, "+ 2001:db8:1::", "+ 2001:0db8:1::",
		"expected an IPv6 address");
	refused("an IPv4 address in an IPv6 set", PLAN_DELTA, "+ 2001:db8:1:: ", "+ ::ffff:192.0.2.1 ",
		"expected an IPv6 address");
	refused("intervals out of order", PLAN_DELTA, "+ 203.0.113.7 203.0.113.7",
		"+ 198.51.100.100 198.51.100.100", "intervals not ascending and disjoint");
	refused("an interval backwards", PLAN_DELTA, "+ 203.0.113.7 203.0.113.7",
		"+ 203.0.113.7 203.0.113.6", "interval runs backwards");
	refused("a source bit beyond the sources", PLAN_DELTA, "203.0.113.7 203.0.113.7 4",
		"203.0.113.7 203.0.113.7 8", "sources beyond the plan's 3 named");
	refused("fewer intervals than announced", PLAN_DELTA, "del 1 add 3", "del 1 add 4",
		"set smtp_v4: expected '+ LO HI BITS' (4 of 4)");
	refused("more intervals than announced", PLAN_DELTA, "del 1 add 3", "del 1 add 2",
		"expected a 'set' record");
	refused("a gate verdict that does not follow", PLAN_DELTA, "gates forced", "gates ok",
		"does not follow from the gates above");
	refused("a needless escape", PLAN_DELTA, "my%20policy", "my%20p%6Flicy",
		"bad or needless %-escape");
	refused("a NUL escaped", PLAN_DELTA, "my%20policy", "my%00policy", "bad or needless %-escape");
	refused("a tab", PLAN_DELTA, "table mxfence priority", "table mxfence\tpriority",
		"byte 0x09");
	refused("two spaces", PLAN_DELTA, "table mxfence priority", "table mxfence  priority",
		"empty field");
	refused("an unknown format", PLAN_DELTA, "format m365", "format m366", "unknown format 'm366'");
	refused("sets out of order", PLAN_DELTA, "set smtp_v4 del", "set smtp_v6 del",
		"expected set smtp_v4");
	refused("a set line in a replace plan with delta counts", PLAN_REPLACE,
		"set smtp_v4 elements 2", "set smtp_v4 del 0 add 2", "has 6 fields, not 4");
	refused("loses more than it holds", PLAN_DELTA, "lost 256 held 1024", "lost 2048 held 1024",
		"loses more addresses than it holds");
	refused("max-removal over 100", PLAN_DELTA, "max 2.5", "max 250", "expected a percentage");
	refused("max-removal spelled otherwise", PLAN_DELTA, "max 2.5", "max 2.50",
		"expected a percentage");
	refused("a record after the sets", PLAN_DELTA, "set submission_v6 del 0 add 1\n",
		"set submission_v6 del 0 add 1\n+ 2001:db8:1:: 2001:db8:1:ffff:ffff:ffff:ffff:ffff 2\n"
		"set x del 0 add 0\n",
		"a record after the last set");
}

static void test_damage_messages(void)
{
	struct plan p, again;
	char *buf, err[512];
	size_t len;
	int rc;

	fixture(&p, PLAN_DELTA);
	plan_encode(&p, &buf, &len);
	plan_free(&p);
	rc = plan_decode(buf, len - 30, &again, err, sizeof(err));
	CHECK("plan cut short: says so", rc < 0 && strstr(err, "cut short"), "%s", err);
	char *at = strstr(buf, "198.51.100.0 198.51.100.255");
	at[2] = '9';
	rc = plan_decode(buf, len, &again, err, sizeof(err));
	CHECK("plan with a changed byte: says it was damaged or edited",
	      rc < 0 && strstr(err, "does not match the digest of its end line"), "%s", err);
	free(buf);
}

static void test_file(void)
{
	char dir[] = "/tmp/mxfence-plan-test.XXXXXX", *path, err[512], sha[SHA256_HEX], sha2[SHA256_HEX];
	struct plan p, again;
	struct stat st;
	char *buf;
	size_t len;

	if (!mkdtemp(dir)) {
		CHECK("plan file: scratch folder", false, "mkdtemp failed");
		return;
	}
	path = xasprintf("%s/p.plan", dir);
	fixture(&p, PLAN_DELTA);
	CHECK("plan file: written", plan_write(path, &p, 0600, sha, err, sizeof(err)) == 0, "%s", err);
	CHECK("plan file: mode 0600", stat(path, &st) == 0 && (st.st_mode & 07777) == 0600, "mode %o",
	      st.st_mode & 07777);
	plan_encode(&p, &buf, &len);
	sha256_hex(buf, len, sha2);
	CHECK("plan file: the digest is that of its bytes", !strcmp(sha, sha2), "%s vs %s", sha, sha2);
	memset(sha2, 0, sizeof(sha2));
	int rc = plan_read(path, &again, sha2, err, sizeof(err));
	CHECK("plan file: read back", rc == 0 && same_plan(&p, &again) && !strcmp(sha, sha2), "%s", err);
	if (rc == 0)
		plan_free(&again);
	CHECK("plan file: written with another mode when told",
	      plan_write(path, &p, 0640, sha, err, sizeof(err)) == 0 && stat(path, &st) == 0 &&
		      (st.st_mode & 07777) == 0640,
	      "mode %o", st.st_mode & 07777);
	/* Cut short on disk: the message names file and line. */
	int fd = open(path, O_WRONLY | O_TRUNC);
	if (fd >= 0) {
		if (write(fd, buf, len / 2) < 0)
			perror("write");
		close(fd);
	}
	rc = plan_read(path, &again, sha2, err, sizeof(err));
	char *want = xasprintf("%s:", path);
	CHECK("plan file: cut short on disk is refused, naming the file and line",
	      rc < 0 && !strncmp(err, want, strlen(want)) && strstr(err, "cut short"), "%s", err);
	free(want);
	rc = plan_read(dir, &again, sha2, err, sizeof(err));
	CHECK("plan file: a folder is not a plan", rc < 0 && strstr(err, "not a regular file"), "%s",
	      err);
	char sha3[SHA256_HEX];
	CHECK("sha256: 'sha256:' prefix and upper case accepted",
	      sha256_parse("sha256:ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef0123456789",
			   sha3) == 0 &&
		      !strcmp(sha3, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"),
	      "%s", sha3);
	CHECK("sha256: 63 digits refused", sha256_parse("abc", sha3) < 0, "accepted");
	free(buf);
	plan_free(&p);
	unlink(path);
	rmdir(dir);
	free(path);
}

/* A kernel view by hand: one present table with one set of one service. */
static void view(struct kernel_view *k, bool present, bool from_state, u128 lo, u128 hi)
{
	static struct nl_set_live set;
	static struct nl_chain_live chain;
	static struct nl_rule_live rule;

	memset(k, 0, sizeof(*k));
	k->table.present = present;
	k->table.genid = from_state ? 7 : 8;
	k->from_state = from_state;
	if (present) {
		set = (struct nl_set_live){ .name = "smtp_v4", .key_type = 7, .key_len = 4,
					    .flags = 4 /* NFT_SET_INTERVAL */ };
		chain = (struct nl_chain_live){ .name = "input", .type = "filter", .base = true,
						.hook = 1, .prio = 0, .policy = 1, .nrules = 1 };
		rule = (struct nl_rule_live){ .chain = "input", .set_name = "smtp_v4",
					      .fingerprint = "[ lookup ]", .packets = from_state ? 5 : 9 };
		k->table.sets = &set;
		k->table.nsets = 1;
		k->table.chains = &chain;
		k->table.nchains = 1;
		k->table.rules = &rule;
		k->table.nrules = 1;
	}
	k->sets.v = xcalloc(1, sizeof(*k->sets.v));
	k->sets.n = 1;
	snprintf(k->sets.v[0].name, sizeof(k->sets.v[0].name), "smtp_v4");
	k->sets.v[0].known = present;
	if (present)
		range_vec_push(&k->sets.v[0].iv, lo, hi);
}

static void view_free(struct kernel_view *k)
{
	range_vec_free(&k->sets.v[0].iv);
	free(k->sets.v);
}

static void test_live_digest(void)
{
	struct kernel_view a, b, c, d;
	char da[SHA256_HEX], db[SHA256_HEX], dc[SHA256_HEX], dd[SHA256_HEX];

	view(&a, true, true, v4(192, 0, 2, 0), v4(192, 0, 2, 255));
	view(&b, true, false, v4(192, 0, 2, 0), v4(192, 0, 2, 255));
	view(&c, true, false, v4(192, 0, 2, 0), v4(192, 0, 2, 254));
	view(&d, false, false, 0, 0);
	plan_live_digest(&a, da);
	plan_live_digest(&b, db);
	plan_live_digest(&c, dc);
	plan_live_digest(&d, dd);
	CHECK("live digest: the same from the state file and from a dump, counters aside",
	      !strcmp(da, db), "%s vs %s", da, db);
	CHECK("live digest: one address less changes it", strcmp(db, dc), "same");
	CHECK("live digest: no table differs from a table", strcmp(dd, db) && strcmp(dd, dc), "same");
	b.table.rules[0].fingerprint = "[ lookup ] [ counter ]";
	plan_live_digest(&b, db);
	CHECK("live digest: another rule changes it", strcmp(da, db), "same");
	view_free(&a);
	view_free(&b);
	view_free(&c);
	view_free(&d);
}

static void test_audit(void)
{
	char dir[] = "/tmp/mxfence-audit-test.XXXXXX", err[512], text[1024], **lines;
	struct audit_service svc[2] = { { "smtp", { 3, 1, 768, 256, 0, 0, true } },
					{ "submission", { 0, 0, 0, 0, 65536, 0, true } } };
	struct audit_entry e = { .time = 1796682000, .command = "apply --plan",
				 .plan_sha256 = "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a7988",
				 .table = "mxfence", .netns = 4026531840u, .gen_before = 12,
				 .gen_after = 13, .services = svc, .nservices = 2 };
	struct stat st;
	long n;

	if (!mkdtemp(dir)) {
		CHECK("audit: scratch folder", false, "mkdtemp failed");
		return;
	}
	n = audit_tail(dir, 5, &lines, err, sizeof(err));
	CHECK("audit: no log yet, no lines", n == 0, "%ld: %s", n, err);
	free(lines);
	setenv("SUDO_USER", "alice", 1);
	int fd = audit_open(dir, err, sizeof(err));
	CHECK("audit: opened", fd >= 0, "%s", err);
	char *path = xasprintf("%s/audit.log", dir);
	CHECK("audit: the log is mode 0600", stat(path, &st) == 0 && (st.st_mode & 07777) == 0600,
	      "mode %o", st.st_mode & 07777);
	for (int i = 0; i < 7; i++) {
		e.gen_before = 12 + (uint32_t)i;
		e.gen_after = 13 + (uint32_t)i;
		if (audit_append(fd, &e, err, sizeof(err)) < 0)
			CHECK("audit: appended", false, "%s", err);
	}
	audit_close(fd);
	n = audit_tail(dir, 3, &lines, err, sizeof(err));
	CHECK("audit: the last 3 of 7 lines, oldest first",
	      n == 3 && strstr(lines[0], "\"generation_before\":16") &&
		      strstr(lines[2], "\"generation_before\":18"),
	      "%ld lines: %s", n, n > 0 ? lines[0] : err);
	if (n == 3) {
		const char *want = "{\"time\":\"2026-12-07T22:20:00Z\",\"user\":\"alice\",\"uid\":";
		CHECK("audit: a line starts with time and user", !strncmp(lines[2], want, strlen(want)),
		      "%s", lines[2]);
		CHECK("audit: a line names the command, the plan and the per-service changes",
		      strstr(lines[2], "\"command\":\"apply --plan\",\"plan\":\"1f2e3d4c") &&
			      strstr(lines[2], "{\"service\":\"smtp\",\"prefixes_added\":3,"
					       "\"prefixes_removed\":1,\"ipv4_addresses_added\":\"768\","
					       "\"ipv4_addresses_removed\":\"256\",\"ipv6_64s_added\":\"0\","
					       "\"ipv6_64s_removed\":\"0\"}"),
		      "%s", lines[2]);
		int rc = audit_describe(lines[2], text, sizeof(text));
		CHECK("audit: described for people",
		      rc == 0 && strstr(text, "2026-12-07 22:20:00 UTC alice (uid ") &&
			      strstr(text, "apply --plan sha256:1f2e3d4c5b6a7988...: generation 18 -> 19; "
					   "smtp +3/-1 prefixes (IPv4 +768/-256, IPv6 /64s +0/-0), submission"),
		      "%s", text);
	}
	for (long i = 0; i < n; i++)
		free(lines[i]);
	free(lines);
	CHECK("audit: a line that is not ours is not described", audit_describe("{\"x\":1}", text,
										 sizeof(text)) < 0,
	      "described");
	setenv("SUDO_USER", "bad user\n", 1);
	char *line = audit_line(&e);
	CHECK("audit: a SUDO_USER that is not a plain name is not taken", !strstr(line, "bad user"),
	      "%s", line);
	free(line);
	unsetenv("SUDO_USER");
	unlink(path);
	free(path);
	rmdir(dir);
}

/* Seeds of the fuzz harness (tests/fuzz/corpus/plan): the fixtures, whole and without their end line. */
static int write_corpus(const char *dir)
{
	for (int c = 0; c < 2; c++) {
		struct plan p;
		char *buf, *path;
		size_t len;
		fixture(&p, c ? PLAN_REPLACE : PLAN_DELTA);
		plan_encode(&p, &buf, &len);
		for (int whole = 0; whole < 2; whole++) {
			size_t n = whole ? len : (size_t)(strstr(buf, "end sha256 ") - buf);
			path = xasprintf("%s/%s%s.plan", dir, c ? "replace" : "delta", whole ? "" : "-body");
			FILE *f = fopen(path, "w");
			if (!f || fwrite(buf, 1, n, f) != n || fclose(f) != 0) {
				perror(path);
				return 1;
			}
			free(path);
		}
		free(buf);
		plan_free(&p);
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--write-corpus"))
		return write_corpus(argv[2]);
	test_roundtrip(PLAN_DELTA);
	test_roundtrip(PLAN_REPLACE);
	test_refusals();
	test_shared_port();
	test_damage_messages();
	test_file();
	test_live_digest();
	test_audit();
	return failures ? 1 : 0;
}
