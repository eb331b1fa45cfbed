#!/usr/bin/env bash
# Large list files: a file of 1 MiB or more is mapped instead of read. The
# mapped and the read path must give the same ruleset, and a file cut short
# while it is mapped must end in a clean error, not a crash or an output.
set -u
here=$(cd "$(dirname "$0")" && pwd)
MXFENCE=${MXFENCE:-$here/../../mxfence}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; }
eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'"; fi; }

policy() { # NAME FILE
	printf '[service smtp]\nports = tcp/25\nsources = big\n\n[source big]\nformat = list\nfile = %s\n' \
		"$2" >"$tmp/$1.conf"
}

# 100,000 distinct /32s and /24s, about 1.5 MB; not a multiple of the page size.
awk 'BEGIN { for (i = 0; i < 100000; i++) {
	a = 11 + int(i / 65536); b = int(i / 256) % 256; c = i % 256
	if (i % 7 == 0) printf "%d.%d.%d.0/24\n", a, b, c; else printf "%d.%d.%d.%d\n", a, c, b, i % 251
} }' >"$tmp/mapped.txt"
page=$(getconf PAGESIZE)
size=$(stat -c %s "$tmp/mapped.txt")
[ $((size % page)) -ne 0 ] || echo "# pad" >>"$tmp/mapped.txt"
size=$(stat -c %s "$tmp/mapped.txt")
# The same lines, then a comment that pads the file to a multiple of the page
# size: that file is read, not mapped.
cp "$tmp/mapped.txt" "$tmp/read.txt"
pad=$((page - size % page))
{ printf '#'; head -c $((pad - 2)) /dev/zero | tr '\0' 'x'; printf '\n'; } >>"$tmp/read.txt"
eq "padded copy is a multiple of the page size" $(($(stat -c %s "$tmp/read.txt") % page)) 0

policy mapped "$tmp/mapped.txt"
policy read "$tmp/read.txt"
"$MXFENCE" build -c "$tmp/mapped.conf" -o "$tmp/mapped.nft" 2>"$tmp/mapped.err"
eq "mapped file: build exits 0" $? 0
"$MXFENCE" build -c "$tmp/read.conf" -o "$tmp/read.nft" 2>"$tmp/read.err"
eq "read file: build exits 0" $? 0
# The header names the file; everything else must match.
if diff <(sed 's/read\.txt/mapped.txt/' "$tmp/read.nft") "$tmp/mapped.nft" >/dev/null; then
	pass "mapped and read files give the same ruleset"
else
	fail "mapped and read files give the same ruleset" \
		"$(diff <(sed 's/read\.txt/mapped.txt/' "$tmp/read.nft") "$tmp/mapped.nft" | head -n 4 | tr '\n' '|')"
fi
eq "every line made it" "$(sed -n 's/^# source big: list [^,]*, \([0-9]*\) prefixes.*/\1/p' "$tmp/mapped.nft")" \
	"$(grep -c '^[0-9]' "$tmp/mapped.txt")"

# Cut short after it was mapped: exit 2, the file named, nothing written.
cp "$tmp/mapped.txt" "$tmp/shrinks.txt"
policy shrinks "$tmp/shrinks.txt"
MXFENCE_TEST_AFTER_MAP="truncate -s 0 '$tmp/shrinks.txt'" \
	"$MXFENCE" build -c "$tmp/shrinks.conf" -o "$tmp/shrinks.nft" 2>"$tmp/shrinks.err"
eq "file cut short while mapped: exit 2" $? 2
eq "file cut short while mapped: message" "$(cat "$tmp/shrinks.err")" \
	"mxfence: $tmp/shrinks.txt: error: file shrank while it was being read"
eq "file cut short while mapped: no output" "$(ls "$tmp" | grep -c '^shrinks\.nft')" 0
