#!/usr/bin/env bash
# The boot unit's command with real SMTP sessions: `mxfence restore` into an
# empty kernel (as after a reboot, or after `flush ruleset`), with and without
# a saved ruleset, for both choices of [table] unapplied.
#
#   +------------- namespace "mx" -------------+        +------- namespace "client" -------+
#   |  smtp-sink on tcp/25 and tcp/587         |        |  swaks from one source address   |
#   |    at 192.0.2.25 and [2001:db8::25]      |  veth  |  per probe                       |
#   |  ruleset flushed before every case,      +--------+  198.51.100.7  (relays: allowed) |
#   |  then `mxfence restore`                  |        |  198.51.100.8  (denied)          |
#   |  mx0 192.0.2.25/24 2001:db8::25/64       |        |  2001:db8:1::10 (allowed)        |
#   |  routes to the client's networks         |        |  2001:db8:1::11 (denied)         |
#   |                                          |        |  routes to the server's networks |
#   +------------------------------------------+        +----------------------------------+
#
# The policy is tests/packets/policy: relays may send on tcp/25 (others are
# dropped), staff may submit on tcp/587 (others get a reset).
#   saved ruleset, closed or open: the allowed connect, the denied never do;
#   nothing applied, closed:       nobody connects to the services' ports;
#   nothing applied, open:         everybody does (the documented choice).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/report.sh"
. "$here/../lib/netns.sh"
. "$here/../lib/smtp.sh"

need_root
need_cmd ip nft swaks smtp-sink timeout ss
need_mxfence
ns_init

d=$NS_TMP
SERVER4=192.0.2.25
SERVER6=2001:db8::25
cp "$here/policy/relays.txt" "$here/policy/staff.txt" "$d/"
cp "$here/policy/mxfence.conf" "$d/closed.conf"
sed 's/^priority = 0$/priority = 0\nunapplied = open/' "$here/policy/mxfence.conf" >"$d/open.conf"
grep -q '^unapplied = open$' "$d/open.conf" || { fail "open policy" "no [table] priority line to extend"; finish; }

setup() {
	ns_add mx && ns_add client &&
		ns_veth mx mx0 client cl0 &&
		ns_addr mx mx0 $SERVER4/24 $SERVER6/64 &&
		ns_addr client cl0 198.51.100.7/24 198.51.100.8/24 2001:db8:1::10/64 2001:db8:1::11/64 &&
		ns_exec mx ip route add 198.51.100.0/24 dev mx0 &&
		ns_exec mx ip -6 route add 2001:db8:1::/64 dev mx0 &&
		ns_exec client ip route add 192.0.2.0/24 dev cl0 &&
		ns_exec client ip -6 route add 2001:db8::/64 dev cl0 || return 1
	local p a
	for p in 25 587; do
		for a in $SERVER4 "[$SERVER6]"; do
			ns_spawn mx "$d/sink-$p-${a//[^0-9a-f.]/}.log" smtp-sink -u nobody "$a:$p" 64
		done
	done
	for p in 25 587; do
		ns_wait_listen mx tcp $SERVER4 "$p" && ns_wait_listen mx tcp $SERVER6 "$p" || return 1
	done
}


# expect CASE "SRC PORT OUTCOME"...: probe all at once, compare.
expect() {
	local c=$1 i=0 src port want pids=() bad=()
	shift
	mkdir -p "$d/$c"
	for spec in "$@"; do
		read -r src port want <<<"$spec"
		smtp_probe_mx "$src" "$port" "$d/$c/$i" &
		pids+=($!)
		i=$((i + 1))
	done
	wait "${pids[@]}"
	i=0
	for spec in "$@"; do
		read -r src port want <<<"$spec"
		got=$(cat "$d/$c/$i")
		if [ "$got" = "$want" ]; then
			pass "$c: $src tcp/$port $got"
		else
			fail "$c: $src tcp/$port $want" "got $got: $(grep "^\*\*\*" "$d/$c/$i.log" | head -n 2)"
		fi
		i=$((i + 1))
	done
}

# restore_case CASE CONF STATE-DIR WANT-TEXT: an empty kernel, then restore.
restore_case() {
	local c=$1 conf=$2 sd=$3 want=$4 out rc
	ns_exec mx nft flush ruleset
	out=$(ns_exec mx "$MXFENCE" --state-dir "$sd" restore -c "$conf" 2>&1)
	rc=$?
	case $out in
	*"$want"*) [ $rc -eq 0 ] && pass "$c: restore exits 0: $want" || fail "$c: restore exits 0" "rc=$rc $out" ;;
	*) fail "$c: restore says '$want'" "rc=$rc $out" ;;
	esac
}

if ! setup >"$d/setup.log" 2>&1; then
	fail "topology" "$(tail -n 3 "$d/setup.log")"
	finish
fi
pass "topology: smtp-sink on tcp/25 and tcp/587, a client with allowed and denied sources"

expect "empty kernel" "198.51.100.7 25 accepted" "198.51.100.8 25 accepted" "2001:db8:1::11 25 accepted" \
	"198.51.100.8 587 accepted"

# A saved ruleset: made by an apply, then the kernel emptied as a reboot does.
ns_exec mx "$MXFENCE" --state-dir "$d/state" apply -c "$d/closed.conf" >"$d/apply.log" 2>&1 ||
	fail "apply writes the saved ruleset" "$(cat "$d/apply.log")"
for choice in closed open; do
	restore_case "saved, $choice" "$d/$choice.conf" "$d/state" "loaded $d/state/mxfence.nft"
	expect "saved, $choice" "198.51.100.7 25 accepted" "198.51.100.8 25 dropped" \
		"2001:db8:1::10 25 accepted" "2001:db8:1::11 25 dropped" "198.51.100.8 587 rejected"
done

restore_case "nothing applied, closed" "$d/closed.conf" "$d/none-closed" "unapplied = closed"
expect "nothing applied, closed" "198.51.100.7 25 dropped" "198.51.100.8 25 dropped" \
	"2001:db8:1::10 25 dropped" "2001:db8:1::11 25 dropped" "198.51.100.8 587 rejected"

restore_case "nothing applied, open" "$d/open.conf" "$d/none-open" "unapplied = open"
expect "nothing applied, open" "198.51.100.7 25 accepted" "198.51.100.8 25 accepted" \
	"2001:db8:1::11 25 accepted"

finish
