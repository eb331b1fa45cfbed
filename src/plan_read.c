/*
 * Reading a plan (plan.h; the format is described in plan.c): strict, so that
 * a plan it accepts encodes back to the same bytes, and every refusal names
 * its line.
 */
#include "plan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "feed.h"
#include "plan-private.h"
#include "util.h"

#define MAX_TOKENS 16

struct rd {
	const char *buf;
	size_t len, pos, end; /* end: where the end line starts */
	unsigned line;
	const char *tok[MAX_TOKENS];
	size_t toklen[MAX_TOKENS];
	size_t ntok;
	char *err;
	size_t errlen;
};

static int __attribute__((format(printf, 2, 3))) fail(struct rd *r, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(r->err, r->errlen, "line %u: ", r->line);

	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < r->errlen)
		vsnprintf(r->err + n, r->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Token i, quoted for a message. */
static const char *q(struct rd *r, size_t i, char *t, size_t n)
{
	return i < r->ntok ? diag_token(r->tok[i], r->toklen[i], t, n) : "";
}

/* The next line, split: printable ASCII, one space between fields. 0, 1 at the end, -1. */
static int next_line(struct rd *r)
{
	if (r->pos >= r->end)
		return 1;
	const char *s = r->buf + r->pos, *nl = memchr(s, '\n', r->end - r->pos);
	size_t n = (size_t)(nl - s); /* lines before the end line all end in '\n' */

	r->line++;
	r->pos += n + 1;
	r->ntok = 0;
	if (n > PLAN_MAX_LINE)
		return fail(r, "line longer than %zu bytes", PLAN_MAX_LINE);
	for (size_t i = 0; i < n;) {
		size_t k = i;
		while (k < n && s[k] != ' ') {
			if (s[k] < '!' || s[k] > '~')
				return fail(r, "byte 0x%02x in a plan (plans are printable ASCII)",
					    (unsigned char)s[k]);
			k++;
		}
		if (k == i)
			return fail(r, "empty field (two spaces, or a space at either end)");
		if (r->ntok == MAX_TOKENS)
			return fail(r, "more than %d fields", MAX_TOKENS);
		r->tok[r->ntok] = s + i;
		r->toklen[r->ntok++] = k - i;
		i = k + 1;
		if (k + 1 == n)
			return fail(r, "empty field (two spaces, or a space at either end)");
	}
	if (!r->ntok)
		return fail(r, "empty line");
	return 0;
}

static bool is(struct rd *r, size_t i, const char *word)
{
	return i < r->ntok && r->toklen[i] == strlen(word) && !memcmp(r->tok[i], word, r->toklen[i]);
}

/*
 * The next line must be a record `kind` of exactly n fields, with the fixed
 * words `words` ("" where a value stands) at their places.
 */
/* The fields of a record of kind, n of them, the fixed words where words says. */
static int record_fields(struct rd *r, const char *kind, size_t n, const char *const *words)
{
	char t[DIAG_TOKEN_MAX * 4 + 8];

	if (r->ntok != n)
		return fail(r, "a '%s' record has %zu fields, not %zu", kind, r->ntok, n);
	for (size_t i = 1; words && i < n; i++)
		if (words[i - 1][0] && !is(r, i, words[i - 1]))
			return fail(r, "expected '%s' '%s'", words[i - 1], q(r, i, t, sizeof(t)));
	return 0;
}

static int record(struct rd *r, const char *kind, size_t n, const char *const *words)
{
	char t[DIAG_TOKEN_MAX * 4 + 8];
	int rc = next_line(r);

	if (rc > 0) {
		r->line++;
		return fail(r, "expected a '%s' record, found the end line", kind);
	}
	if (rc < 0)
		return -1;
	if (!is(r, 0, kind))
		return fail(r, "expected a '%s' record '%s'", kind, q(r, 0, t, sizeof(t)));
	return record_fields(r, kind, n, words);
}

/*
 * The next record of a run of records of kind: 1 when there is one (its
 * fields checked), 0 when the next line is something else (and is left for
 * the caller), -1 on an error.
 */
static int next_record(struct rd *r, const char *kind, size_t n, const char *const *words)
{
	size_t save = r->pos;
	unsigned line = r->line;
	int rc = next_line(r);

	if (rc < 0)
		return -1;
	if (rc > 0 || !is(r, 0, kind)) {
		r->pos = save;
		r->line = line;
		return 0;
	}
	return record_fields(r, kind, n, words) < 0 ? -1 : 1;
}

/* A decimal without leading zeros, at most max. */
static int dec(struct rd *r, size_t i, u128 max, u128 *out)
{
	char t[DIAG_TOKEN_MAX * 4 + 8];
	const char *s = r->tok[i];
	size_t n = r->toklen[i];
	u128 v = 0;

	if (n == 0 || (n > 1 && s[0] == '0'))
		goto bad;
	for (size_t k = 0; k < n; k++) {
		if (s[k] < '0' || s[k] > '9')
			goto bad;
		unsigned d = (unsigned)(s[k] - '0');
		if (v > (max - d) / 10)
			return fail(r, "number out of range '%s'", q(r, i, t, sizeof(t)));
		v = v * 10 + d;
	}
	*out = v;
	return 0;
bad:
	return fail(r, "expected a decimal number '%s'", q(r, i, t, sizeof(t)));
}

static int dec_size(struct rd *r, size_t i, size_t max, size_t *out)
{
	u128 v;
	if (dec(r, i, max, &v) < 0)
		return -1;
	*out = (size_t)v;
	return 0;
}

/* "+N" or "-N" (sign given). */
static int signed_dec(struct rd *r, size_t i, char sign, u128 max, u128 *out)
{
	char t[DIAG_TOKEN_MAX * 4 + 8];

	if (r->toklen[i] < 2 || r->tok[i][0] != sign)
		return fail(r, "expected %cN '%s'", sign, q(r, i, t, sizeof(t)));
	r->tok[i]++;
	r->toklen[i]--;
	int rc = dec(r, i, max, out);
	r->tok[i]--;
	r->toklen[i]++;
	return rc;
}

static int hex64(struct rd *r, size_t i, char out[SHA256_HEX])
{
	char t[DIAG_TOKEN_MAX * 4 + 8];

	if (!plan_is_hex64(r->tok[i], r->toklen[i]))
		return fail(r, "expected 64 lowercase hex digits '%s'", q(r, i, t, sizeof(t)));
	memcpy(out, r->tok[i], 64);
	out[64] = '\0';
	return 0;
}

static int hexval(char c)
{
	return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A TEXT field: *out malloc'ed, or NULL for "-" when dash_none. */
static int text(struct rd *r, size_t i, bool dash_none, char **out)
{
	char t[DIAG_TOKEN_MAX * 4 + 8];
	const char *s = r->tok[i];
	size_t n = r->toklen[i], o = 0;
	char *v;

	*out = NULL;
	if (n == 1 && s[0] == '-') {
		if (dash_none)
			return 0;
		return fail(r, "a text is required here '%s'", q(r, i, t, sizeof(t)));
	}
	v = xmalloc(n + 1);
	for (size_t k = 0; k < n; k++) {
		if (s[k] != '%') {
			v[o++] = s[k];
			continue;
		}
		int hi = k + 2 < n ? hexval(s[k + 1]) : -1, lo = k + 2 < n ? hexval(s[k + 2]) : -1;
		int c = hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
		/* Only what the writer encodes: no NUL, no spelling of a plain byte. */
		if (c <= 0 || (c > ' ' && c < 0x7f && c != '%' && !(c == '-' && n == 3))) {
			free(v);
			return fail(r, "bad or needless %%-escape in a text '%s'", q(r, i, t, sizeof(t)));
		}
		v[o++] = (char)c;
		k += 2;
	}
	v[o] = '\0';
	*out = v;
	return 0;
}

/* A name of the policy's kind, copied. */
static int name(struct rd *r, size_t i, bool source, char **out)
{
	char t[DIAG_TOKEN_MAX * 4 + 8];
	char *s = xstrndup(r->tok[i], r->toklen[i]);

	if (!policy_valid_name(s, source)) {
		free(s);
		return fail(r, "invalid name '%s'", q(r, i, t, sizeof(t)));
	}
	*out = s;
	return 0;
}

static int parse_created(struct rd *r, size_t i, int64_t *out)
{
	char t[DIAG_TOKEN_MAX * 4 + 8], s[32], again[32];
	struct tm tm = { 0 };
	size_t n = r->toklen[i];

	if (n != 20)
		goto bad;
	memcpy(s, r->tok[i], n);
	s[n] = '\0';
	for (size_t k = 0; k < n; k++) {
		bool digit = s[k] >= '0' && s[k] <= '9';
		if ((k == 4 || k == 7) ? s[k] != '-' : k == 10 ? s[k] != 'T' :
		    (k == 13 || k == 16) ? s[k] != ':' : k == 19 ? s[k] != 'Z' : !digit)
			goto bad;
	}
	tm.tm_year = atoi(s) - 1900;
	tm.tm_mon = atoi(s + 5) - 1;
	tm.tm_mday = atoi(s + 8);
	tm.tm_hour = atoi(s + 11);
	tm.tm_min = atoi(s + 14);
	tm.tm_sec = atoi(s + 17);
	time_t at = timegm(&tm);
	if (at < 0)
		goto bad;
	plan_format_time((int64_t)at, again);
	if (strcmp(again, s))
		goto bad;
	*out = (int64_t)at;
	return 0;
bad:
	return fail(r, "expected a time as YYYY-MM-DDTHH:MM:SSZ '%s'", q(r, i, t, sizeof(t)));
}

static int parse_ports(struct rd *r, size_t i, struct plan_service *svc)
{
	char t[DIAG_TOKEN_MAX * 4 + 8], one[32];
	const char *s = r->tok[i], *end = s + r->toklen[i];

	while (s < end) {
		const char *comma = memchr(s, ',', (size_t)(end - s)), *e = comma ? comma : end;
		struct portrange pr;
		unsigned long lo, hi;
		char *x;

		if (svc->nports == PLAN_MAX_PORTS || e - s >= (ptrdiff_t)sizeof(one))
			goto bad;
		memcpy(one, s, (size_t)(e - s));
		one[e - s] = '\0';
		if (!strncmp(one, "tcp/", 4))
			pr.proto = PROTO_TCP;
		else if (!strncmp(one, "udp/", 4))
			pr.proto = PROTO_UDP;
		else
			goto bad;
		if (one[4] < '1' || one[4] > '9')
			goto bad;
		lo = strtoul(one + 4, &x, 10);
		hi = lo;
		if (*x == '-') {
			if (x[1] < '1' || x[1] > '9')
				goto bad;
			hi = strtoul(x + 1, &x, 10);
			if (hi <= lo)
				goto bad; /* a single port is written alone */
		}
		if (*x || lo > 65535 || hi > 65535)
			goto bad;
		pr.lo = (uint16_t)lo;
		pr.hi = (uint16_t)hi;
		svc->ports = xreallocarray(svc->ports, svc->nports + 1, sizeof(*svc->ports));
		svc->ports[svc->nports++] = pr;
		if (comma && comma + 1 == end)
			goto bad;
		s = comma ? comma + 1 : end;
	}
	return 0;
bad:
	return fail(r, "expected ports as tcp/25,udp/1000-2000 '%s'", q(r, i, t, sizeof(t)));
}

/* The `to` field as plan_to_text() writes it, and nothing else: so a plan read back encodes the same. */
static int parse_to(struct rd *r, size_t i, struct plan_service *svc)
{
	static const unsigned broadest[FAM_COUNT] = { DEFAULT_BROADEST_V4, DEFAULT_BROADEST_V6 };
	char t[DIAG_TOKEN_MAX * 4 + 8];
	const char *s = r->tok[i], *end = s + r->toklen[i];
	char *again = NULL;
	size_t len;
	int rc = 0;

	if (is(r, i, "-"))
		return 0;
	while (s < end) {
		const char *comma = memchr(s, ',', (size_t)(end - s)), *e = comma ? comma : end;
		struct prefix p;
		unsigned flags;
		if (prefix_parse(s, (size_t)(e - s), &p, &flags) != PARSE_OK ||
		    (flags & (PARSE_HOSTBITS | PARSE_MAPPED)) || p.plen < broadest[p.family])
			goto bad;
		/* In order: IPv4 first, each prefix after the one before. */
		struct range_vec *to = &svc->to[p.family];
		if ((p.family == FAM_V4 && svc->to[FAM_V6].n) || (to->n && p.addr <= to->v[to->n - 1].hi))
			goto bad;
		range_vec_push(to, p.addr, prefix_last(&p));
		if (comma && comma + 1 == end)
			goto bad;
		s = comma ? comma + 1 : end;
	}
	for (int f = 0; f < FAM_COUNT; f++)
		ranges_normalize(&svc->to[f]);
	again = plan_to_text(svc->to, &len);
	if (len == r->toklen[i] && !memcmp(again, r->tok[i], len))
		goto out;
bad:
	rc = fail(r, "expected '-' or the destinations as prefixes, IPv4 first, in order and "
		     "merged, comma-separated '%s'", q(r, i, t, sizeof(t)));
out:
	free(again);
	return rc;
}

/* No port is governed by two services (or twice by one): the policy's rule. */
/* No two services govern the same connections (see to_meet()), as in a policy. */
static int ports_disjoint(struct rd *r, const struct plan *p)
{
	struct range meet;

	for (size_t i = 0; i < p->nservices; i++)
		for (size_t a = 0; a < p->services[i].nports; a++) {
			const struct portrange *x = &p->services[i].ports[a];
			for (size_t j = 0; j <= i; j++)
				for (size_t b = 0; b < (j == i ? a : p->services[j].nports); b++) {
					const struct portrange *y = &p->services[j].ports[b];
					if (x->proto != y->proto || x->hi < y->lo || y->hi < x->lo)
						continue;
					if (j != i && to_meet(p->services[i].to, p->services[j].to, &meet) < 0)
						continue;
					return fail(r, "service %s: port %s/%u overlaps one of service %s",
						    p->services[i].name, proto_name(x->proto), x->lo,
						    p->services[j].name);
				}
		}
	return 0;
}

static int parse_max(struct rd *r, size_t i, double *out)
{
	char t[DIAG_TOKEN_MAX * 4 + 8], s[40], again[40];
	char *end;
	double v;

	if (r->toklen[i] >= sizeof(s))
		goto bad;
	memcpy(s, r->tok[i], r->toklen[i]);
	s[r->toklen[i]] = '\0';
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !(v >= 0 && v <= 100))
		goto bad;
	snprintf(again, sizeof(again), "%g", v);
	if (strcmp(again, s))
		goto bad;
	*out = v;
	return 0;
bad:
	return fail(r, "expected a percentage from 0 to 100 '%s'", q(r, i, t, sizeof(t)));
}

/* "LO HI" (and BITS) of a set line into rv. */
static int interval(struct rd *r, struct plan *p, struct plan_set *s, struct range_vec *rv,
		    bool with_bits, size_t *nbits)
{
	char t[DIAG_TOKEN_MAX * 4 + 8], again[ADDR_STRLEN];
	u128 key[2];

	for (int k = 0; k < 2; k++) {
		struct prefix px;
		unsigned flags = 0;
		if (addr_parse(r->tok[1 + k], r->toklen[1 + k], &px, &flags) != PARSE_OK ||
		    px.family != s->fam || (flags & PARSE_MAPPED) ||
		    addr_format(px.addr, s->fam, again) != r->toklen[1 + k] ||
		    memcmp(again, r->tok[1 + k], r->toklen[1 + k]))
			return fail(r, "expected an %s address as the kernel would print it '%s'",
				    s->fam == FAM_V4 ? "IPv4" : "IPv6", q(r, 1 + (size_t)k, t, sizeof(t)));
		key[k] = px.addr;
	}
	if (key[1] < key[0])
		return fail(r, "interval runs backwards '%s'", q(r, 2, t, sizeof(t)));
	if (rv->n && (key[0] <= rv->v[rv->n - 1].hi))
		return fail(r, "intervals not ascending and disjoint '%s'", q(r, 1, t, sizeof(t)));
	if (with_bits) {
		const char *h = r->tok[3];
		size_t n = r->toklen[3];
		uint64_t v = 0;
		if (n == 0 || n > 16 || (n > 1 && h[0] == '0'))
			goto badbits;
		for (size_t i = 0; i < n; i++) {
			int d = h[i] >= '0' && h[i] <= '9' ? h[i] - '0' :
				h[i] >= 'a' && h[i] <= 'f' ? h[i] - 'a' + 10 : -1;
			if (d < 0)
				goto badbits;
			v = v << 4 | (uint64_t)d;
		}
		if (p->nsources < 64 && (v >> p->nsources))
			return fail(r, "sources beyond the plan's %zu named '%s'", p->nsources,
				    q(r, 3, t, sizeof(t)));
		s->bits = grow(s->bits, nbits, rv->n + 1, sizeof(*s->bits));
		s->bits[rv->n] = v;
	}
	range_vec_push(rv, key[0], key[1]);
	return 0;
badbits:
	return fail(r, "expected a hex mask of sources '%s'", q(r, 3, t, sizeof(t)));
}

static int intervals(struct rd *r, struct plan *p, struct plan_set *s, char mark, size_t count,
		     struct range_vec *rv, bool with_bits)
{
	char want[2] = { mark, 0 }, t[DIAG_TOKEN_MAX * 4 + 8];
	size_t nbits = 0;

	for (size_t i = 0; i < count; i++) {
		int rc = next_line(r);
		if (rc > 0) {
			r->line++;
			return fail(r, "set %s: %zu intervals announced, %zu found", s->name, count, i);
		}
		if (rc < 0)
			return -1;
		if (!is(r, 0, want) || r->ntok != (with_bits ? 4u : 3u))
			return fail(r, "set %s: expected '%c LO HI%s' (%zu of %zu) '%s'", s->name, mark,
				    with_bits ? " BITS" : "", i + 1, count, q(r, 0, t, sizeof(t)));
		if (interval(r, p, s, rv, with_bits, &nbits) < 0)
			return -1;
	}
	return 0;
}

static int decode(struct rd *r, struct plan *p)
{
	static const char *const w_table[] = { "", "priority", "" };
	static const char *const w_service[] = { "", "otherwise", "", "ports", "", "to", "" };
	static const char *const w_against[] = { "netns", "", "generation", "", "table", "",
						 "digest", "" };
	static const char *const w_policy[] = { "sha256", "", "path", "" };
	static const char *const w_source[] = { "", "format", "", "sha256", "", "version", "" };
	static const char *const w_gate[] = { "removal", "", "", "", "lost", "", "held", "",
					      "max", "" };
	static const char *const w_total[] = { "", "prefixes", "", "", "ipv4", "", "", "ipv6",
					       "", "" };
	char t[DIAG_TOKEN_MAX * 4 + 8];
	u128 v;
	int rc;

	if (next_line(r) < 0)
		return -1;
	if (!is(r, 0, plan_magic) || r->ntok != 2)
		return fail(r, "not an mxfence plan (no 'mxfence-plan VERSION' line)");
	if (!is(r, 1, PLAN_VERSION_TEXT))
		return fail(r, "plan version '%s': this mxfence reads version %d",
			    q(r, 1, t, sizeof(t)), PLAN_VERSION);
	if (record(r, "created", 2, NULL) < 0 || parse_created(r, 1, &p->created) < 0)
		return -1;
	if (record(r, "table", 4, w_table) < 0)
		return -1;
	p->table = xstrndup(r->tok[1], r->toklen[1]);
	if (!policy_valid_table_name(p->table))
		return fail(r, "invalid table name '%s'", q(r, 1, t, sizeof(t)));
	{
		const char *s = r->tok[3];
		size_t n = r->toklen[3], neg = s[0] == '-';
		r->tok[3] += neg;
		r->toklen[3] -= neg;
		rc = n > neg ? dec(r, 3, 1000, &v) : -1;
		r->tok[3] -= neg;
		r->toklen[3] += neg;
		if (rc < 0 || (neg && v == 0))
			return fail(r, "expected a priority from -1000 to 1000 '%s'",
				    q(r, 3, t, sizeof(t)));
		p->priority = neg ? -(int)v : (int)v;
	}

	/* Services, until the against line. */
	while ((rc = next_record(r, "service", 8, w_service)) > 0) {
		if (p->nservices == PLAN_MAX_SERVICES)
			return fail(r, "more than %d services", PLAN_MAX_SERVICES);
		p->services = xreallocarray(p->services, p->nservices + 1, sizeof(*p->services));
		struct plan_service *svc = &p->services[p->nservices++];
		memset(svc, 0, sizeof(*svc));
		if (name(r, 1, false, &svc->name) < 0)
			return -1;
		for (size_t i = 0; i + 1 < p->nservices; i++)
			if (streq(p->services[i].name, svc->name))
				return fail(r, "service %s twice", svc->name);
		if (is(r, 3, "drop"))
			svc->otherwise = VERDICT_DROP;
		else if (is(r, 3, "reject"))
			svc->otherwise = VERDICT_REJECT;
		else
			return fail(r, "otherwise must be drop or reject '%s'", q(r, 3, t, sizeof(t)));
		if (parse_ports(r, 5, svc) < 0 || parse_to(r, 7, svc) < 0)
			return -1;
	}
	if (rc < 0)
		return -1;
	if (!p->nservices)
		return fail(r, "a plan names at least one service");
	if (ports_disjoint(r, p) < 0)
		return -1;
	p->nsets = p->nservices * FAM_COUNT;
	p->sets = xcalloc(p->nsets, sizeof(*p->sets));
	p->gates = xcalloc(p->nsets, sizeof(*p->gates));
	for (size_t i = 0; i < p->nsets; i++) {
		struct plan_set *s = &p->sets[i];
		s->service = i / FAM_COUNT;
		s->fam = (enum family)(i % FAM_COUNT);
		snprintf(s->name, sizeof(s->name), "%s_%s", p->services[s->service].name,
			 s->fam == FAM_V4 ? "v4" : "v6");
	}

	if (record(r, "against", 9, w_against) < 0 || dec(r, 2, UINT64_MAX, &v) < 0)
		return -1;
	p->netns = (uint64_t)v;
	if (dec(r, 4, UINT32_MAX, &v) < 0)
		return -1;
	p->genid = (uint32_t)v;
	if (is(r, 6, "present"))
		p->table_present = true;
	else if (!is(r, 6, "absent"))
		return fail(r, "expected present or absent '%s'", q(r, 6, t, sizeof(t)));
	if (hex64(r, 8, p->against) < 0)
		return -1;

	if (record(r, "policy", 5, w_policy) < 0 || hex64(r, 2, p->policy_sha256) < 0 ||
	    text(r, 4, false, &p->policy_path) < 0)
		return -1;

	while ((rc = next_record(r, "source", 8, w_source)) > 0) {
		if (p->nsources == PLAN_MAX_SOURCES)
			return fail(r, "more than %d sources", PLAN_MAX_SOURCES);
		p->sources = xreallocarray(p->sources, p->nsources + 1, sizeof(*p->sources));
		struct plan_source *src = &p->sources[p->nsources++];
		memset(src, 0, sizeof(*src));
		if (name(r, 1, true, &src->name) < 0)
			return -1;
		for (size_t i = 0; i + 1 < p->nsources; i++)
			if (streq(p->sources[i].name, src->name))
				return fail(r, "source %s twice", src->name);
		src->format = xstrndup(r->tok[3], r->toklen[3]);
		if (!feed_format_find(src->format))
			return fail(r, "unknown format '%s'", q(r, 3, t, sizeof(t)));
		if (hex64(r, 5, src->sha256) < 0 || text(r, 7, true, &src->version) < 0)
			return -1;
	}
	if (rc < 0)
		return -1;
	if (!p->nsources)
		return fail(r, "expected a 'source' record");

	if (record(r, "gate", 3, (const char *const[]){ "sources", "ok" }) < 0 ||
	    record(r, "gate", 3, (const char *const[]){ "services", "ok" }) < 0)
		return -1;
	bool over = false;
	for (size_t i = 0; i < p->nsets; i++) {
		struct plan_gate *g = &p->gates[i];
		const struct plan_set *s = &p->sets[i];
		if (record(r, "gate", 11, w_gate) < 0)
			return -1;
		if (!is(r, 2, p->services[s->service].name) || !is(r, 3, fam_name(s->fam)))
			return fail(r, "expected the gate of service %s, %s '%s'",
				    p->services[s->service].name, fam_name(s->fam),
				    q(r, 2, t, sizeof(t)));
		if (is(r, 4, "over"))
			g->over = over = true;
		else if (!is(r, 4, "ok"))
			return fail(r, "expected ok or over '%s'", q(r, 4, t, sizeof(t)));
		if (dec(r, 6, ~(u128)0, &g->lost) < 0 || dec(r, 8, ~(u128)0, &g->had) < 0 ||
		    parse_max(r, 10, &g->max) < 0)
			return -1;
		if (g->lost > g->had)
			return fail(r, "loses more addresses than it holds");
	}
	if (record(r, "gates", 2, NULL) < 0)
		return -1;
	if (is(r, 1, "ok"))
		p->verdict = PLAN_GATES_OK;
	else if (is(r, 1, "refused"))
		p->verdict = PLAN_GATES_REFUSED;
	else if (is(r, 1, "forced"))
		p->verdict = PLAN_GATES_FORCED;
	else
		return fail(r, "expected ok, refused or forced '%s'", q(r, 1, t, sizeof(t)));
	if (over != (p->verdict != PLAN_GATES_OK))
		return fail(r, "the verdict '%s' does not follow from the gates above",
			    q(r, 1, t, sizeof(t)));

	for (size_t i = 0; i < p->nservices; i++) {
		struct diff_totals *d = &p->services[i].totals;
		u128 a, b;
		if (record(r, "total", 11, w_total) < 0)
			return -1;
		if (!is(r, 1, p->services[i].name))
			return fail(r, "expected the totals of service %s '%s'", p->services[i].name,
				    q(r, 1, t, sizeof(t)));
		if (signed_dec(r, 3, '+', SIZE_MAX, &a) < 0 || signed_dec(r, 4, '-', SIZE_MAX, &b) < 0)
			return -1;
		d->prefixes_added = (size_t)a;
		d->prefixes_removed = (size_t)b;
		if (signed_dec(r, 6, '+', ~(u128)0, &d->v4_gained) < 0 ||
		    signed_dec(r, 7, '-', ~(u128)0, &d->v4_lost) < 0 ||
		    signed_dec(r, 9, '+', ~(u128)0, &d->v6_gained) < 0 ||
		    signed_dec(r, 10, '-', ~(u128)0, &d->v6_lost) < 0)
			return -1;
	}

	rc = next_line(r);
	if (rc < 0)
		return -1;
	if (rc > 0)
		return fail(r, "expected a 'change' record");
	if (is(r, 0, "change") && r->ntok == 2 && is(r, 1, "delta")) {
		p->change = PLAN_DELTA;
	} else if (is(r, 0, "change") && r->ntok == 3 && is(r, 1, "replace")) {
		p->change = PLAN_REPLACE;
		if (text(r, 2, true, &p->why) < 0)
			return -1;
	} else {
		return fail(r, "expected 'change delta' or 'change replace WHY' '%s'",
			    q(r, 0, t, sizeof(t)));
	}
	for (size_t i = 0; i < p->nsets; i++) {
		struct plan_set *s = &p->sets[i];
		size_t a, b;
		if (p->change == PLAN_REPLACE) {
			if (record(r, "set", 4, (const char *const[]){ "", "elements", "" }) < 0)
				return -1;
		} else if (record(r, "set", 6, (const char *const[]){ "", "del", "", "add", "" }) < 0) {
			return -1;
		}
		if (!is(r, 1, s->name))
			return fail(r, "expected set %s '%s'", s->name, q(r, 1, t, sizeof(t)));
		if (p->change == PLAN_REPLACE) {
			if (dec_size(r, 3, SIZE_MAX / 2, &a) < 0 ||
			    intervals(r, p, s, '=', a, &s->full, true) < 0)
				return -1;
		} else {
			if (dec_size(r, 3, SIZE_MAX / 2, &a) < 0 || dec_size(r, 5, SIZE_MAX / 2, &b) < 0 ||
			    intervals(r, p, s, '-', a, &s->del, false) < 0 ||
			    intervals(r, p, s, '+', b, &s->add, true) < 0)
				return -1;
		}
	}
	rc = next_line(r);
	if (rc < 0)
		return -1;
	if (rc == 0)
		return fail(r, "a record after the last set '%s'", q(r, 0, t, sizeof(t)));
	return 0;
}

int plan_decode(const char *buf, size_t len, struct plan *p, char *err, size_t errlen)
{
	struct rd r = { .buf = buf, .len = len, .err = err, .errlen = errlen };
	char digest[SHA256_HEX];
	size_t start, lines = 0;

	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < len; i++)
		lines += buf[i] == '\n';
	/* The end line first: a plan cut short or damaged says so before anything else. */
	r.line = (unsigned)(lines + (len && buf[len - 1] != '\n'));
	if (len > PLAN_MAX_BYTES)
		return fail(&r, "larger than %zu bytes", PLAN_MAX_BYTES);
	if (!len || buf[len - 1] != '\n')
		return fail(&r, "the plan is cut short (it does not end with its 'end' line)");
	start = len - 1;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	if (len - start != sizeof("end sha256 ") - 1 + 64 + 1 ||
	    memcmp(buf + start, "end sha256 ", 11) || !plan_is_hex64(buf + start + 11, 64))
		return fail(&r, "the plan is cut short (it does not end with its 'end' line)");
	sha256_hex(buf, start, digest);
	if (memcmp(digest, buf + start + 11, 64))
		return fail(&r, "the plan's content does not match the digest of its end line: "
				"it was damaged or edited");
	r.end = start;
	r.line = 0;
	if (decode(&r, p) < 0) {
		plan_free(p);
		return -1;
	}
	return 0;
}

int plan_read(const char *path, struct plan *p, char file_sha256[SHA256_HEX], char *err,
	      size_t errlen)
{
	char msg[512];
	struct stat st;
	char *buf;
	size_t got = 0;
	int fd;

	memset(p, 0, sizeof(*p));
	memset(file_sha256, 0, SHA256_HEX);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: %s", path, S_ISREG(st.st_mode) ? strerror(errno)
								  : "not a regular file");
		close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > PLAN_MAX_BYTES) {
		snprintf(err, errlen, "%s: larger than %zu bytes: not a plan", path, PLAN_MAX_BYTES);
		close(fd);
		return -1;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	got = read_all(fd, buf, (size_t)st.st_size, 0);
	close(fd);
	sha256_hex(buf, got, file_sha256);
	if (plan_decode(buf, got, p, msg, sizeof(msg)) < 0) {
		/* "line N: ..." to "PATH:N: ..." */
		unsigned line = 0;
		int skip = 0;
		if (sscanf(msg, "line %u: %n", &line, &skip) == 1 && skip > 0)
			snprintf(err, errlen, "%s:%u: %s", path, line, msg + skip);
		else
			snprintf(err, errlen, "%s: %s", path, msg);
		free(buf);
		return -1;
	}
	free(buf);
	return 0;
}

