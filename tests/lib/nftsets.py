#!/usr/bin/env python3
"""Compare what the kernel holds with what `mxfence build --json` compiled.

  nftsets.py nft TABLE.json          intervals of every set in `nft -j list table` output
  nftsets.py model MODEL.json        intervals of the model (and checks the model is sound)
  nftsets.py chain MODEL.json TABLE.json
                                     evaluates the listed chain for every governed port
                                     and family, inside and outside the sets
  nftsets.py probes MODEL.json [MAX] addresses around the edges of at most MAX intervals
                                     per set: "SET ADDR in|out PROTO/PORT OTHERWISE", the
                                     service's first port and its verdict outside the set

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
    if isinstance(right, dict) and "set" in right:
        return any(port_matches(r, port) for r in right["set"])
    if isinstance(right, dict) and "range" in right:
        return right["range"][0] <= port <= right["range"][1]
    if isinstance(right, list):
        return any(port_matches(r, port) for r in right)
    raise ValueError("port match %r" % (right,))


def match(expr, pkt):
    """Does one match expression hold for pkt (proto, port, family, member_of)?"""
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


def cmd_chain(model_path, table_path):
    model = load(model_path)
    doc = nft_objects(load(table_path))
    table = model["table"]
    problems = []
    chains = [o["chain"] for o in doc if "chain" in o]
    base = [c for c in chains if "hook" in c]
    if len(base) != 1:
        die("want exactly one base chain, found %d" % len(base))
    ch = base[0]
    if ch.get("hook") != "input" or ch.get("type") != "filter" or ch.get("policy") != "accept":
        problems.append("base chain: hook %s type %s policy %s" % (ch.get("hook"), ch.get("type"), ch.get("policy")))
    if ch.get("prio") != table.get("priority"):
        problems.append("base chain priority %r, policy says %r" % (ch.get("prio"), table.get("priority")))
    rules = [o["rule"] for o in doc if "rule" in o and o["rule"]["chain"] == ch["name"]]
    if len(chains) != 1:
        problems.append("extra chains: %s" % ", ".join(c["name"] for c in chains if c is not ch))
    sets = nft_sets({"nftables": doc})
    governed = set()
    checked = 0
    for svc in model.get("services", []):
        otherwise = svc.get("otherwise")
        fams = dict(model_families(svc))
        for spec in svc.get("ports", []):
            proto, lo, hi = parse_ports(spec)
            for port in sorted({lo, (lo + hi) // 2, hi}):
                governed.add((proto, port))
                for fam in ("ipv4", "ipv6"):
                    setname = fams.get(fam, {}).get("set")
                    if setname and setname not in sets:
                        problems.append("%s: set %s is not in the table" % (svc["name"], setname))
                    cases = [("outside", frozenset(), otherwise)]
                    if setname and fams[fam].get("intervals"):
                        cases.append(("inside", frozenset([setname]), "accept"))
                    for label, member_of, want in cases:
                        pkt = {"proto": proto, "port": port, "family": fam, "member_of": member_of}
                        try:
                            got = evaluate(rules, ch.get("policy"), pkt)
                        except ValueError as e:
                            die("cannot evaluate the chain: %s" % e)
                        checked += 1
                        if got != want:
                            problems.append("%s %s/%d %s %s: chain says %s, policy says %s"
                                            % (svc["name"], proto, port, fam, label, got, want))
            for port in (lo - 1, hi + 1):
                for p2 in ("tcp", "udp"):
                    governed_here = any(
                        (p2 == pp and plo <= port <= phi)
                        for s in model.get("services", [])
                        for pp, plo, phi in map(parse_ports, s.get("ports", [])))
                    if governed_here or not 0 < port < 65536:
                        continue
                    for fam in ("ipv4", "ipv6"):
                        pkt = {"proto": p2, "port": port, "family": fam, "member_of": frozenset()}
                        got = evaluate(rules, ch.get("policy"), pkt)
                        checked += 1
                        if got != "accept":
                            problems.append("ungoverned %s/%d %s: chain says %s" % (p2, port, fam, got))
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
        flow = "%s/%d %s" % (proto, port, svc.get("otherwise"))
        for fam, f in model_families(svc):
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
