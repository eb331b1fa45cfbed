#include "plan_make.h"

#include <endian.h>
#include <linux/netfilter/nf_tables.h>
#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cache.h"
#include "feed.h"
#include "nl.h"
#include "util.h"

static void __attribute__((format(printf, 2, 3))) dig(EVP_MD_CTX *ctx, const char *fmt, ...)
{
	char line[8192];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	EVP_DigestUpdate(ctx, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

void plan_live_digest(const struct kernel_view *live, char out[SHA256_HEX])
{
	static const char hex[] = "0123456789abcdef";
	const struct nl_table_live *t = &live->table;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char md[EVP_MAX_MD_SIZE], key[32];
	unsigned n = 0;

	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
		memset(out, 'x', 64);
		out[64] = '\0';
		EVP_MD_CTX_free(ctx);
		return;
	}
	dig(ctx, "mxfence live 1\n");
	if (!t->present) {
		dig(ctx, "absent\n");
		goto done;
	}
	dig(ctx, "table flags %u\n", t->flags);
	for (size_t i = 0; i < t->nsets; i++) {
		const struct nl_set_live *s = &t->sets[i];
		/* Anonymous sets are a rule's ports or destinations: their content is in its fingerprint. */
		if (s->flags & NFT_SET_ANONYMOUS)
			continue;
		dig(ctx, "set %s key %u %u flags %u\n", s->name ? s->name : "", s->key_type, s->key_len,
		    s->flags);
	}
	for (size_t i = 0; i < t->nchains; i++) {
		const struct nl_chain_live *c = &t->chains[i];
		dig(ctx, "chain %s type %s base %d hook %u prio %d policy %u rules %zu\n",
		    c->name ? c->name : "", c->type ? c->type : "-", c->base, c->hook, c->prio,
		    c->policy, c->nrules);
	}
	for (size_t i = 0; i < t->nrules; i++) {
		const struct nl_rule_live *r = &t->rules[i];
		dig(ctx, "rule %s set %s %s\n", r->chain ? r->chain : "",
		    r->set_name ? r->set_name : "-", r->fingerprint ? r->fingerprint : "");
	}
	for (size_t i = 0; i < live->sets.n; i++) {
		const struct set_content *v = &live->sets.v[i];
		dig(ctx, "elements %s %s %d %zu\n", v->name, fam_name(v->fam), v->known, v->iv.n);
		for (size_t k = 0; k < v->iv.n; k++) {
			uint64_t w[4] = { htobe64((uint64_t)(v->iv.v[k].lo >> 64)),
					  htobe64((uint64_t)v->iv.v[k].lo),
					  htobe64((uint64_t)(v->iv.v[k].hi >> 64)),
					  htobe64((uint64_t)v->iv.v[k].hi) };
			memcpy(key, w, sizeof(key));
			EVP_DigestUpdate(ctx, key, sizeof(key));
		}
	}
done:
	EVP_DigestFinal_ex(ctx, md, &n);
	EVP_MD_CTX_free(ctx);
	for (unsigned i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

/* The source bits of the wanted interval [lo, hi]. */
static uint64_t bits_of(const struct set_content *w, u128 lo)
{
	ssize_t k = ranges_find(w->iv.v, w->iv.n, lo);
	return k >= 0 && w->sources ? w->sources[k] : 0;
}

int plan_make(const struct plan_inputs *in, struct plan *p, char *err, size_t errlen)
{
	const struct policy *pol = in->pol;
	const struct kernel_view *live = in->live;
	bool over = removal_refused(in->gates, in->want->n);
	char e[512];

	memset(p, 0, sizeof(*p));
	p->created = in->created;
	p->table = xstrdup(pol->table);
	p->priority = pol->priority;
	p->nservices = pol->nservices;
	p->services = xcalloc(pol->nservices, sizeof(*p->services));
	for (size_t i = 0; i < pol->nservices; i++) {
		const struct service *svc = &pol->services[i];
		struct plan_service *ps = &p->services[i];
		ps->name = xstrdup(svc->name);
		ps->nports = svc->nports;
		ps->ports = xcalloc(svc->nports, sizeof(*ps->ports));
		memcpy(ps->ports, svc->ports, svc->nports * sizeof(*ps->ports));
		ps->otherwise = svc->otherwise;
		for (int f = 0; f < FAM_COUNT; f++)
			range_vec_copy(&ps->to[f], &svc->to[f]);
		diff_view_service(in->dv, i, &ps->totals);
		ps->totals.changed = false;
	}
	p->netns = netns_inode();
	p->genid = live->table.genid;
	p->table_present = live->table.present;
	plan_live_digest(live, p->against);

	p->policy_path = xstrdup(pol->path);
	if (sha256_file(pol->path, p->policy_sha256, e, sizeof(e)) < 0) {
		snprintf(err, errlen, "%s", e);
		goto fail;
	}
	p->nsources = pol->nsources;
	p->sources = xcalloc(pol->nsources ? pol->nsources : 1, sizeof(*p->sources));
	for (size_t i = 0; i < pol->nsources; i++) {
		const struct source *src = &pol->sources[i];
		struct plan_source *ps = &p->sources[i];
		ps->name = xstrdup(src->name);
		ps->format = xstrdup(src->fmt->name);
		ps->version = src->version && src->version[0] ? xstrdup(src->version) : NULL;
		if (sha256_file(src->path, ps->sha256, e, sizeof(e)) < 0) {
			snprintf(err, errlen, "source %s: %s", src->name, e);
			goto fail;
		}
	}

	p->nsets = in->want->n;
	p->sets = xcalloc(p->nsets ? p->nsets : 1, sizeof(*p->sets));
	p->gates = xcalloc(p->nsets ? p->nsets : 1, sizeof(*p->gates));
	p->verdict = !over ? PLAN_GATES_OK : in->force ? PLAN_GATES_FORCED : PLAN_GATES_REFUSED;
	p->change = live->table.present && live->structure_ok ? PLAN_DELTA : PLAN_REPLACE;
	if (p->change == PLAN_REPLACE)
		p->why = xstrdup(live->table.present ? live->why : "first install");
	for (size_t i = 0; i < p->nsets; i++) {
		const struct set_content *w = &in->want->v[i];
		struct plan_set *s = &p->sets[i];
		snprintf(s->name, sizeof(s->name), "%s", w->name);
		s->service = (size_t)(w->svc - pol->services);
		s->fam = w->fam;
		p->gates[i].over = in->gates[i].over;
		p->gates[i].lost = in->gates[i].lost;
		p->gates[i].had = in->gates[i].had;
		p->gates[i].max = in->gates[i].max;
		if (p->change == PLAN_REPLACE) {
			for (size_t k = 0; k < w->iv.n; k++)
				range_vec_push(&s->full, w->iv.v[k].lo, w->iv.v[k].hi);
			s->bits = xcalloc(w->iv.n ? w->iv.n : 1, sizeof(*s->bits));
			for (size_t k = 0; w->sources && k < w->iv.n; k++)
				s->bits[k] = w->sources[k];
		} else {
			const struct set_content *l = set_list_find(&live->sets, w->name);
			ranges_delta(l->iv.v, l->iv.n, w->iv.v, w->iv.n, &s->del, &s->add);
			s->bits = xcalloc(s->add.n ? s->add.n : 1, sizeof(*s->bits));
			for (size_t k = 0; k < s->add.n; k++)
				s->bits[k] = bits_of(w, s->add.v[k].lo);
		}
	}
	return 0;
fail:
	plan_free(p);
	return -1;
}

int plan_run(const struct policy *pol, const struct plan_options *o, struct plan_run *r, char *err,
	     size_t errlen)
{
	const char *structure = NULL;
	struct nl *nl = NULL;
	int rc;

	memset(r, 0, sizeof(*r));
	wanted_sets_from_policy(pol, &r->want);
	if (nl_open(&nl, err, errlen) < 0)
		return -1;
	rc = kernel_view_read(nl, pol, o->state_dir, o->full_dump, &r->live, err, errlen);
	nl_close(nl);
	if (rc < 0)
		return -1;
	r->have_live = true;
	if (!r->live.structure_ok && r->live.table.present)
		structure = r->live.why;
	else if (!r->live.table.present)
		structure = "absent";
	snprintf(r->against, sizeof(r->against), "what the kernel holds (%sgeneration %u)",
		 r->live.table.present ? "" : "no table; ", r->live.table.genid);
	diff_view_compute(&r->dv, pol, &r->live.sets, &r->want, structure);
	r->have_view = true;
	r->ngates = removal_verdicts(&r->live.sets, &r->want, &r->gates);
	struct plan_inputs in = { .pol = pol, .live = &r->live, .want = &r->want, .dv = &r->dv,
				  .gates = r->gates, .force = o->force,
				  .created = (int64_t)time(NULL) };
	if (plan_make(&in, &r->plan, err, errlen) < 0)
		return -1;
	r->have_plan = true;
	return plan_write(o->path, &r->plan, o->mode, r->sha256, err, errlen);
}

void plan_run_free(struct plan_run *r)
{
	if (r->have_plan)
		plan_free(&r->plan);
	if (r->have_view)
		diff_view_free(&r->dv);
	free(r->gates);
	if (r->have_live)
		kernel_view_free(&r->live);
	set_list_free(&r->want);
	memset(r, 0, sizeof(*r));
}
