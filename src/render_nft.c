/*
 * The nft script: one table, replaced whole by one `nft -f` transaction; its
 * sets, chains and rules are those of the rule plan (ruleplan.h).
 * "table ... {}" then "delete table" makes the delete valid on a first load.
 * Byte-identical for identical inputs: no timestamps, policy order.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "feed.h"
#include "render.h"
#include "ruleplan.h"
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
		if (src->loaded)
			fprintf(f, ", %zu prefixes (%zu IPv4, %zu IPv6)",
				src->count[FAM_V4] + src->count[FAM_V6], src->count[FAM_V4],
				src->count[FAM_V6]);
		fputc('\n', f);
	}
	for (size_t i = 0; i < pol->nservices; i++) {
		const struct service *svc = &pol->services[i];
		char buf[32], addrs[48];
		fprintf(f, "# service %s:", svc->name);
		for (size_t k = 0; k < svc->nports; k++) {
			portrange_format(&svc->ports[k], buf, sizeof(buf));
			fprintf(f, " %s", buf);
		}
		u128_format(interval_set_addresses(&svc->set[FAM_V4]), addrs);
		fprintf(f, "; %zu IPv4 intervals (%s addresses), %zu IPv6 intervals; otherwise %s\n",
			svc->set[FAM_V4].n, addrs, svc->set[FAM_V6].n, verdict_name(svc->otherwise));
	}
}

/*
 * A million elements take longer to print than to merge. The intervals are
 * cut into chunks that this thread and a helper format, each taking the
 * next chunk nobody has taken, into a ring of buffers that are reused; this
 * thread writes the chunks in order as they are done. The output does not
 * depend on the threads, and the text is never all in memory at once.
 */
#define CHUNK_INTERVALS 8192
#define CHUNK_SLOTS 8
#define PARALLEL_MIN 65536 /* intervals: below this, one thread */

/* Room for the cover of one interval: at most 2 * 128 CIDRs of 56 bytes. */
#define INTERVAL_TEXT_MAX (256 * 56)

struct text_buf {
	char *p;
	size_t len, cap;
	bool done; /* formatted, not yet written */
};

struct element_chunks {
	const struct interval_set *set;
	size_t chunks, next_take, next_write;
	/* Chunk j is formatted in slot j % CHUNK_SLOTS, once chunk j - CHUNK_SLOTS is written. */
	struct text_buf slot[CHUNK_SLOTS];
	pthread_mutex_t lock;
	pthread_cond_t changed;
};

/* The element lines of chunk j. */
static void format_chunk(const struct interval_set *s, size_t j, struct text_buf *b)
{
	size_t from = j * CHUNK_INTERVALS, to = from + CHUNK_INTERVALS;
	struct prefix cover[256];

	if (to > s->n)
		to = s->n;
	b->len = 0;
	for (size_t i = from; i < to; i++) {
		if (b->cap - b->len < INTERVAL_TEXT_MAX) {
			b->cap = b->cap * 2 + INTERVAL_TEXT_MAX;
			b->p = xrealloc(b->p, b->cap);
		}
		size_t k = cidr_cover(s->iv[i].lo, s->iv[i].hi, s->fam, cover);
		char *p = b->p + b->len;
		for (size_t c = 0; c < k; c++) {
			/* Separator first: the first element of the set has none. */
			if (i || c)
				*p++ = ',';
			memcpy(p, "\n\t\t\t", 4);
			p += 4;
			p += prefix_format(&cover[c], p);
		}
		b->len = (size_t)(p - b->p);
	}
}

/* Take the next chunk whose slot is free, or return false. Under the lock. */
static bool take_chunk(struct element_chunks *ec, size_t *j)
{
	if (ec->next_take >= ec->chunks || ec->next_take >= ec->next_write + CHUNK_SLOTS)
		return false;
	*j = ec->next_take++;
	return true;
}

static void format_taken(struct element_chunks *ec, size_t j)
{
	struct text_buf *b = &ec->slot[j % CHUNK_SLOTS];

	pthread_mutex_unlock(&ec->lock);
	format_chunk(ec->set, j, b);
	pthread_mutex_lock(&ec->lock);
	b->done = true;
	pthread_cond_broadcast(&ec->changed);
}

static void *format_helper(void *arg)
{
	struct element_chunks *ec = arg;
	size_t j;

	pthread_mutex_lock(&ec->lock);
	while (ec->next_take < ec->chunks) {
		if (take_chunk(ec, &j))
			format_taken(ec, j);
		else
			pthread_cond_wait(&ec->changed, &ec->lock);
	}
	pthread_mutex_unlock(&ec->lock);
	return NULL;
}

static void write_elements(FILE *f, const struct interval_set *s)
{
	struct element_chunks ec = {
		.set = s,
		.chunks = (s->n + CHUNK_INTERVALS - 1) / CHUNK_INTERVALS,
		.lock = PTHREAD_MUTEX_INITIALIZER,
		.changed = PTHREAD_COND_INITIALIZER,
	};
	pthread_t t;
	bool helped = false;
	size_t j;

	if (s->n >= PARALLEL_MIN)
		helped = pthread_create(&t, NULL, format_helper, &ec) == 0;
	pthread_mutex_lock(&ec.lock);
	while (ec.next_write < ec.chunks) {
		struct text_buf *b = &ec.slot[ec.next_write % CHUNK_SLOTS];
		if (b->done) {
			/* Written outside the lock: the helper may format meanwhile. */
			pthread_mutex_unlock(&ec.lock);
			fwrite(b->p, 1, b->len, f);
			pthread_mutex_lock(&ec.lock);
			b->done = false;
			ec.next_write++;
			pthread_cond_broadcast(&ec.changed);
		} else if (take_chunk(&ec, &j)) {
			format_taken(&ec, j);
		} else {
			pthread_cond_wait(&ec.changed, &ec.lock);
		}
	}
	pthread_mutex_unlock(&ec.lock);
	if (helped)
		pthread_join(t, NULL);
	for (int k = 0; k < CHUNK_SLOTS; k++)
		free(ec.slot[k].p);
}

static void set_block(FILE *f, const struct rule_set *ps)
{
	const struct interval_set *s = &ps->svc->set[ps->fam];

	fprintf(f, "\tset %s {\n\t\ttype %s\n\t\tflags interval\n", ps->name,
		ps->fam == FAM_V4 ? "ipv4_addr" : "ipv6_addr");
	if (s->n) {
		fputs("\t\telements = {", f);
		write_elements(f, s);
		fputs("\n\t\t}\n", f);
	}
	fputs("\t}\n", f);
}

/* "25", "1000-2000", "{ 25, 587, 1000-2000 }" */
static void dport_expr(FILE *f, const struct rule_ports *pp)
{
	if (pp->n > 1)
		fputs("{ ", f);
	for (size_t i = 0; i < pp->n; i++) {
		fprintf(f, "%s%u", i ? ", " : "", (unsigned)pp->v[i].lo);
		if (pp->v[i].hi != pp->v[i].lo)
			fprintf(f, "-%u", (unsigned)pp->v[i].hi);
	}
	if (pp->n > 1)
		fputs(" }", f);
}

/* "192.0.2.25", "192.0.2.0/26", "{ 192.0.2.25, 203.0.113.0/28 }": nft merges what touches. */
static void dest_expr(FILE *f, const struct rule_dests *d)
{
	struct prefix cover[256];
	char text[PREFIX_STRLEN];
	bool first = true;

	if (d->single) {
		if (d->one.plen == fam_bits(d->fam))
			addr_format(d->one.addr, d->fam, text);
		else
			prefix_format(&d->one, text);
		fputs(text, f);
		return;
	}
	fputs("{ ", f);
	for (size_t i = 0; i < d->n; i++) {
		size_t c = cidr_cover(d->v[i].lo, d->v[i].hi, d->fam, cover);
		for (size_t k = 0; k < c; k++) {
			if (cover[k].plen == fam_bits(d->fam))
				addr_format(cover[k].addr, d->fam, text);
			else
				prefix_format(&cover[k], text);
			fprintf(f, "%s%s", first ? "" : ", ", text);
			first = false;
		}
	}
	fputs(" }", f);
}

static void rule_line(FILE *f, const struct rule_spec *r)
{
	switch (r->dest) {
	case RULE_DEST_ANY:
		if (r->only_fam >= 0)
			fprintf(f, "\t\tmeta nfproto %s", r->only_fam == FAM_V4 ? "ipv4 " : "ipv6 ");
		else
			fputs("\t\t", f);
		fprintf(f, "%s dport ", proto_name(r->ports.proto));
		dport_expr(f, &r->ports);
		break;
	case RULE_DEST_ORIGINAL:
		/* Replies carry the same original tuple: the direction keeps them out. */
		fprintf(f, "\t\tmeta l4proto %s ct direction original ct original proto-dst ",
			proto_name(r->ports.proto));
		dport_expr(f, &r->ports);
		fprintf(f, " ct original %s daddr ", r->to->fam == FAM_V4 ? "ip" : "ip6");
		dest_expr(f, r->to);
		break;
	}
	if (r->from)
		fprintf(f, " %s saddr @%s", r->from->fam == FAM_V4 ? "ip" : "ip6", r->from->name);
	if (r->counter)
		fputs(" counter", f);
	switch (r->verdict) {
	case VERDICT_ACCEPT:
		fputs(" accept\n", f);
		break;
	case VERDICT_DROP:
		fputs(" drop\n", f);
		break;
	case VERDICT_REJECT:
		fprintf(f, " reject with %s\n",
			r->ports.proto == PROTO_TCP ? "tcp reset" : "icmpx port-unreachable");
		break;
	}
}

static void chain_block(FILE *f, const struct rule_chain *c)
{
	fprintf(f, "\tchain %s {\n\t\ttype filter hook %s priority %d; policy %s;\n", c->name,
		rule_hook_name(c->hook), c->priority, verdict_name(c->policy));
	for (size_t i = 0; i < c->nrules; i++)
		rule_line(f, &c->rules[i]);
	fputs("\t}\n", f);
}

int render_nft(FILE *f, const struct policy *pol)
{
	struct rule_plan plan;

	rule_plan_build(pol, &plan);
	header(f, pol);
	fprintf(f, "table inet %s {}\ndelete table inet %s\ntable inet %s {\n", plan.table,
		plan.table, plan.table);
	for (size_t i = 0; i < plan.nsets; i++)
		set_block(f, &plan.sets[i]);
	for (size_t i = 0; i < plan.nchains; i++)
		chain_block(f, &plan.chains[i]);
	fputs("}\n", f);
	rule_plan_free(&plan);
	return ferror(f) ? -1 : 0;
}
