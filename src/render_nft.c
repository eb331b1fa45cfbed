/*
 * The nft script: one table, replaced whole by one `nft -f` transaction.
 * "table ... {}" then "delete table" makes the delete valid on a first load.
 * Byte-identical for identical inputs: no timestamps, policy order.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "render.h"
#include "util.h"

void portrange_format(const struct portrange *p, char *buf, size_t n)
{
	if (p->lo == p->hi)
		snprintf(buf, n, "%s/%u", proto_name(p->proto), p->lo);
	else
		snprintf(buf, n, "%s/%u-%u", proto_name(p->proto), p->lo, p->hi);
}

static void header(FILE *f, const struct policy *pol)
{
	fprintf(f, "# mxfence ruleset: table inet %s\n", pol->table);
	for (size_t i = 0; i < pol->nsources; i++) {
		const struct source *src = &pol->sources[i];
		fprintf(f, "# source %s: %s %s", src->name, src->fmt->name, src->file);
		if (src->version)
			fprintf(f, ", version %s", src->version);
		else if (src->fmt->published)
			fprintf(f, ", feed version unknown");
		fprintf(f, ", %zu prefixes (%zu IPv4, %zu IPv6)\n",
			src->count[FAM_V4] + src->count[FAM_V6], src->count[FAM_V4],
			src->count[FAM_V6]);
	}
	for (size_t i = 0; i < pol->nservices; i++) {
		const struct service *svc = &pol->services[i];
		char buf[32], addrs[48];
		fprintf(f, "# service %s:", svc->name);
		for (size_t k = 0; k < svc->nports; k++) {
			portrange_format(&svc->ports[k], buf, sizeof(buf));
			fprintf(f, " %s", buf);
		}
		u128_format(iset_addresses(&svc->set[FAM_V4]), addrs);
		fprintf(f, "; %zu IPv4 intervals (%s addresses), %zu IPv6 intervals; otherwise %s\n",
			svc->set[FAM_V4].n, addrs, svc->set[FAM_V6].n, verdict_name(svc->otherwise));
	}
}

/* The element lines of intervals [from, to) of a set, into one buffer. */
struct element_text {
	const struct iset *set;
	size_t from, to;
	FILE *f; /* write as it goes; NULL: keep it all in buf */
	char *buf;
	size_t len, cap;
};

#define STREAM_CHUNK (256u << 10)

/* Room for the cover of one interval: at most 2 * 128 CIDRs of 56 bytes. */
#define INTERVAL_TEXT_MAX (256 * 56)

static void *format_elements(void *arg)
{
	struct element_text *et = arg;
	const struct iset *s = et->set;
	struct prefix cover[256];

	for (size_t i = et->from; i < et->to; i++) {
		if (et->f && et->len >= STREAM_CHUNK) {
			fwrite(et->buf, 1, et->len, et->f);
			et->len = 0;
		}
		if (et->cap - et->len < INTERVAL_TEXT_MAX) {
			et->cap = et->cap * 2 + INTERVAL_TEXT_MAX;
			et->buf = xrealloc(et->buf, et->cap);
		}
		size_t k = cidr_cover(s->iv[i].lo, s->iv[i].hi, s->fam, cover);
		char *p = et->buf + et->len;
		for (size_t j = 0; j < k; j++) {
			/* Separator first: the first element of the set has none. */
			if (i || j)
				*p++ = ',';
			memcpy(p, "\n\t\t\t", 4);
			p += 4;
			p += prefix_format(&cover[j], p);
		}
		et->len = (size_t)(p - et->buf);
	}
	return NULL;
}

/*
 * A million elements take longer to print than to merge: two threads format
 * the two halves (the machine this runs on has two cores or more), and the
 * text is written in order, so the output does not depend on them.
 */
#define PARALLEL_MIN 65536

static void write_elements(FILE *f, const struct iset *s)
{
	/* The first half is written as it is formatted; the second waits in memory. */
	struct element_text part[2] = {
		{ .set = s, .from = 0, .to = s->n / 2, .f = f },
		{ .set = s, .from = s->n / 2, .to = s->n },
	};
	pthread_t t;
	bool threaded = false;

	/*
	 * Room up front, most intervals being one CIDR: grown a doubling at a
	 * time, the text would be copied again and again, page by page.
	 */
	for (int k = 0; k < 2; k++) {
		size_t per = s->fam == FAM_V4 ? 24 : 48;
		part[k].cap = (k == 0 ? STREAM_CHUNK : (part[k].to - part[k].from) * per) +
			      INTERVAL_TEXT_MAX;
		part[k].buf = xmalloc_big(part[k].cap);
	}
	if (s->n >= PARALLEL_MIN)
		threaded = pthread_create(&t, NULL, format_elements, &part[1]) == 0;
	format_elements(&part[0]);
	fwrite(part[0].buf, 1, part[0].len, f);
	if (threaded)
		pthread_join(t, NULL);
	else
		format_elements(&part[1]);
	fwrite(part[1].buf, 1, part[1].len, f);
	free(part[0].buf);
	free(part[1].buf);
}

static void set_block(FILE *f, const struct service *svc, enum family fam)
{
	const struct iset *s = &svc->set[fam];
	char name[64];

	service_set_name(svc, fam, name, sizeof(name));
	fprintf(f, "\tset %s {\n\t\ttype %s\n\t\tflags interval\n", name,
		fam == FAM_V4 ? "ipv4_addr" : "ipv6_addr");
	if (s->n) {
		fputs("\t\telements = {", f);
		write_elements(f, s);
		fputs("\n\t\t}\n", f);
	}
	fputs("\t}\n", f);
}

/* "25", "{ 25, 587, 1000-2000 }" for the ports of one protocol. */
static void dport_expr(const struct service *svc, enum proto p, char *buf, size_t n)
{
	size_t count = 0, o = 0;

	for (size_t i = 0; i < svc->nports; i++)
		count += svc->ports[i].proto == p;
	if (count > 1)
		o += (size_t)snprintf(buf + o, n - o, "{ ");
	bool first = true;
	for (size_t i = 0; i < svc->nports && o < n; i++) {
		const struct portrange *r = &svc->ports[i];
		if (r->proto != p)
			continue;
		o += (size_t)snprintf(buf + o, n - o, "%s%u", first ? "" : ", ", r->lo);
		if (r->hi != r->lo && o < n)
			o += (size_t)snprintf(buf + o, n - o, "-%u", r->hi);
		first = false;
	}
	if (count > 1 && o < n)
		snprintf(buf + o, n - o, " }");
}

static bool has_proto(const struct service *svc, enum proto p)
{
	for (size_t i = 0; i < svc->nports; i++)
		if (svc->ports[i].proto == p)
			return true;
	return false;
}

static void service_rules(FILE *f, const struct service *svc)
{
	char ports[4096], v4[64], v6[64];

	service_set_name(svc, FAM_V4, v4, sizeof(v4));
	service_set_name(svc, FAM_V6, v6, sizeof(v6));
	for (enum proto p = PROTO_TCP; p <= PROTO_UDP; p++) {
		if (!has_proto(svc, p))
			continue;
		dport_expr(svc, p, ports, sizeof(ports));
		fprintf(f, "\t\t%s dport %s ip saddr @%s counter accept\n", proto_name(p), ports, v4);
		fprintf(f, "\t\t%s dport %s ip6 saddr @%s counter accept\n", proto_name(p), ports, v6);
	}
	for (enum proto p = PROTO_TCP; p <= PROTO_UDP; p++) {
		if (!has_proto(svc, p))
			continue;
		dport_expr(svc, p, ports, sizeof(ports));
		if (svc->otherwise == VERDICT_REJECT)
			fprintf(f, "\t\t%s dport %s counter reject with %s\n", proto_name(p), ports,
				p == PROTO_TCP ? "tcp reset" : "icmpx port-unreachable");
		else
			fprintf(f, "\t\t%s dport %s counter drop\n", proto_name(p), ports);
	}
}

int render_nft(FILE *f, const struct policy *pol)
{
	header(f, pol);
	fprintf(f, "table inet %s {}\ndelete table inet %s\ntable inet %s {\n", pol->table,
		pol->table, pol->table);
	for (size_t i = 0; i < pol->nservices; i++) {
		set_block(f, &pol->services[i], FAM_V4);
		set_block(f, &pol->services[i], FAM_V6);
	}
	fprintf(f, "\tchain input {\n\t\ttype filter hook input priority %d; policy accept;\n",
		pol->priority);
	for (size_t i = 0; i < pol->nservices; i++)
		service_rules(f, &pol->services[i]);
	fputs("\t}\n}\n", f);
	return ferror(f) ? -1 : 0;
}
