#!/bin/sh
# Install the Debian 12 packages mxfence needs, only those missing.
#   contrib/deps.sh build         to build and run
#   contrib/deps.sh build test    also to run the tests and the benchmark
#   contrib/deps.sh build deb     also to build the Debian package (make deb)
set -eu

build_pkgs="gcc make pkg-config libc6-dev libnftnl-dev libmnl-dev libcidr-dev libjansson-dev
	libinih-dev libcurl4-openssl-dev libldns-dev libssl-dev nftables"
test_pkgs="iproute2 iptables jq python3 swaks libio-socket-inet6-perl postfix iprange time valgrind procps util-linux
	clang libclang-rt-14-dev nginx-light dnsmasq-base ldnsutils curl openssl ca-certificates systemd man-db
	prometheus chromium qemu-system-x86 busybox-static kmod cpio xz-utils debootstrap e2fsprogs"
# dpkg-buildpackage (which wants build-essential), debhelper (compat 13), lintian; git lists the tree's files for the copy
# that is built. The build dependencies themselves are build_pkgs (debian/control).
deb_pkgs="build-essential dpkg-dev debhelper lintian git"

want=""
for set in "$@"; do
	case $set in
	build) want="$want $build_pkgs" ;;
	test) want="$want $test_pkgs" ;;
	deb) want="$want $deb_pkgs" ;;
	*) echo "contrib/deps.sh: unknown package set '$set' (build, test, deb)" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "mxfence: missing Debian packages:$missing" >&2
	echo "mxfence: run as root, or: sudo apt-get install$missing" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# Postfix is only wanted for its smtp-sink test server: no mail system configured.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
