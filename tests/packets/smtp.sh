#!/usr/bin/env bash
# Real SMTP sessions through the loaded ruleset, compared with `mxfence verify`.
#
#   +------------- namespace "mx" -------------+        +----------- namespace "client" ------------+
#   |                                          |        |                                           |
#   |  smtp-sink on tcp/25, tcp/587, tcp/2525  |        |  swaks, bound to one source address       |
#   |    at 192.0.2.25 and [2001:db8::25]      |        |  per flow                                 |
#   |  table inet mxfence (policy/)            |        |                                           |
#   |                                          |  veth  |                                           |
#   |  mx0  192.0.2.25/24                      +--------+  cl0  192.0.2.10/24   192.0.2.11/24        |
#   |       2001:db8::25/64                    |        |       192.0.2.12/24   198.51.100.7/24      |
#   |  routes 198.51.100.0/24, 203.0.113.0/24, |        |       198.51.100.8/24 203.0.113.9/24       |
#   |         2001:db8:1::/64 dev mx0          |        |       2001:db8::10/64 2001:db8:1::10/64    |
#   |                                          |        |       2001:db8:1::11/64                    |
#   +------------------------------------------+        +-------------------------------------------+
#
# Only documentation addresses; nothing routes anywhere else. For every flow of
# flows.txt (EXPECT SOURCE PROTO/PORT, to the server address of the source's
# family) swaks runs a whole SMTP transaction from that source, and the outcome
#   accepted  banner and transaction      dropped   connect timed out
#   rejected  connection refused or reset, or an ICMP error
# must equal what `mxfence verify --json` says for the flow (from the policy)
# and what `mxfence verify --live --json` says (from the kernel). Before the
# ruleset is loaded every flow must be accepted, so what changes afterwards is
# the ruleset's doing. Two rounds: the ruleset loaded by `nft -f` of the built
# script, then by `mxfence apply`.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/report.sh"
. "$here/../lib/netns.sh"
. "$here/../lib/smtp.sh"

need_root
need_cmd ip nft jq swaks smtp-sink timeout ss
need_mxfence
ns_init

conf=${POLICY:-$here/policy/mxfence.conf}
flows=${FLOWS:-$here/flows.txt}
d=$NS_TMP
SERVER4=192.0.2.25
SERVER6=2001:db8::25
PORTS="25 587 2525"
CLIENT_ADDRS=(192.0.2.10/24 192.0.2.11/24 192.0.2.12/24 198.51.100.7/24 198.51.100.8/24 203.0.113.9/24
	2001:db8::10/64 2001:db8:1::10/64 2001:db8:1::11/64)

setup() {
	ns_add mx && ns_add client &&
		ns_veth mx mx0 client cl0 &&
		ns_addr mx mx0 $SERVER4/24 $SERVER6/64 &&
		ns_addr client cl0 "${CLIENT_ADDRS[@]}" &&
		ns_exec mx ip route add 198.51.100.0/24 dev mx0 &&
		ns_exec mx ip route add 203.0.113.0/24 dev mx0 &&
		ns_exec mx ip -6 route add 2001:db8:1::/64 dev mx0 || return 1
	local p a
	for p in $PORTS; do
		for a in $SERVER4 "[$SERVER6]"; do
			ns_spawn mx "$d/sink-$p-${a//[^0-9a-f.]/}.log" smtp-sink -u nobody "$a:$p" 64
		done
	done
	for p in $PORTS; do
		if ! ns_wait_listen mx tcp $SERVER4 "$p" || ! ns_wait_listen mx tcp $SERVER6 "$p"; then
			echo "smtp-sink does not listen on $p: $(cat "$d"/sink-"$p"-* 2>/dev/null)"
			return 1
		fi
	done
}


# probe_all DIR: every flow in parallel (drops cost a timeout each); results DIR/LINE.
probe_all() {
	local dir=$1 line expect src pp pids=()
	mkdir -p "$dir"
	while IFS=$'\t' read -r line expect src pp; do
		smtp_probe_mx "$src" "${pp#tcp/}" "$dir/$line" &
		pids+=($!)
	done <"$d/flows.tsv"
	wait "${pids[@]}"
}

outcome_of() {
	case $1 in
	accept) echo accepted ;;
	drop) echo dropped ;;
	reject) echo rejected ;;
	*) echo "?$1" ;;
	esac
}

if ! setup >"$d/setup.log" 2>&1; then
	fail "topology" "$(tail -n 3 "$d/setup.log")"
	finish
fi
pass "topology: two namespaces, smtp-sink listening on tcp/25, 587, 2525 (IPv4 and IPv6)"

# The flows: line number, EXPECT, source, proto/port (comments and blank lines skipped).
awk '{ sub(/#.*/, "") } NF >= 3 { print NR "\t" $1 "\t" $2 "\t" $3 }' "$flows" >"$d/flows.tsv"
nflows=$(wc -l <"$d/flows.tsv")
if grep -qv $'\ttcp/' "$d/flows.tsv"; then
	fail "flows" "only tcp flows can be probed with SMTP: $(grep -v $'\ttcp/' "$d/flows.tsv" | head -n 1)"
fi

# Without the ruleset, every source reaches the server.
probe_all "$d/before"
smtp_expect_open "$d/before" "$d/flows.tsv"

if ! "$MXFENCE" build -c "$conf" -o "$d/rules.nft" 2>"$d/build.err"; then
	fail "build" "$(tail -n 3 "$d/build.err")"
	finish
fi

# What mxfence says about each flow, from the policy alone.
"$MXFENCE" verify -c "$conf" --json "$flows" >"$d/verify.json" 2>"$d/verify.err"
rc=$?
expect_eq "mxfence verify agrees with the EXPECT column (exit status)" "$rc" 0
if ! jq -e '.flows | type == "array"' "$d/verify.json" >/dev/null 2>&1; then
	fail "mxfence verify --json" "no flows array: $(head -c 300 "$d/verify.json") $(head -n 2 "$d/verify.err")"
	finish
fi
expect_eq "mxfence verify --json counts every flow" "$(jq -r .total "$d/verify.json")" "$nflows"

# verdict_of JSON LINE: the verdict a verify --json output gives the flow on LINE.
verdict_of() {
	jq -r --argjson l "$2" '[.flows[] | select(.line == $l)][0] as $f
		| if $f == null then "none" else "\($f.got) \($f.address) \($f.proto)/\($f.port)" end' "$1"
}

counted() { # CHAIN_JSON VERDICT PORT: packets counted by the rules ending in VERDICT on PORT
	jq --arg v "$2" --argjson p "$3" '[.nftables[].rule // empty
		| select(any(.expr[]; has($v)))
		| select(any(.expr[]; .match.left.payload.field? == "dport" and (.match.right == $p or (.match.right.set? // [] | index($p)))))
		| .expr[] | .counter.packets? // empty] | add // 0' "$1"
}
expect_counted() { # NAME CHAIN_JSON VERDICT PORT
	local n
	n=$(counted "$2" "$3" "$4")
	if [ "${n:-0}" -gt 0 ]; then
		pass "$1 counted $n packets"
	else
		fail "$1 counted packets" "counters: ${n:-none}"
	fi
}

# round NAME: with the ruleset loaded in mx, every flow's real outcome must be
# what verify says from the policy and what verify --live says from the kernel.
round() {
	local r=$1 line expect src pp got want live name
	ns_exec mx "$MXFENCE" --state-dir "$d/state" --cache-dir "$d/cache" \
		verify --live -c "$conf" --json "$flows" >"$d/$r.live.json" 2>"$d/$r.live.err"
	expect_eq "$r: mxfence verify --live agrees with the EXPECT column (exit status)" "$?" 0
	t0=$SECONDS
	probe_all "$d/$r"
	echo "# $r: probed $nflows flows in $((SECONDS - t0)) s"
	while IFS=$'\t' read -r line expect src pp; do
		got=$(cat "$d/$r/$line")
		want=$(verdict_of "$d/verify.json" "$line")
		live=$(verdict_of "$d/$r.live.json" "$line")
		name="$r: line $line: $src $pp"
		if [ "$want" = none ] || [ "${want#* }" != "$src $pp" ]; then
			fail "$name" "mxfence verify --json has '$want' for line $line"
		elif [ "$live" = none ] || [ "${live#* }" != "$src $pp" ]; then
			fail "$name" "mxfence verify --live --json has '$live' for line $line"
		elif [ "$got" != "$(outcome_of "${want%% *}")" ]; then
			fail "$name" "the packets were $got, mxfence verify says ${want%% *} (flow file expects $expect)"
		elif [ "$got" != "$(outcome_of "${live%% *}")" ]; then
			fail "$name" "the packets were $got, mxfence verify --live says ${live%% *}"
		elif [ "$got" != "$(outcome_of "$expect")" ]; then
			fail "$name" "the packets were $got, the flow file expects $expect"
		else
			pass "$name: $got, as mxfence verify and verify --live say (${want%% *})"
		fi
	done <"$d/flows.tsv"

	# The verdicts came from the ruleset's own rules: their counters moved.
	ns_exec mx nft -j list chain inet mxfence input >"$d/$r.chain.json"
	expect_counted "$r: accept rules of tcp/25" "$d/$r.chain.json" accept 25
	expect_counted "$r: drop rule of tcp/25" "$d/$r.chain.json" drop 25
	expect_counted "$r: reject rule of tcp/587" "$d/$r.chain.json" reject 587
}

mkdir -p "$d/state" "$d/cache"
if check "script: nft -f loads the script in mx" ns_exec mx nft -f "$d/rules.nft"; then
	round script
fi
ns_exec mx nft delete table inet mxfence
if check "apply: mxfence apply loads the policy in mx" \
	ns_exec mx "$MXFENCE" --state-dir "$d/state" --cache-dir "$d/cache" apply -c "$conf"; then
	round apply
fi

finish
