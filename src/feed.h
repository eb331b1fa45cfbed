/*
 * Feed formats behind one interface. A format's load() reads the whole file
 * (in ctx->buf), selects entries with its filters, and hands every prefix
 * text to feed_add_text(), which parses it strictly and applies the checks
 * every format shares. Formats never print: problems go to ctx->diag.
 */
#ifndef MXFENCE_FEED_H
#define MXFENCE_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "linereader.h"
#include "policy.h"

#define FEED_MAX_BYTES (64u << 20)    /* a feed file larger than this is refused */
#define FEED_MAX_PREFIXES (2u << 20)  /* per source */
#define FEED_MAX_LINE 4096            /* text formats */

struct feed_ctx {
	struct policy *pol;
	struct source *src;
	uint32_t src_index;
	struct diag *diag;
	const char *buf; /* the file, NUL-terminated */
	size_t len;
	struct input_vec *out[FAM_COUNT]; /* where prefixes go: the source's, or a worker's */
	size_t added;
	/*
	 * Origin numbers used, from src->origin_base on: a text format's
	 * highest line + 1 (a prefix's origin is its line), a JSON format's
	 * locations so far.
	 */
	uint32_t norigins;
};

struct feed_format {
	const char *name;
	const char *const *keys; /* the format's own keys in a [source] section */
	bool published;          /* a provider's feed: special-purpose ranges are warned about */
	bool line_origins;       /* a text format: an entry is a line, and items are unused */
	bool fetch;              /* fetches by itself (DNS): remote unless it has a file */
	int (*load)(struct feed_ctx *ctx);
	/* Where an entry is, for people: "relays.txt:3", "m365 id 10". */
	void (*where)(const struct source *src, uint32_t entry, uint32_t item, char *buf, size_t n);
	/* Where an entry is, for diagnostics: "PATH:3", "PATH: prefixes[812].ip_prefix". */
	void (*diag_where)(const struct source *src, uint32_t entry, uint32_t item, char *buf,
			   size_t n);
};

const struct feed_format *feed_format_find(const char *name);
/* "list, postfix-cidr, m365, ..." for messages. */
const char *feed_format_names(void);

/* Load one source: read its file, run its format, apply the empty check. */
int feed_load(struct policy *pol, uint32_t src_index, struct diag *d);
/* The same, reading `file` (a download being checked); messages still name src->path. */
int feed_load_from(struct policy *pol, uint32_t src_index, const char *file, struct diag *d);

/*
 * The two ways a prefix enters a source, both at (entry, item) and both
 * returning true when the prefix was added:
 *
 * feed_add_text() parses the text tok[0 .. len) strictly (a parse error is
 * reported), then adds it as feed_add_prefix() does.
 *
 * feed_add_prefix() adds a prefix a format has parsed itself, with the
 * parse flags it got and the text it came from (for messages): it applies
 * the checks every format shares (refuses /0 and prefixes broader than the
 * source allows; warns about host bits, which strict refuses, IPv4-mapped
 * addresses and special-purpose ranges in published feeds), then stores the
 * prefix with its origin.
 */
bool feed_add_text(struct feed_ctx *c, const char *tok, size_t len, uint32_t entry,
		   uint32_t item);
bool feed_add_prefix(struct feed_ctx *c, const struct prefix *p, unsigned flags, const char *tok,
		     size_t len, uint32_t entry, uint32_t item);

/* Room for n more prefixes: text formats reserve one per line up front. */
void feed_reserve(struct feed_ctx *c, size_t n);

/*
 * Text formats of at most one prefix a line: run parse_lines(ctx, lines, len,
 * first_line) over the file, split at line ends into two halves parsed side
 * by side when it is large. total_lines is what feed_reserve() was given.
 * Results are merged in file order, so they never depend on the split.
 */
void feed_parse_lines(struct feed_ctx *c, size_t total_lines,
		      void (*parse_lines)(struct feed_ctx *c, const char *buf, size_t len,
					  uint32_t first_line));
/* Lines in the file: an upper bound of the prefixes a text format yields. */
size_t feed_count_lines(const struct feed_ctx *c);

/* Report a problem at (entry, item) of the source. */
void feed_error(struct feed_ctx *c, uint32_t entry, uint32_t item, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void feed_warn(struct feed_ctx *c, uint32_t entry, uint32_t item, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A filter: a source key whose value is a whitespace-separated list of accepted words. */
struct filter {
	const char *key;
	char **words;
	size_t n;
	unsigned line;
	size_t matched; /* entries it let through */
};

/* Read filter `key` of the source (n == 0 when absent). */
void filter_get(struct source *src, const char *key, struct filter *f);
/* No words: matches anything. Case-insensitive. */
bool filter_match(const struct filter *f, const char *value);
void filter_free(struct filter *f);

/*
 * Text formats: read buf (c->buf, or the part of it from line first_line on)
 * line by line (see linereader.h). Lines longer than FEED_MAX_LINE or holding
 * a NUL byte are reported as errors of the source and read as empty.
 */
void feed_lines_init(struct feed_ctx *c, struct line_reader *r, const char *buf, size_t len,
		     uint32_t first_line);

/* Location helpers shared by the text formats. */
void where_line(const struct source *src, uint32_t entry, uint32_t item, char *buf, size_t n);
void diag_where_line(const struct source *src, uint32_t entry, uint32_t item, char *buf,
		     size_t n);

/* The label a JSON format gave an entry, or NULL. */
const char *source_label(const struct source *src, uint32_t entry);
void source_set_label(struct source *src, uint32_t entry, const char *label);

extern const struct feed_format feed_list, feed_postfix_cidr, feed_m365, feed_aws, feed_google,
	feed_azure, feed_spf;

#endif
