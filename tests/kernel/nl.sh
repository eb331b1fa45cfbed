#!/usr/bin/env bash
# The netlink layer (src/nl/) against the kernel, through tests/tools/nl_drive.
#
#   +------------------------- test host (root namespace, untouched) -------------------------+
#   |  per policy:  +-------------+   +-------------+      +-------------+  +-------------+    |
#   |               | nl-LABEL    |   | nft-LABEL   |      | delta       |  | big         |    |
#   |               | one batch   |   | nft -f of   |      | a scratch   |  | 240k        |    |
#   |               | of src/nl/  |   | mxfence     |      | table: CAS, |  | prefixes    |    |
#   |               |             |   | build       |      | dry run,    |  |             |    |
#   |               +-------------+   +-------------+      | errors      |  +-------------+    |
#   |                 compared: nft list text, set contents, +-------------+                   |
#   |                 nl_read_table, rule fingerprints                                         |
#   +------------------------------------------------------------------------------------------+
#
# No links and no traffic: only rulesets are loaded and read. Set contents of
# the scratch table are documentation addresses; the big set is generated.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/report.sh"
. "$here/../lib/netns.sh"

need_root
need_cmd ip nft jq python3 setpriv
need_mxfence
TOP=${TOP:-$(cd "$here/../.." && pwd)}
DRIVE=${NL_DRIVE:-$TOP/tests/tools/nl_drive}
NFTSETS="$TOP/tests/lib/nftsets.py"
if [ ! -x "$DRIVE" ]; then
	fail "nl.sh: driver" "$DRIVE not built (make tests/tools/nl_drive)"
	exit 1
fi
ns_init

# `nft list table` with every elements block folded: our batch sends merged
# intervals, nft -f of the script the CIDRs covering them; contents compare apart.
fold_elements() {
	python3 -c '
import re, sys
t = sys.stdin.read()
print(re.sub(r"elements = \{[^}]*\}", "elements = { ... }", t), end="")'
}

# policy_pair LABEL CONF: the policy loaded both ways, then compared.
policy_pair() {
	local label=$1 conf=$2 d="$NS_TMP/$1" table out rc
	mkdir -p "$d"
	if ! "$MXFENCE" build -c "$conf" -o "$d/rules.nft" >"$d/build.out" 2>&1 ||
		! "$MXFENCE" build -c "$conf" --json >"$d/model.json" 2>>"$d/build.out"; then
		fail "$label: mxfence build" "$(tail -n 3 "$d/build.out")"
		return 1
	fi
	table=$(jq -r '.table.name' "$d/model.json")
	ns_add "nl-$label" && ns_add "nft-$label" || { fail "$label: namespaces" "ip netns add failed"; return 1; }
	if ! ns_exec "nft-$label" nft -f "$d/rules.nft" 2>"$d/nft.err"; then
		fail "$label: nft -f loads the script" "$(head -n 3 "$d/nft.err")"
		return 1
	fi

	out=$(ns_exec "nl-$label" "$DRIVE" apply "$conf" 2>&1)
	rc=$?
	echo "# $label: $(printf '%s\n' "$out" | grep '^status=')"
	if [ $rc -ne 0 ]; then
		fail "$label: one batch creates table, sets, elements, chain and rules" "$out"
		return 1
	fi
	pass "$label: one batch creates table, sets, elements, chain and rules"

	ns_exec "nl-$label" nft list table inet "$table" | fold_elements >"$d/nl.txt"
	ns_exec "nft-$label" nft list table inet "$table" | fold_elements >"$d/nft.txt"
	if cmp -s "$d/nl.txt" "$d/nft.txt"; then
		pass "$label: nft list shows the same table, sets and rules as after nft -f (elements aside)"
	else
		fail "$label: nft list shows the same table, sets and rules as after nft -f" \
			"$(diff "$d/nft.txt" "$d/nl.txt" | grep '^[<>]' | head -n 6)"
	fi

	ns_exec "nl-$label" nft -j list table inet "$table" >"$d/nl.json"
	ns_exec "nft-$label" nft -j list table inet "$table" >"$d/nft.json"
	python3 "$NFTSETS" nft "$d/nl.json" >"$d/nl.iv" 2>&1
	python3 "$NFTSETS" nft "$d/nft.json" >"$d/nft.iv" 2>&1
	python3 "$NFTSETS" model "$d/model.json" >"$d/model.iv" 2>&1
	if cmp -s "$d/nl.iv" "$d/nft.iv" && cmp -s "$d/nl.iv" "$d/model.iv"; then
		pass "$label: nft -j shows the same set contents both ways, equal to the model ($(wc -l <"$d/model.iv") intervals)"
	else
		fail "$label: nft -j shows the same set contents both ways" \
			"$(diff "$d/model.iv" "$d/nl.iv" | grep '^[<>]' | head -n 4) $(diff "$d/nft.iv" "$d/nl.iv" | grep '^[<>]' | head -n 4)"
	fi
	if out=$(python3 "$NFTSETS" chain "$d/model.json" "$d/nl.json" 2>&1); then
		pass "$label: the batch-loaded chain gives the policy's verdicts ($out)"
	else
		fail "$label: the batch-loaded chain gives the policy's verdicts" "$out"
	fi

	"$DRIVE" model "$conf" >"$d/drive-model.iv" 2>/dev/null
	ns_exec "nl-$label" "$DRIVE" ivs "$table" >"$d/read-nl.iv" 2>"$d/read-nl.err"
	ns_exec "nft-$label" "$DRIVE" ivs "$table" >"$d/read-nft.iv" 2>"$d/read-nft.err"
	if [ -s "$d/drive-model.iv" ] && cmp -s "$d/drive-model.iv" "$d/read-nl.iv" &&
		cmp -s "$d/drive-model.iv" "$d/read-nft.iv"; then
		pass "$label: nl_read_table gives the compiled intervals, whichever way the table was loaded"
	else
		fail "$label: nl_read_table gives the compiled intervals" \
			"$(diff "$d/drive-model.iv" "$d/read-nl.iv" | grep '^[<>]' | head -n 3) $(diff "$d/drive-model.iv" "$d/read-nft.iv" | grep '^[<>]' | head -n 3) $(cat "$d/read-nl.err")"
	fi

	"$DRIVE" fp "$conf" >"$d/fp.want" 2>/dev/null
	ns_exec "nl-$label" "$DRIVE" livefp "$table" >"$d/fp.nl" 2>&1
	ns_exec "nft-$label" "$DRIVE" livefp "$table" >"$d/fp.nft" 2>&1
	if [ -s "$d/fp.want" ] && cmp -s "$d/fp.want" "$d/fp.nl" && cmp -s "$d/fp.want" "$d/fp.nft"; then
		pass "$label: rule fingerprints read back equal the expected ones, both ways ($(wc -l <"$d/fp.want") rules)"
	else
		fail "$label: rule fingerprints read back equal the expected ones" \
			"$(diff "$d/fp.want" "$d/fp.nl" | head -n 3) $(diff "$d/fp.want" "$d/fp.nft" | head -n 3)"
	fi

	# The same batch again replaces the table whole: add, delete, add.
	out=$(ns_exec "nl-$label" "$DRIVE" apply "$conf" 2>&1)
	ns_exec "nl-$label" "$DRIVE" ivs "$table" >"$d/read-nl2.iv" 2>/dev/null
	if [ $? -eq 0 ] && cmp -s "$d/drive-model.iv" "$d/read-nl2.iv" &&
		[ "$(ns_exec "nl-$label" nft list tables)" = "table inet $table" ]; then
		pass "$label: applying again replaces the table in one transaction"
	else
		fail "$label: applying again replaces the table in one transaction" "$out"
	fi
}

policy_pair handmade "$here/policies/handmade/mxfence.conf"
policy_pair edges "$here/policies/edges/mxfence.conf"
if [ -f "$TOP/rules/mxfence.conf" ]; then
	policy_pair default "$TOP/rules/mxfence.conf"
else
	skip "default: policy" "rules/mxfence.conf does not exist"
fi

# ---------------------------------------------------------------- deltas
d="$NS_TMP/delta"
mkdir -p "$d"
ns_add delta || { fail "delta: namespace" "ip netns add failed"; finish; }
X() { ns_exec delta "$@"; }
X nft add table inet scratch
X nft add set inet scratch s4 '{ type ipv4_addr; flags interval; }'
X nft add set inet scratch s6 '{ type ipv6_addr; flags interval; }'
: >"$d/none"
cat >"$d/initial4" <<'EOF'
192.0.2.0 192.0.2.15
192.0.2.32 192.0.2.47
192.0.2.64 192.0.2.64
198.51.100.0 198.51.100.255
203.0.113.128 203.0.113.255
EOF
printf '2001:db8::1 2001:db8::ff\n2001:db8:1:: 2001:db8:1:ffff:ffff:ffff:ffff:ffff\n' >"$d/initial6"
gen=$(X "$DRIVE" getgen)
out=$(X "$DRIVE" delta scratch s4 v4 "$d/none" "$d/initial4" 2>&1) &&
	out6=$(X "$DRIVE" delta scratch s6 v6 "$d/none" "$d/initial6" 2>&1)
rc=$?
X "$DRIVE" raw scratch s4 2>/dev/null | cut -d' ' -f2- >"$d/live4"
if [ $rc -eq 0 ] && cmp -s "$d/initial4" "$d/live4"; then
	pass "delta: intervals added to an existing set read back exactly"
else
	fail "delta: intervals added to an existing set read back exactly" "$out $out6 $(diff "$d/initial4" "$d/live4" | head -n 4)"
fi
g=$(printf '%s\n' "$out6" | sed -n 's/.*genid=\([0-9]*\).*/\1/p')
expect_eq "delta: each batch moves the generation by one, and reports it" "$g $(X "$DRIVE" getgen)" "$((gen + 2)) $((gen + 2))"

# The settled check (an empty transaction carrying a generation id): yes for
# the current one, "moved on" (-EINTR) for an older one, and it commits
# nothing, so the generation stays.
g=$(X "$DRIVE" getgen)
expect_eq "settled: the current generation is settled" "$(X "$DRIVE" settled "$g")" 0
expect_eq "settled: an older generation has moved on" "$(X "$DRIVE" settled $((g - 1)))" -4
expect_eq "settled: the check moves no generation" "$(X "$DRIVE" getgen)" "$g"

# One batch: delete two intervals, add three (one where a deleted one was, wider).
printf '192.0.2.32 192.0.2.47\n192.0.2.64 192.0.2.64\n' >"$d/del"
printf '192.0.2.32 192.0.2.63\n203.0.113.0 203.0.113.7\n255.255.255.0 255.255.255.255\n' >"$d/add"
cat >"$d/want4" <<'EOF'
192.0.2.0 192.0.2.15
192.0.2.32 192.0.2.63
198.51.100.0 198.51.100.255
203.0.113.0 203.0.113.7
203.0.113.128 203.0.113.255
255.255.255.0 255.255.255.255
EOF
out=$(X "$DRIVE" delta scratch s4 v4 "$d/del" "$d/add" 2>&1)
X "$DRIVE" raw scratch s4 2>/dev/null | cut -d' ' -f2- >"$d/live4"
if cmp -s "$d/want4" "$d/live4"; then
	pass "delta: deletes and adds in one batch, an open interval at 255.255.255.255 included"
else
	fail "delta: deletes and adds in one batch" "$out $(diff "$d/want4" "$d/live4" | head -n 4)"
fi
X nft list set inet scratch s4 >"$d/nftlist4"
if grep -q '255.255.255.0/24' "$d/nftlist4" && grep -q '192.0.2.32/27' "$d/nftlist4"; then
	pass "delta: nft lists the changed set as expected"
else
	fail "delta: nft lists the changed set as expected" "$(tr '\n' ' ' <"$d/nftlist4")"
fi

# Compare-and-swap: a commit by someone else in between makes the batch a no-op.
gen=$(X "$DRIVE" getgen)
X nft add table inet intruder
printf '192.0.2.128 192.0.2.135\n' >"$d/add2"
out=$(X "$DRIVE" delta scratch s4 v4 "$d/none" "$d/add2" --cas "$gen" 2>&1)
rc=$?
X "$DRIVE" raw scratch s4 2>/dev/null | cut -d' ' -f2- >"$d/live4b"
if [ $rc -eq 3 ] && cmp -s "$d/want4" "$d/live4b" && printf '%s' "$out" | grep -q "changed since generation $gen"; then
	pass "compare-and-swap: generation moved -> NL_RESTART, nothing applied"
else
	fail "compare-and-swap: generation moved -> NL_RESTART, nothing applied" "rc $rc: $out"
fi
gen=$(X "$DRIVE" getgen)
out=$(X "$DRIVE" delta scratch s4 v4 "$d/none" "$d/add2" --cas "$gen" 2>&1)
rc=$?
if [ $rc -eq 0 ] && printf '%s' "$out" | grep -q "genid=$((gen + 1)) " && [ "$(X "$DRIVE" getgen)" = $((gen + 1)) ]; then
	pass "compare-and-swap: unchanged generation -> applied, new generation G+1"
else
	fail "compare-and-swap: unchanged generation -> applied" "rc $rc: $out"
fi
printf '192.0.2.128 192.0.2.135\n' >>"$d/want4"
sort -V "$d/want4" -o "$d/want4"

# Dry run: checked by the kernel, nothing changes, not even the generation.
gen=$(X "$DRIVE" getgen)
printf '192.0.2.200 192.0.2.207\n' >"$d/add3"
out=$(X "$DRIVE" delta scratch s4 v4 "$d/none" "$d/add3" --dry-run 2>&1)
rc=$?
X "$DRIVE" raw scratch s4 2>/dev/null | cut -d' ' -f2- | sort -V >"$d/live4c"
if [ $rc -eq 0 ] && cmp -s "$d/want4" "$d/live4c" && [ "$(X "$DRIVE" getgen)" = "$gen" ]; then
	pass "dry run: accepted, kernel and generation unchanged"
else
	fail "dry run: accepted, kernel and generation unchanged" "rc $rc: $out $(diff "$d/want4" "$d/live4c" | head -n 3)"
fi
printf '198.51.100.128 198.51.101.15\n' >"$d/overlap"
out=$(X "$DRIVE" delta scratch s4 v4 "$d/none" "$d/overlap" --dry-run 2>&1)
rc=$?
if [ $rc -eq 1 ] && printf '%s' "$out" | grep -q 'set s4: overlapping interval 198.51.100.128-198.51.101.15'; then
	pass "dry run: an overlap is found without applying"
else
	fail "dry run: an overlap is found without applying" "rc $rc: $out"
fi
ns_add dry || true
out=$(ns_exec dry "$DRIVE" apply "$here/policies/handmade/mxfence.conf" --dry-run 2>&1)
rc=$?
n=$(ns_exec dry nft list ruleset | grep -c .)
if [ $rc -eq 0 ] && [ "$n" -eq 0 ]; then
	pass "dry run of a whole policy: accepted, nothing loaded"
else
	fail "dry run of a whole policy: accepted, nothing loaded" "rc $rc, $n lines listed: $out"
fi

# A batch that changes nothing (identical elements, no NLM_F_EXCL) succeeds without a commit.
gen=$(X "$DRIVE" getgen)
out=$(X "$DRIVE" delta scratch s4 v4 "$d/none" "$d/add2" --cas "$gen" 2>&1)
rc=$?
if [ $rc -eq 0 ] && printf '%s' "$out" | grep -q "genid=$gen " && [ "$(X "$DRIVE" getgen)" = "$gen" ]; then
	pass "a batch that changes nothing: OK, generation unchanged"
else
	fail "a batch that changes nothing: OK, generation unchanged" "rc $rc: $out"
fi

# Errors name the set and the interval; the batch applies nothing.
printf '192.0.2.8 192.0.2.11\n' >"$d/add4"
printf '192.0.2.1 192.0.2.9\n' >"$d/over2"
gen=$(X "$DRIVE" getgen)
out=$(X "$DRIVE" delta scratch s4 v4 "$d/none" "$d/over2" 2>&1)
rc=$?
if [ $rc -eq 1 ] && printf '%s' "$out" | grep -q 'error: set s4: overlapping interval 192.0.2.1-192.0.2.9' &&
	[ "$(X "$DRIVE" getgen)" = "$gen" ]; then
	pass "overlapping add: 'set s4: overlapping interval 192.0.2.1-192.0.2.9', nothing applied"
else
	fail "overlapping add names the set and the interval" "rc $rc: $out"
fi
printf '2001:db8:: 2001:db8::3\n' >"$d/over6"
out=$(X "$DRIVE" delta scratch s6 v6 "$d/none" "$d/over6" 2>&1)
if printf '%s' "$out" | grep -q 'error: set s6: overlapping interval 2001:db8::/126'; then
	pass "overlapping IPv6 add: 'set s6: overlapping interval 2001:db8::/126'"
else
	fail "overlapping IPv6 add names the set and the interval" "$out"
fi
printf '203.0.113.64 203.0.113.71\n' >"$d/missing"
out=$(X "$DRIVE" delta scratch s4 v4 "$d/missing" "$d/add4" 2>&1)
rc=$?
X "$DRIVE" raw scratch s4 2>/dev/null | cut -d' ' -f2- | sort -V >"$d/live4d"
if [ $rc -eq 1 ] && printf '%s' "$out" | grep -q 'cannot delete interval 203.0.113.64/29: not in the set' &&
	cmp -s "$d/want4" "$d/live4d"; then
	pass "delete of an absent interval: named, and the add in the same batch not applied"
else
	fail "delete of an absent interval: named, and the add in the same batch not applied" "rc $rc: $out"
fi
out=$(X "$DRIVE" delta scratch nosuch v4 "$d/none" "$d/add4" 2>&1)
if printf '%s' "$out" | grep -q 'set nosuch: cannot add elements: no such set'; then
	pass "missing set: 'set nosuch: cannot add elements: no such set'"
else
	fail "missing set is named" "$out"
fi

# Without CAP_NET_ADMIN (an unprivileged user, capabilities dropped).
out=$(X setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$DRIVE" open 2>&1)
expect_eq "no CAP_NET_ADMIN: clear error" "$out" "permission denied: needs root or CAP_NET_ADMIN"
if command -v capsh >/dev/null 2>&1; then
	out=$(X capsh --drop=cap_net_admin -- -c "exec '$DRIVE' open" 2>&1)
	expect_eq "root without CAP_NET_ADMIN (capsh --drop): clear error" "$out" "permission denied: needs root or CAP_NET_ADMIN"
fi

# Root of a user namespace owns its network namespace's nf_tables, but not
# SO_SNDBUFFORCE (initial namespace only): small batches work, one larger than
# net.core.wmem_max allows is refused by name rather than with a bare EMSGSIZE.
if unshare -U -n -r true 2>/dev/null; then
	out=$(unshare -U -n -r "$DRIVE" apply "$here/policies/handmade/mxfence.conf" 2>&1)
	if printf '%s' "$out" | grep -q '^status=OK'; then
		pass "user namespace: open and apply work without SO_SNDBUFFORCE"
	else
		fail "user namespace: open and apply work without SO_SNDBUFFORCE" "$out"
	fi
else
	skip "user namespace: open and apply" "unshare -U -n -r not permitted here"
fi

# ---------------------------------------------------------------- a big set
# NL_BIG_PREFIXES, NL_RACE_PREFIXES and NL_RACE_ROUNDS make it smaller where the
# kernel is slow (tests/vm runs this file on an emulated CPU).
BIG_N=${NL_BIG_PREFIXES:-240000}
BIG_MIN=$((BIG_N * 5 / 6))
RACE_N=${NL_RACE_PREFIXES:-60000}
RACE_ROUNDS=${NL_RACE_ROUNDS:-60}
big="$NS_TMP/big"
mkdir -p "$big"
GEN="$TOP/tests/bench/work/gen"
if [ ! -x "$GEN" ] && [ -f "$TOP/tests/bench/gen.c" ]; then
	cc -O2 -o "$big/gen" "$TOP/tests/bench/gen.c" 2>/dev/null && GEN="$big/gen"
fi
if [ -x "$GEN" ]; then
	"$GEN" v4 "$BIG_N" 11 >"$big/v4.txt"
	printf '[service smtp]\nports = tcp/25\nsources = big\n\n[source big]\nformat = list\nfile = v4.txt\n' >"$big/v4.conf"
	ns_add big || true
	out=$(ns_exec big "$DRIVE" apply "$big/v4.conf" 2>&1)
	rc=$?
	echo "# big: $(printf '%s\n' "$out" | grep '^status=')"
	"$DRIVE" model "$big/v4.conf" >"$big/model.iv" 2>/dev/null
	n=$(wc -l <"$big/model.iv")
	ns_exec big "$DRIVE" ivs mxfence >"$big/live.iv" 2>"$big/read.err"
	echo "$(cat "$big/read.err")"
	if [ $rc -eq 0 ] && [ "$n" -ge "$BIG_MIN" ] && cmp -s "$big/model.iv" "$big/live.iv"; then
		pass "big: $n intervals load in one batch and read back exactly"
	else
		fail "big: $n intervals load in one batch and read back exactly" "rc $rc: $out $(diff "$big/model.iv" "$big/live.iv" | head -n 3)"
	fi

	if unshare -U -n -r true 2>/dev/null; then
		wmax=$(cat /proc/sys/net/core/wmem_max)
		bytes=$(printf '%s\n' "$out" | sed -n 's/.*bytes=\([0-9]*\).*/\1/p')
		out=$(unshare -U -n -r "$DRIVE" apply "$big/v4.conf" 2>&1)
		if [ -n "$bytes" ] && [ "$bytes" -gt $((2 * wmax - 64)) ]; then
			if printf '%s' "$out" | grep -q "does not fit the socket's send buffer"; then
				pass "user namespace: a $bytes-byte batch over wmem_max ($wmax) is refused by name"
			else
				fail "user namespace: a batch over wmem_max is refused by name" "$out"
			fi
		else
			skip "user namespace: a batch over wmem_max" "wmem_max $wmax takes the whole batch"
		fi
	fi

	# Reads racing big commits and dry runs of the same set: each read that
	# succeeds is one of the two states, never a mix.
	"$GEN" v4 "$RACE_N" 21 >"$big/c.txt"
	"$GEN" v4 "$RACE_N" 22 >"$big/d.txt"
	for x in c d; do
		printf '[service smtp]\nports = tcp/25\nsources = s\n\n[source s]\nformat = list\nfile = %s.txt\n' $x >"$big/$x.conf"
		"$DRIVE" model "$big/$x.conf" 2>/dev/null | cut -d' ' -f2- >"$big/$x.iv"
	done
	: >"$big/none"
	ns_exec big nft add table inet race
	ns_exec big nft add set inet race s '{ type ipv4_addr; flags interval; }'
	ns_exec big "$DRIVE" delta race s v4 "$big/none" "$big/c.iv" >/dev/null 2>&1
	(
		cur=c nxt=d
		for k in $(seq 1 "$RACE_ROUNDS"); do
			if [ $((k % 3)) = 0 ]; then
				ns_exec big "$DRIVE" delta race s v4 "$big/$cur.iv" "$big/$nxt.iv" --dry-run
			else
				ns_exec big "$DRIVE" delta race s v4 "$big/$cur.iv" "$big/$nxt.iv"
				t=$cur cur=$nxt nxt=$t
			fi
		done
	) >"$big/churn.out" 2>&1 &
	churn=$!
	good=0 mixed=0 gave_up=0
	while kill -0 $churn 2>/dev/null; do
		if ns_exec big "$DRIVE" raw race s >"$big/race.out" 2>/dev/null; then
			cut -d' ' -f2- "$big/race.out" >"$big/race.iv"
			if cmp -s "$big/race.iv" "$big/c.iv" || cmp -s "$big/race.iv" "$big/d.iv"; then
				good=$((good + 1))
			else
				mixed=$((mixed + 1))
			fi
		else
			gave_up=$((gave_up + 1))
		fi
	done
	wait $churn
	if [ $mixed -eq 0 ] && [ $good -gt 0 ]; then
		pass "reads racing commits and dry runs: $good whole states, none mixed ($gave_up gave up: kept changing)"
	else
		fail "reads racing commits and dry runs are whole states" "$good whole, $mixed mixed, $gave_up gave up"
	fi

	# A commit elsewhere during the (seconds long) element dump: the read starts over.
	(sleep 0.3; ns_exec big nft add table inet elsewhere) &
	out=$(ns_exec big "$DRIVE" read mxfence 2>&1)
	wait
	att=$(printf '%s\n' "$out" | sed -n 's/.*attempts=\([0-9]*\).*/\1/p' | head -n 1)
	if [ -n "$att" ] && [ "$att" -ge 2 ] && printf '%s\n' "$out" | grep -q "^set smtp_v4 .*intervals=$n "; then
		pass "big: a commit during the read is noticed and the read starts over ($att attempts)"
	elif [ "$att" = 1 ]; then
		skip "big: a commit during the read is noticed" "the read finished before the commit"
	else
		fail "big: a commit during the read is noticed and the read starts over" "$out"
	fi
else
	skip "big: $((BIG_N / 1000))k prefixes" "tests/bench/gen not available"
fi

finish
