#!/usr/bin/env bash
# Saved plans, apply --plan, refresh --plan-only and the audit trail, in the kernel.
#
#   +------------------- one throwaway namespace per part ---------------------+
#   |  lo only            table inet mxfence (the tool's)                      |
#   |  no links, no traffic                                                     |
#   +--------------------------------------------------------------------------+
#   +-- a second namespace: a plan made in the first is applied here (stale) --+
#
# A plan is applied exactly, even when the policy changed after it was made;
# a plan made stale (an element added by hand, another apply, a table that
# appeared or vanished, another namespace, a change between the check and
# the commit) is refused with exit 3 and the kernel untouched; a plan cut
# short, with a flipped byte, or of another digest is refused with exit 2;
# too old a plan and one the removal gate refused are refused with exit 3.
# Every commit appends one audit line; no refusal does.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/report.sh"
. "$here/../lib/netns.sh"

need_root
need_cmd ip nft jq sha256sum python3
need_mxfence
ns_init
W=$NS_TMP

mx() { ns_exec "$NS" "$MXFENCE" --state-dir "$W/state-$NS" "$@"; }
snap() { ns_exec "$NS" nft list ruleset | sed 's/packets [0-9]* bytes [0-9]*//'; }
audit_lines() { if [ -f "$W/state-$NS/audit.log" ]; then grep -c . "$W/state-$NS/audit.log"; else echo 0; fi; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

write_policy() { # write_policy FILE RELAYS
	cat >"$1" <<POL
[service smtp]
ports = tcp/25
sources = relays
max-removal = 30%

[service submission]
ports = tcp/587
sources = partners
otherwise = reject

[source relays]
format = list
file = $2

[source partners]
format = list
file = $W/partners.txt
POL
}

# expect_refused NAME RC WANT_RC BEFORE: the exit code, the kernel as before, no audit line added.
expect_refused() {
	local name=$1 rc=$2 want=$3 before=$4 lines_before=$5
	expect_eq "$name: exit $want" "$rc" "$want"
	if [ "$(snap)" = "$before" ]; then pass "$name: the kernel is untouched"; else fail "$name: the kernel is untouched" "$(diff <(printf '%s\n' "$before") <(snap) | head -n 6)"; fi
	expect_eq "$name: no audit line" "$(audit_lines)" "$lines_before"
}

printf '198.51.100.0/25\n192.0.2.10\n2001:db8:25::/64\n' >"$W/relays.txt"
printf '203.0.113.0/26\n' >"$W/partners.txt"
write_policy "$W/p.conf" "$W/relays.txt"

# --- a first install through a plan ---------------------------------------------
NS=first
ns_add $NS
out=$(mx plan -c "$W/p.conf" -o "$W/first.plan" 2>&1)
rc=$?
expect_eq "plan of a first install exits 1 (changes)" "$rc" 1
expect_eq "plan file is mode 0600" "$(stat -c %a "$W/first.plan")" 600
digest=$(printf '%s\n' "$out" | sed -n 's/^plan sha256:\([0-9a-f]\{64\}\)$/\1/p')
expect_eq "the report ends with plan sha256: and the digest of the file" "$(printf '%s\n' "$out" | tail -n 1)" "plan sha256:$(sha "$W/first.plan")"
grep -q '^against netns [0-9]* generation [0-9]* table absent digest ' "$W/first.plan" && pass "the plan records no table" || fail "the plan records no table" "$(sed -n 6p "$W/first.plan")"
grep -q '^change replace first%20install$' "$W/first.plan" && pass "a first install is a whole-table plan" || fail "a first install is a whole-table plan" "$(grep '^change' "$W/first.plan")"
expect_eq "plan changes nothing in the kernel" "$(ns_exec $NS nft list ruleset | grep -c .)" 0
expect_eq "plan writes no audit line" "$(audit_lines)" 0
out=$(mx apply --plan "$W/first.plan" --expect-sha256 "$digest" 2>&1)
expect_eq "apply --plan of a first install exits 0" "$?" 0
check "after apply --plan the kernel holds the planned policy" mx verify --exhaustive -c "$W/p.conf"
expect_eq "apply --plan appends one audit line" "$(audit_lines)" 1
line=$(tail -n 1 "$W/state-$NS/audit.log")
if [ "$(printf '%s' "$line" | jq -r '.command')" = "apply --plan" ] && [ "$(printf '%s' "$line" | jq -r '.plan')" = "$digest" ] &&
	[ "$(printf '%s' "$line" | jq -r '.generation_after')" -gt "$(printf '%s' "$line" | jq -r '.generation_before')" ] &&
	[ "$(printf '%s' "$line" | jq -r '.services[0].service + " " + (.services[0].prefixes_added|tostring) + " " + .services[0].ipv4_addresses_added')" = "smtp 3 129" ]; then
	pass "the audit line names the command, the plan, the generations and what smtp gained"
else
	fail "the audit line names the command, the plan, the generations and what smtp gained" "$line"
fi
expect_eq "the audit log is mode 0600" "$(stat -c %a "$W/state-$NS/audit.log")" 600

# --- plan, then the relay list changes again: apply --plan applies the plan ------
NS=exact
ns_add $NS
check "install" mx apply -c "$W/p.conf"
expect_eq "apply appends one audit line" "$(audit_lines)" 1
expect_eq "the audit line of apply says apply, with no plan" "$(tail -n 1 "$W/state-$NS/audit.log" | jq -r '.command + " " + (.plan|tostring)')" "apply null"
cp "$W/relays.txt" "$W/relays.orig"
printf '198.51.100.0/25\n192.0.2.10\n192.0.2.11\n2001:db8:25::/64\n' >"$W/relays.txt"
cp "$W/relays.txt" "$W/relays.planned"
write_policy "$W/planned.conf" "$W/relays.planned"
out=$(mx plan -c "$W/p.conf" -o "$W/exact.plan" --format markdown 2>"$W/err")
rc=$?
expect_eq "plan of a change exits 1" "$rc" 1
d=$(sha "$W/exact.plan")
case $out in *"| added | \`192.0.2.11/32\` | relays | $W/relays.txt:3 |"*) pass "the markdown report has the added prefix with its provenance" ;; *) fail "the markdown report has the added prefix with its provenance" "$out" ;; esac
expect_eq "the markdown report ends with the plan's digest" "$(printf '%s\n' "$out" | tail -n 1)" "\`plan sha256:$d\`"
grep -q "plan sha256:$d" "$W/err" && pass "a report in another format says the digest on stderr" || fail "a report in another format says the digest on stderr" "$(cat "$W/err")"
# 192.0.2.10 and .11 merge: the old interval goes, the merged one comes.
grep -q '^change delta$' "$W/exact.plan" && grep -q '^- 192.0.2.10 192.0.2.10$' "$W/exact.plan" && grep -q '^+ 192.0.2.10 192.0.2.11 1$' "$W/exact.plan" && pass "the plan holds the element delta" || fail "the plan holds the element delta" "$(sed -n '/^change/,$p' "$W/exact.plan")"
before=$(snap) lines=$(audit_lines)
out=$(mx apply --plan "$W/exact.plan" --dry-run 2>&1)
rc=$?
if [ $rc -eq 0 ] && printf '%s\n' "$out" | grep -q '^+ 192.0.2.11/32 *relays$' && printf '%s\n' "$out" | grep -q 'dry run: the kernel accepted'; then
	pass "apply --plan --dry-run shows the plan's change with its sources, checked by the kernel"
else
	fail "apply --plan --dry-run shows the plan's change with its sources, checked by the kernel" "rc=$rc $out"
fi
expect_eq "apply --plan --dry-run: the kernel is untouched" "$(snap)" "$before"
expect_eq "apply --plan --dry-run: no audit line" "$(audit_lines)" "$lines"
# After the plan: the relay list changes again, and a source is refetched (here: edited).
printf '198.51.100.0/25\n192.0.2.10\n192.0.2.11\n192.0.2.99\n2001:db8:25::/64\n' >"$W/relays.txt"
out=$(mx apply --plan "$W/exact.plan" --expect-sha256 "sha256:$d" 2>&1)
expect_eq "apply --plan after the policy changed again exits 0" "$?" 0
check "the kernel holds exactly the planned policy" mx verify --exhaustive -c "$W/planned.conf"
if mx verify --exhaustive -c "$W/p.conf" >/dev/null 2>&1; then fail "the later change did not leak in" "192.0.2.99 is in the kernel"; else pass "the later change did not leak in"; fi
check "diff against the planned policy through the state file: nothing" mx diff -c "$W/planned.conf"
expect_eq "the audit log has two lines" "$(audit_lines)" 2
# The saved ruleset follows the plan, not the policy as it is by now: a boot
# (restore once the ruleset is flushed) brings back exactly what was approved.
saved=$W/state-$NS/mxfence.nft
expect_eq "apply --plan writes the saved ruleset: the planned policy's script, its comments aside" \
	"$(grep -v '^#' "$saved" 2>&1)" "$("$MXFENCE" build -c "$W/planned.conf" | grep -v '^#')"
expect_eq "the saved ruleset names the plan's sources by digest" \
	"$(grep -c '^# source \(relays\|partners\): list sha256:[0-9a-f]\{64\}$' "$saved")" 2
ns_exec $NS nft flush ruleset
check "restore after the ruleset was flushed" mx restore -c "$W/planned.conf"
check "restore brings back the planned policy" mx verify --exhaustive -c "$W/planned.conf"
out=$(mx monitor -c "$W/planned.conf" 2>&1)
expect_eq "monitor after restore: OK" "$?:${out%% |*}" "0:$(printf '%s' "$out" | grep -o '^MXFENCE OK - .*saved ruleset current')"
out=$(mx status -c "$W/p.conf")
if printf '%s\n' "$out" | grep -q "apply --plan sha256:${d:0:16}\.\.\.: generation" && printf '%s\n' "$out" | grep -q ': apply: generation'; then
	pass "status shows the last audit lines"
else
	fail "status shows the last audit lines" "$out"
fi

# The other reports of a plan carry its digest too.
mx plan -c "$W/planned.conf" -o "$W/report.plan" --format html >"$W/report.html" 2>/dev/null
hd=$(sha "$W/report.plan")
grep -q "<p class=\"digest\">plan sha256:$hd</p>" "$W/report.html" && pass "the html report of a plan shows its digest" || fail "the html report of a plan shows its digest" "$(grep -c digest "$W/report.html")"
mx plan -c "$W/planned.conf" -o "$W/report.plan" --format json >"$W/report.json" 2>/dev/null
expect_eq "the json report of a plan has its digest and gates" \
	"$(jq -r '.plan.sha256 + " " + .plan.change + " " + (.gates | length | tostring) + " " + .gates[0].verdict' "$W/report.json")" \
	"$(sha "$W/report.plan") none 4 ok"

# --- stale plans: exit 3, the kernel untouched, no audit line -------------------
cp "$W/relays.planned" "$W/relays.txt"
printf '198.51.100.0/25\n192.0.2.10\n2001:db8:25::/64\n192.0.2.12\n' >"$W/relays.txt"
mx plan -c "$W/p.conf" -o "$W/stale.plan" >/dev/null 2>&1
ns_exec $NS nft add element inet mxfence smtp_v4 '{ 203.0.113.200 }'
before=$(snap) lines=$(audit_lines)
out=$(mx apply --plan "$W/stale.plan" 2>&1)
expect_refused "stale by an element added by hand" "$?" 3 "$before" "$lines"
case $out in *"stale"*) pass "stale by an element added by hand: says stale" ;; *) fail "stale by an element added by hand: says stale" "$out" ;; esac
ns_exec $NS nft delete element inet mxfence smtp_v4 '{ 203.0.113.200 }'

mx plan -c "$W/p.conf" -o "$W/stale2.plan" >/dev/null 2>&1
printf '198.51.100.0/25\n192.0.2.10\n192.0.2.13\n2001:db8:25::/64\n' >"$W/relays.other"
write_policy "$W/other.conf" "$W/relays.other"
check "another apply after the plan" mx apply -c "$W/other.conf"
before=$(snap) lines=$(audit_lines)
out=$(mx apply --plan "$W/stale2.plan" 2>&1)
expect_refused "stale by another apply" "$?" 3 "$before" "$lines"
check "stale by another apply: the kernel holds what the other apply made" mx verify --exhaustive -c "$W/other.conf"

mx plan -c "$W/p.conf" -o "$W/deleted.plan" >/dev/null 2>&1
ns_exec $NS nft delete table inet mxfence
before=$(snap) lines=$(audit_lines)
out=$(mx apply --plan "$W/deleted.plan" 2>&1)
expect_refused "stale by a deleted table" "$?" 3 "$before" "$lines"
case $out in *"was deleted"*|*"absent"*|*"vanished"*) pass "stale by a deleted table: says the table is gone" ;; *) fail "stale by a deleted table: says the table is gone" "$out" ;; esac

# A plan made against no table, then the table appears.
mx plan -c "$W/p.conf" -o "$W/notable.plan" >/dev/null 2>&1
grep -q ' table absent ' "$W/notable.plan" && pass "a plan against no table" || fail "a plan against no table" "$(grep '^against' "$W/notable.plan")"
check "the table appears (another apply)" mx apply -c "$W/other.conf"
before=$(snap) lines=$(audit_lines)
out=$(mx apply --plan "$W/notable.plan" 2>&1)
expect_refused "stale by a table that appeared after a no-table plan" "$?" 3 "$before" "$lines"
case $out in *"appeared"*) pass "stale by a table that appeared: says so" ;; *) fail "stale by a table that appeared: says so" "$out" ;; esac
check "stale by a table that appeared: the kernel holds the other apply's policy" mx verify --exhaustive -c "$W/other.conf"

# A plan of another namespace.
mx plan -c "$W/p.conf" -o "$W/here.plan" >/dev/null 2>&1
NS=elsewhere
ns_add $NS
ns_exec $NS "$MXFENCE" --state-dir "$W/state-$NS" apply -c "$W/other.conf" >/dev/null 2>&1
before=$(snap) lines=$(audit_lines)
out=$(mx apply --plan "$W/here.plan" 2>&1)
expect_refused "a plan of another namespace" "$?" 3 "$before" "$lines"
case $out in *"namespace"*) pass "a plan of another namespace: says so" ;; *) fail "a plan of another namespace: says so" "$out" ;; esac
NS=exact

# A change between the check and the commit: ERESTART, then stale.
mx plan -c "$W/p.conf" -o "$W/race.plan" >/dev/null 2>&1
lines=$(audit_lines)
out=$(MXFENCE_TEST_BEFORE_COMMIT="ip netns exec $(ns_name $NS) nft add element inet mxfence smtp_v4 '{ 203.0.113.201 }'" mx apply --plan "$W/race.plan" 2>&1)
rc=$?
case $out in *"changed while it was read"*) pass "a change between check and commit takes the ERESTART path" ;; *) fail "a change between check and commit takes the ERESTART path" "$out" ;; esac
expect_eq "a change between check and commit: exit 3 (stale)" "$rc" 3
case $out in *"stale"*) pass "a change between check and commit: ends stale" ;; *) fail "a change between check and commit: ends stale" "$out" ;; esac
expect_eq "a change between check and commit: only the concurrent element is new" \
	"$(ns_exec $NS nft list set inet mxfence smtp_v4 | grep -c '203.0.113.201')" 1
ns_exec $NS nft delete element inet mxfence smtp_v4 '{ 203.0.113.201 }'
check "a change between check and commit: otherwise the kernel holds what it held" mx verify --exhaustive -c "$W/other.conf"
expect_eq "a change between check and commit: no audit line" "$(audit_lines)" "$lines"

# --- damaged plans: exit 2 ----------------------------------------------------
mx plan -c "$W/p.conf" -o "$W/good.plan" >/dev/null 2>&1
good=$(sha "$W/good.plan")
before=$(snap) lines=$(audit_lines)
head -c $(($(stat -c %s "$W/good.plan") - 40)) "$W/good.plan" >"$W/cut.plan"
out=$(mx apply --plan "$W/cut.plan" 2>&1)
expect_refused "a plan cut short" "$?" 2 "$before" "$lines"
case $out in *"cut.plan:"*"cut short"*) pass "a plan cut short: names the file and says cut short" ;; *) fail "a plan cut short: names the file and says cut short" "$out" ;; esac
python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); i=b.index(b"\ncreated "); b[i+12]^=1; open(sys.argv[2],"wb").write(b)' "$W/good.plan" "$W/flip.plan"
out=$(mx apply --plan "$W/flip.plan" 2>&1)
expect_refused "a plan with a flipped byte" "$?" 2 "$before" "$lines"
case $out in *"damaged or edited"*) pass "a plan with a flipped byte: says damaged" ;; *) fail "a plan with a flipped byte: says damaged" "$out" ;; esac
out=$(mx apply --plan "$W/good.plan" --expect-sha256 "$(printf '%064d' 0)" 2>&1)
expect_refused "a wrong --expect-sha256" "$?" 2 "$before" "$lines"
case $out in *"$good"*) pass "a wrong --expect-sha256: names the plan's digest" ;; *) fail "a wrong --expect-sha256: names the plan's digest" "$out" ;; esac
sed '1s/mxfence-plan 2/mxfence-plan 9/' "$W/good.plan" >"$W/v9.plan"
out=$(mx apply --plan "$W/v9.plan" 2>&1)
expect_refused "a plan of another version (or edited)" "$?" 2 "$before" "$lines"

# --- too old, and the gates ---------------------------------------------------
sleep 2
out=$(mx apply --plan "$W/good.plan" --max-age 1s 2>&1)
expect_refused "a plan older than --max-age" "$?" 3 "$before" "$lines"
case $out in *"max-age"*) pass "a plan older than --max-age: says so" ;; *) fail "a plan older than --max-age: says so" "$out" ;; esac

printf '192.0.2.10\n' >"$W/relays.small"
write_policy "$W/small.conf" "$W/relays.small"
out=$(mx plan -c "$W/small.conf" -o "$W/shrink.plan" 2>&1)
expect_eq "a plan the removal gate refuses is still written (exit 1)" "$?" 1
grep -q '^gates refused$' "$W/shrink.plan" && pass "the plan carries the refusal" || fail "the plan carries the refusal" "$(grep '^gate' "$W/shrink.plan")"
case $out in *"apply --plan refuses it"*) pass "plan says a refused plan will not be applied" ;; *) fail "plan says a refused plan will not be applied" "$out" ;; esac
out=$(mx apply --plan "$W/shrink.plan" 2>&1)
expect_refused "apply --plan of a plan the gate refused" "$?" 3 "$before" "$lines"
case $out in *"--force"*) pass "apply --plan of a refused plan: says to plan with --force" ;; *) fail "apply --plan of a refused plan: says to plan with --force" "$out" ;; esac
out=$(mx apply --plan "$W/shrink.plan" --force 2>&1)
expect_eq "apply --plan --force is a usage error (force belongs to plan time)" "$?" 2
mx plan -c "$W/small.conf" -o "$W/forced.plan" --force >/dev/null 2>&1
grep -q '^gates forced$' "$W/forced.plan" && pass "a plan made with --force says forced" || fail "a plan made with --force says forced" "$(grep '^gate' "$W/forced.plan")"
check "a plan made with --force is applied" mx apply --plan "$W/forced.plan"
check "after the forced plan the kernel holds the small policy" mx verify --exhaustive -c "$W/small.conf"
expect_eq "the forced plan added one audit line" "$(audit_lines)" $((lines + 1))

# --- nothing to do: no commit, no audit line ----------------------------------
mx plan -c "$W/small.conf" -o "$W/none.plan" >/dev/null 2>&1
expect_eq "plan with nothing to change exits 0" "$?" 0
lines=$(audit_lines)
out=$(mx apply --plan "$W/none.plan" 2>&1)
expect_eq "apply --plan of an empty change exits 0" "$?" 0
case $out in *"nothing to do"*) pass "apply --plan of an empty change: nothing to do" ;; *) fail "apply --plan of an empty change: nothing to do" "$out" ;; esac
expect_eq "nothing to do: no audit line" "$(audit_lines)" "$lines"
lines=$(audit_lines)
mx apply -c "$W/p.conf" --dry-run >/dev/null 2>&1
expect_eq "a dry run: no audit line" "$(audit_lines)" "$lines"

# --- refresh --plan-only, then refresh --------------------------------------------
NS=nightly
ns_add $NS
check "install" mx apply -c "$W/other.conf"
lines=$(audit_lines)
before=$(snap)
out=$(mx refresh -c "$W/p.conf" --plan-only -o "$W/nightly.plan" 2>&1)
expect_eq "refresh --plan-only exits 0" "$?" 0
expect_eq "refresh --plan-only leaves the kernel untouched" "$(snap)" "$before"
expect_eq "refresh --plan-only writes no audit line" "$(audit_lines)" "$lines"
[ -f "$W/nightly.plan" ] && pass "refresh --plan-only writes the plan" || fail "refresh --plan-only writes the plan" "$out"
case $out in *"plan sha256:$(sha "$W/nightly.plan")"*) pass "refresh --plan-only says the plan's digest" ;; *) fail "refresh --plan-only says the plan's digest" "$out" ;; esac
check "the nightly plan is applied in the morning" mx apply --plan "$W/nightly.plan" --expect-sha256 "$(sha "$W/nightly.plan")"
check "after it the kernel holds the policy" mx verify --exhaustive -c "$W/p.conf"
expect_eq "one audit line for it" "$(audit_lines)" $((lines + 1))
lines=$(audit_lines)
check "refresh applies a change" mx refresh -c "$W/other.conf"
expect_eq "refresh appends one audit line" "$(audit_lines)" $((lines + 1))
expect_eq "its command is refresh" "$(tail -n 1 "$W/state-$NS/audit.log" | jq -r .command)" refresh
lines=$(audit_lines)
mx refresh -c "$W/other.conf" >/dev/null 2>&1
expect_eq "refresh with nothing to apply: no audit line" "$(audit_lines)" "$lines"

# --- the trail cannot be written: no change ------------------------------------
NS=noaudit
ns_add $NS
mkdir -p "$W/state-$NS"
mkdir "$W/state-$NS/audit.log" # a folder where the log should be
before=$(snap)
out=$(mx apply -c "$W/p.conf" 2>&1)
expect_eq "an audit trail that cannot be opened: exit 2" "$?" 2
expect_eq "an audit trail that cannot be opened: the kernel is untouched" "$(snap)" "$before"
case $out in *"audit"*) pass "an audit trail that cannot be opened: says so" ;; *) fail "an audit trail that cannot be opened: says so" "$out" ;; esac

# --- syslog: the same line, facility authpriv, priority notice -------------------
# In a mount namespace of its own, /dev is a folder of this test with the
# devices the run needs and a datagram socket at /dev/log that records.
NS=syslog
ns_add $NS
if unshare --help 2>/dev/null | grep -q -- '--mount'; then
	mkdir -p "$W/dev"
	for f in null zero urandom random; do : >"$W/dev/$f"; done
	cat >"$W/syslog.py" <<'PY'
import socket, sys, os
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[2] + ".ready", "w").close()
s.settimeout(20)
with open(sys.argv[2], "wb") as out:
    try:
        while True:
            data = s.recv(65536)
            out.write(data + b"\n")
            out.flush()
            if b"audit:" in data:
                break
    except socket.timeout:
        pass
PY
	cat >"$W/syslog.sh" <<SH
set -e
for f in null zero urandom random; do mount --bind /dev/\$f "$W/dev/\$f"; done
mount --bind "$W/dev" /dev
python3 "$W/syslog.py" /dev/log "$W/syslog.out" &
for i in \$(seq 50); do [ -e "$W/syslog.out.ready" ] && break; sleep 0.1; done
ip netns exec "$(ns_name $NS)" "$MXFENCE" --state-dir "$W/state-$NS" apply -c "$W/p.conf" >/dev/null 2>&1
wait
SH
	SUDO_USER=carol unshare --mount --propagation private bash "$W/syslog.sh" 2>"$W/syslog.err"
	msg=$(cat "$W/syslog.out" 2>/dev/null)
	logline=$(tail -n 1 "$W/state-$NS/audit.log" 2>/dev/null)
	case $msg in
	"<85>"*"mxfence["*"]: audit: $logline"*) pass "syslog gets the audit line, facility authpriv, priority notice" ;;
	*) fail "syslog gets the audit line, facility authpriv, priority notice" "got '$msg', log '$logline' $(cat "$W/syslog.err")" ;;
	esac
	expect_eq "the user behind it is SUDO_USER" "$(printf '%s' "$logline" | jq -r .user)" carol
else
	skip "syslog" "unshare cannot make a mount namespace here"
fi

finish
