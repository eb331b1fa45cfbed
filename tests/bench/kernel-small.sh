#!/bin/sh
# The kernel figures of a smaller set, run alike on this host and in a guest on
# another kernel (tests/bench/vm.sh), so that the ratios compare like with like.
#   kernel-small.sh MXFENCE DIR RUNS
# DIR holds gen, timeit, s_a.conf and s_b.conf (with their lists) and receives
# the scratch files and DIR/results: "NAME SECONDS PEAK_RSS_KB" lines, and
# "delta ADDED REMOVED ELEMENTS". Installs are the best of RUNS, each into a
# fresh namespace; the rest runs once, in one namespace. Exits 1 on a failed step.
set -eu
MX=$1 D=$2 RUNS=$3
T=$D/timeit

die() {
	echo "kernel-small: $*" >&2
	exit 1
}

# best NAME OK_RC CMD...: the best wall time of RUNS runs, the largest peak RSS.
best() {
	name=$1 okrc=$2
	shift 2
	s='' k=0 i=0
	while [ $i -lt "$RUNS" ]; do
		r=$("$T" "$D/$name.out" "$D/$name.err" "$@") || die "$name: timeit failed"
		[ "${r##* }" = "$okrc" ] || die "$name: '$*' exited ${r##* }: $(head -c 300 "$D/$name.err")"
		rs=${r%% *} rk=${r#* }
		rk=${rk%% *}
		if [ -z "$s" ] || awk -v a="$rs" -v b="$s" 'BEGIN { exit !(a < b) }'; then s=$rs; fi
		[ "$rk" -gt "$k" ] && k=$rk
		i=$((i + 1))
		rm -rf "$D/st"
	done
	echo "$name $s $k" >>"$D/results"
}

: >"$D/results"
"$MX" build -c "$D/s_a.conf" -o "$D/s_a.nft" || die "build failed"
n=$("$MX" check -c "$D/s_a.conf" | sed -n 's/.*, \([0-9]*\) intervals (.*/\1/p')
echo "intervals $n 0" >>"$D/results"
sync
best install_nft 0 unshare -n nft -f "$D/s_a.nft"
best install_apply 0 unshare -n "$MX" --state-dir "$D/st" apply -c "$D/s_a.conf"

cat >"$D/steps.sh" <<EOF
set -e
"$MX" --state-dir "$D/kst" apply -c "$D/s_a.conf" >/dev/null
"$T" "$D/delta.out" "$D/delta.err" "$MX" --state-dir "$D/kst" apply -c "$D/s_b.conf" >"$D/delta.t"
"$T" /dev/null "$D/diff.err" "$MX" --state-dir "$D/kst" diff -c "$D/s_a.conf" >"$D/diff.t"
"$T" /dev/null "$D/dump.err" "$MX" --state-dir "$D/kst" diff --full-dump -c "$D/s_a.conf" >"$D/dump.t"
"$T" /dev/null "$D/list.err" nft list set inet mxfence smtp_v4 >"$D/list.t"
EOF
rm -rf "$D/kst"
unshare -n sh "$D/steps.sh" || die "the steps in one namespace failed"
# apply and nft exit 0; diff exits 1: the live set is s_b, the policy s_a.
for step in delta:0 diff:1 dump:1 list:0; do
	t=$(tail -n 1 "$D/${step%:*}.t")
	[ "${t##* }" = "${step#*:}" ] || die "${step%:*} exited ${t##* }: $(head -c 300 "$D/${step%:*}.err")"
	echo "${step%:*} ${t% *}" >>"$D/results"
done
add=$(sed -n 's/.* +\([0-9]*\)\/-\([0-9]*\) intervals.*/\1/p' "$D/delta.out")
del=$(sed -n 's/.* +\([0-9]*\)\/-\([0-9]*\) intervals.*/\2/p' "$D/delta.out")
el=$(sed -n 's/.*; \([0-9]*\) elements in.*/\1/p' "$D/delta.out")
echo "delta_size ${add:-?} ${del:-?} ${el:-?}" >>"$D/results"
