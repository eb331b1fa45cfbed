/*
 * The checks of a policy once its file is read: what the keys mean together
 * (a fetched source's keys, sources named and used, two services governing the
 * same connections), each error naming the file and line it is about.
 */
#include "policy.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "policy-private.h"
#include "render.h"
#include "util.h"

/* Where a source's data comes from: its file, or the cache for fetched ones. */
static void lint_fetch(struct policy *pol, struct source *src, struct diag *d)
{
	char where[PATH_MAX + 32];

	snprintf(where, sizeof(where), "%s:%u", pol->path, src->url_line ? src->url_line : src->line);
	/* A format that fetches by itself (spf asks DNS) needs no url. */
	src->remote = src->url || (src->fmt->fetch && !src->file);
	if (src->url && src->file)
		diag_error(d, where, "source %s has both url and file: a fetched source's file is "
				     "its copy in the cache", src->name);
	else if (!src->remote && !src->file)
		diag_error(d, where, "source %s has no file%s", src->name,
			   src->fmt->fetch ? "" : " (or url)");
	if (src->url && strncmp(src->url, "http://", 7) == 0 && !src->insecure_http)
		diag_error(d, where, "plain http needs insecure-http = yes (feeds are fetched over "
				     "https with certificate checks) '%s'", src->url);
	if (src->url && streq(src->fmt->name, "m365")) {
		/* The web service's address: fetch asks /version/<instance>, then /endpoints/<instance>. */
		const char *host = strstr(src->url, "://") + 3, *path = strchr(host, '/');
		if (strchr(src->url, '?') || (path && path[strspn(path, "/")]))
			diag_error(d, where, "for format m365, url is the web service's address, e.g. "
					     "https://endpoints.office.com (fetch adds /version/ and "
					     "/endpoints/) '%s'", src->url);
	}
	if (src->url && src->fmt->fetch)
		diag_error(d, where, "format %s fetches by itself and takes no url", src->fmt->name);
	if (src->fetch_line && !src->remote) {
		snprintf(where, sizeof(where), "%s:%u", pol->path, src->fetch_line);
		diag_error(d, where, "source %s is not fetched: fetch keys need a url", src->name);
	}
	if (src->remote)
		src->path = source_cache_path(pol, src, ".feed");
	else if (src->file)
		src->path = policy_resolve(pol->dir, src->file);
}


static int cmp_range(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* The first addresses two ascending, merged lists share, or false. */
static bool ranges_meet(const struct range_vec *a, const struct range_vec *b, struct range *out)
{
	for (size_t i = 0, j = 0; i < a->n && j < b->n;) {
		if (a->v[i].hi < b->v[j].lo) {
			i++;
		} else if (b->v[j].hi < a->v[i].lo) {
			j++;
		} else {
			out->lo = a->v[i].lo > b->v[j].lo ? a->v[i].lo : b->v[j].lo;
			out->hi = a->v[i].hi < b->v[j].hi ? a->v[i].hi : b->v[j].hi;
			return true;
		}
	}
	return false;
}

int to_meet(const struct range_vec a[FAM_COUNT], const struct range_vec b[FAM_COUNT],
	    struct range *meet)
{
	for (int f = 0; f < FAM_COUNT; f++) {
		if (a[f].n && b[f].n && !ranges_meet(&a[f], &b[f], meet))
			continue;
		return f;
	}
	return -1;
}

static void range_text(const struct range *rg, enum family f, char *buf, size_t n)
{
	struct prefix cover[256];
	char a[ADDR_STRLEN], b[ADDR_STRLEN];

	if (cidr_cover(rg->lo, rg->hi, f, cover) == 1) {
		char t[PREFIX_STRLEN];
		if (cover[0].plen == fam_bits(f))
			addr_format(rg->lo, f, t);
		else
			prefix_format(&cover[0], t);
		snprintf(buf, n, "%s", t);
		return;
	}
	addr_format(rg->lo, f, a);
	addr_format(rg->hi, f, b);
	snprintf(buf, n, "%s-%s", a, b);
}

/*
 * Ports p of svc and q of o overlap: an error where their destinations meet
 * in some family. A family without `to` stands for every destination (this
 * host's own addresses, whichever they are).
 */
static void port_overlap(const struct policy *pol, struct diag *d, const struct service *svc,
			 const struct portrange *p, const struct service *o,
			 const struct portrange *q, bool same)
{
	char where[PATH_MAX + 32], pt[32], qt[32], dest[2 * PREFIX_STRLEN + 64];
	struct range meet;
	bool any_to = svc->to[FAM_V4].n || svc->to[FAM_V6].n || o->to[FAM_V4].n || o->to[FAM_V6].n;

	portrange_format(p, pt, sizeof(pt));
	portrange_format(q, qt, sizeof(qt));
	snprintf(where, sizeof(where), "%s:%u", pol->path, svc->ports_line);
	if (same || !any_to) {
		diag_error(d, where, "port %s overlaps %s of service %s", pt, qt, o->name);
		return;
	}
	int f = to_meet(svc->to, o->to, &meet);
	if (f < 0)
		return;
	bool mine = service_has_to(svc, (enum family)f), theirs = service_has_to(o, (enum family)f);
	if (mine && theirs)
		range_text(&meet, (enum family)f, dest, sizeof(dest));
	else if (mine)
		snprintf(dest, sizeof(dest), "service %s has no %s 'to': every destination", o->name,
			 f == FAM_V4 ? "IPv4" : "IPv6");
	else if (theirs)
		snprintf(dest, sizeof(dest), "service %s has no %s 'to': every destination", svc->name,
			 f == FAM_V4 ? "IPv4" : "IPv6");
	else
		snprintf(dest, sizeof(dest), "neither has an %s 'to': every destination",
			 f == FAM_V4 ? "IPv4" : "IPv6");
	if (mine)
		snprintf(where, sizeof(where), "%s:%u", pol->path, svc->to_line);
	diag_error(d, where, "port %s overlaps %s of service %s, and so do their %s "
			     "destinations (%s)", pt, qt, o->name, f == FAM_V4 ? "IPv4" : "IPv6", dest);
}

void policy_check(struct policy *pol, struct diag *d)
{
	char where[PATH_MAX + 32];

	if (!pol->table)
		pol->table = xstrdup(DEFAULT_TABLE);
	if (pol->nservices == 0) {
		diag_error(d, pol->path, "no [service NAME] section: nothing to protect");
	}
	for (size_t i = 0; i < pol->nsources; i++) {
		struct source *src = &pol->sources[i];
		snprintf(where, sizeof(where), "%s:%u", pol->path, src->line);
		if (!src->fmt) {
			if (!src->format_seen)
				diag_error(d, where, "source %s has no format (expected one of %s)",
					   src->name, feed_format_names());
			continue;
		}
		lint_fetch(pol, src, d);
		for (size_t k = 0; k < src->nopts; k++) {
			struct source_opt *o = &src->opts[k];
			if (policy_format_has_key(src->fmt, o->key))
				continue;
			char line[PATH_MAX + 32];
			snprintf(line, sizeof(line), "%s:%u", pol->path, o->line);
			diag_error(d, line, "unknown key for format %s in [source %s] '%s'",
				   src->fmt->name, src->name, o->key);
		}
	}
	for (size_t i = 0; i < pol->nservices; i++)
		for (int f = 0; f < FAM_COUNT; f++) {
			struct range_vec *to = &pol->services[i].to[f];
			if (!to->n)
				continue;
			qsort(to->v, to->n, sizeof(*to->v), cmp_range);
			ranges_normalize(to);
		}
	for (size_t i = 0; i < pol->nservices; i++) {
		struct service *svc = &pol->services[i];
		snprintf(where, sizeof(where), "%s:%u", pol->path, svc->line);
		if (svc->nports == 0)
			diag_error(d, where, "service %s has no ports", svc->name);
		if (svc->nsource_names == 0)
			diag_error(d, where, "service %s has no sources", svc->name);
		snprintf(where, sizeof(where), "%s:%u", pol->path, svc->sources_line);
		svc->sources = xcalloc(svc->nsource_names, sizeof(*svc->sources));
		for (size_t k = 0; k < svc->nsource_names; k++) {
			const char *n = svc->source_names[k];
			bool dup = false;
			for (size_t j = 0; j < k; j++)
				dup |= streq(svc->source_names[j], n);
			if (dup) {
				diag_error(d, where, "source named twice in service %s '%s'", svc->name, n);
				continue;
			}
			size_t s;
			for (s = 0; s < pol->nsources; s++)
				if (streq(pol->sources[s].name, n))
					break;
			if (s == pol->nsources) {
				diag_error(d, where, "service %s names an unknown source '%s'", svc->name,
					   n);
				continue;
			}
			svc->sources[svc->nsources++] = (uint32_t)s;
			pol->sources[s].used_by++;
		}
		/*
		 * A port governed by two services would make the verdict depend on
		 * rule order; with `to`, only where their destinations meet too.
		 */
		for (size_t a = 0; a < svc->nports; a++) {
			const struct portrange *p = &svc->ports[a];
			for (size_t j = 0; j <= i; j++) {
				const struct service *o = &pol->services[j];
				for (size_t b = 0; b < (j == i ? a : o->nports); b++) {
					const struct portrange *q = &o->ports[b];
					if (p->proto != q->proto || p->hi < q->lo || q->hi < p->lo)
						continue;
					port_overlap(pol, d, svc, p, o, q, j == i);
				}
			}
		}
	}
	for (size_t i = 0; i < pol->nsources; i++) {
		struct source *src = &pol->sources[i];
		if (src->used_by)
			continue;
		snprintf(where, sizeof(where), "%s:%u", pol->path, src->line);
		diag_error(d, where, "source %s is used by no service", src->name);
	}
}

