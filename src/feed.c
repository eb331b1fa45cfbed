/* What every feed format shares: reading the file, the prefix checks, filters, lines. */
#include "feed.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mapfile.h"
#include "util.h"

static const struct feed_format *const formats[] = {
	&feed_list, &feed_postfix_cidr, &feed_m365, &feed_aws, &feed_google, &feed_azure, &feed_spf,
};
#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

const struct feed_format *feed_format_find(const char *name)
{
	for (size_t i = 0; i < NFORMATS; i++)
		if (streq(formats[i]->name, name))
			return formats[i];
	return NULL;
}

const char *feed_format_names(void)
{
	return "list, postfix-cidr, m365, aws, google, azure, spf";
}

static void vreport(struct feed_ctx *c, enum diag_level lvl, uint32_t entry, uint32_t item,
		    const char *fmt, va_list ap)
{
	char where[512];

	c->src->fmt->diag_where(c->src, entry, item, where, sizeof(where));
	diag_vadd(c->diag, lvl, where, fmt, ap);
}

void feed_error(struct feed_ctx *c, uint32_t entry, uint32_t item, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(c, DIAG_ERROR, entry, item, fmt, ap);
	va_end(ap);
}

void feed_warn(struct feed_ctx *c, uint32_t entry, uint32_t item, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(c, DIAG_WARNING, entry, item, fmt, ap);
	va_end(ap);
}

bool feed_add_text(struct feed_ctx *c, const char *tok, size_t len, uint32_t entry,
		   uint32_t item)
{
	char t[DIAG_TOKEN_MAX * 4 + 16];
	struct prefix p;
	unsigned flags = 0;
	enum parse_err e;

	e = prefix_parse(tok, len, &p, &flags);
	if (e) {
		feed_error(c, entry, item, "%s '%s'", parse_strerror(e),
			   diag_token(tok, len, t, sizeof(t)));
		return false;
	}
	return feed_add_prefix(c, &p, flags, tok, len, entry, item);
}

bool feed_add_prefix(struct feed_ctx *c, const struct prefix *pp, unsigned flags, const char *tok,
		     size_t len, uint32_t entry, uint32_t item)
{
	struct source *src = c->src;
	char t[DIAG_TOKEN_MAX * 4 + 16], text[PREFIX_STRLEN];
	const struct prefix p = *pp;
	const char *special;
	uint32_t origin;

	/* Never /0, whatever the policy says: that is the whole world. */
	if (p.plen == 0) {
		feed_error(c, entry, item, "prefix '%s' is the whole address space: never allowed",
			   diag_token(tok, len, t, sizeof(t)));
		return false;
	}
	if (p.plen < src->broadest[p.family]) {
		feed_error(c, entry, item, "prefix '%s' is broader than /%u (the source's %s limit)",
			   diag_token(tok, len, t, sizeof(t)), src->broadest[p.family],
			   p.family == FAM_V4 ? "broadest" : "broadest6");
		return false;
	}
	if (flags & PARSE_HOSTBITS) {
		prefix_format(&p, text);
		if (src->strict) {
			feed_error(c, entry, item, "host bits set in '%s' (strict: expected %s)",
				   diag_token(tok, len, t, sizeof(t)), text);
			return false;
		}
		feed_warn(c, entry, item, "host bits set in '%s', using %s",
			  diag_token(tok, len, t, sizeof(t)), text);
	}
	if (flags & PARSE_MAPPED)
		feed_warn(c, entry, item, "IPv4-mapped IPv6 prefix '%s' taken as IPv4 %s",
			  diag_token(tok, len, t, sizeof(t)), (prefix_format(&p, text), text));
	if (src->fmt->published && (special = special_purpose(&p)))
		feed_warn(c, entry, item, "'%s' is special-purpose address space: %s",
			  diag_token(tok, len, t, sizeof(t)), special);

	if (src->fmt->line_origins) {
		origin = src->origin_base + entry;
		if (entry >= c->norigins)
			c->norigins = entry + 1;
	} else {
		if (src->nlocs == src->loccap)
			src->locs = grow(src->locs, &src->loccap, src->nlocs + 1, sizeof(*src->locs));
		src->locs[src->nlocs] = (struct source_loc){ entry, item };
		origin = src->origin_base + (uint32_t)src->nlocs++;
		c->norigins = (uint32_t)src->nlocs;
	}
	input_vec_push(c->out[p.family], p.addr, p.plen, origin);
	c->added++;
	return true;
}

void feed_reserve(struct feed_ctx *c, size_t n)
{
	if (n > FEED_MAX_PREFIXES + 1)
		n = FEED_MAX_PREFIXES + 1;
	for (int f = 0; f < FAM_COUNT; f++)
		input_vec_grow(c->out[f], c->out[f]->n + n);
}

/*
 * Newlines in buf, eight bytes at a time: a million short lines would
 * otherwise be a million calls to memchr. Per byte of x = word ^ "\n\n...",
 * the high bit of ~((x & 0x7f..) + 0x7f.. | x | 0x7f..) is set exactly when
 * the byte is zero, that is when it was a newline (no carry crosses a byte).
 */
static size_t count_newlines(const char *buf, size_t len)
{
	const uint64_t nl = 0x0a0a0a0a0a0a0a0aull, low7 = 0x7f7f7f7f7f7f7f7full;
	size_t n = 0, i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, buf + i, 8);
		uint64_t x = w ^ nl;
		uint64_t t = ~(((x & low7) + low7) | x | low7);
		/* One bit per newline byte, at the byte's top: the sum of the bytes counts them. */
		n += (size_t)(((t >> 7) * 0x0101010101010101ull) >> 56);
	}
	for (; i < len; i++)
		n += buf[i] == '\n';
	return n;
}

size_t feed_count_lines(const struct feed_ctx *c)
{
	return count_newlines(c->buf, c->len) + 1;
}

struct line_worker {
	struct feed_ctx ctx;
	struct input_vec pfx[FAM_COUNT];
	struct diag diag;
	const char *buf;
	size_t len;
	uint32_t first_line;
	void (*parse_lines)(struct feed_ctx *, const char *, size_t, uint32_t);
};

static void *line_worker_run(void *arg)
{
	struct line_worker *w = arg;

	w->parse_lines(&w->ctx, w->buf, w->len, w->first_line);
	return NULL;
}

/* Below this, one thread: starting another costs more than it saves. */
#define PARALLEL_MIN_BYTES (1u << 20)

void feed_parse_lines(struct feed_ctx *c, size_t total_lines,
		      void (*parse_lines)(struct feed_ctx *c, const char *buf, size_t len,
					  uint32_t first_line))
{
	const char *mid, *end = c->buf + c->len;
	struct line_worker w;
	size_t base[FAM_COUNT];
	pthread_t t;
	uint32_t lines = 0;

	mid = c->len >= PARALLEL_MIN_BYTES ? memchr(c->buf + c->len / 2, '\n', c->len / 2) : NULL;
	if (!mid) {
		parse_lines(c, c->buf, c->len, 1);
		return;
	}
	mid++;
	lines = (uint32_t)count_newlines(c->buf, (size_t)(mid - c->buf));

	/*
	 * The second half goes to a worker with its own messages. Its prefixes
	 * go straight into the same arrays, past the most the first half can
	 * add (a prefix a line), so that nothing is copied and no fresh memory
	 * is touched; they are moved down once both are done.
	 */
	memset(&w, 0, sizeof(w));
	w.ctx = *c;
	w.ctx.diag = &w.diag;
	w.ctx.added = 0;
	w.ctx.norigins = 0;
	bool shared = true;
	for (int f = 0; f < FAM_COUNT; f++) {
		base[f] = c->out[f]->n + lines;
		shared &= c->out[f]->cap >= c->out[f]->n + total_lines;
	}
	for (int f = 0; f < FAM_COUNT; f++) {
		if (shared) {
			w.pfx[f].v = c->out[f]->v + base[f];
			w.pfx[f].cap = c->out[f]->cap - base[f];
		}
		w.ctx.out[f] = &w.pfx[f];
	}
	w.buf = mid;
	w.len = (size_t)(end - mid);
	w.first_line = lines + 1;
	w.parse_lines = parse_lines;
	if (pthread_create(&t, NULL, line_worker_run, &w) != 0) {
		parse_lines(c, c->buf, c->len, 1);
		return;
	}
	parse_lines(c, c->buf, (size_t)(mid - c->buf), 1);
	pthread_join(t, NULL);

	for (int f = 0; f < FAM_COUNT; f++) {
		struct input_vec *out = c->out[f];
		if (shared) {
			memmove(out->v + out->n, out->v + base[f], w.pfx[f].n * sizeof(*out->v));
			out->n += w.pfx[f].n;
		} else {
			input_vec_append(out, &w.pfx[f]);
			input_vec_free(&w.pfx[f]);
		}
	}
	diag_merge(c->diag, &w.diag);
	c->added += w.ctx.added;
	if (w.ctx.norigins > c->norigins)
		c->norigins = w.ctx.norigins;
}

/*
 * The whole file, NUL-terminated, mapped when large (see mapfile.h); errors
 * name the file.
 */
static int read_feed(const char *path, struct mapfile *mf, struct diag *d)
{
	enum mapfile_err e = mapfile_read(mf, path, FEED_MAX_BYTES, 0);
	char why[512];

	if (e == MAPFILE_OK)
		return 0;
	mapfile_why(e, errno, FEED_MAX_BYTES, why, sizeof(why));
	diag_error(d, path, "%s", why);
	return -1;
}

/*
 * A feed cut short while it was mapped and parsed: what was parsed is not
 * the file. Nothing has been written or applied while feeds load, so the
 * run ends here, exit 2, as for any unreadable input; collecting this as
 * one more input error would let apply take it for a source that failed.
 */
static void feed_shrank(const char *path)
{
	fprintf(stderr, "mxfence: %s: error: file shrank while it was being read\n", path);
	exit(2);
}

int feed_load(struct policy *pol, uint32_t src_index, struct diag *d)
{
	return feed_load_from(pol, src_index, NULL, d);
}

int feed_load_from(struct policy *pol, uint32_t src_index, const char *file, struct diag *d)
{
	struct source *src = &pol->sources[src_index];
	struct feed_ctx c = { .pol = pol, .src = src, .src_index = src_index, .diag = d };
	size_t errors_before = d->errors;
	struct mapfile mf;

	src->loaded = true;
	for (int f = 0; f < FAM_COUNT; f++)
		c.out[f] = &src->pfx[f];
	if (!file && src->remote && access(src->path, F_OK) != 0 && errno == ENOENT) {
		diag_error(d, src->path, "source %s has no good copy in the cache yet (mxfence fetch "
					 "makes one)", src->name);
		src->failed = true;
		return -1;
	}
	if (read_feed(file ? file : src->path, &mf, d) < 0) {
		src->failed = true;
		return -1;
	}
	c.buf = mf.data;
	c.len = mf.len;
	src->fmt->load(&c);
	if (mapfile_shrank(&mf))
		feed_shrank(file ? file : src->path);
	mapfile_free(&mf);
	src->norigins = c.norigins;
	if (c.added > FEED_MAX_PREFIXES)
		diag_error(d, src->path, "more than %u prefixes in one source", FEED_MAX_PREFIXES);
	if (d->errors == errors_before && c.added == 0 && !src->allow_empty) {
		diag_error(d, src->path, "source %s yields no prefixes (allow-empty = yes permits it)",
			   src->name);
	}
	src->failed = d->errors != errors_before;
	return src->failed ? -1 : 0;
}

/* Words are separated by blanks or commas; "..." keeps blanks in one ("Google Cloud"). */
static const char *next_word(const char *s, char **out)
{
	const char *start, *end;

	s += strspn(s, " \t,");
	if (*s == '\0')
		return NULL;
	if (*s == '"' && (end = strchr(s + 1, '"'))) {
		start = s + 1;
		s = end + 1;
	} else {
		start = s;
		end = s + strcspn(s, " \t,");
		s = end;
	}
	*out = xstrndup(start, (size_t)(end - start));
	return s;
}

void filter_get(struct source *src, const char *key, struct filter *f)
{
	memset(f, 0, sizeof(*f));
	f->key = key;
	for (size_t i = 0; i < src->nopts; i++) {
		struct source_opt *o = &src->opts[i];
		char *w;
		if (!streq(o->key, key))
			continue;
		o->used = true;
		f->line = o->line;
		for (const char *p = o->value; (p = next_word(p, &w));) {
			f->words = xreallocarray(f->words, f->n + 1, sizeof(*f->words));
			f->words[f->n++] = w;
		}
	}
}

bool filter_match(const struct filter *f, const char *value)
{
	if (f->n == 0)
		return true;
	if (!value)
		return false;
	for (size_t i = 0; i < f->n; i++)
		if (strcasecmp(f->words[i], value) == 0)
			return true;
	return false;
}

void filter_free(struct filter *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->words[i]);
	free(f->words);
	f->words = NULL;
	f->n = 0;
}

static void line_fault(void *arg, uint32_t lineno, const char *what)
{
	feed_error(arg, lineno, 0, "%s", what);
}

void feed_lines_init(struct feed_ctx *c, struct line_reader *r, const char *buf, size_t len,
		     uint32_t first_line)
{
	line_reader_init(r, buf, len, first_line, FEED_MAX_LINE, line_fault, c);
}

void where_line(const struct source *src, uint32_t entry, uint32_t item, char *buf, size_t n)
{
	const char *name = src->file;

	(void)item;
	/* A fetched source: its copy in the cache, by file name. */
	if (!name)
		name = strrchr(src->path, '/') ? strrchr(src->path, '/') + 1 : src->path;
	snprintf(buf, n, "%s:%u", name, entry);
}

void diag_where_line(const struct source *src, uint32_t entry, uint32_t item, char *buf,
		     size_t n)
{
	(void)item;
	snprintf(buf, n, "%s:%u", src->path, entry);
}

const char *source_label(const struct source *src, uint32_t entry)
{
	return entry < src->nlabels ? src->labels[entry] : NULL;
}

void source_set_label(struct source *src, uint32_t entry, const char *label)
{
	if (entry >= src->nlabels) {
		src->labels = xreallocarray(src->labels, entry + 1, sizeof(*src->labels));
		memset(src->labels + src->nlabels, 0, (entry + 1 - src->nlabels) * sizeof(char *));
		src->nlabels = entry + 1;
	}
	free(src->labels[entry]);
	src->labels[entry] = xstrdup(label);
}
