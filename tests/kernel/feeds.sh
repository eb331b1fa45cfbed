#!/usr/bin/env bash
# Large policies from real published feeds ($SHARED/data/providers, $SHARED/data/blocklists),
# loaded for real, each in a namespace of its own.
#
#   +---------------------- test host (root namespace, untouched) ----------------------+
#   |   +---------------------------+   +--------------------------------+               |
#   |   | k-providers               |   | k-bulk                         |  no links,    |
#   |   | lo                        |   | lo                             |  no traffic   |
#   |   | table inet mxfence        |   | table inet mxbulk              |               |
#   |   |  smtp: AWS, Google Cloud, |   |  smtp: 150k+ scattered single  |               |
#   |   |   M365, Cloudflare        |   |   addresses and datacenter     |               |
#   |   |  submission: Azure tags   |   |   ranges, IPv4 and IPv6        |               |
#   |   +---------------------------+   +--------------------------------+               |
#   +----------------------------------------------------------------------------------+
#
# Same checks as sets.sh (tests/lib/kernel.sh), at the size of real feeds.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/report.sh"
. "$here/../lib/netns.sh"
. "$here/../lib/kernel.sh"

kernel_test_init

TOP=${TOP:-$(cd "$here/../.." && pwd)}
SHARED=${SHARED:-$(cd "$TOP/.." && pwd)/shared}
P=$SHARED/data/providers
B=$SHARED/data/blocklists

# have_all FILE...: prints the first FILE that is missing, and fails.
have_all() {
	local f
	for f in "$@"; do
		[ -r "$f" ] || { echo "$f"; return 1; }
	done
}

m365=$TOP/data/microsoft365-endpoints-worldwide-2024-07-14.json
if miss=$(have_all "$P/aws-ip-ranges-2026-07-20.json" "$P/google-cloud-2026-04-30.json" "$m365" \
	"$P/cloudflare-ips-v4-2026-05-06.txt" "$P/cloudflare-ips-v6-2026-05-06.txt" \
	"$P/azure-servicetags-public-2025-07-22-crlf.json"); then
	mkdir -p "$NS_TMP/providers.conf.d"
	cat >"$NS_TMP/providers.conf.d/mxfence.conf" <<CONF
[table]
name = mxfence
priority = 0

[service smtp]
ports = tcp/25
sources = aws google m365 cloudflare4 cloudflare6
otherwise = drop

[service submission]
ports = tcp/587 tcp/465
sources = azure
otherwise = reject

[source aws]
format = aws
file = $P/aws-ip-ranges-2026-07-20.json

[source google]
format = google
file = $P/google-cloud-2026-04-30.json

[source m365]
format = m365
file = $m365

[source cloudflare4]
format = list
file = $P/cloudflare-ips-v4-2026-05-06.txt

[source cloudflare6]
format = list
file = $P/cloudflare-ips-v6-2026-05-06.txt

[source azure]
format = azure
file = $P/azure-servicetags-public-2025-07-22-crlf.json
CONF
	kernel_roundtrip providers "$NS_TMP/providers.conf.d/mxfence.conf" 60
else
	skip "providers: policy" "feed $miss is missing"
fi

if miss=$(have_all "$B/blocklist_net_ua-2026-08-22.ipset" "$B/x4bnet-datacenter-ipv4-2026-08-22.txt" \
	"$B/x4bnet-datacenter-ipv6-2026-08-22.txt"); then
	mkdir -p "$NS_TMP/bulk.conf.d"
	cat >"$NS_TMP/bulk.conf.d/mxfence.conf" <<CONF
[table]
name = mxbulk
priority = 10

[service smtp]
ports = tcp/25
sources = singles dc4 dc6
otherwise = reject

[source singles]
format = list
file = $B/blocklist_net_ua-2026-08-22.ipset

[source dc4]
format = list
file = $B/x4bnet-datacenter-ipv4-2026-08-22.txt

[source dc6]
format = list
file = $B/x4bnet-datacenter-ipv6-2026-08-22.txt
CONF
	# Each lookup in a set of 100k intervals costs nft a full dump (~0.3 s): few probes.
	kernel_roundtrip bulk "$NS_TMP/bulk.conf.d/mxfence.conf" 8
else
	skip "bulk: policy" "feed $miss is missing"
fi

finish
