/*
 * The policy file on hostile bytes: policy_load() on the input, and when it
 * loads, policy_compile() against the fixture feeds beside it (relays.txt,
 * endpoints.json, ...: the file names the golden cases use), then what
 * `build` does: the empty-service check, the nft script, the JSON model.
 *
 * A source whose file is a path (a '/' in it) is not compiled: the harness
 * reads only its own directory. Checked: services name existing sources,
 * ports are ranges, sets are merged and hold their inputs, every input's
 * origin names a source that the service uses, the JSON model parses and
 * reads back as the same sets.
 */
#include <string.h>

#include "diag.h"
#include "fuzz.h"
#include "fuzz_fixtures.h"
#include "render.h"

static const char *conf;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_fixtures_install();
	conf = fuzz_path("policy.conf");
	return 0;
}

static bool paths_inside(const struct policy *pol)
{
	for (size_t i = 0; i < pol->nsources; i++)
		if (pol->sources[i].file && strchr(pol->sources[i].file, '/'))
			return false;
	return true;
}

static void check_loaded(const struct policy *pol)
{
	FUZZ_CHECK(pol->table && pol->path, "no table name or path");
	for (size_t i = 0; i < pol->nservices; i++) {
		const struct service *svc = &pol->services[i];
		FUZZ_CHECK(svc->nsources <= svc->nsource_names, "service %s: %zu of %zu sources",
			   svc->name, svc->nsources, svc->nsource_names);
		for (size_t k = 0; k < svc->nsources; k++)
			FUZZ_CHECK(svc->sources[k] < pol->nsources && pol->sources[svc->sources[k]].used_by,
				   "service %s: source index %u", svc->name, svc->sources[k]);
		for (size_t k = 0; k < svc->nports; k++)
			FUZZ_CHECK(svc->ports[k].lo >= 1 && svc->ports[k].lo <= svc->ports[k].hi,
				   "service %s: port range %u-%u", svc->name, svc->ports[k].lo,
				   svc->ports[k].hi);
	}
}

static void check_compiled(const struct policy *pol)
{
	char where[1024], name[64];

	for (size_t i = 0; i < pol->nservices; i++) {
		const struct service *svc = &pol->services[i];
		for (int f = 0; f < FAM_COUNT; f++) {
			const struct interval_set *s = &svc->set[f];
			service_set_name(svc, (enum family)f, name, sizeof(name));
			fuzz_check_iset(s, name);
			for (size_t j = 0; j < s->in.n; j++) {
				struct origin o = policy_origin(pol, s->in.v[j].origin);
				bool used = false;
				for (size_t k = 0; k < svc->nsources; k++)
					used |= svc->sources[k] == o.src;
				FUZZ_CHECK(used, "%s: input %zu comes from source %u, not the service's",
					   name, j, o.src);
				origin_where(pol, s->in.v[j].origin, where, sizeof(where));
			}
			for (size_t k = 0; k < svc->nports; k++)
				FUZZ_CHECK(service_has_port(svc, svc->ports[k].proto, svc->ports[k].hi),
					   "%s: port %u not governed", svc->name, svc->ports[k].hi);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy pol;
	struct diag d = { 0 };

	fuzz_write(conf, data, size);
	if (policy_load(&pol, conf, NULL, &d) == 0) {
		check_loaded(&pol);
		if (paths_inside(&pol) && policy_compile(&pol, &d) == 0) {
			check_compiled(&pol);
			if (policy_empty_services(&pol, &d) == 0) {
				FUZZ_CHECK(render_nft(fuzz_null(), &pol) == 0, "render_nft failed");
				fuzz_check_model(&pol);
			}
		}
	}
	FUZZ_CHECK(d.nmsgs <= DIAG_KEEP, "%zu messages kept", d.nmsgs);
	diag_print(&d, fuzz_null());
	diag_free(&d);
	policy_free(&pol);
	return 0;
}
