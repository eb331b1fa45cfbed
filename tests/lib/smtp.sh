# shellcheck shell=bash
# One SMTP transaction through the firewall, as the packet tests judge it.
# Needs netns.sh sourced.
#
#   smtp_probe NS SRC DST PORT OUT
#
# swaks in namespace NS, bound to SRC ("-": not bound), to DST:PORT, with a
# timeout of PROBE_TIMEOUT seconds (default 3) per step. Writes one word to OUT
# and swaks' dialogue to OUT.log:
#   accepted   greeted, and the message taken (250 after the data)
#   dropped    the connect timed out
#   rejected   refused, reset or unreachable (an ICMP error or a TCP reset)
#   unknown (...)  anything else, with swaks' last errors

smtp_probe() {
	local ns=$1 src=$2 dst=$3 port=$4 out=$5 log=$5.log rc bind=() t=${PROBE_TIMEOUT:-3}
	[ "$src" != - ] && bind=(--local-interface "$src")
	# The guard against a hang only: swaks' own --timeout decides. Generous, since
	# on an emulated CPU (tests/vm) a probe's Perl takes seconds to start, and the
	# probes start side by side.
	ns_exec "$ns" timeout $((t * 6 + 60)) swaks --server "$dst" --port "$port" \
		"${bind[@]}" --timeout "$t" --helo client.example.net \
		--from probe@client.example.net --to postmaster@mx.example.org \
		--header "Subject: mxfence probe $src -> $dst tcp/$port" >"$log" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && grep -q '^<-  220 ' "$log" &&
		awk '/^ -> \.$/ { d = 1; next } d && /^<-/ { ok = /^<-  250/; exit } END { exit !ok }' "$log"; then
		echo accepted >"$out"
	elif grep -qiE 'connect: (timeout|Connection timed out)' "$log"; then
		echo dropped >"$out"
	elif grep -qiE 'connect: (Connection refused|Connection reset|Permission denied|No route to host|Network is unreachable|Host is unreachable)' "$log"; then
		echo rejected >"$out"
	else
		echo "unknown (swaks exit $rc: $(grep '^\*\*\*' "$log" | tail -n 2 | tr '\n' ' '))" >"$out"
	fi
}

# smtp_probe_mx SRC PORT OUT: smtp_probe from namespace client to the server
# of SRC's family, $SERVER4 or $SERVER6 (the two-namespace packet tests).
smtp_probe_mx() {
	local server=$SERVER4
	case $1 in *:*) server=$SERVER6 ;; esac
	smtp_probe client "$1" "$server" "$2" "$3"
}

# smtp_expect_open DIR TSV: before any ruleset, every flow of TSV (LINE, EXPECT,
# SOURCE, PROTO/PORT, [DESTINATION], tab-separated) was accepted, its outcome in
# DIR/LINE. Fails and finishes the test otherwise: nothing after it would mean
# anything.
smtp_expect_open() {
	local dir=$1 tsv=$2 n line expect src pp dst got bad=()
	n=$(wc -l <"$tsv")
	while IFS=$'\t' read -r line expect src pp dst; do
		got=$(cat "$dir/$line")
		[ "$got" = accepted ] || bad+=("line $line $src${dst:+ -> $dst} $pp: $got")
	done <"$tsv"
	if [ ${#bad[@]} -eq 0 ]; then
		pass "without the ruleset all $n flows complete an SMTP transaction"
	else
		fail "without the ruleset all $n flows complete an SMTP transaction" "${bad[*]:0:4}"
		finish
	fi
}
