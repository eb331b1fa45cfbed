# shellcheck shell=bash
# The kernel round trip of one policy, shared by tests/kernel/*.sh.
# Needs report.sh and netns.sh sourced; kernel_test_init does the rest.
#
#   kernel_test_init   what every such test needs first: root, ip, nft, jq,
#                      python3, the binary, a namespace prefix of its own
#
#   kernel_roundtrip LABEL CONF [PROBES]
#
# in a fresh namespace "k-LABEL":
#   build writes a script and a JSON model; the model's intervals are sound
#   nft -c -f accepts the script, and checking loads nothing
#   nft -f loads it; `nft -j list table` holds exactly the model's intervals
#   the listed chain, evaluated per governed port and family, gives the policy's verdicts
#   kernel set lookups at the edges of up to PROBES intervals per set agree with
#   the model, and `mxfence verify` agrees with the kernel on those addresses
#   loading the script a second time replaces the table: same content, one table
# Leaves the namespace loaded; KR_DIR is the scratch folder, KR_TABLE the table.

LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

kernel_test_init() {
	need_root
	need_cmd ip nft jq python3
	need_mxfence
	ns_init
}
NFTSETS="$LIB_DIR/nftsets.py"

# kr_compare LABEL NAME MODEL_IV LIVE_JSON: the kernel's intervals against the model's.
kr_compare() {
	local label=$1 name=$2 model_iv=$3 live=$4 live_iv nv4 nv6 d
	live_iv=${live%.json}.iv
	if ! python3 "$NFTSETS" nft "$live" >"$live_iv" 2>"$live_iv.err"; then
		fail "$label: $name" "cannot read nft -j output: $(tail -n 3 "$live_iv.err")"
		return 1
	fi
	if cmp -s "$model_iv" "$live_iv"; then
		nv4=$(grep -c ' [0-9.]* [0-9.]*$' "$model_iv")
		nv6=$(grep -c ':' "$model_iv")
		pass "$label: $name ($nv4 IPv4 + $nv6 IPv6 intervals)"
		return 0
	fi
	d=$(diff "$model_iv" "$live_iv" | grep '^[<>]' | head -n 6 | sed 's/^</model:/; s/^>/kernel:/')
	fail "$label: $name" "$(diff "$model_iv" "$live_iv" | grep -c '^[<>]') lines differ: $d"
	return 1
}

kernel_roundtrip() {
	local label=$1 conf=$2 probes=${3:-40} ns="k-$1" d t0 n bad lines set a want fl otherwise got out other
	d="$NS_TMP/$label"
	# shellcheck disable=SC2034 # for callers
	KR_DIR=$d
	mkdir -p "$d"

	t0=$SECONDS
	if ! "$MXFENCE" build -c "$conf" -o "$d/rules.nft" >"$d/build.out" 2>"$d/build.err"; then
		fail "$label: build writes an nft script" "$(tail -n 3 "$d/build.err")"
		return 1
	fi
	pass "$label: build writes an nft script ($((SECONDS - t0)) s)"
	if ! "$MXFENCE" build -c "$conf" --json >"$d/model.json" 2>"$d/json.err"; then
		fail "$label: build --json writes the model" "$(tail -n 3 "$d/json.err")"
		return 1
	fi
	KR_TABLE=$(jq -r '.table.name' "$d/model.json")
	if [ "$(jq -r '.table.family' "$d/model.json")" != inet ] || [ -z "$KR_TABLE" ]; then
		fail "$label: model names an inet table" "$(jq -c .table "$d/model.json")"
		return 1
	fi
	if python3 "$NFTSETS" model "$d/model.json" >"$d/model.iv" 2>"$d/model.err"; then
		pass "$label: model intervals are sorted, disjoint, merged and covered exactly by their CIDRs"
	else
		fail "$label: model intervals are sorted, disjoint, merged and covered exactly by their CIDRs" "$(head -n 4 "$d/model.err")"
	fi

	ns_add "$ns" || { fail "$label: namespace" "ip netns add failed"; return 1; }
	check "$label: nft -c -f accepts the script" ns_exec "$ns" nft -c -f "$d/rules.nft"
	n=$(ns_exec "$ns" nft list ruleset | grep -c .)
	expect_eq "$label: nft -c -f loads nothing" "$n" 0

	t0=$SECONDS
	check "$label: nft -f loads the script" ns_exec "$ns" nft -f "$d/rules.nft" || return 1
	echo "# $label: loaded in $((SECONDS - t0)) s"
	if ! ns_exec "$ns" nft -j list table inet "$KR_TABLE" >"$d/live.json" 2>"$d/live.err"; then
		fail "$label: nft -j list table inet $KR_TABLE" "$(cat "$d/live.err")"
		return 1
	fi
	kr_compare "$label" "kernel sets hold exactly the compiled intervals" "$d/model.iv" "$d/live.json"
	ns_exec "$ns" nft list table inet "$KR_TABLE" >"$d/live1.txt"

	if out=$(python3 "$NFTSETS" chain "$d/model.json" "$d/live.json" 2>&1); then
		pass "$label: loaded chain gives the policy's verdict per port and family ($out)"
	else
		fail "$label: loaded chain gives the policy's verdict per port and family" "$out"
	fi

	# Set lookups in the kernel at interval edges. One `nft -i` session answers
	# them all; a missing element is an error that quotes its command.
	python3 "$NFTSETS" probes "$d/model.json" "$probes" >"$d/probes" || {
		fail "$label: edge probes" "nftsets.py probes failed"
		return 1
	}
	awk -v t="$KR_TABLE" '{ print "get element inet " t " " $1 " { " $2 " }" }' "$d/probes" >"$d/probes.nft"
	ns_exec "$ns" nft -i <"$d/probes.nft" >"$d/probes.out" 2>"$d/probes.err"
	sed -n 's/^get element inet [^ ]* \([^ ]*\) { \([^ ]*\) }$/\1 \2/p' "$d/probes.err" | sort -u >"$d/probes.missing"
	bad=()
	other=$(grep '^Error' "$d/probes.err" | grep -v 'No such file or directory' | sort -u | head -n 2)
	[ -n "$other" ] && bad+=("nft: $other")
	lines=0
	: >"$d/edges.flows"
	while read -r set a want fl otherwise dest; do
		lines=$((lines + 1))
		if grep -qxF "$set $a" "$d/probes.missing"; then got=out; else got=in; fi
		[ "$got" = "$want" ] || bad+=("$set $a: kernel $got, model $want")
		if [ "$got" = in ]; then
			echo "accept $a $fl $dest" >>"$d/edges.flows"
		else
			echo "$otherwise $a $fl $dest" >>"$d/edges.flows"
		fi
	done <"$d/probes"
	n=$(grep -c '^table ' "$d/probes.out")
	[ "$n" -eq "$(grep -c ' in ' "$d/probes")" ] || bad+=("nft answered $n lookups, the model has $(grep -c ' in ' "$d/probes") addresses inside")
	if [ ${#bad[@]} -eq 0 ]; then
		pass "$label: kernel lookups at $lines interval-edge addresses agree with the model"
	else
		fail "$label: kernel lookups at $lines interval-edge addresses agree with the model" "${#bad[@]} differ: ${bad[*]:0:4}"
	fi
	if out=$("$MXFENCE" verify -c "$conf" "$d/edges.flows" 2>&1); then
		pass "$label: mxfence verify agrees with the kernel at the $lines edge addresses"
	else
		fail "$label: mxfence verify agrees with the kernel at the $lines edge addresses" "exit $?: $(printf '%s\n' "$out" | tail -n 4)"
	fi

	check "$label: loading the script again succeeds" ns_exec "$ns" nft -f "$d/rules.nft" || return 1
	ns_exec "$ns" nft -j list table inet "$KR_TABLE" >"$d/live2.json"
	kr_compare "$label" "after the second load the sets still hold exactly the compiled intervals" "$d/model.iv" "$d/live2.json"
	ns_exec "$ns" nft list table inet "$KR_TABLE" >"$d/live2.txt"
	if cmp -s "$d/live1.txt" "$d/live2.txt"; then
		pass "$label: after the second load the table reads as after the first"
	else
		fail "$label: after the second load the table reads as after the first" "$(diff "$d/live1.txt" "$d/live2.txt" | grep -c '^[<>]') lines differ: $(diff "$d/live1.txt" "$d/live2.txt" | grep '^[<>]' | head -n 3)"
	fi
	n=$(ns_exec "$ns" nft list tables)
	expect_eq "$label: after the second load one table" "$n" "table inet $KR_TABLE"
	return 0
}
