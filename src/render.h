/* Writers of the compiled policy: the nft script and the JSON model. */
#ifndef MXFENCE_RENDER_H
#define MXFENCE_RENDER_H

#include <stdio.h>

#include "policy.h"

/* 0, or -1 with errno from the stream. */
int render_nft(FILE *f, const struct policy *pol);
int render_json(FILE *f, const struct policy *pol);

/* A JSON string of s; bytes that are not UTF-8 (a path may hold any) become '?'. */
struct json_t;
struct json_t *text_json(const char *s);

/* "tcp/25", "tcp/1000-2000" */
void portrange_format(const struct portrange *p, char *buf, size_t n);

#endif
