#!/usr/bin/env bash
# Every golden case again under valgrind memcheck: the same output and exit
# status, and no memory error or leak (valgrind's own exit status 99 would
# show as a differing exit status).
set -u
here=$(cd "$(dirname "$0")" && pwd)
command -v valgrind >/dev/null || { echo "valgrind is not installed"; exit 77; }
real=${MXFENCE:-$here/../../mxfence}
wrap=$(mktemp /tmp/mxfence-vg.XXXXXX)
trap 'rm -f "$wrap"' EXIT
cat >"$wrap" <<WRAP
#!/bin/sh
exec valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible \
	--errors-for-leak-kinds=definite,indirect,possible --error-exitcode=99 "$real" "\$@"
WRAP
chmod +x "$wrap"
MXFENCE=$wrap "$here/golden.sh" "$@" | sed 's/^\(PASS\|FAIL\): /\1: valgrind /'
