#!/usr/bin/env bash
# Installs the Debian packages the tests need, only those missing.
#   tests/deps.sh                 test tools
#   tests/deps.sh build           what building mxfence needs
#   tests/deps.sh build test      both (also: --build)
#   tests/deps.sh --list [...]    print the package names and exit
# Idempotent: with everything present it changes nothing and makes no network call.
set -eu

test_pkgs=(
	nftables                # nft: load, check and list rulesets
	iproute2                # ip netns, veth, ss
	swaks                   # SMTP client of the packet tests
	libio-socket-inet6-perl # swaks over IPv6
	postfix                 # smtp-sink, the SMTP server of the packet tests
	jq
	python3                 # tests/lib/nftsets.py
	iprange
	time
	valgrind
	procps
)
build_pkgs=(
	gcc
	make
	libc6-dev
	pkgconf
	libnftnl-dev
	libmnl-dev
	libjansson-dev
	libinih-dev
	libcidr-dev
)

want_test=0 want_build=0 list=0
[ $# -eq 0 ] && want_test=1
for a in "$@"; do
	case $a in
	test) want_test=1 ;;
	build) want_build=1 ;;
	--build) want_test=1 want_build=1 ;;
	--list) list=1 ;;
	*)
		echo "usage: tests/deps.sh [test] [build] [--build] [--list]" >&2
		exit 2
		;;
	esac
done
[ $list -eq 1 ] && [ $want_test -eq 0 ] && [ $want_build -eq 0 ] && want_test=1
pkgs=()
[ $want_test -eq 1 ] && pkgs+=("${test_pkgs[@]}")
[ $want_build -eq 1 ] && pkgs+=("${build_pkgs[@]}")
if [ $list -eq 1 ]; then
	printf '%s\n' "${pkgs[@]}"
	exit 0
fi

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#pkgs[@]} packages present"
	exit 0
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || {
		echo "deps: missing ${missing[*]}; run as root to install them" >&2
		exit 1
	}
	sudo=(sudo)
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# postfix is wanted only for smtp-sink: no mail system is configured or started.
echo "postfix postfix/main_mailer_type select No configuration" | "${sudo[@]}" debconf-set-selections
"${sudo[@]}" apt-get -q -o DPkg::Lock::Timeout=300 update
"${sudo[@]}" apt-get -q -y -o DPkg::Lock::Timeout=300 install --no-install-recommends "${missing[@]}"
