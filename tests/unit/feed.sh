#!/bin/sh
# Unit tests of what every feed shares (tests/unit/feed_test.c): feed versions as numbers, the
# prefix checks and limits at their bounds, special-purpose warnings.
t="$(dirname "$0")/feed_test"
if [ ! -x "$t" ]; then
	echo "FAIL: feed: tests/unit/feed_test is not built (make tests/unit/feed_test)"
	exit 1
fi
exec "$t"
