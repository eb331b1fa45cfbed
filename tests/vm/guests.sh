#!/usr/bin/env bash
# The group's guests, side by side: each has one emulated CPU (one vCPU runs
# twice as fast as two under TCG here), the host has two. Their result lines
# are printed one guest after the other, as each script prints them.
#   guests/kernel61.sh   the kernel and packet tests on Debian 12's kernel 6.1
#   guests/debian12.sh   the Debian package on a Debian 12 booted with systemd
# Each can also run alone: tests/run tests/vm/guests/debian12.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d /tmp/mxvm-guests.XXXXXX) || exit 1
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
names=(kernel61 debian12)
t0=$SECONDS
for n in "${names[@]}"; do
	"$here/guests/$n.sh" >"$work/$n.out" 2>&1 &
	pids+=($!)
done
rc=0
for i in "${!names[@]}"; do
	wait "${pids[$i]}"
	r=$?
	[ $r -eq 0 ] || rc=1
	echo "# guests/${names[$i]}.sh: exit $r"
done
pids=()
for n in "${names[@]}"; do
	cat "$work/$n.out"
done
echo "# guests.sh: $((SECONDS - t0)) s"
exit $rc
