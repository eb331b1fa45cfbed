/* Allocation that cannot fail quietly, and small string helpers. */
#ifndef MXFENCE_UTIL_H
#define MXFENCE_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap);
/* What another library allocated (libnftnl's *_alloc): p, or the same out-of-memory exit. */
void *xcheck(void *p);

/* Large arrays: hint the kernel to back them with huge pages. */
void *xmalloc_big(size_t n);
void hint_huge(void *p, size_t n);

/* Grow *v (of *cap elements of `size`) to hold at least `need`. */
void *grow(void *v, size_t *cap, size_t need, size_t size);

bool streq(const char *a, const char *b);

/* All of buf to fd, across short writes and EINTR: 0, or the errno (EIO for a write of 0). */
int write_all(int fd, const void *buf, size_t len);
/*
 * Up to len bytes from offset off of fd (pread: the file offset stays),
 * retrying on EINTR; fewer at the end of the file or on an error. Returns how
 * many were read.
 */
size_t read_all(int fd, void *buf, size_t len, off_t off);

/* mkdir -p; 0 or -1 with errno. */
int mkdir_p(const char *path, mode_t mode);

#endif
