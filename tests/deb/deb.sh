#!/usr/bin/env bash
# The Debian package: `make deb DEB_OUT=<temp>` from this tree (about 20 s of
# CPU, lintian included; 20 to 70 s on a busy 2-core machine), then the .deb
# as dpkg-deb shows it: the files, the conffiles, the units and which of them
# the maintainer scripts enable or start; the installed policy passing
# `mxfence check` where it is installed; postrm with stand-ins for nft; and the
# maintainer scripts run in a mount namespace over copies of /etc, /var/lib,
# /var/cache and the unit folder (the user, the folders, the enabled units,
# remove, purge). Nothing is installed on this machine: a real install and
# boot is for the VM tests.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/report.sh"

TOP=${TOP:-$(cd "$here/../.." && pwd)}
need_cmd make dpkg-buildpackage dh lintian dpkg-deb dpkg-parsechangelog git sed awk grep
work=$(mktemp -d /tmp/mxfdeb.XXXXXX) || exit 1
trap 'rm -rf "$work"' EXIT

# What git sees in the tree, out/ and build/ left out; the same after the build.
tree_state() {
	git -C "$TOP" status --porcelain --ignored --untracked-files=all 2>/dev/null |
		grep -vE '^.. "?(out|build)/' | sort
}
in_git=no
git -C "$TOP" rev-parse --is-inside-work-tree >/dev/null 2>&1 && in_git=yes
[ $in_git = yes ] && tree_state >"$work/before"

# --- the build ---
out=$work/out
start=$(date +%s)
if make -C "$TOP" --no-print-directory deb DEB_OUT="$out" >"$work/build.log" 2>&1; then
	pass "make deb DEB_OUT=... ($(($(date +%s) - start)) s)"
else
	fail "make deb DEB_OUT=..." "$(tail -n 15 "$work/build.log")"
	finish
fi

if [ $in_git = yes ]; then
	tree_state >"$work/after"
	if cmp -s "$work/before" "$work/after"; then
		pass "make deb leaves the tree as it was (git status, ignored files too)"
	else
		fail "make deb leaves the tree as it was" "$(diff "$work/before" "$work/after" | head -n 5)"
	fi
else
	skip "make deb leaves the tree as it was" "$TOP is not a git checkout"
fi

version=$(dpkg-parsechangelog -l "$TOP/debian/changelog" -S Version)
arch=$(dpkg-architecture -q DEB_HOST_ARCH)
base=mxfence_${version}_$arch
deb=$out/$base.deb
expect_eq "out/ holds the .deb, .buildinfo and .changes, nothing else" \
	"$(cd "$out" && ls | tr '\n' ' ')" "$base.buildinfo $base.changes $base.deb "
[ -s "$deb" ] || finish

# lintian on the .changes (the .deb and the .buildinfo), as contrib/deb.sh runs it.
lintian "$out/$base.changes" >"$work/lintian.log" 2>&1
tags=$(grep -E '^[EWX]: ' "$work/lintian.log")
if grep -q '^E: ' <<<"$tags"; then
	fail "lintian: no error" "$(grep '^E: ' <<<"$tags" | head -n 5)"
else
	pass "lintian: no error"
fi
if [ -z "$tags" ]; then
	pass "lintian: no warning (the overridden ones have their reasons in debian/)"
else
	fail "lintian: no warning" "$(head -n 5 <<<"$tags")"
fi
# lintian must be able to object here, or the passes above say nothing.
mkdir -p "$work/bad/DEBIAN"
dpkg-deb -e "$deb" "$work/bad/DEBIAN"
dpkg-deb -x "$deb" "$work/bad"
rm "$work/bad/usr/share/doc/mxfence/copyright"
dpkg-deb -b "$work/bad" "$work/bad.deb" >/dev/null 2>&1
if lintian "$work/bad.deb" 2>/dev/null | grep -q '^E: mxfence: no-copyright-file'; then
	pass "lintian reports an error in a broken copy of the package (no copyright file)"
else
	fail "lintian reports an error in a broken copy of the package" "it did not"
fi

# --- control ---
field() { dpkg-deb -f "$deb" "$1"; }
expect_eq "Package" "$(field Package)" mxfence
expect_eq "Version from debian/changelog" "$(field Version)" "$version"
expect_eq "Maintainer" "$(field Maintainer)" "mxfence maintainers <mxfence@example.org>"
depends=$(field Depends)
absent=""
for d in adduser libcurl4 libnftnl11 libmnl0 libcidr0 libjansson4 libinih1 libldns3 libssl3; do
	grep -qE "(^|, )$d( |,|$)" <<<"$depends" || absent="$absent $d"
done
if [ -z "$absent" ]; then pass "Depends: adduser, libcurl4 (dlopen), the linked libraries"; else fail "Depends" "missing:$absent in '$depends'"; fi

# --- files ---
dpkg-deb -c "$deb" | awk '{ print $1, $6 }' >"$work/list"
has_file() { grep -qxF -- "$1 ./$2" "$work/list"; }
absent=""
for f in "-rwxr-xr-x usr/sbin/mxfence" "-rw-r--r-- usr/share/man/man8/mxfence.8.gz" \
	"-rw-r--r-- usr/share/man/man5/mxfence.conf.5.gz" "-rw-r--r-- etc/mxfence/mxfence.conf" \
	"-rw-r--r-- etc/mxfence/relays.txt" "-rw-r--r-- usr/share/doc/mxfence/copyright" \
	"-rw-r--r-- usr/share/doc/mxfence/README.Debian"; do
	has_file "${f%% *}" "${f#* }" || absent="$absent ${f#* }"
done
for j in "$TOP"/data/*.json; do
	has_file -rw-r--r-- "usr/share/mxfence/${j##*/}" || absent="$absent usr/share/mxfence/${j##*/}"
done
if [ -z "$absent" ]; then pass "binary, man pages, policy, relays, feed snapshot, docs, with their modes"; else fail "files" "missing:$absent"; fi

expect_eq "conffiles: the policy and the relay list" \
	"$(dpkg-deb -I "$deb" conffiles | tr '\n' ' ')" "/etc/mxfence/mxfence.conf /etc/mxfence/relays.txt "

units=$(cd "$TOP/contrib/systemd" && ls -- *.service *.timer *.socket *.path *.target 2>/dev/null)
absent=""
for u in $units; do has_file -rw-r--r-- "lib/systemd/system/$u" || absent="$absent $u"; done
if [ -z "$absent" ] && [ -n "$units" ]; then
	pass "every unit of contrib/systemd in /lib/systemd/system: $(echo $units)"
else
	fail "every unit of contrib/systemd in /lib/systemd/system" "missing:$absent"
fi
if grep -qE ' \./usr/lib/systemd' "$work/list"; then
	fail "no unit under /usr/lib/systemd (bookworm: /lib)" "$(grep ' ./usr/lib/systemd' "$work/list" | head -n 3)"
else
	pass "no unit under /usr/lib/systemd (bookworm: /lib)"
fi
inside='etc/mxfence|lib/systemd/system|usr/sbin|usr/share/(man|doc/mxfence|mxfence|lintian/overrides)'
parents='etc|lib|lib/systemd|usr|usr/share|usr/share/doc|usr/share/lintian'
stray=$(awk '{ print $2 }' "$work/list" | grep -vE "^\./$|^\./($inside)(/|$)|^\./($parents)/$")
if [ -z "$stray" ]; then pass "no file outside the expected folders"; else fail "no file outside the expected folders" "$stray"; fi

# --- the unpacked package ---
root=$work/root
dpkg-deb -x "$deb" "$root"
dpkg-deb -e "$deb" "$work/ctl"
bin=$root/usr/sbin/mxfence
expect_eq "mxfence --version is the package's upstream version" \
	"$("$bin" --version 2>&1)" "mxfence ${version%-*}"

udir=$root/lib/systemd/system
if grep -l '@[A-Z]*@' "$udir"/* >"$work/left" 2>/dev/null; then
	fail "no @VARIABLE@ left in the units" "$(cat "$work/left")"
else
	pass "no @VARIABLE@ left in the units"
fi
bad=""
for f in "$udir"/*.service; do
	grep -q '^ExecStart=' "$f" || continue
	grep '^Exec[A-Za-z]*=' "$f" | grep -vqE '^Exec[A-Za-z]*=[-+!@:]*/usr/sbin/mxfence( |$)' && bad="$bad ${f##*/}"
done
if [ -z "$bad" ]; then pass "ExecStart= runs /usr/sbin/mxfence"; else fail "ExecStart= runs /usr/sbin/mxfence" "$bad"; fi
# systemd sets StateDirectoryMode= (default 0755) on every start: a unit that
# leaves it out undoes the package's 0750.
bad=""
for f in "$udir"/*; do
	grep -q '^StateDirectory=' "$f" || continue
	grep -qx 'StateDirectoryMode=0750' "$f" || bad="$bad ${f##*/}"
done
name="units with StateDirectory= keep /var/lib/mxfence at 0750"
if [ -z "$bad" ]; then pass "$name"; else fail "$name" "no StateDirectoryMode=0750 in:$bad"; fi

# The policy as installed: its feed path is /usr/share/mxfence, which exists
# only inside the package here; a mount namespace puts the package's
# /usr/share there for the packaged binary.
conf=$root/etc/mxfence/mxfence.conf
if grep -q '\.\./data/' "$conf"; then
	fail "installed policy: no ../data/ path" "$(grep -n '\.\./data/' "$conf")"
else
	pass "installed policy: no ../data/ path"
fi
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null 2>&1; then
	out_check=$(unshare -m sh -c 'mount --bind "$1/usr/share" /usr/share &&
		exec "$1/usr/sbin/mxfence" check -c "$1/etc/mxfence/mxfence.conf"' sh "$root" 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && grep -q 'configuration OK' <<<"$out_check"; then
		pass "installed policy passes mxfence check with /usr/share/mxfence in place"
	else
		fail "installed policy passes mxfence check" "exit $rc: $out_check"
	fi
	if [ -e /usr/share/mxfence ]; then
		skip "installed policy needs /usr/share/mxfence" "this host has a /usr/share/mxfence"
	elif "$bin" check -c "$conf" >"$work/nocheck" 2>&1; then
		fail "installed policy needs /usr/share/mxfence" "check passed without it"
	elif grep -q '/usr/share/mxfence/microsoft365' "$work/nocheck"; then
		pass "installed policy needs /usr/share/mxfence (check fails without it, naming the file)"
	else
		fail "installed policy needs /usr/share/mxfence" "$(head -n 3 "$work/nocheck")"
	fi
else
	skip "installed policy passes mxfence check" "needs root for a mount namespace"
fi
if cmp -s "$TOP/rules/relays.txt" "$root/etc/mxfence/relays.txt"; then
	pass "relays.txt as in rules/"
else
	fail "relays.txt as in rules/" "differs"
fi

# --- maintainer scripts ---
postinst=$work/ctl/postinst prerm=$work/ctl/prerm postrm=$work/ctl/postrm
for s in postinst prerm postrm; do
	if sh -n "$work/ctl/$s" 2>"$work/syntax"; then
		pass "$s: sh -n"
	else
		fail "$s: sh -n" "$(cat "$work/syntax")"
	fi
done
# dh_installsystemd's snippets: an enabled unit is enabled when it was-enabled,
# which is true on a first install; the others only when the administrator had
# enabled them (debian-installed ... was-enabled).
boot=mxfence-restore.service
for u in $units; do
	grep -q '^\[Install\]' "$TOP/contrib/systemd/$u" || continue
	if grep -qF "deb-systemd-helper debian-installed '$u'" "$postinst"; then
		enabled=no
	elif grep -qF "deb-systemd-helper enable '$u'" "$postinst"; then
		enabled=yes
	else
		fail "$u: enable snippet" "postinst has none"
		continue
	fi
	if [ "$u" = "$boot" ]; then
		expect_eq "$u: enabled on install" "$enabled" yes
	else
		expect_eq "$u: not enabled on install" "$enabled" no
	fi
done
grep -qx "$boot" <<<"$units" ||
	skip "$boot: enabled on install" "contrib/systemd has no $boot yet"
if grep -qE "deb-systemd-invoke (start|restart) " "$postinst"; then
	fail "postinst starts no unit" "$(grep -E 'deb-systemd-invoke (start|restart) ' "$postinst")"
else
	pass "postinst starts no unit (only try-restart of a running timer on upgrade)"
fi
if grep -q "deb-systemd-invoke try-restart 'mxfence-refresh.timer'" "$postinst"; then
	pass "postinst re-arms a running refresh timer on upgrade"
else
	fail "postinst re-arms a running refresh timer on upgrade" "no try-restart of it"
fi
if grep -qE '^[^#]*deb-systemd-invoke stop mxfence-refresh.timer mxfence-refresh.service' "$prerm" &&
	! grep -qF "$boot" "$prerm"; then
	pass "prerm stops the refresh timer and service on remove, not the boot unit"
else
	fail "prerm stops the refresh timer and service on remove, not the boot unit" "$(grep -n 'deb-systemd' "$prerm")"
fi
# Every nft the scripts run (not the ones their messages show) only lists.
calls=$(cat "$postinst" "$prerm" "$postrm" | grep -v '^[[:space:]]*#' |
	grep -oE '(^|[;&|(!]|then|do)[[:space:]]*nft [a-z]+' | sed 's/.*nft /nft /' | sort -u)
expect_eq "the maintainer scripts never delete or flush the table: nft only lists" "$calls" "nft list"
if grep -q 'adduser --system .*_mxfence' "$postinst"; then
	pass "postinst creates the system user _mxfence"
else
	fail "postinst creates the system user _mxfence" "no adduser --system ... _mxfence"
fi
if grep -q 'install -d -m 0750 -o root -g root /var/lib/mxfence' "$postinst"; then
	pass "postinst makes /var/lib/mxfence root's, 0750"
else
	fail "postinst makes /var/lib/mxfence root's, 0750" "not found"
fi

# postrm, run on copies of its paths: purge deletes the state and the cache,
# remove keeps them, neither deletes the table. nft and deb-systemd-helper
# here are recorders, so the host's systemd state is not touched.
fake=$work/fake
mkdir -p "$fake/bin" "$fake/var/lib/mxfence" "$fake/var/cache/mxfence" "$fake/etc/mxfence"
for c in nft deb-systemd-helper systemctl deb-systemd-invoke; do
	printf '#!/bin/sh\necho "%s $*" >>"%s/%s.log"\nexit 0\n' "$c" "$fake" "$c" >"$fake/bin/$c"
	chmod +x "$fake/bin/$c"
done
touch "$fake/var/lib/mxfence/gate.state" "$fake/var/cache/mxfence/aws.feed"
sed "s|/var/lib/mxfence|$fake/var/lib/mxfence|g; s|/var/cache/mxfence|$fake/var/cache/mxfence|g;
	s|/etc/mxfence|$fake/etc/mxfence|g; s|/usr/bin/deb-systemd-helper|$fake/bin/deb-systemd-helper|g" \
	"$postrm" >"$fake/postrm"
if sed "s|$fake|@FAKE@|g" "$fake/postrm" | grep -E '^[^#]*(^|[^@A-Z])/(var/|etc/mxfence|usr/bin/)' >"$work/paths"; then
	fail "postrm copy: every path redirected" "$(head -n 3 "$work/paths")"
	finish
fi
PATH=$fake/bin:$PATH sh "$fake/postrm" remove >"$fake/remove.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ -e "$fake/var/lib/mxfence/gate.state" ] && [ -e "$fake/var/cache/mxfence/aws.feed" ] &&
	grep -qF "nft delete table inet gate" "$fake/remove.out"; then
	pass "postrm remove: keeps state and cache, names the live table and how to delete it"
else
	fail "postrm remove" "exit $rc: $(cat "$fake/remove.out")"
fi
PATH=$fake/bin:$PATH sh "$fake/postrm" purge >"$fake/purge.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ ! -e "$fake/var/lib/mxfence" ] && [ ! -e "$fake/var/cache/mxfence" ] &&
	grep -qF "'inet gate' is still loaded" "$fake/purge.out"; then
	pass "postrm purge: deletes state and cache, says the table is still loaded"
else
	fail "postrm purge" "exit $rc: $(cat "$fake/purge.out")"
fi
if grep -qvE '^nft list table inet gate$' "$fake/nft.log"; then
	fail "postrm only asks nft whether the table is there" "$(grep -vE '^nft list table inet gate$' "$fake/nft.log")"
else
	pass "postrm only asks nft whether the table is there"
fi
if grep -qx "deb-systemd-helper purge mxfence-refresh.timer" "$fake/deb-systemd-helper.log"; then
	pass "postrm purge: the units' enablement state purged"
else
	fail "postrm purge: the units' enablement state purged" "$(cat "$fake/deb-systemd-helper.log" 2>&1)"
fi
# With the table not loaded, remove says nothing of it.
printf '#!/bin/sh\nexit 1\n' >"$fake/bin/nft"
mkdir -p "$fake/var/lib/mxfence" && touch "$fake/var/lib/mxfence/gate.state"
PATH=$fake/bin:$PATH sh "$fake/postrm" remove >"$fake/remove2.out" 2>&1
expect_eq "postrm remove, table not loaded: exit 0, no message" "$?:$(cat "$fake/remove2.out")" "0:"

# The maintainer scripts for real, in a mount namespace over copies of /etc,
# /var/lib, /var/cache and the unit folder: configure (twice, as an upgrade
# does), prerm and postrm remove, postrm purge. The host's files are not
# touched: the script stops unless every mount is in place.
if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null 2>&1; then
	skip "maintainer scripts in a mount namespace" "needs root and unshare"
	finish
fi
sbx=$work/sbx
mkdir -p "$sbx/var-lib" "$sbx/var-cache" "$sbx/bin"
cp -a /etc "$sbx/etc"
cp -a /usr/lib/systemd/system "$sbx/units"
cp "$udir"/* "$sbx/units/"
printf '#!/bin/sh\nexit 1\n' >"$sbx/bin/nft"
chmod +x "$sbx/bin/nft"
cat >"$sbx/run.sh" <<'SBX'
set -eu
S=$1 C=$2
mount --bind "$S/etc" /etc
mount --bind "$S/var-lib" /var/lib
mount --bind "$S/var-cache" /var/cache
mount --bind "$S/units" /usr/lib/systemd/system
for m in /etc /var/lib /var/cache /usr/lib/systemd/system; do mountpoint -q "$m"; done
export PATH="$S/bin:$PATH" DPKG_MAINTSCRIPT_PACKAGE=mxfence
step() {
	name=$1
	shift
	echo "== $name $*"
	DPKG_MAINTSCRIPT_NAME=$name sh -e "$C/$name" "$@"
}
wants() { find /etc/systemd/system -name "$1" -path '*.wants/*' | sed 's|.*/\(.*\.wants\)/|\1/|'; }
step postinst configure ""
echo "user: $(getent passwd _mxfence | cut -d: -f1,6,7)"
echo "group: $(getent group _mxfence | cut -d: -f1)"
echo "state: $(stat -c '%U:%G %a' /var/lib/mxfence)"
echo "cache: $(stat -c '%U:%G %a' /var/cache/mxfence)"
echo "wants: $(wants 'mxfence*' | sort | tr '\n' ' ')"
step postinst configure 0.1-1
echo "user again: $(getent passwd _mxfence | wc -l)"
touch /var/lib/mxfence/mxfence.state /var/cache/mxfence/m365.feed
step prerm remove
step postrm remove
echo "after remove: $(ls /var/lib/mxfence/mxfence.state /var/cache/mxfence/m365.feed | tr '\n' ' ')"
step postrm purge
echo "after purge: $(ls -d /var/lib/mxfence /var/cache/mxfence 2>/dev/null | wc -l) folders," \
	"user $(getent passwd _mxfence | cut -d: -f1), wants: $(wants 'mxfence*' | wc -l)"
SBX
host_before=$(ls -d /var/lib/mxfence /var/cache/mxfence 2>/dev/null; getent passwd _mxfence)
unshare -m sh "$sbx/run.sh" "$sbx" "$work/ctl" >"$sbx/out" 2>&1
rc=$?
host_after=$(ls -d /var/lib/mxfence /var/cache/mxfence 2>/dev/null; getent passwd _mxfence)
if [ $rc -ne 0 ]; then
	fail "maintainer scripts in a mount namespace" "exit $rc: $(tail -n 5 "$sbx/out")"
	finish
fi
line() { sed -n "s/^$1: //p" "$sbx/out"; }
expect_eq "postinst: system user _mxfence, no home, no login" "$(line user)" "_mxfence:/nonexistent:/usr/sbin/nologin"
expect_eq "postinst: group _mxfence" "$(line group)" "_mxfence"
expect_eq "postinst: /var/lib/mxfence root:root 0750" "$(line state)" "root:root 750"
expect_eq "postinst: /var/cache/mxfence root:root 0755" "$(line cache)" "root:root 755"
want=""
for u in $units; do
	[ "$u" = "$boot" ] || continue
	w=$(sed -n 's/^WantedBy=//p' "$TOP/contrib/systemd/$u" | head -n 1)
	want="$w.wants/$u "
done
expect_eq "postinst: enabled units (the boot unit only, if present)" "$(line wants)" "$want"
expect_eq "postinst again: still one _mxfence" "$(line 'user again')" 1
expect_eq "remove keeps state and cache" "$(line 'after remove')" \
	"/var/cache/mxfence/m365.feed /var/lib/mxfence/mxfence.state "
expect_eq "purge: state and cache gone, user kept, no unit enabled" "$(line 'after purge')" \
	"0 folders, user _mxfence, wants: 0"
expect_eq "the host is untouched (its folders and users)" "$host_after" "$host_before"

finish
