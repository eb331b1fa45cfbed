#!/usr/bin/env bash
# The 6.1 column of `make bench`, run by bench.sh from the top of the tree with
# W, SEED, RUNS and B in the environment (its work folder, seed, runs, and
# tests/bench): a smaller set, about 100k IPv4 intervals, installed, changed by about
# 1% and read back, by mxfence and by nft, on this host's kernel and in a guest
# on Debian 12's kernel (tests/vm/lib/vm.sh: qemu, TCG). The same script
# (kernel-small.sh) runs in both. An emulated CPU is several times slower than
# this one, so the guest's seconds are not the host's: compare the ratios.
#   BENCH_VM=no          skip it
#   BENCH_VM_N=104000    prefixes generated (about 100k intervals)
#   BENCH_VM_RUNS=2      installs per tool in the guest (the best is kept)

set -eu
die() {
	echo "bench: $*" >&2
	exit 1
}
SN=${BENCH_VM_N:-104000}
mkdir -p "$W/small"
S=$(cd "$W/small" && pwd)
BD=$(cd "$B" && pwd)
cp "$W/gen" "$W/timeit" "$S/"
"$S/gen" v4 "$SN" "$((SEED + 7))" >"$S/s_a.txt" || die "gen failed"
SCH=$((SN / 200))
"$S/gen" v4 "$SCH" "$((SEED + 8))" >"$S/s_new.txt" || die "gen failed"
{ cat "$S/s_new.txt"; tail -n +"$((SCH + 1))" "$S/s_a.txt"; } >"$S/s_b.txt"
rm -f "$S/s_new.txt"
for f in s_a s_b; do
	printf '[service smtp]\nports = tcp/25\nsources = big\nmax-removal = 100%%\n\n[source big]\nformat = list\nfile = %s.txt\n' "$f" >"$S/$f.conf"
done

# The host's column, then the guest's from a copy of the same folder.
sh "$BD/kernel-small.sh" "$PWD/mxfence" "$S" "$RUNS" || die "kernel-small.sh failed on this host"
mv "$S/results" "$W/small.host"

VMWHY=''
VMRUNS=${BENCH_VM_RUNS:-2}
. tests/vm/lib/vm.sh
set +e
if vm_check && vm_kernel; then
	vm_init "$(cd "$W" && pwd)/vm"
	G=$W/vm/guest
	mkdir -p "$G"
	cat >"$G/job.sh" <<EOF
set -e
mkdir -p /tmp/small
cp $S/gen $S/timeit $S/s_a.txt $S/s_b.txt $S/s_a.conf $S/s_b.conf /tmp/small/
sh $BD/kernel-small.sh $PWD/mxfence /tmp/small $VMRUNS
cp /tmp/small/results /mxvm/results
EOF
	# The guest's memory holds two copies of the lists, nft's 100k-element
	# parse (about 100 MB) and the kernel's set.
	mapfile -t hr < <(vm_host_root)
	vm_boot bench "$G" 1200 2048 host "${hr[@]}"
	if [ ! -f "$G/started" ]; then
		VMWHY=$(vm_why_no_start "$G")
	elif [ ! -f "$G/results" ]; then
		VMWHY="the guest's run failed (exit $(cat "$G/job.rc" 2>/dev/null || echo none)): $(tail -n 3 "$G/job.log" 2>/dev/null | tr '\n' ' ')"
	else
		cp "$G/results" "$W/small.guest"
	fi
else
	VMWHY=$VM_WHY
fi

# sm FILE NAME [FIELD]: a figure of a results file (field 2: seconds).
sm() { awk -v n="$2" -v f="${3:-2}" '$1 == n { print $f }' "$1"; }
# col FILE: the figures of one kernel, one string per row.
col() {
	f=$1
	inst=$(awk -v a="$(sm "$f" install_apply)" -v b="$(sm "$f" install_nft)" \
		'BEGIN { printf "apply %.2f nft -f %.2f %.1fx", a, b, (a > 0 ? b / a : 0) }')
	delta=$(awk -v a="$(sm "$f" delta)" 'BEGIN { printf "apply %.3f", a }')
	diff=$(awk -v a="$(sm "$f" diff)" 'BEGIN { printf "diff %.3f", a }')
	dump=$(awk -v a="$(sm "$f" dump)" -v b="$(sm "$f" list)" \
		'BEGIN { printf "diff %.2f nft list %.2f %.1fx", a, b, (a > 0 ? b / a : 0) }')
	rss=$(awk -v a="$(sm "$f" install_apply 3)" -v b="$(sm "$f" install_nft 3)" \
		'BEGIN { printf "apply %.0f nft -f %.0f MB", a / 1024, b / 1024 }')
}
echo
echo "kernel, small set: $(sm "$W/small.host" intervals) IPv4 intervals from $SN prefixes, the same script on both kernels (seconds; ratio = nft / mxfence)"
col "$W/small.host"
H_INST=$inst H_DELTA=$delta H_DIFF=$diff H_DUMP=$dump H_RSS=$rss
if [ -z "$VMWHY" ]; then
	col "$W/small.guest"
	echo "  6.18: this host (best of $RUNS installs); 6.1: Debian 12's $VM_KVER in qemu TCG, ${VM_SMP:-1} vCPU (best of $VMRUNS)"
	printf '%-18s %-36s %s\n' "" "6.18" "6.1 (emulated CPU)"
	printf '%-18s %-36s %s\n' "install ~100k" "$H_INST" "$inst"
	printf '%-18s %-36s %s\n' "install peak RSS" "$H_RSS" "$rss"
	printf '%-18s %-36s %s\n' "delta ~1%" "$H_DELTA ($(sm "$W/small.host" delta_size 2)/$(sm "$W/small.host" delta_size 3) iv)" "$delta ($(sm "$W/small.guest" delta_size 2)/$(sm "$W/small.guest" delta_size 3) iv)"
	printf '%-18s %-36s %s\n' "diff, state file" "$H_DIFF" "$diff"
	printf '%-18s %-36s %s\n' "diff, full dump" "$H_DUMP" "$dump"
else
	printf '%-18s %s\n' "install ~100k" "$H_INST" "install peak RSS" "$H_RSS" "delta ~1%" "$H_DELTA" \
		"diff, state file" "$H_DIFF" "diff, full dump" "$H_DUMP"
	echo "6.1 column skipped: $VMWHY"
fi
