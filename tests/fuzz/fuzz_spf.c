/*
 * The SPF record parser on hostile text: spf_parse_record() on the whole
 * input, with and without a chain to name.
 *
 * Checked: it succeeds exactly when it reports no error, and leaves nothing
 * behind when it fails; every term is well formed (a qualifier on every
 * mechanism and none on modifiers, a domain where the kind needs one, a
 * macro flag that says whether the domain has a '%', a plain domain that
 * spf_domain_valid() accepts, networks that parse back to the prefix taken,
 * cidr lengths within their family); the terms' texts joined again after
 * "v=spf1" parse to the very same terms.
 */
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "fuzz.h"
#include "spf.h"

static bool needs_domain(enum spf_kind k)
{
	return k == SPF_INCLUDE || k == SPF_EXISTS || k == SPF_REDIRECT || k == SPF_EXP;
}

static void check_term(const struct spf_term *t)
{
	bool modifier = t->kind == SPF_REDIRECT || t->kind == SPF_EXP;

	FUZZ_CHECK(t->text && t->text[0], "a term without text");
	for (const char *p = t->text; *p; p++)
		FUZZ_CHECK(*p > 0x20 && *p < 0x7f, "term '%s' has a byte 0x%02x", t->text,
			   (unsigned char)*p);
	FUZZ_CHECK(modifier ? t->qual == 0 : t->qual && strchr("+-~?", t->qual),
		   "term '%s': qualifier %d", t->text, t->qual);
	if (needs_domain(t->kind))
		FUZZ_CHECK(t->domain != NULL, "term '%s' has no domain", t->text);
	if (t->domain) {
		FUZZ_CHECK(t->macro == (strchr(t->domain, '%') != NULL), "term '%s': macro flag %d",
			   t->text, t->macro);
		FUZZ_CHECK(t->macro || spf_domain_valid(t->domain), "term '%s': domain '%s' taken",
			   t->text, t->domain);
	}
	if (t->kind == SPF_IP4 || t->kind == SPF_IP6) {
		struct prefix p;
		unsigned flags;
		FUZZ_CHECK(t->net != NULL, "term '%s' has no network", t->text);
		FUZZ_CHECK(prefix_parse(t->net, strlen(t->net), &p, &flags) == PARSE_OK &&
				   p.addr == t->prefix.addr && p.plen == t->prefix.plen &&
				   p.family == t->prefix.family && !(flags & PARSE_NOLEN),
			   "term '%s': network '%s' does not parse back", t->text, t->net);
		FUZZ_CHECK(t->kind == SPF_IP6 || t->prefix.family == FAM_V4,
			   "ip4 term '%s' gave an IPv6 prefix", t->text);
	}
	if (t->kind == SPF_A || t->kind == SPF_MX)
		FUZZ_CHECK(t->cidr4 <= 32 && t->cidr6 <= 128, "term '%s': /%u //%u", t->text,
			   t->cidr4, t->cidr6);
}

static bool same_terms(const struct spf_record *a, const struct spf_record *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct spf_term *x = &a->terms[i], *y = &b->terms[i];
		if (x->kind != y->kind || x->qual != y->qual || strcmp(x->text, y->text) ||
		    !x->domain != !y->domain || (x->domain && strcmp(x->domain, y->domain)) ||
		    !x->net != !y->net || (x->net && strcmp(x->net, y->net)) ||
		    x->cidr4 != y->cidr4 || x->cidr6 != y->cidr6 || x->macro != y->macro)
			return false;
	}
	return true;
}

static void check_reparse(const struct spf_record *rec)
{
	size_t len = 6;
	char *text;
	struct spf_record again;
	struct diag d = { 0 };

	for (size_t i = 0; i < rec->n; i++)
		len += 1 + strlen(rec->terms[i].text);
	text = malloc(len + 1);
	FUZZ_CHECK(text != NULL, "out of memory");
	len = (size_t)sprintf(text, "v=spf1");
	for (size_t i = 0; i < rec->n; i++)
		len += (size_t)sprintf(text + len, " %s", rec->terms[i].text);
	FUZZ_CHECK(spf_parse_record(text, len, &again, &d, NULL, NULL) == 0,
		   "the terms joined do not parse: %s", d.nmsgs ? d.msgs[0].text : "");
	FUZZ_CHECK(same_terms(rec, &again), "the terms joined parse to other terms: '%s'", text);
	spf_record_free(&again);
	diag_free(&d);
	free(text);
}

static void run(const uint8_t *data, size_t size, const char *chain)
{
	struct spf_record rec;
	struct diag d = { 0 };
	int rc = spf_parse_record((const char *)data, size, &rec, &d, "fuzz", chain);

	FUZZ_CHECK((rc == 0) == (d.errors == 0), "returned %d with %zu errors", rc, d.errors);
	FUZZ_CHECK(rc == 0 || (rec.n == 0 && rec.terms == NULL), "a failed parse left %zu terms",
		   rec.n);
	FUZZ_CHECK(rc < 0 || spf_is_record((const char *)data, size), "taken without 'v=spf1'");
	for (size_t i = 0; i < d.nmsgs; i++)
		FUZZ_CHECK(!chain || strstr(d.msgs[i].text, chain), "message without the chain: %s",
			   d.msgs[i].text);
	for (size_t i = 0; i < rec.n; i++)
		check_term(&rec.terms[i]);
	if (rc == 0)
		check_reparse(&rec);
	diag_print(&d, fuzz_null());
	diag_free(&d);
	spf_record_free(&rec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run(data, size, NULL);
	run(data, size, "a.example.org > b.example.org");
	return 0;
}
