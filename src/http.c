/* Downloads with libcurl. Nothing here knows feeds: bytes go to a file descriptor. */
#include "http.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <stddef.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define USER_AGENT "mxfence/0.1"
#define MAX_REDIRECTS 5
#define MAX_BACKOFF 30 /* seconds between tries, at most */

struct transfer {
	const struct http_request *rq;
	struct http_response *rs;
	int fd;
	bool too_large, write_failed;
	int write_errno;
	/* Progress on a terminal. */
	bool progress;
	double started, last_shown;
};

/*
 * libcurl, and the thirty libraries it brings with it, are loaded when
 * downloads are about to start rather than at every start of mxfence:
 * build, apply and verify never download, start a few milliseconds sooner,
 * and a root process maps that much less code.
 */
static struct {
	void *handle;
	CURLcode (*global_init)(long flags);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *h);
	const char *(*easy_strerror)(CURLcode rc);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
} lc;

#define LIBCURL "libcurl.so.4"

int http_init(char *err, size_t errlen)
{
	static const struct {
		const char *name;
		size_t offset;
	} syms[] = {
#define SYM(f) { "curl_" #f, offsetof(__typeof__(lc), f) }
		SYM(global_init),  SYM(global_cleanup), SYM(easy_init),     SYM(easy_setopt),
		SYM(easy_perform), SYM(easy_getinfo),   SYM(easy_cleanup),  SYM(easy_strerror),
		SYM(slist_append), SYM(slist_free_all),
#undef SYM
	};

	if (!lc.handle) {
		void *h = dlopen(LIBCURL, RTLD_NOW | RTLD_LOCAL);
		if (!h) {
			snprintf(err, errlen, "cannot load %s: %s", LIBCURL, dlerror());
			return -1;
		}
		for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
			void *f = dlsym(h, syms[i].name);
			if (!f) {
				snprintf(err, errlen, "%s has no %s", LIBCURL, syms[i].name);
				dlclose(h);
				memset(&lc, 0, sizeof(lc));
				return -1;
			}
			memcpy((char *)&lc + syms[i].offset, &f, sizeof(f));
		}
		lc.handle = h;
	}
	if (lc.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "curl_global_init failed");
		return -1;
	}
	return 0;
}

void http_cleanup(void)
{
	if (lc.handle)
		lc.global_cleanup();
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t on_body(char *p, size_t size, size_t n, void *user)
{
	struct transfer *t = user;
	size_t len = size * n;

	if (t->rs->size + len > t->rq->max_size) {
		t->too_large = true;
		return 0;
	}
	int e = write_all(t->fd, p, len);
	if (e) {
		t->write_failed = true;
		t->write_errno = e;
		return 0;
	}
	t->rs->size += len;
	return len;
}

/* A header value without its line end, or NULL when the line is not `name:`. */
static char *header_value(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);

	if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
		return NULL;
	line += n + 1;
	len -= n + 1;
	while (len && (*line == ' ' || *line == '\t'))
		line++, len--;
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n' || line[len - 1] == ' '))
		len--;
	return len ? xstrndup(line, len) : NULL;
}

static size_t on_header(char *p, size_t size, size_t n, void *user)
{
	struct transfer *t = user;
	size_t len = size * n;
	char *v;

	/* A new status line (a redirect, or 100 Continue): forget the last response's headers. */
	if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
		free(t->rs->etag);
		free(t->rs->last_modified);
		t->rs->etag = t->rs->last_modified = NULL;
	} else if ((v = header_value(p, len, "ETag"))) {
		free(t->rs->etag);
		t->rs->etag = v;
	} else if ((v = header_value(p, len, "Last-Modified"))) {
		free(t->rs->last_modified);
		t->rs->last_modified = v;
	}
	return len;
}

static int on_progress(void *user, curl_off_t total, curl_off_t got, curl_off_t ut, curl_off_t us)
{
	struct transfer *t = user;
	double at = now();

	(void)ut;
	(void)us;
	/* Only downloads that take a while get a progress line. */
	if (at - t->started < 1.0 || at - t->last_shown < 0.25)
		return 0;
	t->last_shown = at;
	if (total > 0)
		fprintf(t->rq->progress, "\rfetch %s: %.1f of %.1f MB ", t->rq->label, (double)got / 1e6,
			(double)total / 1e6);
	else
		fprintf(t->rq->progress, "\rfetch %s: %.1f MB ", t->rq->label, (double)got / 1e6);
	return 0;
}

/* Worth another try: the network or the server, not the request or the data. */
static bool transient(CURLcode rc, long status)
{
	switch (rc) {
	case CURLE_OK:
		return status >= 500 || status == 429 || status == 408;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

static CURLcode one_try(CURL *h, struct transfer *t, long *status)
{
	CURLcode rc;

	t->rs->size = 0;
	t->too_large = t->write_failed = false;
	if (ftruncate(t->fd, 0) < 0 || lseek(t->fd, 0, SEEK_SET) < 0) {
		t->write_failed = true;
		t->write_errno = errno;
		return CURLE_WRITE_ERROR;
	}
	t->started = t->last_shown = now();
	rc = lc.easy_perform(h);
	if (t->progress && now() - t->started >= 1.0)
		fputc('\n', t->rq->progress);
	*status = 0;
	lc.easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	return rc;
}

static void describe(struct transfer *t, CURLcode rc, long status, const char *errbuf)
{
	struct http_response *rs = t->rs;
	const struct http_request *rq = t->rq;

	if (t->too_large || rc == CURLE_FILESIZE_EXCEEDED)
		snprintf(rs->err, sizeof(rs->err), "the body is larger than max-size (%llu bytes)",
			 (unsigned long long)rq->max_size);
	else if (t->write_failed)
		snprintf(rs->err, sizeof(rs->err), "cannot write the download: %s",
			 strerror(t->write_errno));
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		snprintf(rs->err, sizeof(rs->err), "timed out (%s)", errbuf[0] ? errbuf :
			 lc.easy_strerror(rc));
	else if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE)
		snprintf(rs->err, sizeof(rs->err), "the server's certificate was not accepted: %s",
			 errbuf[0] ? errbuf : lc.easy_strerror(rc));
	else if (rc != CURLE_OK)
		snprintf(rs->err, sizeof(rs->err), "%s", errbuf[0] ? errbuf : lc.easy_strerror(rc));
	else if (status == 304)
		snprintf(rs->err, sizeof(rs->err), "HTTP 304 to a request that was not conditional");
	else
		snprintf(rs->err, sizeof(rs->err), "HTTP %ld", status);
}

int http_get(const struct http_request *rq, int fd, struct http_response *rs)
{
	struct transfer t = { .rq = rq, .rs = rs, .fd = fd };
	struct curl_slist *headers = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	const char *protocols = rq->allow_http ? "http,https" : "https";
	CURL *h;
	CURLcode rc = CURLE_OK;
	long status = 0;
	int result = -1;

	memset(rs, 0, sizeof(*rs));
	h = lc.easy_init();
	if (!h) {
		snprintf(rs->err, sizeof(rs->err), "cannot start libcurl");
		return -1;
	}
	t.progress = rq->progress && rq->label;
	if (rq->etag) {
		char *line = xasprintf("If-None-Match: %s", rq->etag);
		headers = lc.slist_append(headers, line);
		free(line);
	}
	if (rq->last_modified) {
		char *line = xasprintf("If-Modified-Since: %s", rq->last_modified);
		headers = lc.slist_append(headers, line);
		free(line);
	}
	lc.easy_setopt(h, CURLOPT_URL, rq->url);
	lc.easy_setopt(h, CURLOPT_PROTOCOLS_STR, protocols);
	lc.easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
	lc.easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
	lc.easy_setopt(h, CURLOPT_MAXREDIRS, (long)MAX_REDIRECTS);
	lc.easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
	lc.easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
	if (rq->ca_file)
		lc.easy_setopt(h, CURLOPT_CAINFO, rq->ca_file);
	lc.easy_setopt(h, CURLOPT_CONNECTTIMEOUT, (long)rq->connect_timeout);
	lc.easy_setopt(h, CURLOPT_TIMEOUT, (long)rq->timeout);
	lc.easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)rq->max_size);
	lc.easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	lc.easy_setopt(h, CURLOPT_USERAGENT, USER_AGENT);
	lc.easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	lc.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	lc.easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	lc.easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	lc.easy_setopt(h, CURLOPT_WRITEDATA, &t);
	lc.easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	lc.easy_setopt(h, CURLOPT_HEADERDATA, &t);
	if (t.progress) {
		lc.easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
		lc.easy_setopt(h, CURLOPT_XFERINFODATA, &t);
		lc.easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	}

	for (unsigned attempt = 0;; attempt++) {
		errbuf[0] = '\0';
		rc = one_try(h, &t, &status);
		rs->tries = attempt + 1;
		rs->status = status;
		if (rc == CURLE_OK && status == 200) {
			result = 0;
			break;
		}
		if (rc == CURLE_OK && status == 304 && (rq->etag || rq->last_modified)) {
			rs->not_modified = true;
			result = 0;
			break;
		}
		describe(&t, rc, status, errbuf);
		if (attempt >= rq->retries || t.too_large || t.write_failed || !transient(rc, status))
			break;
		unsigned wait = attempt < 5 ? 1u << attempt : MAX_BACKOFF;
		sleep(wait > MAX_BACKOFF ? MAX_BACKOFF : wait);
	}
	if (result == 0)
		rs->err[0] = '\0';
	lc.slist_free_all(headers);
	lc.easy_cleanup(h);
	return result;
}

void http_response_free(struct http_response *rs)
{
	free(rs->etag);
	free(rs->last_modified);
	rs->etag = rs->last_modified = NULL;
}
