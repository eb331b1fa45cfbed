#include "diag.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void diag_vadd(struct diag *d, enum diag_level lvl, const char *where, const char *fmt,
	       va_list ap)
{
	char *msg, *text;

	if (lvl == DIAG_ERROR)
		d->errors++;
	else
		d->warnings++;
	if (d->nmsgs >= DIAG_KEEP) {
		if (lvl == DIAG_ERROR)
			d->dropped_errors++;
		else
			d->dropped_warnings++;
		return;
	}
	msg = xvasprintf(fmt, ap);
	text = xasprintf("%s%s%s: %s", where ? where : "", where ? ": " : "",
			 lvl == DIAG_ERROR ? "error" : "warning", msg);
	free(msg);
	if (d->nmsgs == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->msgs = xreallocarray(d->msgs, d->cap, sizeof(*d->msgs));
	}
	d->msgs[d->nmsgs].level = lvl;
	d->msgs[d->nmsgs].text = text;
	d->nmsgs++;
}

void diag_add(struct diag *d, enum diag_level lvl, const char *where, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vadd(d, lvl, where, fmt, ap);
	va_end(ap);
}

void diag_merge(struct diag *dst, struct diag *src)
{
	for (size_t i = 0; i < src->nmsgs; i++) {
		struct diag_msg *m = &src->msgs[i];
		if (dst->nmsgs >= DIAG_KEEP) {
			if (m->level == DIAG_ERROR)
				dst->dropped_errors++;
			else
				dst->dropped_warnings++;
			free(m->text);
			continue;
		}
		if (dst->nmsgs == dst->cap) {
			dst->cap = dst->cap ? dst->cap * 2 : 16;
			dst->msgs = xreallocarray(dst->msgs, dst->cap, sizeof(*dst->msgs));
		}
		dst->msgs[dst->nmsgs++] = *m;
	}
	dst->errors += src->errors;
	dst->warnings += src->warnings;
	dst->dropped_errors += src->dropped_errors;
	dst->dropped_warnings += src->dropped_warnings;
	free(src->msgs);
	memset(src, 0, sizeof(*src));
}

void diag_print(const struct diag *d, FILE *f)
{
	for (size_t i = 0; i < d->nmsgs; i++)
		fprintf(f, "%s\n", d->msgs[i].text);
	if (d->dropped_errors || d->dropped_warnings)
		fprintf(f, "mxfence: %zu more errors and %zu more warnings not shown\n",
			d->dropped_errors, d->dropped_warnings);
}

void diag_free(struct diag *d)
{
	for (size_t i = 0; i < d->nmsgs; i++)
		free(d->msgs[i].text);
	free(d->msgs);
	memset(d, 0, sizeof(*d));
}

const char *diag_token(const char *s, size_t len, char *buf, size_t bufsz)
{
	size_t o = 0;
	size_t i;

	if (bufsz < 16) {
		if (bufsz)
			buf[0] = '\0';
		return buf;
	}
	for (i = 0; i < len && o + 8 < bufsz && i < DIAG_TOKEN_MAX; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\' || c == '\'') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			o += (size_t)snprintf(buf + o, bufsz - o, "\\x%02x", c);
		} else {
			buf[o++] = (char)c;
		}
	}
	if (i < len)
		o += (size_t)snprintf(buf + o, bufsz - o, "...");
	buf[o] = '\0';
	return buf;
}
