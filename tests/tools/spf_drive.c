/*
 * Drives spf_flatten() for tests/fetch/spf.sh:
 *
 *   spf_drive DOMAIN RESOLVER [MAX-LOOKUPS [MAX-DEPTH [TIMEOUT-MS]]]
 *
 * prints the flattened feed on stdout and the diagnostics on stderr; exits
 * 0 when flattened, 1 after an error, 2 on bad arguments. RESOLVER "-" is
 * the system's resolver.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "spf.h"

static unsigned arg(int argc, char **argv, int i)
{
	return i < argc ? (unsigned)strtoul(argv[i], NULL, 10) : 0;
}

int main(int argc, char **argv)
{
	struct diag d = { 0 };
	struct spf_opts opts = { 0 };
	int rc;

	if (argc < 3 || argc > 6) {
		fprintf(stderr, "usage: spf_drive DOMAIN RESOLVER [MAX-LOOKUPS [MAX-DEPTH [TIMEOUT-MS]]]\n");
		return 2;
	}
	opts.resolver = strcmp(argv[2], "-") == 0 ? NULL : argv[2];
	opts.max_lookups = arg(argc, argv, 3);
	opts.max_depth = arg(argc, argv, 4);
	opts.timeout_ms = arg(argc, argv, 5);
	rc = spf_flatten(argv[1], &opts, stdout, &d, "spf");
	diag_print(&d, stderr);
	diag_free(&d);
	return rc == 0 ? 0 : 1;
}
