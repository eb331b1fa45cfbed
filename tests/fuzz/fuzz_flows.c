/*
 * Flow files (`verify`) on hostile bytes: flows_read() on the input, then
 * every flow read is judged by the fixed policy (fuzz_fixed_policy) as verify
 * does, with its reason text.
 *
 * Checked: a flow read is well formed (a full-length address, a port 1-65535,
 * its line within the file, a destination of its family), the service that
 * governs it is the one the README's rules name (destinations against the
 * services' 'to'), the verdict agrees with a plain scan of that service's
 * compiled set, and exactly the flows without a destination that several
 * services with 'to' govern are refused (flows_check_governed()).
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

static bool in_to(const struct service *svc, enum family f, u128 a)
{
	for (size_t k = 0; k < svc->to[f].n; k++)
		if (svc->to[f].v[k].lo <= a && a <= svc->to[f].v[k].hi)
			return true;
	return false;
}

/*
 * The service that governs the flow, by the README's rules alone. With a
 * destination: the first with the port whose 'to' of the family holds it,
 * else the first with the port and no 'to' of the family. Without: the first
 * with the port and no 'to' of the family, else the first with one (*several:
 * more than one has, an error at the flow's line).
 */
static const struct service *governs(const struct flow *fl, bool *several)
{
	const struct service *local = NULL, *to = NULL;
	enum family f = (enum family)fl->addr.family;
	size_t nto = 0;

	*several = false;
	for (size_t i = 0; i < pol.nservices; i++) {
		const struct service *svc = &pol.services[i];
		if (!service_has_port(svc, fl->proto, fl->port))
			continue;
		if (!svc->to[f].n) {
			if (!local)
				local = svc;
		} else if (!fl->has_dest || in_to(svc, f, fl->dest.addr)) {
			if (!to)
				to = svc;
			nto++;
		}
	}
	if (fl->has_dest)
		return to ? to : local;
	if (local)
		return local;
	*several = nto > 1;
	return to;
}

/* The verdict by the rules alone: the governing service's set, else its otherwise. */
static enum verdict scan(const struct service *svc, const struct flow *fl)
{
	const struct interval_set *s;

	if (!svc)
		return VERDICT_ACCEPT;
	s = &svc->set[fl->addr.family];
	for (size_t k = 0; k < s->n; k++)
		if (s->iv[k].lo <= fl->addr.addr && fl->addr.addr <= s->iv[k].hi)
			return VERDICT_ACCEPT;
	return svc->otherwise;
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
	size_t lines = count_lines(data, size), needs_dest = 0;

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

		bool several;
		const struct service *svc = governs(fl, &several);
		enum verdict v = policy_evaluate(&pol, &fl->addr, fl->proto, fl->port,
						 fl->has_dest ? &fl->dest : NULL, &why);
		FUZZ_CHECK(why.svc == svc, "flow %zu: governed by %s, the rules say %s", i,
			   why.svc ? why.svc->name : "none", svc ? svc->name : "none");
		FUZZ_CHECK(v == scan(svc, fl), "flow %zu: verdict %s, the sets say %s", i,
			   verdict_name(v), verdict_name(scan(svc, fl)));
		FUZZ_CHECK(!fl->has_dest || fl->dest.family == fl->addr.family,
			   "flow %zu: a destination of another family", i);
		needs_dest += several;
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
	/* Flows that several services with 'to' govern, and only those, are errors. */
	size_t errors = d.errors;
	flows_check_governed(&pol, &fv, &d);
	FUZZ_CHECK(d.errors - errors == needs_dest, "%zu flows need a destination, %zu errors",
		   needs_dest, d.errors - errors);
	FUZZ_CHECK(d.nmsgs <= DIAG_KEEP, "%zu messages kept", d.nmsgs);
	diag_print(&d, fuzz_null());
	diag_free(&d);
	flows_free(&fv);
	return 0;
}
