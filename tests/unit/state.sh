#!/bin/sh
# Unit tests of the state file (tests/unit/state_test.c): random states round trip, cut short,
# corrupted bytes, files of another kind or table.
t="$(dirname "$0")/state_test"
if [ ! -x "$t" ]; then
	echo "FAIL: state: tests/unit/state_test is not built (make tests/unit/state_test)"
	exit 1
fi
exec "$t"
