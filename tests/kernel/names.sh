#!/usr/bin/env bash
# Whatever the policy grammar accepts must load: names, priorities and ports at
# their limits. For each variant mxfence either refuses the policy, or nft takes
# its script.
#
#   +---------------- namespace k-names (lo only) ----------------+
#   |   nft -c -f for every variant; nft -f for the boundary ones |
#   +-------------------------------------------------------------+
#
# No links, no traffic.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/report.sh"
. "$here/../lib/netns.sh"

need_root
need_cmd ip nft
need_mxfence
ns_init

d=$NS_TMP
ns_add names || {
	fail "namespace" "ip netns add failed"
	finish
}
printf '%s\n' 192.0.2.1 2001:db8::1 >"$d/relays.txt"

# policy TABLE PRIORITY SERVICE PORTS: a one-service policy in $d/p.conf
policy() {
	cat >"$d/p.conf" <<CONF
[table]
name = $1
priority = $2

[service $3]
ports = $4
sources = relays

[source relays]
format = list
file = relays.txt
CONF
}

# try [load]: "refused", "ok", or what nft said, for the policy in $d/p.conf.
try() {
	if ! "$MXFENCE" build -c "$d/p.conf" -o "$d/p.nft" >/dev/null 2>"$d/p.err"; then
		echo refused
	elif ! ns_exec names nft -c -f "$d/p.nft" >"$d/n.err" 2>&1; then
		echo "nft -c: $(head -n 1 "$d/n.err" | sed 's/^[^ ]* //')"
	elif [ -n "${1:-}" ] && ! ns_exec names nft -f "$d/p.nft" >"$d/n.err" 2>&1; then
		echo "nft -f: $(head -n 1 "$d/n.err" | sed 's/^[^ ]* //')"
	else
		[ -n "${1:-}" ] && ns_exec names nft flush ruleset
		echo ok
	fi
}

# note VARIANT RESULT, then group NAME: one result per group of variants,
# naming those mxfence accepted but nft did not take.
group_bad=()
group_n=0
group_why=""
note() {
	group_n=$((group_n + 1))
	case $2 in
	ok | refused) ;;
	*)
		group_bad+=("$1")
		[ -n "$group_why" ] || group_why="'$1': $2"
		;;
	esac
}
group() {
	if [ ${#group_bad[@]} -eq 0 ]; then
		pass "$1: all $group_n refused by mxfence or taken by nft"
	else
		fail "$1" "${#group_bad[@]} of $group_n accepted by mxfence but not by nft: ${group_bad[*]}; e.g. $group_why"
	fi
	group_bad=()
	group_n=0
	group_why=""
}

# Table names: identifiers, and words nft's grammar reserves.
for t in mxfence MX_fence a x2345678901234567890123456789012 \
	table inet ip ip6 chain set map rule flags type hook policy priority elements \
	accept drop reject counter input filter tcp udp delete add flush list \
	meta ct log limit comment handle index jump goto return queue last \
	interval timeout dynamic bridge netdev arp vlan ether mark state; do
	policy "$t" 0 smtp tcp/25
	note "$t" "$(try)"
done
group "table names"

# Service names become set names <service>_v4 / _v6.
for s in smtp accept table set input x2345678901234567890123456789012 Submission_2; do
	policy mxfence 0 "$s" tcp/25
	note "$s" "$(try)"
done
group "service names"

for p in -1000 1000 -1 -300 300; do
	policy mxfence "$p" smtp tcp/25
	note "$p" "$(try load)"
done
group "priorities"

for ports in tcp/1 tcp/65535 tcp/1-65535 udp/1-65535 "tcp/1-65535 udp/1-65535" \
	"tcp/25 tcp/465 tcp/587 tcp/2525 udp/25"; do
	policy mxfence 0 smtp "$ports"
	note "$ports" "$(try load)"
done
group "ports"

finish
