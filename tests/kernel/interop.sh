#!/usr/bin/env bash
# `mxfence apply` and the `mxfence build` script, on the same tables: each must
# leave exactly the compiled model in the kernel, whichever loaded the table before.
#
#   +---------------------- test host (root namespace, untouched) ----------------------+
#   |   +------------------+  +------------------+  +------------------+                 |
#   |   | i-default        |  | i-handmade       |  | i-edges          |  ...  one       |
#   |   | lo               |  | lo               |  | lo               |  namespace per  |
#   |   | table inet ...   |  | table inet ...   |  | table inet ...   |  policy, no     |
#   |   +------------------+  +------------------+  +------------------+  links, no      |
#   |   +------------------+                                               traffic        |
#   |   | i-edges2 (apply  |  state and cache folders: $NS_TMP/<policy>/,                 |
#   |   |  only)           |  never /var/lib/mxfence                                      |
#   |   +------------------+                                                              |
#   +----------------------------------------------------------------------------------+
#
# Per policy (the default one, handmade, edges, and the real-feed ones when
# $SHARED has them): apply loads exactly the model's intervals, sets and verdicts;
# diff then finds nothing; verify --exhaustive agrees; a second apply leaves the
# table as it was; the script loaded over the applied table, and apply over the
# script's table, both give the model again. Then a changed policy, applied over
# the script's table (one element per CIDR) and over a table only apply wrote.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/report.sh"
. "$here/../lib/netns.sh"
. "$here/../lib/kernel.sh"

kernel_test_init

TOP=${TOP:-$(cd "$here/../.." && pwd)}
SHARED=${SHARED:-$(cd "$TOP/.." && pwd)/shared}

# mx LABEL ARGS...: mxfence inside the policy's namespace, with its own state.
# shellcheck disable=SC2317 # called through expect_rc
mx() {
	local label=$1
	shift
	ns_exec "i-$label" "$MXFENCE" --state-dir "$NS_TMP/$label/state" \
		--cache-dir "$NS_TMP/$label/cache" "$@"
}

# live_is LABEL NAME MODEL: the policy's table holds exactly MODEL's intervals
# and sets, and its chain gives MODEL's verdicts.
live_is() {
	local label=$1 name=$2 model=$3 d=$NS_TMP/$1 live want got out
	live=$d/live.$RANDOM.json
	python3 "$NFTSETS" model "$model" >"${model%.json}.iv" 2>/dev/null
	if ! ns_exec "i-$label" nft -j list table inet "$(jq -r .table.name "$model")" >"$live" 2>&1; then
		fail "$label: $name" "cannot list the table: $(head -n 2 "$live")"
		return 1
	fi
	kr_compare "$label" "$name: the sets hold exactly the compiled intervals" "${model%.json}.iv" "$live"
	want=$(jq -r '.services[].families[].set' "$model" | sort | tr '\n' ' ')
	got=$(jq -r '.nftables[].set.name // empty' "$live" | sort | tr '\n' ' ')
	expect_eq "$label: $name: exactly the model's sets" "$got" "$want"
	if out=$(python3 "$NFTSETS" chain "$model" "$live" 2>&1); then
		pass "$label: $name: the chain gives the policy's verdicts ($out)"
	else
		fail "$label: $name: the chain gives the policy's verdicts" "$out"
	fi
}

# expect_rc NAME WANT CMD...
expect_rc() {
	local name=$1 want=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq "$want" ]; then
		pass "$name"
	else
		fail "$name" "exit $rc, want $want: $(printf '%s\n' "$out" | tail -n 3)"
	fi
	return $((rc != want))
}

roundtrip() {
	local label=$1 conf=$2 d=$NS_TMP/$1 table t0
	mkdir -p "$d/state" "$d/cache"
	if ! "$MXFENCE" build -c "$conf" --json >"$d/model.json" 2>"$d/build.err" ||
		! "$MXFENCE" build -c "$conf" -o "$d/rules.nft" 2>>"$d/build.err"; then
		fail "$label: build" "$(tail -n 3 "$d/build.err")"
		return 1
	fi
	table=$(jq -r .table.name "$d/model.json")
	ns_add "i-$label" || {
		fail "$label: namespace" "ip netns add failed"
		return 1
	}

	t0=$SECONDS
	expect_rc "$label: apply installs the policy" 0 mx "$label" apply -c "$conf" || return 1
	echo "# $label: applied in $((SECONDS - t0)) s"
	live_is "$label" "after apply" "$d/model.json"
	expect_rc "$label: diff after apply finds nothing" 0 mx "$label" diff -c "$conf"
	expect_rc "$label: verify --exhaustive after apply" 0 mx "$label" verify --exhaustive -c "$conf"

	ns_exec "i-$label" nft list table inet "$table" >"$d/first.txt"
	expect_rc "$label: a second apply succeeds" 0 mx "$label" apply -c "$conf"
	ns_exec "i-$label" nft list table inet "$table" >"$d/second.txt"
	if cmp -s "$d/first.txt" "$d/second.txt"; then
		pass "$label: after a second apply the table reads as after the first"
	else
		fail "$label: after a second apply the table reads as after the first" "$(diff "$d/first.txt" "$d/second.txt" | grep '^[<>]' | head -n 3)"
	fi

	expect_rc "$label: the nft script loads over the applied table" 0 ns_exec "i-$label" nft -f "$d/rules.nft"
	live_is "$label" "script over apply" "$d/model.json"
	expect_rc "$label: diff finds nothing to change in the script's table" 0 mx "$label" diff -c "$conf"
	expect_rc "$label: apply over the script's table succeeds" 0 mx "$label" apply -c "$conf"
	live_is "$label" "apply over the script" "$d/model.json"
}

if [ -f "$TOP/rules/mxfence.conf" ]; then
	roundtrip default "$TOP/rules/mxfence.conf"
else
	skip "default: policy" "rules/mxfence.conf does not exist"
fi
roundtrip handmade "$here/policies/handmade/mxfence.conf"

if roundtrip edges "$here/policies/edges/mxfence.conf"; then
	d=$NS_TMP/edges
	# A changed policy: a run splits and loses its first address.
	cp -r "$here/policies/edges" "$d/changed"
	sed -i 's/^203\.0\.113\.16$/203.0.113.17/; s/^9\.255\.255\.255$//' "$d/changed/runs.txt"
	if "$MXFENCE" build -c "$d/changed/mxfence.conf" --json >"$d/changed.json" 2>"$d/changed.err"; then
		# The table the nft script loaded holds one element per CIDR, not one
		# per interval: apply must still be able to change it.
		expect_rc "edges: apply of a changed policy over the script's table" 0 mx edges apply -c "$d/changed/mxfence.conf"
		live_is edges "changed policy over the script's table" "$d/changed.json"
		expect_rc "edges: verify --exhaustive after the change" 0 mx edges verify --exhaustive -c "$d/changed/mxfence.conf"

		# The same change where only apply ever wrote.
		mkdir -p "$NS_TMP/edges2/state" "$NS_TMP/edges2/cache"
		ns_add i-edges2
		expect_rc "edges2: apply" 0 mx edges2 apply -c "$here/policies/edges/mxfence.conf"
		expect_rc "edges2: diff sees the changed policy" 1 mx edges2 diff -c "$d/changed/mxfence.conf"
		expect_rc "edges2: apply of the changed policy" 0 mx edges2 apply -c "$d/changed/mxfence.conf"
		live_is edges2 "after the change" "$d/changed.json"
		expect_rc "edges2: verify --exhaustive after the change" 0 mx edges2 verify --exhaustive -c "$d/changed/mxfence.conf"
	else
		fail "edges: build the changed policy" "$(tail -n 3 "$d/changed.err")"
	fi
fi

P=$SHARED/data/providers
B=$SHARED/data/blocklists
m365=$TOP/data/microsoft365-endpoints-worldwide-2024-07-14.json
if [ -r "$P/aws-ip-ranges-2026-07-20.json" ] && [ -r "$P/azure-servicetags-public-2025-07-22-crlf.json" ] && [ -r "$m365" ]; then
	mkdir -p "$NS_TMP/providers.conf.d"
	cat >"$NS_TMP/providers.conf.d/mxfence.conf" <<CONF
[service smtp]
ports = tcp/25
sources = aws m365
otherwise = drop

[service submission]
ports = tcp/587 tcp/465
sources = azure
otherwise = reject

[source aws]
format = aws
file = $P/aws-ip-ranges-2026-07-20.json

[source m365]
format = m365
file = $m365

[source azure]
format = azure
file = $P/azure-servicetags-public-2025-07-22-crlf.json
CONF
	roundtrip providers "$NS_TMP/providers.conf.d/mxfence.conf"
else
	skip "providers: policy" "AWS, Azure or M365 feed missing"
fi
if [ -r "$B/blocklist_net_ua-2026-08-22.ipset" ] && [ -r "$B/x4bnet-datacenter-ipv6-2026-08-22.txt" ]; then
	mkdir -p "$NS_TMP/bulk.conf.d"
	cat >"$NS_TMP/bulk.conf.d/mxfence.conf" <<CONF
[table]
name = mxbulk

[service smtp]
ports = tcp/25
sources = singles dc6
otherwise = reject

[source singles]
format = list
file = $B/blocklist_net_ua-2026-08-22.ipset

[source dc6]
format = list
file = $B/x4bnet-datacenter-ipv6-2026-08-22.txt
CONF
	roundtrip bulk "$NS_TMP/bulk.conf.d/mxfence.conf"
else
	skip "bulk: policy" "blocklist feeds missing"
fi

finish
