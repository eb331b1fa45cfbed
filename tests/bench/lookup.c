/*
 * Lookups per second of the compiled model.
 *   lookup CONF [v4|v6] [N] [SEED]
 * Loads and compiles the policy, takes the first service with a non-empty set
 * of that family, draws N addresses up front (v4: uniform over the whole space;
 * v6: half uniform in 2000::/3, half inside the set) and times interval_set_lookup()
 * over them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "model.h"
#include "policy.h"

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(s, &end, 0);
	return (errno || !*s || *end) ? -1 : 0;
}

static void usage(void)
{
	fputs("usage: lookup CONF [v4|v6] [N] [SEED]\n", stderr);
	exit(2);
}

static u128 rand_v6(void)
{
	u128 a = ((u128)rng_next() << 64) | rng_next();

	return (a & ~((u128)7 << 125)) | ((u128)1 << 125);
}

/* An address inside interval iv, spread over it. */
static u128 rand_inside(const struct interval *iv)
{
	u128 span = iv->hi - iv->lo;
	u128 r = ((u128)rng_next() << 64) | rng_next();

	return span == ~(u128)0 ? r : iv->lo + r % (span + 1);
}

int main(int argc, char **argv)
{
	enum family fam = FAM_V4;
	uint64_t n = 10000000, seed = 1;
	struct policy pol;
	struct diag d = { 0 };
	const struct interval_set *set = NULL;

	if (argc < 2 || argc > 5)
		usage();
	if (argc > 2) {
		if (strcmp(argv[2], "v4") == 0)
			fam = FAM_V4;
		else if (strcmp(argv[2], "v6") == 0)
			fam = FAM_V6;
		else
			usage();
	}
	if ((argc > 3 && (parse_u64(argv[3], &n) < 0 || n == 0)) ||
	    (argc > 4 && parse_u64(argv[4], &seed) < 0))
		usage();
	/* Not the stream gen.c draws the prefixes from. */
	rng_state = seed ^ 0x6c6f6f6b75700000ull;

	double t0 = now();
	if (policy_load(&pol, argv[1], NULL, &d) < 0 || policy_compile(&pol, &d) < 0) {
		diag_print(&d, stderr);
		fprintf(stderr, "lookup: %s does not compile\n", argv[1]);
		return 1;
	}
	diag_free(&d);
	double t1 = now();

	for (size_t i = 0; i < pol.nservices && !set; i++)
		if (pol.services[i].set[fam].n)
			set = &pol.services[i].set[fam];
	if (!set) {
		fprintf(stderr, "lookup: no service has %s prefixes\n", fam_name(fam));
		return 1;
	}

	double ti0 = now();
	interval_set_index((struct interval_set *)set);
	double index_s = now() - ti0;

	u128 *addrs = malloc(n * sizeof(*addrs));
	if (!addrs) {
		fprintf(stderr, "lookup: out of memory\n");
		return 1;
	}
	for (uint64_t i = 0; i < n; i++) {
		if (fam == FAM_V4)
			addrs[i] = (uint32_t)(rng_next() >> 32);
		else if (i & 1)
			addrs[i] = rand_v6();
		else
			addrs[i] = rand_inside(&set->iv[rng_next() % set->n]);
	}

	uint64_t hits = 0, sum = 0;
	double t2 = now();
	for (uint64_t i = 0; i < n; i++) {
		const struct interval *iv = interval_set_lookup(set, addrs[i]);
		if (iv) {
			hits++;
			sum += (uint64_t)(iv - set->iv) + i;
		}
	}
	double t3 = now();

	printf("model: %s, %zu intervals, load+compile %.3f s, lookup index %.3f s\n", fam_name(fam), set->n, t1 - t0, index_s);
	printf("lookups: %" PRIu64 " in %.3f s = %.2f M/s (%.1f ns each; hits %" PRIu64
	       ", checksum %016" PRIx64 ")\n",
	       n, t3 - t2, (double)n / (t3 - t2) / 1e6, (t3 - t2) * 1e9 / (double)n, hits, sum);
	free(addrs);
	policy_free(&pol);
	return 0;
}
