/*
 * Diagnostics: parsers and checks record errors and warnings here and never
 * print; the command reports them at the end, in the order they were found.
 */
#ifndef MXFENCE_DIAG_H
#define MXFENCE_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

enum diag_level { DIAG_WARNING, DIAG_ERROR };

/* Messages kept for printing; the counts go on past this. */
#define DIAG_KEEP 1000

struct diag_msg {
	enum diag_level level;
	char *text; /* "LOCATION: error: what 'token'" */
};

struct diag {
	struct diag_msg *msgs;
	size_t nmsgs, cap;
	size_t errors, warnings;
	size_t dropped_errors, dropped_warnings;
};

/* `where` is "FILE:LINE", "FILE: entry" or a bare name; may be NULL. */
void diag_add(struct diag *d, enum diag_level lvl, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void diag_vadd(struct diag *d, enum diag_level lvl, const char *where, const char *fmt,
	       va_list ap);
#define diag_error(d, where, ...) diag_add((d), DIAG_ERROR, (where), __VA_ARGS__)
#define diag_warn(d, where, ...) diag_add((d), DIAG_WARNING, (where), __VA_ARGS__)

/* Move src's messages after dst's, and add its counts. */
void diag_merge(struct diag *dst, struct diag *src);
void diag_print(const struct diag *d, FILE *f);
void diag_free(struct diag *d);

/* Quote a token for a message: control bytes escaped, long tokens cut. */
const char *diag_token(const char *s, size_t len, char *buf, size_t bufsz);
#define DIAG_TOKEN_MAX 80

#endif
