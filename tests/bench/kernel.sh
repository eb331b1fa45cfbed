# shellcheck shell=sh
# The kernel part of `make bench`, sourced by bench.sh (uses its W, SEED, measure,
# row, verdict, die). Each install runs in a fresh network namespace of its own.
#   BENCH_KERNEL_N=1080000   prefixes generated (about 900k intervals)

KN=${BENCH_KERNEL_N:-1080000}
"$W/gen" v4 "$KN" "$SEED" >"$W/k_a.txt" || die "gen failed"
# The same list with 0.5% of its lines replaced by others: about 1% of the
# set's intervals change (a new prefix can split or join its neighbours).
KCH=$((KN / 200))
"$W/gen" v4 "$KCH" "$((SEED + 1))" >"$W/k_new.txt" || die "gen failed"
{ cat "$W/k_new.txt"; tail -n +"$((KCH + 1))" "$W/k_a.txt"; } >"$W/k_b.txt"
for f in k_a k_b; do
	cat >"$W/$f.conf" <<EOF
[service smtp]
ports = tcp/25
sources = big
max-removal = 100%

[source big]
format = list
file = $f.txt
EOF
done
KIV=$(./mxfence check -c "$W/k_a.conf" | sed -n 's/.*, \([0-9]*\) intervals (.*/\1/p')
./mxfence build -c "$W/k_a.conf" >"$W/k_a.nft" || die "build failed"
sync


# Full install: nft -f of the script vs mxfence apply, each into an empty namespace.
measure k_nft 0 unshare -n nft -f "$W/k_a.nft"
KNFT=$SECS KNFT_RSS=$RSS_MB
measure k_apply 0 unshare -n ./mxfence --state-dir "$W/kstate0" apply -c "$W/k_a.conf"
KAP=$SECS KAP_RSS=$RSS_MB
KAP_USER=$(/usr/bin/time -f '%U %S' unshare -n ./mxfence --state-dir "$W/kstate1" apply -c "$W/k_a.conf" 2>&1 >/dev/null | tail -n 1)

# Delta, diff and dumps need one namespace that lives across commands.
# timeit writes "SECONDS PEAK_RSS_KB EXIT" to each .t file.
cat >"$W/k_steps.sh" <<EOF
set -e
T=$W/timeit
./mxfence --state-dir $W/kst apply -c $W/k_a.conf >/dev/null
\$T $W/k_delta.out $W/k_delta.err ./mxfence --state-dir $W/kst apply -c $W/k_b.conf >$W/k_delta.t
\$T $W/k_mon.out $W/k_mon.err ./mxfence --state-dir $W/kst monitor -c $W/k_b.conf >$W/k_mon.t
\$T /dev/null $W/k_diff.err ./mxfence --state-dir $W/kst diff -c $W/k_a.conf >$W/k_diff.t
\$T /dev/null $W/k_dump.err ./mxfence --state-dir $W/kst diff --full-dump -c $W/k_a.conf >$W/k_dump.t
\$T /dev/null $W/k_list.err nft list set inet mxfence smtp_v4 >$W/k_list.t
EOF
unshare -n sh "$W/k_steps.sh" || die "kernel steps failed"
kt() { tail -n 1 "$W/$1.t" | cut -d' ' -f"$2"; }
# apply and nft exit 0; diff exits 1: the live set differs from k_a by the delta.
# monitor exits 0: the kernel holds what the delta applied, the saved ruleset with it.
for step in k_delta:0 k_mon:0 k_diff:1 k_dump:1 k_list:0; do
	[ "$(kt "${step%:*}" 3)" = "${step#*:}" ] ||
		die "${step%:*} exited $(kt "${step%:*}" 3): $(head -c 300 "$W/${step%:*}.err")"
done
KMON=$(kt k_mon 1) KMON_RSS=$(awk -v k="$(kt k_mon 2)" 'BEGIN { printf "%.1f", k / 1024 }')
KDELTA=$(kt k_delta 1) KDIFF=$(kt k_diff 1) KDUMP=$(kt k_dump 1) KLIST=$(kt k_list 1)
KDUMP_RSS=$(awk -v k="$(kt k_dump 2)" 'BEGIN { printf "%.1f", k / 1024 }')
KLIST_RSS=$(awk -v k="$(kt k_list 2)" 'BEGIN { printf "%.1f", k / 1024 }')
KDELTA_EL=$(sed -n 's/.*; \([0-9]*\) elements in.*/\1/p' "$W/k_delta.out")
KDELTA_ADD=$(sed -n 's/.* +\([0-9]*\)\/-\([0-9]*\) intervals.*/\1/p' "$W/k_delta.out")
KDELTA_DEL=$(sed -n 's/.* +\([0-9]*\)\/-\([0-9]*\) intervals.*/\2/p' "$W/k_delta.out")
KDELTA_PCT=$(awk -v a="$KDELTA_ADD" -v d="$KDELTA_DEL" -v n="$KIV" 'BEGIN { printf "%.1f", (n > 0 ? (a > d ? a : d) * 100 / n : 0) }')

# Verdicts on the unrounded ratios; the table prints them to one decimal.
KR_RAW=$(awk -v a="$KNFT" -v b="$KAP" 'BEGIN { printf "%.6f", (b > 0 ? a / b : 0) }')
KR=$(awk -v r="$KR_RAW" 'BEGIN { printf "%.1f", r }')
KRSS=$(awk -v a="$KNFT_RSS" -v b="$KAP_RSS" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')
KDR_RAW=$(awk -v a="$KLIST" -v b="$KDUMP" 'BEGIN { printf "%.6f", (b > 0 ? a / b : 0) }')
KDR=$(awk -v r="$KDR_RAW" 'BEGIN { printf "%.2f", r }')
echo
echo "kernel: $KIV IPv4 intervals from $KN prefixes; each install into an empty namespace"
row "install ~900k" "mxfence apply $KAP s  nft -f $KNFT s  ratio ${KR}x" "(target >= 5x)" "$(verdict "$KR_RAW" ">=" 5)"
row "install peak RSS" "mxfence apply $KAP_RSS MB  nft -f $KNFT_RSS MB  (1/${KRSS})" "(target <= 1/5)" "$(verdict "$KRSS" ">=" 5)"
row "install user/sys" "mxfence apply user ${KAP_USER% *} s, kernel (sys) ${KAP_USER#* } s" "(information)" "-"
row "delta ~1%" "mxfence apply $KDELTA s  (+$KDELTA_ADD/-$KDELTA_DEL intervals = $KDELTA_PCT%, $KDELTA_EL elements)" "(target <= 0.3 s)" "$(verdict "$KDELTA" "<=" 0.3)"
row "diff via state file" "mxfence diff $KDIFF s" "(target <= 0.5 s)" "$(verdict "$KDIFF" "<=" 0.5)"
row "monitor, fast path" "mxfence monitor $KMON s ($KMON_RSS MB; state file, saved ruleset read back)" "(target <= 0.5 s)" "$(verdict "$KMON" "<=" 0.5)"
row "diff, full dump" "mxfence diff --full-dump $KDUMP s ($KDUMP_RSS MB)  nft list set $KLIST s ($KLIST_RSS MB)  ratio ${KDR}x" "(target > 1x)" "$(verdict "$KDR_RAW" ">" 1)"
