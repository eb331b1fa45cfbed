/*
 * The one reader of text input: the lines of a buffer, one at a time, with
 * their numbers. Every text format goes through it (list, postfix-cidr, spf,
 * flow files, the policy), so the rules below hold for all of them:
 *   - a UTF-8 BOM before the first line is skipped;
 *   - a line ends at LF; one CR before the LF is dropped (CRLF files);
 *   - the last line needs no LF; a file that ends with LF has no empty line
 *     after it;
 *   - a line longer than the reader's limit, or holding a NUL byte, is
 *     refused: fault() is told, with the line's number and the sentence to
 *     report ("line longer than 4096 bytes", "NUL byte in line"), and the
 *     line is handed on empty, so that the line numbers of a consumer that
 *     counts for itself (inih) stay in step. The length is checked first.
 * Comments and blank lines are the formats' own business: they differ.
 */
#ifndef MXFENCE_LINEREADER_H
#define MXFENCE_LINEREADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct line_reader {
	const char *p, *end; /* what is left to read */
	uint32_t lineno;     /* the number of the line last returned */
	size_t max;          /* the longest line taken, in bytes without CR LF; 0: any */
	void (*fault)(void *arg, uint32_t lineno, const char *what);
	void *arg;
};

/*
 * Read buf[0 .. len) as lines numbered from first_line (a part of a larger
 * text starts past line 1, and its first line is not checked for a BOM).
 * fault(arg, ...) is told about refused lines.
 */
void line_reader_init(struct line_reader *r, const char *buf, size_t len, uint32_t first_line,
		      size_t max, void (*fault)(void *arg, uint32_t lineno, const char *what),
		      void *arg);

/* The next line in *s, *n (without its CR LF); false at the end. */
bool line_reader_next(struct line_reader *r, const char **s, size_t *n);

/*
 * Step over the next line, which the caller has read in place and knows to
 * be n bytes, within the limit, without a NUL and ended by LF (not CR LF):
 * the word-at-a-time scanners of format = list take most lines so.
 */
static inline void line_reader_skip(struct line_reader *r, size_t n)
{
	r->p += n + 1;
	r->lineno++;
}

/* Bytes left to read. */
static inline size_t line_reader_left(const struct line_reader *r)
{
	return (size_t)(r->end - r->p);
}

#endif
