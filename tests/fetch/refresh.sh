#!/usr/bin/env bash
# mxfence refresh end to end, in a throwaway network namespace that holds the
# web server (nginx on its own 127.0.0.1) and the kernel tables: the first run
# installs, a run with nothing new sends nothing, a changed feed changes
# exactly that, a broken feed keeps the live set (exit 4), a source with no
# good copy is refused by a gate (exit 3), two runs at once: one waits.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/report.sh"
need_root
need_cmd unshare nginx openssl python3 nft jq
if [ -z "${MXFENCE_IN_NETNS:-}" ]; then
	exec unshare -n env MXFENCE_IN_NETNS=1 bash "$0" "$@"
fi
ip link set lo up
. "$here/../lib/httpd.sh"
need_mxfence
SHARED=${SHARED:-$(cd "$here/../../.." && pwd)/shared}
W=$(mktemp -d /tmp/mxfence-refresh.XXXXXX)
trap 'httpd_stop; rm -rf "$W"' EXIT
mkdir -p "$W/www" "$W/cache" "$W/state"
CF=$SHARED/data/providers/cloudflare-ips-v4-2026-05-06.txt
cp "$CF" "$W/www/cf4.txt"
printf '192.0.2.0/24\n2001:db8:25::/48\n' >"$W/relays.txt"
httpd_start "$W/www"

cat >"$W/p.conf" <<POL
[service smtp]
ports = tcp/25
sources = cloudflare relays

[source cloudflare]
format = list
url = $HTTPS_URL/cf4.txt
ca-file = $HTTPD_CA
retries = 0

[source relays]
format = list
file = relays.txt
POL

mx() { "$MXFENCE" --cache-dir "$W/cache" --state-dir "$W/state" "$@"; }
refresh() {
	got_out=$(mx refresh -c "$W/p.conf" "$@" 2>"$W/err")
	got_rc=$?
	got_err=$(cat "$W/err")
}
summary() { grep '^refresh: ' <<<"$got_err" | tail -n 1; }
expect() { # NAME RC PATTERN (on the summary line)
	local s
	s=$(summary)
	if [ "$got_rc" -ne "$2" ]; then
		fail "$1: exit $2" "exit $got_rc: $got_err"
	elif ! grep -qE -- "$3" <<<"$s"; then
		fail "$1: summary" "no /$3/ in: $s"
	else
		pass "$1: exit $2, $s"
	fi
	if [ "$(grep -c '^refresh: ' <<<"$got_err")" = 1 ]; then pass "$1: one summary line"; else fail "$1: one summary line" "$got_err"; fi
}
gen() { mx status -c "$W/p.conf" | sed -n 's/.*generation \([0-9]*\).*/\1/p' | head -n 1; }
has() { nft get element inet mxfence "$1" "{ $2 }" >/dev/null 2>&1; }
elements() { nft -j list set inet mxfence "$1" | jq -c '[.nftables[] | .set? | select(.) | .elem[]?]'; }

# --- the first run installs ----------------------------------------------------
n=$(grep -c . "$CF")
refresh
expect "first run" 0 "^refresh: smtp \+$((n + 2))/-0 prefixes .*; sources 2 ok; applied gen [0-9]+, verified$"
if has smtp_v4 104.16.0.1 && has smtp_v4 192.0.2.1 && has smtp_v6 2001:db8:25::1; then pass "the kernel holds the feed and the relays"; else fail "the kernel holds the feed and the relays" "$(nft list table inet mxfence)"; fi
if grep -q '^OK: 0 differences$' <<<"$got_out"; then pass "the run verified the kernel exhaustively"; else fail "the run verified the kernel exhaustively" "$got_out"; fi
g1=$(gen)
st=$(mx status -c "$W/p.conf")
if grep -qE "^source cloudflare: $n prefixes fetched [0-9-]+ [0-9:]+ UTC, current as of " <<<"$st"; then pass "status shows the fetched source's copy"; else fail "status shows the fetched source's copy" "$st"; fi

# --- nothing new: nothing sent --------------------------------------------------
refresh
expect "nothing changed" 0 "^refresh: smtp \+0/-0 prefixes .*; sources 2 ok; nothing to apply \(gen $g1\), verified$"
if [ "$(gen)" = "$g1" ]; then pass "nothing changed: the generation stays $g1"; else fail "nothing changed: the generation stays" "$(gen)"; fi

# --- a changed feed changes exactly that ------------------------------------------
before=$(elements smtp_v6)
{ cat "$CF"; printf '\n198.51.100.0/24\n'; } >"$W/www/cf4.txt" # the sample has no final newline
touch -d '+1 minute' "$W/www/cf4.txt"
refresh --dry-run
expect "dry run" 0 '^refresh: smtp \+1/-0 prefixes \(\+256/-0 addresses\); sources 2 ok; dry run: nothing applied'
if grep -qE '^\+ 198.51.100.0/24 +cloudflare \(cloudflare.feed:16\)$' <<<"$got_out"; then pass "dry run: the review diff names the new prefix"; else fail "dry run: the review diff" "$got_out"; fi
if ! has smtp_v4 198.51.100.7 && [ "$(gen)" = "$g1" ]; then pass "dry run: the kernel is untouched"; else fail "dry run: the kernel is untouched" "gen $(gen)"; fi
refresh
expect "a changed feed" 0 '^refresh: smtp \+1/-0 prefixes \(\+256/-0 addresses\); sources 2 ok; applied gen [0-9]+, verified$'
if has smtp_v4 198.51.100.7; then pass "the new prefix is live"; else fail "the new prefix is live" "missing"; fi
if [ "$(elements smtp_v6)" = "$before" ]; then pass "the other set is untouched"; else fail "the other set is untouched" "changed"; fi
g2=$(gen)

# --- a broken feed: the live set stays, exit 4 -------------------------------------
cp "$SHARED/data/providers/cloudflare-ips-v4-ERROR-http500-html-2024-10-29.txt" "$W/www/cf4.txt"
refresh
expect "a broken feed" 4 '^refresh: smtp \+0/-0 prefixes .*; sources 1 ok, 1 last-good; nothing to apply \(gen [0-9]+\), verified$'
if grep -q 'an HTML page, not a feed of format list' <<<"$got_err"; then pass "a broken feed: says why"; else fail "a broken feed: says why" "$got_err"; fi
if [ "$(gen)" = "$g2" ] && has smtp_v4 198.51.100.7 && has smtp_v4 104.16.0.1; then pass "a broken feed: the live set stays"; else fail "a broken feed: the live set stays" "gen $(gen)"; fi

# --- a source with no good copy: refused by a gate, exit 3 --------------------------
cp "$CF" "$W/www/cf4.txt"
sed -i 's/^sources = cloudflare relays/sources = cloudflare relays extra/' "$W/p.conf"
printf '\n[source extra]\nformat = list\nurl = %s/status/500\nca-file = %s\nretries = 0\n' "$HTTPS_URL" "$HTTPD_CA" >>"$W/p.conf"
refresh
expect "a source with no good copy" 3 '^refresh: sources 2 ok, 1 failed; refused by a gate; nothing changed$'
if [ "$(gen)" = "$g2" ]; then pass "a gate: the kernel is untouched"; else fail "a gate: the kernel is untouched" "gen $(gen)"; fi
sed -i 's/^sources = cloudflare relays extra/sources = cloudflare relays/; /^\[source extra\]/,$d' "$W/p.conf"

# --- two runs at once: one waits ----------------------------------------------------
touch -d '+2 minutes' "$W/www/cf4.txt" # served again without 198.51.100.0/24: a change
MXFENCE_TEST_BEFORE_COMMIT="sleep 3" mx refresh -c "$W/p.conf" >"$W/a.out" 2>"$W/a.err" &
a=$!
for _ in $(seq 100); do pgrep -f '^sleep 3$' >/dev/null && break; sleep 0.1; done
got_out=$(mx refresh -c "$W/p.conf" --lock-timeout 1 2>"$W/err"); got_rc=$?; got_err=$(cat "$W/err")
expect "a second run with a short lock timeout" 2 'another mxfence run holds .*/lock; gave up after 1 s; nothing changed$'
start=$(date +%s.%N)
got_out=$(mx refresh -c "$W/p.conf" 2>"$W/err"); got_rc=$?; got_err=$(cat "$W/err")
took=$(echo "$(date +%s.%N) - $start" | bc 2>/dev/null || python3 -c "print($(date +%s.%N) - $start)")
wait $a
arc=$?
if [ $arc -eq 0 ] && grep -q 'smtp +0/-1 prefixes' "$W/a.err"; then pass "the first run applied the change"; else fail "the first run applied the change" "exit $arc: $(cat "$W/a.err")"; fi
expect "the waiting run, after the first" 0 'nothing to apply \(gen [0-9]+\), verified$'
if python3 -c "import sys; sys.exit(0 if $took >= 1.0 else 1)"; then pass "the second run waited for the lock (${took}s)"; else fail "the second run waited for the lock" "${took}s"; fi
finish
