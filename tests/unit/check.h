/*
 * The checks of the unit programs: one "PASS: name" or "FAIL: name: why"
 * line each (see tests/run); main() returns failures ? 1 : 0.
 */
#ifndef MXFENCE_TEST_CHECK_H
#define MXFENCE_TEST_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(name, cond, ...)                                   \
	do {                                                     \
		if (cond) {                                      \
			printf("PASS: %s\n", name);              \
		} else {                                         \
			printf("FAIL: %s: ", name);              \
			printf(__VA_ARGS__);                     \
			putchar('\n');                           \
			failures++;                              \
		}                                                \
	} while (0)

#endif
