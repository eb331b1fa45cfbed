/*
 * SPF record text to terms (RFC 7208 section 4.6 and 12), strictly: every
 * term must be well formed, or the record is refused. No I/O.
 *
 * Domains are stricter than the RFC's domain-spec: labels of letters,
 * digits, '-' and '_', at least two of them, a top label that is not all
 * digits. Names that fail this are not names a mail provider publishes.
 */
#include "spf.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

struct parser {
	struct diag *d;
	const char *where;
	const char *chain;
	unsigned errors;
};

static const struct {
	const char *name;
	enum spf_kind kind;
} mechanisms[] = {
	{ "all", SPF_ALL },	{ "include", SPF_INCLUDE }, { "a", SPF_A },
	{ "mx", SPF_MX },	{ "ptr", SPF_PTR },	    { "ip4", SPF_IP4 },
	{ "ip6", SPF_IP6 },	{ "exists", SPF_EXISTS },
};

const char *spf_kind_name(enum spf_kind k)
{
	for (size_t i = 0; i < sizeof(mechanisms) / sizeof(mechanisms[0]); i++)
		if (mechanisms[i].kind == k)
			return mechanisms[i].name;
	return k == SPF_REDIRECT ? "redirect" : "exp";
}

static void perr(struct parser *p, const char *what, const char *tok, size_t len)
{
	char t[DIAG_TOKEN_MAX * 4 + 16];

	p->errors++;
	diag_error(p->d, p->where, "%s%s%s%s '%s'", what, p->chain ? " (chain: " : "",
		   p->chain ? p->chain : "", p->chain ? ")" : "", diag_token(tok, len, t, sizeof(t)));
}

bool spf_is_record(const char *text, size_t len)
{
	return len >= 6 && strncasecmp(text, "v=spf1", 6) == 0 && (len == 6 || text[6] == ' ');
}

/* Bytes of s[0..n) before the first of `stop`. */
static size_t span_until(const char *s, size_t n, const char *stop)
{
	size_t i = 0;

	while (i < n && !strchr(stop, s[i]))
		i++;
	return i;
}

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* %{ letter [digits] [r] [delimiters] }, %%, %_ or %-. Returns the length, 0 when malformed. */
static size_t macro_len(const char *s, size_t n)
{
	size_t i;

	if (n >= 2 && (s[1] == '%' || s[1] == '_' || s[1] == '-'))
		return 2;
	if (n < 4 || s[1] != '{' || s[2] == '\0' || !strchr("slodiphcrtvSLODIPHCRTV", s[2]))
		return 0;
	for (i = 3; i < n && s[i] >= '0' && s[i] <= '9'; i++)
		;
	if (i < n && (s[i] == 'r' || s[i] == 'R'))
		i++;
	while (i < n && s[i] != '\0' && strchr(".-+,/_=", s[i]))
		i++;
	return i < n && s[i] == '}' ? i + 1 : 0;
}

/* A macro-string: every '%' starts a well-formed macro. */
static bool macros_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%')
			continue;
		size_t m = macro_len(s + i, n - i);
		if (m == 0)
			return false;
		i += m - 1;
	}
	return true;
}

static bool label_ok(const char *s, size_t n, bool top)
{
	bool digits_only = true;

	if (n == 0 || n > 63)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_alnum(s[i]) && s[i] != '-' && (top || s[i] != '_'))
			return false;
		digits_only &= s[i] >= '0' && s[i] <= '9';
	}
	return !top || (!digits_only && s[0] != '-' && s[n - 1] != '-');
}

static bool domain_ok(const char *s, size_t n)
{
	size_t labels = 0, start = 0;

	if (n && s[n - 1] == '.')
		n--;
	if (n == 0 || n > 253)
		return false;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		if (!label_ok(s + start, i - start, i == n))
			return false;
		labels++;
		start = i + 1;
	}
	return labels >= 2;
}

bool spf_domain_valid(const char *s)
{
	return domain_ok(s, strlen(s));
}

/* A domain-spec: a name, or a macro-string. NULL when fine, else why not. */
static const char *domain_spec(const char *s, size_t n, struct spf_term *t)
{
	if (n == 0)
		return "expected a domain after ':'";
	if (memchr(s, '%', n)) {
		if (!macros_ok(s, n))
			return "malformed macro";
		t->macro = true;
	} else if (!domain_ok(s, n)) {
		return "not a domain name";
	}
	t->domain = xstrndup(s, n);
	return NULL;
}

/* Where "/DIGITS" ends s[0..n): the digits' start, or n when it does not. */
static size_t cidr_start(const char *s, size_t n)
{
	size_t i = n;

	while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9')
		i--;
	return i < n && i > 0 && s[i - 1] == '/' ? i : n;
}

/* A cidr length from 0 to max without leading zeros. */
static bool cidr_value(const char *s, size_t n, unsigned max, unsigned *out)
{
	unsigned v = 0;

	if (n > 3 || (s[0] == '0' && n > 1))
		return false;
	for (size_t k = 0; k < n; k++)
		v = v * 10 + (unsigned)(s[k] - '0');
	*out = v;
	return v <= max;
}

/* a, mx: [":" domain-spec] ["/" cidr4] ["//" cidr6] after the name. */
static const char *host_args(const char *s, size_t n, struct spf_term *t)
{
	size_t len = n, i = cidr_start(s, n);

	t->cidr4 = 32;
	t->cidr6 = 128;
	if (i < len && i >= 2 && s[i - 2] == '/') {
		if (!cidr_value(s + i, len - i, 128, &t->cidr6))
			return "IPv6 cidr length must be 0 to 128";
		len = i - 2;
		i = cidr_start(s, len);
	}
	if (i < len) {
		if (!cidr_value(s + i, len - i, 32, &t->cidr4))
			return "IPv4 cidr length must be 0 to 32";
		len = i - 1;
	}
	if (len == 0)
		return NULL;
	if (s[0] != ':')
		return "expected ':', '/' or the end after the mechanism";
	return domain_spec(s + 1, len - 1, t);
}

static const char *ip_args(const char *s, size_t n, struct spf_term *t)
{
	unsigned flags = 0;
	enum parse_err e;
	bool v6 = t->kind == SPF_IP6;

	if (n == 0 || s[0] != ':')
		return v6 ? "ip6 needs ':' and a network" : "ip4 needs ':' and a network";
	e = prefix_parse(s + 1, n - 1, &t->prefix, &flags);
	if (e)
		return parse_strerror(e);
	if (v6 != (t->prefix.family == FAM_V6 || (flags & PARSE_MAPPED)))
		return v6 ? "not an IPv6 network" : "not an IPv4 network";
	t->net = (flags & PARSE_NOLEN) ? xasprintf("%.*s/%u", (int)(n - 1), s + 1, v6 ? 128 : 32)
				       : xstrndup(s + 1, n - 1);
	return NULL;
}

static const char *mechanism_args(const char *s, size_t n, struct spf_term *t)
{
	switch (t->kind) {
	case SPF_ALL:
		return n ? "all takes no argument" : NULL;
	case SPF_INCLUDE:
	case SPF_EXISTS:
		if (n == 0 || s[0] != ':')
			return t->kind == SPF_INCLUDE ? "include needs ':' and a domain"
						      : "exists needs ':' and a domain";
		return domain_spec(s + 1, n - 1, t);
	case SPF_PTR:
		if (n == 0)
			return NULL;
		return s[0] == ':' ? domain_spec(s + 1, n - 1, t) : "ptr takes only ':' and a domain";
	case SPF_A:
	case SPF_MX:
		return host_args(s, n, t);
	case SPF_IP4:
	case SPF_IP6:
		return ip_args(s, n, t);
	default:
		return "unknown mechanism";
	}
}

/* Modifier name: ALPHA *( ALPHA / DIGIT / "-" / "_" / "." ); its length, 0 when none. */
static size_t name_len(const char *s, size_t n)
{
	size_t i = 0;

	if (n == 0 || !is_alpha(s[0]))
		return 0;
	while (i < n && (is_alnum(s[i]) || s[i] == '-' || s[i] == '_' || s[i] == '.'))
		i++;
	return i;
}

/* One term. NULL when taken (t->text set) or ignored (t->text NULL), else why not. */
static const char *parse_term(const char *s, size_t n, struct spf_term *t)
{
	size_t q, k;
	const char *why;

	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x21 || s[i] > 0x7e)
			return "only visible ASCII characters are allowed";
	q = strchr("+-~?", s[0]) ? 1 : 0;
	k = name_len(s + q, n - q);
	if (k && q + k < n && s[q + k] == '=') {
		const char *v = s + q + k + 1;
		size_t vn = n - q - k - 1;
		if (q)
			return "a modifier takes no qualifier";
		if (k == 8 && strncasecmp(s, "redirect", 8) == 0)
			t->kind = SPF_REDIRECT;
		else if (k == 3 && strncasecmp(s, "exp", 3) == 0)
			t->kind = SPF_EXP;
		else
			return macros_ok(v, vn) ? NULL : "malformed macro";
		if ((why = domain_spec(v, vn, t)))
			return why;
		t->text = xstrndup(s, n);
		return NULL;
	}
	k = span_until(s + q, n - q, ":/");
	why = "unknown mechanism";
	for (size_t i = 0; i < sizeof(mechanisms) / sizeof(mechanisms[0]); i++) {
		if (strlen(mechanisms[i].name) == k && strncasecmp(mechanisms[i].name, s + q, k) == 0) {
			t->kind = mechanisms[i].kind;
			t->qual = q ? s[0] : '+';
			why = mechanism_args(s + q + k, n - q - k, t);
			break;
		}
	}
	if (!why)
		t->text = xstrndup(s, n);
	return why;
}

static void term_free(struct spf_term *t)
{
	free(t->text);
	free(t->domain);
	free(t->net);
}

static void add_term(struct parser *p, struct spf_record *rec, const char *s, size_t n)
{
	struct spf_term t = { 0 };
	const char *why = parse_term(s, n, &t);

	if (why) {
		term_free(&t);
		char what[160];
		snprintf(what, sizeof(what), "malformed SPF term: %s", why);
		return perr(p, what, s, n);
	}
	if (!t.text)
		return;
	if (t.kind == SPF_REDIRECT || t.kind == SPF_EXP) {
		for (size_t i = 0; i < rec->n; i++) {
			if (rec->terms[i].kind == t.kind) {
				term_free(&t);
				return perr(p, t.kind == SPF_REDIRECT ? "redirect= given twice"
								      : "exp= given twice", s, n);
			}
		}
	}
	rec->terms = xreallocarray(rec->terms, rec->n + 1, sizeof(*rec->terms));
	rec->terms[rec->n++] = t;
}

int spf_parse_record(const char *text, size_t len, struct spf_record *rec, struct diag *d,
		     const char *where, const char *chain)
{
	struct parser p = { d, where, chain, 0 };
	size_t i;

	memset(rec, 0, sizeof(*rec));
	if (len > SPF_MAX_RECORD) {
		char what[64];
		snprintf(what, sizeof(what), "SPF record longer than %u bytes", SPF_MAX_RECORD);
		perr(&p, what, text, len);
		return -1;
	}
	if (memchr(text, '\0', len)) {
		perr(&p, "NUL byte in the SPF record", text, len);
		return -1;
	}
	if (!spf_is_record(text, len)) {
		perr(&p, "not an SPF record: it does not start with 'v=spf1'", text, len);
		return -1;
	}
	for (i = 6; i < len;) {
		size_t n;
		if (text[i] == ' ') {
			i++;
			continue;
		}
		n = span_until(text + i, len - i, " ");
		add_term(&p, rec, text + i, n);
		i += n;
	}
	if (p.errors) {
		spf_record_free(rec);
		return -1;
	}
	return 0;
}

void spf_record_free(struct spf_record *rec)
{
	for (size_t i = 0; i < rec->n; i++)
		term_free(&rec->terms[i]);
	free(rec->terms);
	rec->terms = NULL;
	rec->n = 0;
}
