#!/bin/sh
# Unit tests of the netlink layer (tests/unit/nl_test.c): batches built and
# parsed back with libnftnl, no kernel needed.
t="$(dirname "$0")/nl_test"
if [ ! -x "$t" ]; then
	echo "FAIL: nl: tests/unit/nl_test is not built (make tests/unit/nl_test)"
	exit 1
fi
exec "$t"
