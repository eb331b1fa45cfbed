#!/usr/bin/env bash
# The rules of `to` in the kernel: the nft script and `mxfence apply` must
# write the same chains and rules, whichever loaded the table first.
#
#   +------------------- namespace k-to (lo only, no traffic) -------------------+
#   |  table inet mxfence: sets a_v4 .. d_v6, chain input, chain forward        |
#   |  (policies/to: every shape a destination takes in a rule)                 |
#   +---------------------------------------------------------------------------+
#
# The listed chains are evaluated for both paths, destinations in and out of
# every `to`, and replies (tests/lib/nftsets.py chain). Then: verify
# --exhaustive finds the script's rules to be the policy's; apply over the
# script's table changes nothing; a changed `to` replaces the table whole;
# without any `to` the forward chain goes, and comes back with one.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/report.sh"
. "$here/../lib/netns.sh"
. "$here/../lib/kernel.sh"

kernel_test_init

conf=$here/policies/to/mxfence.conf
d=$NS_TMP/work
mkdir -p "$d/state" "$d/cache"
mx() { ns_exec k-to "$MXFENCE" --state-dir "$d/state" --cache-dir "$d/cache" "$@"; }
expect_rc() { # NAME WANT CMD...
	local name=$1 want=$2 out rc
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -eq "$want" ]; then pass "$name"; else fail "$name" "exit $rc, want $want: $(printf '%s\n' "$out" | tail -n 3)"; fi
	return $((rc != want))
}
handles() { ns_exec k-to nft -a list table inet mxfence | grep -o '# handle [0-9]*' | tr '\n' ' '; }
chains() { ns_exec k-to nft list table inet mxfence | sed -n 's/^\tchain \([a-z]*\) {$/\1/p' | tr '\n' ' '; }

kernel_roundtrip to "$conf" 40 || finish

# The script's rules are what apply would write: same fingerprints.
expect_rc "verify --exhaustive over the script's table" 0 mx verify --exhaustive -c "$conf"
expect_rc "diff over the script's table finds nothing" 0 mx diff -c "$conf"
before=$(handles)
out=$(mx apply -c "$conf" 2>&1)
expect_eq "apply over the script's table: nothing to do" "$(printf '%s\n' "$out" | grep -c 'nothing to do')" 1
expect_eq "apply over the script's table: every rule and chain kept" "$(handles)" "$before"
expect_eq "the table has the chains input and forward" "$(chains)" "input forward "

# The edge flows of the round trip, with their destinations, against the kernel.
expect_rc "verify --live agrees at the edge addresses" 0 mx verify --live -c "$conf" "$KR_DIR/edges.flows"

# A changed `to` is a change of the rules: the table is replaced whole.
cp -r "$here/policies/to" "$d/changed"
sed -i 's/^to = 203.0.113.9 203.0.113.10$/to = 203.0.113.9 203.0.113.10 203.0.113.11/' "$d/changed/mxfence.conf"
"$MXFENCE" build -c "$d/changed/mxfence.conf" --json >"$d/changed.json"
out=$(mx diff -c "$d/changed/mxfence.conf" 2>&1)
expect_eq "diff: a changed 'to' replaces the table" "$(printf '%s\n' "$out" | grep -c 'rules of service b differ from the policy.*replaced whole')" 1
expect_rc "apply of the changed 'to'" 0 mx apply -c "$d/changed/mxfence.conf"
expect_rc "verify --exhaustive after the change" 0 mx verify --exhaustive -c "$d/changed/mxfence.conf"
ns_exec k-to nft -j list table inet mxfence >"$d/changed.live.json"
if out=$(python3 "$NFTSETS" chain "$d/changed.json" "$d/changed.live.json" 2>&1); then
	pass "after the change the chains give the policy's verdicts ($out)"
else
	fail "after the change the chains give the policy's verdicts" "$out"
fi
if ns_exec k-to nft list chain inet mxfence forward | grep -q '203\.0\.113\.11'; then
	pass "the new destination is in the forward chain"
else
	fail "the new destination is in the forward chain" "$(ns_exec k-to nft list chain inet mxfence forward | head -n 5)"
fi

# No `to` at all: no forward chain; with one again: back.
grep -v '^to = ' "$d/changed/mxfence.conf" | sed 's/^\[service d\]$/[service d]/' >"$d/changed/none.conf"
sed -i 's/^ports = tcp\/25$/ports = tcp\/26/' "$d/changed/none.conf" # b no longer shares tcp/25 with a
expect_rc "apply of the policy without 'to'" 0 mx apply -c "$d/changed/none.conf"
expect_eq "without 'to' the table has the input chain only" "$(chains)" "input "
expect_rc "verify --exhaustive without 'to'" 0 mx verify --exhaustive -c "$d/changed/none.conf"
expect_rc "apply of the policy with 'to' again" 0 mx apply -c "$conf"
expect_eq "with 'to' again the forward chain is back" "$(chains)" "input forward "
expect_rc "verify --exhaustive with 'to' again" 0 mx verify --exhaustive -c "$conf"

# status follows the structure: the forward chain deleted by hand leaves the
# forwarded mail open, and status says so with exit 1.
expect_rc "status with the policy's table" 0 mx status -c "$conf"
ns_exec k-to nft delete chain inet mxfence forward
out=$(mx status -c "$conf" 2>&1)
expect_eq "status without the forward chain: exit 1" "$?" 1
expect_eq "status without the forward chain: says the structure is not the policy's" \
	"$(printf '%s\n' "$out" | grep -c "^  structure: not the policy's: ")" 1

# A plan carries the `to` of every service: applied alone over no table, it
# makes the forward chain and the table verify --exhaustive finds the policy's.
ns_exec k-to nft delete table inet mxfence
mx plan -c "$conf" -o "$d/to.plan" >/dev/null 2>&1
expect_eq "plan of the policy with 'to': exit 1 (a change)" "$?" 1
expect_eq "the plan names each service's destinations" \
	"$(grep -c '^service [abd] .* to [0-9]' "$d/to.plan"):$(grep -c '^service c .* to -$' "$d/to.plan")" "3:1"
expect_rc "apply --plan of it" 0 mx apply --plan "$d/to.plan"
expect_eq "after apply --plan the forward chain is there" "$(chains)" "input forward "
expect_rc "verify --exhaustive after apply --plan" 0 mx verify --exhaustive -c "$conf"
expect_rc "status after apply --plan" 0 mx status -c "$conf"

finish
