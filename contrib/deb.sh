#!/bin/sh
# Builds the Debian package (debian/) and puts it in OUT (default out/):
# mxfence_VERSION_ARCH.deb with its .buildinfo and .changes; then runs lintian,
# which must report no error.
#
# The build runs in a copy of the tree in a temporary folder, so that it leaves
# nothing behind here: the copy holds the files git knows of (tracked, or new
# and not ignored, as they are now), or, outside a git checkout, every file but
# out/ and build/.
#   contrib/deb.sh [OUT]
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-out}
mkdir -p "$out"
out=$(cd "$out" && pwd)

version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
arch=$(dpkg-architecture -q DEB_HOST_ARCH)
work=$(mktemp -d "${TMPDIR:-/tmp}/mxfence-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 1' INT TERM HUP
src=$work/mxfence-${version%-*}
mkdir "$src"

if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	# Files deleted from the work tree but not from the index are left out.
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 -r sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh |
		tar --null -T - -cf -) | tar -xf - -C "$src"
else
	(cd "$top" && tar --exclude=./out --exclude=./build --exclude=./build-san -cf - .) |
		tar -xf - -C "$src"
fi

# No -dbgsym package: out/ holds the one .deb, and the .changes lists what is there.
export DEB_BUILD_OPTIONS="noautodbgsym${DEB_BUILD_OPTIONS:+ $DEB_BUILD_OPTIONS}"
(cd "$src" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1 || {
	tail -n 40 "$work/build.log" >&2
	echo "contrib/deb.sh: dpkg-buildpackage failed; the log's last lines are above" >&2
	exit 1
}

base=mxfence_${version}_$arch
for f in "$base.deb" "$base.buildinfo" "$base.changes"; do
	cp "$work/$f" "$out/$f"
done
echo "$out/$base.deb"

# lintian reads the .changes: the .deb and the .buildinfo.
lintian --fail-on error "$out/$base.changes"
