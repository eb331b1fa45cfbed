#!/bin/sh
# The kernel layer keeps its libraries and its private header to itself: no
# file of src/ outside src/nl/ includes libmnl, libnftnl or nl-private.h.
# (tests/unit/nl_test.c and tests/fuzz/fuzz_nldump.c may: they test it.)
cd "$(dirname "$0")/../.." || exit 2
bad=$(grep -rlE '^[[:space:]]*#[[:space:]]*include[[:space:]]*(<lib(mnl|nftnl)/|"([^"]*/)?nl-private\.h")' \
	src | grep -v '^src/nl/' | tr '\n' ' ')
if [ -z "$bad" ]; then
	echo "PASS: layers: only src/nl/ includes libmnl, libnftnl and nl-private.h"
else
	echo "FAIL: layers: only src/nl/ may include libmnl, libnftnl or nl-private.h: $bad"
fi
