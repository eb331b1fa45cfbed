/*
 * Flow files (`verify`) on hostile bytes: flows_read() on the input, then
 * every flow read is judged by the fixed policy (fuzz_fixed_policy) as verify
 * does, with its reason text.
 *
 * Checked: a flow read is well formed (a full-length address, a port 1-65535,
 * its line within the file), and the verdict agrees with a plain scan of the
 * compiled sets.
 */
#include <string.h>

#include "diag.h"
#include "flows.h"
#include "fuzz.h"
#include "fuzz_fixtures.h"

static struct policy pol;
static const char *path;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_fixed_policy(&pol);
	/* As verify does: lookups go through the index. */
	for (size_t i = 0; i < pol.nservices; i++)
		for (int f = 0; f < FAM_COUNT; f++)
			interval_set_index(&pol.services[i].set[f]);
	path = fuzz_path("flows.txt");
	return 0;
}

/* The verdict by the rules alone: the first service that governs the port decides. */
static enum verdict scan(const struct flow *fl)
{
	for (size_t i = 0; i < pol.nservices; i++) {
		const struct service *svc = &pol.services[i];
		const struct interval_set *s = &svc->set[fl->addr.family];
		if (!service_has_port(svc, fl->proto, fl->port))
			continue;
		for (size_t k = 0; k < s->n; k++)
			if (s->iv[k].lo <= fl->addr.addr && fl->addr.addr <= s->iv[k].hi)
				return VERDICT_ACCEPT;
		return svc->otherwise;
	}
	return VERDICT_ACCEPT;
}

static size_t count_lines(const uint8_t *data, size_t size)
{
	size_t n = 0;

	for (size_t i = 0; i < size; i++)
		n += data[i] == '\n';
	return n + (size && data[size - 1] != '\n');
}

static void covering(const struct policy *p, const struct input_prefix *px, enum family f, void *arg)
{
	char where[512];

	(void)f;
	origin_where(p, px->origin, where, sizeof(where));
	++*(size_t *)arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct flow_vec fv = { 0 };
	struct diag d = { 0 };
	size_t lines = count_lines(data, size);

	fuzz_write(path, data, size);
	flows_read(path, &fv, &d);
	for (size_t i = 0; i < fv.n; i++) {
		const struct flow *fl = &fv.v[i];
		struct verdict_why why;
		char reason[1024], small[24];
		size_t covers = 0;

		FUZZ_CHECK(fl->line >= 1 && fl->line <= lines && (i == 0 || fl->line > fv.v[i - 1].line),
			   "flow %zu at line %u of %zu", i, fl->line, lines);
		FUZZ_CHECK(fl->expect <= VERDICT_REJECT && fl->proto <= PROTO_UDP &&
				   fl->port >= 1 && fl->port <= 65535,
			   "flow %zu: expect %d proto %d port %u", i, fl->expect, fl->proto, fl->port);
		FUZZ_CHECK(fl->addr.family <= FAM_V6 && fl->addr.plen == fam_bits(fl->addr.family) &&
				   fl->addr.addr <= fam_max(fl->addr.family),
			   "flow %zu: not an address", i);

		enum verdict v = policy_evaluate(&pol, &fl->addr, fl->proto, fl->port,
						 fl->has_dest ? &fl->dest : NULL, &why);
		FUZZ_CHECK(v == scan(fl), "flow %zu: verdict %s, the sets say %s", i, verdict_name(v),
			   verdict_name(scan(fl)));
		FUZZ_CHECK(!why.iv || (why.iv->lo <= fl->addr.addr && fl->addr.addr <= why.iv->hi),
			   "flow %zu: the interval given does not hold the address", i);
		verdict_reason(&pol, &fl->addr, fl->proto, fl->port, &why, reason, sizeof(reason));
		FUZZ_CHECK(memchr(reason, '\0', sizeof(reason)), "reason unterminated");
		verdict_reason(&pol, &fl->addr, fl->proto, fl->port, &why, small, sizeof(small));
		FUZZ_CHECK(memchr(small, '\0', sizeof(small)), "short reason unterminated");
		covering_inputs(&pol, &why, fl->addr.addr, covering, &covers);
		FUZZ_CHECK(!why.iv == !covers, "flow %zu: %zu inputs cover an address %s", i, covers,
			   why.iv ? "in a set" : "in no set");
	}
	FUZZ_CHECK(d.nmsgs <= DIAG_KEEP, "%zu messages kept", d.nmsgs);
	diag_print(&d, fuzz_null());
	diag_free(&d);
	flows_free(&fv);
	return 0;
}
