/* mxfence build [-c CONF] [-o FILE] [--json] */
#include <stdio.h>

#include "cmd.h"
#include "outfile.h"
#include "render.h"

static void build_usage(void)
{
	puts("usage: mxfence build [-c CONF] [-o FILE] [--json]\n"
	     "Compile the policy; write an nft -f script (or the JSON model) to FILE or stdout.");
}

int cmd_build(int argc, char **argv, struct globals *g)
{
	static const struct option opts[] = {
		COMMON_LONGOPTS,
		{ "output", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, OPT_JSON },
		{ 0 },
	};
	const char *out = NULL;
	bool json = false;
	struct policy pol;
	struct outfile of;
	char err[600];
	int opt, rc;

	while ((opt = getopt_long(argc, argv, "+c:o:h", opts, NULL)) != -1) {
		if (common_option(opt, g))
			continue;
		switch (opt) {
		case 'o':
			out = optarg;
			break;
		case OPT_JSON:
			json = true;
			break;
		case 'h':
			build_usage();
			return EXIT_OK;
		default:
			return usage_error("build", "unknown option");
		}
	}
	if (optind < argc)
		return usage_error("build", "unexpected argument '%s'", argv[optind]);

	rc = policy_open(g, &pol);
	if (rc)
		goto out;
	if (outfile_open(&of, out, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxfence: %s\n", err);
		rc = EXIT_INPUT;
		goto out;
	}
	if ((json ? render_json(of.f, &pol) : render_nft(of.f, &pol)) < 0) {
		outfile_abort(&of);
		fprintf(stderr, "mxfence build: cannot write the output\n");
		rc = EXIT_INPUT;
		goto out;
	}
	if (outfile_commit(&of, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxfence: %s\n", err);
		rc = EXIT_INPUT;
	}
out:
	policy_free(&pol);
	return rc;
}
