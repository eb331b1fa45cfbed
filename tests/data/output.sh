#!/usr/bin/env bash
# build -o onto something that is not a regular file: a device or a FIFO is
# written as it is, never replaced by a regular file through the rename that
# protects regular files from half-written output.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
MXFENCE=${MXFENCE:-$top/mxfence}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
conf=$top/rules/mxfence.conf

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; }
eq() { if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'"; fi; }

"$MXFENCE" build -c "$conf" -o "$tmp/want.nft" 2>"$tmp/err"
eq "build to a regular file" $? 0

# A private null device, so that a failure cannot harm the machine's /dev/null.
if [ "$(id -u)" -eq 0 ] && mknod -m 666 "$tmp/null" c 1 3 2>/dev/null; then
	"$MXFENCE" build -c "$conf" -o "$tmp/null" 2>"$tmp/err"
	eq "build -o a null device: exit 0" $? 0
	eq "build -o a null device: still a character device" "$(stat -c %F "$tmp/null")" \
		"character special file"
	eq "build -o a null device: no temporary file left" "$(ls "$tmp" | grep -c '\.tmp\.')" 0
else
	echo "SKIP: build -o a null device: needs root to make a device node"
fi

mkfifo "$tmp/fifo"
timeout 20 cat "$tmp/fifo" >"$tmp/from-fifo" &
reader=$!
timeout 20 "$MXFENCE" build -c "$conf" -o "$tmp/fifo" 2>"$tmp/err"
eq "build -o a FIFO: exit 0" $? 0
wait "$reader"
if cmp -s "$tmp/from-fifo" "$tmp/want.nft"; then
	pass "build -o a FIFO: the reader gets the whole script"
else
	fail "build -o a FIFO: the reader gets the whole script" "$(wc -c <"$tmp/from-fifo") bytes"
fi
eq "build -o a FIFO: still a FIFO" "$(stat -c %F "$tmp/fifo")" "fifo"

if [ "$(id -u)" -eq 0 ] && mknod -m 666 "$tmp/full" c 1 7 2>/dev/null; then
	"$MXFENCE" build -c "$conf" -o "$tmp/full" 2>"$tmp/err"
	eq "build -o a full device: exit 2" $? 2
	eq "build -o a full device: message" "$(head -n 1 "$tmp/err")" \
		"mxfence: $tmp/full: cannot write: No space left on device"
	eq "build -o a full device: still a character device" "$(stat -c %F "$tmp/full")" \
		"character special file"
else
	echo "SKIP: build -o a full device: needs root to make a device node"
fi
