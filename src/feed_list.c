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
	struct line_reader lr;
	const char *s;
	size_t n;
	char t[DIAG_TOKEN_MAX * 4 + 16];

	feed_lines_init(c, &lr, buf, len, first_line);
	for (;;) {
		const char *end, *tok, *tend;
		struct prefix p;
		unsigned flags;
		size_t scanned;

		/*
		 * Nearly every line of a large list is a bare dotted quad: read it
		 * in one pass and, when there is nothing to warn about or refuse,
		 * store it as feed_add_prefix() would. Anything else, and the last
		 * lines (the scan reads ahead), take the general path, which also
		 * names the fault.
		 */
		if (line_reader_left(&lr) >= PREFIX_V4_LINE_MAX &&
		    (scanned = prefix_scan_v4_line(lr.p, &p, &flags)) != 0) {
			const char *line = lr.p;

			line_reader_skip(&lr, scanned);
			if (!flags && p.plen && p.plen >= broadest) {
				input_vec_push(v4, p.addr, p.plen, src->origin_base + lr.lineno);
				taken++;
				last = lr.lineno;
			} else {
				feed_add_prefix(c, &p, flags, line, scanned, lr.lineno, 0);
			}
			continue;
		}
		if (!line_reader_next(&lr, &s, &n))
			break;

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
			feed_error(c, lr.lineno, 0, "unexpected text after the address '%s'",
				   diag_token(rest, (size_t)(end - rest), t, sizeof(t)));
			continue;
		}
		feed_add_text(c, tok, (size_t)(tend - tok), lr.lineno, 0);
	}
	c->added += taken;
	if (taken && last >= c->norigins)
		c->norigins = last + 1;
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
