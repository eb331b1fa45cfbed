#!/usr/bin/env bash
# mxfence monitor: each state gives its Nagios exit code and first line, and
# the Prometheus metrics parse (promtool check metrics).
#
#   +---------------- namespace "mon" ----------------+
#   |  table inet mxfence (apply, then changed by     |
#   |  hand, deleted, ...)                            |
#   |  no links, no traffic                           |
#   +-------------------------------------------------+
#
# A fetched source's copy is put into the cache by hand (no network here), with
# its metadata's times set to make it fresh or stale.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/report.sh"
. "$here/../lib/netns.sh"

need_root
need_cmd ip nft jq setpriv unshare sha256sum promtool
need_mxfence
ns_init
W=$NS_TMP
S=$W/state
C=$W/cache
mkdir -p "$C"

printf '198.51.100.0/24\n2001:db8:25::/64\n' >"$W/relays.txt"
printf '203.0.113.0/25\n' >"$C/partners.feed"
cat >"$W/p.conf" <<POL
[service smtp]
ports = tcp/25
sources = relays partners

[source relays]
format = list
file = relays.txt

[source partners]
format = list
url = https://192.0.2.1/partners.txt
POL
conf=$W/p.conf

# meta AGE-SECONDS: the partners copy's metadata, last confirmed current AGE ago.
meta() {
	local now t
	now=$(date +%s)
	t=$((now - $1))
	cat >"$C/partners.meta" <<JSON
{"format": 1, "url": "https://192.0.2.1/partners.txt", "sha256": "$(sha256sum "$C/partners.feed" | cut -c1-64)",
 "size": $(stat -c %s "$C/partners.feed"), "prefixes": 1, "fetched": $((t - 86400)), "checked": $t}
JSON
}
meta 3600

mx() { ns_exec mon "$MXFENCE" --state-dir "$S" --cache-dir "$C" "$@"; }

# mon NAME WANT-RC WANT-PREFIX [TEXT] [ARGS...]: one plugin run.
mon() {
	local name=$1 want_rc=$2 want=$3 text=${4:-} out rc first
	shift 3
	[ $# -gt 0 ] && shift
	out=$(mx monitor -c "$conf" "$@" 2>"$W/mon.err")
	rc=$?
	first=$(printf '%s\n' "$out" | head -n 1)
	LAST=$first
	if [ "$(printf '%s\n' "$out" | wc -l)" -ne 1 ]; then
		fail "$name" "not one line: $out"
	elif [ $rc -ne "$want_rc" ]; then
		fail "$name" "exit $rc, want $want_rc: $first $(cat "$W/mon.err")"
	elif [ "${first#"$want"}" = "$first" ]; then
		fail "$name" "first line: $first"
	elif [ -n "$text" ] && [ "${first#*"$text"}" = "$first" ]; then
		fail "$name" "no '$text' in: $first"
	else
		pass "$name (exit $rc)"
	fi
}

# perf_ok NAME: the performance data after '|' is in the plugin format.
perf_ok() {
	local perf=${LAST#*| } bad=""
	[ "$perf" = "$LAST" ] && { fail "$1" "no '|' in: $LAST"; return; }
	for item in $perf; do
		[[ $item =~ ^[A-Za-z0-9_]+=-?[0-9.]+(s|c|%|B)?(\;[0-9.]*){0,4}$ ]] || bad="$bad $item"
	done
	if [ -z "$bad" ]; then pass "$1"; else fail "$1" "malformed:$bad"; fi
}

# prom NAME FILE: promtool accepts the metrics file; it is alone in its folder.
prom() {
	local out
	if out=$(promtool check metrics <"$2" 2>&1); then
		pass "$1: promtool check metrics"
	else
		fail "$1: promtool check metrics" "$out"
	fi
	if [ "$(ls -A "$(dirname "$2")")" = "$(basename "$2")" ] && [ "$(stat -c %a "$2")" = 644 ]; then
		pass "$1: written atomically, mode 0644, nothing left beside it"
	else
		fail "$1: written atomically, mode 0644, nothing left beside it" "$(ls -lA "$(dirname "$2")")"
	fi
}
metric() { # metric FILE NAME-WITH-LABELS: its value
	awk -v m="$2" '$1 == m { print $2 }' "$1"
}

ns_add mon
mkdir -p "$W/prom"

# --- UNKNOWN: the policy or the kernel cannot be read ---------------------------
printf '[service smtp]\nports = tcp/25\nsources = nothing\n' >"$W/broken.conf"
out=$(mx monitor -c "$W/broken.conf" --prometheus "$W/prom/m.prom")
rc=$?
if [ $rc -eq 3 ] && [ "${out#MXFENCE UNKNOWN - cannot read the policy: }" != "$out" ]; then
	pass "a broken policy: UNKNOWN (exit 3)"
else
	fail "a broken policy: UNKNOWN (exit 3)" "rc=$rc $out"
fi
prom "UNKNOWN" "$W/prom/m.prom"
expect_eq "UNKNOWN: mxfence_monitor_status is 3" "$(metric "$W/prom/m.prom" 'mxfence_monitor_status{table=""}')" 3

# --- CRITICAL: nothing there ---------------------------------------------------
mon "no table: CRITICAL" 2 "MXFENCE CRITICAL - " "table inet mxfence is absent"

# --- OK after apply ------------------------------------------------------------------
out=$(mx apply -c "$conf" 2>&1) || fail "apply" "$out"
mon "after apply: OK" 0 "MXFENCE OK - " "" --prometheus "$W/prom/m.prom"
perf_ok "OK: performance data in the plugin format"
case $LAST in *"read in full"*) fail "OK: the fast path (state file, no element dump)" "$LAST" ;; *) pass "OK: the fast path (state file, no element dump)" ;; esac
prom "OK" "$W/prom/m.prom"
expect_eq "OK: mxfence_table_present 1" "$(metric "$W/prom/m.prom" 'mxfence_table_present{table="mxfence"}')" 1
expect_eq "OK: smtp_v4 addresses" "$(metric "$W/prom/m.prom" 'mxfence_set_addresses{table="mxfence",set="smtp_v4",family="ipv4"}')" 384
expect_eq "OK: the partners copy's prefixes" "$(metric "$W/prom/m.prom" 'mxfence_source_prefixes{table="mxfence",source="partners"}')" 1
for m in mxfence_service_accepted_packets_total mxfence_service_refused_bytes_total mxfence_source_last_success_timestamp_seconds mxfence_source_last_change_timestamp_seconds mxfence_saved_ruleset_current mxfence_last_apply_timestamp_seconds; do
	grep -q "^# TYPE $m " "$W/prom/m.prom" && pass "OK: $m with HELP and TYPE" || fail "OK: $m with HELP and TYPE" "absent"
done

# --- CRITICAL: an element added by hand, then deleted ---------------------------
ns_exec mon nft add element inet mxfence smtp_v4 '{ 192.0.2.66 }'
mon "an element added by hand: CRITICAL" 2 "MXFENCE CRITICAL - " "set smtp_v4 differs from the last apply"
ns_exec mon nft delete element inet mxfence smtp_v4 '{ 198.51.100.0/24 }'
mon "an element deleted by hand: CRITICAL" 2 "MXFENCE CRITICAL - " "set smtp_v4 differs from the last apply"
ns_exec mon nft add element inet mxfence smtp_v4 '{ 198.51.100.0/24 }'
ns_exec mon nft delete element inet mxfence smtp_v4 '{ 192.0.2.66 }'
mon "put back by hand: OK again, read in full" 0 "MXFENCE OK - " "read in full"
mon "the next check is fast again (the state took the new generation)" 0 "MXFENCE OK - "
case $LAST in *"read in full"*) fail "the next check is fast again" "$LAST" ;; esac

# --- CRITICAL: the structure, the table deleted, a service allowing nothing ----
ns_exec mon nft add rule inet mxfence input tcp dport 2525 accept
mon "a rule added by hand: CRITICAL" 2 "MXFENCE CRITICAL - " "is not the policy's"
mx apply -c "$conf" >/dev/null 2>&1
mon "apply puts it right: OK" 0 "MXFENCE OK - "
ns_exec mon nft delete table inet mxfence
mon "the table deleted: CRITICAL" 2 "MXFENCE CRITICAL - " "table inet mxfence is absent" --prometheus "$W/prom/m.prom"
prom "CRITICAL" "$W/prom/m.prom"
expect_eq "CRITICAL: mxfence_table_present 0" "$(metric "$W/prom/m.prom" 'mxfence_table_present{table="mxfence"}')" 0
expect_eq "CRITICAL: mxfence_monitor_status 2" "$(metric "$W/prom/m.prom" 'mxfence_monitor_status{table="mxfence"}')" 2
mv "$S/mxfence.nft" "$W/saved.keep"
ns_add mon2
ns_exec mon2 "$MXFENCE" --state-dir "$W/closed" restore -c "$conf" >/dev/null
out=$(ns_exec mon2 "$MXFENCE" --state-dir "$W/closed" --cache-dir "$C" monitor -c "$conf")
[ $? -eq 2 ] && [ "${out#*service smtp allows nothing}" != "$out" ] && pass "the closed table (nothing applied): CRITICAL, a service allows nothing" ||
	fail "the closed table (nothing applied): CRITICAL, a service allows nothing" "$out"

# --- WARNING: the saved ruleset ----------------------------------------------
mx apply -c "$conf" >/dev/null 2>&1
mon "table back by apply, saved ruleset written: OK" 0 "MXFENCE OK - "
rm "$S/mxfence.nft"
mon "no saved ruleset: WARNING" 1 "MXFENCE WARNING - " "no saved ruleset"
sed 's/198\.51\.100\.0\/24/198.51.100.0\/25/' "$W/saved.keep" >"$S/mxfence.nft"
mon "a saved ruleset that differs from the kernel: WARNING" 1 "MXFENCE WARNING - " "set smtp_v4 holds other addresses"
sed 's/tcp dport 25 counter drop/tcp dport 25 counter reject with tcp reset/' "$W/saved.keep" >"$S/mxfence.nft"
mon "a saved ruleset with other rules: WARNING" 1 "MXFENCE WARNING - " "its table, sets or rules are not the kernel's"
cp "$W/saved.keep" "$S/mxfence.nft"
mon "the saved ruleset put back: OK" 0 "MXFENCE OK - "

# --- WARNING: a stale cache copy, the last refresh ------------------------------
meta $((72 * 3600))
mon "a fetched copy last confirmed 72 h ago: WARNING" 1 "MXFENCE WARNING - " "source partners: last fetched successfully 72.0 h ago" --prometheus "$W/prom/m.prom"
prom "WARNING" "$W/prom/m.prom"
mon "the same with --max-age 4d: OK" 0 "MXFENCE OK - " "" --max-age 4d
meta 60
rm -f "$C/partners.meta"
mon "a fetched source without a good copy: WARNING" 1 "MXFENCE WARNING - " "source partners: no good copy"
meta 60
printf '{"ended": %s, "exit_code": 4, "last_success": %s}\n' "$(date +%s)" "$(($(date +%s) - 86400))" >"$S/refresh.json"
mon "the last refresh exited 4: WARNING" 1 "MXFENCE WARNING - " "exited 4"
printf '{"ended": %s, "exit_code": 0, "last_success": %s}\n' "$(($(date +%s) - 80 * 3600))" "$(($(date +%s) - 80 * 3600))" >"$S/refresh.json"
mon "the last refresh ended 80 h ago: WARNING" 1 "MXFENCE WARNING - " "the last refresh ended 80.0 h ago"
rm "$S/refresh.json"

# --- refresh records its outcome and writes the metrics ----------------------
# (the partners copy is fetched from an address that does not answer: a stale
# source, exit 4; relays is a file)
sed -i 's/^url = .*/&\nretries = 0\nconnect-timeout = 1/' "$conf"
ns_exec mon "$MXFENCE" --state-dir "$S" --cache-dir "$C" refresh -c "$conf" --prometheus "$W/prom/m.prom" >/dev/null 2>"$W/refresh.err"
rc=$?
expect_eq "refresh with a source that cannot be fetched exits 4" "$rc" 4
expect_eq "refresh records its exit code" "$(jq -r .exit_code "$S/refresh.json")" 4
now=$(date +%s)
ended=$(jq -r .ended "$S/refresh.json")
[ $((now - ended)) -le 60 ] && pass "refresh records when it ended" || fail "refresh records when it ended" "ended=$ended now=$now"
prom "refresh --prometheus" "$W/prom/m.prom"
expect_eq "refresh --prometheus: the last exit code" "$(metric "$W/prom/m.prom" 'mxfence_refresh_last_exit_code{table="mxfence"}')" 4
expect_eq "refresh --prometheus: the end time" "$(metric "$W/prom/m.prom" 'mxfence_refresh_last_end_timestamp_seconds{table="mxfence"}')" "$ended"
mon "after that refresh: WARNING" 1 "MXFENCE WARNING - " "exited 4"

# --- UNKNOWN without CAP_NET_ADMIN --------------------------------------------------
chmod o+rx "$W"
chmod -R o+rX "$S" "$C"
out=$(ns_exec mon unshare -U "$MXFENCE" --state-dir "$S" --cache-dir "$C" monitor -c "$conf")
rc=$?
if [ $rc -eq 3 ] && [ "${out#MXFENCE UNKNOWN - cannot read the kernel: }" != "$out" ]; then
	pass "in a user namespace (no CAP_NET_ADMIN over this network namespace): UNKNOWN (exit 3)"
else
	fail "in a user namespace: UNKNOWN (exit 3)" "rc=$rc $out"
fi
out=$(ns_exec mon setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all "$MXFENCE" --state-dir "$S" --cache-dir "$C" monitor -c "$conf")
rc=$?
[ $rc -eq 3 ] && pass "capabilities dropped: UNKNOWN (exit 3)" || fail "capabilities dropped: UNKNOWN (exit 3)" "rc=$rc $out"

# --- the README's alert rules load ------------------------------------------------
TOP=${TOP:-$(cd "$here/../.." && pwd)}
awk '/^```yaml$/ { on = 1; next } on && /^```$/ { exit } on' "$TOP/README.md" >"$W/rules.yml"
if [ -s "$W/rules.yml" ] && out=$(promtool check rules "$W/rules.yml" 2>&1); then
	pass "the README's Prometheus alert rules pass promtool check rules"
else
	fail "the README's Prometheus alert rules pass promtool check rules" "$out"
fi

finish
