#!/usr/bin/env bash
# The JSON feed formats on the real provider samples in $SHARED/data/providers.
# Counts and provenance are computed again here with jq, straight from the
# feed files, and compared with what `mxfence build --json` reports.
set -u
here=$(cd "$(dirname "$0")" && pwd)
MXFENCE=${MXFENCE:-$here/../../mxfence}
SHARED=${SHARED:-/work/shared}
P=$SHARED/data/providers
M365=$P/microsoft365-endpoints-worldwide-2024-07-14.json
AWS=$P/aws-ip-ranges-2026-07-20.json
GCLOUD=$P/google-cloud-2026-04-30.json
GOOG=$P/google-goog-2024-04-25.json
AZURE=$P/azure-servicetags-public-2025-07-22-crlf.json

command -v jq >/dev/null || { echo "SKIP: feeds: jq is not installed"; exit 0; }
for f in "$M365" "$AWS" "$GCLOUD" "$GOOG" "$AZURE"; do
	[ -r "$f" ] || { echo "SKIP: feeds: $f is missing"; exit 0; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1: $2"; }
eq() { # name got want
	if [ "$2" = "$3" ]; then
		pass "$1"
	elif [ "$(printf '%s' "$2$3" | wc -l)" -gt 0 ]; then
		fail "$1" "$(diff <(printf '%s\n' "$3") <(printf '%s\n' "$2") | head -n 6 | tr '\n' '|')"
	else
		fail "$1" "got '$2', want '$3'"
	fi
}

# policy NAME FORMAT FILE [KEY = VALUE ...]: one service on tcp/25, one source.
policy() {
	local name=$1 fmt=$2 file=$3
	shift 3
	{
		printf '[table]\nname = mxfence\n\n[service smtp]\nports = tcp/25\nsources = %s\n\n' "$name"
		printf '[source %s]\nformat = %s\nfile = %s\n' "$name" "$fmt" "$file"
		for l in "$@"; do printf '%s\n' "$l"; done
	} >"$tmp/$name.conf"
}

# build NAME: run build --json; the model in $tmp/NAME.json, stderr in $tmp/NAME.err.
build() {
	"$MXFENCE" build --json -c "$tmp/$1.conf" >"$tmp/$1.json" 2>"$tmp/$1.err"
	local rc=$?
	eq "$1: build exits 0" "$rc" 0
	eq "$1: no diagnostics" "$(head -n 3 "$tmp/$1.err")" ""
}

# Every input prefix the model kept, as "WHERE<TAB>PREFIX", sorted and unique.
model_inputs() {
	jq -r '.services[].families[].intervals[].sources[] | [.where, .prefix] | @tsv' \
		"$tmp/$1.json" 2>/dev/null | sort -u
}
count() { jq -r ".sources[0].prefixes.$2" "$tmp/$1.json" 2>/dev/null; }
total() { jq -r '.sources[0].prefixes | .ipv4 + .ipv6' "$tmp/$1.json" 2>/dev/null; }
version() { jq -r '.sources[0].version' "$tmp/$1.json" 2>/dev/null; }

# --- Microsoft 365: the SMTP endpoint set -----------------------------------
policy m365 m365 "$M365" "service-area = Exchange" "tcp-port = 25"
build m365
eq "m365: 4 IPv4 prefixes" "$(count m365 ipv4)" 4
eq "m365: 2 IPv6 prefixes" "$(count m365 ipv6)" 2
eq "m365: exactly the SMTP prefixes, from id 10" "$(model_inputs m365 | tr '\t\n' ' ;')" \
	"m365 id 10 104.47.0.0/17;m365 id 10 2a01:111:f400::/48;m365 id 10 2a01:111:f403::/48;m365 id 10 40.107.0.0/16;m365 id 10 40.92.0.0/15;m365 id 10 52.100.0.0/14;"
eq "m365: no version" "$(version m365)" null

policy m365all m365 "$M365"
build m365all
want=$(jq '[.[] | .ips // [] | .[] | select(contains(":") | not)] | length' "$M365")
eq "m365 unfiltered: IPv4 count" "$(count m365all ipv4)" "$want"
want=$(jq '[.[] | .ips // [] | .[] | select(contains(":"))] | length' "$M365")
eq "m365 unfiltered: IPv6 count" "$(count m365all ipv6)" "$want"

policy m365opt m365 "$M365" "category = Optimize" "required = true"
build m365opt
want=$(jq -r '.[] | select(.ips and .category == "Optimize" and .required == true)
	| "m365 id \(.id)\t\(.ips[])"' "$M365" | sort -u)
eq "m365 category/required: same (id, prefix) pairs as jq" "$(model_inputs m365opt)" "$want"

# --- AWS ---------------------------------------------------------------------
policy aws aws "$AWS" "service = AMAZON" "region = eu-west-1"
build aws
sel='select(.service == "AMAZON" and .region == "eu-west-1")'
eq "aws AMAZON eu-west-1: IPv4 count" "$(count aws ipv4)" \
	"$(jq "[.prefixes[] | $sel] | length" "$AWS")"
eq "aws AMAZON eu-west-1: IPv6 count" "$(count aws ipv6)" \
	"$(jq "[.ipv6_prefixes[] | $sel] | length" "$AWS")"
want=$( (jq -r ".prefixes | to_entries[] | select(.value | $sel)
		| \"prefixes[\(.key)]\t\(.value.ip_prefix)\"" "$AWS"
	jq -r ".ipv6_prefixes | to_entries[] | select(.value | $sel)
		| \"ipv6_prefixes[\(.key)]\t\(.value.ipv6_prefix)\"" "$AWS") | sort -u)
eq "aws AMAZON eu-west-1: provenance names the right entries" "$(model_inputs aws)" "$want"
eq "aws: version" "$(version aws)" "syncToken 1784582225, createDate 2026-07-20-21-17-05"

policy awsall aws "$AWS"
build awsall
eq "aws unfiltered: IPv4 count" "$(count awsall ipv4)" "$(jq '.prefixes | length' "$AWS")"
eq "aws unfiltered: IPv6 count" "$(count awsall ipv6)" "$(jq '.ipv6_prefixes | length' "$AWS")"

# --- Google ------------------------------------------------------------------
policy gcloud google "$GCLOUD" "scope = europe-west1 us-east1"
build gcloud
sel='select(.scope == "europe-west1" or .scope == "us-east1")'
eq "google cloud scope: IPv4 count" "$(count gcloud ipv4)" \
	"$(jq "[.prefixes[] | $sel | .ipv4Prefix // empty] | length" "$GCLOUD")"
eq "google cloud scope: IPv6 count" "$(count gcloud ipv6)" \
	"$(jq "[.prefixes[] | $sel | .ipv6Prefix // empty] | length" "$GCLOUD")"
want=$(jq -r ".prefixes | to_entries[] | select(.value | $sel)
	| \"prefixes[\(.key)]\t\(.value.ipv4Prefix // .value.ipv6Prefix)\"" "$GCLOUD" | sort -u)
eq "google cloud scope: provenance names the right entries" "$(model_inputs gcloud)" "$want"
eq "google cloud: version" "$(version gcloud)" \
	"syncToken 1777514634692, creationTime 2026-04-29T19:03:54.692168"

policy goog google "$GOOG"
build goog
eq "google goog: IPv4 count" "$(count goog ipv4)" 73
eq "google goog: IPv6 count" "$(count goog ipv6)" 11
eq "google goog: version" "$(version goog)" \
	"syncToken 1714053903689, creationTime 2024-04-25T07:05:03.68994"

policy googscope google "$GOOG" "scope = europe-west1"
"$MXFENCE" check -c "$tmp/googscope.conf" >/dev/null 2>"$tmp/googscope.err"
eq "google goog scope filter: exit 2" "$?" 2
if grep -q "^$tmp/googscope.conf:[0-9]*: error: scope = 'europe-west1' selects no entry" \
	"$tmp/googscope.err"; then
	pass "google goog scope filter: names the filter"
else
	fail "google goog scope filter: names the filter" "$(head -n 3 "$tmp/googscope.err")"
fi

# --- Azure -------------------------------------------------------------------
policy azure azure "$AZURE" "tag = AzureCloud.westeurope"
build azure
sel='.values[] | select(.name == "AzureCloud.westeurope") | .properties.addressPrefixes'
eq "azure AzureCloud.westeurope: IPv4 count" "$(count azure ipv4)" \
	"$(jq "[$sel[] | select(contains(\":\") | not)] | length" "$AZURE")"
eq "azure AzureCloud.westeurope: IPv6 count" "$(count azure ipv6)" \
	"$(jq "[$sel[] | select(contains(\":\"))] | length" "$AZURE")"
want=$(jq -r "$sel | to_entries[] | \"AzureCloud.westeurope addressPrefixes[\(.key)]\t\(.value)\"" \
	"$AZURE" | sort -u)
eq "azure AzureCloud.westeurope: provenance names the right entries" "$(model_inputs azure)" "$want"
eq "azure: version" "$(version azure)" "changeNumber 363, cloud Public"

policy azstorage azure "$AZURE" "system-service = AzureStorage"
build azstorage
eq "azure AzureStorage: prefix count" "$(total azstorage)" \
	"$(jq '[.values[] | select(.properties.systemService == "AzureStorage")
		| .properties.addressPrefixes[]] | length' "$AZURE")"

policy azall azure "$AZURE"
build azall
eq "azure unfiltered: prefix count" "$(total azall)" \
	"$(jq '[.values[].properties.addressPrefixes[]] | length' "$AZURE")"
