/*
 * The HTML report: one self-contained page (inline CSS and SVG, no script,
 * nothing fetched) for people who have never seen mxfence. Per service what is
 * gained and lost, a picture of each family before and after, the tables of
 * prefixes with where each comes from, the safety gates, the plan's digest.
 * Every text from the policy, a feed or the kernel is escaped.
 */
#include <string.h>

#include "report.h"
#include "util.h"

/* Text as HTML character data or attribute value: no markup survives. */
static void h_ascii(FILE *f, unsigned char c)
{
	switch (c) {
	case '&': fputs("&amp;", f); break;
	case '<': fputs("&lt;", f); break;
	case '>': fputs("&gt;", f); break;
	case '"': fputs("&quot;", f); break;
	case '\'': fputs("&#39;", f); break;
	default: fputc(c < 0x20 || c == 0x7f ? ' ' : c, f);
	}
}

static void h(FILE *f, const char *s)
{
	report_escaped(f, s, "&#xFFFD;", h_ascii);
}

static const char style[] =
	"body{font:15px/1.5 system-ui,-apple-system,\"Segoe UI\",Roboto,\"DejaVu Sans\",sans-serif;"
	"color:#1d2329;background:#fff;max-width:62rem;margin:2rem auto;padding:0 1rem}\n"
	"h1{font-size:1.6rem;margin-bottom:.3rem}\n"
	"h2{font-size:1.3rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem;margin-top:2.4rem}\n"
	"h3{font-size:1.05rem;margin:1.2rem 0 .3rem}\n"
	".lead{color:#3b4652}\n"
	".summary{display:flex;gap:.8rem;flex-wrap:wrap;margin:1rem 0}\n"
	".card{border:1px solid #d0d7de;border-radius:6px;padding:.5rem .9rem;min-width:11rem}\n"
	".card b{display:block;font-size:1.35rem}\n"
	".add{color:#116329}.del{color:#a40e26}\n"
	"table{border-collapse:collapse;width:100%;margin:.4rem 0 1rem;font-size:.92rem}\n"
	"th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}\n"
	"th{background:#f6f8fa}\n"
	"tr.added td:first-child{background:#dafbe1}tr.removed td:first-child{background:#ffebe9}\n"
	"code{font-family:ui-monospace,\"DejaVu Sans Mono\",monospace;font-size:.9em}\n"
	".refused{color:#a40e26;font-weight:bold}\n"
	".digest{font-family:ui-monospace,\"DejaVu Sans Mono\",monospace;word-break:break-all;"
	"background:#f6f8fa;padding:.6rem;border:1px solid #d0d7de;border-radius:6px}\n"
	".legend{font-size:.85rem;color:#3b4652}\n"
	".legend i{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 .9rem;"
	"vertical-align:-.1rem}\n"
	"svg{max-width:100%;height:auto}\n"
	"svg text{font:12px \"DejaVu Sans\",sans-serif;fill:#1d2329}\n";

#define KEPT "#8c959f"
#define GAINED "#2da44e"
#define LOST "#cf222e"

/* Widths of two segments on a bar of w pixels; a segment that is not empty shows at least 2. */
static void segments(double kept, double change, double total, double w, double *wk, double *wc)
{
	*wk = total > 0 ? kept / total * w : 0;
	*wc = total > 0 ? change / total * w : 0;
	if (change > 0 && *wc < 2) {
		*wc = 2;
		if (*wk + *wc > w)
			*wk = w - *wc;
	}
}

#define BAR_X 120.0
#define BAR_W 360.0

static void bar(FILE *f, double y, const char *label, double wk, double wc, const char *ccolor,
		const char *text)
{
	fprintf(f, "<text x=\"0\" y=\"%.0f\">%s</text>\n", y + 13, label);
	fprintf(f, "<rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"18\" fill=\"%s\"/>\n", BAR_X,
		y, wk, KEPT);
	if (wc > 0)
		fprintf(f, "<rect x=\"%.1f\" y=\"%.0f\" width=\"%.1f\" height=\"18\" fill=\"%s\"/>\n",
			BAR_X + wk, y, wc, ccolor);
	fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">", BAR_X + BAR_W + 10, y + 13);
	h(f, text);
	fprintf(f, "</text>\n");
}

/* Per family of the service: a bar before (kept + lost) and after (kept + gained). */
static void picture(FILE *f, const struct diff_view *dv, const struct service *svc, size_t idx)
{
	size_t rows = 0;

	for (size_t i = 0; i < dv->n; i++)
		rows += dv->sets[i].new->svc == svc;
	double height = (double)rows * 58;
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"900\" height=\"%.0f\" "
		   "viewBox=\"0 0 900 %.0f\" role=\"img\" aria-labelledby=\"pic%zu\">\n"
		   "<title id=\"pic%zu\">Addresses allowed for service ", height, height, idx, idx);
	h(f, svc->name);
	fprintf(f, ", before and after the change</title>\n");
	double y = 0;
	for (size_t i = 0; i < dv->n; i++) {
		const struct diff_set *ds = &dv->sets[i];
		if (ds->new->svc != svc)
			continue;
		enum family fam = ds->new->fam;
		u128 lost = ranges_addresses(ds->loss.v, ds->loss.n);
		u128 gained = ranges_addresses(ds->gain.v, ds->gain.n);
		u128 kept = ds->before - lost;
		double total = (double)(ds->before > ds->after ? ds->before : ds->after), wk, wc;
		char text[256], a[80], b[80];

		report_amount(ds->before, fam, a, sizeof(a));
		snprintf(text, sizeof(text), "%s", a);
		if (lost) {
			report_amount(lost, fam, b, sizeof(b));
			snprintf(text, sizeof(text), "%s (%s to be removed)", a, b);
		}
		segments((double)kept, (double)lost, total, BAR_W, &wk, &wc);
		bar(f, y, fam == FAM_V4 ? "IPv4 before" : "IPv6 before", wk, wc, LOST, text);
		report_amount(ds->after, fam, a, sizeof(a));
		snprintf(text, sizeof(text), "%s", a);
		if (gained) {
			report_amount(gained, fam, b, sizeof(b));
			snprintf(text, sizeof(text), "%s (%s added)", a, b);
		}
		segments((double)kept, (double)gained, total, BAR_W, &wk, &wc);
		bar(f, y + 22, fam == FAM_V4 ? "IPv4 after" : "IPv6 after", wk, wc, GAINED, text);
		y += 58;
	}
	fprintf(f, "</svg>\n<p class=\"legend\">Bar lengths compare each family before and after."
		   "<i style=\"background:" KEPT "\"></i>kept<i style=\"background:" GAINED
		   "\"></i>added<i style=\"background:" LOST "\"></i>removed</p>\n");
}

static void family_table(FILE *f, const struct diff_view *dv, const struct diff_set *ds)
{
	const struct set_content *nw = ds->new;
	struct diff_rows it;
	struct diff_row row;
	size_t rows = 0, left = 0;

	fprintf(f, "<h3>%s (set <code>", nw->fam == FAM_V4 ? "IPv4" : "IPv6");
	h(f, nw->name);
	fprintf(f, "</code>)</h3>\n");
	if (!ds->gain.n && !ds->loss.n) {
		fprintf(f, "<p>No change.</p>\n");
		return;
	}
	fprintf(f, "<table>\n<tr><th>Change</th><th>Address range</th><th>Listed by</th>"
		   "<th>Where in that list</th></tr>\n");
	diff_rows_start(&it, dv, ds);
	while (diff_rows_next(&it, &row, rows < REPORT_HTML_ROWS)) {
		if (rows == REPORT_HTML_ROWS) {
			left++;
			continue;
		}
		rows++;
		if (row.added) {
			fprintf(f, "<tr class=\"added\"><td>added</td><td><code>%s</code></td><td>",
				row.text);
			for (size_t i = 0; i < row.norigins; i++) {
				fputs(i ? "<br>" : "", f);
				h(f, row.og[i].source);
			}
			if (row.more)
				fprintf(f, "<br>and %zu more", row.more);
			fputs("</td><td>", f);
			for (size_t i = 0; i < row.norigins; i++) {
				fputs(i ? "<br>" : "", f);
				h(f, row.og[i].where);
			}
			fputs("</td></tr>\n", f);
		} else {
			fprintf(f, "<tr class=\"removed\"><td>removed</td><td><code>%s</code></td><td>",
				row.text);
			h(f, row.was);
			fputs("</td><td>no longer listed</td></tr>\n", f);
		}
	}
	fprintf(f, "</table>\n");
	if (left)
		fprintf(f, "<p>... and %zu more ranges, not shown here: <code>mxfence diff</code> "
			   "lists them all.</p>\n", left);
}

static void service_section(FILE *f, const struct report *r, size_t idx)
{
	const struct diff_view *dv = r->dv;
	const struct service *svc = &dv->pol->services[idx];
	struct diff_totals t;
	char ports[256], to[1024], a[64], b[64];

	diff_view_service(dv, idx, &t);
	report_ports(svc, ports, sizeof(ports));
	report_to(svc, to, sizeof(to));
	fprintf(f, "<h2>Service ");
	h(f, svc->name);
	fprintf(f, "</h2>\n<p>Ports ");
	h(f, ports);
	if (to[0]) {
		fprintf(f, ", to ");
		h(f, to);
		fprintf(f, " (the addresses the clients connect to, on this host or forwarded)");
	}
	fprintf(f, ". Connections from addresses not allowed here are %s.</p>\n",
		svc->otherwise == VERDICT_REJECT ? "rejected" : "dropped");
	if (!t.changed) {
		fprintf(f, "<p>No change for this service.</p>\n");
	} else {
		fprintf(f, "<p><span class=\"add\">Gains %zu range%s</span>", t.prefixes_added,
			t.prefixes_added == 1 ? "" : "s");
		report_grouped(t.v4_gained, a);
		report_grouped(t.v6_gained, b);
		fprintf(f, " (%s IPv4 addresses, %s IPv6 /64 networks); ", a, b);
		fprintf(f, "<span class=\"del\">loses %zu</span>", t.prefixes_removed);
		report_grouped(t.v4_lost, a);
		report_grouped(t.v6_lost, b);
		fprintf(f, " (%s IPv4 addresses, %s IPv6 /64 networks).</p>\n", a, b);
	}
	picture(f, dv, svc, idx);
	for (size_t i = 0; i < dv->n; i++)
		if (dv->sets[i].new->svc == svc)
			family_table(f, dv, &dv->sets[i]);
}

static void gates(FILE *f, const struct report *r)
{
	char a[80], b[80];

	fprintf(f, "<h2>Safety checks</h2>\n<p>mxfence refuses to apply a change when a source "
		   "list failed to load, when a service would be left with no allowed address, or "
		   "when a service would lose more than its limit (max-removal) of its addresses at "
		   "once: a broken or cut-short provider list must not lock out its mail. Every "
		   "source loaded and no service is left empty.</p>\n");
	if (!r->ngates)
		return;
	fprintf(f, "<table>\n<tr><th>Service</th><th>Family</th><th>Addresses now</th>"
		   "<th>Would lose</th><th>Share</th><th>Limit</th><th>Verdict</th></tr>\n");
	for (size_t i = 0; i < r->ngates; i++) {
		const struct removal_verdict *v = &r->gates[i];
		report_amount(v->had, v->fam, a, sizeof(a));
		report_amount(v->lost, v->fam, b, sizeof(b));
		fprintf(f, "<tr><td>");
		h(f, v->service);
		fprintf(f, "</td><td>%s</td><td>%s</td><td>%s</td><td>%.2f%%</td><td>%g%%</td>"
			   "<td%s>%s</td></tr>\n",
			v->fam == FAM_V4 ? "IPv4" : "IPv6", a, b, v->share, v->max,
			v->over ? " class=\"refused\"" : "", report_gate_word(r, v));
	}
	fprintf(f, "</table>\n");
}

void report_html(FILE *f, const struct report *r)
{
	const struct diff_view *dv = r->dv;
	const struct policy *pol = dv->pol;
	char a[64];

	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		   "<link rel=\"icon\" href=\"data:,\">\n<title>Mail gateway allow-list: %s "
		   "(table inet ",
		r->plan ? "planned change" : "proposed change");
	h(f, pol->table);
	fprintf(f, ")</title>\n<style>\n%s</style>\n</head>\n<body>\n", style);
	fprintf(f, "<h1>%s to who may deliver mail</h1>\n",
		r->plan ? "Planned change" : "Proposed change");
	fprintf(f, "<p class=\"lead\">This mail gateway accepts connections on its mail ports only "
		   "from the address ranges allowed for each service below; the lists come from the "
		   "mail providers' published ranges and from local relay lists. Ranges "
		   "<span class=\"add\">added</span> will be able to connect; ranges "
		   "<span class=\"del\">removed</span> will no longer be able to. An address range "
		   "is written as a prefix: <code>192.0.2.0/24</code> is the 256 addresses from "
		   "192.0.2.0 to 192.0.2.255; an IPv6 /64 is one network.</p>\n");
	fprintf(f, "<p>Firewall table: <code>inet ");
	h(f, pol->table);
	fprintf(f, "</code>.");
	if (r->against) {
		fprintf(f, " Compared with ");
		h(f, r->against);
		fprintf(f, ".");
	}
	fprintf(f, "</p>\n");
	if (dv->structure) {
		fprintf(f, "<p>The table is rebuilt whole: ");
		h(f, dv->structure);
		fprintf(f, ".</p>\n");
	}
	fprintf(f, "<div class=\"summary\">\n");
	fprintf(f, "<div class=\"card\">Ranges added<b class=\"add\">%zu</b></div>\n",
		dv->t.prefixes_added);
	fprintf(f, "<div class=\"card\">Ranges removed<b class=\"del\">%zu</b></div>\n",
		dv->t.prefixes_removed);
	report_grouped(dv->t.v4_gained, a);
	fprintf(f, "<div class=\"card\">IPv4 addresses<b><span class=\"add\">+%s</span> ", a);
	report_grouped(dv->t.v4_lost, a);
	fprintf(f, "<span class=\"del\">&minus;%s</span></b></div>\n", a);
	report_grouped(dv->t.v6_gained, a);
	fprintf(f, "<div class=\"card\">IPv6 /64 networks<b><span class=\"add\">+%s</span> ", a);
	report_grouped(dv->t.v6_lost, a);
	fprintf(f, "<span class=\"del\">&minus;%s</span></b></div>\n</div>\n", a);
	if (!dv->t.changed)
		fprintf(f, "<p><strong>Nothing changes.</strong></p>\n");
	for (size_t i = 0; i < pol->nservices; i++)
		service_section(f, r, i);
	if (r->gates)
		gates(f, r);
	fprintf(f, "<h2>Plan</h2>\n");
	if (r->plan) {
		char when[32];
		report_time(r->plan->created, when);
		fprintf(f, "<p>This report comes with a plan file, <code>");
		h(f, r->plan->path);
		fprintf(f, "</code>, made at %s. Its digest below identifies exactly this change: "
			   "whoever applies the plan gives this digest, and the plan is refused if "
			   "its file differs, if the firewall changed since it was made, or if it is "
			   "too old.</p>\n<p class=\"digest\">plan sha256:%s</p>\n",
			when, r->plan->sha256);
	} else {
		fprintf(f, "<p>No plan was written: this is a preview of what applying the policy "
			   "now would change.</p>\n");
	}
	fprintf(f, "</body>\n</html>\n");
}
