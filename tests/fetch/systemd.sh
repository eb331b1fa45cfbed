#!/usr/bin/env bash
# The systemd units of contrib/systemd, as `make install` puts them.
#
#   make install DESTDIR=$work/dest PREFIX=/usr   where a package would put things;
#                                                 ExecStart=/usr/sbin/mxfence
#   make install DESTDIR=$work/local              the default prefix, /usr/local
#   make install PREFIX=$work/prefix ...          an install that really exists on
#                                                 this host: systemd-analyze verify
#                                                 and security read these units
#
# Why a third install for verify: `systemd-analyze verify` checks that the
# ExecStart binary exists on this host and asks man(1) for Documentation=,
# and the DESTDIR copy's /usr/sbin/mxfence is not on this host. --root would
# need a whole systemd unit tree under DESTDIR. So verify reads the units made
# for $work/prefix (same file but for the path, which is checked), with
# MANPATH pointing at the man pages installed there. verify exits 0 on unknown
# keys and bad values, so any output at all is a failure.
#
# Then the hardening is asserted line by line, so none of it can silently go.
# Nothing is built: `make -o mxfence` installs the binary as it is.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/report.sh"

TOP=${TOP:-$(cd "$here/../.." && pwd)}
need_cmd make sed awk grep
if ! command -v systemd-analyze >/dev/null 2>&1; then
	skip "systemd-analyze" "not installed"
	finish
fi
if [ ! -x "$TOP/mxfence" ]; then
	fail "${0##*/}: binary" "$TOP/mxfence not found or not executable (run make)"
	exit 1
fi

work=$(mktemp -d /tmp/mxfsystemd.XXXXXX) || exit 1
trap 'rm -rf "$work"' EXIT
units="mxfence-refresh.service mxfence-refresh.timer mxfence-restore.service"

# install NAME MAKE-VARIABLES...: make install, its output in $work/NAME.log.
install_to() {
	local name=$1
	shift
	if make -C "$TOP" --no-print-directory -o mxfence install "$@" >"$work/$name.log" 2>&1; then
		pass "make install $*"
	else
		fail "make install $*" "$(tail -n 5 "$work/$name.log")"
		return 1
	fi
}

# --- DESTDIR install, PREFIX=/usr ---
dest=$work/dest
if install_to dest DESTDIR="$dest" PREFIX=/usr; then
	absent=""
	for f in usr/sbin/mxfence usr/share/man/man8/mxfence.8 usr/share/man/man5/mxfence.conf.5 \
		etc/mxfence/mxfence.conf etc/mxfence/relays.txt \
		usr/share/mxfence/microsoft365-endpoints-worldwide-2024-07-14.json \
		usr/lib/systemd/system/mxfence-refresh.service \
		usr/lib/systemd/system/mxfence-refresh.timer \
		usr/lib/systemd/system/mxfence-restore.service; do
		[ -s "$dest/$f" ] || absent="$absent $f"
	done
	[ -x "$dest/usr/sbin/mxfence" ] || absent="$absent (usr/sbin/mxfence not executable)"
	if [ -z "$absent" ]; then pass "installs binary, man pages, policy, relays, feed snapshot, units"; else fail "installs binary, man pages, policy, relays, feed snapshot, units" "missing:$absent"; fi
	expect_eq "installed policy names the snapshot in DATADIR" \
		"$(grep '^file = ' "$dest/etc/mxfence/mxfence.conf" | head -n 1)" \
		"file = /usr/share/mxfence/microsoft365-endpoints-worldwide-2024-07-14.json"
	# A second install keeps the administrator's policy and relays.
	echo "# edited" >>"$dest/etc/mxfence/mxfence.conf"
	echo "192.0.2.99" >>"$dest/etc/mxfence/relays.txt"
	if install_to dest-again DESTDIR="$dest" PREFIX=/usr &&
		[ "$(tail -n 1 "$dest/etc/mxfence/mxfence.conf")" = "# edited" ] &&
		[ "$(tail -n 1 "$dest/etc/mxfence/relays.txt")" = "192.0.2.99" ] &&
		grep -q "^kept $dest/etc/mxfence/mxfence.conf$" "$work/dest-again.log"; then
		pass "make install again keeps an installed policy and relay list"
	else
		fail "make install again keeps an installed policy and relay list" "$(tail -n 3 "$work/dest-again.log")"
	fi
	for u in $units; do
		expect_eq "$u: mode 0644" "$(stat -c %a "$dest/usr/lib/systemd/system/$u")" 644
	done
	expect_eq "ExecStart with PREFIX=/usr" \
		"$(grep '^ExecStart=' "$dest/usr/lib/systemd/system/mxfence-refresh.service")" \
		"ExecStart=/usr/sbin/mxfence refresh"
	expect_eq "restore unit: ExecStart and ExecReload with PREFIX=/usr" \
		"$(grep -E '^Exec(Start|Reload)=' "$dest/usr/lib/systemd/system/mxfence-restore.service" | tr '\n' ' ')" \
		"ExecStart=/usr/sbin/mxfence restore ExecReload=/usr/sbin/mxfence restore "
	if grep -rn '@[A-Z]*@' "$dest/usr/lib/systemd/system" >"$work/left" 2>&1; then
		fail "no @VARIABLE@ left in installed units" "$(head -n 3 "$work/left")"
	else
		pass "no @VARIABLE@ left in installed units"
	fi
fi

# --- default prefix ---
if install_to local DESTDIR="$work/local"; then
	expect_eq "ExecStart with the default prefix" \
		"$(grep -s '^ExecStart=' "$work/local/usr/local/lib/systemd/system/mxfence-refresh.service")" \
		"ExecStart=/usr/local/sbin/mxfence refresh"
fi

# --- systemd-analyze verify on a real install ---
prefix=$work/prefix
unitdir=$prefix/lib/systemd/system
if install_to prefix PREFIX="$prefix" SYSCONFDIR="$prefix/etc"; then
	if out=$("$prefix/sbin/mxfence" check -c "$prefix/etc/mxfence/mxfence.conf" 2>&1) &&
		grep -q 'configuration OK' <<<"$out"; then
		pass "the installed policy passes mxfence check where it is installed"
	else
		fail "the installed policy passes mxfence check where it is installed" "$out"
	fi
	# The verified unit is the packaged one but for the binary's folder.
	if sed "s|$prefix/sbin/|/usr/sbin/|g" "$unitdir/mxfence-refresh.service" |
		cmp -s - "$dest/usr/lib/systemd/system/mxfence-refresh.service" &&
		cmp -s "$unitdir/mxfence-refresh.timer" "$dest/usr/lib/systemd/system/mxfence-refresh.timer" &&
		sed "s|$prefix/sbin/|/usr/sbin/|g" "$unitdir/mxfence-restore.service" |
		cmp -s - "$dest/usr/lib/systemd/system/mxfence-restore.service"; then
		pass "verified units equal the packaged ones but for the path"
	else
		fail "verified units equal the packaged ones but for the path" \
			"$(diff <(sed "s|$prefix/sbin/|/usr/sbin/|g" "$unitdir/mxfence-refresh.service") \
				"$dest/usr/lib/systemd/system/mxfence-refresh.service" | head -n 5)"
	fi
	out=$(cd "$work" && MANPATH=$prefix/share/man systemd-analyze verify \
		"$unitdir/mxfence-refresh.service" "$unitdir/mxfence-refresh.timer" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && [ -z "$out" ]; then
		pass "systemd-analyze verify: service and timer"
	else
		fail "systemd-analyze verify: service and timer" "exit $rc: $out"
	fi
	out=$(cd "$work" && MANPATH=$prefix/share/man systemd-analyze verify \
		"$unitdir/mxfence-restore.service" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && [ -z "$out" ]; then
		pass "systemd-analyze verify: restore unit"
	else
		fail "systemd-analyze verify: restore unit" "exit $rc: $out"
	fi
	# The reload command is checked as well: nftables reloads run it.
	sed "s|^ExecReload=.*|ExecReload=$work/no-such-binary restore|" \
		"$unitdir/mxfence-restore.service" >"$work/broken-restore.service"
	out=$(cd "$work" && MANPATH=$prefix/share/man systemd-analyze verify "$work/broken-restore.service" 2>&1)
	case $out in
	*no-such-binary*) pass "systemd-analyze verify catches an absent ExecReload binary" ;;
	*) fail "systemd-analyze verify catches an absent ExecReload binary" "said: $out" ;;
	esac
	# verify must be able to fail here, or the pass above means nothing.
	sed "s|^ExecStart=.*|ExecStart=$work/no-such-binary refresh|" \
		"$unitdir/mxfence-refresh.service" >"$work/broken.service"
	out=$(cd "$work" && MANPATH=$prefix/share/man systemd-analyze verify "$work/broken.service" 2>&1)
	case $out in
	*no-such-binary*) pass "systemd-analyze verify catches a absent ExecStart binary" ;;
	*) fail "systemd-analyze verify catches a absent ExecStart binary" "said: $out" ;;
	esac
	# Exposure 0.0 (locked down) to 10.0; the unit is at 2.4 with its hardening.
	if systemd-analyze security --help 2>&1 | grep -q -- '--offline'; then
		out=$(cd "$work" && systemd-analyze security --offline=yes --threshold=30 \
			"$unitdir/mxfence-refresh.service" 2>&1)
		rc=$?
		level=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
		if [ $rc -eq 0 ] && [ -n "$level" ]; then
			pass "systemd-analyze security: exposure $level, at most 3.0"
		else
			fail "systemd-analyze security: exposure at most 3.0" "exit $rc, exposure '$level'"
		fi
		out=$(cd "$work" && systemd-analyze security --offline=yes --threshold=30 \
			"$unitdir/mxfence-restore.service" 2>&1)
		rc=$?
		level=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
		if [ $rc -eq 0 ] && [ -n "$level" ]; then
			pass "systemd-analyze security: restore unit exposure $level, at most 3.0"
		else
			fail "systemd-analyze security: restore unit exposure at most 3.0" "exit $rc, exposure '$level'"
		fi
	else
		skip "systemd-analyze security" "no --offline in this systemd"
	fi
fi

# --- the directives themselves ---
# section FILE NAME: the lines of [NAME], comments and blank lines left out.
section() {
	awk -v want="[$2]" '/^\[/ { in_s = ($0 == want); next }
		in_s && !/^[#;]/ && NF { print }' "$1"
}

src=$TOP/contrib/systemd
section "$src/mxfence-refresh.service" Unit >"$work/unit"
section "$src/mxfence-refresh.service" Service >"$work/service"
section "$src/mxfence-refresh.timer" Timer >"$work/timer"
section "$src/mxfence-refresh.timer" Install >"$work/install"

# has NAME FILE LINE...: every LINE is a line of FILE.
has() {
	local name=$1 file=$2 l absent=""
	shift 2
	for l in "$@"; do grep -qxF -- "$l" "$file" || absent="$absent '$l'"; done
	if [ -z "$absent" ]; then pass "$name"; else fail "$name" "missing:$absent"; fi
}

has "service [Unit]: docs and network-online" "$work/unit" \
	"Documentation=man:mxfence(8)" "Wants=network-online.target"
if grep -qE '^After=(.* )?network-online\.target( |$)' "$work/unit"; then
	pass "service [Unit]: After=network-online.target"
else
	fail "service [Unit]: After=network-online.target" "$(grep '^After=' "$work/unit")"
fi
has "service: oneshot running mxfence refresh" "$work/service" \
	"Type=oneshot" "ExecStart=@SBINDIR@/mxfence refresh"
has "service: file system hardening" "$work/service" \
	"ProtectSystem=strict" "ReadWritePaths=/var/lib/mxfence /var/cache/mxfence" \
	"StateDirectory=mxfence" "CacheDirectory=mxfence" "PrivateTmp=yes" "ProtectHome=yes" \
	"PrivateDevices=yes" "UMask=0077"
has "service: privileges" "$work/service" \
	"NoNewPrivileges=yes" "CapabilityBoundingSet=CAP_NET_ADMIN"
has "service: kernel and namespaces" "$work/service" \
	"ProtectKernelModules=yes" "ProtectKernelTunables=yes" "ProtectControlGroups=yes" \
	"ProtectClock=yes" "ProtectHostname=yes" "RestrictNamespaces=yes" "RestrictRealtime=yes" \
	"LockPersonality=yes" "MemoryDenyWriteExecute=yes"
has "service: sockets and system calls" "$work/service" \
	"RestrictAddressFamilies=AF_INET AF_INET6 AF_NETLINK AF_UNIX" \
	"SystemCallArchitectures=native" "SystemCallFilter=@system-service"
# Exit 4 (applied, but some source from its last good copy) must reach monitoring.
if grep -qE '^SuccessExitStatus=' "$work/service"; then
	fail "service: exit 4 is not success" "$(grep '^SuccessExitStatus=' "$work/service")"
else
	pass "service: exit 4 is not success"
fi
if grep -qE '^(User|DynamicUser|AmbientCapabilities)=' "$work/service"; then
	fail "service: root with CAP_NET_ADMIN only" "$(grep -E '^(User|DynamicUser|AmbientCapabilities)=' "$work/service")"
else
	pass "service: root with CAP_NET_ADMIN only"
fi

# The restore unit: early, after nftables' ruleset, before the network; again on its reload/restart.
section "$src/mxfence-restore.service" Unit >"$work/r-unit"
section "$src/mxfence-restore.service" Service >"$work/r-service"
section "$src/mxfence-restore.service" Install >"$work/r-install"
has "restore [Unit]: early boot, after nftables, before the network" "$work/r-unit" \
	"DefaultDependencies=no" "After=nftables.service" "Before=network-pre.target shutdown.target" \
	"Wants=network-pre.target" "Conflicts=shutdown.target"
has "restore [Unit]: runs again on nftables reload and restart" "$work/r-unit" \
	"PartOf=nftables.service" "ReloadPropagatedFrom=nftables.service"
has "restore [Unit]: after the local file systems" "$work/r-unit" \
	"After=local-fs.target systemd-modules-load.service" "RequiresMountsFor=/var/lib/mxfence /etc/mxfence"
has "restore: oneshot, restore on start and on reload" "$work/r-service" \
	"Type=oneshot" "RemainAfterExit=yes" "ExecStart=@SBINDIR@/mxfence restore" \
	"ExecReload=@SBINDIR@/mxfence restore"
has "restore: hardening" "$work/r-service" \
	"CapabilityBoundingSet=CAP_NET_ADMIN" "NoNewPrivileges=yes" "ProtectSystem=strict" \
	"RestrictAddressFamilies=AF_NETLINK AF_UNIX" "SystemCallFilter=@system-service"
if grep -qE '^Exec.*(fetch|refresh)' "$work/r-service"; then
	fail "restore: never fetches" "$(grep -E '^Exec' "$work/r-service")"
else
	pass "restore: never fetches"
fi
has "restore [Install]" "$work/r-install" "WantedBy=sysinit.target"
if grep -qE '^# *OnFailure=' "$src/mxfence-refresh.service"; then
	pass "refresh service documents its OnFailure= hook"
else
	fail "refresh service documents its OnFailure= hook" "no OnFailure= example in the unit's comments"
fi

has "timer: daily, persistent" "$work/timer" "OnCalendar=daily" "Persistent=true"
if grep -qE '^RandomizedDelaySec=[1-9]' "$work/timer"; then
	pass "timer: RandomizedDelaySec"
else
	fail "timer: RandomizedDelaySec" "no non-zero RandomizedDelaySec= in [Timer]"
fi
if grep -qE '^Unit=' "$work/timer" && ! grep -qxF 'Unit=mxfence-refresh.service' "$work/timer"; then
	fail "timer: starts mxfence-refresh.service" "$(grep '^Unit=' "$work/timer")"
else
	pass "timer: starts mxfence-refresh.service"
fi
has "timer: [Install]" "$work/install" "WantedBy=timers.target"

finish
