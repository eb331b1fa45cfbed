#!/usr/bin/env bash
# The whole suite again on the ASan + UBSan build (make sanitize-build: build-san/,
# mxfence-san): every group but fuzz (the harnesses carry the sanitizers
# already) and valgrind (which cannot run an ASan binary). A sanitizer report
# changes the exit code of the program, or aborts it, and so fails the check
# that ran it; leaks count. Each result is reported here, prefixed "asan+ubsan".
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
san=${SAN_BUILD:-$top/build-san}
bin=${SAN_BIN:-$top/mxfence-san}

# Every unit program (unit, and each tests/unit/NAME_test.c), run by the
# tests/unit/NAME.sh of its name, and the tools. tests/unit/layers.sh runs no
# program: nothing of it to sanitize.
unit_sh=("$san/tests/unit.sh")
for t in "$top"/tests/unit/*_test.c; do
	n=${t##*/}
	unit_sh+=("$san/tests/${n%_test.c}.sh")
done
for f in "$bin" "$san/nl_drive" "$san/spf_drive" "${unit_sh[@]}"; do
	if [ ! -x "$f" ]; then
		echo "FAIL: asan+ubsan: $f is not built (make sanitize-build)"
		exit 1
	fi
done

results=$(mktemp)
log=$(mktemp)
trap 'rm -f "$results" "$log"' EXIT
(
	cd "$top" || exit 2
	export TESTS_ECHO="$results"
	export MXFENCE="$bin" NL_DRIVE="$san/nl_drive" SPF_DRIVE="$san/spf_drive"
	# data/roundtrip.sh: fewer random policies; each run costs several times more here.
	export RT_COUNT=100
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_stack_use_after_return=1
	export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 LSAN_OPTIONS=report_objects=1
	rel=${san#"$top"/}
	tests/run "${unit_sh[@]/#"$san"/$rel}" tests/golden/golden.sh data kernel packets fetch
) >"$log" 2>&1
rc=$?
sed 's/^\(PASS\|FAIL\|SKIP\): /\1: asan+ubsan: /' "$results"
if [ ! -s "$results" ]; then
	echo "FAIL: asan+ubsan: the sanitized run reported nothing (exit $rc)"
	tail -n 20 "$log"
	exit 1
fi
# What failed, with the output the inner run kept of it.
if [ $rc -ne 0 ]; then
	grep -v '^\(PASS\|FAIL\|SKIP\): ' "$log" | tail -n 60
fi
tail -n 1 "$log" | sed 's/^/# asan+ubsan: /'
exit 0
