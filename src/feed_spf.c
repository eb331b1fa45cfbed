/*
 * format = spf: a domain's SPF record, flattened by spf_flatten() into
 * "PREFIX<TAB>CHAIN" lines under a "# spf DOMAIN" header (see spf.h).
 * Each prefix is labelled with its chain, so that it is found as
 * "spf github.com > _spf.google.com" rather than by its line.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "feed.h"
#include "spf.h"
#include "util.h"

static const char *const spf_keys[] = {
	"domain", "resolver", "max-depth", "max-lookups", NULL,
};

/* A decimal from 1 to max, without sign or leading zeros. */
static int parse_limit(const char *s, unsigned max, unsigned *out)
{
	size_t n = strlen(s);
	unsigned long v;

	if (n == 0 || n > 9 || s[0] == '0' || strspn(s, "0123456789") != n)
		return -1;
	v = strtoul(s, NULL, 10);
	if (v > max)
		return -1;
	*out = (unsigned)v;
	return 0;
}

static void opt_error(struct diag *d, const char *policy_path, const struct source_opt *o,
		      const char *what)
{
	char where[PATH_MAX + 32];

	snprintf(where, sizeof(where), "%s:%u", policy_path, o->line);
	diag_error(d, where, "%s '%s'", what, o->value);
}

static void source_opt(const struct source_opt *o, const char *policy_path, const char **domain,
		       struct spf_opts *opts, struct diag *d)
{
	char addr[64];
	uint16_t port;

	if (streq(o->key, "domain")) {
		if (spf_domain_valid(o->value))
			*domain = o->value;
		else
			opt_error(d, policy_path, o, "domain must be a domain name");
	} else if (streq(o->key, "resolver")) {
		if (spf_resolver_parse(o->value, addr, sizeof(addr), &port) == 0)
			opts->resolver = o->value;
		else
			opt_error(d, policy_path, o,
				  "resolver must be ADDR, ADDR:PORT or [IPV6ADDR]:PORT");
	} else if (streq(o->key, "max-depth")) {
		if (parse_limit(o->value, 100, &opts->max_depth) < 0)
			opt_error(d, policy_path, o, "max-depth must be 1 to 100");
	} else if (streq(o->key, "max-lookups")) {
		if (parse_limit(o->value, 10000, &opts->max_lookups) < 0)
			opt_error(d, policy_path, o, "max-lookups must be 1 to 10000");
	}
}

int spf_source_opts(struct source *src, const char *policy_path, const char **domain,
		    struct spf_opts *opts, struct diag *d)
{
	size_t errors = d->errors;

	*domain = NULL;
	memset(opts, 0, sizeof(*opts));
	for (size_t i = 0; i < src->nopts; i++)
		source_opt(&src->opts[i], policy_path, domain, opts, d);
	if (!*domain && d->errors == errors) {
		char where[PATH_MAX + 32];
		snprintf(where, sizeof(where), "%s:%u", policy_path, src->line);
		diag_error(d, where, "source %s of format spf has no domain", src->name);
	}
	return d->errors == errors ? 0 : -1;
}

/* "# spf DOMAIN": the file must be the flattening of the source's domain. */
static void check_header(struct feed_ctx *c, const char *s, size_t n, uint32_t line,
			 const char *domain)
{
	char t[DIAG_TOKEN_MAX * 4 + 16];

	if (n < 6 || memcmp(s, "# spf ", 6) != 0)
		return;
	if (n - 6 != strlen(domain) || strncasecmp(s + 6, domain, n - 6) != 0)
		feed_error(c, line, 0, "the file flattens the SPF record of another domain than %s '%s'",
			   domain, diag_token(s + 6, n - 6, t, sizeof(t)));
}

static void spf_line(struct feed_ctx *c, const char *s, size_t n, uint32_t line)
{
	char t[DIAG_TOKEN_MAX * 4 + 16];
	const char *tab = memchr(s, '\t', n);

	if (!tab || tab == s || tab + 1 == s + n)
		return feed_error(c, line, 0, "expected PREFIX<TAB>CHAIN '%s'",
				  diag_token(s, n, t, sizeof(t)));
	char *chain = xstrndup(tab + 1, (size_t)(s + n - tab - 1));
	if (feed_add_text(c, s, (size_t)(tab - s), line, 0))
		source_set_label(c->src, line, chain);
	free(chain);
}

static int spf_load(struct feed_ctx *c)
{
	struct line_reader lr;
	struct spf_opts opts;
	const char *s, *domain;
	size_t n;

	if (spf_source_opts(c->src, c->pol->path, &domain, &opts, c->diag) < 0)
		return -1;
	/* One thread: labels are set as lines are read. */
	feed_reserve(c, feed_count_lines(c));
	feed_lines_init(c, &lr, c->buf, c->len, 1);
	while (line_reader_next(&lr, &s, &n)) {
		if (lr.lineno == 1)
			check_header(c, s, n, lr.lineno, domain);
		if (n == 0 || s[0] == '#')
			continue;
		spf_line(c, s, n, lr.lineno);
	}
	return 0;
}

static void spf_where(const struct source *src, uint32_t entry, uint32_t item, char *buf,
		      size_t n)
{
	const char *label = source_label(src, entry);

	if (label)
		snprintf(buf, n, "spf %s", label);
	else
		where_line(src, entry, item, buf, n);
}

const struct feed_format feed_spf = {
	.name = "spf",
	.keys = spf_keys,
	.published = true,
	.line_origins = true,
	.fetch = true,
	.load = spf_load,
	.where = spf_where,
	.diag_where = diag_where_line,
};
