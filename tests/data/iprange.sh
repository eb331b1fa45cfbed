#!/usr/bin/env bash
# A large random list, big enough that every stage runs in two threads (the
# parse, each level of the sort, the printing of the elements), against
# iprange, an independent implementation of the same merge.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/report.sh"

need_cmd iprange awk cmp
need_mxfence
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 400,000 prefixes /16 to /32 with host bits cleared, a fixed seed; every
# 50th line repeats an earlier one, so duplicates and nesting occur.
awk 'BEGIN {
	srand(20261121)
	for (i = 0; i < 400000; i++) {
		if (i % 50 == 49) { print line[int(rand() * i)]; continue }
		len = 16 + int(rand() * 17)
		a = int(rand() * 4294967296)
		m = 2 ^ (32 - len)
		a = a - a % m
		line[i] = sprintf("%d.%d.%d.%d/%d", int(a / 16777216), int(a / 65536) % 256,
				  int(a / 256) % 256, a % 256, len)
		print line[i]
	}
}' >"$tmp/big.txt"
printf '[service smtp]\nports = tcp/25\nsources = big\n\n[source big]\nformat = list\nfile = big.txt\n' \
	>"$tmp/big.conf"

if "$MXFENCE" build -c "$tmp/big.conf" -o "$tmp/big.nft" 2>"$tmp/err"; then
	pass "400,000 random prefixes: build exits 0"
else
	fail "400,000 random prefixes: build exits 0" "$(head -c 300 "$tmp/err")"
fi
# The elements, as iprange writes them (a /32 without its length).
awk '/elements = \{/ { e = 1; next }
     e && /^[ \t]*\}/ { e = 0 }
     e { gsub(/[ \t,]/, ""); sub(/\/32$/, ""); print }' "$tmp/big.nft" >"$tmp/mx.txt"
iprange "$tmp/big.txt" >"$tmp/ipr.txt"
n=$(wc -l <"$tmp/ipr.txt" | tr -d ' ')
if [ "$n" -gt 100000 ] && cmp -s "$tmp/mx.txt" "$tmp/ipr.txt"; then
	pass "400,000 random prefixes: the same $n CIDRs as iprange, in the same order"
else
	fail "400,000 random prefixes: the same CIDRs as iprange" \
		"$(diff "$tmp/mx.txt" "$tmp/ipr.txt" | head -n 4 | tr '\n' '|') ($n from iprange)"
fi

finish
