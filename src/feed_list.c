/*
 * format = list: one address or prefix per line. '#' and ';' start a comment,
 * also after an entry; blank lines, CRLF and a UTF-8 BOM are fine.
 */
#include <string.h>

#include "feed.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

static void list_lines(struct feed_ctx *c, const char *buf, size_t len, uint32_t first_line)
{
	const struct source *src = c->src;
	struct input_vec *v4 = c->out[FAM_V4];
	const unsigned broadest = src->broadest[FAM_V4];
	size_t taken = 0;
	uint32_t last = 0;
	struct line_iter it;
	const char *s;
	size_t n;
	char t[DIAG_TOKEN_MAX * 4 + 16];

	line_iter_init(&it, buf, len, first_line);
	for (;;) {
		const char *end, *tok, *tend;
		struct prefix p;
		unsigned flags;
		size_t tl;

		/*
		 * Nearly every line of a large list is a bare dotted quad: read it
		 * in one pass and, when there is nothing to warn about or refuse,
		 * store it as feed_take() would. Anything else, and the last lines
		 * (the scan reads ahead), take the general path, which also names
		 * the fault.
		 */
		if (it.end - it.p >= PREFIX_V4_LINE_MAX &&
		    (tl = prefix_scan_v4_line(it.p, &p, &flags)) != 0) {
			it.lineno++;
			if (!flags && p.plen && p.plen >= broadest) {
				input_vec_push(v4, p.addr, p.plen, src->origin_base + it.lineno);
				taken++;
				last = it.lineno;
			} else {
				feed_take(c, &p, flags, it.p, tl, it.lineno, 0);
			}
			it.p += tl + 1;
			continue;
		}
		if (!line_next(&it, &s, &n))
			break;

		if (n > FEED_MAX_LINE) {
			feed_error(c, it.lineno, 0, "line longer than %u bytes", FEED_MAX_LINE);
			continue;
		}
		if (memchr(s, '\0', n)) {
			feed_error(c, it.lineno, 0, "NUL byte in line");
			continue;
		}
		end = s;
		while (end < s + n && *end != '#' && *end != ';')
			end++;
		tok = s;
		while (tok < end && is_space(*tok))
			tok++;
		tend = tok;
		while (tend < end && !is_space(*tend))
			tend++;
		if (tok == tend)
			continue;
		const char *rest = tend;
		while (rest < end && is_space(*rest))
			rest++;
		if (rest < end) {
			feed_error(c, it.lineno, 0, "unexpected text after the address '%s'",
				   diag_token(rest, (size_t)(end - rest), t, sizeof(t)));
			continue;
		}
		feed_add(c, tok, (size_t)(tend - tok), it.lineno, 0);
	}
	c->added += taken;
	if (taken && last >= c->span)
		c->span = last + 1;
}

static int list_load(struct feed_ctx *c)
{
	size_t lines = feed_count_lines(c);

	feed_reserve(c, lines);
	feed_parse_lines(c, lines, list_lines);
	return 0;
}

static const char *const list_keys[] = { NULL };

const struct feed_format feed_list = {
	.name = "list",
	.keys = list_keys,
	.published = false,
	.line_origins = true,
	.load = list_load,
	.where = where_line,
	.diag_where = diag_where_line,
};
