#!/bin/sh
# Unit tests of the netlink layer (tests/unit/nl_test.c): batches built and
# parsed back with libnftnl, no kernel needed. First, that the layer keeps its
# libraries and its private header to itself: no file of src/ outside src/nl/
# includes libmnl, libnftnl or nl-private.h (nl_test.c and the fuzz harnesses
# of element dumps and DNAT rules may: they test it).
top="$(dirname "$0")/../.."
bad=$(grep -rlE '^[[:space:]]*#[[:space:]]*include[[:space:]]*(<lib(mnl|nftnl)/|"([^"]*/)?nl-private\.h")' \
	"$top/src" | sed "s|^$top/||" | grep -v '^src/nl/' | tr '\n' ' ')
if [ -z "$bad" ]; then
	echo "PASS: nl: only src/nl/ includes libmnl, libnftnl and nl-private.h"
else
	echo "FAIL: nl: only src/nl/ may include libmnl, libnftnl or nl-private.h: $bad"
fi
t="$(dirname "$0")/nl_test"
if [ ! -x "$t" ]; then
	echo "FAIL: nl: tests/unit/nl_test is not built (make tests/unit/nl_test)"
	exit 1
fi
exec "$t"
