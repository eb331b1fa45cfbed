/* mxfence verify [-c CONF] [--json] FLOWS...: the flows against the compiled policy. */
#include <jansson.h>
#include <stdio.h>

#include "cmd.h"
#include "compare.h"
#include "diag.h"
#include "flows.h"
#include "live.h"
#include "nl.h"
#include "render.h"
#include "util.h"

enum { OPT_LIVE = 0x200, OPT_EXHAUSTIVE };

/*
 * The verdict of the KERNEL's sets for a flow: the policy's rules (the live
 * structure was checked to be the policy's), the live set's contents.
 */
static enum verdict kernel_evaluate(const struct policy *pol, const struct kernel_view *live,
				  const struct flow *fl, char *reason, size_t n)
{
	char text[ADDR_STRLEN], a[ADDR_STRLEN], b[ADDR_STRLEN], name[NAME_MAX_LEN + 8];
	const struct service *svc, *other;

	policy_flow_service(pol, (enum family)fl->addr.family, fl->proto, fl->port,
			    fl->has_dest ? &fl->dest : NULL, &svc, &other);
	if (svc) {
		service_set_name(svc, (enum family)fl->addr.family, name, sizeof(name));
		const struct set_content *v = set_list_find(&live->sets, name);
		ssize_t k = v ? ranges_find(v->iv.v, v->iv.n, fl->addr.addr) : -1;
		if (k < 0) {
			addr_format(fl->addr.addr, fl->addr.family, text);
			snprintf(reason, n, "live set %s does not hold %s", name, text);
			return svc->otherwise;
		}
		addr_format(v->iv.v[k].lo, fl->addr.family, a);
		addr_format(v->iv.v[k].hi, fl->addr.family, b);
		snprintf(reason, n, "live set %s holds %s-%s", name, a, b);
		return VERDICT_ACCEPT;
	}
	if (fl->has_dest) {
		addr_format(fl->dest.addr, fl->dest.family, text);
		snprintf(reason, n, "no service governs %s/%u to %s: the chains accept",
			 proto_name(fl->proto), fl->port, text);
	} else {
		snprintf(reason, n, "no service governs %s/%u: the chain accepts",
			 proto_name(fl->proto), fl->port);
	}
	return VERDICT_ACCEPT;
}

static json_t *flow_json(const struct flow *fl, enum verdict got, const char *reason)
{
	char text[ADDR_STRLEN];
	json_t *o = json_object();

	addr_format(fl->addr.addr, fl->addr.family, text);
	json_object_set_new(o, "file", text_json(fl->file));
	json_object_set_new(o, "line", json_integer(fl->line));
	json_object_set_new(o, "expect", json_string(verdict_name(fl->expect)));
	json_object_set_new(o, "got", json_string(verdict_name(got)));
	json_object_set_new(o, "ok", json_boolean(got == fl->expect));
	json_object_set_new(o, "address", json_string(text));
	json_object_set_new(o, "proto", json_string(proto_name(fl->proto)));
	json_object_set_new(o, "port", json_integer(fl->port));
	if (fl->has_dest) {
		addr_format(fl->dest.addr, fl->dest.family, text);
		json_object_set_new(o, "destination", json_string(text));
	}
	json_object_set_new(o, "reason", text_json(reason));
	return o;
}

int cmd_verify(int argc, char **argv, struct globals *g)
{
	static const struct option opts[] = {
		COMMON_LONGOPTS,
		{ "json", no_argument, NULL, OPT_JSON },
		{ "live", no_argument, NULL, OPT_LIVE },
		{ "exhaustive", no_argument, NULL, OPT_EXHAUSTIVE },
		{ 0 },
	};
	bool use_live = false, all = false;
	struct kernel_view live = { 0 };
	struct nl *nl = NULL;
	char err[512];
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
		case OPT_LIVE:
			use_live = true;
			break;
		case OPT_EXHAUSTIVE:
			all = true;
			break;
		case 'h':
			puts("usage: mxfence verify [-c CONF] [--json] [--live] FLOWS...\n"
			     "       mxfence verify --exhaustive [-c CONF]\n"
			     "Evaluate flow files (EXPECT ADDRESS PROTO/PORT [DESTINATION]) against the\n"
			     "compiled policy, or (--live) against the kernel; --exhaustive compares\n"
			     "the kernel's sets with the policy over the whole address space.");
			return EXIT_OK;
		default:
			return usage_error("verify", "unknown option");
		}
	}
	if (all) {
		if (optind < argc)
			return usage_error("verify", "--exhaustive takes no flow files");
		rc = policy_open(g, &pol);
		if (rc == EXIT_OK) {
			struct set_list want;
			struct comparison cmp;

			wanted_sets_from_policy(&pol, &want);
			if (kernel_compare(&pol, &want, g->state_dir, &cmp, err, sizeof(err)) < 0) {
				fprintf(stderr, "mxfence verify: %s\n", err);
				rc = EXIT_INPUT;
			} else {
				rc = print_comparison(stdout, &pol, &cmp) ? EXIT_MISMATCH : EXIT_OK;
				comparison_free(&cmp);
			}
			set_list_free(&want);
		}
		policy_free(&pol);
		return rc;
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
	if (flows_check_governed(&pol, &fv, &d) < 0) {
		diag_print(&d, stderr);
		fprintf(stderr, "mxfence: %zu error%s in the flow files; nothing verified\n", d.errors,
			d.errors == 1 ? "" : "s");
		diag_free(&d);
		rc = EXIT_INPUT;
		goto out;
	}
	if (use_live) {
		/* What the kernel holds, read back in full: not what the state file says. */
		if (nl_open(&nl, err, sizeof(err)) < 0 ||
		    kernel_view_read(nl, &pol, g->state_dir, true, &live, err, sizeof(err)) < 0) {
			fprintf(stderr, "mxfence verify: %s\n", err);
			rc = EXIT_INPUT;
			goto out;
		}
		if (!live.structure_ok) {
			fprintf(stderr, "mxfence verify: table inet %s: %s; verify --live needs the "
					"policy's structure in the kernel\n", pol.table, live.why);
			rc = EXIT_INPUT;
			goto out;
		}
	}
	if (fv.n > 1000)
		for (size_t i = 0; i < pol.nservices; i++)
			for (int f = 0; f < FAM_COUNT; f++)
				interval_set_index(&pol.services[i].set[f]);
	if (json)
		jflows = json_array();
	for (size_t i = 0; i < fv.n; i++) {
		const struct flow *fl = &fv.v[i];
		struct verdict_why why;
		char reason[1024];
		enum verdict got;

		if (use_live) {
			got = kernel_evaluate(&pol, &live, fl, reason, sizeof(reason));
		} else {
			got = policy_evaluate(&pol, &fl->addr, fl->proto, fl->port,
					      fl->has_dest ? &fl->dest : NULL, &why);
			if (got != fl->expect || json)
				verdict_reason(&pol, &fl->addr, fl->proto, fl->port, &why, reason,
					       sizeof(reason));
		}
		if (got == fl->expect && !json)
			continue;
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
	if (nl) {
		kernel_view_free(&live);
		nl_close(nl);
	}
	policy_free(&pol);
	flows_free(&fv);
	return rc;
}
