#include "flows.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "linereader.h"
#include "mapfile.h"
#include "util.h"

static int parse_flow(const char *s, size_t n, struct flow *fl, char *why, size_t whylen)
{
	char tok[4][128], t[DIAG_TOKEN_MAX * 4 + 16];
	size_t ntok = 0, i = 0;
	unsigned flags;
	enum parse_err e;

	while (i < n) {
		while (i < n && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i >= n || s[i] == '#')
			break;
		size_t start = i;
		while (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '#')
			i++;
		if (ntok == 4) {
			snprintf(why, whylen, "unexpected text after the destination '%s'",
				 diag_token(s + start, n - start, t, sizeof(t)));
			return -1;
		}
		if (i - start >= sizeof(tok[0])) {
			snprintf(why, whylen, "token too long '%s'",
				 diag_token(s + start, i - start, t, sizeof(t)));
			return -1;
		}
		memcpy(tok[ntok], s + start, i - start);
		tok[ntok++][i - start] = '\0';
	}
	if (ntok == 0)
		return 0;
	if (ntok < 3) {
		snprintf(why, whylen, "expected EXPECT ADDRESS PROTO/PORT [DESTINATION] '%s'",
			 diag_token(s, n, t, sizeof(t)));
		return -1;
	}
	if (streq(tok[0], "accept"))
		fl->expect = VERDICT_ACCEPT;
	else if (streq(tok[0], "drop"))
		fl->expect = VERDICT_DROP;
	else if (streq(tok[0], "reject"))
		fl->expect = VERDICT_REJECT;
	else {
		snprintf(why, whylen, "expected accept, drop or reject '%s'",
			 diag_token(tok[0], strlen(tok[0]), t, sizeof(t)));
		return -1;
	}
	e = addr_parse(tok[1], strlen(tok[1]), &fl->addr, &flags);
	if (e) {
		snprintf(why, whylen, "%s '%s'", parse_strerror(e),
			 diag_token(tok[1], strlen(tok[1]), t, sizeof(t)));
		return -1;
	}
	char *slash = strchr(tok[2], '/'), *end;
	long port;
	if (slash)
		*slash = '\0';
	if (!slash || (!streq(tok[2], "tcp") && !streq(tok[2], "udp"))) {
		if (slash)
			*slash = '/';
		snprintf(why, whylen, "expected tcp/PORT or udp/PORT '%s'",
			 diag_token(tok[2], strlen(tok[2]), t, sizeof(t)));
		return -1;
	}
	fl->proto = streq(tok[2], "tcp") ? PROTO_TCP : PROTO_UDP;
	errno = 0;
	port = strtol(slash + 1, &end, 10);
	if (errno || *end || end == slash + 1 || port < 1 || port > 65535 || slash[1] == '+' ||
	    slash[1] == '-') {
		snprintf(why, whylen, "invalid port (expected 1 to 65535) '%s'",
			 diag_token(slash + 1, strlen(slash + 1), t, sizeof(t)));
		return -1;
	}
	fl->port = (unsigned)port;
	if (ntok == 4) {
		e = addr_parse(tok[3], strlen(tok[3]), &fl->dest, &flags);
		if (e) {
			snprintf(why, whylen, "destination: %s '%s'", parse_strerror(e),
				 diag_token(tok[3], strlen(tok[3]), t, sizeof(t)));
			return -1;
		}
		if (fl->dest.family != fl->addr.family) {
			snprintf(why, whylen, "destination of another family than the address '%s'",
				 diag_token(tok[3], strlen(tok[3]), t, sizeof(t)));
			return -1;
		}
		fl->has_dest = true;
	}
	return 1;
}

struct flows_reader {
	const char *path;
	struct diag *d;
};

static void line_fault(void *arg, uint32_t lineno, const char *what)
{
	struct flows_reader *fr = arg;
	char where[4096];

	snprintf(where, sizeof(where), "%s:%u", fr->path, lineno);
	diag_error(fr->d, where, "%s", what);
}

int flows_read(const char *path, struct flow_vec *fv, struct diag *d)
{
	struct flows_reader fr = { path, d };
	struct line_reader lr;
	struct mapfile mf;
	char where[4096], why[512];
	size_t errors = d->errors, first = fv->n, n;
	const char *s;

	enum mapfile_err e = mapfile_read(&mf, path, SIZE_MAX, 0);
	if (e != MAPFILE_OK) {
		mapfile_why(e, errno, SIZE_MAX, why, sizeof(why));
		diag_error(d, path, "%s", why);
		return -1;
	}
	/* Flows keep path, not the text: it lives as long as they do (argv). */
	line_reader_init(&lr, mf.data, mf.len, 1, 0, line_fault, &fr);
	while (line_reader_next(&lr, &s, &n)) {
		/* Any run of CRs at the end is line ending. */
		while (n && s[n - 1] == '\r')
			n--;
		struct flow fl = { .file = path, .line = lr.lineno };
		int r = parse_flow(s, n, &fl, why, sizeof(why));
		if (r < 0) {
			snprintf(where, sizeof(where), "%s:%u", path, lr.lineno);
			diag_error(d, where, "%s", why);
		} else if (r > 0) {
			fv->v = grow(fv->v, &fv->cap, fv->n + 1, sizeof(*fv->v));
			fv->v[fv->n++] = fl;
		}
	}
	if (mapfile_shrank(&mf)) {
		diag_error(d, path, "file shrank while it was being read");
		fv->n = first;
	}
	mapfile_free(&mf);
	return d->errors == errors ? 0 : -1;
}

void flows_free(struct flow_vec *fv)
{
	free(fv->v);
	memset(fv, 0, sizeof(*fv));
}

enum verdict policy_evaluate(const struct policy *pol, const struct prefix *addr, enum proto p,
			     unsigned port, const struct prefix *dest, struct verdict_why *why)
{
	const struct service *svc, *other;

	memset(why, 0, sizeof(*why));
	why->dest = dest;
	policy_flow_service(pol, (enum family)addr->family, p, port, dest, &svc, &other);
	if (!svc)
		return VERDICT_ACCEPT;
	why->svc = svc;
	why->set = &svc->set[addr->family];
	why->iv = interval_set_lookup(why->set, addr->addr);
	return why->iv ? VERDICT_ACCEPT : svc->otherwise;
}

int flows_check_governed(const struct policy *pol, const struct flow_vec *fv, struct diag *d)
{
	size_t errors = d->errors;
	char where[4096];

	for (size_t i = 0; i < fv->n; i++) {
		const struct flow *fl = &fv->v[i];
		const struct service *svc, *other;
		if (fl->has_dest ||
		    policy_flow_service(pol, (enum family)fl->addr.family, fl->proto, fl->port, NULL,
					&svc, &other) == 0)
			continue;
		snprintf(where, sizeof(where), "%s:%u", fl->file, fl->line);
		diag_error(d, where, "flow needs a destination: services %s and %s govern %s/%u",
			   svc->name, other->name, proto_name(fl->proto), fl->port);
	}
	return d->errors == errors ? 0 : -1;
}

void covering_inputs(const struct policy *pol, const struct verdict_why *why, u128 addr,
		     void (*fn)(const struct policy *, const struct input_prefix *, enum family, void *),
		     void *arg)
{
	const struct interval_set *s = why->set;

	if (!why->iv)
		return;
	for (size_t j = why->iv->first; j < why->iv->first + why->iv->count; j++) {
		const struct input_prefix *px = &s->in.v[j];
		if (px->lo <= addr && addr <= input_last(px, s->fam))
			fn(pol, px, s->fam, arg);
	}
}

struct reason_acc {
	char *buf;
	size_t n, o;
	size_t count;
};

static void reason_one(const struct policy *pol, const struct input_prefix *px, enum family f, void *arg)
{
	struct reason_acc *r = arg;
	struct prefix p = { px->lo, px->plen, (uint8_t)f };
	char text[PREFIX_STRLEN], where[512];

	if (r->count++ == 0) {
		prefix_format(&p, text);
		origin_where(pol, px->origin, where, sizeof(where));
		r->o += (size_t)snprintf(r->buf + r->o, r->n - r->o, "%s from %s", text, where);
	}
}

void verdict_reason(const struct policy *pol, const struct prefix *addr, enum proto p,
		    unsigned port, const struct verdict_why *why, char *buf, size_t n)
{
	char text[ADDR_STRLEN];

	if (!why->svc) {
		if (why->dest) {
			addr_format(why->dest->addr, why->dest->family, text);
			snprintf(buf, n, "no service governs %s/%u to %s: the chains accept",
				 proto_name(p), port, text);
		} else {
			snprintf(buf, n, "no service governs %s/%u: the chain accepts", proto_name(p),
				 port);
		}
		return;
	}
	if (!why->iv) {
		addr_format(addr->addr, addr->family, text);
		snprintf(buf, n, "service %s: no source covers %s", why->svc->name, text);
		return;
	}
	struct reason_acc r = { buf, n, 0, 0 };
	buf[0] = '\0';
	covering_inputs(pol, why, addr->addr, reason_one, &r);
	if (r.count > 1 && r.o < n)
		snprintf(buf + r.o, n - r.o, " and %zu more", r.count - 1);
}
