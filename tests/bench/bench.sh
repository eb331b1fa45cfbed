#!/bin/sh
# mxfence benchmark, side by side with iprange. Run from the repository top
# after `make` (or through `make bench`). Informational: exits 0 when a target
# is missed, nonzero when a step fails or mxfence and iprange disagree.
#   BENCH_RUNS=3        runs per timed command (the best wall time is kept)
#   BENCH_SEED=20240714 seed of the generated prefixes and flows
#   BENCH_LOOKUPS=10000000
#   BENCH_KERNEL=no      skip the kernel part (install, delta, dumps, packet path)
#   BENCH_PACKET_SECONDS=3 seconds per connection-rate measurement
#   BENCH_VM=no          skip its 6.1 column (tests/bench/vm.sh: a guest on Debian 12's kernel)
set -eu

cd "$(dirname "$0")/../.."
W=tests/bench/work
B=tests/bench
RUNS=${BENCH_RUNS:-3}
SEED=${BENCH_SEED:-20240714}
LOOKUPS=${BENCH_LOOKUPS:-10000000}
N=1000000
CC=${CC:-cc}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}
PKGS="libnftnl libmnl jansson inih ldns libcrypto"
TIME=/usr/bin/time

die() {
	echo "bench: $*" >&2
	exit 1
}

for t in "$CC" "$PKG_CONFIG" ar iprange awk sort cmp; do
	command -v "$t" >/dev/null 2>&1 || die "$t not found"
done
[ -x "$TIME" ] || die "$TIME not found (Debian package time)"
[ -x ./mxfence ] || die "./mxfence not built; run make first"
[ -f build/policy.o ] || die "build/*.o missing; run make first"

rm -rf "$W"
mkdir -p "$W"

# --- tools -------------------------------------------------------------------
CFLAGS_B="-std=gnu11 -O2 -g -Wall -Wextra -Wshadow -D_GNU_SOURCE"
"$CC" $CFLAGS_B -o "$W/gen" "$B/gen.c" || die "cannot compile gen.c"
"$CC" $CFLAGS_B -o "$W/timeit" "$B/timeit.c" || die "cannot compile timeit.c"
objs=
for o in build/*.o; do
	[ "$o" = build/main.o ] || objs="$objs $o"
done
rm -f "$W/libmxfence.a"
ar rcs "$W/libmxfence.a" $objs || die "cannot archive build/*.o"
pc_cflags=$($PKG_CONFIG --cflags $PKGS) || die "pkg-config: $PKGS missing"
pc_libs=$($PKG_CONFIG --libs $PKGS) || die "pkg-config: $PKGS missing"
"$CC" $CFLAGS_B -Isrc $pc_cflags -o "$W/lookup" "$B/lookup.c" "$W/libmxfence.a" $pc_libs -lcidr -lpthread ||
	die "cannot link lookup.c"

# --- data --------------------------------------------------------------------
"$W/gen" v4 $N "$SEED" >"$W/v4.txt" || die "gen v4 failed"
"$W/gen" v6 $N "$SEED" >"$W/v6.txt" || die "gen v6 failed"
"$W/gen" flows4 $N "$SEED" >"$W/flows4.txt" || die "gen flows4 failed"
# The generated files (about 100 MB) written back now, not while the tools are timed.
sync
for f in v4 v6; do
	cat >"$W/$f.conf" <<EOF
[service smtp]
ports = tcp/25
sources = big

[source big]
format = list
file = $f.txt
EOF
done

# --- helpers -----------------------------------------------------------------

# measure NAME OK_RCS CMD...: runs CMD $RUNS times with stdout to $W/NAME.out
# (a fresh file each run) under timeit, which times the process alone; sets
# SECS (best wall time) and RSS_MB (largest peak RSS of the runs).
measure() {
	name=$1 okrcs=$2
	shift 2
	SECS='' RSS_KB=0
	i=0
	while [ $i -lt "$RUNS" ]; do
		# Truncating the last run's output (18 MB for mxfence, 14 MB for
		# iprange) would cost over 10 ms inside the timed open.
		rm -f "$W/$name.out"
		r=$("$W/timeit" "$W/$name.out" "$W/$name.err" "$@") || die "$name: timeit failed"
		s=${r%% *} k=${r#* } rc=${r##* }
		k=${k%% *}
		case " $okrcs " in
		*" $rc "*) ;;
		*)
			cat "$W/$name.err" >&2
			die "$name: '$*' exited $rc"
			;;
		esac
		if [ -z "$SECS" ] || awk -v a="$s" -v b="$SECS" 'BEGIN { exit !(a < b) }'; then
			SECS=$s
		fi
		[ "$k" -gt "$RSS_KB" ] && RSS_KB=$k
		i=$((i + 1))
	done
	SECS=$(awk -v s="$SECS" 'BEGIN { printf "%.3f", s }')
	RSS_MB=$(awk -v k="$RSS_KB" 'BEGIN { printf "%.1f", k / 1024 }')
}

# verdict VALUE OP TARGET: PASS or MISS
verdict() {
	awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN {
		ok = (op == "<") ? v < t : (op == "<=") ? v <= t : (op == ">=") ? v >= t : v > t
		print ok ? "PASS" : "MISS"
	}'
}

MISSES=0
row() {
	printf '%-22s %-58s %-20s %s\n' "$1" "$2" "$3" "$4"
	[ "$4" = MISS ] && MISSES=$((MISSES + 1))
	return 0
}

# --- runs --------------------------------------------------------------------
# Both tools write to standard output, redirected to a file: the same I/O.
measure mx4 0 ./mxfence build -c "$W/v4.conf"
MX4=$SECS MX4_RSS=$RSS_MB
mv "$W/mx4.out" "$W/v4.nft"
measure ipr4 0 iprange "$W/v4.txt"
IPR4=$SECS IPR4_RSS=$RSS_MB
mv "$W/ipr4.out" "$W/v4.iprange"

awk '/elements = \{/ { e = 1; next }
     e && /^[ \t]*\}/ { e = 0 }
     e { gsub(/[ \t,]/, ""); sub(/\/32$/, ""); print }' "$W/v4.nft" | LC_ALL=C sort >"$W/v4.mx.sorted"
LC_ALL=C sort "$W/v4.iprange" >"$W/v4.iprange.sorted"
MXN=$(wc -l <"$W/v4.mx.sorted" | tr -d ' ')
IPRN=$(wc -l <"$W/v4.iprange.sorted" | tr -d ' ')
SAME=yes
cmp -s "$W/v4.mx.sorted" "$W/v4.iprange.sorted" || SAME=no

measure mx6 0 ./mxfence build -c "$W/v6.conf"
MX6=$SECS MX6_RSS=$RSS_MB
mv "$W/mx6.out" "$W/v6.nft"
MX6N=$(awk '/elements = \{/ { e = 1; next } e && /^[ \t]*\}/ { e = 0 } e { n++ } END { print n + 0 }' "$W/v6.nft")

"$W/lookup" "$W/v4.conf" v4 "$LOOKUPS" "$SEED" >"$W/lookup.txt" || die "lookup failed"
LK=$(awk '/^lookups:/ { for (i = 1; i <= NF; i++) if ($i == "M/s") print $(i - 1) }' "$W/lookup.txt")
[ -n "$LK" ] || die "lookup printed no rate"
LKNS=$(awk '/^lookups:/ { sub(/.*\(/, ""); print $1 }' "$W/lookup.txt")

RUNS_SAVED=$RUNS
RUNS=1
measure verify "0 1" ./mxfence verify -c "$W/v4.conf" "$W/flows4.txt"
RUNS=$RUNS_SAVED
VSUM=$(tail -n 1 "$W/verify.out")
case $VSUM in
"$N flows: "*) ;;
*) die "verify: unexpected summary '$VSUM'" ;;
esac
VER=$SECS VER_RSS=$RSS_MB
rm -f "$W/verify.out"

# --- table -------------------------------------------------------------------
RATIO_RAW=$(awk -v a="$IPR4" -v b="$MX4" 'BEGIN { printf "%.6f", (b > 0 ? a / b : 0) }')
RATIO=$(awk -v r="$RATIO_RAW" 'BEGIN { printf "%.1f", r }')
VRATE=$(awk -v n=$N -v s="$VER" 'BEGIN { printf "%.2f", n / s / 1e6 }')

echo "mxfence bench: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src 2>/dev/null || echo '+dirty src'), $(nproc) CPU, $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
echo "inputs: $N IPv4 /20-/32 and $N IPv6 /32-/128 prefixes, seed $SEED; best of $RUNS runs, wall time"
echo
row "ipv4 build 1M" "mxfence $MX4 s  iprange $IPR4 s  ratio ${RATIO}x" "(target >= 5x)" \
	"$(verdict "$RATIO_RAW" ">=" 5)"
row "ipv4 same set" "mxfence $MXN CIDRs  iprange $IPRN CIDRs  identical: $SAME" "(must be identical)" \
	"$([ $SAME = yes ] && echo PASS || echo FAIL)"
row "ipv4 build peak RSS" "mxfence $MX4_RSS MB  iprange $IPR4_RSS MB" "(target < 200 MB)" \
	"$(verdict "$MX4_RSS" "<" 200)"
row "ipv6 build 1M" "mxfence $MX6 s  ($MX6N CIDRs)" "(target < 0.5 s)" "$(verdict "$MX6" "<" 0.5)"
row "ipv6 build peak RSS" "mxfence $MX6_RSS MB" "(target < 200 MB)" "$(verdict "$MX6_RSS" "<" 200)"
row "ipv4 lookups" "iset_lookup $LK M/s  ($LKNS ns each, 1M-prefix set)" "(target >= 5 M/s)" \
	"$(verdict "$LK" ">=" 5)"
row "ipv4 verify 1M flows" "mxfence verify $VER s = $VRATE M flows/s  ($VER_RSS MB)" "(information)" "-"
echo "  verify: $VSUM"
echo
if [ $SAME != yes ]; then
	echo "bench: mxfence and iprange give different sets; see $W/v4.mx.sorted and $W/v4.iprange.sorted" >&2
	diff "$W/v4.mx.sorted" "$W/v4.iprange.sorted" | head -n 10 >&2
	exit 1
fi
if [ "${BENCH_KERNEL:-yes}" = no ]; then
	echo "kernel part skipped: BENCH_KERNEL=no"
elif [ "$(id -u)" -eq 0 ] && command -v nft >/dev/null && command -v unshare >/dev/null; then
	. "$B/kernel.sh"
	. "$B/packets.sh"
	if [ "${BENCH_VM:-yes}" = no ]; then
		echo "6.1 column skipped: BENCH_VM=no"
	else
		W=$W SEED=$SEED RUNS=$RUNS B=$B bash "$B/vm.sh" || die "the 6.1 column failed"
	fi
else
	echo "kernel part skipped: needs root, nft and unshare"
fi
echo
echo "targets missed: $MISSES"
exit 0
