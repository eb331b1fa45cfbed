#!/usr/bin/env bash
# mxfence fetch against a real nginx on 127.0.0.1 (HTTP, HTTPS with a test CA,
# HTTPS with an unknown CA) and a server that stalls: what lands in the cache,
# what is refused, and that a refused download never touches the last good copy.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/report.sh"
. "$here/../lib/httpd.sh"

SHARED=${SHARED:-$(cd "$here/../../.." && pwd)/shared}
need_cmd nginx openssl python3 jq sha256sum
need_mxfence
W=$(mktemp -d /tmp/mxfence-fetch.XXXXXX)
trap 'httpd_stop; rm -rf "$W"' EXIT
mkdir -p "$W/www" "$W/cache" "$W/state"
P=$SHARED/data/providers
AWS=$P/aws-ip-ranges-2026-07-20.json
cp "$AWS" "$W/www/aws.json"
httpd_start "$W/www"
stall_start

mx() { "$MXFENCE" --cache-dir "$W/cache" --state-dir "$W/state" "$@"; }

# policy URL [extra keys]: one aws source fetched from URL.
policy() {
	local url=$1
	shift
	{
		printf '[service smtp]\nports = tcp/25\nsources = aws\n\n'
		printf '[source aws]\nformat = aws\nurl = %s\nca-file = %s\nservice = AMAZON\n' \
			"$url" "$HTTPD_CA"
		printf 'region = eu-west-1\nretries = 0\n'
		for kv in "$@"; do printf '%s\n' "$kv"; done
	} >"$W/p.conf"
}

snap() { (cd "$W/cache" && sha256sum aws.feed aws.meta 2>/dev/null); }

# run NAME RC PATTERN: the last fetch exits RC and its stderr matches PATTERN.
expect() {
	local name=$1 rc=$2 pat=$3
	if [ "$got_rc" -ne "$rc" ]; then
		fail "$name: exit $rc" "exit $got_rc: $got_err"
	elif ! printf "%s\n%s\n" "$got_err" "$got_out" | grep -qE -- "$pat"; then
		fail "$name: message" "no /$pat/ in: $got_err $got_out"
	else
		pass "$name: exit $rc and the message"
	fi
}

fetch() {
	got_out=$(mx fetch -c "$W/p.conf" "$@" 2>"$W/err")
	got_rc=$?
	got_err=$(cat "$W/err")
}

# --- a first fetch, then 304, then a change -----------------------------------
policy "$HTTPS_URL/aws.json"
fetch
expect "first fetch" 0 '^fetch aws: updated: 414 prefixes, 2524095 bytes; syncToken 1784582225'
if cmp -s "$AWS" "$W/cache/aws.feed"; then pass "the copy is the served file"; else fail "the copy is the served file" "differs"; fi
check "metadata: url, etag, serial, sha256" jq -e --arg u "$HTTPS_URL/aws.json" --arg s "$(sha256sum <"$AWS" | cut -c1-64)" \
	'.url == $u and (.etag | length > 2) and .serial == 1784582225 and .sha256 == $s and .prefixes == 414' "$W/cache/aws.meta"
check "build reads the cached copy" mx check -c "$W/p.conf"

httpd_log_mark
fetch
expect "second fetch" 0 '^fetch aws: not modified \(HTTP 304\)'
n=$(httpd_count_since /aws.json 304)
if [ "$n" = 1 ]; then pass "the server answered 304 once"; else fail "the server answered 304 once" "$n"; fi

# A newer feed: one more prefix and a higher syncToken.
jq -c '.syncToken = "1784582999" | .prefixes += [{"ip_prefix": "203.0.113.0/24", "region": "eu-west-1", "service": "AMAZON", "network_border_group": "eu-west-1"}]' \
	"$AWS" >"$W/www/aws.json"
touch -d '+1 minute' "$W/www/aws.json"
fetch
expect "a changed feed" 0 '^fetch aws: updated: 415 prefixes.*syncToken 1784582999'
check "the new copy is in the cache" cmp -s "$W/www/aws.json" "$W/cache/aws.feed"
check "explain finds the new prefix in the cache" sh -c "'$MXFENCE' --cache-dir '$W/cache' explain -c '$W/p.conf' 203.0.113.9 | grep -q 'aws, aws.feed: prefixes\\[.*\\]\\|203.0.113.0/24'"
good=$(snap)

# --- refused downloads: the last good copy stays, byte for byte ---------------
refused() { # NAME PATTERN: exit 4, the message, the cache unchanged
	expect "$1" 4 "$2"
	if [ "$(snap)" = "$good" ]; then pass "$1: cache unchanged"; else fail "$1: cache unchanged" "it changed"; fi
	if grep -q 'the last good copy (fetched .*) stays' <<<"$got_err"; then pass "$1: says the last good copy stays"; else fail "$1: says the last good copy stays" "$got_err"; fi
}
keep_serving() { cp "$W/cache/aws.feed" "$W/www/aws.json"; }

cp "$P/cloudflare-ips-v4-ERROR-http500-html-2024-10-29.txt" "$W/www/aws.json"
fetch
refused "an HTML error page with status 200" 'an HTML page, not a feed of format aws'
check "the refused page is kept for people" cmp -s "$W/www/aws.json" "$W/cache/aws.rejected"

head -c 100000 "$AWS" >"$W/www/aws.json"
fetch
refused "a truncated JSON" 'aws.json:[0-9]+:[0-9]+: error: invalid JSON.*|1 error as format aws'

: >"$W/www/aws.json"
fetch
refused "an empty body" 'the download is empty'

jq -c '.syncToken = "1700000000"' "$AWS" >"$W/www/aws.json"
fetch
refused "a syncToken that went backwards" "version went backwards \(1700000000, the last good copy has 1784582999\)"

jq -c '.syncToken = "1784583000" | .prefixes = .prefixes[0:40]' "$AWS" >"$W/www/aws.json"
fetch
refused "a feed that lost most of its prefixes" 'prefixes, [0-9.]+% fewer than the last good copy.s 415 \(max-shrink 10%\)'

keep_serving
policy "$HTTPS_URL/status/500" "retries = 1"
httpd_log_mark
fetch
refused "HTTP 500" 'status/500: HTTP 500 \(2 tries\)'
n=$(httpd_count_since /status/500 500)
if [ "$n" = 2 ]; then pass "HTTP 500 is tried again once (retries = 1)"; else fail "HTTP 500 is tried again once (retries = 1)" "$n requests"; fi

policy "$HTTPS_URL/aws.json" "max-size = 1M"
fetch
refused "a body over max-size" 'larger than max-size \(1048576 bytes\)'

policy "$HTTPS_BADCA_URL/aws.json"
fetch
refused "a certificate from an unknown CA" "certificate was not accepted"

policy "$STALL_URL/aws.json" "insecure-http = yes" "timeout = 2"
start=$(date +%s)
fetch
refused "a server that stalls" 'timed out'
took=$(($(date +%s) - start))
if [ "$took" -le 10 ]; then pass "the stall is cut at the timeout (${took}s)"; else fail "the stall is cut at the timeout" "${took}s"; fi

policy "$STALL_BODY_URL/aws.json" "insecure-http = yes" "timeout = 2"
fetch
refused "a body that stalls midway" 'timed out'

policy "$HTTPS_URL/redirect-http/aws.json"
fetch
refused "a redirect from https to plain http" 'aws.json: .*(Protocol|protocol|not supported|disabled)'

policy "$HTTPD_URL/aws.json"
fetch
expect "plain http without insecure-http" 2 'p.conf:7: error: plain http needs insecure-http = yes'
if [ "$(snap)" = "$good" ]; then pass "plain http: cache unchanged"; else fail "plain http: cache unchanged" "it changed"; fi

# --force takes what the gates refused.
jq -c '.syncToken = "1700000000"' "$AWS" >"$W/www/aws.json"
policy "$HTTPS_URL/aws.json"
fetch --force
expect "--force accepts a version that went backwards" 0 '^fetch aws: updated: 414 prefixes'

# A source with no good copy at all: fetch says so, build refuses it.
rm -f "$W/cache/aws.feed" "$W/cache/aws.meta"
policy "$HTTPS_URL/status/500"
fetch
expect "no good copy at all" 4 'there is no good copy: the source cannot be built until a fetch succeeds'
got_err=$(mx build -c "$W/p.conf" -o "$W/out.nft" 2>&1)
got_rc=$?
expect "build without a copy" 2 'aws.feed: error: source aws has no good copy in the cache yet \(mxfence fetch makes one\)'
if [ ! -e "$W/out.nft" ]; then pass "build without a copy writes nothing"; else fail "build without a copy writes nothing" "out.nft exists"; fi

# --- Microsoft 365: the version service first ---------------------------------
mkdir -p "$W/www/version" "$W/www/endpoints"
printf '{"instance": "Worldwide", "latest": "2024071400"}\n' >"$W/www/version/Worldwide"
cp "$P/microsoft365-endpoints-worldwide-2024-07-14.json" "$W/www/endpoints/Worldwide"
cat >"$W/m.conf" <<POL
[service smtp]
ports = tcp/25
sources = m365

[source m365]
format = m365
url = $HTTPS_URL
ca-file = $HTTPD_CA
service-area = Exchange
tcp-port = 25
POL
httpd_log_mark
got_out=$(mx fetch -c "$W/m.conf" 2>"$W/err"); got_rc=$?; got_err=$(cat "$W/err")
expect "m365: first fetch" 0 '^fetch m365: updated: [0-9]+ prefixes'
n=$(httpd_count_since /endpoints/Worldwide 200)
if [ "$n" = 1 ]; then pass "m365: the endpoints were requested once"; else fail "m365: the endpoints were requested once" "$n"; fi
id=$(cat "$W/state/m365-clientrequestid")
if grep -q "GET /version/Worldwide?clientrequestid=$id " "$HTTPD_LOG"; then pass "m365: the client request id kept in the state folder is sent"; else fail "m365: the client request id is sent" "$id not in the log"; fi
httpd_log_mark
got_out=$(mx fetch -c "$W/m365.conf" 2>/dev/null; mx fetch -c "$W/m.conf" 2>"$W/err"); got_rc=$?; got_err=$(cat "$W/err")
expect "m365: same version" 0 '^fetch m365: unchanged \(version 2024071400\)'
n=$(httpd_count_since /endpoints/Worldwide)
v=$(httpd_count_since /version/Worldwide)
if [ "$n" = 0 ] && [ "$v" = 1 ]; then pass "m365: an unchanged version does not request the endpoints"; else fail "m365: an unchanged version does not request the endpoints" "endpoints $n, version $v"; fi
if [ "$(cat "$W/state/m365-clientrequestid")" = "$id" ]; then pass "m365: the client request id is made once"; else fail "m365: the client request id is made once" "it changed"; fi
printf '{"instance": "Worldwide", "latest": "2024061000"}\n' >"$W/www/version/Worldwide"
got_out=$(mx fetch -c "$W/m.conf" 2>"$W/err"); got_rc=$?; got_err=$(cat "$W/err")
expect "m365: a version that went backwards" 4 'version/Worldwide: the version went backwards \(2024061000, the last good copy has 2024071400\)'
printf '{"instance": "Worldwide", "latest": "2024080100"}\n' >"$W/www/version/Worldwide"
httpd_log_mark
got_out=$(mx fetch -c "$W/m.conf" 2>"$W/err"); got_rc=$?; got_err=$(cat "$W/err")
expect "m365: a new version fetches the endpoints" 0 '^fetch m365: (updated|unchanged \(the same)'
n=$(httpd_count_since /endpoints/Worldwide 200)
if [ "$n" = 1 ]; then pass "m365: a new version requests the endpoints"; else fail "m365: a new version requests the endpoints" "$n"; fi
check "m365: the new version is kept" jq -e '.serial == 2024080100' "$W/cache/m365.meta"

# --- usage -----------------------------------------------------------------------
got_out=$(mx fetch -c "$W/m.conf" nosuch 2>"$W/err"); got_rc=$?; got_err=$(cat "$W/err")
expect "an unknown source name" 2 "no source named 'nosuch'"

# --- fetch needs no root ---------------------------------------------------------
asuser() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
if ! command -v setpriv >/dev/null || ! getent passwd nobody >/dev/null; then
	skip "fetch as an unprivileged user" "no setpriv or no user nobody"
elif ! asuser test -x "$MXFENCE"; then
	skip "fetch as an unprivileged user" "user nobody cannot run $MXFENCE (its folder is private)"
else
	U=$(mktemp -d /tmp/mxfence-fetch-user.XXXXXX)
	chmod 755 "$U"
	cp "$HTTPD_CA" "$U/ca.pem"
	cp "$AWS" "$W/www/aws.json"
	printf '[service smtp]\nports = tcp/25\nsources = aws\n\n[source aws]\nformat = aws\nurl = %s\nca-file = ca.pem\nservice = AMAZON\nregion = eu-west-1\n' \
		"$HTTPS_URL/aws.json" >"$U/p.conf"
	mkdir "$U/cache" "$U/state"
	chown nobody "$U/cache" "$U/state"
	got_out=$(asuser "$MXFENCE" --cache-dir "$U/cache" --state-dir "$U/state" fetch -c "$U/p.conf" 2>"$W/err")
	got_rc=$?
	got_err=$(cat "$W/err")
	expect "fetch as user nobody" 0 '^fetch aws: updated: 414 prefixes'
	if [ "$(stat -c %U "$U/cache/aws.feed" 2>/dev/null)" = nobody ]; then pass "the unprivileged fetch owns its cache"; else fail "the unprivileged fetch owns its cache" "$(ls -l "$U/cache")"; fi
	rm -rf "$U"
fi

finish
