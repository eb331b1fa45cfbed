/*
 * The Markdown report, for a merge request's comment: per service and family
 * a table of the prefixes added and removed with where each comes from, the
 * totals, the gates' verdicts and, with a plan, its digest. Every text that
 * comes from a policy or a feed is escaped: a feed's label must not become a
 * link, an image or HTML in the comment.
 */
#include <string.h>

#include "report.h"
#include "util.h"

/* Text inside a paragraph or a table cell: nothing in it is markup. */
static void md_ascii(FILE *f, unsigned char c)
{
	if (c < 0x20 || c == 0x7f)
		fputc(' ', f);
	else if (c == '<')
		fputs("&lt;", f);
	else if (c == '>')
		fputs("&gt;", f);
	else if (c == '&')
		fputs("&amp;", f);
	else if (strchr("\\`*_[]|~$", c))
		fprintf(f, "\\%c", c);
	else
		fputc(c, f);
}

static void md(FILE *f, const char *s)
{
	report_escaped(f, s, "?", md_ascii);
}

static void md_family_table(FILE *f, const struct report *r, const struct diff_set *ds)
{
	const struct diff_view *dv = r->dv;
	const struct set_content *nw = ds->new;
	struct diff_rows it;
	struct diff_row row;
	char a[64], b[64];
	size_t rows = 0, left_added = 0, left_removed = 0;

	report_grouped(nw->fam == FAM_V4 ? ds->t.v4_gained : ds->t.v6_gained, a);
	report_grouped(nw->fam == FAM_V4 ? ds->t.v4_lost : ds->t.v6_lost, b);
	fprintf(f, "#### %s (set `%s`)%s\n\n", nw->fam == FAM_V4 ? "IPv4" : "IPv6", nw->name,
		ds->old ? "" : ": a new set");
	if (!ds->gain.n && !ds->loss.n) {
		fprintf(f, "No change.\n\n");
		return;
	}
	fprintf(f, "%zu prefix%s added, %zu removed: %s %s gained, %s lost.\n\n",
		ds->t.prefixes_added, ds->t.prefixes_added == 1 ? "" : "es", ds->t.prefixes_removed,
		a, nw->fam == FAM_V4 ? "addresses" : "/64s", b);
	fprintf(f, "| Change | Prefix | Source | Where |\n|---|---|---|---|\n");
	diff_rows_start(&it, dv, ds);
	while (diff_rows_next(&it, &row, rows < REPORT_MD_ROWS)) {
		if (rows == REPORT_MD_ROWS) {
			++*(row.added ? &left_added : &left_removed);
			continue;
		}
		rows++;
		if (row.added) {
			fprintf(f, "| added | `%s` | ", row.text);
			for (size_t i = 0; i < row.norigins; i++) {
				fputs(i ? "<br>" : "", f);
				md(f, row.og[i].source);
			}
			if (row.more)
				fprintf(f, "<br>and %zu more", row.more);
			fputs(" | ", f);
			for (size_t i = 0; i < row.norigins; i++) {
				fputs(i ? "<br>" : "", f);
				md(f, row.og[i].where);
			}
			fputs(" |\n", f);
		} else {
			fprintf(f, "| removed | `%s` | ", row.text);
			md(f, row.was);
			fputs(" | (no longer listed) |\n", f);
		}
	}
	if (left_added || left_removed)
		fprintf(f, "\n... and %zu more added, %zu more removed: `mxfence diff` lists them all.\n",
			left_added, left_removed);
	fputc('\n', f);
}

static void md_gates(FILE *f, const struct report *r)
{
	char a[80], b[80];

	fprintf(f, "### Safety gates\n\n");
	fprintf(f, "Every source loaded; no service is left without an allowed source.\n\n");
	if (!r->ngates)
		return;
	fprintf(f, "| Service | Family | Held now | Would lose | Share | max-removal | Verdict |\n"
		   "|---|---|---|---|---|---|---|\n");
	for (size_t i = 0; i < r->ngates; i++) {
		const struct removal_verdict *v = &r->gates[i];
		report_amount(v->had, v->fam, a, sizeof(a));
		report_amount(v->lost, v->fam, b, sizeof(b));
		fputs("| ", f);
		md(f, v->service);
		fprintf(f, " | %s | %s | %s | %.2f%% | %g%% | %s%s%s |\n",
			v->fam == FAM_V4 ? "IPv4" : "IPv6", a, b, v->share, v->max,
			v->over ? "**" : "", report_gate_word(r, v), v->over ? "**" : "");
	}
	fputc('\n', f);
}

void report_markdown(FILE *f, const struct report *r)
{
	const struct diff_view *dv = r->dv;
	const struct policy *pol = dv->pol;
	char ports[256], to[1024], b1[64], b2[64], b3[64], b4[64];

	fprintf(f, "## mxfence: %s table inet ", r->plan ? "a plan to change" : "what applying would change in");
	md(f, pol->table);
	fprintf(f, "\n\n");
	if (r->against) {
		fprintf(f, "Compared with ");
		md(f, r->against);
		fprintf(f, ".\n\n");
	}
	if (dv->structure) {
		fprintf(f, "The table is replaced whole: ");
		md(f, dv->structure);
		fprintf(f, ".\n\n");
	}
	report_grouped(dv->t.v4_gained, b1);
	report_grouped(dv->t.v4_lost, b2);
	report_grouped(dv->t.v6_gained, b3);
	report_grouped(dv->t.v6_lost, b4);
	if (dv->t.changed)
		fprintf(f, "**%zu prefix%s added, %zu removed**; IPv4 addresses +%s/-%s; "
			   "IPv6 /64s +%s/-%s.\n\n",
			dv->t.prefixes_added, dv->t.prefixes_added == 1 ? "" : "es",
			dv->t.prefixes_removed, b1, b2, b3, b4);
	else
		fprintf(f, "**No change.**\n\n");
	for (size_t s = 0; s < pol->nservices; s++) {
		const struct service *svc = &pol->services[s];
		report_ports(svc, ports, sizeof(ports));
		report_to(svc, to, sizeof(to));
		fprintf(f, "### Service ");
		md(f, svc->name);
		fprintf(f, " (");
		md(f, ports);
		if (to[0]) {
			fprintf(f, " to ");
			md(f, to);
		}
		fprintf(f, "; otherwise %s)\n\n", verdict_name(svc->otherwise));
		for (size_t i = 0; i < dv->n; i++)
			if (dv->sets[i].new->svc == svc)
				md_family_table(f, r, &dv->sets[i]);
	}
	if (r->gates)
		md_gates(f, r);
	if (r->plan) {
		char when[32];
		report_time(r->plan->created, when);
		fprintf(f, "### Plan\n\nWritten to ");
		md(f, r->plan->path);
		fprintf(f, " at %s (%s). Approve this digest; apply exactly this with "
			   "`mxfence apply --plan FILE --expect-sha256 %s`:\n\n",
			when, streq(r->plan->change, "replace") ? "the whole table is replaced"
			      : streq(r->plan->change, "delta") ? "only elements change"
								: "nothing to change",
			r->plan->sha256);
		fprintf(f, "`plan sha256:%s`\n", r->plan->sha256);
	}
}
