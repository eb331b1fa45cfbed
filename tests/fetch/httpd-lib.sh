#!/usr/bin/env bash
# The test web servers of tests/lib/httpd.sh, checked with the curl CLI before
# any fetch test relies on them.
#
#   +------------------------ test host, 127.0.0.1 only ------------------------+
#   |  nginx (one process, scratch config)        python3 stall server          |
#   |   HTTPD_URL        plain HTTP                 STALL_URL       silent      |
#   |   HTTPS_URL        cert of the test CA        STALL_BODY_URL  half a body |
#   |   HTTPS_BADCA_URL  cert of an unknown CA      STALL_DRIP_URL  1 byte/s    |
#   |   docroot: $work/www                                                      |
#   +---------------------------------------------------------------------------+
#
# Then cleanup three ways: httpd_stop, a test shell ending on SIGTERM (traps),
# and one killed with SIGKILL (watchdog). Each must leave no process, no
# listening port and no scratch folder.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/report.sh"
. "$here/../lib/httpd.sh"

need_cmd curl nginx openssl python3 ss awk

work=$(mktemp -d /tmp/mxfhttpd-test.XXXXXX) || exit 1
# shellcheck disable=SC2317 # the EXIT trap, armed once the servers run
on_exit() {
	local rc=$?
	trap - EXIT
	rm -rf "$work"
	httpd_stop
	exit "$rc"
}

www=$work/www
mkdir -p "$www"
printf '192.0.2.0/24\n198.51.100.0/24\n' >"$www/feed.txt"
touch -d '-1 hour' "$www/feed.txt"

if ! httpd_start "$www" 2>"$work/start.err"; then
	fail "httpd_start" "$(cat "$work/start.err")"
	rm -rf "$work"
	finish
fi
pass "httpd_start"
# The library's trap is armed now; this one also removes the work folder.
trap on_exit EXIT
if ! stall_start 2>"$work/stall.err"; then
	fail "stall_start" "$(cat "$work/stall.err")"
	finish
fi
pass "stall_start"

# hdr FILE NAME: value of a response header in a curl -D dump, without CR.
hdr() {
	awk -v n="$2" 'BEGIN { n = tolower(n) ":" }
		tolower($1) == n { sub(/^[^:]*:[ \t]*/, ""); sub(/\r$/, ""); v = $0 }
		END { print v }' "$1"
}

# code ARGS...: curl's status code, and its exit status as "CODE rc=N".
code() {
	local c rc
	c=$(curl -sS -o /dev/null -w '%{http_code}' "$@" 2>>"$work/curl.err")
	rc=$?
	echo "$c rc=$rc"
}

# --- plain HTTP: validators and conditional GET ---
curl -sS -D "$work/h1" -o "$work/b1" "$HTTPD_URL/feed.txt" 2>"$work/curl.err"
etag=$(hdr "$work/h1" ETag)
lastmod=$(hdr "$work/h1" Last-Modified)
status=$(awk 'NR == 1 { print $2 }' "$work/h1")
if [ "$status" = 200 ] && [ -n "$etag" ] && [ -n "$lastmod" ] && cmp -s "$work/b1" "$www/feed.txt"; then
	pass "200 with ETag and Last-Modified"
else
	fail "200 with ETag and Last-Modified" "status '$status' etag '$etag' last-modified '$lastmod'"
fi
expect_eq "text/plain for .txt" "$(hdr "$work/h1" Content-Type)" "text/plain"
expect_eq "304 with If-None-Match" \
	"$(code -H "If-None-Match: $etag" "$HTTPD_URL/feed.txt")" "304 rc=0"
expect_eq "304 with If-Modified-Since" \
	"$(code -H "If-Modified-Since: $lastmod" "$HTTPD_URL/feed.txt")" "304 rc=0"
expect_eq "200 with a stale If-None-Match" \
	"$(code -H 'If-None-Match: "0-0"' "$HTTPD_URL/feed.txt")" "200 rc=0"
# A changed file gets a new ETag, and the old one no longer matches.
printf '203.0.113.0/24\n' >>"$www/feed.txt"
curl -sS -D "$work/h2" -o /dev/null -H "If-None-Match: $etag" "$HTTPD_URL/feed.txt" 2>>"$work/curl.err"
etag2=$(hdr "$work/h2" ETag)
status=$(awk 'NR == 1 { print $2 }' "$work/h2")
if [ "$status" = 200 ] && [ -n "$etag2" ] && [ "$etag2" != "$etag" ]; then
	pass "changed file: 200 and a new ETag"
else
	fail "changed file: 200 and a new ETag" "status '$status' old '$etag' new '$etag2'"
fi
expect_eq "changed file: old Last-Modified gives 200" \
	"$(code -H "If-Modified-Since: $lastmod" "$HTTPD_URL/feed.txt")" "200 rc=0"

# --- special locations ---
curl -sS -D "$work/h3" -o "$work/b3" "$HTTPD_URL/status/500" 2>>"$work/curl.err"
if [ "$(awk 'NR == 1 { print $2 }' "$work/h3")" = 500 ] && grep -q '<html>' "$work/b3"; then
	pass "/status/500: 500 with an HTML body"
else
	fail "/status/500: 500 with an HTML body" "$(head -n 1 "$work/h3") $(head -c 200 "$work/b3")"
fi
expect_eq "/status/503" "$(code "$HTTPD_URL/status/503")" "503 rc=0"
curl -sS -D "$work/h4" -o "$work/b4" "$HTTPD_URL/html200" 2>>"$work/curl.err"
if [ "$(awk 'NR == 1 { print $2 }' "$work/h4")" = 200 ] && [ "$(hdr "$work/h4" Content-Type)" = text/html ] &&
	grep -qi '<html' "$work/b4"; then
	pass "/html200: an HTML page with 200"
else
	fail "/html200: an HTML page with 200" "$(head -n 1 "$work/h4") $(head -c 200 "$work/b4")"
fi
expect_eq "/empty: 200, zero bytes" \
	"$(curl -sS -o /dev/null -w '%{http_code} %{size_download}' "$HTTPD_URL/empty" 2>>"$work/curl.err")" "200 0"
printf 'x' >"$work/probe"
cp "$work/probe" "$www/anything.bin"
expect_eq "any docroot file is served" \
	"$(curl -sS -o /dev/null -w '%{http_code} %{content_type}' "$HTTPD_URL/anything.bin" 2>>"$work/curl.err")" \
	"200 application/octet-stream"
got=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "$HTTPD_URL/redirect/feed.txt" 2>>"$work/curl.err")
expect_eq "/redirect/P" "$got" "302 $HTTPD_URL/feed.txt"

# --- a body of 70 MB (sparse: costs no disk) ---
truncate -s 70M "$www/big.bin"
got=$(curl -sS -o /dev/null -w '%{http_code} %{size_download}' "$HTTPD_URL/big.bin" 2>>"$work/curl.err")
expect_eq "70 MB body served whole" "$got" "200 $((70 * 1024 * 1024))"
rm -f "$www/big.bin"

# --- TLS ---
expect_eq "HTTPS with --cacert HTTPD_CA" "$(code --cacert "$HTTPD_CA" "$HTTPS_URL/feed.txt")" "200 rc=0"
port=${HTTPS_URL##*:}
expect_eq "HTTPS as localhost (subjectAltName DNS)" \
	"$(code --cacert "$HTTPD_CA" --resolve "localhost:$port:127.0.0.1" "https://localhost:$port/feed.txt")" "200 rc=0"
expect_eq "HTTPS without the test CA fails verification" "$(code "$HTTPS_URL/feed.txt")" "000 rc=60"
expect_eq "unknown-CA listener fails with --cacert HTTPD_CA" \
	"$(code --cacert "$HTTPD_CA" "$HTTPS_BADCA_URL/feed.txt")" "000 rc=60"
expect_eq "unknown-CA listener serves when its own CA is trusted" \
	"$(code --cacert "$HTTPD_BADCA" "$HTTPS_BADCA_URL/feed.txt")" "200 rc=0"

# --- stalls ---
expect_eq "stall server: curl -m 2 times out" "$(code -m 2 "$STALL_URL")" "000 rc=28"
got=$(curl -sS -m 2 -o /dev/null -w '%{http_code} %{size_download}' "$STALL_BODY_URL" 2>>"$work/curl.err")
rc=$?
case "$got rc=$rc" in
"200 "[1-9]*" rc=28") pass "stall mid-body: headers, some bytes, then timeout" ;;
*) fail "stall mid-body: headers, some bytes, then timeout" "got '$got rc=$rc'" ;;
esac
expect_eq "stall server counts connections" "$(stall_count silent) $(stall_count body)" "1 1"

# --- access log counting ---
for _ in 1 2 3; do curl -sS -o /dev/null "$HTTPD_URL/count/me.json?r=$RANDOM" 2>>"$work/curl.err"; done
curl -sS -o /dev/null --cacert "$HTTPD_CA" "$HTTPS_URL/count/me.json" 2>>"$work/curl.err"
expect_eq "httpd_count: path, query ignored, both listeners" "$(httpd_count /count/me.json)" 4
expect_eq "httpd_count: by status" "$(httpd_count /count/me.json 404) $(httpd_count /count/me.json 200)" "4 0"
expect_eq "httpd_count: another path" "$(httpd_count /count/me)" 0
httpd_log_mark
curl -sS -o /dev/null "$HTTPD_URL/count/me.json" 2>>"$work/curl.err"
expect_eq "httpd_count_since: after the mark" "$(httpd_count_since /count/me.json)" 1
expect_eq "httpd_count: 304s are counted too" "$(httpd_count /feed.txt 304)" 2

# --- addresses ---
bad_addr=""
ports="$HTTPD_PORT $HTTPS_PORT $HTTPS_BADCA_PORT $(cat "$HTTPD_TMP/stall.ports")"
for p in $ports; do
	addrs=$(ss -ltnH "sport = :$p" | awk '{ print $4 }')
	[ -n "$addrs" ] || { bad_addr="$bad_addr $p:none"; continue; }
	for a in $addrs; do [ "$a" = "127.0.0.1:$p" ] || bad_addr="$bad_addr $a"; done
done
if [ -z "$bad_addr" ]; then pass "listeners on 127.0.0.1 only"; else fail "listeners on 127.0.0.1 only" "$bad_addr"; fi

# --- cleanup by httpd_stop ---
# gone TMP PIDS PORTS: nothing of that run is left (zombies count as gone:
# the watchdog's are reaped by whoever adopts them). Prints what is left.
gone() {
	local tmp=$1 p left=""
	for p in $2; do _httpd_alive "$p" && left="$left pid $p"; done
	for p in $3; do ss -ltnH "sport = :$p" | grep -q . && left="$left port $p"; done
	[ -n "$tmp" ] && for p in $(pgrep -f "$tmp"); do
		_httpd_alive "$p" && left="$left process $(tr '\0' ' ' <"/proc/$p/cmdline")"
	done
	[ -n "$tmp" ] && [ -e "$tmp" ] && left="$left folder $tmp"
	echo "$left"
	[ -z "$left" ]
}
tmp=$HTTPD_TMP
pids="${HTTPD_PIDS[*]} $HTTPD_WATCHDOG"
httpd_stop
if left=$(gone "$tmp" "$pids" "$ports"); then
	pass "httpd_stop: no process, port or folder left"
else
	fail "httpd_stop: no process, port or folder left" "$left"
fi

# --- cleanup when the test shell is killed ---
# A test of its own: starts both servers, writes what it started, then waits.
cat >"$work/victim.sh" <<'VICTIM'
set -u
. "$1"
mkdir -p "$2/www"
httpd_start "$2/www" || exit 1
stall_start || exit 1
echo "$HTTPD_TMP|${HTTPD_PIDS[*]} $HTTPD_WATCHDOG|$HTTPD_PORT $HTTPS_PORT $HTTPS_BADCA_PORT $(cat "$HTTPD_TMP/stall.ports")" >"$2/info.tmp"
mv "$2/info.tmp" "$2/info"
mkfifo "$2/fifo"
read -r -t 60 -u 3 _ 3<>"$2/fifo"
VICTIM

# victim SIGNAL WAIT_SECS: run one, kill it with SIGNAL, check it left nothing.
victim() {
	local sig=$1 secs=$2 d=$work/victim-$1 vpid vtmp vpids vports i p left
	mkdir -p "$d"
	bash "$work/victim.sh" "$here/../lib/httpd.sh" "$d" >"$d/out" 2>&1 &
	vpid=$!
	for ((i = 0; i < 100; i++)); do
		[ -s "$d/info" ] && break
		kill -0 "$vpid" 2>/dev/null || break
		sleep 0.1
	done
	if ! IFS='|' read -r vtmp vpids vports <"$d/info" 2>/dev/null; then
		kill -KILL "$vpid" 2>/dev/null
		wait "$vpid" 2>/dev/null
		fail "SIG$sig: victim started" "$(tail -n 3 "$d/out")"
		return
	fi
	kill "-$sig" "$vpid"
	wait "$vpid" 2>/dev/null
	for ((i = 0; i < secs * 10; i++)); do
		left=$(gone "$vtmp" "$vpids" "$vports") && break
		sleep 0.1
	done
	if [ -z "$left" ]; then
		pass "test shell killed by SIG$sig: no process, port or folder left"
	else
		fail "test shell killed by SIG$sig: no process, port or folder left" "$left"
		for p in $vpids; do
			case $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) in
			*"$vtmp"* | *"$work"*) kill -KILL "$p" ;;
			esac
		done
		rm -rf "$vtmp"
	fi
}
victim TERM 2
victim KILL 5

finish
