#!/usr/bin/env bash
# SPF flattening against a real DNS server: dnsmasq on 127.0.0.1 and a free
# high port, serving the real SPF records of the shared TSV under their real
# names and made-up ones under example.com/.net/.org (documentation
# addresses only). tests/tools/spf_drive flattens; the outputs, warnings,
# errors and exit codes are compared exactly. One case goes on through
# mxfence build and explain. Nothing leaves 127.0.0.1.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=../lib/report.sh
. "$top/tests/lib/report.sh"
need_cmd dnsmasq drill awk
need_mxfence
DRIVE=${SPF_DRIVE:-$top/tests/tools/spf_drive}
if [ ! -x "$DRIVE" ]; then
	fail "spf: driver" "$DRIVE not built (make tests/tools/spf_drive)"
	finish
fi
SHARED=${SHARED:-$(cd "$top/.." && pwd)/shared}
TSV=$SHARED/data/providers/spf/spf-txt-records.tsv
if [ ! -r "$TSV" ]; then
	fail "spf: data" "$TSV not readable"
	finish
fi

work=$(mktemp -d /tmp/mxfence-spf.XXXXXX)
dns_pid=
silent_pid=
cleanup() {
	[ -n "$dns_pid" ] && kill "$dns_pid" 2>/dev/null && wait "$dns_pid" 2>/dev/null
	[ -n "$silent_pid" ] && kill "$silent_pid" 2>/dev/null && wait "$silent_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT

# A port nothing listens on, UDP and TCP.
free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + RANDOM % 30000))
		if ! ss -Hlnu "sport = :$p" 2>/dev/null | grep -q . &&
			! ss -Hlnt "sport = :$p" 2>/dev/null | grep -q .; then
			echo "$p"
			return
		fi
	done
	echo 0
}

args=()
# txt NAME STRING...: one TXT record of these character-strings.
txt() {
	local name=$1 a
	shift
	a="--txt-record=$name"
	for s in "$@"; do a+=",$s"; done
	args+=("$a")
}

# The TSV's records: the strings of character_strings_json when given (the
# second github.com row, split inside a token), else record_text cut into
# strings of 255 bytes. The first github.com row is left out: one record a name.
# (Tabs are read as \037: bash folds runs of tabs, and a column may be empty.)
while IFS=$'\037' read -r name _ _ json text; do
	case $name in '#'* | record_name | '') continue ;; esac
	if [ -n "$json" ]; then
		mapfile -t strings < <(printf '%s\n' "$json" | sed 's/^\["//; s/"\]$//' |
			awk 'BEGIN { RS = "\", \"" } { sub(/\n$/, ""); print }')
		txt "$name" "${strings[@]}"
	elif [ "$name" != github.com ]; then
		strings=()
		while [ ${#text} -gt 255 ]; do
			strings+=("${text:0:255}")
			text=${text:255}
		done
		strings+=("$text")
		txt "$name" "${strings[@]}"
	fi
done < <(tr '\t' '\037' <"$TSV")
# github.com's other TXT records (of the same wire answer), so that the SPF
# one must be picked out, and the answer is too long for UDP.
txt github.com "MS=ms44452932"
txt github.com "MS=ms58704441"
txt github.com "apple-domain-verification=RyQhdzTl6Z6x8ZP4"

# Made-up records.
txt split.example.com "v=spf1 ip4:1" "98.51.100.7 -all"
txt loop.example.com "v=spf1 include:loop2.example.com -all"
txt loop2.example.com "v=spf1 ip4:192.0.2.1 include:LOOP.example.com -all"
txt redir.example.com "v=spf1 ip4:198.51.100.1 redirect=target.example.net"
txt target.example.net "v=spf1 ip4:192.0.2.0/24 -all"
txt redirall.example.com "v=spf1 ip4:198.51.100.0/24 -all redirect=target.example.net"
txt macro.example.com "v=spf1 ip4:192.0.2.1 exists:%{i}._spf.example.net include:%{d}.example.net ptr ~all"
txt nxinclude.example.com "v=spf1 ip4:192.0.2.0/25 include:missing.example.net -all"
txt refused.example.com "v=spf1 include:spf.elsewhere.test -all"
txt amx.example.org "v=spf1 a a:www.example.org/24 mx/28//64 a:v6.example.org//48 -all"
txt nohost.example.org "v=spf1 a:gone.example.org mx:nomx.example.org ip4:192.0.2.4 -all"
txt passall.example.com "v=spf1 ip4:192.0.2.0/24 +all"
txt bareall.example.com "v=spf1 include:target.example.net all"
txt minus.example.com "v=spf1 -ip4:192.0.2.66 ip4:192.0.2.0/24 ~ip6:2001:db8::/32 ?a -include:target.example.net -all ip4:203.0.113.9"
txt two.example.com "v=spf1 ip4:192.0.2.1 -all"
txt two.example.com "V=SPF1 ip4:192.0.2.2 -all"
txt nospf.example.com "google-site-verification=x" "yz"
txt incnospf.example.com "v=spf1 include:nospf.example.com -all"
txt bad.example.com "v=spf1 ip4:192.0.2.300 foo:bar a:example.org/33 -all"
txt diamond.example.org "v=spf1 include:left.example.org include:right.example.org -all"
txt left.example.org "v=spf1 include:base.example.org -all"
txt right.example.org "v=spf1 include:base.example.org ?all"
txt base.example.org "v=spf1 ip4:203.0.113.0/24 -all"
many="v=spf1"
for i in $(seq 11); do
	many+=" include:l$i.example.net"
	txt "l$i.example.net" "v=spf1 ip4:198.51.100.$i -all"
done
txt many.example.net "$many -all"
for i in $(seq 11); do
	txt "d$i.example.net" "v=spf1 include:d$((i + 1)).example.net -all"
done
txt d12.example.net "v=spf1 ip4:192.0.2.12 -all"
args+=(
	--host-record=amx.example.org,192.0.2.10,2001:db8:1::10
	--host-record=www.example.org,198.51.100.77
	--host-record=v6.example.org,2001:db8:abcd:1234::1
	--host-record=mail1.example.org,203.0.113.5,2001:db8:2::5
	--host-record=mail2.example.org,203.0.113.200
	--host-record=nomx.example.org,192.0.2.99
	--mx-host=amx.example.org,mail2.example.org,20
	--mx-host=amx.example.org,mail1.example.org,10
)
for zone in example.com example.net example.org google.com github.com sendgrid.net pardot.com \
	discoursemail.com janestreet.com bloomberg.net rsgsv.net mailgun.org outlook.com \
	zendesk.com salesforce.com mcsv.net mandrillapp.com; do
	args+=("--local=/$zone/")
done

start_dns() {
	port=$(free_port)
	dnsmasq --no-resolv --no-hosts --bind-interfaces --listen-address=127.0.0.1 \
		--port="$port" --keep-in-foreground --pid-file= --conf-file=/dev/null \
		--log-facility="$work/dnsmasq.log" "${args[@]}" &
	dns_pid=$!
	for _ in $(seq 50); do
		drill -Q @127.0.0.1 -p "$port" split.example.com TXT >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
if ! start_dns; then
	fail "spf: dnsmasq" "did not answer on 127.0.0.1:$port: $(tail -n 5 "$work/dnsmasq.log" 2>/dev/null)"
	finish
fi
R=127.0.0.1:$port

# What the server really answers, as drill shows it.
out=$(drill @127.0.0.1 -p "$port" nx.example.com TXT 2>&1)
case $out in *'rcode: NXDOMAIN'*) pass "spf: dnsmasq: unknown name is NXDOMAIN" ;;
*) fail "spf: dnsmasq: unknown name is NXDOMAIN" "$out" ;; esac
out=$(drill @127.0.0.1 -p "$port" split.example.com TXT 2>&1)
case $out in *'"v=spf1 ip4:1" "98.51.100.7 -all"'*) pass "spf: dnsmasq: two strings" ;;
*) fail "spf: dnsmasq: two strings" "$out" ;; esac

# flatten NAME DOMAIN RC [DRIVE ARGS...]: spf_drive DOMAIN; stdout must be
# $work/want.out, stderr $work/want.err, exit RC.
flatten() {
	local name=$1 domain=$2 want_rc=$3 rc
	shift 3
	"$DRIVE" "$domain" "$@" >"$work/got.out" 2>"$work/got.err"
	rc=$?
	if [ $rc -ne "$want_rc" ]; then
		fail "$name" "exit $rc, want $want_rc: $(cat "$work/got.err")"
	elif ! diff -u "$work/want.out" "$work/got.out" >"$work/diff" 2>&1; then
		fail "$name" "stdout: $(cat "$work/diff")"
	elif ! diff -u "$work/want.err" "$work/got.err" >"$work/diff" 2>&1; then
		fail "$name" "stderr: $(cat "$work/diff")"
	else
		pass "$name"
	fi
}
# want STDOUT STDERR: the expected texts ('' for empty).
want() {
	printf '%s' "$1" >"$work/want.out"
	printf '%s' "$2" >"$work/want.err"
}
T=$'\t'

want "# spf _spf.google.com
35.190.247.0/24${T}_spf.google.com > _netblocks.google.com
64.233.160.0/19${T}_spf.google.com > _netblocks.google.com
66.102.0.0/20${T}_spf.google.com > _netblocks.google.com
66.249.80.0/20${T}_spf.google.com > _netblocks.google.com
72.14.192.0/18${T}_spf.google.com > _netblocks.google.com
74.125.0.0/16${T}_spf.google.com > _netblocks.google.com
108.177.8.0/21${T}_spf.google.com > _netblocks.google.com
173.194.0.0/16${T}_spf.google.com > _netblocks.google.com
209.85.128.0/17${T}_spf.google.com > _netblocks.google.com
216.58.192.0/19${T}_spf.google.com > _netblocks.google.com
216.239.32.0/19${T}_spf.google.com > _netblocks.google.com
2001:4860:4000::/36${T}_spf.google.com > _netblocks2.google.com
2404:6800:4000::/36${T}_spf.google.com > _netblocks2.google.com
2607:f8b0:4000::/36${T}_spf.google.com > _netblocks2.google.com
2800:3f0:4000::/36${T}_spf.google.com > _netblocks2.google.com
2a00:1450:4000::/36${T}_spf.google.com > _netblocks2.google.com
2c0f:fb50:4000::/36${T}_spf.google.com > _netblocks2.google.com
172.217.0.0/19${T}_spf.google.com > _netblocks3.google.com
172.217.32.0/20${T}_spf.google.com > _netblocks3.google.com
172.217.128.0/19${T}_spf.google.com > _netblocks3.google.com
172.217.160.0/20${T}_spf.google.com > _netblocks3.google.com
172.217.192.0/19${T}_spf.google.com > _netblocks3.google.com
172.253.56.0/21${T}_spf.google.com > _netblocks3.google.com
172.253.112.0/20${T}_spf.google.com > _netblocks3.google.com
108.177.96.0/19${T}_spf.google.com > _netblocks3.google.com
35.191.0.0/16${T}_spf.google.com > _netblocks3.google.com
130.211.0.0/22${T}_spf.google.com > _netblocks3.google.com
" ""
flatten "spf: _spf.google.com tree" _spf.google.com 0 "$R"
cp "$work/got.out" "$work/google.txt"

# Real, with +ip4 terms and includes three deep: 7 DNS-querying terms, no warning.
"$DRIVE" janestreet.com "$R" >"$work/got.out" 2>"$work/got.err"
rc=$?
expect_eq "spf: janestreet.com exit" "$rc" 0
expect_eq "spf: janestreet.com lines" "$(grep -vc '^#' "$work/got.out")" 46
expect_eq "spf: janestreet.com +ip4" "$(sed -n 2p "$work/got.out")" "38.105.200.78/32${T}janestreet.com"
expect_eq "spf: janestreet.com deepest" \
	"$(grep -m 1 '^198.245.81.0/24' "$work/got.out")" \
	"198.245.81.0/24${T}janestreet.com > aspmx.pardot.com > et._spf.pardot.com"
expect_eq "spf: janestreet.com no warning" "$(cat "$work/got.err")" ""

# github.com: the SPF record among four TXT records, too long for UDP (TCP
# fallback), its includes outside the served records: NXDOMAIN, chain named.
want "" "spf: error: DNS lookup of the TXT records of spf.protection.outlook.com failed: NXDOMAIN, no such domain (chain: github.com > spf.protection.outlook.com)
spf: error: DNS lookup of the TXT records of mail.zendesk.com failed: NXDOMAIN, no such domain (chain: github.com > mail.zendesk.com)
spf: error: DNS lookup of the TXT records of _spf.salesforce.com failed: NXDOMAIN, no such domain (chain: github.com > _spf.salesforce.com)
spf: error: DNS lookup of the TXT records of servers.mcsv.net failed: NXDOMAIN, no such domain (chain: github.com > servers.mcsv.net)
"
flatten "spf: github.com includes missing" github.com 1 "$R"

want "# spf split.example.com
198.51.100.7/32${T}split.example.com
" ""
flatten "spf: strings joined inside a token" split.example.com 0 "$R"

want "" "spf: error: SPF loop: LOOP.example.com is in its own chain (chain: loop.example.com > loop2.example.com > LOOP.example.com)
"
flatten "spf: include loop" loop.example.com 1 "$R"

want "# spf redir.example.com
198.51.100.1/32${T}redir.example.com
192.0.2.0/24${T}redir.example.com > target.example.net
" ""
flatten "spf: redirect" redir.example.com 0 "$R"

want "# spf redirall.example.com
198.51.100.0/24${T}redirall.example.com
" "spf: warning: redirect= is ignored beside an all term (chain: redirall.example.com) 'redirect=target.example.net'
"
flatten "spf: redirect beside all" redirall.example.com 0 "$R"

want "# spf macro.example.com
192.0.2.1/32${T}macro.example.com
" "spf: warning: its macro depends on the sender, so it cannot be flattened: skipped (chain: macro.example.com) 'exists:%{i}._spf.example.net'
spf: warning: its macro depends on the sender, so it cannot be flattened: skipped (chain: macro.example.com) 'include:%{d}.example.net'
spf: warning: ptr depends on the sender's reverse DNS, so it cannot be flattened: skipped (chain: macro.example.com) 'ptr'
"
flatten "spf: macro, exists, ptr" macro.example.com 0 "$R"

want "" "spf: error: DNS lookup of the TXT records of missing.example.net failed: NXDOMAIN, no such domain (chain: nxinclude.example.com > missing.example.net)
"
flatten "spf: include of NXDOMAIN" nxinclude.example.com 1 "$R"

want "" "spf: error: DNS lookup of the TXT records of spf.elsewhere.test failed: REFUSED (chain: refused.example.com > spf.elsewhere.test)
"
flatten "spf: include refused" refused.example.com 1 "$R"

want "# spf amx.example.org
192.0.2.10/32${T}amx.example.org > a amx.example.org
2001:db8:1::10/128${T}amx.example.org > a amx.example.org
198.51.100.0/24${T}amx.example.org > a www.example.org
203.0.113.0/28${T}amx.example.org > mx mail1.example.org
2001:db8:2::/64${T}amx.example.org > mx mail1.example.org
203.0.113.192/28${T}amx.example.org > mx mail2.example.org
2001:db8:abcd::/48${T}amx.example.org > a v6.example.org
" ""
flatten "spf: a and mx with cidr lengths" amx.example.org 0 "$R"

want "# spf nohost.example.org
192.0.2.4/32${T}nohost.example.org
" "spf: warning: gone.example.org does not exist (NXDOMAIN), so this term allows no address (chain: nohost.example.org > a gone.example.org) 'a:gone.example.org'
spf: warning: nomx.example.org has no MX record, so this term allows no address (chain: nohost.example.org) 'mx:nomx.example.org'
"
flatten "spf: a and mx without addresses" nohost.example.org 0 "$R"

want "" "spf: error: a pass all allows every address, which no allow-list can hold (chain: passall.example.com) '+all'
"
flatten "spf: +all" passall.example.com 1 "$R"

want "" "spf: error: a pass all allows every address, which no allow-list can hold (chain: bareall.example.com) 'all'
"
flatten "spf: all" bareall.example.com 1 "$R"

want "# spf minus.example.com
192.0.2.0/24${T}minus.example.com
" "spf: warning: only pass terms ('+' or no qualifier) allow addresses: skipped (chain: minus.example.com) '-ip4:192.0.2.66'
spf: warning: only pass terms ('+' or no qualifier) allow addresses: skipped (chain: minus.example.com) '~ip6:2001:db8::/32'
spf: warning: only pass terms ('+' or no qualifier) allow addresses: skipped (chain: minus.example.com) '?a'
spf: warning: only pass terms ('+' or no qualifier) allow addresses: skipped (chain: minus.example.com) '-include:target.example.net'
spf: warning: a term after all is never evaluated: skipped (chain: minus.example.com) 'ip4:203.0.113.9'
"
flatten "spf: qualifiers other than pass" minus.example.com 0 "$R"

want "" "spf: error: 2 SPF records at two.example.com: a domain must publish only one (chain: two.example.com)
"
flatten "spf: two SPF records" two.example.com 1 "$R"

want "" "spf: error: no SPF record at nospf.example.com: none of its 1 TXT records starts with 'v=spf1' (chain: nospf.example.com)
"
flatten "spf: no SPF record" nospf.example.com 1 "$R"

want "" "spf: error: no SPF record at nospf.example.com: none of its 1 TXT records starts with 'v=spf1' (chain: incnospf.example.com > nospf.example.com)
"
flatten "spf: include without SPF record" incnospf.example.com 1 "$R"

want "" "spf: error: malformed SPF term: invalid IPv4 address (expected four decimal octets without leading zeros) (chain: bad.example.com) 'ip4:192.0.2.300'
spf: error: malformed SPF term: unknown mechanism (chain: bad.example.com) 'foo:bar'
spf: error: malformed SPF term: IPv4 cidr length must be 0 to 32 (chain: bad.example.com) 'a:example.org/33'
"
flatten "spf: malformed terms" bad.example.com 1 "$R"

want "# spf diamond.example.org
203.0.113.0/24${T}diamond.example.org > left.example.org > base.example.org
203.0.113.0/24${T}diamond.example.org > right.example.org > base.example.org
" ""
flatten "spf: diamond" diamond.example.org 0 "$R"

{
	echo "# spf many.example.net"
	for i in $(seq 11); do echo "198.51.100.$i/32${T}many.example.net > l$i.example.net"; done
} >"$work/many.out"
want "$(cat "$work/many.out")
" "spf: warning: 11 DNS-querying terms (include, a, mx, ptr, exists, redirect) under many.example.net: receivers evaluate at most 10 (RFC 7208 4.6.4) and fail the rest; the flattened list holds them all
"
flatten "spf: more than 10 lookups" many.example.net 0 "$R"

want "" "spf: error: more than 5 DNS lookups (the lookup limit) at l5.example.net (chain: many.example.net > l5.example.net)
"
flatten "spf: lookup limit" many.example.net 1 "$R" 5

chain=d1.example.net
for i in $(seq 2 11); do chain+=" > d$i.example.net"; done
want "" "spf: error: chain longer than 10 domains (the depth limit) at d11.example.net (chain: $chain)
"
flatten "spf: depth limit" d1.example.net 1 "$R"

want "# spf d3.example.net
192.0.2.12/32${T}d3.example.net > d4.example.net > d5.example.net > d6.example.net > d7.example.net > d8.example.net > d9.example.net > d10.example.net > d11.example.net > d12.example.net
" ""
flatten "spf: depth of 10 is fine" d3.example.net 0 "$R"

# A resolver that never answers: the timeout, as an error naming the chain.
if command -v python3 >/dev/null 2>&1; then
	sport=$(free_port)
	python3 -c 'import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
time.sleep(60)' "$sport" &
	silent_pid=$!
	sleep 0.3
	want "" "spf: error: DNS lookup of the TXT records of example.com failed: no answer (Could not send or receive, because of network error) (chain: example.com)
"
	flatten "spf: timeout" example.com 1 "127.0.0.1:$sport" 0 0 300
else
	skip "spf: timeout" "no python3 for a silent server"
fi

want "" "spf: error: resolver must be ADDR, ADDR:PORT or [IPV6ADDR]:PORT 'localhost:53'
"
flatten "spf: bad resolver" example.com 1 localhost:53

# End to end: the flattened _spf.google.com as a format = spf source.
cat >"$work/policy.conf" <<EOF
[service smtp]
ports = tcp/25
sources = google

[source google]
format = spf
domain = _spf.google.com
file = google.txt
EOF
out=$("$MXFENCE" build -c "$work/policy.conf" 2>&1)
rc=$?
expect_eq "spf: build exit" "$rc" 0
case $out in
*"2a00:1450:4000::/36"*"2c0f:fb50:4000::/36"*) pass "spf: build has the IPv6 prefixes" ;;
*) fail "spf: build has the IPv6 prefixes" "$out" ;;
esac
out=$("$MXFENCE" explain -c "$work/policy.conf" 172.217.33.1 2>&1)
case $out in
*"172.217.32.0/20"*"google, spf _spf.google.com > _netblocks3.google.com"*) pass "spf: explain names the chain" ;;
*) fail "spf: explain names the chain" "$out" ;;
esac

sed -i 's/^domain = .*/domain = janestreet.com/' "$work/policy.conf"
out=$("$MXFENCE" build -c "$work/policy.conf" 2>&1)
rc=$?
case "$rc $out" in
2*"google.txt:1: error: the file flattens the SPF record of another domain than janestreet.com '_spf.google.com'"*)
	pass "spf: build refuses another domain's file" ;;
*) fail "spf: build refuses another domain's file" "exit $rc: $out" ;;
esac

# --- mxfence fetch: the record flattened over DNS into the cache ----------------
cat >"$work/fetch.conf" <<EOF
[service smtp]
ports = tcp/25
sources = google

[source google]
format = spf
domain = _spf.google.com
resolver = $R
EOF
mxf() { "$MXFENCE" --cache-dir "$work/cache" --state-dir "$work/state" "$@"; }
out=$(mxf fetch -c "$work/fetch.conf" 2>&1)
rc=$?
case "$rc $out" in
"0 fetch google: updated: "*" prefixes"*) pass "spf: fetch flattens into the cache" ;;
*) fail "spf: fetch flattens into the cache" "exit $rc: $out" ;;
esac
out=$(mxf explain -c "$work/fetch.conf" 2a00:1450:4000::1 2>&1)
case $out in
*"google, spf _spf.google.com > _netblocks2.google.com"*) pass "spf: explain after fetch names the chain" ;;
*) fail "spf: explain after fetch names the chain" "$out" ;;
esac
out=$(mxf fetch -c "$work/fetch.conf" 2>&1)
case $out in
"fetch google: unchanged (the same "*" bytes)") pass "spf: a second fetch finds nothing new" ;;
*) fail "spf: a second fetch finds nothing new" "$out" ;;
esac
good=$(sha256sum "$work/cache/google.feed" "$work/cache/google.meta")
for bad in loop.example.com nxinclude.example.com bareall.example.com; do
	sed -i "s/^domain = .*/domain = $bad/" "$work/fetch.conf"
	out=$(mxf fetch -c "$work/fetch.conf" 2>&1)
	rc=$?
	case "$rc $out" in
	"4 "*"error"*"the last good copy (fetched "*") stays"*) pass "spf: fetch of $bad: exit 4, the last good copy stays" ;;
	*) fail "spf: fetch of $bad: exit 4, the last good copy stays" "exit $rc: $out" ;;
	esac
	if [ "$(sha256sum "$work/cache/google.feed" "$work/cache/google.meta")" = "$good" ]; then
		pass "spf: fetch of $bad: cache unchanged"
	else
		fail "spf: fetch of $bad: cache unchanged" "changed"
	fi
done

finish
