#!/usr/bin/env bash
# The fuzz harnesses (build/fuzz/, `make fuzz-build`) once over their seed
# corpus and the saved crash reproducers, without mutation: one result per
# harness. Builds nothing.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
build=${FUZZ_BUILD:-build/fuzz}
case $build in /*) ;; *) build=$top/$build ;; esac
harnesses=(list postfix-cidr m365 aws google azure policy flows state modelfile addr cachemeta spf dns nldump saved plan dnat)

for h in "${harnesses[@]}"; do
	if [ ! -x "$build/$h" ]; then
		echo "SKIP: fuzz: harnesses not built (make fuzz-build)"
		exit 0
	fi
done

log=$(mktemp /tmp/mxfence-fuzz-regress.XXXXXX)
# The harnesses' scratch directories, also those a crash leaves behind.
export TMPDIR
TMPDIR=$(mktemp -d "$( [ -w /dev/shm ] && echo /dev/shm || echo /tmp)/mxfence-fuzz-regress.XXXXXX")
trap 'rm -rf "$log" "$TMPDIR"' EXIT
status=0
for h in "${harnesses[@]}"; do
	inputs=()
	for f in "$here/corpus/$h"/* "$here/crashes/$h"/*; do
		[ -f "$f" ] && inputs+=("$f")
	done
	if [ ${#inputs[@]} -eq 0 ]; then
		echo "FAIL: fuzz $h: no inputs in tests/fuzz/corpus/$h"
		status=1
		continue
	fi
	if "$build/$h" "${inputs[@]}" >"$log" 2>&1; then
		echo "PASS: fuzz $h (${#inputs[@]} inputs)"
	else
		input=$(sed -n 's/^Running: //p' "$log" | tail -n 1)
		why=$(grep -m 1 -E 'runtime error|ERROR: |==fuzz== .*invariant|deadly signal|out-of-memory' "$log")
		echo "FAIL: fuzz $h: ${input#"$top"/}: ${why:-exit status not 0}"
		status=1
	fi
done
exit $status
