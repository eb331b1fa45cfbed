/*
 * The saved ruleset's reader (what `restore` and `monitor` read back) on
 * hostile bytes: saved_parse(), then what monitor does with what it read.
 *
 * Checked: a refused input says why and keeps nothing; an accepted one names
 * its table, every set has a name and a family, every element is one CIDR
 * of that family, and the skeleton is the input less lines (never longer,
 * never an element line in it); comparing a set with itself, and with its
 * merged form when its elements ascend, says the same addresses.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "saved.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct saved_ruleset s;
	char err[256];

	memset(err, 'x', sizeof(err));
	if (saved_parse("fuzz.nft", (const char *)data, size, &s, err, sizeof(err)) < 0) {
		FUZZ_CHECK(memchr(err, '\0', sizeof(err)) && err[0], "no reason for a refusal");
		FUZZ_CHECK(!s.table && !s.sets && !s.nsets && !s.skeleton,
			   "a refused ruleset keeps allocations");
		return 0;
	}
	FUZZ_CHECK(s.table != NULL, "no table");
	FUZZ_CHECK(s.skeleton && s.skeleton_len <= size && strlen(s.skeleton) <= s.skeleton_len,
		   "skeleton of %zu bytes from %zu", s.skeleton_len, size);
	FUZZ_CHECK(!memmem(s.skeleton, s.skeleton_len, "\n\t\telements = {\n", 16) &&
			   strncmp(s.skeleton, "\t\telements = {\n", 15) != 0,
		   "an element block left in the skeleton");
	for (size_t i = 0; i < s.nsets; i++) {
		const struct saved_set *ss = &s.sets[i];
		FUZZ_CHECK(ss->name != NULL, "set %zu has no name", i);
		FUZZ_CHECK(ss->fam == FAM_V4 || ss->fam == FAM_V6 || !ss->iv.n,
			   "set %s has elements and no family", ss->name);
		bool ascending = true;
		for (size_t k = 0; k < ss->iv.n; k++) {
			u128 lo = ss->iv.v[k].lo, hi = ss->iv.v[k].hi, n = hi - lo + 1;
			FUZZ_CHECK(lo <= hi && hi <= fam_max(ss->fam), "set %s: range %zu", ss->name, k);
			FUZZ_CHECK(n == 0 || ((n & (n - 1)) == 0 && (lo & (n - 1)) == 0),
				   "set %s: element %zu is not one CIDR", ss->name, k);
			if (k && lo <= ss->iv.v[k - 1].hi)
				ascending = false;
		}
		FUZZ_CHECK(ranges_same_addresses(ss->iv.v, ss->iv.n, ss->iv.v, ss->iv.n),
			   "set %s differs from itself", ss->name);
		if (ascending) {
			struct range_vec m = { 0 };
			for (size_t k = 0; k < ss->iv.n; k++)
				range_vec_push(&m, ss->iv.v[k].lo, ss->iv.v[k].hi);
			ranges_normalize(&m);
			FUZZ_CHECK(ranges_same_addresses(ss->iv.v, ss->iv.n, m.v, m.n),
				   "set %s differs from its merged form", ss->name);
			range_vec_free(&m);
		}
	}
	saved_ruleset_free(&s);
	return 0;
}
