#!/bin/bash
# Inside the Debian 12 guest of tests/vm/guests/debian12.sh, run by mxvm-job.service
# once the system is up: debian-guest.sh install|boot
#   install  the first boot: dpkg -i of the package, the policy, apply, the
#            nftables.service of Debian enabled, the network and an SMTP
#            listener configured for the next boot
#   boot     the boot after it: the table before the network, nftables reload
#            and restart, monitor, the refresh service, apt remove and purge
# /mxvm is the host's folder: the package, report.sh, the TLS files; the
# phase file the host's prober reads (which part of the test runs now).
set -u
. /mxvm/report.sh
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
phase() {
	echo "$1" >/mxvm/phase
	echo "# phase $1 at $(cut -d' ' -f1 /proc/uptime) s"
}

# The policy: relays on tcp/25, everyone else dropped. The host's probes come
# from qemu's user network (192.0.2.2) and are not relays.
write_policy() {
	cat >/etc/mxfence/mxfence.conf <<'EOF'
[table]
name = mxfence

[service smtp]
ports = tcp/25
sources = relays
otherwise = drop

[source relays]
format = list
file = relays.txt
EOF
	printf '198.51.100.0/24\n2001:db8:1::/64\n' >/etc/mxfence/relays.txt
}

install_phase() {
	local out rc f
	phase install
	out=$(dpkg -i /mxvm/mxfence.deb 2>&1)
	rc=$?
	expect_eq "install: dpkg -i installs the package" "$rc" 0
	[ $rc -eq 0 ] || { echo "$out"; return; }
	printf '%s\n' "$out" | sed 's/^/# dpkg: /'
	check "install: the shipped policy passes mxfence check" mxfence check
	for f in /usr/share/man/man8/mxfence.8.gz /usr/share/man/man5/mxfence.conf.5.gz \
		/lib/systemd/system/mxfence-restore.service /lib/systemd/system/mxfence-refresh.service \
		/lib/systemd/system/mxfence-refresh.timer; do
		[ -f "$f" ] && pass "install: $f" || fail "install: $f" "missing"
	done
	out=$(dpkg-query -W -f='${Conffiles}\n' mxfence)
	case $out in
	*/etc/mxfence/mxfence.conf*/etc/mxfence/relays.txt* | */etc/mxfence/relays.txt*/etc/mxfence/mxfence.conf*)
		pass "install: /etc/mxfence/mxfence.conf and relays.txt are conffiles" ;;
	*) fail "install: /etc/mxfence/mxfence.conf and relays.txt are conffiles" "$out" ;;
	esac
	expect_eq "install: mxfence-restore.service is enabled" "$(systemctl is-enabled mxfence-restore.service 2>&1)" enabled
	expect_eq "install: mxfence-refresh.timer is not enabled" "$(systemctl is-enabled mxfence-refresh.timer 2>&1)" disabled
	getent passwd _mxfence >/dev/null && pass "install: the system user _mxfence" || fail "install: the system user _mxfence" "no such user"
	expect_eq "install: /var/lib/mxfence, root's, 0750" "$(stat -c '%U %a' /var/lib/mxfence 2>&1)" "root 750"
	[ -d /var/cache/mxfence ] && pass "install: /var/cache/mxfence" || fail "install: /var/cache/mxfence" "missing"
	expect_eq "install: installing loads no table" "$(nft list tables 2>&1)" ""

	# Debian's own /etc/nftables.conf, as the package nftables ships it.
	expect_eq "install: /etc/nftables.conf starts with flush ruleset" \
		"$(grep -v -e '^#' -e '^[[:space:]]*$' /etc/nftables.conf | head -n 1)" "flush ruleset"
	check "install: systemctl enable nftables.service" systemctl enable nftables.service

	write_policy
	check "install: mxfence apply" mxfence apply
	[ -s /var/lib/mxfence/mxfence.nft ] && pass "install: apply saved the ruleset /var/lib/mxfence/mxfence.nft" ||
		fail "install: apply saved the ruleset /var/lib/mxfence/mxfence.nft" "$(ls -l /var/lib/mxfence)"

	# For the next boot: the network card up by systemd-networkd (after
	# network-pre.target), and an SMTP banner on tcp/25 and tcp/2525 (no
	# service governs 2525: it answers whenever the guest answers at all),
	# listening before the network is up.
	mkdir -p /etc/systemd/network
	printf '[Match]\nName=en* eth*\n\n[Network]\nAddress=192.0.2.15/24\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n' \
		>/etc/systemd/network/50-mxvm.network
	check "install: systemctl enable systemd-networkd" systemctl enable systemd-networkd.service
	install -m 0755 /mxvm/busybox /usr/local/bin/busybox
	printf '#!/bin/sh\necho "220 mxvm.example.org ESMTP"\n' >/usr/local/bin/mxvm-banner
	chmod 0755 /usr/local/bin/mxvm-banner
	cat >/etc/systemd/system/mxvm-smtp@.service <<'EOF'
[Unit]
Description=tests/vm: an SMTP banner on tcp/%i
DefaultDependencies=no
After=local-fs.target
Before=network-pre.target
Wants=network-pre.target

[Service]
ExecStart=/usr/local/bin/busybox nc -ll -p %i -e /usr/local/bin/mxvm-banner

[Install]
WantedBy=sysinit.target
EOF
	check "install: the SMTP listeners enabled" systemctl enable mxvm-smtp@25.service mxvm-smtp@2525.service
}

# mono UNIT PATTERN: the monotonic time (s) of the first journal line of this
# boot from UNIT (or from systemd about it) that matches PATTERN.
mono() {
	journalctl -b -o short-monotonic --no-pager "$@" 2>/dev/null
}
first_at() {
	local pat=$1
	shift
	mono "$@" | grep -m1 -E "$pat" | sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p'
}
before() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && b != "" && a + 0 < b + 0) }'; }
# The runs of `mxfence restore` this boot (its own lines in the journal).
restores() { mono -u mxfence-restore.service | grep -cE 'mxfence\[[0-9]+\]: restore: '; }
now() { cut -d' ' -f1 /proc/uptime; }
# settle WHEN: wait (at most 120 s) until systemd has no job left: a reload or
# restart of nftables.service returns when its own job is done, and the jobs
# it propagates to mxfence-restore.service may still be queued or running.
settle() {
	local t0 jobs
	t0=$(now)
	jobs=$(systemctl list-jobs --no-legend | awk '{ print $2 "/" $3 "/" $4 }' | tr '\n' ' ')
	for _ in $(seq 1 600); do
		[ -z "$(systemctl list-jobs --no-legend)" ] && break
		sleep 0.2
	done
	echo "# $1: systemctl returned with jobs [${jobs% }] pending; none left $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s later"
}

# client NS SOURCE: a namespace holding SOURCE, joined to this one by veth;
# it reaches 192.0.2.25 (on lo here).
client() {
	ip netns add "$1" && ip link add "v$1" type veth peer name c0 netns "$1" &&
		ip link set "v$1" up && ip -n "$1" link set c0 up && ip -n "$1" link set lo up &&
		ip -n "$1" addr add "$2/32" dev c0 && ip -n "$1" route add 192.0.2.25/32 dev c0 &&
		ip route add "$2/32" dev "v$1"
}
# banner NS PORT: the first line the server sends, or nothing within 4 s.
banner() {
	ip netns exec "$1" timeout 5 bash -c "exec 3<>/dev/tcp/192.0.2.25/$2 && read -r -t 4 l <&3 && echo \"\$l\"" 2>/dev/null | tr -d '\r'
}
# smtp_check WHEN: the relay gets the banner, the other source nothing.
smtp_check() {
	local got
	got=$(banner relay 25)
	case $got in 220*) pass "$1: a relay (198.51.100.7) gets the banner on tcp/25" ;;
	*) fail "$1: a relay (198.51.100.7) gets the banner on tcp/25" "got '$got'" ;; esac
	got=$(banner other 25)
	expect_eq "$1: another source (203.0.113.9) gets nothing on tcp/25" "$got" ""
}
table_holds() { # WHEN
	check "$1: mxfence verify --exhaustive: the kernel holds the policy" mxfence verify --exhaustive
}

boot_phase() {
	local t_nft t_rst t_pre t_link out rc n0 n1
	phase boot
	systemd-analyze 2>/dev/null | sed 's/^/# /'
	systemd-analyze blame 2>/dev/null | head -n 8 | sed 's/^/# blame: /'
	# The order of this boot, from the journal.
	# Early lines come from the kernel's buffer, without the unit's name in
	# the journal's fields: the whole boot's journal is searched.
	t_nft=$(first_at 'Finished nftables\.service')
	t_rst=$(first_at 'Finished mxfence-restore\.service')
	t_pre=$(first_at 'Reached target network-pre\.target')
	t_link=$(first_at 'systemd-networkd\[[0-9]+\]: (en|eth)[^:]*: (Link UP|Gained carrier)')
	echo "# journal: nftables.service finished at $t_nft s, mxfence-restore.service at $t_rst s, network-pre.target at $t_pre s, first link up at $t_link s"
	mono -u mxfence-restore.service | sed 's/^/# /' | head -n 8
	mono | grep -E 'nftables\.service|network-pre\.target|systemd-networkd\[' | sed 's/^/# /' | head -n 12
	out=$(mono -u mxfence-restore.service | grep -c 'restore: loaded /var/lib/mxfence/mxfence.nft')
	[ "$out" -ge 1 ] && pass "boot: mxfence-restore.service loaded the saved ruleset" ||
		fail "boot: mxfence-restore.service loaded the saved ruleset" "$(mono -u mxfence-restore.service | tail -n 3)"
	before "$t_nft" "$t_rst" && pass "boot: the journal: nftables.service finished before mxfence-restore.service ($t_nft s < $t_rst s)" ||
		fail "boot: the journal: nftables.service finished before mxfence-restore.service" "nftables $t_nft, restore $t_rst"
	before "$t_rst" "$t_pre" && pass "boot: the journal: mxfence-restore.service finished before network-pre.target ($t_rst s < $t_pre s)" ||
		fail "boot: the journal: mxfence-restore.service finished before network-pre.target" "restore $t_rst, network-pre $t_pre"
	before "$t_rst" "$t_link" && pass "boot: the journal: the table was loaded before the first link came up ($t_rst s < $t_link s)" ||
		fail "boot: the journal: the table was loaded before the first link came up" "restore $t_rst, link $t_link"
	table_holds boot
	expect_eq "boot: mxfence-restore.service is active" "$(systemctl is-active mxfence-restore.service)" active

	client relay 198.51.100.7 && client other 203.0.113.9 ||
		fail "boot: the client namespaces" "ip failed"
	ip addr add 192.0.2.25/32 dev lo
	smtp_check boot

	# Debian's nftables.conf flushes the ruleset; the boot unit loads the
	# table again after it, in a job of its own: between the two the port is
	# open (the host's probes count how often they found it so).
	phase reload
	n0=$(restores)
	check "reload: systemctl reload nftables" systemctl reload nftables.service
	settle reload
	n1=$(restores)
	[ "$n1" -gt "$n0" ] && pass "reload: mxfence restore ran again (ReloadPropagatedFrom=)" ||
		fail "reload: mxfence restore ran again (ReloadPropagatedFrom=)" "restore runs before $n0, after $n1"
	table_holds reload
	smtp_check reload

	phase restart
	n0=$n1
	check "restart: systemctl restart nftables" systemctl restart nftables.service
	settle restart
	n1=$(restores)
	[ "$n1" -gt "$n0" ] && pass "restart: mxfence restore ran again (PartOf=)" ||
		fail "restart: mxfence restore ran again (PartOf=)" "restore runs before $n0, after $n1"
	table_holds restart
	smtp_check restart

	phase monitor
	out=$(mxfence monitor 2>&1)
	rc=$?
	echo "# monitor: $out"
	expect_eq "monitor: exit 0" "$rc" 0
	case $out in "MXFENCE OK - "*) pass "monitor: MXFENCE OK" ;; *) fail "monitor: MXFENCE OK" "$out" ;; esac

	# The table deleted by hand: CRITICAL, and the port open (the host's
	# prober must see its banner now: its probes can tell).
	check "deleted: nft delete table inet mxfence" nft delete table inet mxfence
	phase deleted
	out=$(mxfence monitor 2>&1)
	rc=$?
	echo "# monitor: $out"
	expect_eq "deleted: monitor exits 2" "$rc" 2
	case $out in "MXFENCE CRITICAL - "*) pass "deleted: monitor says CRITICAL" ;; *) fail "deleted: monitor says CRITICAL" "$out" ;; esac
	sleep 5
	phase restored
	check "deleted: systemctl reload nftables" systemctl reload nftables.service
	settle restored
	table_holds restored
	out=$(mxfence monitor 2>&1)
	expect_eq "restored: monitor exits 0" "$?" 0

	# The include line of the README: the saved ruleset in nftables.service's
	# own transaction. After a reload the table is there the moment systemctl
	# returns, and the port never opens. A restart first runs the unit's
	# ExecStop=, `nft flush ruleset` in Debian's nftables.service, then loads
	# the file: the host's probes count what they find between the two.
	printf '\ninclude "/var/lib/mxfence/*.nft"\n' >>/etc/nftables.conf
	check "include: nft -c -f /etc/nftables.conf" nft -c -f /etc/nftables.conf
	phase include
	check "include: systemctl reload nftables" systemctl reload nftables.service
	table_holds "include: at once after the reload"
	settle include-reload
	smtp_check include
	phase include-restart
	check "include: systemctl restart nftables" systemctl restart nftables.service
	table_holds "include: at once after the restart"
	settle include-restart
	phase included

	refresh_phase
	remove_phase
	phase end
}

# The refresh service end to end: a feed over HTTPS from 127.0.0.1 (openssl
# s_server with the host-made test CA), fetched, applied and verified.
refresh_phase() {
	local out rc pid
	phase refresh
	mkdir -p /srv/feeds
	printf '192.0.2.128/26\n2001:db8:25::/48\n' >/srv/feeds/feed.txt
	install -m 0644 /mxvm/tls/ca.pem /etc/mxfence/ca.pem
	(cd /srv/feeds && exec openssl s_server -quiet -WWW -accept 127.0.0.1:8443 \
		-cert /mxvm/tls/server.pem -key /mxvm/tls/server.key) >/tmp/s_server.log 2>&1 &
	pid=$!
	sed -i 's/^sources = relays$/sources = relays feed/' /etc/mxfence/mxfence.conf
	cat >>/etc/mxfence/mxfence.conf <<'EOF'

[source feed]
format = list
url = https://127.0.0.1:8443/feed.txt
ca-file = ca.pem
EOF
	for _ in $(seq 1 50); do
		(exec 3<>/dev/tcp/127.0.0.1/8443) 2>/dev/null && break
		sleep 0.2
	done
	systemctl start mxfence-refresh.service
	rc=$?
	journalctl -b -u mxfence-refresh.service -o cat --no-pager | tail -n 6 | sed 's/^/# refresh: /'
	expect_eq "refresh: systemctl start mxfence-refresh.service succeeds" "$rc" 0
	expect_eq "refresh: the unit's result" "$(systemctl show -p Result --value mxfence-refresh.service)" success
	[ -s /var/cache/mxfence/feed.feed ] && pass "refresh: the feed is in the cache" ||
		fail "refresh: the feed is in the cache" "$(ls -l /var/cache/mxfence 2>&1)"
	out=$(nft get element inet mxfence smtp_v4 '{ 192.0.2.130 }' 2>&1)
	case $out in *192.0.2.128/26*) pass "refresh: the kernel holds the fetched 192.0.2.128/26" ;;
	*) fail "refresh: the kernel holds the fetched 192.0.2.128/26" "$out" ;; esac
	table_holds refresh
	out=$(mxfence monitor 2>&1)
	rc=$?
	echo "# monitor: $out"
	expect_eq "refresh: monitor exits 0 after the refresh" "$rc" 0
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# apt remove, then apt purge, as debian/README.Debian says.
remove_phase() {
	local out rc
	phase remove
	out=$(apt-get remove -y mxfence 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep '^mxfence:' | sed 's/^/# remove: /'
	expect_eq "remove: apt-get remove exits 0" "$rc" 0
	[ ! -e /usr/sbin/mxfence ] && pass "remove: the program is gone" || fail "remove: the program is gone" "/usr/sbin/mxfence is there"
	check "remove: the table stays in the kernel" nft list table inet mxfence
	case $out in *"'inet mxfence' stays in the kernel"*) pass "remove: it says the table stays" ;;
	*) fail "remove: it says the table stays" "$(printf '%s\n' "$out" | tail -n 4)" ;; esac
	[ -f /etc/mxfence/mxfence.conf ] && [ -d /var/lib/mxfence ] && [ -d /var/cache/mxfence ] &&
		pass "remove: conffiles, state and cache stay" ||
		fail "remove: conffiles, state and cache stay" "$(ls -d /etc/mxfence/mxfence.conf /var/lib/mxfence /var/cache/mxfence 2>&1)"
	expect_eq "remove: dpkg keeps the configuration (rc)" "$(dpkg-query -W -f='${db:Status-Abbrev}' mxfence 2>&1 | tr -d ' ')" rc
	expect_eq "remove: the refresh timer is not active" "$(systemctl is-active mxfence-refresh.timer 2>&1)" inactive

	phase purge
	out=$(apt-get purge -y mxfence 2>&1)
	rc=$?
	printf '%s\n' "$out" | grep '^mxfence:' | sed 's/^/# purge: /'
	expect_eq "purge: apt-get purge exits 0" "$rc" 0
	for f in /etc/mxfence/mxfence.conf /etc/mxfence/relays.txt /var/lib/mxfence /var/cache/mxfence; do
		[ ! -e "$f" ] && pass "purge: $f is gone" || fail "purge: $f is gone" "it is there"
	done
	getent passwd _mxfence >/dev/null && pass "purge: the user _mxfence is kept" || fail "purge: the user _mxfence is kept" "gone"
	case $out in *"'inet mxfence' is still loaded"*) pass "purge: it says the table is still loaded" ;;
	*) fail "purge: it says the table is still loaded" "$(printf '%s\n' "$out" | tail -n 4)" ;; esac
	expect_eq "purge: dpkg forgets the package" "$(dpkg-query -W -f='${db:Status-Abbrev}' mxfence 2>/dev/null | tr -d ' ')" ""
}

echo "$(uname -r) $(cut -d' ' -f1 /proc/uptime)" >/mxvm/started
out=$(systemctl is-system-running --wait 2>&1)
echo "# system: $out at $(cut -d' ' -f1 /proc/uptime) s; failed units: $(systemctl list-units --failed --plain --no-legend | tr '\n' ' ')"
case ${1:-} in
install) install_phase ;;
boot) boot_phase ;;
*) fail "debian-guest.sh" "unknown phase '${1:-}'" ;;
esac
finish
