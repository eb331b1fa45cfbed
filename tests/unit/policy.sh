#!/bin/sh
# Unit tests of the policy file (tests/unit/policy_test.c): values at their bounds, port overlaps,
# names, duplicate keys, the line limit, origins.
t="$(dirname "$0")/policy_test"
if [ ! -x "$t" ]; then
	echo "FAIL: policy: tests/unit/policy_test is not built (make tests/unit/policy_test)"
	exit 1
fi
exec "$t"
