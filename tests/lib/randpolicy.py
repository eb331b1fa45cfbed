#!/usr/bin/env python3
"""Random policies for the model round trip (tests/data/roundtrip.sh).

  randpolicy.py gen DIR COUNT SEED   writes DIR/NNN/ (policy.conf, its feeds, empty.conf,
                                     want.json: the sets every policy must compile to)
  randpolicy.py check DIR            checks every DIR/NNN/model.json (build --json) against
                                     want.json, and DIR/NNN/removed.json (diff --json of
                                     empty.conf against the model) against the model; one
                                     "PASS: ..." or "FAIL: ..." line per case

The prefixes crowd the edges of both address spaces: 0.0.0.0 and 255.255.255.255, :: and
ffff:...:ffff, ::/96 (IPv4-compatible) and ::ffff:0:0/96 (IPv4-mapped, and the addresses
right around it). An IPv6 prefix of /96 or longer inside ::ffff:0:0/96 is IPv4 for mxfence
(with a warning); the expected sets say so. Text forms vary: compressed, exploded, upper
case, a dotted quad in the last 32 bits. The expected sets are merged here, independently
of mxfence, and the expected text is RFC 5952 in hexadecimal groups, also computed here.
"""
import json
import os
import random
import sys

V6_MAX = (1 << 128) - 1
V4_MAX = (1 << 32) - 1
MAPPED = 0xFFFF << 32


def v4_text(a):
    return ".".join(str((a >> s) & 0xFF) for s in (24, 16, 8, 0))


def v6_text(a):
    """RFC 5952: lower case, no leading zeros, the longest run (2+) of zero groups as ::."""
    w = [(a >> (112 - 16 * i)) & 0xFFFF for i in range(8)]
    best, best_len, i = -1, 1, 0
    while i < 8:
        if w[i]:
            i += 1
            continue
        j = i
        while j < 8 and not w[j]:
            j += 1
        if j - i > best_len:
            best, best_len = i, j - i
        i = j
    if best < 0:
        return ":".join("%x" % g for g in w)
    left = ":".join("%x" % g for g in w[:best])
    right = ":".join("%x" % g for g in w[best + best_len:])
    return left + "::" + right


def v6_input_text(a, rnd):
    """The same address in one of the forms a feed may use."""
    form = rnd.randrange(5)
    w = [(a >> (112 - 16 * i)) & 0xFFFF for i in range(8)]
    if form == 0:
        return v6_text(a)
    if form == 1:
        return ":".join("%04x" % g for g in w)
    if form == 2:
        return v6_text(a).upper()
    if form == 3:  # a dotted quad in the last 32 bits
        head = ":".join("%x" % g for g in w[:6])
        return head + ":" + v4_text(a & V4_MAX)
    return ":".join("%x" % g for g in w)


# Where prefixes start: the edges and the neighbourhoods around them.
V4_ANCHORS = [0, V4_MAX, 1 << 31, 0x7FFFFFFF, 0xC0000200, 0xCB007100]
V6_ANCHORS = [
    0, V6_MAX, 1, 0xFFFFFFFF, 1 << 32,          # ::, ffff:..:ffff, ::/96
    MAPPED, MAPPED - 1, MAPPED | V4_MAX,         # ::ffff:0:0/96 and its edges
    (MAPPED | V4_MAX) + 1, 0xFFFE << 32,
    0x20010DB8 << 96, 0x0064FF9B << 96,         # 2001:db8::, 64:ff9b::
]


def near(anchor, bits, rnd):
    top = (1 << bits) - 1
    span = rnd.choice([0, 1, 2, 255, 65535, 1 << 20, 1 << (bits // 2)])
    return max(0, min(top, anchor + rnd.randint(-span, span)))


def random_prefix(fam, b4, b6, rnd):
    """(family, lo, plen, text) of a valid entry: family, network and length as mxfence
    takes it, and the text written (host bits set now and then)."""
    bits = 32 if fam == 4 else 128
    broadest = b4 if fam == 4 else b6
    while True:
        plen = None
        if fam == 6 and rnd.random() < 0.12:
            # a prefix that ends where ::ffff:0:0/96 ends, or starts right after it
            if rnd.random() < 0.6:
                plen = rnd.randint(max(broadest, 80), 95)
                a = MAPPED | V4_MAX
            else:
                plen = rnd.randint(96, 128)
                a = (MAPPED | V4_MAX) + 1
        elif rnd.random() < 0.75:
            a = near(rnd.choice(V4_ANCHORS if fam == 4 else V6_ANCHORS), bits, rnd)
        else:
            a = rnd.getrandbits(bits)
        if plen is not None:
            pass  # chosen with the address
        elif rnd.random() < 0.3:
            plen = bits
        elif fam == 6 and rnd.random() < 0.3:
            plen = rnd.choice([80, 88, 92, 94, 95, 96, 97, 104, 112, 120, 127])
        else:
            plen = rnd.randint(broadest, bits)
        if plen < broadest or plen == 0:
            continue
        host = (1 << (bits - plen)) - 1
        net = a & ~host
        host_bits = rnd.random() < 0.1 and plen < bits
        shown = a if host_bits else net
        tfam, tlo, tplen = fam, net, plen
        if fam == 6 and plen >= 96 and (net >> 32) == 0xFFFF:
            # ::ffff:a.b.c.d/n: taken as IPv4 a.b.c.d/(n-96), which must be allowed too
            tfam, tlo, tplen = 4, net & V4_MAX, plen - 96
            if tplen == 0 or tplen < b4:
                continue
        text = v4_text(shown) if fam == 4 else v6_input_text(shown, rnd)
        if tplen != (32 if tfam == 4 else 128) or rnd.random() < 0.5:
            text += "/%d" % plen
        return tfam, tlo, tplen, text


def merge(ranges):
    out = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return out


def gen_case(path, rnd):
    os.makedirs(path)
    nsources = rnd.randint(1, 3)
    sources = []
    for k in range(nsources):
        name = "src%d" % k
        fmt = rnd.choice(["list", "list", "postfix-cidr"])
        wide = rnd.random() < 0.4
        b4, b6 = (1, 1) if wide else (8, 16)
        entries = []
        for _ in range(rnd.choice([0, 1, 2, 5, 10, 30])):
            fam = 4 if rnd.random() < 0.4 else 6
            entries.append(random_prefix(fam, b4, b6, rnd))
        lines = ["# random source %s" % name]
        for _f, _lo, _pl, text in entries:
            if fmt == "list":
                lines.append(text)
            else:
                addr, _, plen = text.partition("/")
                if ":" in addr:
                    addr = "[%s]" % addr
                lines.append("%s%s OK" % (addr, "/" + plen if plen else ""))
        with open(os.path.join(path, name + ".txt"), "w") as f:
            f.write("\n".join(lines) + "\n")
        sources.append({"name": name, "format": fmt, "wide": wide, "entries": entries})

    nservices = rnd.randint(1, 3)
    services = []
    for k in range(nservices):
        use = rnd.sample(sources, rnd.randint(1, nsources))
        services.append({"name": "svc%d" % k, "port": 25 + 1000 * k, "sources": use})
    for s in sources:  # every source is used by some service
        if not any(s in svc["sources"] for svc in services):
            services[0]["sources"].append(s)

    def write_policy(fname, empty):
        out = ["[table]", "name = roundtrip", ""]
        for svc in services:
            out += ["[service %s]" % svc["name"], "ports = tcp/%d" % svc["port"],
                    "sources = %s" % " ".join(s["name"] for s in svc["sources"]),
                    "allow-empty = yes", ""]
        for s in sources:
            out += ["[source %s]" % s["name"], "format = %s" % s["format"],
                    "file = %s" % ("empty.txt" if empty else s["name"] + ".txt"),
                    "allow-empty = yes"]
            if s["wide"]:
                out += ["broadest = /1", "broadest6 = /1"]
            out.append("")
        with open(os.path.join(path, fname), "w") as f:
            f.write("\n".join(out))

    write_policy("policy.conf", False)
    write_policy("empty.conf", True)
    with open(os.path.join(path, "empty.txt"), "w") as f:
        f.write("# nothing\n")

    want = {}
    for svc in services:
        for fam, suffix in ((4, "v4"), (6, "v6")):
            ranges = []
            for s in svc["sources"]:
                for f, lo, plen, _t in s["entries"]:
                    if f == fam:
                        bits = 32 if fam == 4 else 128
                        ranges.append((lo, lo | ((1 << (bits - plen)) - 1)))
            want["%s_%s" % (svc["name"], suffix)] = merge(ranges)
    with open(os.path.join(path, "want.json"), "w") as f:
        json.dump({k: [[str(lo), str(hi)] for lo, hi in v] for k, v in want.items()}, f)


def cmd_gen(top, count, seed):
    rnd = random.Random(seed)
    for i in range(count):
        gen_case(os.path.join(top, "%03d" % i), rnd)


def parse_addr(text, fam):
    """The text of the model: IPv4 a dotted quad; IPv6 hexadecimal groups only."""
    import ipaddress
    if fam == "ipv4":
        return int(ipaddress.IPv4Address(text))
    if "." in text:
        raise ValueError("an IPv6 address written with a dotted quad")
    return int(ipaddress.IPv6Address(text))


def cover(lo, hi, bits):
    """Minimal CIDR cover, ascending: the largest aligned block at each step."""
    out = []
    while lo <= hi:
        size = (lo & -lo).bit_length() - 1 if lo else bits
        while size > 0 and lo + (1 << size) - 1 > hi:
            size -= 1
        out.append((lo, bits - size))
        lo += 1 << size
    return out


def check_case(path):
    want = json.load(open(os.path.join(path, "want.json")))
    model = json.load(open(os.path.join(path, "model.json")))
    removed = json.load(open(os.path.join(path, "removed.json")))
    problems = []
    written = {}
    for svc in model["services"]:
        for fam, f in svc["families"].items():
            bits = 32 if fam == "ipv4" else 128
            ivs, cidrs = [], []
            for iv in f["intervals"]:
                try:
                    lo, hi = parse_addr(iv["first"], fam), parse_addr(iv["last"], fam)
                except ValueError as e:
                    problems.append("%s: %s / %s: %s" % (f["set"], iv["first"], iv["last"], e))
                    continue
                text = v4_text if fam == "ipv4" else v6_text
                if iv["first"] != text(lo) or iv["last"] != text(hi):
                    problems.append("%s: %s - %s is not RFC 5952 text (%s - %s)" %
                                    (f["set"], iv["first"], iv["last"], text(lo), text(hi)))
                ivs.append([str(lo), str(hi)])
                want_cidrs = ["%s/%d" % (text(a), p) for a, p in cover(lo, hi, bits)]
                if iv["cidrs"] != want_cidrs:
                    problems.append("%s: cidrs %s, want %s" % (f["set"], iv["cidrs"], want_cidrs))
                cidrs += iv["cidrs"]
            written[f["set"]] = cidrs
            if ivs != want.get(f["set"]):
                problems.append("%s: intervals %s, want %s" %
                                (f["set"], ivs[:4], (want.get(f["set"]) or [])[:4]))
    if set(written) != set(want):
        problems.append("sets %s, want %s" % (sorted(written), sorted(want)))
    # What diff read back from the model, CIDR by CIDR, against what build wrote.
    for s in removed["sets"]:
        got = [e["prefix"] for e in s["removed"]]
        if s["added"] or got != written.get(s["set"]):
            problems.append("%s read back as %s (+%d), written %s" %
                            (s["set"], got[:4], len(s["added"]), written.get(s["set"], [])[:4]))
    return problems


def cmd_check(top):
    """Every case must have its model and its read-back; prints how many were checked."""
    bad = checked = 0
    for case in sorted(os.listdir(top)):
        path = os.path.join(top, case)
        if not os.path.isfile(os.path.join(path, "want.json")):
            continue
        if not os.path.isfile(os.path.join(path, "removed.json")):
            problems = ["no model, or diff did not read it"]
        else:
            problems = check_case(path)
            checked += 1
        if problems:
            bad += 1
            print("FAIL: model round trip %s: %s" % (case, "; ".join(problems[:3])))
    print("checked %d" % checked)
    return bad


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "gen":
        cmd_gen(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif len(sys.argv) == 3 and sys.argv[1] == "check":
        sys.exit(1 if cmd_check(sys.argv[2]) else 0)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
