#!/usr/bin/env bash
# The compiled sets, loaded for real: several policies, each in a namespace of its own.
#
#   +---------------------- test host (root namespace, untouched) ----------------------+
#   |                                                                                  |
#   |   +--------------+   +----------------+   +-------------+                        |
#   |   | k-default    |   | k-handmade     |   | k-edges     |   one namespace per    |
#   |   | lo           |   | lo             |   | lo          |   policy, no links,    |
#   |   | table inet   |   | table inet     |   | table inet  |   no traffic at all    |
#   |   |   mxfence    |   |   mailgate     |   |   mxfence   |                        |
#   |   +--------------+   +----------------+   +-------------+                        |
#   +----------------------------------------------------------------------------------+
#
# Per policy: build, nft -c -f, nft -f, `nft -j list table` equals the compiled
# intervals exactly, the chain gives the policy's verdicts, kernel lookups at
# interval edges agree with the model and with `mxfence verify`, a second load
# replaces the table. See tests/lib/kernel.sh.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/report.sh"
. "$here/../lib/netns.sh"
. "$here/../lib/kernel.sh"

kernel_test_init

TOP=${TOP:-$(cd "$here/../.." && pwd)}
if [ -f "$TOP/rules/mxfence.conf" ]; then
	kernel_roundtrip default "$TOP/rules/mxfence.conf" 40
else
	skip "default: policy" "rules/mxfence.conf does not exist"
fi
kernel_roundtrip handmade "$here/policies/handmade/mxfence.conf" 40
kernel_roundtrip edges "$here/policies/edges/mxfence.conf" 40

finish
