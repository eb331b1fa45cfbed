/*
 * One feed format (FUZZ_FORMAT, its name) on hostile bytes. The input is the
 * feed file itself: it goes straight to the format's load() through a
 * feed_ctx, as feed_load() hands it a file it read, and the prefixes are then
 * compiled into the service's sets as policy_compile() does. Each input runs
 * under two policies: defaults, and strict with narrower limits and the
 * format's filters. A list is also parsed again inside long comment lines,
 * which makes it large enough to be parsed in two halves by two threads.
 *
 * Checked: every prefix taken is a prefix (host bits clear, length within
 * the family and the source's limits, never /0) whose origin names the
 * source; every location text is terminated; the sets are merged, sorted and
 * hold their inputs; lookups find every interval; the JSON model parses and
 * reads back (modelfile_read) as the very same sets; the nft script renders;
 * a list parsed in two halves gives what it gives whole.
 */
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "feed.h"
#include "fuzz.h"
#include "render.h"

#ifndef FUZZ_FORMAT
#error "FUZZ_FORMAT: the name of the feed format under test"
#endif

/* Filters of the second policy: values the seed feeds use, so that some entries pass. */
static const struct {
	const char *format;
	const char *keys;
} filters[] = {
	{ "list", "" },
	{ "postfix-cidr", "action = REJECT\n" },
	{ "m365", "service-area = Exchange Common\n"
		  "tcp-port = 25 443\n"
		  "category = Optimize, Allow, Default\n"
		  "required = true false\n"
		  "ids = 1 2 5 6 9 10 11 12 13 22 31 46 56 64 65 100\n" },
	{ "aws", "service = AMAZON EC2 S3 ROUTE53_RESOLVER CLOUDFRONT\n"
		 "region = GLOBAL us-east-1 us-west-2 eu-west-1 eu-central-1 ap-northeast-1\n"
		 "network-border-group = GLOBAL us-east-1 us-west-2 eu-west-1 eu-central-1\n" },
	{ "google", "service = \"Google Cloud\"\n"
		    "scope = global us-central1 europe-west1 us-east1 africa-south1\n" },
	{ "azure", "tag = ActionGroup AzureActiveDirectory AzureCloud AppService \"Storage\"\n"
		   "system-service = ActionGroup AzureAD AzureStorage AzureAppService\n" },
};

static const struct feed_format *format;
static const char *policy_paths[2];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *keys = NULL;
	char *text;

	(void)argc;
	(void)argv;
	format = feed_format_find(FUZZ_FORMAT);
	for (size_t i = 0; i < sizeof(filters) / sizeof(filters[0]); i++)
		if (strcmp(filters[i].format, FUZZ_FORMAT) == 0)
			keys = filters[i].keys;
	if (!format || !keys) {
		fprintf(stderr, "fuzz: no feed format '%s'\n", FUZZ_FORMAT);
		abort();
	}
	policy_paths[0] = fuzz_path("plain.conf");
	policy_paths[1] = fuzz_path("strict.conf");

	if (asprintf(&text,
		     "[service smtp]\nports = tcp/25\nsources = feed\n\n"
		     "[source feed]\nformat = %s\nfile = feed.dat\n",
		     FUZZ_FORMAT) < 0)
		abort();
	fuzz_write_str(policy_paths[0], text);
	free(text);
	if (asprintf(&text,
		     "[table]\nname = fuzz\npriority = -5\n\n"
		     "[service submission]\nports = tcp/587, tcp/465\nsources = feed\n"
		     "otherwise = reject\nallow-empty = yes\nmax-removal = 2.5%%\n\n"
		     "[source feed]\nformat = %s\nfile = feed.dat\nstrict = yes\nallow-empty = yes\n"
		     "broadest = /12\nbroadest6 = /28\n%s",
		     FUZZ_FORMAT, keys) < 0)
		abort();
	fuzz_write_str(policy_paths[1], text);
	free(text);
	return 0;
}

static void check_where(const struct policy *pol, const struct source *src, uint32_t origin)
{
	char buf[512], small[8];
	struct origin o = policy_origin(pol, origin);

	FUZZ_CHECK(o.src == 0, "origin %u names source %u", origin, o.src);
	src->fmt->where(src, o.entry, o.item, buf, sizeof(buf));
	FUZZ_CHECK(memchr(buf, '\0', sizeof(buf)), "where() left its text unterminated");
	src->fmt->where(src, o.entry, o.item, small, sizeof(small));
	FUZZ_CHECK(memchr(small, '\0', sizeof(small)), "where() overran a short buffer");
	src->fmt->diag_where(src, o.entry, o.item, buf, sizeof(buf));
	FUZZ_CHECK(memchr(buf, '\0', sizeof(buf)), "diag_where() left its text unterminated");
	origin_where(pol, origin, buf, sizeof(buf));
	FUZZ_CHECK(memchr(buf, '\0', sizeof(buf)), "origin_where() left its text unterminated");
}

static void check_prefixes(const struct policy *pol, const struct source *src,
			   const struct feed_ctx *c)
{
	FUZZ_CHECK(c->added == src->pfx[FAM_V4].n + src->pfx[FAM_V6].n,
		   "added %zu, but %zu + %zu prefixes are there", c->added, src->pfx[FAM_V4].n,
		   src->pfx[FAM_V6].n);
	for (int f = 0; f < FAM_COUNT; f++) {
		unsigned bits = fam_bits((enum family)f);
		for (size_t i = 0; i < src->pfx[f].n; i++) {
			const struct input_prefix *p = &src->pfx[f].v[i];
			char a[36];
			FUZZ_CHECK(p->plen >= 1 && p->plen <= bits && p->plen >= src->broadest[f],
				   "%s prefix %s/%u: length outside 1..%u or broader than /%u",
				   fam_name((enum family)f), fuzz_hex(p->lo, a), p->plen, bits,
				   src->broadest[f]);
			FUZZ_CHECK(!(p->lo & host_mask(bits, p->plen)) && p->lo <= fam_max((enum family)f),
				   "%s prefix %s/%u has host bits", fam_name((enum family)f),
				   fuzz_hex(p->lo, a), p->plen);
			FUZZ_CHECK(p->origin < src->norigins,
				   "origin %u outside the %u the source owns", p->origin,
				   src->norigins);
			check_where(pol, src, p->origin);
		}
	}
}

static void check_diag(const struct diag *d)
{
	FUZZ_CHECK(d->nmsgs <= DIAG_KEEP, "%zu messages kept", d->nmsgs);
	FUZZ_CHECK(d->errors + d->warnings == d->nmsgs + d->dropped_errors + d->dropped_warnings,
		   "counts %zu + %zu for %zu messages kept, %zu + %zu dropped", d->errors,
		   d->warnings, d->nmsgs, d->dropped_errors, d->dropped_warnings);
	for (size_t i = 0; i < d->nmsgs; i++)
		FUZZ_CHECK(d->msgs[i].text != NULL, "message %zu has no text", i);
}

/* The policy, and the feed in buf (NUL-terminated) loaded into its one source. */
static void load(struct policy *pol, struct diag *d, struct feed_ctx *c, const char *policy_path,
		 const char *buf, size_t len)
{
	if (policy_load(pol, policy_path, NULL, d) < 0) {
		diag_print(d, stderr);
		FUZZ_CHECK(false, "the harness's policy %s does not load", policy_path);
	}
	struct source *src = &pol->sources[0];
	FUZZ_CHECK(pol->nsources == 1 && pol->nservices == 1 && src->fmt == format,
		   "unexpected policy");
	*c = (struct feed_ctx){ .pol = pol, .src = src, .src_index = 0, .diag = d, .buf = buf,
				.len = len };
	for (int f = 0; f < FAM_COUNT; f++)
		c->out[f] = &src->pfx[f];
	src->loaded = true;
	src->origin_base = 0;
	src->fmt->load(c);
	src->norigins = c->norigins;
	src->failed = d->errors > 0;
}

/*
 * A text format splits a file of 1 MiB or more in two halves parsed side by
 * side. Long comment lines around the input make it that large, and put the
 * split inside the input: the result must be the plain one, lines shifted.
 */
#define PAD_LINES 132
#define PAD_LINE 4000

static void check_split(const struct policy *plain, const struct diag *plain_diag,
			const char *data, size_t size)
{
	size_t pad = (size_t)PAD_LINES * PAD_LINE, len = 2 * pad + size + 1;
	char *buf = malloc(len + 1);
	struct policy pol;
	struct diag d = { 0 };
	struct feed_ctx c;

	FUZZ_CHECK(buf != NULL, "out of memory");
	for (size_t i = 0; i < PAD_LINES; i++) {
		char *line = buf + i * PAD_LINE;
		memset(line, 'p', PAD_LINE - 1);
		line[0] = '#';
		line[PAD_LINE - 1] = '\n';
	}
	memcpy(buf + pad, data, size);
	buf[pad + size] = '\n';
	memcpy(buf + pad + size + 1, buf, pad);
	buf[len] = '\0';

	load(&pol, &d, &c, policy_paths[0], buf, len);
	free(buf);
	const struct source *a = &plain->sources[0], *b = &pol.sources[0];
	for (int f = 0; f < FAM_COUNT; f++) {
		FUZZ_CHECK(a->pfx[f].n == b->pfx[f].n, "%s: %zu prefixes whole, %zu split",
			   fam_name((enum family)f), a->pfx[f].n, b->pfx[f].n);
		for (size_t i = 0; i < a->pfx[f].n; i++) {
			const struct input_prefix *x = &a->pfx[f].v[i], *y = &b->pfx[f].v[i];
			FUZZ_CHECK(x->lo == y->lo && x->plen == y->plen &&
					   x->origin + PAD_LINES == y->origin,
				   "%s prefix %zu: line %u /%u whole, line %u /%u split",
				   fam_name((enum family)f), i, x->origin, x->plen,
				   y->origin - PAD_LINES, y->plen);
		}
	}
	FUZZ_CHECK(plain_diag->errors == d.errors && plain_diag->warnings == d.warnings,
		   "%zu errors, %zu warnings whole; %zu, %zu split", plain_diag->errors,
		   plain_diag->warnings, d.errors, d.warnings);
	diag_free(&d);
	policy_free(&pol);
}

static void run(const char *policy_path, const uint8_t *data, size_t size, bool roundtrip)
{
	struct policy pol;
	struct diag d = { 0 };
	struct feed_ctx c;
	char *buf = malloc(size + 1);

	FUZZ_CHECK(buf != NULL, "out of memory");
	memcpy(buf, data, size);
	buf[size] = '\0';
	load(&pol, &d, &c, policy_path, buf, size);
	free(buf);

	struct source *src = &pol.sources[0];
	struct service *svc = &pol.services[0];
	check_prefixes(&pol, src, &c);
	/* list parses in two halves; a BOM counts only at the start of a file. */
	if (roundtrip && format == &feed_list && !(size >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0))
		check_split(&pol, &d, (const char *)data, size);

	/* What policy_compile() does next, also when the source had errors. */
	for (int f = 0; f < FAM_COUNT; f++) {
		struct interval_set *set = &svc->set[f];
		src->count[f] = src->pfx[f].n;
		set->in = src->pfx[f];
		memset(&src->pfx[f], 0, sizeof(src->pfx[f]));
		interval_set_build(set);
		fuzz_check_iset(set, f == FAM_V4 ? "ipv4 set" : "ipv6 set");
	}
	policy_empty_services(&pol, &d);
	FUZZ_CHECK(render_nft(fuzz_null(), &pol) == 0, "render_nft failed");
	/* The JSON round trip is slow on large sets, and their size adds nothing to it. */
	if (roundtrip && svc->set[FAM_V4].n + svc->set[FAM_V6].n <= 128)
		fuzz_check_model(&pol);

	check_diag(&d);
	diag_print(&d, fuzz_null());
	diag_free(&d);
	policy_free(&pol);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	run(policy_paths[0], data, size, true);
	run(policy_paths[1], data, size, false);
	return 0;
}
