/*
 * Review reports of a change, from `diff` and `plan`: text (diff's lines),
 * JSON (diff --json, with the gates and the plan), Markdown for a merge
 * request's comment, and one self-contained HTML page for people who have
 * never seen mxfence. All are rendered from one diff_view.
 */
#ifndef MXFENCE_REPORT_H
#define MXFENCE_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "diffview.h"
#include "gate.h"

enum report_format { REPORT_TEXT, REPORT_MARKDOWN, REPORT_HTML, REPORT_JSON };

/* "text", "markdown", "html", "json": 0, or -1 for another word. */
int report_format_parse(const char *s, enum report_format *out);

/* A plan file written with the report. */
struct report_plan {
	const char *path;
	const char *sha256;  /* of the file's bytes: 64 hex digits */
	int64_t created;     /* seconds since the epoch */
	const char *change;  /* "delta", "replace", "none" */
};

struct report {
	const struct diff_view *dv;
	const char *against;  /* the old side, for people: "the kernel (generation 12)" */
	const struct removal_verdict *gates; /* NULL: not evaluated */
	size_t ngates;
	bool forced;          /* --force: a verdict over its limit does not refuse */
	const struct report_plan *plan; /* NULL: no plan */
};

/* Rows of a Markdown table, and of an HTML one, per set: the rest is counted. */
#define REPORT_MD_ROWS 500
#define REPORT_HTML_ROWS 2000

/*
 * Text: diff's lines; with a plan, then the gates and "plan sha256:HEX" last.
 * JSON: diff --json's object; with a plan, "gates" and "plan" added.
 */
void report_write(FILE *f, enum report_format fmt, const struct report *r);
void report_markdown(FILE *f, const struct report *r);
void report_html(FILE *f, const struct report *r);

/* What the reports share. */
/* "ok", "refused", "over the limit, allowed by --force" */
const char *report_gate_word(const struct report *r, const struct removal_verdict *v);
/* "tcp/25, tcp/587" of a service. */
void report_ports(const struct service *svc, char *buf, size_t n);
/* "192.0.2.25/32, 2001:db8:5::/64": a service's `to`, or "" without one; cut with "..." when long. */
void report_to(const struct service *svc, char *buf, size_t n);
/* A decimal with thousands separated: "1,048,576". buf of 64. */
void report_grouped(u128 v, char buf[64]);
/*
 * s as text of a report's format: its valid UTF-8 sequences as they are, each
 * byte that begins no valid sequence as `invalid`, each ASCII byte through
 * ascii(), which writes it escaped for the format.
 */
void report_escaped(FILE *f, const char *s, const char *invalid,
		    void (*ascii)(FILE *f, unsigned char c));
/* "32,933 addresses"; IPv6 from a /64 up: "65,536 /64 networks". */
void report_amount(u128 a, enum family fam, char *buf, size_t n);
/* "2026-12-07 22:10:03 UTC" */
void report_time(int64_t t, char buf[32]);

#endif
