#!/usr/bin/env bash
# The kernel and packet tests on Debian 12's own kernel (6.1), in a guest.
#
#   +------------------------- this host (kernel 6.18) -------------------------+
#   |  qemu (TCG), 1.5 GiB, no network card                                     |
#   |  +-------------------- guest: linux-image-amd64 of bookworm ------------+ |
#   |  |  /            the host's / over 9p, read-only, a tmpfs overlay on top | |
#   |  |  /lib/modules the guest kernel's modules over 9p                      | |
#   |  |  /mxvm        this test's folder, read-write: job.sh in, logs out     | |
#   |  |  runs tests/kernel/*.sh and tests/packets/*.sh with this tree's       | |
#   |  |  ./mxfence, each in its own throwaway namespaces, as on the host      | |
#   |  +-----------------------------------------------------------------------+ |
#   +----------------------------------------------------------------------------+
#
# Every result line of a test in the guest comes back as
#   PASS: 6.1: kernel/apply.sh: first install exits 0
# The sizes that take minutes on an emulated CPU are made smaller (the kill -9
# test of apply.sh, the big sets of nl.sh, the flows of smtp.sh: one of each
# verdict and family, smtp-flows.txt); nothing else changes. A machine that
# cannot run the guest (no qemu, no kernel package, a guest that never reaches
# its script) gives SKIP lines with the reason; a guest that reaches its script
# and does not finish gives FAIL lines.
#   VM_KERNEL_TESTS="kernel/apply.sh ..."   the tests to run (default below)
#   VM_TIMEOUT=1500                         seconds for the whole guest
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../lib/report.sh"
. "$here/../lib/vm.sh"

TOP=${TOP:-$(cd "$here/../../.." && pwd)}
# What 6.1 must show: first install, nothing to do, delta with counters kept,
# compare-and-swap, the gates, the read-back of verify --exhaustive, kill -9,
# real SMTP packets (apply.sh, smtp.sh); the forward chain of 'to', the
# perimeter topology routed, DNAT'd and Docker-style with real SMTP, and the
# DNAT warning read from another table (to.sh, perimeter.sh, dnat.sh). The
# other kernel tests pass there too but spawn thousands of processes, each
# about 0.2 s on the emulated CPU.
tests=${VM_KERNEL_TESTS:-kernel/apply.sh packets/smtp.sh kernel/to.sh kernel/dnat.sh packets/perimeter.sh}

need_root
need_mxfence

skip_all() {
	local t
	for t in $tests; do skip "6.1: $t" "$1"; done
	finish
}
vm_check || skip_all "$VM_WHY"
vm_kernel || skip_all "$VM_WHY"
label=${VM_KVER%%-*}
label=${label%.*}

work=$(mktemp -d /tmp/mxvm-kernel.XXXXXX) || exit 1
trap 'vm_stop; rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
vm_init "$work"
g=$work/guest
mkdir -p "$g"

# The guest's job: each test with its output and exit status in /mxvm, and
# the guest's uptime before and after it.
{
	echo "cd '$TOP' || exit 1"
	echo "export MXFENCE='$MXFENCE' TOP='$TOP' SHARED=/nonexistent"
	echo "export APPLY_KILL_PREFIXES=20000 APPLY_KILL_ROUNDS=4"
	echo "export NL_BIG_PREFIXES=60000 NL_RACE_PREFIXES=10000 NL_RACE_ROUNDS=12"
	echo "export FLOWS='$here/smtp-flows.txt' PROBE_TIMEOUT=15"
	for t in $tests; do
		n=${t//\//_}
		echo "echo \"$t start \$(cut -d' ' -f1 /proc/uptime)\" >>/mxvm/times"
		echo "tests/$t >/mxvm/$n.log 2>&1; echo \$? >/mxvm/$n.rc"
		echo "echo \"$t end \$(cut -d' ' -f1 /proc/uptime)\" >>/mxvm/times"
	done
} >"$g/job.sh"

mapfile -t hr < <(vm_host_root)
vm_boot kernel "$g" "${VM_TIMEOUT:-1500}" 1536 host "${hr[@]}"
if [ ! -f "$g/started" ]; then
	skip_all "$(vm_why_no_start "$g")"
fi
echo "# guest: kernel $(cut -d' ' -f1 "$g/started") reached its script at $(cut -d' ' -f2 "$g/started") s uptime; $VM_WALL s wall in all"
vm_clock_ok "$g" || fail "$label: the guest's clock kept time" "$VM_CLOCK"

for t in $tests; do
	n=${t//\//_}
	log=$g/$n.log
	if [ ! -f "$g/$n.rc" ]; then
		why="did not finish: the guest ended (qemu exit $VM_RC after $VM_WALL s, timeout ${VM_TIMEOUT:-1500} s)"
		fail "$label: $t" "$why; last lines: $(tail -n 3 "$log" 2>/dev/null)"
		continue
	fi
	rc=$(cat "$g/$n.rc")
	s=$(awk -v t="$t" '$1 == t && $2 == "start" { s = $3 } $1 == t && $2 == "end" { printf "%.0f", $3 - s }' "$g/times")
	echo "# $label: $t: exit $rc, $s s in the guest"
	lines=$(grep -cE '^(PASS|FAIL|SKIP): ' "$log")
	while IFS= read -r l; do
		# The line as the guest printed it, its name prefixed.
		echo "${l%%: *}: $label: $t: ${l#*: }"
		case $l in
		PASS:*) T_PASS=$((T_PASS + 1)) ;;
		FAIL:*) T_FAIL=$((T_FAIL + 1)) ;;
		SKIP:*) T_SKIP=$((T_SKIP + 1)) ;;
		esac
	done < <(grep -E '^(PASS|FAIL|SKIP): ' "$log")
	if [ "$lines" -eq 0 ] || { [ "$rc" -ne 0 ] && ! grep -q '^FAIL: ' "$log"; }; then
		fail "$label: $t" "exit $rc without a FAIL line: $(tail -n 3 "$log")"
	fi
done
finish
