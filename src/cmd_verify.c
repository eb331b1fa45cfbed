/* mxfence verify [-c CONF] [--json] FLOWS...: the flows against the compiled policy. */
#include <jansson.h>
#include <stdio.h>

#include "cmd.h"
#include "flows.h"

static json_t *flow_json(const struct flow *fl, enum verdict got, const char *reason)
{
	char text[ADDR_STRLEN];
	json_t *o = json_object();

	addr_format(fl->addr.addr, fl->addr.family, text);
	json_object_set_new(o, "file", json_string(fl->file));
	json_object_set_new(o, "line", json_integer(fl->line));
	json_object_set_new(o, "expect", json_string(verdict_name(fl->expect)));
	json_object_set_new(o, "got", json_string(verdict_name(got)));
	json_object_set_new(o, "ok", json_boolean(got == fl->expect));
	json_object_set_new(o, "address", json_string(text));
	json_object_set_new(o, "proto", json_string(proto_name(fl->proto)));
	json_object_set_new(o, "port", json_integer(fl->port));
	json_object_set_new(o, "reason", json_string(reason));
	return o;
}

int cmd_verify(int argc, char **argv, struct globals *g)
{
	static const struct option opts[] = {
		COMMON_LONGOPTS,
		{ "json", no_argument, NULL, OPT_JSON },
		{ 0 },
	};
	struct flow_vec fv = { 0 };
	struct policy pol;
	struct diag d = { 0 };
	bool json = false;
	size_t bad = 0;
	json_t *jflows = NULL;
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		if (common_option(opt, g))
			continue;
		switch (opt) {
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			puts("usage: mxfence verify [-c CONF] [--json] FLOWS...\n"
			     "Evaluate flow files (EXPECT ADDRESS PROTO/PORT) against the compiled policy.");
			return EXIT_OK;
		default:
			return usage_error("verify", "unknown option");
		}
	}
	if (optind >= argc)
		return usage_error("verify", "no flow file given");

	for (int i = optind; i < argc; i++)
		flows_read(argv[i], &fv, &d);
	diag_print(&d, stderr);
	if (d.errors) {
		fprintf(stderr, "mxfence: %zu error%s in the flow files; nothing verified\n", d.errors,
			d.errors == 1 ? "" : "s");
		diag_free(&d);
		flows_free(&fv);
		return EXIT_INPUT;
	}
	diag_free(&d);

	rc = policy_open(g, &pol);
	if (rc)
		goto out;
	if (fv.n > 1000)
		for (size_t i = 0; i < pol.nservices; i++)
			for (int f = 0; f < FAM_COUNT; f++)
				iset_index(&pol.services[i].set[f]);
	if (json)
		jflows = json_array();
	for (size_t i = 0; i < fv.n; i++) {
		const struct flow *fl = &fv.v[i];
		struct verdict_why why;
		char reason[1024];
		enum verdict got = policy_evaluate(&pol, &fl->addr, fl->proto, fl->port, &why);

		if (got == fl->expect && !json)
			continue;
		verdict_reason(&pol, &fl->addr, fl->proto, fl->port, &why, reason, sizeof(reason));
		if (got != fl->expect)
			bad++;
		if (json)
			json_array_append_new(jflows, flow_json(fl, got, reason));
		else
			printf("%s:%u: expected %s, got %s (%s)\n", fl->file, fl->line,
			       verdict_name(fl->expect), verdict_name(got), reason);
	}
	if (json) {
		json_t *root = json_object();
		json_object_set_new(root, "flows", jflows);
		json_object_set_new(root, "total", json_integer((json_int_t)fv.n));
		json_object_set_new(root, "as_expected", json_integer((json_int_t)(fv.n - bad)));
		json_object_set_new(root, "mismatched", json_integer((json_int_t)bad));
		json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		putchar('\n');
		json_decref(root);
	} else {
		printf("%zu flows: %zu as expected, %zu mismatched\n", fv.n, fv.n - bad, bad);
	}
	rc = bad ? EXIT_MISMATCH : EXIT_OK;
out:
	policy_free(&pol);
	flows_free(&fv);
	return rc;
}
