#include "report.h"

#include <jansson.h>
#include <string.h>
#include <time.h>

#include "render.h"
#include "util.h"

int report_format_parse(const char *s, enum report_format *out)
{
	static const struct {
		const char *name;
		enum report_format f;
	} names[] = {
		{ "text", REPORT_TEXT },
		{ "markdown", REPORT_MARKDOWN },
		{ "html", REPORT_HTML },
		{ "json", REPORT_JSON },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (streq(s, names[i].name)) {
			*out = names[i].f;
			return 0;
		}
	return -1;
}

const char *report_gate_word(const struct report *r, const struct removal_verdict *v)
{
	if (!v->over)
		return "ok";
	return r->forced ? "over the limit, allowed by --force" : "refused";
}

void report_ports(const struct service *svc, char *buf, size_t n)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < svc->nports && o < n; i++) {
		char p[32];
		portrange_format(&svc->ports[i], p, sizeof(p));
		o += (size_t)snprintf(buf + o, n - o, "%s%s", i ? ", " : "", p);
	}
}

void report_to(const struct service *svc, char *buf, size_t n)
{
	struct prefix cover[256];
	char text[PREFIX_STRLEN];
	size_t o = 0;

	buf[0] = '\0';
	for (int f = 0; f < FAM_COUNT; f++)
		for (size_t i = 0; i < svc->to[f].n; i++) {
			size_t c = cidr_cover(svc->to[f].v[i].lo, svc->to[f].v[i].hi, (enum family)f,
					      cover);
			for (size_t j = 0; j < c; j++) {
				prefix_format(&cover[j], text);
				if (o + strlen(text) + 6 >= n) {
					snprintf(buf + o, n - o, ", ...");
					return;
				}
				o += (size_t)snprintf(buf + o, n - o, "%s%s", o ? ", " : "", text);
			}
		}
}

void report_grouped(u128 v, char buf[64])
{
	char d[48];
	size_t n = u128_format(v, d), o = 0;

	for (size_t i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0)
			buf[o++] = ',';
		buf[o++] = d[i];
	}
	buf[o] = '\0';
}

void report_time(int64_t t, char buf[32])
{
	time_t at = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&at, &tm) || !strftime(buf, 32, "%Y-%m-%d %H:%M:%S UTC", &tm))
		snprintf(buf, 32, "%lld", (long long)t);
}

/* Length of the valid UTF-8 sequence at s (of at most n bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned c = s[0], min;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, min = 0x80;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, min = 0x800;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	unsigned cp = c & (0x3f >> (len - 1));
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void report_escaped(FILE *f, const char *s, const char *invalid,
		    void (*ascii)(FILE *f, unsigned char c))
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq(p + i, n - i);
		if (k == 0)
			fputs(invalid, f);
		else if (k == 1)
			ascii(f, p[i]);
		else
			fwrite(p + i, 1, k, f);
		i += k ? k : 1;
	}
}

/* "32,933 addresses", "65,536 /64 networks" */
void report_amount(u128 a, enum family fam, char *buf, size_t n)
{
	char g[64];

	if (fam == FAM_V6 && a >= ((u128)1 << 64)) {
		report_grouped(a >> 64, g);
		snprintf(buf, n, "%s /64 network%s", g, (a >> 64) == 1 ? "" : "s");
	} else {
		report_grouped(a, g);
		snprintf(buf, n, "%s address%s", g, a == 1 ? "" : "es");
	}
}

static void text_gates(FILE *f, const struct report *r)
{
	char why[256];
	bool any = false;

	for (size_t i = 0; i < r->ngates; i++) {
		if (!r->gates[i].over)
			continue;
		removal_describe(&r->gates[i], why, sizeof(why));
		fprintf(f, "gate: %s: %s\n", why, report_gate_word(r, &r->gates[i]));
		any = true;
	}
	if (!any)
		fprintf(f, "gates: ok\n");
}

static json_t *json_gates(const struct report *r)
{
	json_t *a = json_array();
	char b[48];

	for (size_t i = 0; i < r->ngates; i++) {
		const struct removal_verdict *v = &r->gates[i];
		json_t *o = json_object();
		json_object_set_new(o, "gate", json_string("removal"));
		json_object_set_new(o, "service", json_string(v->service));
		json_object_set_new(o, "family", json_string(fam_name(v->fam)));
		u128_format(v->had, b);
		json_object_set_new(o, "addresses_held", json_string(b));
		u128_format(v->lost, b);
		json_object_set_new(o, "addresses_lost", json_string(b));
		json_object_set_new(o, "share", json_real(v->share));
		json_object_set_new(o, "max_removal", json_real(v->max));
		json_object_set_new(o, "verdict", json_string(!v->over ? "ok"
							     : r->forced ? "forced" : "refused"));
		json_array_append_new(a, o);
	}
	return a;
}

void report_write(FILE *f, enum report_format fmt, const struct report *r)
{
	switch (fmt) {
	case REPORT_TEXT:
		diff_view_text(f, r->dv);
		if (r->plan) {
			text_gates(f, r);
			fprintf(f, "plan sha256:%s\n", r->plan->sha256);
		}
		break;
	case REPORT_JSON: {
		json_t *extra = NULL;
		if (r->plan) {
			json_t *p = json_object();
			char when[32];
			extra = json_object();
			json_object_set_new(extra, "gates", json_gates(r));
			json_object_set_new(p, "file", text_json(r->plan->path));
			json_object_set_new(p, "sha256", json_string(r->plan->sha256));
			report_time(r->plan->created, when);
			json_object_set_new(p, "created", json_string(when));
			json_object_set_new(p, "change", json_string(r->plan->change));
			json_object_set_new(extra, "plan", p);
		}
		diff_view_json(f, r->dv, extra);
		json_decref(extra);
		break;
	}
	case REPORT_MARKDOWN:
		report_markdown(f, r);
		break;
	case REPORT_HTML:
		report_html(f, r);
		break;
	}
}
