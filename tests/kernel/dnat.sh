#!/usr/bin/env bash
# check and status name the service ports that another table DNATs past mxfence.
#
#   +------------------------- namespace k-dnat (lo only) --------------------------+
#   |  table ip adminnat     ip daddr 203.0.113.1 tcp dport 25 -> 192.0.2.25:25     |
#   |                        ip daddr 203.0.113.5 tcp dport 25 -> 192.0.2.26        |
#   |                        ip daddr { .7, .8 } tcp dport { 25, 2525 } -> .27      |
#   |                        tcp dport 80 -> 192.0.2.28 (no service)                |
#   |                        udp dport 25 -> 192.0.2.29 (another protocol)          |
#   |                        masquerade (no DNAT)                                   |
#   |  table inet sixnat     ip6 daddr 2001:db8:e::1 tcp dport 25 -> [..5::25]:25   |
#   |                        ip6 daddr 2001:db8:e::9 tcp dport 25 -> [..5::26]:25   |
#   |  table ip nat          iptables-nft, Docker's shape: PREROUTING -> DOCKER,    |
#   |                        ! -i docker0 tcp dport 587 DNAT 192.0.2.130:587        |
#   |                        (xtables DNAT target, no destination address)          |
#   |  table inet mxfence    the policy's own table (apply): never reported         |
#   +-------------------------------------------------------------------------------+
#
# No links, no traffic: the rules are only read.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/report.sh"
. "$here/../lib/netns.sh"

need_root
need_cmd ip nft setpriv
need_mxfence
ns_init

ns=dnat
d=$NS_TMP
ns_add $ns || { fail "namespace" "ip netns add failed"; finish; }

cat >"$d/relays.txt" <<'EOF'
198.51.100.10
2001:db8:c::10
EOF
cat >"$d/policy.conf" <<'EOF'
[service smtp]
ports = tcp/25 tcp/2525
to = 203.0.113.1 203.0.113.7 2001:db8:e::1
sources = relays

[service submission]
ports = tcp/587
sources = relays

[source relays]
format = list
file = relays.txt
EOF

if ! ns_exec $ns nft -f - <<'EOF' 2>"$d/nft.err"; then
table ip adminnat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr 203.0.113.1 tcp dport 25 dnat to 192.0.2.25:25
		ip daddr 203.0.113.5 tcp dport 25 dnat to 192.0.2.26
		ip daddr { 203.0.113.7, 203.0.113.8 } tcp dport { 25, 2525 } dnat to 192.0.2.27
		tcp dport 80 dnat to 192.0.2.28
		udp dport 25 dnat to 192.0.2.29
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 192.0.2.128/25 masquerade
	}
}
table inet sixnat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		ip6 daddr 2001:db8:e::1 tcp dport 25 dnat ip6 to [2001:db8:5::25]:25
		ip6 daddr 2001:db8:e::9 tcp dport 25 dnat ip6 to [2001:db8:5::26]:25
	}
}
EOF
	fail "nat tables load" "$(head -n 3 "$d/nft.err")"
	finish
fi
docker=0
if command -v iptables-nft >/dev/null 2>&1; then
	# What Docker's iptables backend writes for a published port, in its own chain names.
	if ns_exec $ns iptables-nft -t nat -N DOCKER &&
		ns_exec $ns iptables-nft -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER &&
		ns_exec $ns iptables-nft -t nat -A DOCKER -i docker0 -j RETURN &&
		ns_exec $ns iptables-nft -t nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 587 \
			-j DNAT --to-destination 192.0.2.130:587; then
		docker=1
	else
		fail "iptables-nft DNAT rules load" "iptables-nft refused them"
	fi
else
	fail "iptables-nft" "not installed (contrib/deps.sh build test installs iptables)"
fi

# Our own table is in the kernel too, and is never reported.
"$MXFENCE" --state-dir "$d/state" build -c "$d/policy.conf" -o "$d/rules.nft" >/dev/null 2>&1
ns_exec $ns nft -f "$d/rules.nft" || fail "the policy's table loads" "nft -f failed"

want=$(cat <<'EOF'
warning: tcp/25 to 203.0.113.5 is DNAT'd by table ip adminnat chain prerouting to 192.0.2.26; no 'to' of service smtp covers 203.0.113.5: that mail is not filtered
warning: tcp/25 to 203.0.113.7, 203.0.113.8 is DNAT'd by table ip adminnat chain prerouting to 192.0.2.27; no 'to' of service smtp covers 203.0.113.8: that mail is not filtered
warning: tcp/25 to 2001:db8:e::9 is DNAT'd by table inet sixnat chain prerouting to [2001:db8:5::26]:25; no 'to' of service smtp covers 2001:db8:e::9: that mail is not filtered
EOF
)
[ $docker -eq 1 ] && want="$want
warning: tcp/587 to any address is DNAT'd by table ip nat chain DOCKER to 192.0.2.130:587; service submission has no 'to': that mail is not filtered"
want=$(printf '%s\n' "$want" | sort)

ns_exec $ns "$MXFENCE" --state-dir "$d/state" check -c "$d/policy.conf" >"$d/check.out" 2>"$d/check.err"
rc=$?
expect_eq "check: exit 0 with warnings" "$rc" 0
expect_eq "check: names every DNAT left open, and only those" "$(grep '^warning' "$d/check.err" | sort)" "$want"
expect_eq "check: still says configuration OK" "$(head -n 1 "$d/check.out")" "configuration OK"

ns_exec $ns "$MXFENCE" --state-dir "$d/state" status -c "$d/policy.conf" >"$d/status.out" 2>"$d/status.err"
rc=$?
expect_eq "status: exit 0 with warnings" "$rc" 0
expect_eq "status: names the same DNAT rules" "$(grep '^warning' "$d/status.err" | sort)" "$want"

# monitor: the same rules, each a WARNING, and their count as a metric.
ns_exec $ns "$MXFENCE" --state-dir "$d/state" monitor -c "$d/policy.conf" --prometheus "$d/mon.prom" >"$d/mon.out" 2>&1
rc=$?
expect_eq "monitor: WARNING (exit 1) with DNAT rules left open" "$rc" 1
missing=0
while IFS= read -r w; do
	grep -qF -- "${w#warning: }" "$d/mon.out" || missing=$((missing + 1))
done <<<"$want"
expect_eq "monitor: names every DNAT rule left open" "$missing" 0
expect_eq "monitor --prometheus: mxfence_dnat_unfiltered counts them" \
	"$(sed -n 's/^mxfence_dnat_unfiltered{.*} //p' "$d/mon.prom")" "$(printf '%s\n' "$want" | grep -c .)"

# Once every destination is in a `to`, nothing is said.
sed -e 's/^to = .*/to = 203.0.113.1 203.0.113.5 203.0.113.7 203.0.113.8 2001:db8:e::1 2001:db8:e::9/' \
	-e 's/^ports = tcp\/587$/ports = tcp\/587\nto = 203.0.113.2/' "$d/policy.conf" >"$d/covered.conf"
ns_exec $ns "$MXFENCE" --state-dir "$d/state" check -c "$d/covered.conf" >"$d/covered.out" 2>"$d/covered.err"
rc=$?
expect_eq "check: every destination covered: exit 0" "$rc" 0
expect_eq "check: every destination covered: no warning" "$(cat "$d/covered.err")" ""
ns_exec $ns "$MXFENCE" --state-dir "$d/state" apply -c "$d/covered.conf" >/dev/null 2>&1
ns_exec $ns "$MXFENCE" --state-dir "$d/state" monitor -c "$d/covered.conf" --prometheus "$d/mon2.prom" >"$d/mon2.out" 2>&1
rc=$?
expect_eq "monitor: every destination covered, the policy applied: OK" "$rc:$(cut -c1-11 "$d/mon2.out")" "0:MXFENCE OK "
expect_eq "monitor --prometheus: mxfence_dnat_unfiltered 0" \
	"$(sed -n 's/^mxfence_dnat_unfiltered{.*} //p' "$d/mon2.prom")" 0

# Without CAP_NET_ADMIN check cannot read the kernel: it says nothing of it, and passes.
chmod 755 "$d"
chmod 644 "$d"/policy.conf "$d"/relays.txt
ns_exec $ns setpriv --reuid=65534 --regid=65534 --clear-groups \
	"$MXFENCE" --state-dir "$d/state" check -c "$d/policy.conf" >"$d/nobody.out" 2>"$d/nobody.err"
rc=$?
expect_eq "check without privileges: exit 0" "$rc" 0
expect_eq "check without privileges: no warning about nat" "$(cat "$d/nobody.err")" ""

finish
