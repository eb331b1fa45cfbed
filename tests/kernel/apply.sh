#!/usr/bin/env bash
# apply, diff, verify --live/--exhaustive and status against the kernel.
#
#   +------------------- one throwaway namespace per part ---------------------+
#   |  lo (127.0.0.1, ::1)   table inet mxfence (the tool's)                    |
#   |                        table inet admin   (a foreign one, must survive)   |
#   |  no links, no traffic but loopback probes to count packets                |
#   +--------------------------------------------------------------------------+
#
# Delta and full installs, compare-and-swap under a concurrent change, the
# safety gates (exit 3, kernel untouched), a table of the same name with
# another structure, no CAP_NET_ADMIN, and kill -9 during a large apply.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/report.sh"
. "$here/../lib/netns.sh"

need_root
need_cmd ip nft jq setpriv
need_mxfence
ns_init
W=$NS_TMP
TOP=${TOP:-$(cd "$here/../.." && pwd)}

mx() { ns_exec "$NS" "$MXFENCE" --state-dir "$W/state-$NS" "$@"; }

write_policy() { # write_policy FILE RELAYS [extra source keys]
	cat >"$1" <<POL
[service smtp]
ports = tcp/25
sources = relays
max-removal = 10%

[source relays]
format = list
file = $2
POL
}

# --- first install, idempotence, delta, counters, foreign table -------------
NS=basic
ns_add $NS
ns_exec $NS nft -f - <<'NFT'
table inet admin {
	chain input {
		type filter hook input priority 10; policy accept;
		tcp dport 22 counter accept
	}
}
NFT
admin_before=$(ns_exec $NS nft list table inet admin)
seq 0 99 | sed 's/.*/198.51.100.&/' >"$W/relays.txt"
printf '192.0.2.0/26\n2001:db8:25::/64\n' >>"$W/relays.txt"
write_policy "$W/p.conf" "$W/relays.txt"

out=$(mx apply -c "$W/p.conf" 2>&1)
rc=$?
expect_eq "first install exits 0" "$rc" 0
case $out in *"first install"*) pass "first install is a full install" ;; *) fail "first install is a full install" "$out" ;; esac
check "kernel holds the policy (verify --exhaustive)" mx verify --exhaustive -c "$W/p.conf"
n4=$(ns_exec $NS nft -j list set inet mxfence smtp_v4 | jq '[.nftables[] | .set? // empty | .elem[]?] | length')
expect_eq "smtp_v4 has the merged intervals" "$n4" 2

out=$(mx apply -c "$W/p.conf" 2>&1)
case $out in *"nothing to do"*) pass "second apply sends nothing" ;; *) fail "second apply sends nothing" "$out" ;; esac
mx diff -c "$W/p.conf" >/dev/null
expect_eq "diff exits 0 when nothing changed" "$?" 0

# A damaged state file costs a full read of the kernel: never a wrong answer or a crash.
st="$W/state-$NS/mxfence.state"
cp "$st" "$W/state.good"
head -c 100 "$W/state.good" >"$st"
mx diff -c "$W/p.conf" >/dev/null 2>&1
expect_eq "state file cut short: diff reads the kernel, no change" "$?" 0
: >"$st"
mx diff -c "$W/p.conf" >/dev/null 2>&1
expect_eq "empty state file: diff reads the kernel, no change" "$?" 0
cp "$W/state.good" "$st"
MXFENCE_TEST_AFTER_MAP="truncate -s 0 '$st'" mx diff -c "$W/p.conf" >/dev/null 2>&1
expect_eq "state file truncated while it is mapped: no crash, diff reads the kernel" "$?" 0
cp "$W/state.good" "$st"

# A refused packet on loopback counts on the drop rule.
ns_exec $NS timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/25' 2>/dev/null
drops() { ns_exec $NS nft -j list chain inet mxfence input | jq '[.nftables[] | .rule? // empty | select(any(.expr[]; type == "object" and has("drop"))) | .expr[] | .counter?.packets // empty] | add // 0'; }
d1=$(drops)
[ "${d1:-0}" -ge 1 ] && pass "the drop counter counts a refused SYN" || fail "the drop counter counts a refused SYN" "packets=$d1"

# Change one source line: diff shows exactly that; apply sends only the delta.
sed -i 's/^198\.51\.100\.50$/203.0.113.50/' "$W/relays.txt"
out=$(mx diff -c "$W/p.conf")
rc=$?
expect_eq "diff exits 1 on a change" "$rc" 1
plus=$(printf '%s\n' "$out" | grep -c '^+ ')
minus=$(printf '%s\n' "$out" | grep -c '^- ')
if printf '%s\n' "$out" | grep -q '^+ 203.0.113.50/32 .*relays' && printf '%s\n' "$out" | grep -q '^- 198.51.100.50/32 .*(was: relays)' && [ "$plus" = 1 ] && [ "$minus" = 1 ]; then
	pass "diff shows exactly the changed line"
else
	fail "diff shows exactly the changed line" "$out"
fi
out=$(mx apply -c "$W/p.conf" 2>&1)
# The old interval 198.51.100.0-99 becomes two (0-49, 51-99): delete 1, add 2,
# plus the new /32: 3 starts + 4 ends... counted by the tool as elements sent.
el=$(printf '%s\n' "$out" | sed -n 's/.*; \([0-9]*\) elements in.*/\1/p')
case $out in *"smtp_v4 +3/-1 intervals"*) pass "apply sends only the delta ($el elements)" ;; *) fail "apply sends only the delta" "$out" ;; esac
[ -n "$el" ] && [ "$el" -le 8 ] && pass "delta is at most 8 elements" || fail "delta is at most 8 elements" "$out"
d2=$(drops)
[ "${d2:-0}" -ge "${d1:-1}" ] && pass "counters survive a delta apply" || fail "counters survive a delta apply" "before $d1 after $d2"
check "kernel holds the changed policy" mx verify --exhaustive -c "$W/p.conf"
expect_eq "foreign table untouched" "$(ns_exec $NS nft list table inet admin | sed 's/packets [0-9]* bytes [0-9]*//')" "$(printf '%s\n' "$admin_before" | sed 's/packets [0-9]* bytes [0-9]*//')"

# diff against a model file, no kernel needed.
"$MXFENCE" build --json -c "$W/p.conf" >"$W/model.json"
sed -i 's/^203\.0\.113\.50$/203.0.113.51/' "$W/relays.txt"
out=$("$MXFENCE" diff -c "$W/p.conf" --against "$W/model.json")
rc=$?
if [ $rc -eq 1 ] && printf '%s\n' "$out" | grep -q '^+ 203.0.113.51/32' && printf '%s\n' "$out" | grep -q '^- 203.0.113.50/32 .*(was: relays)'; then
	pass "diff --against FILE compares two builds"
else
	fail "diff --against FILE compares two builds" "rc=$rc $out"
fi
sed -i 's/^203\.0\.113\.51$/203.0.113.50/' "$W/relays.txt"

# --- compare-and-swap: a change between read and commit ---------------------
before=$(ns_exec $NS nft list table inet admin | grep -c comment)
printf '198.51.100.200/29\n' >>"$W/relays.txt"
out=$(MXFENCE_TEST_BEFORE_COMMIT="ip netns exec $(ns_name $NS) nft add rule inet admin input tcp dport 2222 accept comment race" mx apply -c "$W/p.conf" 2>&1)
rc=$?
case $out in *"changed while it was read"*) pass "a concurrent change takes the ERESTART path" ;; *) fail "a concurrent change takes the ERESTART path" "$out" ;; esac
expect_eq "the retried apply succeeds" "$rc" 0
check "after the retry the kernel holds the policy" mx verify --exhaustive -c "$W/p.conf"
expect_eq "the concurrent change is kept" "$(ns_exec $NS nft list table inet admin | grep -c 'comment "race"')" 1

# --- gates: exit 3, kernel untouched ----------------------------------------
snap() { ns_exec $NS nft list table inet mxfence | sed 's/packets [0-9]* bytes [0-9]*//'; }
s0=$(snap)
cp "$W/relays.txt" "$W/relays.good"
: >"$W/relays.txt"
mx apply -c "$W/p.conf" >/dev/null 2>"$W/err"
expect_eq "empty source: exit 3" "$?" 3
grep -q 'refused' "$W/err" && pass "empty source: says refused" || fail "empty source: says refused" "$(cat "$W/err")"
expect_eq "empty source: kernel unchanged" "$(snap)" "$s0"

head -n 20 "$W/relays.good" >"$W/relays.txt"
mx apply -c "$W/p.conf" >/dev/null 2>"$W/err"
expect_eq "big shrink: exit 3" "$?" 3
grep -q 'would lose' "$W/err" && pass "big shrink: names the loss" || fail "big shrink: names the loss" "$(cat "$W/err")"
expect_eq "big shrink: kernel unchanged" "$(snap)" "$s0"

{ cat "$W/relays.good"; echo "10.1"; } >"$W/relays.txt"
mx apply -c "$W/p.conf" >/dev/null 2>"$W/err"
expect_eq "broken source: exit 3" "$?" 3
grep -q "error: invalid IPv4 address.*'10.1'" "$W/err" && pass "broken source: names file and line" || fail "broken source: names file and line" "$(cat "$W/err")"
expect_eq "broken source: kernel unchanged" "$(snap)" "$s0"

head -n 20 "$W/relays.good" >"$W/relays.txt"
check "big shrink with --force applies" mx apply --force -c "$W/p.conf"
check "after --force the kernel holds the shrunk policy" mx verify --exhaustive -c "$W/p.conf"
cp "$W/relays.good" "$W/relays.txt"
check "restore" mx apply -c "$W/p.conf"

# --- dry run --------------------------------------------------------------
printf '203.0.113.128/25\n' >>"$W/relays.txt"
s1=$(snap)
out=$(mx apply --dry-run -c "$W/p.conf" 2>&1)
rc=$?
if [ $rc -eq 0 ] && printf '%s\n' "$out" | grep -q '^+ 203.0.113.128/25' && printf '%s\n' "$out" | grep -q 'dry run: the kernel accepted'; then
	pass "dry run shows the change and the kernel checked it"
else
	fail "dry run shows the change and the kernel checked it" "rc=$rc $out"
fi
expect_eq "dry run leaves the kernel unchanged" "$(snap)" "$s1"

# --- status -------------------------------------------------------------------
out=$(mx status -c "$W/p.conf")
if printf '%s\n' "$out" | grep -q 'set smtp_v4: ' && printf '%s\n' "$out" | grep -q 'service smtp: accepted' && printf '%s\n' "$out" | grep -q 'last applied:'; then
	pass "status shows sets, counters and the last apply"
else
	fail "status shows sets, counters and the last apply" "$out"
fi

# --- a hand-made table of the same name with another structure: replaced whole
NS=foreign
ns_add $NS
ns_exec $NS nft -f - <<'NFT'
table inet mxfence {
	set smtp_v4 { type ipv4_addr; }
	chain other { type filter hook input priority 5; policy accept; }
}
NFT
out=$(mx apply -c "$W/p.conf" 2>&1)
rc=$?
expect_eq "a foreign structure under our name: apply exits 0" "$rc" 0
case $out in *"replaced"*|*"differ"*|*"not the policy"*|*"another type"*|*"chains"*) pass "it says why the table is replaced" ;; *) fail "it says why the table is replaced" "$out" ;; esac
check "the table is replaced whole" mx verify --exhaustive -c "$W/p.conf"
ns_exec $NS nft list chain inet mxfence other >/dev/null 2>&1 && fail "the old chain is gone" "chain other still there" || pass "the old chain is gone"

# --- no CAP_NET_ADMIN -----------------------------------------------------------
NS=nocap
ns_add $NS
chmod -R a+rX "$W"
out=$(ns_exec $NS setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all "$MXFENCE" --state-dir "$W/nocap-state" apply -c "$W/p.conf" 2>&1)
rc=$?
expect_eq "no CAP_NET_ADMIN: exit 2" "$rc" 2
case $out in *"permission denied: needs root or CAP_NET_ADMIN"*) pass "no CAP_NET_ADMIN: says so" ;; *) fail "no CAP_NET_ADMIN: says so" "$out" ;; esac

# --- kill -9 during a large apply: the old or the new policy, never a mix ----
# APPLY_KILL_PREFIXES and APPLY_KILL_ROUNDS make it smaller where the kernel is
# slow (tests/vm runs this file on an emulated CPU).
KILL_N=${APPLY_KILL_PREFIXES:-260000}
KILL_ROUNDS=${APPLY_KILL_ROUNDS:-16}
KILL_MIN=$((KILL_N * 10 / 13))
GEN=$TOP/tests/bench/work/gen
if [ ! -x "$GEN" ]; then
	cc -O2 -o "$W/gen" "$TOP/tests/bench/gen.c" && GEN=$W/gen
fi
NS=kill
ns_add $NS
"$GEN" v4 "$KILL_N" 11 >"$W/a.txt"
"$GEN" v4 "$KILL_N" 12 >"$W/b.txt"
write_policy "$W/a.conf" "$W/a.txt"
write_policy "$W/b.conf" "$W/b.txt"
ia=$("$MXFENCE" check -c "$W/a.conf" | sed -n 's/.*, \([0-9]*\) intervals.*/\1/p')
[ "${ia:-0}" -ge $KILL_MIN ] && pass "kill test policy has >= $((KILL_MIN / 1000))k intervals ($ia)" || fail "kill test policy has >= $((KILL_MIN / 1000))k intervals" "$ia"
check "install policy A" mx apply -c "$W/a.conf"
cur=a mixed=0 kills=0 landed=0
for i in $(seq 1 "$KILL_ROUNDS"); do
	next=$([ $cur = a ] && echo b || echo a)
	# Not through mx(): $! must be mxfence itself (ip netns exec execs it), not a subshell.
	ip netns exec "$(ns_name $NS)" "$MXFENCE" --state-dir "$W/state-$NS" apply --force \
		-c "$W/$next.conf" >/dev/null 2>&1 &
	pid=$!
	sleep "0.$((RANDOM % 90))"
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	[ $? -eq 137 ] && kills=$((kills + 1))
	if mx verify --exhaustive -c "$W/$next.conf" >/dev/null 2>&1; then
		cur=$next landed=$((landed + 1))
	elif ! mx verify --exhaustive -c "$W/$cur.conf" >/dev/null 2>&1; then
		mixed=$((mixed + 1))
	fi
done
expect_eq "after every kill -9 the kernel holds A or B in full ($kills kills, $landed landed)" "$mixed" 0
# A killed apply can leave its state file half-way beside the real one; the
# next apply removes such files (it holds the lock) and keeps a state that
# diff can use.
: >"$W/state-$NS/mxfence.state.tmp.stale1"
left=$(ls "$W/state-$NS" | grep -c '\.tmp\.')
next=$([ $cur = a ] && echo b || echo a)
check "after the kills, apply of the other policy" mx apply --force -c "$W/$next.conf"
expect_eq "no state file is left half-way (there were $left)" "$(ls "$W/state-$NS" | grep -c '\.tmp\.')" 0
check "diff against the kernel through the state: no change" mx diff -c "$W/$next.conf"

finish
