#!/usr/bin/env bash
# The JSON model's round trip, over random policies (tests/lib/randpolicy.py:
# seeded, both families, prefixes crowding 0.0.0.0, 255.255.255.255, ::,
# ffff:...:ffff, ::/96 and ::ffff:0:0/96). For each policy:
#   build --json                  exits 0; its sets are the merge the generator
#                                 computed on its own, in RFC 5952 text, and
#                                 each interval's cidrs are its minimal cover;
#   diff --against that model     exits 0 and reports no change;
#   diff --against it, json, from the same services with empty sources
#                                 removes every CIDR the model holds, exactly
#                                 those: the model read back is the model written.
# RT_SEED and RT_COUNT (default 20261205, 300) choose other policies.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/report.sh"

need_cmd python3
need_mxfence
seed=${RT_SEED:-20261205}
count=${RT_COUNT:-300}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if ! python3 "$here/../lib/randpolicy.py" gen "$tmp" "$count" "$seed" 2>"$tmp/gen.err"; then
	fail "random policies: generated" "$(cat "$tmp/gen.err")"
	finish
fi

bad_build=0 bad_same=0 bad_read=0 first=""
for d in "$tmp"/[0-9]*; do
	c=${d##*/}
	if ! "$MXFENCE" build -c "$d/policy.conf" --json -o "$d/model.json" 2>"$d/build.err"; then
		bad_build=$((bad_build + 1))
		first=${first:-"$c: build --json: $(head -c 300 "$d/build.err")"}
		continue
	fi
	"$MXFENCE" diff -c "$d/policy.conf" --against "$d/model.json" >"$d/same.out" 2>"$d/same.err"
	rc=$?
	if [ $rc -ne 0 ] || grep -v -e ': no change$' -e '^total: 0 prefixes added, 0 removed;' \
		"$d/same.out" | grep -q .; then
		bad_same=$((bad_same + 1))
		first=${first:-"$c: diff --against its own model: exit $rc: $(head -c 300 "$d/same.err" "$d/same.out")"}
	fi
	"$MXFENCE" diff -c "$d/empty.conf" --against "$d/model.json" --json >"$d/removed.json" \
		2>"$d/removed.err"
	rc=$?
	if [ $rc -gt 1 ]; then
		bad_read=$((bad_read + 1))
		first=${first:-"$c: diff from empty sources: exit $rc: $(head -c 300 "$d/removed.err")"}
		rm -f "$d/removed.json"
	fi
done

if [ $bad_build -eq 0 ]; then
	pass "model round trip: $count random policies (seed $seed) build --json"
else
	fail "model round trip: $count random policies (seed $seed) build --json" \
		"$bad_build failed; first: $first"
fi
if [ $bad_same -eq 0 ] && [ $bad_build -eq 0 ]; then
	pass "model round trip: diff --against its own model exits 0, no change, $count policies"
else
	fail "model round trip: diff --against its own model exits 0, no change" \
		"$bad_same differ; first: $first"
fi
if [ $bad_read -eq 0 ]; then
	pass "model round trip: every model reads back ($count policies)"
else
	fail "model round trip: every model reads back" "$bad_read refused; first: $first"
fi
# Per policy that was built: its sets, text and cidrs, and what diff read back.
if out=$(python3 "$here/../lib/randpolicy.py" check "$tmp" 2>&1) &&
	[ "$(printf '%s\n' "$out" | tail -n 1)" = "checked $count" ]; then
	pass "model round trip: $count models hold the policies' sets in RFC 5952 text and read back CIDR for CIDR"
else
	n=$(printf '%s\n' "$out" | grep -c '^FAIL: ')
	fail "model round trip: models hold the policies' sets and read back CIDR for CIDR" \
		"$n of $count: $(printf '%s\n' "$out" | head -n 3)"
fi

# The edges are there: the sample is not vacuous.
ends() {
	cat "$tmp"/[0-9]*/model.json 2>/dev/null | grep -c -E "\"(first|last)\": \"($1)\""
}
edges=$(ends '0\.0\.0\.0|255\.255\.255\.255|::|ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')
compat=$(ends '::[0-9a-f]{1,4}(:[0-9a-f]{1,4})?')
mapped=$(ends '::ffff:[0-9a-f]{1,4}:[0-9a-f]{1,4}')
if [ "$edges" -ge "$count" ] && [ "$compat" -ge $((count / 10)) ] &&
	[ "$mapped" -ge $((count / 10)) ]; then
	pass "model round trip: interval ends at the edges ($edges), in ::/96 ($compat), in ::ffff:0:0/96 ($mapped)"
else
	fail "model round trip: interval ends at the edges, in ::/96, in ::ffff:0:0/96" \
		"only $edges, $compat, $mapped"
fi

finish
