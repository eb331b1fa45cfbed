/*
 * Drives the netlink layer (src/nl/) against the kernel for tests/kernel/nl.sh and the
 * benchmark. Not installed; one command per run:
 *
 *   nl_drive open                           open the socket; print "ok" or the error
 *   nl_drive getgen                         the generation id
 *   nl_drive apply CONF [--dry-run] [--cas G] [--chunk N]
 *                                           replace the policy's table in one batch
 *   nl_drive model CONF                     the compiled intervals: "SET FIRST LAST"
 *   nl_drive ivs TABLE                      the kernel's intervals, same form (adjacent merged)
 *   nl_drive raw TABLE SET                  the kernel's intervals of one set, unmerged
 *   nl_drive read TABLE [--no-elements]     everything nl_read_table() returns, timed
 *   nl_drive fp CONF                        the rule fingerprints the policy should give
 *   nl_drive livefp TABLE                   the rule fingerprints the kernel holds
 *   nl_drive delta TABLE SET v4|v6 DELFILE ADDFILE [--cas G] [--dry-run]
 *                                           delete then add intervals ("FIRST LAST" lines)
 *
 * apply and delta print "status=OK genid=N messages=N elements=N bytes=N
 * build=S send=S" and the error on a second line; exit 0 OK, 1 ERROR,
 * 3 RESTART, 4 UNKNOWN, 2 usage or input problems.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "addr.h"
#include "diag.h"
#include "model.h"
#include "nl.h"
#include "policy.h"
#include "util.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int usage(void)
{
	fputs("usage: nl_drive open|getgen|settled GEN|apply|model|ivs|raw|read|fp|livefp|delta ...\n", stderr);
	return 2;
}

static int load_policy(const char *conf, struct policy *pol)
{
	struct diag d = { 0 };
	int rc = 0;

	if (policy_load(pol, conf, NULL, &d) < 0 || policy_compile(pol, &d) < 0)
		rc = -1;
	if (rc)
		diag_print(&d, stderr);
	diag_free(&d);
	return rc;
}

static struct nl *open_or_die(void)
{
	struct nl *nl;
	char err[256];

	if (nl_open(&nl, err, sizeof(err)) < 0) {
		fprintf(stderr, "nl_drive: %s\n", err);
		exit(1);
	}
	return nl;
}

static const char *status_name(enum nl_status s)
{
	switch (s) {
	case NL_OK:
		return "OK";
	case NL_ERROR:
		return "ERROR";
	case NL_RESTART:
		return "RESTART";
	case NL_UNKNOWN:
		return "UNKNOWN";
	}
	return "?";
}

static int report(const struct nl_result *res, double build, double send)
{
	printf("status=%s genid=%u messages=%zu elements=%zu bytes=%zu build=%.3f send=%.3f\n",
	       status_name(res->status), res->genid, res->messages, res->elements, res->bytes,
	       build, send);
	if (res->status != NL_OK)
		printf("error: %s\n", res->err);
	switch (res->status) {
	case NL_OK:
		return 0;
	case NL_ERROR:
		return 1;
	case NL_RESTART:
		return 3;
	case NL_UNKNOWN:
		return 4;
	}
	return 1;
}

static int cmd_apply(int argc, char **argv)
{
	struct policy pol;
	struct nl *nl;
	bool dry = false;
	uint32_t cas = 0;
	double t0, t1, t2, t3;

	if (argc < 1)
		return usage();
	for (int i = 1; i < argc; i++) {
		if (streq(argv[i], "--dry-run"))
			dry = true;
		else if (streq(argv[i], "--cas") && i + 1 < argc)
			cas = (uint32_t)strtoul(argv[++i], NULL, 10);
		else
			return usage();
	}
	t0 = now();
	if (load_policy(argv[0], &pol) < 0)
		return 2;
	nl = open_or_die();
	t1 = now();

	/* "add; delete; add" makes the delete valid on a first load, as render_nft.c does. */
	struct nl_batch *b = nl_batch_new(nl, cas);
	nl_batch_add_table(b, pol.table);
	nl_batch_del_table(b, pol.table);
	nl_batch_add_table(b, pol.table);
	for (size_t i = 0; i < pol.nservices; i++) {
		const struct service *svc = &pol.services[i];
		for (int f = 0; f < FAM_COUNT; f++) {
			char name[64];
			service_set_name(svc, (enum family)f, name, sizeof(name));
			nl_batch_add_set(b, pol.table, name, (enum family)f);
			nl_batch_add_interval_set(b, pol.table, name, &svc->set[f]);
		}
	}
	struct rule_plan plan;
	rule_plan_build(&pol, &plan);
	for (size_t i = 0; i < plan.nchains; i++) {
		nl_batch_add_chain(b, pol.table, &plan.chains[i]);
		nl_batch_add_rules(b, pol.table, &plan.chains[i]);
	}
	rule_plan_free(&plan);
	t2 = now();

	struct nl_result res;
	nl_batch_send(b, dry, &res);
	t3 = now();
	nl_batch_free(b);
	nl_close(nl);
	fprintf(stderr, "# compile %.3f s\n", t1 - t0);
	int rc = report(&res, t2 - t1, t3 - t2);
	policy_free(&pol);
	return rc;
}

/* "SET FIRST LAST" lines, adjacent intervals merged (as tests/lib/nftsets.py does). */
static void print_ivs(const char *set, enum family f, const struct range *iv, size_t n, bool merge)
{
	char a[ADDR_STRLEN], z[ADDR_STRLEN];

	for (size_t i = 0; i < n; i++) {
		u128 lo = iv[i].lo, hi = iv[i].hi;
		while (merge && i + 1 < n && iv[i + 1].lo == hi + 1)
			hi = iv[++i].hi;
		addr_format(lo, f, a);
		addr_format(hi, f, z);
		printf("%s %s %s\n", set, a, z);
	}
}

struct named {
	char name[64];
	enum family fam;
	const struct interval_set *s;
};

static int cmp_named(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

static int cmd_model(int argc, char **argv)
{
	struct policy pol;

	if (argc != 1)
		return usage();
	if (load_policy(argv[0], &pol) < 0)
		return 2;
	struct named *v = xcalloc(pol.nservices * FAM_COUNT + 1, sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < pol.nservices; i++)
		for (int f = 0; f < FAM_COUNT; f++) {
			service_set_name(&pol.services[i], (enum family)f, v[n].name,
					 sizeof(v[n].name));
			v[n].fam = (enum family)f;
			v[n].s = &pol.services[i].set[f];
			n++;
		}
	qsort(v, n, sizeof(*v), cmp_named);
	for (size_t i = 0; i < n; i++) {
		const struct interval_set *s = v[i].s;
		struct range *iv = xcalloc(s->n + 1, sizeof(*iv));
		for (size_t k = 0; k < s->n; k++) {
			iv[k].lo = s->iv[k].lo;
			iv[k].hi = s->iv[k].hi;
		}
		print_ivs(v[i].name, v[i].fam, iv, s->n, true);
		free(iv);
	}
	free(v);
	policy_free(&pol);
	return 0;
}

static int read_live(const char *table, bool elems, struct nl_table_live *t, double *secs)
{
	struct nl *nl = open_or_die();
	char err[512];
	double t0 = now();
	int rc = nl_read_table(nl, table, elems, t, err, sizeof(err));

	*secs = now() - t0;
	nl_close(nl);
	if (rc < 0) {
		fprintf(stderr, "nl_drive: %s\n", err);
		return -1;
	}
	return 0;
}

static int cmp_set_live(const void *a, const void *b)
{
	return strcmp(((const struct nl_set_live *)a)->name, ((const struct nl_set_live *)b)->name);
}

static int cmd_ivs(int argc, char **argv, bool raw)
{
	struct nl_table_live t;
	double secs;

	if (argc != (raw ? 2 : 1))
		return usage();
	if (read_live(argv[0], true, &t, &secs) < 0)
		return 1;
	qsort(t.sets, t.nsets, sizeof(*t.sets), cmp_set_live);
	for (size_t i = 0; i < t.nsets; i++) {
		const struct nl_set_live *s = &t.sets[i];
		if (!s->has_elems || (s->flags & 0x1 /* NFT_SET_ANONYMOUS */))
			continue;
		if (raw && !streq(s->name, argv[1]))
			continue;
		if (raw)
			fprintf(stderr, "# set %s: %zu elements, %zu intervals, %zu unpaired, genid %u, %u attempts\n",
				s->name, s->nelems, s->n, s->unpaired, t.genid, t.attempts);
		print_ivs(s->name, s->fam, s->iv, s->n, !raw);
	}
	fprintf(stderr, "# read %.3f s\n", secs);
	nl_table_live_free(&t);
	return 0;
}

static int cmd_read(int argc, char **argv)
{
	struct nl_table_live t;
	bool elems = !(argc > 1 && streq(argv[1], "--no-elements"));
	double secs;

	if (argc < 1)
		return usage();
	if (read_live(argv[0], elems, &t, &secs) < 0)
		return 1;
	printf("table %s present=%d genid=%u flags=%u attempts=%u read=%.3f\n", argv[0], t.present,
	       t.genid, t.flags, t.attempts, secs);
	for (size_t i = 0; i < t.nsets; i++) {
		const struct nl_set_live *s = &t.sets[i];
		printf("set %s flags=0x%x key_type=%u key_len=%u elements=%d nelems=%zu intervals=%zu unpaired=%zu\n",
		       s->name, s->flags, s->key_type, s->key_len, s->has_elems, s->nelems, s->n,
		       s->unpaired);
	}
	for (size_t i = 0; i < t.nchains; i++) {
		const struct nl_chain_live *c = &t.chains[i];
		printf("chain %s base=%d hook=%u prio=%d type=%s policy=%u rules=%zu\n", c->name,
		       c->base, c->hook, c->prio, c->type ? c->type : "-", c->policy, c->nrules);
	}
	for (size_t i = 0; i < t.nrules; i++) {
		const struct nl_rule_live *r = &t.rules[i];
		printf("rule %s handle=%llu counter=%d packets=%llu bytes=%llu set=%s\n", r->chain,
		       (unsigned long long)r->handle, r->has_counter,
		       (unsigned long long)r->packets, (unsigned long long)r->bytes,
		       r->set_name ? r->set_name : "-");
	}
	nl_table_live_free(&t);
	return 0;
}

static int cmd_fp(int argc, char **argv)
{
	struct policy pol;

	if (argc != 1)
		return usage();
	if (load_policy(argv[0], &pol) < 0)
		return 2;
	struct rule_plan plan;
	rule_plan_build(&pol, &plan);
	for (size_t i = 0; i < plan.nchains; i++) {
		char **fp;
		size_t n = nl_chain_fingerprints(&plan.chains[i], &fp);
		for (size_t k = 0; k < n; k++)
			printf("%s\n", fp[k]);
		nl_fingerprints_free(fp, n);
	}
	rule_plan_free(&plan);
	policy_free(&pol);
	return 0;
}

static int cmd_livefp(int argc, char **argv)
{
	struct nl_table_live t;
	double secs;

	if (argc != 1)
		return usage();
	if (read_live(argv[0], false, &t, &secs) < 0)
		return 1;
	for (size_t i = 0; i < t.nrules; i++)
		printf("%s\n", t.rules[i].fingerprint);
	nl_table_live_free(&t);
	return 0;
}

/* "FIRST LAST" lines of one family into an array. */
static struct range *read_ivs(const char *path, enum family fam, size_t *n)
{
	FILE *f = fopen(path, "r");
	struct range *iv = NULL;
	size_t cap = 0;
	char line[256], a[128], z[128];

	*n = 0;
	if (!f) {
		perror(path);
		exit(2);
	}
	while (fgets(line, sizeof(line), f)) {
		struct prefix pa, pz;
		unsigned fl;
		if (sscanf(line, "%127s %127s", a, z) != 2)
			continue;
		if (addr_parse(a, strlen(a), &pa, &fl) != PARSE_OK ||
		    addr_parse(z, strlen(z), &pz, &fl) != PARSE_OK || pa.family != fam ||
		    pz.family != fam) {
			fprintf(stderr, "%s: bad line: %s", path, line);
			exit(2);
		}
		iv = grow(iv, &cap, *n + 1, sizeof(*iv));
		iv[*n].lo = pa.addr;
		iv[*n].hi = pz.addr;
		(*n)++;
	}
	fclose(f);
	return iv;
}

static int cmd_delta(int argc, char **argv)
{
	bool dry = false;
	uint32_t cas = 0;
	size_t nd, na;

	if (argc < 5)
		return usage();
	for (int i = 5; i < argc; i++) {
		if (streq(argv[i], "--dry-run"))
			dry = true;
		else if (streq(argv[i], "--cas") && i + 1 < argc)
			cas = (uint32_t)strtoul(argv[++i], NULL, 10);
		else
			return usage();
	}
	enum family fam = streq(argv[2], "v6") ? FAM_V6 : FAM_V4;
	struct range *del = read_ivs(argv[3], fam, &nd);
	struct range *add = read_ivs(argv[4], fam, &na);
	struct nl *nl = open_or_die();
	double t0 = now();
	struct nl_batch *b = nl_batch_new(nl, cas);
	nl_batch_del_elems(b, argv[0], argv[1], fam, del, nd);
	nl_batch_add_elems(b, argv[0], argv[1], fam, add, na);
	double t1 = now();
	struct nl_result res;
	nl_batch_send(b, dry, &res);
	double t2 = now();
	nl_batch_free(b);
	nl_close(nl);
	free(del);
	free(add);
	return report(&res, t1 - t0, t2 - t1);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage();
	const char *cmd = argv[1];
	argc -= 2;
	argv += 2;
	if (streq(cmd, "open")) {
		struct nl *nl;
		char err[256];
		if (nl_open(&nl, err, sizeof(err)) < 0) {
			printf("%s\n", err);
			return 1;
		}
		nl_close(nl);
		puts("ok");
		return 0;
	}
	if (streq(cmd, "getgen")) {
		struct nl *nl = open_or_die();
		uint32_t g;
		int rc = nl_getgen(nl, &g);
		nl_close(nl);
		if (rc < 0)
			return 1;
		printf("%u\n", g);
		return 0;
	}
	if (streq(cmd, "settled") && argc == 1) {
		/* nl_gen_settled(GEN): prints 0, or the negative errno (-4: the ruleset moved on). */
		struct nl *nl = open_or_die();
		int rc = nl_gen_settled(nl, (uint32_t)strtoul(argv[0], NULL, 10));
		nl_close(nl);
		printf("%d\n", rc);
		return 0;
	}
	if (streq(cmd, "apply"))
		return cmd_apply(argc, argv);
	if (streq(cmd, "model"))
		return cmd_model(argc, argv);
	if (streq(cmd, "ivs"))
		return cmd_ivs(argc, argv, false);
	if (streq(cmd, "raw"))
		return cmd_ivs(argc, argv, true);
	if (streq(cmd, "read"))
		return cmd_read(argc, argv);
	if (streq(cmd, "fp"))
		return cmd_fp(argc, argv);
	if (streq(cmd, "livefp"))
		return cmd_livefp(argc, argv);
	if (streq(cmd, "delta"))
		return cmd_delta(argc, argv);
	return usage();
}
