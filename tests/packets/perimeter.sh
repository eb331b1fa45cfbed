#!/usr/bin/env bash
# Real SMTP sessions through a perimeter gateway that routes and DNATs to the
# mail servers behind it, with mxfence's `to` rules on the gateway.
#
#   client ---veth--- gw ---veth--- srv (192.0.2.25, 2001:db8:5::25)
#                      \---docker0 bridge---veth--- ctr (192.0.2.130)
#
# The drawing with every address is in tests/lib/perimeter.sh. The gateway
# routes to the server, DNATs 203.0.113.1 and 2001:db8:e::1 to it with the
# administrator's nat table, and 203.0.113.2 to the container with Docker's
# chains (table ip nat: PREROUTING -> DOCKER, POSTROUTING masquerade; table ip
# filter: FORWARD -> DOCKER-USER, DOCKER-FORWARD, policy drop).
#
# For every flow of perimeter/flows.txt (EXPECT SOURCE tcp/25 DESTINATION)
# swaks runs a whole SMTP transaction from the namespace holding SOURCE, and
# the outcome (accepted / dropped = connect timed out / rejected = reset) must
# equal what `mxfence verify --json` says (from the policy) and what
# `mxfence verify --live --json` says (from the gateway's kernel). Before the
# ruleset every flow is accepted. Rounds: the ruleset loaded by `nft -f` of the
# built script, by `mxfence apply --plan` of a plan, and by `mxfence apply`;
# then a delta through apply keeps every rule and its counters, in both chains.
# Last, the DNAT warning of check and status against the gateway's real nat
# tables.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/report.sh"
. "$here/../lib/netns.sh"
. "$here/../lib/smtp.sh"
. "$here/../lib/perimeter.sh"

need_root
need_cmd ip nft jq swaks smtp-sink timeout ss
need_mxfence
ns_init

d=$NS_TMP
cp "$here/perimeter/mxfence.conf" "$here/perimeter/relays.txt" "$d/"
conf=$d/mxfence.conf
flows=$here/perimeter/flows.txt
mx() { ns_exec gw "$MXFENCE" --state-dir "$d/state" --cache-dir "$d/cache" "$@"; }
mkdir -p "$d/state" "$d/cache"

if ! perim_setup "$d" >"$d/setup.log" 2>&1; then
	fail "topology" "$(tail -n 3 "$d/setup.log")"
	finish
fi
pass "topology: client, gateway (routing, admin DNAT, Docker DNAT), server, container; smtp-sink listening"

# The namespace that holds a source address.
ns_of() {
	case $1 in
	198.51.100.1) echo gw ;;
	198.51.100.* | 2001:db8:c::*) echo client ;;
	192.0.2.25 | 2001:db8:5::25) echo srv ;;
	192.0.2.130) echo ctr ;;
	*) echo none ;;
	esac
}

# Line number, EXPECT, source, proto/port, destination.
awk '{ sub(/#.*/, "") } NF >= 4 { print NR "\t" $1 "\t" $2 "\t" $3 "\t" $4 }' "$flows" >"$d/flows.tsv"
nflows=$(wc -l <"$d/flows.tsv")

probe_all() {
	local dir=$1 line expect src pp dst pids=()
	mkdir -p "$dir"
	while IFS=$'\t' read -r line expect src pp dst; do
		smtp_probe "$(ns_of "$src")" "$src" "$dst" "${pp#tcp/}" "$dir/$line" &
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

probe_all "$d/before"
smtp_expect_open "$d/before" "$d/flows.tsv"

if ! "$MXFENCE" build -c "$conf" -o "$d/rules.nft" 2>"$d/build.err"; then
	fail "build" "$(tail -n 3 "$d/build.err")"
	finish
fi
"$MXFENCE" verify -c "$conf" --json "$flows" >"$d/verify.json" 2>"$d/verify.err"
expect_eq "mxfence verify agrees with the EXPECT column (exit status)" "$?" 0
expect_eq "mxfence verify --json counts every flow" "$(jq -r .total "$d/verify.json" 2>/dev/null)" "$nflows"

verdict_of() {
	jq -r --argjson l "$2" '[.flows[] | select(.line == $l)][0] as $f
		| if $f == null then "none" else "\($f.got) \($f.address) \($f.proto)/\($f.port) \($f.destination)" end' "$1"
}

# Packets counted by the rules of CHAIN whose verdict is VERDICT.
counted() {
	ns_exec gw nft -j list chain inet mxfence "$1" |
		jq --arg v "$2" '[.nftables[].rule // empty | select(any(.expr[]; has($v)))
			| .expr[] | .counter.packets? // empty] | add // 0'
}
expect_counted() { # NAME CHAIN VERDICT
	local n
	n=$(counted "$2" "$3")
	if [ "${n:-0}" -gt 0 ]; then
		pass "$1: $n packets"
	else
		fail "$1" "counters: ${n:-none}"
	fi
}

round() {
	local r=$1 line expect src pp dst got want live name
	mx verify --live -c "$conf" --json "$flows" >"$d/$r.live.json" 2>"$d/$r.live.err"
	expect_eq "$r: mxfence verify --live agrees with the EXPECT column (exit status)" "$?" 0
	probe_all "$d/$r"
	while IFS=$'\t' read -r line expect src pp dst; do
		got=$(cat "$d/$r/$line")
		want=$(verdict_of "$d/verify.json" "$line")
		live=$(verdict_of "$d/$r.live.json" "$line")
		name="$r: line $line: $src -> $dst $pp"
		if [ "${want#* }" != "$src $pp $dst" ]; then
			fail "$name" "mxfence verify --json has '$want' for line $line"
		elif [ "${live#* }" != "$src $pp $dst" ]; then
			fail "$name" "mxfence verify --live --json has '$live' for line $line"
		elif [ "$got" != "$(outcome_of "${want%% *}")" ]; then
			fail "$name" "the packets were $got, mxfence verify says ${want%% *}"
		elif [ "$got" != "$(outcome_of "${live%% *}")" ]; then
			fail "$name" "the packets were $got, mxfence verify --live says ${live%% *}"
		elif [ "$got" != "$(outcome_of "$expect")" ]; then
			fail "$name" "the packets were $got, the flow file expects $expect"
		else
			pass "$name: $got, as verify and verify --live say"
		fi
	done <"$d/flows.tsv"
	expect_counted "$r: forward chain: accept rules counted" forward accept
	expect_counted "$r: forward chain: drop rules counted" forward drop
	expect_counted "$r: forward chain: reject rules counted" forward reject
	expect_counted "$r: input chain: accept rules counted" input accept
	expect_counted "$r: input chain: reject rules counted" input reject
	mx verify --exhaustive -c "$conf" >"$d/$r.exhaustive" 2>&1
	expect_eq "$r: verify --exhaustive finds the kernel as compiled" "$?:$(tail -n 1 "$d/$r.exhaustive")" "0:OK: 0 differences"
}

if check "script: nft -f loads the script on the gateway" ns_exec gw nft -f "$d/rules.nft"; then
	round script
fi
ns_exec gw nft delete table inet mxfence
ns_exec gw nft delete table inet mxfence
# A reviewed plan carries the `to` of every service: applied alone, it guards the
# forwarded mail as the policy does.
mx plan -c "$conf" -o "$d/p.plan" >"$d/plan.out" 2>&1
expect_eq "plan: mxfence plan writes a plan of the whole table (exit 1: a change)" "$?" 1
if check "plan: mxfence apply --plan loads it on the gateway" mx apply --plan "$d/p.plan"; then
	round plan
fi
ns_exec gw nft delete table inet mxfence
if check "apply: mxfence apply loads the policy on the gateway" mx apply -c "$conf"; then
	round apply
fi

# A delta: more relays. Only elements change; every rule, its handle and its
# counter stay, in both chains.
rules_state() {
	ns_exec gw nft -j -a list table inet mxfence |
		jq -c '[.nftables[] | (.table // empty | {table: .handle}),
			(.rule // empty | {chain, handle, packets: ([.expr[] | .counter.packets? // empty] | add)})]'
}
before=$(rules_state)
printf '203.0.113.99\n2001:db8:c::99\n' >>"$d/relays.txt"
mx apply -c "$conf" >"$d/delta.out" 2>&1
expect_eq "delta: apply exits 0" "$?" 0
after=$(rules_state)
expect_eq "delta: the table, every rule of input and forward and every counter kept" "$after" "$before"
if [ "$(jq '[.[] | select(.chain == "forward")] | length' <<<"$before")" -gt 0 ] &&
	[ "$(jq '[.[] | select(.packets > 0)] | length' <<<"$before")" -gt 0 ]; then
	pass "delta: the comparison saw forward rules and counted packets"
else
	fail "delta: the comparison saw forward rules and counted packets" "$before"
fi
if ns_exec gw nft list set inet mxfence exchange_v4 | grep -q '203\.0\.113\.99'; then
	pass "delta: the new relay is in the set"
else
	fail "delta: the new relay is in the set" "$(ns_exec gw nft list set inet mxfence exchange_v4 | head -n 8)"
fi

# status: every DNAT of the gateway is covered by a `to`: no warning.
mx status -c "$conf" >"$d/status.out" 2>"$d/status.err"
expect_eq "status: exit 0" "$?" 0
expect_eq "status: no DNAT left open with the full policy" "$(grep -c '^warning' "$d/status.err")" 0

# Without 203.0.113.1 in exchange's `to`, the admin's DNAT to the server is open.
sed 's/^to = 192.0.2.25 203.0.113.1$/to = 192.0.2.25/' "$conf" >"$d/open.conf"
want="warning: tcp/25 to 203.0.113.1 is DNAT'd by table ip adminnat chain prerouting to 192.0.2.25:25; no 'to' of services gateway, exchange or mailcow covers 203.0.113.1: that mail is not filtered"
mx check -c "$d/open.conf" >"$d/check.out" 2>"$d/check.err"
expect_eq "check: exit 0 with the warning" "$?" 0
expect_eq "check: names the admin's DNAT that no 'to' covers" "$(grep '^warning' "$d/check.err")" "$want"
mx status -c "$d/open.conf" >"$d/status2.out" 2>"$d/status2.err"
expect_eq "status: names the admin's DNAT that no 'to' covers" "$(grep '^warning' "$d/status2.err")" "$want"

finish
