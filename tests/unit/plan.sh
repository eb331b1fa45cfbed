#!/bin/sh
# Unit tests of the plan file, the live digest and the audit trail (tests/unit/plan_test.c).
t="$(dirname "$0")/plan_test"
if [ ! -x "$t" ]; then
	echo "FAIL: plan: tests/unit/plan_test is not built (make tests/unit/plan_test)"
	exit 1
fi
exec "$t"
