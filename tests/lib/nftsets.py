#!/usr/bin/env python3
"""Compare what the kernel holds with what `mxfence build --json` compiled.

  nftsets.py nft TABLE.json          intervals of every set in `nft -j list table` output
  nftsets.py model MODEL.json        intervals of the model (and checks the model is sound)
  nftsets.py chain MODEL.json TABLE.json
                                     evaluates the listed chains for every governed port
                                     and family, inside and outside the sets; for a family
                                     with `to`, on the input and the forward path, to a
                                     destination in it and one outside, and a reply
  nftsets.py probes MODEL.json [MAX] addresses around the edges of at most MAX intervals
                                     per set: "SET ADDR in|out PROTO/PORT OTHERWISE [DEST]",
                                     the service's first port, its verdict outside the set
                                     and, for a family with `to`, its first destination

Interval lines are "SET FIRST LAST", sorted by set then address. nft intervals are
merged (adjacent or overlapping elements become one) so both sides compare as sets
of addresses; model intervals are printed as given, since the model promises them
merged already.
"""
import bisect
import ipaddress
import json
import sys

FAMILY_BITS = {"ipv4": 32, "ipv6": 128}
SET_TYPES = {"ipv4_addr": "ipv4", "ipv6_addr": "ipv6"}


def die(msg):
    print(msg, file=sys.stderr)
    sys.exit(2)


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def addr(text):
    return ipaddress.ip_address(text)


def element_range(e):
    """One element of a `nft -j` set: address string, prefix, range, or wrapped."""
    if isinstance(e, dict) and "elem" in e:
        e = e["elem"]["val"]
    if isinstance(e, str):
        a = addr(e)
        return int(a), int(a)
    if isinstance(e, dict) and "prefix" in e:
        n = ipaddress.ip_network("%s/%d" % (e["prefix"]["addr"], e["prefix"]["len"]), strict=True)
        return int(n.network_address), int(n.broadcast_address)
    if isinstance(e, dict) and "range" in e:
        lo, hi = e["range"]
        return int(addr(lo)), int(addr(hi))
    die("unknown set element form: %r" % (e,))


def merge(ranges):
    out = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1][1] = hi
        else:
            out.append([lo, hi])
    return out


def nft_objects(doc):
    return doc.get("nftables", [])


def nft_sets(doc):
    sets = {}
    for o in nft_objects(doc):
        if "set" in o:
            s = o["set"]
            fam = SET_TYPES.get(s.get("type"))
            if fam is None:
                die("set %s: unexpected type %r" % (s.get("name"), s.get("type")))
            sets[s["name"]] = (fam, s)
    return sets


def fmt(fam, v):
    if fam == "ipv4":
        return str(ipaddress.IPv4Address(v))
    return str(ipaddress.IPv6Address(v))


def cmd_nft(path):
    doc = load(path)
    lines = []
    for name, (fam, s) in sorted(nft_sets(doc).items()):
        if "interval" not in s.get("flags", []):
            die("set %s has no interval flag" % name)
        for lo, hi in merge(element_range(e) for e in s.get("elem", [])):
            lines.append("%s %s %s" % (name, fmt(fam, lo), fmt(fam, hi)))
    print("\n".join(lines))


def model_families(svc):
    fams = svc.get("families", {})
    for fam in ("ipv4", "ipv6"):
        if fam in fams:
            yield fam, fams[fam]


def cmd_model(path):
    """Print the model's intervals; exit 1 when they are not sound."""
    doc = load(path)
    problems = []
    lines = []
    for svc in doc.get("services", []):
        for fam, f in model_families(svc):
            name = f["set"]
            bits = FAMILY_BITS[fam]
            prev_hi = None
            for i, iv in enumerate(f.get("intervals", [])):
                lo, hi = int(addr(iv["first"])), int(addr(iv["last"]))
                where = "%s interval %d (%s-%s)" % (name, i, iv["first"], iv["last"])
                if addr(iv["first"]).version != (4 if fam == "ipv4" else 6):
                    problems.append("%s: wrong family" % where)
                if lo > hi:
                    problems.append("%s: first > last" % where)
                if prev_hi is not None and lo <= prev_hi + 1:
                    problems.append("%s: overlaps or touches the previous interval" % where)
                prev_hi = hi
                cover = []
                for c in iv.get("cidrs", []):
                    try:
                        n = ipaddress.ip_network(c, strict=True)
                    except ValueError as e:
                        problems.append("%s: bad cidr %s: %s" % (where, c, e))
                        continue
                    if n.max_prefixlen != bits:
                        problems.append("%s: cidr %s of the other family" % (where, c))
                        continue
                    cover.append((int(n.network_address), int(n.broadcast_address)))
                cover.sort()
                pos = lo
                for clo, chi in cover:
                    if clo != pos:
                        problems.append("%s: cidrs leave a gap or overlap at %s" % (where, fmt(fam, clo)))
                        break
                    pos = chi + 1
                else:
                    if pos != hi + 1:
                        problems.append("%s: cidrs end at %s, not at last" % (where, fmt(fam, pos - 1)))
                lines.append("%s %s %s" % (name, fmt(fam, lo), fmt(fam, hi)))
    lines.sort(key=lambda l: (l.split()[0], int(addr(l.split()[1]))))
    print("\n".join(lines))
    if problems:
        for p in problems[:20]:
            print("model: " + p, file=sys.stderr)
        sys.exit(1)


def parse_ports(spec):
    """"tcp/25" or "tcp/1000-1010" -> ("tcp", lo, hi)."""
    proto, _, ports = spec.partition("/")
    lo, _, hi = ports.partition("-")
    return proto, int(lo), int(hi or lo)


def port_matches(right, port):
    if isinstance(right, int):
        return right == port
    if isinstance(right, str) and right.startswith("0x"):
        # nft 1.0.6 lists a set of ports under `ct original proto-dst` untyped: "0x19 [invalid type]"
        return int(right.split()[0], 16) == port
    if isinstance(right, dict) and "set" in right:
        return any(port_matches(r, port) for r in right["set"])
    if isinstance(right, dict) and "range" in right:
        return right["range"][0] <= port <= right["range"][1]
    if isinstance(right, list):
        return any(port_matches(r, port) for r in right)
    raise ValueError("port match %r" % (right,))


def dest_matches(right, fam, dest):
    """Does the destination (an int, or None: an address of this host no `to` names) match?"""
    if dest is None:
        return False
    if isinstance(right, dict) and "set" in right:
        return any(dest_matches(r, fam, dest) for r in right["set"])
    lo, hi = element_range(right)
    return lo <= dest <= hi


def match(expr, pkt):
    """Does one match expression hold for pkt (proto, port, family, member_of, dest, dir)?"""
    op = expr.get("op", "==")
    left, right = expr["left"], expr["right"]
    if op not in ("==", "in"):
        raise ValueError("operator %r" % op)
    if "payload" in left:
        p = left["payload"]
        proto, field = p.get("protocol"), p.get("field")
        if field == "dport" and proto in ("tcp", "udp", "th"):
            if proto != "th" and proto != pkt["proto"]:
                return False
            return port_matches(right, pkt["port"])
        if field == "saddr" and proto in ("ip", "ip6"):
            fam = "ipv4" if proto == "ip" else "ipv6"
            if fam != pkt["family"]:
                return False
            if isinstance(right, str) and right.startswith("@"):
                return right[1:] in pkt["member_of"]
            raise ValueError("saddr match against %r" % (right,))
    if "ct" in left:
        key, d = left["ct"].get("key"), left["ct"].get("dir")
        if key == "direction" and d is None:
            return right == pkt.get("dir", "original")
        if key == "proto-dst" and d == "original":
            return port_matches(right, pkt["port"])
        if key in ("ip daddr", "ip6 daddr") and d == "original":
            # The kernel's ct expression breaks on a connection of the other family.
            if (key == "ip daddr") != (pkt["family"] == "ipv4"):
                return False
            return dest_matches(right, pkt["family"], pkt.get("dest"))
    if "meta" in left:
        key = left["meta"].get("key")
        vals = right["set"] if isinstance(right, dict) and "set" in right else [right]
        if key == "l4proto":
            return pkt["proto"] in vals
        if key == "nfproto":
            return pkt["family"] in vals
    raise ValueError("match %r" % (expr,))


VERDICTS = ("accept", "drop", "reject")


def evaluate(rules, policy, pkt):
    for r in rules:
        ok = True
        verdict = None
        for e in r["expr"]:
            if "match" in e:
                if not match(e["match"], pkt):
                    ok = False
                    break
            elif "counter" in e:
                continue
            else:
                verdict = next((v for v in VERDICTS if v in e), None)
                if verdict is None:
                    raise ValueError("statement %r" % (e,))
                break
        if ok and verdict:
            return verdict
    return policy


def first_outside(prefixes_by_fam, fam):
    """A documentation address of the family that no `to` of the model names."""
    taken = [element_range({"prefix": {"addr": p.split("/")[0], "len": int(p.split("/")[1])}})
             for p in prefixes_by_fam]
    base = int(addr("198.51.100.0" if fam == "ipv4" else "2001:db8:ffff::"))
    for k in range(1, 255):
        a = base + k
        if not any(lo <= a <= hi for lo, hi in taken):
            return a
    die("no documentation address outside every 'to'")


def cmd_chain(model_path, table_path):
    model = load(model_path)
    doc = nft_objects(load(table_path))
    table = model["table"]
    problems = []
    chains = [o["chain"] for o in doc if "chain" in o]
    base = {c.get("hook"): c for c in chains if "hook" in c}
    with_to = any(f.get("to") for svc in model.get("services", []) for _, f in model_families(svc))
    want_hooks = {"input", "forward"} if with_to else {"input"}
    if set(base) != want_hooks or len(chains) != len(want_hooks):
        problems.append("chains %s, the policy wants base chains %s"
                        % (sorted(c.get("name") for c in chains), sorted(want_hooks)))
    if "input" not in base:
        die("no input chain")
    for hook, ch in base.items():
        if ch.get("type") != "filter" or ch.get("policy") != "accept":
            problems.append("chain %s: type %s policy %s" % (ch.get("name"), ch.get("type"), ch.get("policy")))
        if ch.get("prio") != table.get("priority"):
            problems.append("chain %s: priority %r, policy says %r" % (ch.get("name"), ch.get("prio"), table.get("priority")))
    rules = {hook: [o["rule"] for o in doc if "rule" in o and o["rule"]["chain"] == ch["name"]]
             for hook, ch in base.items()}
    all_to = {}
    for svc in model.get("services", []):
        for fam, f in model_families(svc):
            all_to.setdefault(fam, []).extend(f.get("to", []))
    sets = nft_sets({"nftables": doc})
    checked = 0

    def run(hook, pkt):
        nonlocal checked
        if hook not in base:
            return "accept"
        try:
            checked += 1
            return evaluate(rules[hook], base[hook].get("policy"), pkt)
        except ValueError as e:
            die("cannot evaluate the chain: %s" % e)

    for svc in model.get("services", []):
        otherwise = svc.get("otherwise")
        fams = dict(model_families(svc))
        for spec in svc.get("ports", []):
            proto, lo, hi = parse_ports(spec)
            for port in sorted({lo, (lo + hi) // 2, hi}):
                for fam in ("ipv4", "ipv6"):
                    setname = fams.get(fam, {}).get("set")
                    to = fams.get(fam, {}).get("to", [])
                    if setname and setname not in sets:
                        problems.append("%s: set %s is not in the table" % (svc["name"], setname))
                    cases = [("outside", frozenset(), otherwise)]
                    if setname and fams[fam].get("intervals"):
                        cases.append(("inside", frozenset([setname]), "accept"))
                    outside = first_outside(all_to.get(fam, []), fam)
                    if to:
                        inside = element_range({"prefix": {"addr": to[0].split("/")[0],
                                                           "len": int(to[0].split("/")[1])}})[0]
                        # (path, destination, direction, verdict for the source cases or None: accept)
                        paths = [("input", inside, "original", True), ("forward", inside, "original", True),
                                 ("input", outside, "original", False), ("forward", outside, "original", False),
                                 ("forward", inside, "reply", False), ("input", inside, "reply", False)]
                    else:
                        paths = [("input", None, "original", True), ("forward", outside, "original", False)]
                    for hook, dest, direction, governed in paths:
                        for label, member_of, want in cases:
                            pkt = {"proto": proto, "port": port, "family": fam, "member_of": member_of,
                                   "dest": dest, "dir": direction}
                            got = run(hook, pkt)
                            want_here = want if governed else "accept"
                            if got != want_here:
                                problems.append("%s %s/%d %s %s, %s path, %s, %s: chain says %s, policy says %s"
                                                % (svc["name"], proto, port, fam, label, hook,
                                                   "to " + fmt(fam, dest) if dest is not None else "to this host",
                                                   direction, got, want_here))
            for port in (lo - 1, hi + 1):
                for p2 in ("tcp", "udp"):
                    governed_here = any(
                        (p2 == pp and plo <= port <= phi)
                        for s2 in model.get("services", [])
                        for pp, plo, phi in map(parse_ports, s2.get("ports", [])))
                    if governed_here or not 0 < port < 65536:
                        continue
                    for fam in ("ipv4", "ipv6"):
                        for hook in base:
                            pkt = {"proto": p2, "port": port, "family": fam, "member_of": frozenset(),
                                   "dest": first_outside([], fam), "dir": "original"}
                            to = [t for t in all_to.get(fam, [])]
                            if to:
                                pkt["dest"] = element_range({"prefix": {"addr": to[0].split("/")[0],
                                                                        "len": int(to[0].split("/")[1])}})[0]
                            got = run(hook, pkt)
                            if got != "accept":
                                problems.append("ungoverned %s/%d %s (%s): chain says %s" % (p2, port, fam, hook, got))
    for p in problems[:20]:
        print(p)
    if problems:
        sys.exit(1)
    print("%d cases agree" % checked)


def cmd_probes(model_path, limit):
    """Edge addresses of the model's intervals, with whether each is in its set."""
    model = load(model_path)
    out = []
    for svc in model.get("services", []):
        proto, port, _ = parse_ports(svc["ports"][0])
        for fam, f in model_families(svc):
            # A family with `to`: the flow names its first destination.
            dest = ""
            if f.get("to"):
                p = f["to"][0].split("/")
                dest = " " + fmt(fam, element_range({"prefix": {"addr": p[0], "len": int(p[1])}})[0])
            flow = "%s/%d %s%s" % (proto, port, svc.get("otherwise"), dest)
            top = (1 << FAMILY_BITS[fam]) - 1
            ivs = [(int(addr(i["first"])), int(addr(i["last"]))) for i in f.get("intervals", [])]
            if len(ivs) > limit:
                step = len(ivs) / float(limit)
                pick = sorted({int(k * step) for k in range(limit)} | {0, len(ivs) - 1})
                ivs_sel = [ivs[k] for k in pick]
            else:
                ivs_sel = ivs
            starts = [lo for lo, _ in ivs]

            def inside(a):
                k = bisect.bisect_right(starts, a) - 1
                return k >= 0 and ivs[k][0] <= a <= ivs[k][1]

            seen = set()
            for lo, hi in ivs_sel:
                for a in (lo - 1, lo, hi, hi + 1):
                    if 0 <= a <= top and a not in seen:
                        seen.add(a)
                        out.append("%s %s %s %s" % (f["set"], fmt(fam, a), "in" if inside(a) else "out", flow))
    print("\n".join(out))


def main(argv):
    if len(argv) >= 3 and argv[1] == "nft":
        cmd_nft(argv[2])
    elif len(argv) >= 3 and argv[1] == "model":
        cmd_model(argv[2])
    elif len(argv) >= 4 and argv[1] == "chain":
        cmd_chain(argv[2], argv[3])
    elif len(argv) >= 3 and argv[1] == "probes":
        cmd_probes(argv[2], int(argv[3]) if len(argv) > 3 else 50)
    else:
        die(__doc__)


if __name__ == "__main__":
    main(sys.argv)
