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
