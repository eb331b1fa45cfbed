/*
 * The policy file, read with libinih. inih hands us (section, key, value) but
 * not the line, so our reader counts lines and notes section headers itself:
 * every message names the policy file and line.
 */
#include "policy.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "feed.h"
#include "linereader.h"
#include "mapfile.h"
#include "policy-private.h"
#include "render.h"
#include "util.h"

enum section_kind { SEC_NONE, SEC_TABLE, SEC_SERVICE, SEC_SOURCE, SEC_BAD };

struct reader {
	struct policy *pol;
	struct diag *d;
	struct line_reader lines;
	unsigned line; /* the line inih was handed last */
	enum section_kind kind;
	size_t index; /* of the current service or source */
	bool seen_table;
	bool table_name_set, table_priority_set, table_unapplied_set;
};

const char *proto_name(enum proto p)
{
	return p == PROTO_TCP ? "tcp" : "udp";
}

const char *verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_ACCEPT:
		return "accept";
	case VERDICT_DROP:
		return "drop";
	case VERDICT_REJECT:
		return "reject";
	}
	return "?";
}

static void perr(struct reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void perr(struct reader *r, const char *fmt, ...)
{
	char where[PATH_MAX + 32];
	va_list ap;

	snprintf(where, sizeof(where), "%s:%u", r->pol->path, r->line);
	va_start(ap, fmt);
	diag_vadd(r->d, DIAG_ERROR, where, fmt, ap);
	va_end(ap);
}

/*
 * Words nft takes as keywords where a table name stands: those nftables 1.0.6
 * (Debian 12) refuses in "table inet NAME {}", and the keywords of newer
 * scanners outside any start condition. A table named so cannot be loaded by
 * `nft -f` ("table inet drop" is a syntax error), so none is a table name.
 */
static const char *const nft_keywords[] = {
	"accept", "add", "ah", "all", "and", "arp", "bridge", "cgroup", "chain", "comment", "comp",
	"constant", "continue", "counter", "cpu", "create", "ct", "day", "dccp", "define", "delete",
	"describe", "destroy", "device", "devices", "dnat", "drop", "dst", "dup", "dynamic", "ecn",
	"element", "elements", "eq", "esp", "ether", "exists", "expires", "export", "exthdr", "fib",
	"flags", "flow", "flowtable", "flush", "frag", "fwd", "ge", "geneve", "get", "goto", "gre",
	"gretap", "gt", "handle", "hbh", "hook", "hour", "ibriport", "ibrname", "icmp", "icmpv6",
	"igmp", "iif", "iifgroup", "iifname", "iiftype", "import", "include", "index", "inet",
	"insert", "interval", "ip", "ip6", "ipsec", "jhash", "jump", "last", "le", "limit", "list",
	"log", "lshift", "lt", "map", "mark", "masquerade", "meta", "meter", "mh", "missing",
	"monitor", "ne", "netdev", "nftrace", "not", "notrack", "numgen", "obriport", "obrname",
	"offload", "oif", "oifgroup", "oifname", "oiftype", "or", "osf", "pkttype", "policy",
	"position", "priority", "queue", "quota", "random", "redefine", "redirect", "reject",
	"rename", "replace", "reset", "return", "rshift", "rt", "rt0", "rt2", "rtclassid", "rule",
	"ruleset", "sctp", "secmark", "set", "size", "skgid", "skuid", "snat", "socket", "srh",
	"symhash", "synproxy", "table", "tcp", "th", "time", "timeout", "tproxy", "tunnel", "type",
	"typeof", "udp", "udplite", "undefine", "update", "vlan", "vmap", "vni", "vxlan", "xor", "xt",
};

static int cmp_word(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool nft_keyword(const char *s)
{
	return bsearch(&s, nft_keywords, sizeof(nft_keywords) / sizeof(nft_keywords[0]),
		       sizeof(nft_keywords[0]), cmp_word) != NULL;
}

static bool valid_name(const char *s, bool allow_dash)
{
	size_t n = strlen(s);

	if (n == 0 || n > NAME_MAX_LEN)
		return false;
	if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (size_t i = 1; i < n; i++) {
		char c = s[i];
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_')
			continue;
		if (allow_dash && (c == '-' || c == '.'))
			continue;
		return false;
	}
	return true;
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = true, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = false, 0;
	}
	return -1;
}

/* Decimal in [lo, hi], nothing else: no sign but a leading '-', no leading zeros. */
static int parse_long(const char *v, long lo, long hi, long *out)
{
	const char *d = v[0] == '-' ? v + 1 : v;
	char *end;
	long x;

	if (!*d || *d < '0' || *d > '9' || (d[0] == '0' && d[1]))
		return -1;
	errno = 0;
	x = strtol(v, &end, 10);
	if (errno || *end || x < lo || x > hi)
		return -1;
	*out = x;
	return 0;
}

char *policy_resolve(const char *dir, const char *file)
{
	if (file[0] == '/' || !dir)
		return xstrdup(file);
	return xasprintf("%s/%s", dir, file);
}

static struct service *cur_service(struct reader *r)
{
	return &r->pol->services[r->index];
}

static struct source *cur_source(struct reader *r)
{
	return &r->pol->sources[r->index];
}

static void add_words(char ***list, size_t *n, const char *v)
{
	char *dup = xstrdup(v), *save = NULL;

	for (char *w = strtok_r(dup, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save)) {
		*list = xreallocarray(*list, *n + 1, sizeof(**list));
		(*list)[(*n)++] = xstrdup(w);
	}
	free(dup);
}

static void parse_ports(struct reader *r, struct service *svc, const char *v)
{
	char *dup = xstrdup(v), *save = NULL;

	for (char *w = strtok_r(dup, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save)) {
		struct portrange pr;
		char *slash = strchr(w, '/'), *dash;
		long lo, hi;

		if (!slash) {
			perr(r, "port must be PROTO/PORT or PROTO/LO-HI, e.g. tcp/25 '%s'", w);
			continue;
		}
		*slash = '\0';
		if (streq(w, "tcp"))
			pr.proto = PROTO_TCP;
		else if (streq(w, "udp"))
			pr.proto = PROTO_UDP;
		else {
			perr(r, "unknown protocol (expected tcp or udp) '%s'", w);
			continue;
		}
		dash = strchr(slash + 1, '-');
		if (dash)
			*dash = '\0';
		if (parse_long(slash + 1, 1, 65535, &lo) < 0 ||
		    (dash && parse_long(dash + 1, 1, 65535, &hi) < 0)) {
			if (dash)
				*dash = '-';
			perr(r, "invalid port (expected 1 to 65535) '%s'", slash + 1);
			continue;
		}
		if (!dash)
			hi = lo;
		if (hi < lo) {
			*dash = '-';
			perr(r, "port range runs backwards '%s'", slash + 1);
			continue;
		}
		pr.lo = (uint16_t)lo;
		pr.hi = (uint16_t)hi;
		svc->ports = xreallocarray(svc->ports, svc->nports + 1, sizeof(*svc->ports));
		svc->ports[svc->nports++] = pr;
	}
	free(dup);
}

/*
 * `to = ADDR[/LEN] ...`: addresses and prefixes, no host names. Host bits are
 * an error (a destination widened by a typo would govern servers nobody
 * meant), and so is a prefix broader than the sources' default limits: a
 * destination that broad would also catch the mail the servers behind this
 * host send out.
 */
static void parse_to(struct reader *r, struct service *svc, const char *v)
{
	char *dup = xstrdup(v), *save = NULL, text[PREFIX_STRLEN];
	static const unsigned broadest[FAM_COUNT] = { DEFAULT_BROADEST_V4, DEFAULT_BROADEST_V6 };

	if (!svc->to_line)
		svc->to_line = r->line;
	for (char *w = strtok_r(dup, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save)) {
		struct prefix p;
		unsigned flags;
		enum parse_err e = prefix_parse(w, strlen(w), &p, &flags);

		if (e == PARSE_BAD_ADDR && strpbrk(w, "ghijklmnopqrstuvwxyzGHIJKLMNOPQRSTUVWXYZ")) {
			perr(r, "to takes addresses and prefixes, not host names '%s'", w);
			continue;
		}
		if (e) {
			perr(r, "%s '%s'", parse_strerror(e), w);
			continue;
		}
		if (p.plen < broadest[p.family]) {
			perr(r, "to '%s' is broader than /%u: it would also catch the mail that the "
				"servers behind this host send out", w, broadest[p.family]);
			continue;
		}
		if (flags & PARSE_HOSTBITS) {
			prefix_format(&p, text);
			perr(r, "host bits set in '%s' (expected %s)", w, text);
			continue;
		}
		if (flags & PARSE_MAPPED) {
			char where[PATH_MAX + 32];
			prefix_format(&p, text);
			snprintf(where, sizeof(where), "%s:%u", r->pol->path, r->line);
			diag_warn(r->d, where, "IPv4-mapped IPv6 prefix '%s' taken as IPv4 %s", w, text);
		}
		range_vec_push(&svc->to[p.family], p.addr, prefix_last(&p));
	}
	free(dup);
}

static int parse_percent(const char *v, double *out)
{
	char *end;
	double x;

	errno = 0;
	x = strtod(v, &end);
	if (errno || end == v || strcmp(end, "%") != 0 || !(x >= 0 && x <= 100))
		return -1;
	*out = x;
	return 0;
}

/* Bytes, with an optional K, M or G (powers of 1024): "64M". */
static int parse_size(const char *v, uint64_t *out)
{
	static const char units[] = "KMG";
	char num[24];
	size_t n = strlen(v);
	unsigned shift = 0;
	long x;

	if (n && strchr(units, v[n - 1])) {
		shift = 10 * (unsigned)(strchr(units, v[n - 1]) - units + 1);
		n--;
	}
	if (n == 0 || n >= sizeof(num))
		return -1;
	memcpy(num, v, n);
	num[n] = '\0';
	if (parse_long(num, 1, LONG_MAX >> 30, &x) < 0)
		return -1;
	*out = (uint64_t)x << shift;
	return 0;
}

static int parse_broadest(const char *v, unsigned bits, unsigned *out)
{
	long x;

	if (v[0] != '/' || parse_long(v + 1, 1, bits, &x) < 0)
		return -1;
	*out = (unsigned)x;
	return 0;
}

static void table_key(struct reader *r, const char *key, const char *value)
{
	long x;

	if (streq(key, "name")) {
		if (r->table_name_set)
			return perr(r, "duplicate key '%s'", key);
		r->table_name_set = true;
		if (!valid_name(value, false))
			return perr(r, "invalid table name (letters, digits, _; at most %d) '%s'",
				    NAME_MAX_LEN, value);
		if (nft_keyword(value))
			return perr(r, "table name is an nft keyword, which nft -f cannot load '%s'",
				    value);
		free(r->pol->table);
		r->pol->table = xstrdup(value);
	} else if (streq(key, "priority")) {
		if (r->table_priority_set)
			return perr(r, "duplicate key '%s'", key);
		r->table_priority_set = true;
		if (parse_long(value, -1000, 1000, &x) < 0)
			return perr(r, "invalid priority (expected an integer from -1000 to 1000) '%s'",
				    value);
		r->pol->priority = (int)x;
	} else if (streq(key, "unapplied")) {
		if (r->table_unapplied_set)
			return perr(r, "duplicate key '%s'", key);
		r->table_unapplied_set = true;
		if (streq(value, "closed"))
			r->pol->unapplied_open = false;
		else if (streq(value, "open"))
			r->pol->unapplied_open = true;
		else
			return perr(r, "invalid unapplied (expected closed or open) '%s'", value);
	} else {
		perr(r, "unknown key in [table] (expected name, priority or unapplied) '%s'", key);
	}
}

static void service_key(struct reader *r, const char *key, const char *value)
{
	struct service *svc = cur_service(r);
	bool b;

	if (streq(key, "ports")) {
		if (!svc->ports_line)
			svc->ports_line = r->line;
		parse_ports(r, svc, value);
	} else if (streq(key, "to")) {
		parse_to(r, svc, value);
	} else if (streq(key, "sources")) {
		if (!svc->sources_line)
			svc->sources_line = r->line;
		add_words(&svc->source_names, &svc->nsource_names, value);
	} else if (streq(key, "otherwise")) {
		if (streq(value, "drop"))
			svc->otherwise = VERDICT_DROP;
		else if (streq(value, "reject"))
			svc->otherwise = VERDICT_REJECT;
		else
			perr(r, "otherwise must be drop or reject '%s'", value);
	} else if (streq(key, "max-removal")) {
		if (parse_percent(value, &svc->max_removal) < 0)
			perr(r, "max-removal must be a percentage from 0%% to 100%% '%s'", value);
	} else if (streq(key, "allow-empty")) {
		if (parse_bool(value, &b) < 0)
			return perr(r, "allow-empty must be yes or no '%s'", value);
		svc->allow_empty = b;
	} else {
		perr(r, "unknown key in [service %s] (expected ports, to, sources, otherwise, "
			"max-removal or allow-empty) '%s'", svc->name, key);
	}
}

bool policy_format_has_key(const struct feed_format *fmt, const char *key)
{
	for (const char *const *k = fmt->keys; *k; k++)
		if (streq(*k, key))
			return true;
	return false;
}

/* The keys of fetching; true when `key` is one (its value checked). */
static bool fetch_key(struct reader *r, struct source *src, const char *key, const char *value)
{
	long x;
	bool b;

	if (streq(key, "ca-file")) {
		if (src->ca_file)
			perr(r, "duplicate key '%s'", key);
		else
			src->ca_file = policy_resolve(r->pol->dir, value);
	} else if (streq(key, "insecure-http")) {
		if (parse_bool(value, &b) < 0)
			perr(r, "insecure-http must be yes or no '%s'", value);
		else
			src->insecure_http = b;
	} else if (streq(key, "max-size")) {
		if (parse_size(value, &src->max_size) < 0 || src->max_size > FEED_MAX_BYTES)
			perr(r, "max-size must be 1 to %uM bytes (K, M, G suffixes) '%s'",
			     FEED_MAX_BYTES >> 20, value);
	} else if (streq(key, "max-shrink")) {
		if (parse_percent(value, &src->max_shrink) < 0)
			perr(r, "max-shrink must be a percentage from 0%% to 100%% '%s'", value);
	} else if (streq(key, "timeout")) {
		if (parse_long(value, 1, 3600, &x) < 0)
			perr(r, "timeout must be 1 to 3600 seconds '%s'", value);
		else
			src->timeout = (unsigned)x;
		src->timeout_set = true;
	} else if (streq(key, "connect-timeout")) {
		if (parse_long(value, 1, 600, &x) < 0)
			perr(r, "connect-timeout must be 1 to 600 seconds '%s'", value);
		else
			src->connect_timeout = (unsigned)x;
	} else if (streq(key, "retries")) {
		if (parse_long(value, 0, 10, &x) < 0)
			perr(r, "retries must be 0 to 10 '%s'", value);
		else
			src->retries = (unsigned)x;
	} else {
		return false;
	}
	return true;
}

static void source_key(struct reader *r, const char *key, const char *value)
{
	struct source *src = cur_source(r);
	bool b;

	if (streq(key, "format")) {
		if (src->format_seen)
			return perr(r, "duplicate key '%s'", key);
		src->format_seen = true;
		src->fmt = feed_format_find(value);
		if (!src->fmt)
			perr(r, "unknown format (expected one of %s) '%s'", feed_format_names(), value);
	} else if (streq(key, "file")) {
		if (src->file)
			return perr(r, "duplicate key '%s'", key);
		src->file = xstrdup(value);
	} else if (streq(key, "strict")) {
		if (parse_bool(value, &b) < 0)
			return perr(r, "strict must be yes or no '%s'", value);
		src->strict = b;
	} else if (streq(key, "allow-empty")) {
		if (parse_bool(value, &b) < 0)
			return perr(r, "allow-empty must be yes or no '%s'", value);
		src->allow_empty = b;
	} else if (streq(key, "url")) {
		if (src->url)
			return perr(r, "duplicate key '%s'", key);
		if (strncmp(value, "https://", 8) != 0 && strncmp(value, "http://", 7) != 0)
			return perr(r, "url must begin with https:// (or http:// with insecure-http = yes) "
				       "'%s'", value);
		if (strpbrk(value, " \t\r\n"))
			return perr(r, "url must not contain blanks '%s'", value);
		src->url = xstrdup(value);
		src->url_line = r->line;
	} else if (fetch_key(r, src, key, value)) {
		if (!src->fetch_line)
			src->fetch_line = r->line;
	} else if (streq(key, "broadest")) {
		if (parse_broadest(value, 32, &src->broadest[FAM_V4]) < 0)
			perr(r, "broadest must be /1 to /32 '%s'", value);
	} else if (streq(key, "broadest6")) {
		if (parse_broadest(value, 128, &src->broadest[FAM_V6]) < 0)
			perr(r, "broadest6 must be /1 to /128 '%s'", value);
	} else {
		/* The format's own keys are checked once the format is known. */
		for (size_t i = 0; i < src->nopts; i++)
			if (streq(src->opts[i].key, key))
				return perr(r, "duplicate key '%s'", key);
		src->opts = xreallocarray(src->opts, src->nopts + 1, sizeof(*src->opts));
		src->opts[src->nopts++] = (struct source_opt){ xstrdup(key), xstrdup(value), r->line,
							   false };
	}
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
	struct reader *r = user;

	(void)section; /* the reader tracked it, with its line */
	switch (r->kind) {
	case SEC_NONE:
		perr(r, "key outside any section '%s'", key);
		break;
	case SEC_TABLE:
		table_key(r, key, value);
		break;
	case SEC_SERVICE:
		service_key(r, key, value);
		break;
	case SEC_SOURCE:
		source_key(r, key, value);
		break;
	case SEC_BAD:
		break; /* reported at the header */
	}
	return 1;
}

static void begin_section(struct reader *r, const char *s, size_t n)
{
	struct policy *pol = r->pol;
	char *text = xstrndup(s, n), *name;

	r->kind = SEC_BAD;
	if (streq(text, "table")) {
		if (r->seen_table)
			perr(r, "duplicate section '[table]'");
		else
			r->kind = SEC_TABLE;
		r->seen_table = true;
		goto out;
	}
	name = strchr(text, ' ');
	if (!name) {
		perr(r, "unknown section (expected [table], [service NAME] or [source NAME]) '[%s]'",
		     text);
		goto out;
	}
	*name++ = '\0';
	while (*name == ' ')
		name++;
	if (streq(text, "service")) {
		if (!valid_name(name, false)) {
			perr(r, "invalid service name (a letter, then letters, digits, _; at most %d) '%s'",
			     NAME_MAX_LEN, name);
			goto out;
		}
		for (size_t i = 0; i < pol->nservices; i++)
			if (streq(pol->services[i].name, name)) {
				perr(r, "duplicate service '%s' (first at line %u)", name,
				     pol->services[i].line);
				goto out;
			}
		pol->services = xreallocarray(pol->services, pol->nservices + 1,
					      sizeof(*pol->services));
		struct service *svc = &pol->services[pol->nservices];
		memset(svc, 0, sizeof(*svc));
		svc->name = xstrdup(name);
		svc->line = r->line;
		svc->otherwise = VERDICT_DROP;
		svc->max_removal = DEFAULT_MAX_REMOVAL;
		interval_set_init(&svc->set[FAM_V4], FAM_V4);
		interval_set_init(&svc->set[FAM_V6], FAM_V6);
		r->index = pol->nservices++;
		r->kind = SEC_SERVICE;
	} else if (streq(text, "source")) {
		if (!valid_name(name, true)) {
			perr(r, "invalid source name (a letter, then letters, digits, _ - .; at most %d) '%s'",
			     NAME_MAX_LEN, name);
			goto out;
		}
		for (size_t i = 0; i < pol->nsources; i++)
			if (streq(pol->sources[i].name, name)) {
				perr(r, "duplicate source '%s' (first at line %u)", name,
				     pol->sources[i].line);
				goto out;
			}
		pol->sources = xreallocarray(pol->sources, pol->nsources + 1, sizeof(*pol->sources));
		struct source *src = &pol->sources[pol->nsources];
		memset(src, 0, sizeof(*src));
		src->name = xstrdup(name);
		src->line = r->line;
		src->broadest[FAM_V4] = DEFAULT_BROADEST_V4;
		src->broadest[FAM_V6] = DEFAULT_BROADEST_V6;
		src->max_size = DEFAULT_MAX_SIZE;
		src->max_shrink = DEFAULT_MAX_SHRINK;
		src->timeout = DEFAULT_TIMEOUT;
		src->connect_timeout = DEFAULT_CONNECT_TIMEOUT;
		src->retries = DEFAULT_RETRIES;
		r->index = pol->nsources++;
		r->kind = SEC_SOURCE;
	} else {
		perr(r, "unknown section (expected [table], [service NAME] or [source NAME]) '[%s %s]'",
		     text, name);
	}
out:
	free(text);
}

static void line_fault(void *arg, uint32_t lineno, const char *what)
{
	struct reader *r = arg;

	r->line = lineno;
	perr(r, "%s", what);
}

/*
 * Hands inih one physical line at a time, so r->line is the line of every
 * key inih reports next. A refused line goes to inih empty.
 */
static char *reader_line(char *str, int num, void *stream)
{
	struct reader *r = stream;
	const char *s, *e;
	size_t len;

	/* inih's buffer holds the line, its LF and a NUL. */
	if (num < 3)
		return NULL;
	r->lines.max = (size_t)num - 2;
	if (!line_reader_next(&r->lines, &s, &len))
		return NULL;
	r->line = r->lines.lineno;
	memcpy(str, s, len);
	str[len] = '\n';
	str[len + 1] = '\0';

	/*
	 * Section headers are noted here, with their line. Lines inih would
	 * reject are reported here too, each with its own line, and handed to
	 * inih blank (inih itself names only the first).
	 */
	e = s + len;
	while (s < e && (*s == ' ' || *s == '\t'))
		s++;
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		e--;
	if (s == e || *s == '#' || *s == ';')
		return str;
	if (*s == '[') {
		const char *close = memchr(s, ']', (size_t)(e - s));
		if (!close) {
			perr(r, "section header without ']' '%.*s'", (int)(e - s), s);
			r->kind = SEC_BAD;
			str[0] = '\n';
			str[1] = '\0';
			return str;
		}
		const char *a = s + 1, *b = close;
		while (a < b && *a == ' ')
			a++;
		while (b > a && b[-1] == ' ')
			b--;
		begin_section(r, a, (size_t)(b - a));
	} else if (!memchr(s, '=', (size_t)(e - s)) && !memchr(s, ':', (size_t)(e - s))) {
		perr(r, "expected [section] or key = value '%.*s'", (int)(e - s), s);
		str[0] = '\n';
		str[1] = '\0';
	}
	return str;
}

char *source_cache_path(const struct policy *pol, const struct source *src, const char *suffix)
{
	return xasprintf("%s/%s%s", pol->cache_dir, src->name, suffix);
}

#define POLICY_MAX_BYTES (1u << 20) /* the message says 1 MiB */

int policy_load(struct policy *pol, const char *path, const char *cache_dir, struct diag *d)
{
	struct reader r = { .pol = pol, .d = d };
	size_t errors = d->errors;
	struct mapfile mf;
	const char *slash;
	int rc;

	memset(pol, 0, sizeof(*pol));
	pol->path = xstrdup(path);
	pol->cache_dir = xstrdup(cache_dir ? cache_dir : DEFAULT_CACHE_DIR);
	slash = strrchr(path, '/');
	pol->dir = slash ? xstrndup(path, (size_t)(slash - path) + (slash == path)) : NULL;

	/* Read whole, so that the reader sees every line. */
	enum mapfile_err e = mapfile_read(&mf, path, POLICY_MAX_BYTES, 0);
	if (e != MAPFILE_OK) {
		char why[512];
		mapfile_why(e, errno, POLICY_MAX_BYTES, why, sizeof(why));
		diag_error(d, path, "%s", why);
		return -1;
	}
	line_reader_init(&r.lines, mf.data, mf.len, 1, 0, line_fault, &r);

	rc = ini_parse_stream(reader_line, &r, handler, &r);
	if (rc > 0) {
		char where[PATH_MAX + 32];
		snprintf(where, sizeof(where), "%s:%d", path, rc);
		diag_error(d, where, "syntax error (expected [section] or key = value)");
	} else if (rc < 0) {
		diag_error(d, path, "cannot parse (out of memory)");
	}
	if (mapfile_shrank(&mf))
		diag_error(d, path, "file shrank while it was being read");
	mapfile_free(&mf);
	policy_check(pol, d);
	return d->errors == errors ? 0 : -1;
}

struct source *policy_source(struct policy *pol, const char *name)
{
	for (size_t i = 0; i < pol->nsources; i++)
		if (streq(pol->sources[i].name, name))
			return &pol->sources[i];
	return NULL;
}

void service_set_name(const struct service *svc, enum family f, char *buf, size_t n)
{
	snprintf(buf, n, "%s_%s", svc->name, f == FAM_V4 ? "v4" : "v6");
}

bool service_has_port(const struct service *svc, enum proto p, unsigned port)
{
	for (size_t i = 0; i < svc->nports; i++)
		if (svc->ports[i].proto == p && port >= svc->ports[i].lo && port <= svc->ports[i].hi)
			return true;
	return false;
}

bool service_to_covers(const struct service *svc, enum family f, u128 addr)
{
	return ranges_find(svc->to[f].v, svc->to[f].n, addr) >= 0;
}

int policy_flow_service(const struct policy *pol, enum family f, enum proto p, unsigned port,
			const struct prefix *dest, const struct service **svc,
			const struct service **other)
{
	const struct service *local = NULL, *to = NULL, *to2 = NULL;

	*svc = *other = NULL;
	for (size_t i = 0; i < pol->nservices; i++) {
		const struct service *s = &pol->services[i];
		if (!service_has_port(s, p, port))
			continue;
		if (!service_has_to(s, f)) {
			if (!local)
				local = s;
		} else if (dest ? service_to_covers(s, f, dest->addr) : true) {
			if (!to)
				to = s;
			else if (!to2)
				to2 = s;
		}
	}
	if (dest) {
		*svc = to ? to : local;
		return 0;
	}
	if (local) {
		*svc = local;
		return 0;
	}
	*svc = to;
	*other = to2;
	return to2 ? -1 : 0;
}

struct origin policy_origin(const struct policy *pol, uint32_t origin)
{
	struct origin o = { 0, 0, 0 };

	/* Each loaded source owns [origin_base, origin_base + norigins); sources are few. */
	for (size_t i = 0; i < pol->nsources; i++) {
		const struct source *s = &pol->sources[i];
		if (origin < s->origin_base || origin - s->origin_base >= s->norigins)
			continue;
		uint32_t k = origin - s->origin_base;
		o.src = (uint32_t)i;
		if (s->fmt->line_origins) {
			o.entry = k;
		} else if (k < s->nlocs) {
			o.entry = s->locs[k].entry;
			o.item = s->locs[k].item;
		}
		break;
	}
	return o;
}

void origin_where(const struct policy *pol, uint32_t origin, char *buf, size_t n)
{
	struct origin o = policy_origin(pol, origin);
	const struct source *src = &pol->sources[o.src];
	char w[256];

	src->fmt->where(src, o.entry, o.item, w, sizeof(w));
	snprintf(buf, n, "%s, %s", src->name, w);
}

int policy_compile(struct policy *pol, struct diag *d)
{
	size_t errors = d->errors;

	uint64_t next_origin = 0;
	for (size_t i = 0; i < pol->nsources; i++) {
		struct source *src = &pol->sources[i];
		if (!src->used_by || !src->fmt || !src->path)
			continue;
		src->origin_base = (uint32_t)next_origin;
		feed_load(pol, (uint32_t)i, d);
		next_origin += src->norigins;
		if (next_origin > UINT32_MAX) {
			diag_error(d, src->path, "too many lines and entries in all sources together");
			return -1;
		}
	}
	if (d->errors != errors)
		return -1;
	for (size_t i = 0; i < pol->nsources; i++)
		for (int f = 0; f < FAM_COUNT; f++)
			pol->sources[i].count[f] = pol->sources[i].pfx[f].n;
	for (size_t i = 0; i < pol->nservices; i++) {
		struct service *svc = &pol->services[i];
		for (int f = 0; f < FAM_COUNT; f++) {
			struct interval_set *set = &svc->set[f];
			size_t total = 0;
			if (svc->nsources == 1 && pol->sources[svc->sources[0]].used_by == 1) {
				/* The only user of its source: take the prefixes, don't copy them. */
				struct input_vec *pv = &pol->sources[svc->sources[0]].pfx[f];
				set->in = *pv;
				memset(pv, 0, sizeof(*pv));
			} else {
				for (size_t k = 0; k < svc->nsources; k++)
					total += pol->sources[svc->sources[k]].pfx[f].n;
				set->in.v = grow(set->in.v, &set->in.cap, total, sizeof(*set->in.v));
				for (size_t k = 0; k < svc->nsources; k++)
					input_vec_append(&set->in, &pol->sources[svc->sources[k]].pfx[f]);
			}
			interval_set_build(set);
		}
	}
	for (size_t i = 0; i < pol->nsources; i++)
		for (int f = 0; f < FAM_COUNT; f++)
			input_vec_free(&pol->sources[i].pfx[f]);
	return d->errors == errors ? 0 : -1;
}

int policy_empty_services(const struct policy *pol, struct diag *d)
{
	size_t errors = d->errors;

	for (size_t i = 0; i < pol->nservices; i++) {
		const struct service *svc = &pol->services[i];
		if (svc->allow_empty || svc->set[FAM_V4].n || svc->set[FAM_V6].n)
			continue;
		char where[PATH_MAX + 32];
		snprintf(where, sizeof(where), "%s:%u", pol->path, svc->line);
		diag_error(d, where,
			   "service %s would allow no source at all (allow-empty = yes permits it)",
			   svc->name);
	}
	return d->errors == errors ? 0 : -1;
}

static void source_free(struct source *src)
{
	free(src->name);
	free(src->file);
	free(src->path);
	free(src->url);
	free(src->ca_file);
	for (size_t i = 0; i < src->nopts; i++) {
		free(src->opts[i].key);
		free(src->opts[i].value);
	}
	free(src->opts);
	for (int f = 0; f < FAM_COUNT; f++)
		input_vec_free(&src->pfx[f]);
	free(src->locs);
	free(src->version);
	for (size_t i = 0; i < src->nlabels; i++)
		free(src->labels[i]);
	free(src->labels);
}

static void service_free(struct service *svc)
{
	free(svc->name);
	free(svc->ports);
	for (size_t i = 0; i < svc->nsource_names; i++)
		free(svc->source_names[i]);
	free(svc->source_names);
	free(svc->sources);
	for (int f = 0; f < FAM_COUNT; f++) {
		interval_set_free(&svc->set[f]);
		range_vec_free(&svc->to[f]);
	}
}

void policy_free(struct policy *pol)
{
	for (size_t i = 0; i < pol->nsources; i++)
		source_free(&pol->sources[i]);
	free(pol->sources);
	for (size_t i = 0; i < pol->nservices; i++)
		service_free(&pol->services[i]);
	free(pol->services);
	free(pol->path);
	free(pol->dir);
	free(pol->cache_dir);
	free(pol->table);
	memset(pol, 0, sizeof(*pol));
}

bool policy_valid_name(const char *s, bool source)
{
	return valid_name(s, source);
}

bool policy_valid_table_name(const char *s)
{
	return valid_name(s, false) && !nft_keyword(s);
}
