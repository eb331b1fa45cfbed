# shellcheck shell=bash
# Result lines for tests/run: "PASS: name", "FAIL: name: why", "SKIP: name: reason".
# Source it, report with pass/fail/skip/check, and end the script with `finish`.

T_PASS=0
T_FAIL=0
T_SKIP=0

pass() {
	echo "PASS: $1"
	T_PASS=$((T_PASS + 1))
}

# fail NAME WHY...: WHY is folded onto one line (tests/run reads one line per result).
fail() {
	local name=$1
	shift
	echo "FAIL: $name: $(printf '%s' "$*" | tr '\n' '|' | cut -c1-600)"
	T_FAIL=$((T_FAIL + 1))
}

skip() {
	echo "SKIP: $1: $2"
	T_SKIP=$((T_SKIP + 1))
}

# check NAME CMD...: PASS when CMD exits 0, else FAIL with the tail of its output.
check() {
	local name=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		pass "$name"
	else
		fail "$name" "exit $rc: $(printf '%s\n' "$out" | tail -n 5)"
	fi
	return $rc
}

# expect_eq NAME GOT WANT
expect_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "got '$2', want '$3'"; fi
}

# need_root: without root nothing here can run, so every test of the file is skipped.
need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		skip "${0##*/}" "needs root (network namespaces, nft)"
		exit 0
	fi
}

# need_cmd CMD...: a missing tool is a failure: contrib/deps.sh installs them all.
need_cmd() {
	local c missing=()
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || missing+=("$c")
	done
	if [ ${#missing[@]} -gt 0 ]; then
		fail "${0##*/}: tools" "missing ${missing[*]} (run contrib/deps.sh build test)"
		exit 1
	fi
}

# need_mxfence: the binary under test ($MXFENCE, set by tests/run).
need_mxfence() {
	MXFENCE=${MXFENCE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/mxfence}
	if [ ! -x "$MXFENCE" ]; then
		fail "${0##*/}: binary" "$MXFENCE not found or not executable (run make)"
		exit 1
	fi
	export MXFENCE
}

finish() {
	echo "# ${0##*/} done: pass $T_PASS, fail $T_FAIL, skip $T_SKIP"
	[ "$T_FAIL" -eq 0 ]
	exit $?
}
