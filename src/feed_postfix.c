/*
 * format = postfix-cidr: a Postfix cidr_table, "network/len  ACTION". Entries
 * whose action's first word is `action` (default OK, case-insensitive) are
 * taken; the others are another policy's business and are skipped. A line that
 * starts with white space continues the previous one, as in Postfix.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "feed.h"
#include "util.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

struct cidr_line {
	char *text;
	size_t len, cap;
	uint32_t lineno;
};

static void cidr_line_add(struct cidr_line *l, const char *s, size_t n)
{
	l->text = grow(l->text, &l->cap, l->len + n + 2, 1);
	if (l->len)
		l->text[l->len++] = ' ';
	memcpy(l->text + l->len, s, n);
	l->len += n;
	l->text[l->len] = '\0';
}

static void add_entry(struct feed_ctx *c, const struct cidr_line *l, const char *want)
{
	char t[DIAG_TOKEN_MAX * 4 + 16];
	const char *p = l->text, *end = l->text + l->len;
	const char *net, *net_end, *act, *act_end;

	while (p < end && is_space(*p))
		p++;
	if (*p == '!' || strncmp(p, "if", 2) == 0 || strncmp(p, "endif", 5) == 0) {
		feed_error(c, l->lineno, 0, "negation and if/endif are not supported '%s'",
			   diag_token(p, (size_t)(end - p), t, sizeof(t)));
		return;
	}
	net = p;
	while (p < end && !is_space(*p))
		p++;
	net_end = p;
	while (p < end && is_space(*p))
		p++;
	act = p;
	while (p < end && !is_space(*p))
		p++;
	act_end = p;
	if (act == act_end) {
		feed_error(c, l->lineno, 0, "no action after the network '%s'",
			   diag_token(net, (size_t)(net_end - net), t, sizeof(t)));
		return;
	}
	if ((size_t)(act_end - act) != strlen(want) ||
	    strncasecmp(act, want, (size_t)(act_end - act)) != 0)
		return;

	/* Postfix allows IPv6 networks in brackets: [2001:db8::]/32. */
	char buf[PREFIX_STRLEN + 4];
	size_t n = (size_t)(net_end - net);
	if (n < sizeof(buf) && net[0] == '[') {
		const char *close = memchr(net, ']', n);
		if (close) {
			size_t a = (size_t)(close - net - 1);
			memcpy(buf, net + 1, a);
			memcpy(buf + a, close + 1, (size_t)(net_end - close - 1));
			n = a + (size_t)(net_end - close - 1);
			net = buf;
		}
	}
	feed_add_text(c, net, n, l->lineno, 0);
}

static int postfix_load(struct feed_ctx *c)
{
	struct filter action;
	struct line_reader lr;
	struct cidr_line cur = { 0 };
	const char *s;
	size_t n;

	filter_get(c->src, "action", &action);
	const char *want = action.n ? action.words[0] : "OK";

	feed_reserve(c, feed_count_lines(c));
	feed_lines_init(c, &lr, c->buf, c->len, 1);
	while (line_reader_next(&lr, &s, &n)) {
		size_t i = 0;
		while (i < n && is_space(s[i]))
			i++;
		if (i == n || s[i] == '#')
			continue;
		if (i > 0 && cur.len) {
			cidr_line_add(&cur, s + i, n - i);
			continue;
		}
		if (cur.len)
			add_entry(c, &cur, want);
		cur.len = 0;
		cur.lineno = lr.lineno;
		cidr_line_add(&cur, s + i, n - i);
	}
	if (cur.len)
		add_entry(c, &cur, want);
	free(cur.text);
	filter_free(&action);
	return 0;
}

static const char *const postfix_keys[] = { "action", NULL };

const struct feed_format feed_postfix_cidr = {
	.name = "postfix-cidr",
	.keys = postfix_keys,
	.published = false,
	.line_origins = true,
	.load = postfix_load,
	.where = where_line,
	.diag_where = diag_where_line,
};
