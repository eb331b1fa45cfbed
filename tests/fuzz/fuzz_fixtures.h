/* Feed files the policy-level harnesses compile against. */
#ifndef MXFENCE_FUZZ_FIXTURES_H
#define MXFENCE_FUZZ_FIXTURES_H

struct fuzz_fixture {
	const char *name;
	const char *text;
};

/* Ends with { NULL, NULL }. */
extern const struct fuzz_fixture fuzz_fixtures[];

/* Write them all into fuzz_dir(). */
void fuzz_fixtures_install(void);

/*
 * A policy of five services over the fixtures, written as fuzz_path("fixed.conf"),
 * loaded and compiled into pol: what flows, state files and models are held against.
 * Three have a 'to': exchange and mailcow share tcp/2525 with destinations
 * apart (both families), gateway has an IPv4 'to' only.
 */
struct policy;
void fuzz_fixed_policy(struct policy *pol);

#endif
