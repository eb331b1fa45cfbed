/* mxfence: dispatch to one command; every command is a file of its own. */
#include <stdarg.h>
#include <malloc.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "util.h"

#ifndef MXFENCE_VERSION
#define MXFENCE_VERSION "0.1"
#endif

static const struct {
	const char *name;
	int (*run)(int argc, char **argv, struct globals *g);
	const char *summary;
} commands[] = {
	{ "build", cmd_build, "compile the policy into an nft script (or --json model)" },
	{ "check", cmd_check, "parse and lint the policy and its sources" },
	{ "verify", cmd_verify, "evaluate flow files against the compiled policy" },
	{ "explain", cmd_explain, "show which sources cover an address, per service" },
	{ "apply", cmd_apply, "make the kernel hold the policy, in one transaction" },
	{ "diff", cmd_diff, "what applying would change (against live or a model file)" },
	{ "plan", cmd_plan, "write the exact change for review, to apply later with --plan" },
	{ "status", cmd_status, "the table in the kernel, counters, the last apply" },
	{ "fetch", cmd_fetch, "download fetched sources into the cache, validated" },
	{ "refresh", cmd_refresh, "the nightly job: fetch, build, gates, apply, verify" },
	{ "restore", cmd_restore, "at boot: load the saved ruleset (never fetches)" },
	{ "monitor", cmd_monitor, "Nagios plugin and Prometheus metrics: is the table there?" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: mxfence [--state-dir DIR] [--cache-dir DIR] COMMAND [OPTIONS]\n\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nEvery command takes -c CONF (default %s). See mxfence(8).\n", DEFAULT_CONF);
}

int main(int argc, char **argv)
{
	struct globals g = { DEFAULT_CONF, DEFAULT_STATE_DIR, DEFAULT_CACHE_DIR };
	int i = 1;

	/*
	 * Arrays of a million prefixes: keep them in their own mappings, so that
	 * growing one is an mremap, not a copy (glibc would otherwise raise its
	 * threshold after the first free and copy on every doubling).
	 */
	mallopt(M_MMAP_THRESHOLD, 4 << 20);

	/* Global options before the command. */
	while (i < argc && argv[i][0] == '-') {
		if ((streq(argv[i], "--state-dir") || streq(argv[i], "--cache-dir")) && i + 1 < argc) {
			if (streq(argv[i], "--state-dir"))
				g.state_dir = argv[i + 1];
			else
				g.cache_dir = argv[i + 1];
			i += 2;
		} else if (!strncmp(argv[i], "--state-dir=", 12)) {
			g.state_dir = argv[i++] + 12;
		} else if (!strncmp(argv[i], "--cache-dir=", 12)) {
			g.cache_dir = argv[i++] + 12;
		} else if (streq(argv[i], "-h") || streq(argv[i], "--help")) {
			usage(stdout);
			return EXIT_OK;
		} else if (streq(argv[i], "--version")) {
			printf("mxfence %s\n", MXFENCE_VERSION);
			return EXIT_OK;
		} else {
			fprintf(stderr, "mxfence: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return EXIT_INPUT;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_INPUT;
	}
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (streq(argv[i], commands[k].name))
			return commands[k].run(argc - i, argv + i, &g);
	fprintf(stderr, "mxfence: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return EXIT_INPUT;
}
