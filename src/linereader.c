#include "linereader.h"

#include <stdio.h>
#include <string.h>

void line_reader_init(struct line_reader *r, const char *buf, size_t len, uint32_t first_line,
		      size_t max, void (*fault)(void *arg, uint32_t lineno, const char *what),
		      void *arg)
{
	r->p = buf;
	r->end = buf + len;
	r->lineno = first_line - 1;
	r->max = max;
	r->fault = fault;
	r->arg = arg;
	if (first_line == 1 && len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		r->p += 3;
}

bool line_reader_next(struct line_reader *r, const char **s, size_t *n)
{
	const char *nl;
	size_t len;
	char what[64];

	if (r->p >= r->end)
		return false;
	nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
	len = nl ? (size_t)(nl - r->p) : (size_t)(r->end - r->p);
	*s = r->p;
	if (len && r->p[len - 1] == '\r')
		len--;
	r->p = nl ? nl + 1 : r->end;
	r->lineno++;
	if (r->max && len > r->max) {
		snprintf(what, sizeof(what), "line longer than %zu bytes", r->max);
		r->fault(r->arg, r->lineno, what);
		len = 0;
	} else if (memchr(*s, '\0', len)) {
		r->fault(r->arg, r->lineno, "NUL byte in line");
		len = 0;
	}
	*n = len;
	return true;
}
