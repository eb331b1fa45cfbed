#!/bin/sh
# Unit tests of SPF (tests/unit/spf_test.c): the record parser on the real
# records of the shared data, the two DNS wire answers, format = spf.
t="$(dirname "$0")/spf_test"
if [ ! -x "$t" ]; then
	echo "FAIL: spf: tests/unit/spf_test is not built (make tests/unit/spf_test)"
	exit 1
fi
exec "$t"
