/*
 * The plan file. Text, ASCII, one record a line, fields separated by one
 * space, in this order:
 *
 *   mxfence-plan 2
 *   created 2026-12-07T22:40:00Z
 *   table NAME priority N
 *   service NAME otherwise drop|reject ports tcp/25,tcp/1000-2000 to -|PREFIX,...
 *                                                                    (one per service)
 *   against netns INODE generation G table present|absent digest HEX
 *   policy sha256 HEX path TEXT
 *   source NAME format FMT sha256 HEX version TEXT|-                 (one per source)
 *   gate sources ok
 *   gate services ok
 *   gate removal SERVICE ipv4|ipv6 ok|over lost N held N max PERCENT (one per set)
 *   gates ok|refused|forced
 *   total SERVICE prefixes +N -N ipv4 +N -N ipv6 +N -N              (one per service)
 *   change delta | change replace TEXT
 *   set NAME del N add N, then N "- LO HI", N "+ LO HI BITS"        (delta, one per set)
 *   set NAME elements N, then N "= LO HI BITS"                      (replace, one per set)
 *   end sha256 HEX
 *
 * Sets come service by service, v4 then v6. LO and HI are addresses in their
 * canonical text form, intervals ascending and disjoint; BITS is a hex mask of
 * the sources (in the order of the source lines) behind the interval. A
 * service's `to` is "-" without one, else its destinations as the fewest
 * prefixes, IPv4 first, ascending and merged. TEXT is
 * percent-encoded: bytes outside '!'..'~' and '%' as %XX (upper case), and a
 * text that is just "-" as %2D, since a bare "-" means none. Numbers are
 * decimal without leading zeros. Every field has exactly one spelling, so a
 * plan that is read back encodes to the same bytes. HEX of the end line is the
 * sha256 of every byte before that line.
 */
#include "plan.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "diag.h"
#include "feed.h"
#include "outfile.h"
#include "render.h"
#include "plan-private.h"
#include "util.h"

const char plan_magic[] = "mxfence-plan";

void sha256_hex(const void *buf, size_t len, char out[SHA256_HEX])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!EVP_Digest(buf, len, md, &n, EVP_sha256(), NULL) || n != 32) {
		/* Without sha256 nothing can be checked: a digest nothing matches. */
		memset(out, 'x', 64);
		out[64] = '\0';
		return;
	}
	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

bool plan_is_hex64(const char *s, size_t n)
{
	if (n != 64)
		return false;
	for (size_t i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int sha256_parse(const char *s, char out[SHA256_HEX])
{
	if (!strncmp(s, "sha256:", 7))
		s += 7;
	if (strlen(s) != 64)
		return -1;
	for (size_t i = 0; i < 64; i++) {
		char c = s[i];
		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return -1;
		out[i] = c;
	}
	out[64] = '\0';
	return 0;
}

/* --- writing ---------------------------------------------------------------- */

struct buf {
	char *p;
	size_t n, cap;
};

static void bput(struct buf *b, const char *s, size_t n)
{
	b->p = grow(b->p, &b->cap, b->n + n + 1, 1);
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void bputs(struct buf *b, const char *s)
{
	bput(b, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3))) bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	b->p = grow(b->p, &b->cap, b->n + (size_t)n + 1, 1);
	va_start(ap, fmt);
	vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)n;
}

/* A TEXT field, percent-encoded. */
static void btext(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	if (streq(s, "-")) {
		bputs(b, "%2D");
		return;
	}
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p > ' ' && *p < 0x7f && *p != '%') {
			bput(b, (const char *)p, 1);
		} else {
			char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };
			bput(b, e, 3);
		}
	}
}

/*
 * A service's `to`: "-" without one, else its ranges as the fewest prefixes,
 * IPv4 first, comma-separated.
 */
static void to_text(struct buf *b, const struct range_vec to[FAM_COUNT])
{
	struct prefix cover[256];
	char text[PREFIX_STRLEN];
	bool first = true;

	for (int f = 0; f < FAM_COUNT; f++)
		for (size_t i = 0; i < to[f].n; i++) {
			size_t c = cidr_cover(to[f].v[i].lo, to[f].v[i].hi, (enum family)f, cover);
			for (size_t j = 0; j < c; j++) {
				prefix_format(&cover[j], text);
				bprintf(b, "%s%s", first ? "" : ",", text);
				first = false;
			}
		}
	if (first)
		bputs(b, "-");
}

char *plan_to_text(const struct range_vec to[FAM_COUNT], size_t *len)
{
	struct buf b = { 0 };

	to_text(&b, to);
	*len = b.n;
	return b.p;
}

static void bu128(struct buf *b, u128 v)
{
	char d[48];
	bput(b, d, u128_format(v, d));
}

static void baddr(struct buf *b, u128 a, enum family f)
{
	char t[ADDR_STRLEN];
	bput(b, t, addr_format(a, f, t));
}

void plan_format_time(int64_t t, char out[32])
{
	time_t at = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&at, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 32, "?");
}

static const char *gates_word(enum plan_gates g)
{
	return g == PLAN_GATES_OK ? "ok" : g == PLAN_GATES_REFUSED ? "refused" : "forced";
}

static void bintervals(struct buf *b, char mark, const struct range_vec *rv, const uint64_t *bits,
		       enum family f)
{
	for (size_t i = 0; i < rv->n; i++) {
		bput(b, &mark, 1);
		bputs(b, " ");
		baddr(b, rv->v[i].lo, f);
		bputs(b, " ");
		baddr(b, rv->v[i].hi, f);
		if (bits)
			bprintf(b, " %llx", (unsigned long long)bits[i]);
		bputs(b, "\n");
	}
}

void plan_encode(const struct plan *p, char **out, size_t *len)
{
	struct buf b = { 0 };
	char t[64], digest[SHA256_HEX];

	bprintf(&b, "%s %d\n", plan_magic, PLAN_VERSION);
	plan_format_time(p->created, t);
	bprintf(&b, "created %s\n", t);
	bprintf(&b, "table %s priority %d\n", p->table, p->priority);
	for (size_t i = 0; i < p->nservices; i++) {
		const struct plan_service *s = &p->services[i];
		bprintf(&b, "service %s otherwise %s ports ", s->name, verdict_name(s->otherwise));
		for (size_t k = 0; k < s->nports; k++) {
			portrange_format(&s->ports[k], t, sizeof(t));
			bprintf(&b, "%s%s", k ? "," : "", t);
		}
		bputs(&b, " to ");
		to_text(&b, s->to);
		bputs(&b, "\n");
	}
	bprintf(&b, "against netns %llu generation %u table %s digest %s\n",
		(unsigned long long)p->netns, p->genid, p->table_present ? "present" : "absent",
		p->against);
	bprintf(&b, "policy sha256 %s path ", p->policy_sha256);
	btext(&b, p->policy_path);
	bputs(&b, "\n");
	for (size_t i = 0; i < p->nsources; i++) {
		const struct plan_source *s = &p->sources[i];
		bprintf(&b, "source %s format %s sha256 %s version ", s->name, s->format, s->sha256);
		if (s->version && s->version[0])
			btext(&b, s->version);
		else
			bputs(&b, "-");
		bputs(&b, "\n");
	}
	bputs(&b, "gate sources ok\ngate services ok\n");
	for (size_t i = 0; i < p->nsets; i++) {
		const struct plan_gate *g = &p->gates[i];
		bprintf(&b, "gate removal %s %s %s lost ", p->services[p->sets[i].service].name,
			fam_name(p->sets[i].fam), g->over ? "over" : "ok");
		bu128(&b, g->lost);
		bputs(&b, " held ");
		bu128(&b, g->had);
		bprintf(&b, " max %g\n", g->max);
	}
	bprintf(&b, "gates %s\n", gates_word(p->verdict));
	for (size_t i = 0; i < p->nservices; i++) {
		const struct diff_totals *d = &p->services[i].totals;
		bprintf(&b, "total %s prefixes +%zu -%zu ipv4 +", p->services[i].name,
			d->prefixes_added, d->prefixes_removed);
		bu128(&b, d->v4_gained);
		bputs(&b, " -");
		bu128(&b, d->v4_lost);
		bputs(&b, " ipv6 +");
		bu128(&b, d->v6_gained);
		bputs(&b, " -");
		bu128(&b, d->v6_lost);
		bputs(&b, "\n");
	}
	if (p->change == PLAN_REPLACE) {
		bputs(&b, "change replace ");
		btext(&b, p->why && p->why[0] ? p->why : "-");
		bputs(&b, "\n");
	} else {
		bputs(&b, "change delta\n");
	}
	for (size_t i = 0; i < p->nsets; i++) {
		const struct plan_set *s = &p->sets[i];
		if (p->change == PLAN_REPLACE) {
			bprintf(&b, "set %s elements %zu\n", s->name, s->full.n);
			bintervals(&b, '=', &s->full, s->bits, s->fam);
		} else {
			bprintf(&b, "set %s del %zu add %zu\n", s->name, s->del.n, s->add.n);
			bintervals(&b, '-', &s->del, NULL, s->fam);
			bintervals(&b, '+', &s->add, s->bits, s->fam);
		}
	}
	sha256_hex(b.p, b.n, digest);
	bprintf(&b, "end sha256 %s\n", digest);
	*out = b.p;
	*len = b.n;
}

int plan_write(const char *path, const struct plan *p, mode_t mode,
	       char file_sha256[SHA256_HEX], char *err, size_t errlen)
{
	char *buf;
	size_t len;
	int rc;

	plan_encode(p, &buf, &len);
	sha256_hex(buf, len, file_sha256);
	rc = write_atomic(path, buf, len, mode, WRITE_DURABLE, err, errlen);
	free(buf);
	return rc;
}

void plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->nservices; i++) {
		free(p->services[i].name);
		free(p->services[i].ports);
		for (int f = 0; f < FAM_COUNT; f++)
			range_vec_free(&p->services[i].to[f]);
	}
	free(p->services);
	for (size_t i = 0; i < p->nsources; i++) {
		free(p->sources[i].name);
		free(p->sources[i].format);
		free(p->sources[i].version);
	}
	free(p->sources);
	for (size_t i = 0; i < p->nsets; i++) {
		range_vec_free(&p->sets[i].del);
		range_vec_free(&p->sets[i].add);
		range_vec_free(&p->sets[i].full);
		free(p->sets[i].bits);
	}
	free(p->sets);
	free(p->gates);
	free(p->table);
	free(p->policy_path);
	free(p->why);
	memset(p, 0, sizeof(*p));
}

bool plan_changes(const struct plan *p)
{
	if (p->change == PLAN_REPLACE)
		return true;
	for (size_t i = 0; i < p->nsets; i++)
		if (p->sets[i].del.n || p->sets[i].add.n)
			return true;
	return false;
}

const char *plan_change_name(const struct plan *p)
{
	return p->change == PLAN_REPLACE ? "replace" : plan_changes(p) ? "delta" : "none";
}

void plan_policy(const struct plan *p, struct policy *out)
{
	memset(out, 0, sizeof(*out));
	out->table = xstrdup(p->table);
	out->path = xstrdup(p->policy_path ? p->policy_path : "plan");
	out->priority = p->priority;
	out->services = xcalloc(p->nservices, sizeof(*out->services));
	out->nservices = p->nservices;
	for (size_t i = 0; i < p->nservices; i++) {
		struct service *svc = &out->services[i];
		svc->name = xstrdup(p->services[i].name);
		svc->ports = xcalloc(p->services[i].nports, sizeof(*svc->ports));
		memcpy(svc->ports, p->services[i].ports, p->services[i].nports * sizeof(*svc->ports));
		svc->nports = p->services[i].nports;
		svc->otherwise = p->services[i].otherwise;
		for (int f = 0; f < FAM_COUNT; f++)
			range_vec_copy(&svc->to[f], &p->services[i].to[f]);
		svc->max_removal = p->gates[i * FAM_COUNT].max;
		interval_set_init(&svc->set[FAM_V4], FAM_V4);
		interval_set_init(&svc->set[FAM_V6], FAM_V6);
	}
	out->sources = xcalloc(p->nsources, sizeof(*out->sources));
	out->nsources = p->nsources;
	for (size_t i = 0; i < p->nsources; i++) {
		out->sources[i].name = xstrdup(p->sources[i].name);
		out->sources[i].fmt = feed_format_find(p->sources[i].format);
		/* Not read again: the file by its digest, the feed's version as the plan has them. */
		out->sources[i].file = xasprintf("sha256:%s", p->sources[i].sha256);
		if (p->sources[i].version)
			out->sources[i].version = xstrdup(p->sources[i].version);
	}
}
