/*
 * SPF flattening over DNS with ldns: a depth-first walk of the records from
 * one domain, writing every address a pass term allows (see spf.h).
 */
#include "spf.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"

size_t spf_txt_from_pkt(const ldns_pkt *pkt, struct spf_txt **txt)
{
	const ldns_rr_list *answer = ldns_pkt_answer(pkt);
	size_t n = 0;

	*txt = NULL;
	for (size_t i = 0; answer && i < ldns_rr_list_rr_count(answer); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(answer, i);
		size_t len = 0;
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_TXT)
			continue;
		/* Each rdf is one character-string: a length byte, then the bytes. */
		for (size_t k = 0; k < ldns_rr_rd_count(rr); k++)
			len += ldns_rdf_size(ldns_rr_rdf(rr, k));
		char *text = xmalloc(len + 1);
		len = 0;
		for (size_t k = 0; k < ldns_rr_rd_count(rr); k++) {
			const ldns_rdf *rdf = ldns_rr_rdf(rr, k);
			const uint8_t *data = ldns_rdf_data(rdf);
			size_t size = ldns_rdf_size(rdf);
			if (size == 0 || data[0] > size - 1)
				continue;
			memcpy(text + len, data + 1, data[0]);
			len += data[0];
		}
		text[len] = '\0';
		*txt = xreallocarray(*txt, n + 1, sizeof(**txt));
		(*txt)[n++] = (struct spf_txt){ text, len };
	}
	return n;
}

int spf_txt_from_wire(const uint8_t *wire, size_t len, struct spf_txt **txt, size_t *n)
{
	ldns_pkt *pkt = NULL;

	*txt = NULL;
	*n = 0;
	if (ldns_wire2pkt(&pkt, wire, len) != LDNS_STATUS_OK)
		return -1;
	*n = spf_txt_from_pkt(pkt, txt);
	ldns_pkt_free(pkt);
	return 0;
}

void spf_txt_free(struct spf_txt *txt, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(txt[i].text);
	free(txt);
}

static int parse_port(const char *s, uint16_t *port)
{
	unsigned long v = 0;
	size_t n = strlen(s);

	if (n == 0 || n > 5 || s[0] == '0' || strspn(s, "0123456789") != n)
		return -1;
	v = strtoul(s, NULL, 10);
	if (v > 65535)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int spf_resolver_parse(const char *s, char *addr, size_t n, uint16_t *port)
{
	unsigned char bin[16];
	const char *colon = strchr(s, ':'), *end;
	size_t len;

	*port = 53;
	if (s[0] == '[') {
		end = strchr(s, ']');
		if (!end || (end[1] && (end[1] != ':' || parse_port(end + 2, port) < 0)))
			return -1;
		s++;
		len = (size_t)(end - s);
	} else if (colon && !strchr(colon + 1, ':')) {
		if (parse_port(colon + 1, port) < 0)
			return -1;
		len = (size_t)(colon - s);
	} else {
		len = strlen(s);
	}
	if (len == 0 || len >= n)
		return -1;
	memcpy(addr, s, len);
	addr[len] = '\0';
	if (inet_pton(strchr(addr, ':') ? AF_INET6 : AF_INET, addr, bin) != 1)
		return -1;
	return 0;
}

static ldns_resolver *resolver_new(const struct spf_opts *o, struct diag *d, const char *where)
{
	ldns_resolver *r = NULL;
	char addr[INET6_ADDRSTRLEN];
	uint16_t port;
	unsigned ms = o->timeout_ms ? o->timeout_ms : SPF_TIMEOUT_MS;
	ldns_status s;

	if (!o->resolver) {
		s = ldns_resolver_new_frm_file(&r, NULL);
		if (s != LDNS_STATUS_OK) {
			diag_error(d, where, "cannot set up the system's resolver from /etc/resolv.conf: %s",
				   ldns_get_errorstr_by_id(s));
			return NULL;
		}
	} else {
		if (spf_resolver_parse(o->resolver, addr, sizeof(addr), &port) < 0) {
			diag_error(d, where, "resolver must be ADDR, ADDR:PORT or [IPV6ADDR]:PORT '%s'",
				   o->resolver);
			return NULL;
		}
		ldns_rdf *ns = ldns_rdf_new_frm_str(strchr(addr, ':') ? LDNS_RDF_TYPE_AAAA
								      : LDNS_RDF_TYPE_A, addr);
		r = ldns_resolver_new();
		if (!ns || !r || ldns_resolver_push_nameserver(r, ns) != LDNS_STATUS_OK) {
			diag_error(d, where, "cannot set up the resolver %s: out of memory", o->resolver);
			ldns_rdf_deep_free(ns);
			if (r)
				ldns_resolver_deep_free(r);
			return NULL;
		}
		ldns_rdf_deep_free(ns);
		ldns_resolver_set_port(r, port);
	}
	ldns_resolver_set_timeout(r, (struct timeval){ ms / 1000, (ms % 1000) * 1000 });
	ldns_resolver_set_retry(r, 1);
	ldns_resolver_set_recursive(r, true);
	ldns_resolver_set_dnssec(r, false);
	ldns_resolver_set_random(r, false);
	/* Long TXT answers come truncated over UDP: ask again over TCP. */
	ldns_resolver_set_fallback(r, true);
	return r;
}

struct walker {
	ldns_resolver *res;
	struct diag *d;
	const char *where;
	FILE *mem;            /* the prefix lines, written out only when all went well */
	const char **stack;   /* the chain: domains followed from the first */
	size_t depth;
	unsigned max_depth, max_lookups;
	unsigned lookups;     /* DNS queries sent */
	unsigned spf_lookups; /* DNS-querying terms met, as RFC 7208 counts them */
	bool exhausted;       /* max_lookups reached: no more queries */
};

static bool same_domain(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* The chain so far, with `tail` after it when not NULL: "a.example > b.example > tail". */
static char *chain_text(const struct walker *w, const char *tail)
{
	char *s = xstrdup(""), *t;

	for (size_t i = 0; i < w->depth; i++) {
		t = xasprintf("%s%s%s", s, i ? " > " : "", w->stack[i]);
		free(s);
		s = t;
	}
	if (tail) {
		t = xasprintf("%s%s%s", s, w->depth ? " > " : "", tail);
		free(s);
		s = t;
	}
	return s;
}

enum outcome { DNS_OK, DNS_NXDOMAIN, DNS_FAILED, DNS_LIMIT };

/* One query. DNS_OK leaves the answer in *pkt; else why says what happened. */
static enum outcome query(struct walker *w, const char *name, ldns_rr_type type, ldns_pkt **pkt,
			  const char *chain, char *why, size_t n)
{
	ldns_rdf *dname;
	ldns_status s;
	ldns_pkt_rcode rcode;
	const ldns_lookup_table *lt;

	*pkt = NULL;
	if (w->lookups >= w->max_lookups) {
		if (!w->exhausted)
			diag_error(w->d, w->where,
				   "more than %u DNS lookups (the lookup limit) at %s (chain: %s)",
				   w->max_lookups, name, chain);
		w->exhausted = true;
		return DNS_LIMIT;
	}
	w->lookups++;
	dname = ldns_dname_new_frm_str(name);
	if (!dname) {
		snprintf(why, n, "not a DNS name");
		return DNS_FAILED;
	}
	s = ldns_resolver_send(pkt, w->res, dname, type, LDNS_RR_CLASS_IN, LDNS_RD);
	ldns_rdf_deep_free(dname);
	if (s != LDNS_STATUS_OK || !*pkt) {
		snprintf(why, n, "no answer (%s)", ldns_get_errorstr_by_id(s));
		ldns_pkt_free(*pkt);
		*pkt = NULL;
		return DNS_FAILED;
	}
	rcode = ldns_pkt_get_rcode(*pkt);
	if (rcode == LDNS_RCODE_NOERROR)
		return DNS_OK;
	lt = ldns_lookup_by_id(ldns_rcodes, (int)rcode);
	snprintf(why, n, "%s", rcode == LDNS_RCODE_NXDOMAIN ? "NXDOMAIN, no such domain"
			       : lt ? lt->name : "an unknown response code");
	ldns_pkt_free(*pkt);
	*pkt = NULL;
	return rcode == LDNS_RCODE_NXDOMAIN ? DNS_NXDOMAIN : DNS_FAILED;
}

static const char *type_name(ldns_rr_type t)
{
	return t == LDNS_RR_TYPE_TXT ? "TXT" : t == LDNS_RR_TYPE_MX ? "MX"
					   : t == LDNS_RR_TYPE_A ? "A" : "AAAA";
}

static void flatten_domain(struct walker *w, const char *domain);

static void emit(struct walker *w, const char *prefix, const char *chain)
{
	fprintf(w->mem, "%s\t%s\n", prefix, chain);
}

static int prefix_cmp(const void *a, const void *b)
{
	const struct prefix *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* The A or AAAA records of an answer as prefixes of the term's cidr length, sorted, unique. */
static size_t answer_prefixes(const ldns_pkt *pkt, ldns_rr_type type, unsigned plen,
			      struct prefix **out)
{
	const ldns_rr_list *answer = ldns_pkt_answer(pkt);
	enum family f = type == LDNS_RR_TYPE_A ? FAM_V4 : FAM_V6;
	size_t bytes = f == FAM_V4 ? 4 : 16, n = 0, k = 0;

	*out = NULL;
	for (size_t i = 0; answer && i < ldns_rr_list_rr_count(answer); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(answer, i);
		if (ldns_rr_get_type(rr) != type || ldns_rr_rd_count(rr) != 1 ||
		    ldns_rdf_size(ldns_rr_rdf(rr, 0)) != bytes)
			continue;
		u128 a = u128_from_be(ldns_rdf_data(ldns_rr_rdf(rr, 0)), bytes);
		*out = xreallocarray(*out, n + 1, sizeof(**out));
		(*out)[n++] = (struct prefix){ a & ~host_mask(fam_bits(f), plen), (uint8_t)plen,
					       (uint8_t)f };
	}
	if (n == 0)
		return 0;
	qsort(*out, n, sizeof(**out), prefix_cmp);
	for (size_t i = 1; i < n; i++)
		if ((*out)[i].addr != (*out)[k].addr)
			(*out)[++k] = (*out)[i];
	return k + 1;
}

/* a or mx: the addresses of one host. Returns how many, or -1 when it does not exist. */
static int host_addresses(struct walker *w, const struct spf_term *t, const char *host,
			  const char *chain)
{
	static const ldns_rr_type types[] = { LDNS_RR_TYPE_A, LDNS_RR_TYPE_AAAA };
	char why[160], text[PREFIX_STRLEN];
	ldns_pkt *pkt;
	int found = 0;

	for (size_t i = 0; i < 2; i++) {
		struct prefix *p;
		switch (query(w, host, types[i], &pkt, chain, why, sizeof(why))) {
		case DNS_OK:
			break;
		case DNS_NXDOMAIN:
			return -1;
		case DNS_FAILED:
			diag_error(w->d, w->where, "DNS lookup of the %s records of %s failed: %s (chain: %s)",
				   type_name(types[i]), host, why, chain);
			continue;
		case DNS_LIMIT:
			return found;
		}
		size_t n = answer_prefixes(pkt, types[i], i == 0 ? t->cidr4 : t->cidr6, &p);
		for (size_t k = 0; k < n; k++) {
			prefix_format(&p[k], text);
			emit(w, text, chain);
		}
		found += (int)n;
		free(p);
		ldns_pkt_free(pkt);
	}
	return found;
}

static void flatten_host(struct walker *w, const struct spf_term *t, const char *host,
			 const char *label)
{
	char *tail = xasprintf("%s %s", label, host), *chain = chain_text(w, tail);
	char tok[DIAG_TOKEN_MAX * 4 + 16];
	size_t errors = w->d->errors;
	int n = host_addresses(w, t, host, chain);

	if (n <= 0 && !w->exhausted && w->d->errors == errors)
		diag_warn(w->d, w->where, "%s %s, so this term allows no address (chain: %s) '%s'",
			  host, n < 0 ? "does not exist (NXDOMAIN)" : "has no A or AAAA record", chain,
			  diag_token(t->text, strlen(t->text), tok, sizeof(tok)));
	free(chain);
	free(tail);
}

struct mx_host {
	unsigned pref;
	char *name;
};

static int mx_cmp(const void *a, const void *b)
{
	const struct mx_host *x = a, *y = b;

	if (x->pref != y->pref)
		return x->pref < y->pref ? -1 : 1;
	return strcasecmp(x->name, y->name);
}

/* The exchanges of an MX answer by preference, the null MX "." left out. */
static size_t mx_hosts(const ldns_pkt *pkt, struct mx_host **out)
{
	const ldns_rr_list *answer = ldns_pkt_answer(pkt);
	size_t n = 0;

	*out = NULL;
	for (size_t i = 0; answer && i < ldns_rr_list_rr_count(answer); i++) {
		const ldns_rr *rr = ldns_rr_list_rr(answer, i);
		if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_MX || ldns_rr_rd_count(rr) != 2)
			continue;
		const ldns_rdf *pref = ldns_rr_rdf(rr, 0);
		char *name = ldns_rdf2str(ldns_rr_rdf(rr, 1));
		size_t len = name ? strlen(name) : 0;
		if (len && name[len - 1] == '.')
			name[--len] = '\0';
		if (len == 0 || ldns_rdf_size(pref) != 2) {
			free(name);
			continue;
		}
		*out = xreallocarray(*out, n + 1, sizeof(**out));
		(*out)[n++] = (struct mx_host){ ldns_read_uint16(ldns_rdf_data(pref)), name };
	}
	if (n)
		qsort(*out, n, sizeof(**out), mx_cmp);
	return n;
}

static void flatten_mx(struct walker *w, const struct spf_term *t, const char *domain,
		       const char *chain)
{
	char why[160], tok[DIAG_TOKEN_MAX * 4 + 16];
	struct mx_host *mx;
	ldns_pkt *pkt;
	size_t n;

	diag_token(t->text, strlen(t->text), tok, sizeof(tok));
	switch (query(w, domain, LDNS_RR_TYPE_MX, &pkt, chain, why, sizeof(why))) {
	case DNS_OK:
		break;
	case DNS_NXDOMAIN:
		diag_warn(w->d, w->where,
			  "%s does not exist (NXDOMAIN), so this term allows no address (chain: %s) '%s'",
			  domain, chain, tok);
		return;
	case DNS_FAILED:
		diag_error(w->d, w->where, "DNS lookup of the MX records of %s failed: %s (chain: %s)",
			   domain, why, chain);
		return;
	case DNS_LIMIT:
		return;
	}
	n = mx_hosts(pkt, &mx);
	ldns_pkt_free(pkt);
	if (n == 0)
		diag_warn(w->d, w->where,
			  "%s has no MX record, so this term allows no address (chain: %s) '%s'", domain,
			  chain, tok);
	for (size_t i = 0; i < n; i++) {
		flatten_host(w, t, mx[i].name, "mx");
		free(mx[i].name);
	}
	free(mx);
}

/* Why a term gives no address, or NULL when it is flattened. */
static const char *skip_reason(const struct spf_term *t)
{
	if (t->macro)
		return "its macro depends on the sender, so it cannot be flattened: skipped";
	if (t->kind == SPF_PTR)
		return "ptr depends on the sender's reverse DNS, so it cannot be flattened: skipped";
	if (t->kind == SPF_EXISTS)
		return "exists depends on the sender, so it cannot be flattened: skipped";
	if (t->qual != '+' && t->kind != SPF_ALL)
		return "only pass terms ('+' or no qualifier) allow addresses: skipped";
	return NULL;
}

static bool queries_dns(enum spf_kind k)
{
	return k == SPF_INCLUDE || k == SPF_A || k == SPF_MX || k == SPF_PTR || k == SPF_EXISTS ||
	       k == SPF_REDIRECT;
}

static void flatten_term(struct walker *w, const struct spf_term *t, const char *chain)
{
	const char *domain = w->stack[w->depth - 1];
	char tok[DIAG_TOKEN_MAX * 4 + 16];
	const char *why;

	diag_token(t->text, strlen(t->text), tok, sizeof(tok));
	if (queries_dns(t->kind))
		w->spf_lookups++;
	if (t->kind == SPF_ALL) {
		if (t->qual == '+')
			diag_error(w->d, w->where,
				   "a pass all allows every address, which no allow-list can hold (chain: %s) '%s'",
				   chain, tok);
		return;
	}
	if ((why = skip_reason(t))) {
		diag_warn(w->d, w->where, "%s (chain: %s) '%s'", why, chain, tok);
		return;
	}
	switch (t->kind) {
	case SPF_IP4:
	case SPF_IP6:
		emit(w, t->net, chain);
		break;
	case SPF_INCLUDE:
		flatten_domain(w, t->domain);
		break;
	case SPF_A:
		flatten_host(w, t, t->domain ? t->domain : domain, "a");
		break;
	case SPF_MX:
		flatten_mx(w, t, t->domain ? t->domain : domain, chain);
		break;
	default: /* redirect= comes after every mechanism; exp= gives no address */
		break;
	}
}

static void flatten_terms(struct walker *w, const struct spf_record *rec, const char *chain)
{
	const struct spf_term *redirect = NULL, *all = NULL;
	char tok[DIAG_TOKEN_MAX * 4 + 16];

	for (size_t i = 0; i < rec->n; i++) {
		const struct spf_term *t = &rec->terms[i];
		if (t->kind == SPF_REDIRECT) {
			redirect = t;
		} else if (all && t->kind != SPF_EXP) {
			diag_warn(w->d, w->where, "a term after all is never evaluated: skipped (chain: %s) '%s'",
				  chain, diag_token(t->text, strlen(t->text), tok, sizeof(tok)));
		} else {
			flatten_term(w, t, chain);
			if (t->kind == SPF_ALL)
				all = t;
		}
	}
	if (!redirect)
		return;
	diag_token(redirect->text, strlen(redirect->text), tok, sizeof(tok));
	if (all) {
		diag_warn(w->d, w->where, "redirect= is ignored beside an all term (chain: %s) '%s'",
			  chain, tok);
		return;
	}
	w->spf_lookups++;
	if (redirect->macro)
		diag_warn(w->d, w->where,
			  "its macro depends on the sender, so it cannot be flattened: skipped (chain: %s) '%s'",
			  chain, tok);
	else
		flatten_domain(w, redirect->domain);
}

/* The one SPF record among a domain's TXT records; errors when none or several. */
static void flatten_record(struct walker *w, const char *domain, const char *chain)
{
	struct spf_txt *txt;
	struct spf_record rec;
	char why[160];
	ldns_pkt *pkt;
	size_t n, found = 0, at = 0;

	switch (query(w, domain, LDNS_RR_TYPE_TXT, &pkt, chain, why, sizeof(why))) {
	case DNS_OK:
		break;
	case DNS_NXDOMAIN:
	case DNS_FAILED:
		diag_error(w->d, w->where, "DNS lookup of the TXT records of %s failed: %s (chain: %s)",
			   domain, why, chain);
		return;
	case DNS_LIMIT:
		return;
	}
	n = spf_txt_from_pkt(pkt, &txt);
	ldns_pkt_free(pkt);
	for (size_t i = 0; i < n; i++) {
		if (spf_is_record(txt[i].text, txt[i].len)) {
			found++;
			at = i;
		}
	}
	if (found == 0)
		diag_error(w->d, w->where,
			   "no SPF record at %s: none of its %zu TXT records starts with 'v=spf1' (chain: %s)",
			   domain, n, chain);
	else if (found > 1)
		diag_error(w->d, w->where,
			   "%zu SPF records at %s: a domain must publish only one (chain: %s)", found,
			   domain, chain);
	else if (spf_parse_record(txt[at].text, txt[at].len, &rec, w->d, w->where, chain) == 0) {
		flatten_terms(w, &rec, chain);
		spf_record_free(&rec);
	}
	spf_txt_free(txt, n);
}

static void flatten_domain(struct walker *w, const char *domain)
{
	char *chain;

	if (w->exhausted)
		return;
	w->stack[w->depth++] = domain;
	chain = chain_text(w, NULL);
	for (size_t i = 0; i + 1 < w->depth; i++) {
		if (same_domain(w->stack[i], domain)) {
			diag_error(w->d, w->where, "SPF loop: %s is in its own chain (chain: %s)",
				   domain, chain);
			goto out;
		}
	}
	if (w->depth > w->max_depth) {
		diag_error(w->d, w->where,
			   "chain longer than %u domains (the depth limit) at %s (chain: %s)",
			   w->max_depth, domain, chain);
		goto out;
	}
	flatten_record(w, domain, chain);
out:
	free(chain);
	w->depth--;
}

int spf_flatten(const char *domain, const struct spf_opts *opts, FILE *out, struct diag *d,
		const char *where)
{
	struct walker w = { .d = d, .where = where };
	size_t errors = d->errors, len = 0;
	char *buf = NULL;

	if (!spf_domain_valid(domain)) {
		diag_error(d, where, "not a domain name '%s'", domain);
		return -1;
	}
	w.max_depth = opts->max_depth ? opts->max_depth : SPF_MAX_DEPTH;
	w.max_lookups = opts->max_lookups ? opts->max_lookups : SPF_MAX_LOOKUPS;
	w.res = resolver_new(opts, d, where);
	if (!w.res)
		return -1;
	w.stack = xcalloc(w.max_depth + 1, sizeof(*w.stack));
	w.mem = open_memstream(&buf, &len);
	if (!w.mem) {
		diag_error(d, where, "cannot flatten %s: out of memory", domain);
		goto out;
	}
	flatten_domain(&w, domain);
	if (w.spf_lookups > SPF_RFC_LOOKUPS && !w.exhausted)
		diag_warn(d, where,
			  "%u DNS-querying terms (include, a, mx, ptr, exists, redirect) under %s: "
			  "receivers evaluate at most %u (RFC 7208 4.6.4) and fail the rest; "
			  "the flattened list holds them all",
			  w.spf_lookups, domain, SPF_RFC_LOOKUPS);
	fclose(w.mem);
	if (d->errors == errors) {
		fprintf(out, "# spf %s\n", domain);
		fwrite(buf, 1, len, out);
		if (fflush(out) != 0 || ferror(out))
			diag_error(d, where, "cannot write the flattened SPF of %s", domain);
	}
	free(buf);
out:
	free(w.stack);
	ldns_resolver_deep_free(w.res);
	return d->errors == errors ? 0 : -1;
}
