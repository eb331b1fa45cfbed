#!/usr/bin/env bash
# The mxfence script next to other tables, replacing itself, and failing safely.
#
#   +------------------------ namespace k-coexist (lo only) ------------------------+
#   |                                                                               |
#   |   table inet admin      chain input  (hook input, priority -5), set mgmt      |
#   |                         chain output (hook output)                            |
#   |   table ip mxfence      same name, other family: not ours                     |
#   |   table inet mxfence2   a name that starts like ours                          |
#   |   table inet mxfence    loaded, reloaded, replaced by another policy,         |
#   |                         then a broken script must leave it as it was          |
#   |   table inet mailgate   a second mxfence policy with its own table name       |
#   +-------------------------------------------------------------------------------+
#
# No links, no traffic.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/report.sh"
. "$here/../lib/netns.sh"
. "$here/../lib/kernel.sh"

kernel_test_init

ns=coexist
d=$NS_TMP
ns_add $ns || { fail "namespace" "ip netns add failed"; finish; }

# build LABEL CONF: script, model and model intervals into $d/LABEL.*
build() {
	"$MXFENCE" build -c "$2" -o "$d/$1.nft" 2>"$d/$1.err" &&
		"$MXFENCE" build -c "$2" --json >"$d/$1.json" 2>>"$d/$1.err" &&
		python3 "$NFTSETS" model "$d/$1.json" >"$d/$1.iv" 2>>"$d/$1.err"
}

foreign() {
	ns_exec $ns nft list ruleset | awk '
		/^table / { keep = ($0 !~ /^table inet (mxfence|mailgate) \{/) }
		keep'
}

# live_matches NAME LABEL TABLE: the table holds exactly LABEL's intervals,
# and exactly the sets its model names.
live_matches() {
	local name=$1 label=$2 table=$3 live=$d/live.$RANDOM.json want got
	ns_exec $ns nft -j list table inet "$table" >"$live" 2>&1 || {
		fail "$name" "cannot list table inet $table: $(head -n 2 "$live")"
		return 1
	}
	kr_compare "$name" "holds exactly the $label intervals" "$d/$label.iv" "$live" || return 1
	want=$(jq -r '.services[].families[].set' "$d/$label.json" | sort | tr '\n' ' ')
	got=$(jq -r '.nftables[].set.name // empty' "$live" | sort | tr '\n' ' ')
	expect_eq "$name: exactly the sets of the $label model" "$got" "$want"
	if out=$(python3 "$NFTSETS" chain "$d/$label.json" "$live" 2>&1); then
		pass "$name: chain gives the $label verdicts"
	else
		fail "$name: chain gives the $label verdicts" "$out"
	fi
}

build edges "$here/policies/edges/mxfence.conf" || fail "build edges" "$(tail -n 3 "$d/edges.err")"
build handmade "$here/policies/handmade/mxfence.conf" || fail "build handmade" "$(tail -n 3 "$d/handmade.err")"
TOP=${TOP:-$(cd "$here/../.." && pwd)}
if [ -f "$TOP/rules/mxfence.conf" ]; then
	base=default
	build default "$TOP/rules/mxfence.conf" || fail "build default" "$(tail -n 3 "$d/default.err")"
else
	# Without the default policy, replace edges with a policy of the same table made here.
	base=small
	mkdir -p "$d/small"
	printf '%s\n' 192.0.2.1 2001:db8::1 >"$d/small/relays.txt"
	printf '%s\n' '[table]' 'name = mxfence' '[service smtp]' 'ports = tcp/25' 'sources = relays' \
		'otherwise = drop' '[source relays]' 'format = list' 'file = relays.txt' >"$d/small/mxfence.conf"
	build small "$d/small/mxfence.conf" || fail "build small" "$(tail -n 3 "$d/small.err")"
fi
[ "$T_FAIL" -eq 0 ] || finish

cat >"$d/foreign.nft" <<'NFT'
table inet admin {
	set mgmt {
		type ipv4_addr
		flags interval
		elements = { 192.0.2.0/28, 198.51.100.7 }
	}
	chain input {
		type filter hook input priority -5; policy accept;
		ct state established,related accept
		tcp dport 22 ip saddr @mgmt accept
		tcp dport 22 drop
	}
	chain output {
		type filter hook output priority 0; policy accept;
		ip daddr 203.0.113.0/24 tcp dport 25 accept
	}
}
table ip mxfence {
	chain forward {
		type filter hook forward priority 0; policy accept;
		ip saddr 192.0.2.99 drop
	}
}
table inet mxfence2 {
	set smtp_v4 {
		type ipv4_addr
		flags interval
		elements = { 203.0.113.0/25 }
	}
}
NFT
check "foreign tables load" ns_exec $ns nft -f "$d/foreign.nft" || finish
foreign >"$d/foreign.before"

check "edges script loads next to foreign tables" ns_exec $ns nft -f "$d/edges.nft"
live_matches "first load" edges mxfence
foreign >"$d/foreign.after"
if cmp -s "$d/foreign.before" "$d/foreign.after"; then
	pass "foreign tables unchanged by loading the script"
else
	fail "foreign tables unchanged by loading the script" "$(diff "$d/foreign.before" "$d/foreign.after" | head -n 8)"
fi

ns_exec $ns nft list table inet mxfence >"$d/first.txt"
check "nft -c -f accepts the script with its table present" ns_exec $ns nft -c -f "$d/edges.nft"
check "edges script loads a second time" ns_exec $ns nft -f "$d/edges.nft"
live_matches "second load" edges mxfence
ns_exec $ns nft list table inet mxfence >"$d/second.txt"
if cmp -s "$d/first.txt" "$d/second.txt"; then
	pass "second load: the table reads as after the first"
else
	fail "second load: the table reads as after the first" "$(diff "$d/first.txt" "$d/second.txt" | grep '^[<>]' | head -n 3)"
fi

check "$base script replaces the edges table" ns_exec $ns nft -f "$d/$base.nft"
live_matches "replaced" "$base" mxfence

check "handmade script loads its own table beside" ns_exec $ns nft -f "$d/handmade.nft"
live_matches "beside" handmade mailgate
live_matches "beside, mxfence untouched" "$base" mxfence

# A script that fails at its very end must change nothing: one transaction.
cp "$d/edges.nft" "$d/broken.nft"
echo "add rule inet mxfence input tcp dport 25 ip saddr @no_such_set accept" >>"$d/broken.nft"
if ns_exec $ns nft -f "$d/broken.nft" >"$d/broken.out" 2>&1; then
	fail "a failing script is refused" "nft -f accepted a rule naming a missing set"
else
	pass "a failing script is refused"
fi
live_matches "after the failed load" "$base" mxfence
foreign >"$d/foreign.after2"
if cmp -s "$d/foreign.before" "$d/foreign.after2"; then
	pass "foreign tables unchanged at the end"
else
	fail "foreign tables unchanged at the end" "$(diff "$d/foreign.before" "$d/foreign.after2" | head -n 8)"
fi
tables=$(ns_exec $ns nft list tables | sort | tr '\n' ' ')
expect_eq "tables at the end" "$tables" "table inet admin table inet mailgate table inet mxfence table inet mxfence2 table ip mxfence "

finish
