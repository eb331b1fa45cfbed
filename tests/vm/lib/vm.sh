# shellcheck shell=bash disable=SC2034 # the VM_ variables set here are for the callers
# Guests on Debian 12's own kernel under qemu, for tests/vm and make bench.
# See ../shared/docs/VM-NOTES.md for the measured facts behind the choices:
# TCG (this machine's KVM runs no stock kernel at speed), the unpacked vmlinux
# booted through PVH, 9p with multidevs=remap.
#
#   . tests/vm/lib/vm.sh
#   vm_check                     qemu and the tools are here, else VM_WHY says why
#   vm_kernel                    the kernel package, fetched once into the cache:
#                                VM_KVER, VM_KDIR (vmlinux, lib/modules/VER)
#   vm_initramfs FILE            busybox-static and the modules to mount 9p and disks
#   vm_boot NAME DIR TIMEOUT MB host|disk [QEMU ARGS...]
#                                boots; DIR is the guest's /mxvm (read-write 9p);
#                                the console goes to DIR.console; sets VM_RC, VM_WALL
#
# The cache lives outside the clone: $MXFENCE_VM_CACHE, default
# /var/cache/mxfence-tests/vm, one folder per package and version
# (kernel-linux-image-6.1.0-57-amd64_6.1.192-3/). Other versions are removed
# when a new one is cached. Everything is made beside its place and renamed
# into it, under a lock, so a killed or parallel run never sees half a folder.

VM_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VM_CACHE=${MXFENCE_VM_CACHE:-/var/cache/mxfence-tests/vm}
VM_QEMU=${VM_QEMU:-qemu-system-x86_64}
VM_WHY=''

vm_check() {
	local c
	for c in "$VM_QEMU" apt-get apt-cache dpkg-deb depmod modprobe cpio gzip xz flock timeout od; do
		if ! command -v "$c" >/dev/null 2>&1; then
			VM_WHY="$c not found (contrib/deps.sh build test installs it)"
			return 1
		fi
	done
	if ! [ -x /bin/busybox ] || ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed'; then
		VM_WHY="busybox-static is not installed (contrib/deps.sh build test installs it)"
		return 1
	fi
	if ! "$VM_QEMU" -accel help 2>/dev/null | grep -qx tcg; then
		VM_WHY="$VM_QEMU has no TCG accelerator"
		return 1
	fi
	mkdir -p "$VM_CACHE" 2>/dev/null || {
		VM_WHY="cannot create the cache folder $VM_CACHE (set MXFENCE_VM_CACHE)"
		return 1
	}
	return 0
}

# vm_locked CMD...: CMD under the cache's lock (10 minutes at most).
vm_locked() {
	(
		flock -w 600 9 || {
			echo "vm: the cache lock $VM_CACHE/lock is held by another run" >&2
			exit 1
		}
		"$@"
	) 9>"$VM_CACHE/lock"
}

# vm_pkg_version PKG: the candidate version apt would install.
vm_pkg_version() {
	apt-cache policy "$1" 2>/dev/null | sed -n 's/^ *Candidate: *//p' | grep -v '(none)'
}

# vm_kernel_package: the package linux-image-amd64 depends on, and its version.
# The package lists are refreshed once when they do not know it.
vm_kernel_package() {
	local try
	for try in 1 2; do
		VM_KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null |
			sed -n 's/^ *Depends: *\(linux-image-[0-9][^ ]*\).*/\1/p' | head -n 1)
		if [ -n "$VM_KPKG" ]; then
			VM_KPKG_VER=$(vm_pkg_version "$VM_KPKG")
			[ -n "$VM_KPKG_VER" ] && return 0
		fi
		[ $try = 1 ] && apt-get update -qq >/dev/null 2>&1
	done
	VM_WHY="apt knows no linux-image-amd64 (no package lists or mirror)"
	return 1
}

# vm_unpack_vmlinux VMLINUZ OUT: the ELF kernel inside a bzImage, for a PVH
# boot. The setup header says where the compressed payload starts
# (Documentation/arch/x86/boot.rst: setup_sects at 0x1f1, payload_offset at
# 0x248, from the protected-mode code after the setup sectors); Debian's is xz.
vm_unpack_vmlinux() {
	local z=$1 out=$2 ss po start
	ss=$(od -An -tu1 -j $((0x1f1)) -N1 "$z" | tr -d ' ')
	po=$(od -An -tu4 -j $((0x248)) -N4 "$z" | tr -d ' ')
	[ -n "$ss" ] && [ -n "$po" ] || return 1
	[ "$ss" -eq 0 ] && ss=4
	start=$(((ss + 1) * 512 + po))
	tail -c +$((start + 1)) "$z" | xz -dc --single-stream >"$out" 2>/dev/null || return 1
	[ "$(head -c 4 "$out" | od -An -c | tr -d ' ')" = '177ELF' ]
}

vm_kernel_fetch() {
	local dir=$1 tmp deb z
	[ -f "$dir/ready" ] && return 0
	# Under the lock, a temporary folder is a killed run's.
	rm -rf "$VM_CACHE"/.kernel.*
	tmp=$(mktemp -d "$VM_CACHE/.kernel.XXXXXX") || return 1
	if ! (cd "$tmp" && apt-get download -qq "$VM_KPKG=$VM_KPKG_VER") >"$tmp/apt.log" 2>&1; then
		echo "vm: apt-get download $VM_KPKG=$VM_KPKG_VER failed: $(tail -n 3 "$tmp/apt.log")" >&2
		rm -rf "$tmp"
		return 1
	fi
	deb=$(ls "$tmp"/*.deb)
	dpkg-deb -x "$deb" "$tmp/root" || { rm -rf "$tmp"; return 1; }
	rm -f "$deb"
	VM_KVER=$(ls "$tmp/root/lib/modules")
	z="$tmp/root/boot/vmlinuz-$VM_KVER"
	if ! depmod -b "$tmp/root" "$VM_KVER"; then
		echo "vm: depmod of $VM_KVER failed" >&2
		rm -rf "$tmp"
		return 1
	fi
	if ! vm_unpack_vmlinux "$z" "$tmp/vmlinux"; then
		echo "vm: cannot unpack the ELF kernel from $z" >&2
		rm -rf "$tmp"
		return 1
	fi
	mkdir -p "$tmp/lib/modules"
	mv "$tmp/root/lib/modules/$VM_KVER" "$tmp/lib/modules/"
	mv "$tmp/root/boot/config-$VM_KVER" "$tmp/config"
	rm -rf "$tmp/root" "$tmp/apt.log"
	echo "$VM_KVER" >"$tmp/kver"
	touch "$tmp/ready"
	rm -rf "$dir"
	mv "$tmp" "$dir" || return 1
	# Older kernels of the cache are of no more use.
	find "$VM_CACHE" -maxdepth 1 -name 'kernel-*' ! -path "$dir" -exec rm -rf {} +
}

# vm_kernel: sets VM_KPKG, VM_KPKG_VER, VM_KVER and VM_KDIR (the cache folder).
vm_kernel() {
	vm_kernel_package || return 1
	VM_KDIR="$VM_CACHE/kernel-${VM_KPKG}_$VM_KPKG_VER"
	if [ ! -f "$VM_KDIR/ready" ]; then
		local t0=$SECONDS
		if ! vm_locked vm_kernel_fetch "$VM_KDIR"; then
			VM_WHY="cannot fetch the kernel package $VM_KPKG $VM_KPKG_VER"
			return 1
		fi
		echo "# vm: $VM_KPKG $VM_KPKG_VER fetched and unpacked in $((SECONDS - t0)) s"
	fi
	VM_KVER=$(cat "$VM_KDIR/kver")
}

# The modules the initramfs loads: virtio, 9p and overlay for the host's
# userland, virtio_blk and ext4 for a disk. Everything else is loaded inside
# the guest by the kernel's own request_module (modprobe from the 9p share).
VM_MODULES="virtio_pci 9pnet_virtio 9p overlay virtio_blk crc32c_generic ext4"

# vm_initramfs FILE: a gzip'd cpio (newc) of busybox, lib/init and the modules.
vm_initramfs() {
	local out=$1 d m p
	d=$(mktemp -d /tmp/mxvm-initrd.XXXXXX) || return 1
	mkdir -p "$d/bin" "$d/modules" "$d/tmp"
	cp /bin/busybox "$d/bin/busybox"
	cp "$VM_LIB/init" "$d/init"
	chmod 0755 "$d/init"
	for m in $VM_MODULES; do
		modprobe -d "$VM_KDIR" -S "$VM_KVER" --show-depends "$m" || { rm -rf "$d"; return 1; }
	done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' >"$d/paths"
	while read -r p; do
		cp "$p" "$d/modules/"
		basename "$p" >>"$d/modules/order"
	done <"$d/paths"
	rm -f "$d/paths"
	(cd "$d" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp" && mv "$out.tmp" "$out"
	local rc=$?
	rm -rf "$d"
	return $rc
}

# vm_boot NAME DIR TIMEOUT MB host|disk [QEMU ARGS...]
#   host: the host's / read-only under a tmpfs overlay; runs lib/stage2, which
#         runs DIR/job.sh (as the guest's /mxvm/job.sh) and powers off
#   disk: QEMU ARGS attach the disk; its /lib/systemd/systemd is started
# DIR/started appears once the guest's script runs. The console goes to
# DIR.console. qemu is killed after TIMEOUT seconds.
vm_boot() {
	local name=$1 dir=$2 tmo=$3 mem=$4 mode=$5 init t0
	shift 5
	[ -f "$VM_WORK/initrd.gz" ] || vm_initramfs "$VM_WORK/initrd.gz" || {
		VM_RC=1
		echo "vm: cannot build the initramfs" >"$dir.console"
		return 1
	}
	case $mode in
	host) init=$VM_LIB/stage2 ;;
	disk) init=/lib/systemd/systemd ;;
	esac
	mkdir -p "$dir"
	rm -f "$dir/started"
	t0=$(date +%s.%N)
	# In the background, so that a signal to the test reaches its trap at
	# once, and vm_stop can end qemu.
	timeout -k 5 "$tmo" "$VM_QEMU" -name "mxvm-$name" \
		-machine pc -accel tcg,thread=multi -cpu "${VM_CPU:-max}" -smp "${VM_SMP:-1}" -m "$mem" \
		-nodefaults -no-user-config -display none -no-reboot \
		-serial "file:$dir.console" -monitor none \
		-kernel "$VM_KDIR/vmlinux" -initrd "$VM_WORK/initrd.gz" \
		-append "console=ttyS0 loglevel=4 panic=-1 mxvm.root=$mode mxvm.kver=$VM_KVER mxvm.init=$init ${VM_APPEND:-}" \
		-fsdev "local,id=mods,path=$VM_KDIR/lib/modules/$VM_KVER,security_model=none,readonly=on" \
		-device virtio-9p-pci,fsdev=mods,mount_tag=mods \
		-fsdev "local,id=out,path=$dir,security_model=none" \
		-device virtio-9p-pci,fsdev=out,mount_tag=out \
		-device virtio-rng-pci \
		"$@" >"$dir.qemu" 2>&1 &
	VM_QPID=$!
	wait "$VM_QPID"
	VM_RC=$?
	VM_QPID=
	VM_WALL=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
	return 0
}

# vm_clock_ok DIR: the guest's clock did not run ahead of the host's: its
# uptime when its script started is within the wall time of the whole run. A
# TSC calibrated while the emulated CPU was starved of host time could make it
# run fast, and every timeout inside the guest short. VM_CLOCK says what was seen.
vm_clock_ok() {
	local up
	up=$(cut -d' ' -f2 "$1/started" 2>/dev/null)
	VM_CLOCK="guest uptime $up s at its script's start, $VM_WALL s of host time for the whole run"
	awk -v u="${up:-0}" -v w="$VM_WALL" 'BEGIN { exit !(u <= w + 2) }'
}

# vm_stop: ends a guest still running (for the caller's EXIT trap).
VM_QPID=''
vm_stop() {
	[ -n "$VM_QPID" ] || return 0
	kill "$VM_QPID" 2>/dev/null
	wait "$VM_QPID" 2>/dev/null
	VM_QPID=''
}

# vm_host_root: the qemu arguments that share the host's / with the guest.
vm_host_root() {
	printf '%s\n' -fsdev "local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap" \
		-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
}

# vm_why_no_start DIR: the end of the console, for a SKIP line.
vm_why_no_start() {
	local dir=$1 why
	why=$(grep -a -E 'mxvm: init:|Kernel panic|not syncing' "$dir.console" 2>/dev/null | head -n 3 | tr '\n' ' ')
	[ -n "$why" ] || why=$(tail -c 300 "$dir.console" 2>/dev/null | tr -d '\r' | tr '\n' ' ')
	[ -s "$dir.qemu" ] && why="$why qemu: $(head -c 300 "$dir.qemu" | tr '\n' ' ')"
	printf 'the guest did not reach its script (qemu exit %s after %s s): %s\n' "$VM_RC" "$VM_WALL" "$why"
}

# vm_init WORK: the folder for this run's initramfs and guest folders.
vm_init() {
	VM_WORK=$1
	mkdir -p "$VM_WORK"
}

# vm_mirror: the Debian mirror apt uses for bookworm (debootstrap takes one).
vm_mirror() {
	local m
	m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '
		/^URIs:/ { u = $2 } /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm") { print u; exit } }')
	[ -n "$m" ] || m=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
	echo "${m:-http://deb.debian.org/debian}"
}

# vm_bookworm_versions PKG...: "PKG=VERSION" lines, the versions in bookworm
# itself (what debootstrap installs; the point release, not -updates or
# -security), or "PKG=" for a package bookworm does not have. One apt-cache run.
vm_bookworm_versions() {
	apt-cache madison "$@" 2>/dev/null | awk -F' *[|] *' -v want="$*" '
		{ sub(/^ */, "", $1) }
		$3 ~ / bookworm\/main / && !($1 in v) { v[$1] = $2 }
		END { n = split(want, w, " "); for (i = 1; i <= n; i++) print w[i] "=" v[w[i]] }'
}

# vm_debian_root PACKAGES...: a debootstrapped bookworm (minbase) with
# systemd, udev, nftables, iproute2, kmod and PACKAGES, made ready to boot
# (hostname, machine id, fstab, no first-boot questions). Cached as
# $VM_CACHE/debian-bookworm-<key>/root, the key a hash of the package list and
# of each listed package's bookworm version. Sets VM_DROOT.
VM_DEBIAN_BASE="systemd-sysv udev nftables iproute2 kmod apt libc6 systemd"
vm_debian_root() {
	local pkgs p key list
	pkgs=$(printf '%s\n' $VM_DEBIAN_BASE "$@" | sort -u | tr '\n' ' ')
	# shellcheck disable=SC2086
	list=$(vm_bookworm_versions $pkgs)
	p=$(printf '%s\n' "$list" | sed -n 's/=$//p' | head -n 1)
	if [ -n "$p" ]; then
		VM_WHY="apt knows no bookworm version of $p"
		return 1
	fi
	# The layout of the root (what vm_debootstrap adds) is part of the key.
	key=$(printf '%s%s' "$list" "$(declare -f vm_debootstrap)" | sha256sum | cut -c1-16)
	VM_DROOT_DIR="$VM_CACHE/debian-bookworm-$key"
	VM_DROOT="$VM_DROOT_DIR/root"
	if [ ! -f "$VM_DROOT_DIR/ready" ]; then
		local t0=$SECONDS
		if ! vm_locked vm_debootstrap "$VM_DROOT_DIR" "$pkgs" "$list"; then
			VM_WHY="debootstrap of bookworm failed: $(tail -n 3 "$VM_CACHE/debootstrap.log" 2>/dev/null | tr '\n' ' ')"
			return 1
		fi
		echo "# vm: bookworm root made in $((SECONDS - t0)) s ($VM_DROOT_DIR)"
	fi
}

vm_debootstrap() {
	local dir=$1 pkgs=$2 list=$3 tmp r
	[ -f "$dir/ready" ] && return 0
	rm -rf "$VM_CACHE"/.debian.*
	tmp=$(mktemp -d "$VM_CACHE/.debian.XXXXXX") || return 1
	r=$tmp/root
	if ! debootstrap --variant=minbase --include="$(echo $pkgs | tr ' ' ,)" \
		bookworm "$r" "$(vm_mirror)" >"$VM_CACHE/debootstrap.log" 2>&1; then
		rm -rf "$tmp"
		return 1
	fi
	echo mxvm >"$r/etc/hostname"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\tmxvm\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$r/etc/hosts"
	# A machine id: not a first boot, so systemd-firstboot asks nothing.
	od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$r/etc/machine-id"
	echo >>"$r/etc/machine-id"
	printf '/dev/vda\t/\text4\trw,errors=remount-ro\t0\t1\n' >"$r/etc/fstab"
	# The test's script: /mxvm/job.sh once the system is up, then power off.
	# Type=exec: its start job ends at once, so the script may wait for the
	# system to settle (systemctl is-system-running --wait) without waiting
	# for itself.
	cat >"$r/etc/systemd/system/mxvm-job.service" <<'UNIT'
[Unit]
Description=tests/vm: run /mxvm/job.sh, then power off
After=multi-user.target
ConditionPathExists=/mxvm/job.sh

[Service]
Type=exec
ExecStart=/bin/sh -c '/bin/bash /mxvm/job.sh >/mxvm/job.log 2>&1; echo $? >/mxvm/job.rc; sync; systemctl poweroff --no-block'
UNIT
	# Units of no use here that cost seconds of an emulated CPU at each boot.
	for u in e2scrub_reap.service e2scrub_all.timer getty-static.service getty@tty1.service \
		serial-getty@ttyS0.service apt-daily.timer apt-daily-upgrade.timer fstrim.timer; do
		ln -sf /dev/null "$r/etc/systemd/system/$u"
	done
	mkdir -p "$r/etc/systemd/system/multi-user.target.wants"
	ln -s ../mxvm-job.service "$r/etc/systemd/system/multi-user.target.wants/mxvm-job.service"
	# The package cache is of no use in the guest (it has no network).
	rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/*_Packages
	printf '%s' "$list" >"$tmp/packages"
	touch "$tmp/ready"
	rm -rf "$dir"
	mv "$tmp" "$dir" || return 1
	# Roots of other package versions are of no more use.
	find "$VM_CACHE" -maxdepth 1 -name 'debian-bookworm-*' ! -path "$dir" -exec rm -rf {} +
}
