#!/bin/sh
# make demo: the main job on the default policy in rules/ and data/.
set -eu
mkdir -p out
echo "== mxfence check -c rules/mxfence.conf"
./mxfence check -c rules/mxfence.conf
echo
echo "== mxfence build -c rules/mxfence.conf -o out/mxfence.nft"
./mxfence build -c rules/mxfence.conf -o out/mxfence.nft
grep '^#' out/mxfence.nft
echo "(wrote out/mxfence.nft: $(wc -l <out/mxfence.nft) lines; load it with: nft -f out/mxfence.nft)"
echo
echo "== mxfence explain -c rules/mxfence.conf 40.92.12.34"
./mxfence explain -c rules/mxfence.conf 40.92.12.34
echo
echo "== mxfence verify -c rules/mxfence.conf rules/flows.txt"
./mxfence verify -c rules/mxfence.conf rules/flows.txt

# The kernel side, in a throwaway network namespace: the host's firewall is not touched.
if [ "$(id -u)" -eq 0 ] && command -v nft >/dev/null && unshare -n true 2>/dev/null; then
	state=$(mktemp -d)
	trap 'rm -rf "$state"' EXIT
	echo
	echo "== in a throwaway network namespace: nft -c -f, apply, verify --exhaustive, status"
	unshare -n sh -c "
		nft -c -f out/mxfence.nft && echo 'nft -c -f out/mxfence.nft: valid' &&
		./mxfence --state-dir '$state' apply -c rules/mxfence.conf &&
		./mxfence --state-dir '$state' verify --exhaustive -c rules/mxfence.conf &&
		./mxfence --state-dir '$state' status -c rules/mxfence.conf"
else
	echo
	echo "(not root, or no nft/unshare: the kernel part of the demo is skipped)"
fi
