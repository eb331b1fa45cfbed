/*
 * The JSON model read back by `diff --against FILE`, on hostile bytes:
 * modelfile_read() on the input, then the diff of the fixed policy
 * (fuzz_fixed_policy) against it, as text and as JSON.
 *
 * Checked: the sets read are well formed (ascending, disjoint, inside their
 * family), each source bit names a source read, a refused file leaves
 * nothing allocated, and the printed diff agrees with diff_count().
 */
#include <string.h>

#include "diag.h"
#include "diffview.h"
#include "fuzz.h"
#include "fuzz_fixtures.h"
#include "modelfile.h"

static struct policy pol;
static struct set_list want;
static const char *path;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_fixed_policy(&pol);
	wanted_sets_from_policy(&pol, &want);
	path = fuzz_path("input.json");
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct set_list file;
	struct diff_totals t1, t2, t3;
	struct diag d = { 0 };

	fuzz_write(path, data, size);
	if (modelfile_read(path, &file, &d) < 0) {
		FUZZ_CHECK(d.errors > 0, "refused without an error");
		FUZZ_CHECK(!file.v && !file.n && !file.source_names && !file.nsource_names,
			   "a refused model keeps allocations");
		diag_print(&d, fuzz_null());
		diag_free(&d);
		return 0;
	}
	FUZZ_CHECK(d.errors == 0, "read with %zu errors", d.errors);
	fuzz_check_views(&file);
	for (size_t i = 0; i < file.n; i++) {
		const struct set_content *v = &file.v[i];
		FUZZ_CHECK(v->known && v->sources, "set %zu: known %d", i, v->known);
		for (size_t k = 0; k < v->iv.n; k++)
			FUZZ_CHECK(file.nsource_names >= 64 ||
					   !(v->sources[k] >> file.nsource_names),
				   "set %s: interval %zu has a bit for no source", v->name, k);
	}
	for (size_t i = 0; i < file.nsource_names; i++)
		FUZZ_CHECK(file.source_names[i] != NULL, "source name %zu", i);

	diff_print(fuzz_null(), &pol, &file, &want, NULL, false, &t1);
	diff_print(fuzz_null(), &pol, &file, &want, "structure differs", true, &t2);
	diff_count(&file, &want, &t3);
	FUZZ_CHECK(t1.prefixes_added == t3.prefixes_added && t2.prefixes_added == t3.prefixes_added &&
			   t1.prefixes_removed == t3.prefixes_removed && t1.changed == t3.changed &&
			   t1.v4_gained == t3.v4_gained && t1.v4_lost == t3.v4_lost &&
			   t1.v6_gained == t3.v6_gained && t1.v6_lost == t3.v6_lost,
		   "diff_print and diff_count disagree");
	set_list_free(&file);
	diag_free(&d);
	return 0;
}
