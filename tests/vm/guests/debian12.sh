#!/usr/bin/env bash
# The Debian package on a Debian 12 system booted with systemd, twice.
#
#   +---------------------------- this host ------------------------------------+
#   |  make deb -> mxfence_*.deb          debootstrap bookworm (cached) -> ext4  |
#   |  prober: 127.0.0.1:P25, :P2525 every 0.2 s, from qemu's start             |
#   |    |  qemu user network 192.0.2.0/24 (restricted: nothing goes out),      |
#   |    |  host 192.0.2.2 -> guest 192.0.2.15 tcp/25 and tcp/2525               |
#   |  +-v------------------- guest: Debian 12, its kernel, systemd ----------+  |
#   |  |  nftables.service (/etc/nftables.conf as Debian ships it: flush)     |  |
#   |  |  mxfence-restore.service, systemd-networkd (192.0.2.15/24)           |  |
#   |  |  busybox nc: an SMTP banner on tcp/25 and tcp/2525 before the network |  |
#   |  |  namespaces "relay" (198.51.100.7) and "other" (203.0.113.9) by veth  |  |
#   |  |  openssl s_server on 127.0.0.1:8443: a feed for the refresh service  |  |
#   |  +------------------------------------------------------------------------+  |
#   +-------------------------------------------------------------------------------+
#
# Boot 1: dpkg -i, the package's files and units, the policy applied, Debian's
# nftables.service enabled. Boot 2 (a real reboot: the kernel starts empty):
# the journal orders nftables.service, mxfence-restore.service, network-pre.target
# and the first link; from the host, tcp/25 never answers the denied host
# (192.0.2.2) while tcp/2525 shows the guest answering, until the table is
# deleted by hand (then it does: the probe can tell); systemctl reload and
# restart nftables, with the boot unit and with the README's include line;
# mxfence monitor OK, CRITICAL without the table; the refresh service end to
# end over HTTPS; apt remove and apt purge as debian/README.Debian says.
# The guest's lines come back prefixed "debian 12: ".
#   MXFENCE_VM_DEB=FILE   test this package instead of running make deb
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../lib/report.sh"
. "$here/../lib/vm.sh"

TOP=${TOP:-$(cd "$here/../../.." && pwd)}
L="debian 12"
need_root
need_mxfence

skip_all() {
	skip "$L: package, boot, reload, monitor, refresh, remove" "$1"
	finish
}
grep -q '^deb:' "$TOP/Makefile" || skip_all "make deb does not exist in this tree"
[ -f "$TOP/contrib/systemd/mxfence-restore.service" ] || skip_all "contrib/systemd/mxfence-restore.service does not exist in this tree"
for c in restore monitor; do
	"$MXFENCE" 2>&1 | grep -qE "^ +$c " || skip_all "mxfence has no '$c' command in this tree"
done
vm_check || skip_all "$VM_WHY"
for c in mkfs.ext4 debootstrap openssl ss; do
	command -v "$c" >/dev/null 2>&1 || skip_all "$c not found (contrib/deps.sh build test installs it)"
done
vm_kernel || skip_all "$VM_WHY"

work=$(mktemp -d /tmp/mxvm-debian.XXXXXX) || exit 1
probers=()
cleanup() {
	local p
	vm_stop
	for p in "${probers[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
vm_init "$work"
g=$work/guest
mkdir -p "$g/tls"

# The package.
t0=$SECONDS
if [ -n "${MXFENCE_VM_DEB:-}" ]; then
	cp "$MXFENCE_VM_DEB" "$g/mxfence.deb" || { fail "$L: package" "cannot read $MXFENCE_VM_DEB"; finish; }
else
	if ! make -C "$TOP" --no-print-directory deb DEB_OUT="$work/deb" >"$work/deb.log" 2>&1; then
		fail "$L: make deb" "$(tail -n 5 "$work/deb.log")"
		finish
	fi
	deb=$(ls "$work"/deb/*.deb 2>/dev/null | head -n 1)
	[ -n "$deb" ] || { fail "$L: make deb" "no .deb in $work/deb: $(tail -n 3 "$work/deb.log")"; finish; }
	cp "$deb" "$g/mxfence.deb"
	pass "$L: make deb builds ${deb##*/} ($((SECONDS - t0)) s)"
fi

# The root: what the package depends on and recommends is installed by
# debootstrap (the guest has no mirror to ask), and openssl for the test's
# HTTPS server.
deps=$(dpkg-deb -f "$g/mxfence.deb" Depends Recommends | sed 's/^[A-Za-z-]*: *//' | tr ',' '\n' |
	sed 's/|.*//; s/(.*)//; s/:any//; s/[[:space:]]//g' | grep -v '^$' | sort -u | tr '\n' ' ')
t0=$SECONDS
vm_debian_root $deps openssl || skip_all "$VM_WHY"
echo "# root: $VM_DROOT ($((SECONDS - t0)) s); packages: $deps openssl"
img=$work/disk.img
if ! mkfs.ext4 -q -F -L mxvm -d "$VM_DROOT" "$img" 1536M >"$work/mkfs.log" 2>&1; then
	fail "$L: disk image" "mkfs.ext4 -d: $(tail -n 3 "$work/mkfs.log")"
	finish
fi

# A test CA and a certificate for 127.0.0.1, for the refresh service's feed.
(
	cd "$g/tls" &&
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
			-subj "/CN=mxfence test CA" -keyout ca.key -out ca.pem &&
		openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
			-subj "/CN=127.0.0.1" -keyout server.key -out server.csr &&
		printf 'subjectAltName=IP:127.0.0.1\n' >ext &&
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
			-extfile ext -out server.pem
) >"$work/tls.log" 2>&1 || { fail "$L: test CA" "$(tail -n 3 "$work/tls.log")"; finish; }
cp "$TOP/tests/lib/report.sh" "$here/../lib/debian-guest.sh" /bin/busybox "$g/"

free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 30000))
		ss -Htln "sport = :$p" | grep -q . || { echo $p; return; }
	done
}
P25=$(free_port)
P2525=$(free_port)
[ "$P25" = "$P2525" ] && P2525=$((P25 + 1))
nic=(-nic "user,model=virtio-net-pci,net=192.0.2.0/24,host=192.0.2.2,dns=192.0.2.3,restrict=on,hostfwd=tcp:127.0.0.1:$P25-192.0.2.15:25,hostfwd=tcp:127.0.0.1:$P2525-192.0.2.15:2525")
disk=(-drive "file=$img,if=virtio,format=raw,cache=unsafe")

# results BOOT: the guest's result lines, prefixed.
results() {
	local l
	if [ ! -f "$g/job.rc" ]; then
		fail "$L: $1: the guest's script finished" "qemu exit $VM_RC after $VM_WALL s; last lines: $(tail -n 3 "$g/job.log" 2>/dev/null)"
	fi
	grep -E '^# ' "$g/job.log" 2>/dev/null
	while IFS= read -r l; do
		echo "${l%%: *}: $L: ${l#*: }"
		case $l in
		PASS:*) T_PASS=$((T_PASS + 1)) ;;
		FAIL:*) T_FAIL=$((T_FAIL + 1)) ;;
		SKIP:*) T_SKIP=$((T_SKIP + 1)) ;;
		esac
	done < <(grep -E '^(PASS|FAIL|SKIP): ' "$g/job.log" 2>/dev/null)
}

# Boot 1: install and apply.
echo "bash /mxvm/debian-guest.sh install" >"$g/job.sh"
vm_boot debian1 "$g" "${VM_TIMEOUT:-600}" 1024 disk "${disk[@]}" "${nic[@]}"
if [ ! -f "$g/started" ]; then
	skip_all "$(vm_why_no_start "$g")"
fi
echo "# boot 1: the script started at $(cut -d' ' -f2 "$g/started") s uptime; $VM_WALL s wall in all"
vm_clock_ok "$g" || fail "$L: boot 1: the guest's clock kept time" "$VM_CLOCK"
results "boot 1"
if [ "$T_FAIL" -gt 0 ] || [ ! -f "$g/job.rc" ]; then
	fail "$L: boot 2" "not started: boot 1 failed"
	finish
fi

# Boot 2, with the host probing tcp/25 and tcp/2525 from qemu's start: one
# line per probe, "TIME PHASE_BEFORE PHASE_AFTER PORT banner|none", the phase
# the guest was in when the probe connected and when it ended. qemu's user
# network answers the host's connect at once and sends SYNs to the guest until
# one is answered, so a probe whose SYN was dropped can still get the banner
# if the port opens within its 2 seconds: a banner belongs to the phase after.
prober() {
	local port=$1 hp=$2 p0 p1 r
	while [ ! -f "$g.stop" ]; do
		p0=$(cat "$g/phase" 2>/dev/null)
		r=$(timeout 3 bash -c "exec 3<>/dev/tcp/127.0.0.1/$hp && read -r -t 2 l <&3 && echo \"\$l\"" 2>/dev/null)
		p1=$(cat "$g/phase" 2>/dev/null)
		case $r in 220*) r=banner ;; *) r=none ;; esac
		echo "$(date +%s.%N) ${p0:-preboot} ${p1:-preboot} $port $r" >>"$g.probes"
		sleep 0.2
	done
}
rm -f "$g/started" "$g/job.rc" "$g/job.log" "$g.probes" "$g.stop"
echo preboot >"$g/phase"
echo "bash /mxvm/debian-guest.sh boot" >"$g/job.sh"
prober 25 "$P25" &
probers+=($!)
prober 2525 "$P2525" &
probers+=($!)
vm_boot debian2 "$g" "${VM_TIMEOUT:-600}" 1024 disk "${disk[@]}" "${nic[@]}"
touch "$g.stop"
for p in "${probers[@]}"; do wait "$p" 2>/dev/null; done
probers=()
if [ ! -f "$g/started" ]; then
	fail "$L: boot 2 reaches multi-user and the test's script" "$(vm_why_no_start "$g")"
	finish
fi
echo "# boot 2: the script started at $(cut -d' ' -f2 "$g/started") s uptime; $VM_WALL s wall in all"
vm_clock_ok "$g" || fail "$L: boot 2: the guest's clock kept time" "$VM_CLOCK"
results "boot 2"

# What the host saw. From the first banner on tcp/2525 (the guest answers),
# and before, tcp/25 gave the denied host no banner until the table was
# deleted by hand; with the table deleted it did.
# pr PHASES PORT RESULT: probes that began and ended in PHASES (a regex).
pr() {
	awk -v ph="^($1)\$" -v port="$2" -v r="$3" '$2 ~ ph && $3 ~ ph && $4 == port && $5 == r' "$g.probes" | wc -l
}
first=$(awk '$4 == 2525 && $5 == "banner" { print $1; exit }' "$g.probes")
start=$(head -n 1 "$g.probes" | cut -d' ' -f1)
if [ -n "$first" ]; then
	pass "$L: the host reaches the guest: tcp/2525 answered $(awk -v a="$start" -v b="$first" 'BEGIN { printf "%.1f", b - a }') s after qemu started"
	n=$(pr 'preboot|boot' 25 none)
	expect_eq "$L: during the boot and its checks, tcp/25 never answered the denied host ($n probes)" "$(pr 'preboot|boot' 25 banner)" 0
	n=$(pr 'include' 25 none)
	expect_eq "$L: during the reload with the include line, tcp/25 never answered ($n probes)" "$(pr 'include' 25 banner)" 0
	n=$(pr deleted 25 banner)
	[ "$n" -gt 0 ] && pass "$L: with the table deleted by hand, tcp/25 answered the host ($n probes): the probe can tell" ||
		fail "$L: with the table deleted by hand, tcp/25 answered the host" "no banner in $(pr deleted 25 none) probes"
	# Windows the design leaves, counted: the boot unit loads the table after
	# nftables.service's flush, in a job of its own; a restart flushes (ExecStop=)
	# before it loads, include line or not.
	for ph in reload restart include-restart; do
		echo "# probes of tcp/25 during $ph: $(pr "$ph" 25 banner) got the banner, $(pr "$ph" 25 none) nothing"
	done
	echo "# probes of tcp/25 across a change of phase: $(awk '$2 != $3 && $4 == 25 { print $2 ">" $3 ":" $5 }' "$g.probes" | tr '\n' ' ')"
else
	fail "$L: the host reaches the guest on tcp/2525" "no banner in $(pr '.*' 2525 none) probes"
fi
finish
