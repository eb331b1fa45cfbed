#!/usr/bin/env bash
# Golden cases: tests/golden/cases/<name>/ holds
#   cmd            the mxfence arguments, one line (run in the case folder)
#   expected.out   expected standard output
#   expected.err   expected standard error
#   expected.rc    expected exit status
#   absent         optional: files that must NOT exist afterwards (no partial output)
# plus the policy and inputs the command reads. Output files written by the
# command land in the case folder; `out.*` files are removed before each run.
#
#   tests/golden/golden.sh            run every case
#   tests/golden/golden.sh --regen    rewrite expected.* from the current binary
#   tests/golden/golden.sh NAME...    run only these cases
set -u
here=$(cd "$(dirname "$0")" && pwd)
MXFENCE=${MXFENCE:-$here/../../mxfence}
regen=0
[ "${1:-}" = "--regen" ] && { regen=1; shift; }
cases=("$@")
[ ${#cases[@]} -eq 0 ] && cases=($(cd "$here/cases" && ls))

status=0
for c in "${cases[@]}"; do
	dir=$here/cases/$c
	[ -f "$dir/cmd" ] || { echo "FAIL: $c: no cmd file"; status=1; continue; }
	rm -f "$dir"/out.*
	args=$(cat "$dir/cmd")
	tmp=$(mktemp -d)
	(cd "$dir" && eval "\"\$MXFENCE\" $args" >"$tmp/out" 2>"$tmp/err" </dev/null)
	rc=$?
	if [ $regen -eq 1 ]; then
		cp "$tmp/out" "$dir/expected.out"
		cp "$tmp/err" "$dir/expected.err"
		echo $rc >"$dir/expected.rc"
		echo "regenerated: $c (exit $rc)"
	else
		why=""
		[ "$rc" = "$(cat "$dir/expected.rc")" ] || why="exit $rc, expected $(cat "$dir/expected.rc")"
		cmp -s "$tmp/out" "$dir/expected.out" || why="$why${why:+; }stdout differs: $(diff "$dir/expected.out" "$tmp/out" | head -n 6 | tr '\n' '|')"
		cmp -s "$tmp/err" "$dir/expected.err" || why="$why${why:+; }stderr differs: $(diff "$dir/expected.err" "$tmp/err" | head -n 6 | tr '\n' '|')"
		if [ -f "$dir/absent" ]; then
			while IFS= read -r f; do
				[ -n "$f" ] && [ -e "$dir/$f" ] && why="$why${why:+; }$f exists (partial output)"
			done <"$dir/absent"
		fi
		if [ -z "$why" ]; then echo "PASS: $c"; else echo "FAIL: $c: $why"; status=1; fi
	fi
	rm -f "$dir"/out.*
	rm -rf "$tmp"
done
exit $status
