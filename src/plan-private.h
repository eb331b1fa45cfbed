/* What the plan's writer (plan.c) and reader (plan_read.c) share. */
#ifndef MXFENCE_PLAN_PRIVATE_H
#define MXFENCE_PLAN_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

extern const char plan_magic[]; /* "mxfence-plan" */

/* 64 lowercase hex digits, exactly. */
bool plan_is_hex64(const char *s, size_t n);
/* "2026-12-07T22:40:00Z" */
void plan_format_time(int64_t t, char out[32]);
/* A service's `to` field as the plan writes it (malloc'ed, *len bytes, NUL-terminated). */
char *plan_to_text(const struct range_vec to[FAM_COUNT], size_t *len);

#endif
