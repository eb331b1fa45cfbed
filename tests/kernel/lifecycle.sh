#!/usr/bin/env bash
# The saved ruleset and `restore`: no window after an nftables reload or a boot.
#
#   +------------- namespace "gw" -------------+   +---- namespace "boot" ----+
#   |  table inet admin  (nftables.conf's own) |   |  starts empty, as a      |
#   |  table inet mxfence (apply; then the     |   |  kernel after a reboot:  |
#   |    include in nftables.conf, reloaded)   |   |  nftables.conf loaded,   |
#   |  <state>/mxfence.nft  the saved ruleset  |   |  or `mxfence restore`    |
#   +------------------------------------------+   +--------------------------+
#
# nftables.conf is what Debian's nftables.service loads on start and reload:
# `flush ruleset`, the administrator's own table, then the include line of
# the README. No links, no traffic (tests/packets/boot.sh sends packets).
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../lib/report.sh"
. "$here/../lib/netns.sh"

need_root
need_cmd ip nft jq cmp
need_mxfence
ns_init
W=$NS_TMP

# mx NS STATE-DIR CMD...: mxfence in a namespace with its own state folder.
mx() {
	local ns=$1 sd=$2
	shift 2
	ns_exec "$ns" "$MXFENCE" --state-dir "$sd" "$@"
}

# Intervals that take several CIDRs each (192.0.2.1-6: .1/32 .2/31 .4/31 .6/32),
# so that nft -f's one element per CIDR differs from apply's one per interval.
mkdir -p "$W/etc"
printf '192.0.2.1\n192.0.2.2\n192.0.2.3\n192.0.2.4\n192.0.2.5\n192.0.2.6\n198.51.100.0/25\n198.51.100.128/26\n2001:db8:25::/64\n2001:db8:26::/63\n' >"$W/etc/relays.txt"
printf '203.0.113.9\n2001:db8::10\n' >"$W/etc/staff.txt"
cat >"$W/etc/mxfence.conf" <<POL
[service smtp]
ports = tcp/25
sources = relays

[service submission]
ports = tcp/587 tcp/465
sources = staff
otherwise = reject

[source relays]
format = list
file = relays.txt

[source staff]
format = list
file = staff.txt
POL
conf=$W/etc/mxfence.conf
S=$W/state
saved=$S/mxfence.nft

nftconf() { # nftconf FILE INCLUDE-DIR: Debian's shape, flush first
	cat >"$1" <<NFT
#!/usr/sbin/nft -f
flush ruleset

table inet admin {
	chain input {
		type filter hook input priority 10; policy accept;
		tcp dport 22 counter accept
	}
}
${2:+include \"$2/*.nft\"}
NFT
}
nftconf "$W/nftables.conf" "$S"
nftconf "$W/nftables-plain.conf" ""

# --- apply writes the saved ruleset -------------------------------------------
ns_add gw
ns_exec gw nft -f "$W/nftables-plain.conf"
out=$(mx gw "$S" apply -c "$conf" 2>&1)
expect_eq "first apply exits 0" "$?" 0
"$MXFENCE" build -c "$conf" -o "$W/build1.nft"
if cmp -s "$saved" "$W/build1.nft"; then
	pass "apply saves exactly the script build prints"
else
	fail "apply saves exactly the script build prints" "$(diff "$W/build1.nft" "$saved" | head -n 5)"
fi
ls "$S" | grep -q '\.tmp\.' && fail "no temporary file left beside the saved ruleset" "$(ls "$S")" ||
	pass "no temporary file left beside the saved ruleset"

# --- nftables reload: flush ruleset + include, twice --------------------------
for round in 1 2; do
	check "reload $round: nft -f nftables.conf (flush ruleset, include) loads" ns_exec gw nft -f "$W/nftables.conf"
	check "reload $round: verify --exhaustive passes" mx gw "$S" verify --exhaustive -c "$conf"
	expect_eq "reload $round: both tables there" "$(ns_exec gw nft list tables | sort | tr '\n' ' ')" \
		"table inet admin table inet mxfence "
done
check "the saved ruleset alone loads again over the table (declare, delete, create)" ns_exec gw nft -f "$saved"
check "and the kernel still holds the policy" mx gw "$S" verify --exhaustive -c "$conf"

# --- a delta: the saved ruleset follows, byte for byte ----------------------
sed -i 's|^192\.0\.2\.3$|192.0.2.9|' "$W/etc/relays.txt"
echo 203.0.113.50 >>"$W/etc/relays.txt"
out=$(mx gw "$S" apply -c "$conf" 2>&1)
case $out in
*"first install"* | *"is absent"*) fail "the change is applied as a delta" "$out" ;;
*"intervals;"*) pass "the change is applied as a delta" ;;
*) fail "the change is applied as a delta" "$out" ;;
esac
"$MXFENCE" build -c "$conf" -o "$W/build2.nft"
if cmp -s "$saved" "$W/build2.nft"; then
	pass "after a delta the saved ruleset is byte-identical to build's script"
else
	fail "after a delta the saved ruleset is byte-identical to build's script" "$(diff "$W/build2.nft" "$saved" | head -n 5)"
fi
cmp -s "$W/build1.nft" "$W/build2.nft" && fail "the delta changed the script" "build1 = build2" || pass "the delta changed the script"

# Nothing to do: the file stays as it is (same inode), unless missing or different.
ino=$(stat -c %i "$saved")
out=$(mx gw "$S" apply -c "$conf" 2>&1)
case $out in *"nothing to do"*) ;; *) fail "apply with nothing to do" "$out" ;; esac
expect_eq "nothing to do: the saved ruleset is left in place" "$(stat -c %i "$saved")" "$ino"
rm -f "$saved"
mx gw "$S" apply -c "$conf" >/dev/null 2>&1
cmp -s "$saved" "$W/build2.nft" && pass "nothing to do: a missing saved ruleset is written again" ||
	fail "nothing to do: a missing saved ruleset is written again" "$(ls -l "$S")"
echo "# damaged" >>"$saved"
mx gw "$S" apply -c "$conf" >/dev/null 2>&1
cmp -s "$saved" "$W/build2.nft" && pass "nothing to do: a saved ruleset that differs is written again" ||
	fail "nothing to do: a saved ruleset that differs is written again" "$(tail -n 2 "$saved")"

# A dry run and a refused apply leave it alone.
cp "$saved" "$W/saved.before"
echo 203.0.113.51 >>"$W/etc/relays.txt"
mx gw "$S" apply -c "$conf" --dry-run >/dev/null 2>&1
cmp -s "$saved" "$W/saved.before" && pass "a dry run leaves the saved ruleset" || fail "a dry run leaves the saved ruleset" "changed"
sed -i '/^203\.0\.113\.51$/d; /^198\.51\.100\.0\/25$/d' "$W/etc/relays.txt"
out=$(mx gw "$S" apply -c "$conf" 2>&1)
rc=$?
if [ $rc -eq 3 ] && cmp -s "$saved" "$W/saved.before"; then
	pass "a refused apply (removal gate, exit 3) leaves the saved ruleset"
else
	fail "a refused apply (removal gate, exit 3) leaves the saved ruleset" "rc=$rc $out"
fi
echo 198.51.100.0/25 >>"$W/etc/relays.txt"

# --- status: a missing table is exit 1 ------------------------------------------
mx gw "$S" status -c "$conf" >/dev/null
expect_eq "status exits 0 with the table there" "$?" 0
ns_exec gw nft -f "$W/nftables-plain.conf"
out=$(mx gw "$S" status -c "$conf")
rc=$?
case $out in *"absent"*) [ $rc -eq 1 ] && pass "status exits 1 when the table is absent" || fail "status exits 1 when the table is absent" "rc=$rc" ;; *) fail "status exits 1 when the table is absent" "$out" ;; esac

# --- restore after a reload without the include -----------------------------
out=$(mx gw "$S" restore -c "$conf" 2>&1)
rc=$?
case $out in *"loaded $saved"*) [ $rc -eq 0 ] && pass "restore loads the saved ruleset after a flush" || fail "restore loads the saved ruleset after a flush" "rc=$rc $out" ;; *) fail "restore loads the saved ruleset after a flush" "$out" ;; esac
check "after restore: verify --exhaustive passes" mx gw "$S" verify --exhaustive -c "$conf"
out=$(mx gw "$S" restore -c "$conf" 2>&1)
case $out in *"nothing to do"*) pass "restore again: the kernel holds that generation, nothing to do" ;; *) fail "restore again: nothing to do" "$out" ;; esac
# nft -f made one element per CIDR; restore recorded them, so the state file is
# trusted again (no full read) and a delta deletes exactly what is there.
out=$(mx gw "$S" monitor -c "$conf" --no-restamp)
case $out in "MXFENCE OK - "*) case $out in *"read in full"*) fail "after restore the state file describes the kernel" "$out" ;; *) pass "after restore the state file describes the kernel (fast read)" ;; esac ;; *) fail "after restore the state file describes the kernel" "$out" ;; esac
n=$(ns_exec gw nft -j list set inet mxfence smtp_v4 | jq '[.nftables[] | .set? // empty | .elem[]?] | length')
[ "${n:-0}" -gt 4 ] && pass "nft -f loaded one element per CIDR ($n in smtp_v4)" || fail "nft -f loaded one element per CIDR" "n=$n"
sed -i 's|^192\.0\.2\.6$|192.0.2.7|' "$W/etc/relays.txt"
out=$(mx gw "$S" apply -c "$conf" 2>&1)
rc=$?
[ $rc -eq 0 ] && pass "a delta after restore commits" || fail "a delta after restore commits" "rc=$rc $out"
check "after the delta: verify --exhaustive passes" mx gw "$S" verify --exhaustive -c "$conf"
"$MXFENCE" build -c "$conf" -o "$W/build3.nft"
cmp -s "$saved" "$W/build3.nft" && pass "after that delta the saved ruleset is build's script" || fail "after that delta the saved ruleset is build's script" "differs"

# --- a boot: an empty namespace ----------------------------------------------
ns_add boot
check "boot: nftables.conf with the include loads into an empty kernel" ns_exec boot nft -f "$W/nftables.conf"
check "boot: verify --exhaustive passes" mx boot "$W/boot-state" verify --exhaustive -c "$conf"
ns_exec boot nft flush ruleset
cp -a "$S" "$W/boot-state"
out=$(mx boot "$W/boot-state" restore -c "$conf" 2>&1)
rc=$?
[ $rc -eq 0 ] && pass "boot: restore into an empty kernel exits 0" || fail "boot: restore into an empty kernel exits 0" "rc=$rc $out"
check "boot: after restore verify --exhaustive passes" mx boot "$W/boot-state" verify --exhaustive -c "$conf"
expect_eq "boot: restore touches no other table" "$(ns_exec boot nft list tables)" "table inet mxfence"

# --- damaged or foreign saved rulesets ---------------------------------------
D=$W/damaged
cp -a "$S" "$D"
head -c 700 "$S/mxfence.nft" >"$D/mxfence.nft"
ns_add dmg
out=$(mx dmg "$D" restore -c "$conf" 2>&1)
rc=$?
if [ $rc -eq 2 ] && printf '%s' "$out" | grep -q 'installed with empty sets'; then
	pass "a saved ruleset cut short: exit 2, and the ports closed (unapplied = closed)"
else
	fail "a saved ruleset cut short: exit 2, and the ports closed (unapplied = closed)" "rc=$rc $out"
fi
n=$(ns_exec dmg nft -j list set inet mxfence smtp_v4 | jq '[.nftables[] | .set? // empty | .elem[]?] | length')
expect_eq "the closed table's sets are empty" "$n" 0
sed "s/table inet mxfence/table inet other/g" "$S/mxfence.nft" >"$D/mxfence.nft"
ns_exec dmg nft flush ruleset
out=$(mx dmg "$D" restore -c "$conf" 2>&1)
rc=$?
case $out in *"written for table other"*) [ $rc -eq 2 ] && pass "a saved ruleset of another table is refused (exit 2)" || fail "a saved ruleset of another table is refused" "rc=$rc" ;; *) fail "a saved ruleset of another table is refused" "rc=$rc $out" ;; esac
expect_eq "and nothing of it was loaded" "$(ns_exec dmg nft list tables)" "table inet mxfence"

# --- no saved ruleset: the policy's choice --------------------------------------
E=$W/empty-state
ns_add fresh
out=$(mx fresh "$E" restore -c "$conf" 2>&1)
rc=$?
case $out in *"unapplied = closed"*) [ $rc -eq 0 ] && pass "nothing applied, closed: restore installs the closed table, exit 0" || fail "nothing applied, closed" "rc=$rc" ;; *) fail "nothing applied, closed: restore installs the closed table" "$out" ;; esac
out=$(mx fresh "$E" verify --exhaustive -c "$conf" 2>&1)
[ $? -eq 1 ] && pass "the closed table is the policy's structure with nothing allowed (verify --exhaustive differs)" ||
	fail "the closed table is the policy's structure with nothing allowed" "$out"
out=$(mx fresh "$E" restore -c "$conf" 2>&1)
case $out in *"stays as it is"*) pass "restore leaves a table it finds there without a saved ruleset" ;; *) fail "restore leaves a table it finds there without a saved ruleset" "$out" ;; esac
out=$(mx fresh "$E" apply -c "$conf" 2>&1)
[ $? -eq 0 ] && check "the first apply over the closed table holds the policy" mx fresh "$E" verify --exhaustive -c "$conf"
[ -s "$E/mxfence.nft" ] && pass "and writes the saved ruleset" || fail "and writes the saved ruleset" "$(ls "$E")"

sed 's/^\[service smtp\]/[table]\nunapplied = open\n\n[service smtp]/' "$conf" >"$W/etc/open.conf"
ns_add open
out=$(mx open "$W/open-state" restore -c "$W/etc/open.conf" 2>&1)
rc=$?
case $out in *"unapplied = open"*"stay open"*) [ $rc -eq 0 ] && pass "nothing applied, open: restore says the ports stay open, exit 0" || fail "nothing applied, open" "rc=$rc" ;; *) fail "nothing applied, open: restore says the ports stay open" "$out" ;; esac
expect_eq "nothing applied, open: no table" "$(ns_exec open nft list tables)" ""

# --- no CAP_NET_ADMIN ----------------------------------------------------------
chmod o+rx "$W" "$W/etc"
out=$(ns_exec gw setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all --bounding-set=-all "$MXFENCE" --state-dir "$W/nocap" restore -c "$conf" 2>&1)
rc=$?
case $out in *"CAP_NET_ADMIN"*) [ $rc -eq 2 ] && pass "restore without CAP_NET_ADMIN: exit 2, says why" || fail "restore without CAP_NET_ADMIN" "rc=$rc" ;; *) fail "restore without CAP_NET_ADMIN: says why" "$out" ;; esac

finish
