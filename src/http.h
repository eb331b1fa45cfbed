/*
 * One download over HTTP(S) with libcurl: certificate checks always on,
 * timeouts, a size limit, retries with backoff, conditional GET.
 */
#ifndef MXFENCE_HTTP_H
#define MXFENCE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct http_request {
	const char *url;
	const char *ca_file;       /* NULL: the system's CAs */
	bool allow_http;           /* plain http:// (insecure-http = yes) */
	uint64_t max_size;         /* bytes of body */
	unsigned connect_timeout;  /* seconds */
	unsigned timeout;          /* seconds, a whole try */
	unsigned retries;          /* further tries after a failure worth retrying */
	const char *etag;          /* If-None-Match, or NULL */
	const char *last_modified; /* If-Modified-Since, or NULL */
	const char *label;         /* for the progress line */
	FILE *progress;            /* a download that takes a while shows its progress here, or NULL */
};

struct http_response {
	long status;       /* of the last try; 0 when no response came */
	bool not_modified; /* 304: the cached copy is current */
	char *etag, *last_modified;
	uint64_t size;     /* bytes written */
	unsigned tries;
	char err[512];     /* why it failed, a sentence without the URL */
};

/* Once per process, before any download: loads libcurl. -1 and err set when it cannot. */
int http_init(char *err, size_t errlen);
void http_cleanup(void);

/*
 * GET the URL into fd (truncated before every try). Returns 0 on 200 (the
 * body in fd) or 304 (not_modified), -1 otherwise with err filled.
 */
int http_get(const struct http_request *rq, int fd, struct http_response *rs);
void http_response_free(struct http_response *rs);

#endif
