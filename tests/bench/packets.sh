# shellcheck shell=sh
# The packet-path part of `make bench`, sourced by bench.sh after kernel.sh
# (uses its W, B, CC, CFLAGS_B, row, die and kernel.sh's k_a.txt, ~900k IPv4
# intervals). Connections per second through a gateway namespace:
#
#   client (198.51.100.10-41) --veth-- gw (198.51.100.1) --veth-- srv (192.0.2.25)
#
# input path: the gateway's own port 25, a service without `to` (chain input);
# forward path: the server's, routed by the gateway, a service with
# `to = 192.0.2.25` (chains input and forward, the original-tuple rules).
# Both look the client up in the same ~900k-interval set; each connection is a
# SYN, SYN-ACK, ACK and RST through the rules (tests/bench/connrate.c). The
# same path's port 26, which no service governs, is measured in turn with
# port 25, with the same table loaded: the difference is the rules' cost,
# whatever else the machine is doing meanwhile.
#   BENCH_PACKET_SECONDS=2   seconds per measurement (3 rounds of each)

PS=${BENCH_PACKET_SECONDS:-2}
"$CC" $CFLAGS_B -o "$W/connrate" "$B/connrate.c" || die "cannot compile connrate.c"
PN="mxfb$$"
PK_PIDS=""
pk_cleanup() {
	for p in $PK_PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PK_PIDS; do wait "$p" 2>/dev/null || true; done
	PK_PIDS=""
	for n in c g s; do ip netns del "$PN-$n" 2>/dev/null || true; done
}
trap pk_cleanup EXIT
pk() { ns=$1; shift; ip netns exec "$PN-$ns" "$@"; }

for n in c g s; do
	ip netns add "$PN-$n" && ip -n "$PN-$n" link set lo up || die "ip netns add failed"
done
ip -n "$PN-g" link add g0 type veth peer name c0 netns "$PN-c" &&
	ip -n "$PN-g" link add g1 type veth peer name s0 netns "$PN-s" &&
	ip -n "$PN-g" link set g0 up && ip -n "$PN-g" link set g1 up &&
	ip -n "$PN-c" link set c0 up && ip -n "$PN-s" link set s0 up &&
	ip -n "$PN-g" addr add 198.51.100.1/24 dev g0 && ip -n "$PN-g" addr add 192.0.2.1/26 dev g1 &&
	ip -n "$PN-s" addr add 192.0.2.25/26 dev s0 &&
	ip -n "$PN-s" route add default via 192.0.2.1 &&
	pk g sysctl -qw net.ipv4.ip_forward=1 || die "packet topology failed"
PSRC=""
i=10
while [ $i -le 41 ]; do
	ip -n "$PN-c" addr add "198.51.100.$i/24" dev c0 || die "client address failed"
	PSRC="$PSRC 198.51.100.$i"
	i=$((i + 1))
done
ip -n "$PN-c" route add 192.0.2.0/24 via 198.51.100.1 || die "client route failed"
printf '%s\n' $PSRC >"$W/p_relays.txt"
# `ip netns exec` execs the server: $! is the server itself.
for port in 25 26; do
	ip netns exec "$PN-s" "$W/connrate" serve 192.0.2.25 $port &
	PK_PIDS="$PK_PIDS $!"
	ip netns exec "$PN-g" "$W/connrate" serve 198.51.100.1 $port &
	PK_PIDS="$PK_PIDS $!"
done
for kind in input forward; do
	to=""
	[ $kind = forward ] && to="to = 192.0.2.25"
	cat >"$W/p_$kind.conf" <<EOF
[service smtp]
ports = tcp/25
$to
sources = big relays
max-removal = 100%

[source big]
format = list
file = k_a.txt

[source relays]
format = list
file = p_relays.txt
EOF
done
sleep 0.3

# one DST PORT: connections per second from every client address, one run.
one() {
	# shellcheck disable=SC2086
	r=$(pk c "$W/connrate" load "$PS" "$1" "$2" $PSRC) || die "connrate failed"
	set -- "$1" "$2" $r
	[ "$4" = 0 ] || die "connrate: $4 of $(($3 + $4)) connections to $1:$2 failed"
	awk -v n="$3" -v s="$5" 'BEGIN { printf "%.0f", n / s }'
}
# pair DST: port 25 and port 26 in turn, three rounds; the best of each.
pair() {
	b25=0 b26=0
	for _ in 1 2 3; do
		r=$(one "$1" 25)
		[ "$r" -gt "$b25" ] && b25=$r
		r=$(one "$1" 26)
		[ "$r" -gt "$b26" ] && b26=$r
	done
	echo "$b25 $b26"
}
# After each install the kernel frees what the last one replaced: let it settle first.
pk g ./mxfence --state-dir "$W/pstate" apply -c "$W/p_input.conf" >/dev/null || die "apply (input) failed"
sleep 2
set -- $(pair 198.51.100.1)
P_IN=$1 P_IN0=$2
pk g ./mxfence --state-dir "$W/pstate" apply -c "$W/p_forward.conf" >/dev/null || die "apply (forward) failed"
sleep 2
set -- $(pair 192.0.2.25)
P_FWD=$1 P_FWD0=$2
pk_cleanup
trap - EXIT

# The cost of the rules on each path: forwarding alone is slower than local delivery.
P_IN_PCT=$(awk -v a="$P_IN0" -v b="$P_IN" 'BEGIN { printf "%+.0f", (a > 0 ? (b - a) * 100 / a : 0) }')
P_FWD_PCT=$(awk -v a="$P_FWD0" -v b="$P_FWD" 'BEGIN { printf "%+.0f", (a > 0 ? (b - a) * 100 / a : 0) }')
echo
echo "packet path: TCP connections per second from 32 clients through a gateway namespace, the"
echo "~900k-interval set loaded; tcp/25 governed, tcp/26 not; best of 3 runs of $PS s each"
row "conn/s input path" "tcp/25 $P_IN/s, tcp/26 $P_IN0/s ($P_IN_PCT%)" "(information)" "-"
row "conn/s forward path" "tcp/25 $P_FWD/s, tcp/26 $P_FWD0/s ($P_FWD_PCT%)" "(information)" "-"
