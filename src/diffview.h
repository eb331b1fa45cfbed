/*
 * What would change between two lists of sets: computed once (diff_view),
 * then rendered for people and machines (text and JSON here; report.h adds
 * Markdown and HTML).
 */
#ifndef MXFENCE_DIFFVIEW_H
#define MXFENCE_DIFFVIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "addr.h"
#include "policy.h"
#include "sets.h"

struct diff_totals {
	size_t prefixes_added, prefixes_removed;
	u128 v4_gained, v4_lost;    /* addresses */
	u128 v6_gained, v6_lost;    /* /64s */
	bool changed;
};

/* One set of the new side against its namesake on the old side. */
struct diff_set {
	const struct set_content *old; /* NULL: the old side does not hold it (a new set) */
	const struct set_content *new;
	struct range_vec gain, loss;   /* addresses in new only, in old only */
	struct diff_totals t;          /* this set alone */
	u128 before, after;            /* addresses held by old and new (saturating) */
};

struct diff_view {
	const struct policy *pol;
	const struct set_list *old, *new;
	const char *structure; /* why the table is replaced whole, or NULL */
	struct diff_set *sets; /* one per set of new, in its order */
	size_t n;
	struct diff_totals t;  /* all sets */
};

/*
 * Compare `old` (live, a state or a model file) with `new` (the compiled
 * policy pol). `structure` names a structural difference that makes the table
 * be replaced whole, or NULL. The view points into its arguments, which must
 * outlive it.
 */
void diff_view_compute(struct diff_view *dv, const struct policy *pol, const struct set_list *old,
		       const struct set_list *new, const char *structure);
void diff_view_free(struct diff_view *dv);

/* The totals of the sets of one service (pol->services[svc]). */
void diff_view_service(const struct diff_view *dv, size_t svc, struct diff_totals *t);

/* Where an added prefix comes from: a source of the policy and a place in it. */
struct diff_origin {
	const char *source;
	char where[256]; /* "relays.txt:3", "m365 id 10", "spf _spf.example.com > ...", or "" */
};
#define DIFF_ORIGINS_SHOWN 3

/*
 * The policy inputs behind [lo, hi] of set ds (at most `max` of them; *more
 * counts the others). Returns how many were written to out.
 */
size_t diff_origins(const struct diff_view *dv, const struct diff_set *ds, u128 lo, u128 hi,
		    struct diff_origin *out, size_t max, size_t *more);
/* "relays, partners": the old side's sources of the interval holding lo ("live" if unknown). */
void diff_was(const struct diff_view *dv, const struct diff_set *ds, u128 lo, char *buf, size_t n);

/*
 * The rows of one set's change, in the order every rendering shows them: the
 * added prefixes, then the removed ones, each range of addresses as the fewest
 * CIDR prefixes. Detail (where an added prefix comes from, what a removed one
 * was) costs lookups; diff_rows_next fills it only when asked.
 */
struct diff_row {
	bool added;
	struct prefix pfx;
	char text[PREFIX_STRLEN];
	struct diff_origin og[DIFF_ORIGINS_SHOWN]; /* added, with detail */
	size_t norigins, more;
	const char *was;                           /* removed, with detail */
};

struct diff_rows {
	const struct diff_view *dv;
	const struct diff_set *ds;
	bool removed;          /* walking ds->loss */
	size_t k, j, ncover;   /* the range, the prefix in its cover, the cover's size */
	struct prefix cover[256];
	bool was_known;        /* was[] holds range k's old sources */
	char was[1024];
};

void diff_rows_start(struct diff_rows *it, const struct diff_view *dv, const struct diff_set *ds);
bool diff_rows_next(struct diff_rows *it, struct diff_row *row, bool detail);

/*
 * Text: "+ PREFIX  SOURCE (WHERE)" and "- PREFIX  (was: SOURCE)" lines per set,
 * then the totals. JSON: one object; `extra` (may be NULL) is merged into it
 * (its keys last) and stays the caller's.
 */
void diff_view_text(FILE *f, const struct diff_view *dv);
struct json_t;
void diff_view_json(FILE *f, const struct diff_view *dv, struct json_t *extra);

/* Compute and print in one go (text or JSON); totals to *totals. */
void diff_print(FILE *f, const struct policy *pol, const struct set_list *old,
		const struct set_list *new, const char *structure, bool json,
		struct diff_totals *totals);

/* The totals alone, for gates and summaries. */
void diff_count(const struct set_list *old, const struct set_list *new,
		struct diff_totals *totals);

/* "+768/-256" of a family's totals: IPv4 addresses or IPv6 /64s, decimal. */
void diff_amounts(const struct diff_totals *t, enum family f, char gained[48], char lost[48]);

#endif
