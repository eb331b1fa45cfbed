#!/usr/bin/env python3
"""Seed corpus of the dnat harness (tests/fuzz/fuzz_dnat.c): writes
tests/fuzz/corpus/dnat/, and into tests/fuzz/crashes/dnat/ the inputs of the
reader's bugs the harness found (written again here, so each says what it is).
Run it again after changing this file; the files are its output, byte for byte.

raw-*    byte 0 even, then a rule dump as the kernel sends it: netlink messages
         (host byte order), nfgenmsg, attributes in network byte order, nests
         flagged NLA_F_NESTED; the rules of tests/kernel/dnat.sh and a few more.
built-*  byte 0 odd, then the harness's own description of the rules it builds
         with libnftnl (see the comment at the top of fuzz_dnat.c).
"""
import os
import socket
import struct
import sys

NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_MULTI = 2
NEWRULE = (10 << 8) | 6  # NFNL_SUBSYS_NFTABLES, NFT_MSG_NEWRULE
NESTED = 0x8000
IPV4, IPV6, INET = 2, 10, 1
SEQ, PORTID = 7, 4242

# Attribute numbers (linux/netfilter/nf_tables.h, nf_tables_compat.h).
RULE_TABLE, RULE_CHAIN, RULE_HANDLE, RULE_EXPRESSIONS = 1, 2, 3, 4
LIST_ELEM, EXPR_NAME, EXPR_DATA = 1, 1, 2
DATA_VALUE = 1
REG1, REG2 = 1, 2


def attr(t, payload):
    n = 4 + len(payload)
    return struct.pack("=HH", n, t) + payload + b"\0" * (-n % 4)


def u32(t, v):
    return attr(t, struct.pack(">I", v))


def u8(t, v):
    return attr(t, bytes([v]))


def strz(t, s):
    return attr(t, s.encode() + b"\0")


def nest(t, *inner):
    return attr(t | NESTED, b"".join(inner))


def data(t, value):
    return nest(t, attr(DATA_VALUE, value))


def expr(name, *attrs):
    return nest(LIST_ELEM, strz(EXPR_NAME, name), nest(EXPR_DATA, *attrs))


def meta(key, reg=REG1):  # NFTA_META_DREG 1, KEY 2
    return expr("meta", u32(1, reg), u32(2, key))


NFPROTO, L4PROTO = 15, 16


def payload(base, off, n, reg=REG1):  # DREG 1, BASE 2, OFFSET 3, LEN 4
    return expr("payload", u32(1, reg), u32(2, base), u32(3, off), u32(4, n))


NETWORK, TRANSPORT = 1, 2


def cmp(value, op=0, reg=REG1):  # SREG 1, OP 2, DATA 3
    return expr("cmp", u32(1, reg), u32(2, op), data(3, value))


def rng(lo, hi, reg=REG1):  # SREG 1, OP 2, FROM 3, TO 4
    return expr("range", u32(1, reg), u32(2, 0), data(3, lo), data(4, hi))


def bitwise(mask, reg=REG1):  # SREG 1, DREG 2, LEN 3, MASK 4, XOR 5
    return expr("bitwise", u32(1, reg), u32(2, reg), u32(3, len(mask)), data(4, mask),
                data(5, bytes(len(mask))))


def lookup(setname, reg=REG1):  # SET 1, SREG 2
    return expr("lookup", strz(1, setname), u32(2, reg), u32(5, 0))


def ct(key, reg=REG1):  # DREG 1, KEY 2, DIRECTION 3
    return expr("ct", u32(1, reg), u32(2, key), u8(3, 0))


CT_PROTO_DST, CT_DST_IP, CT_DST_IP6 = 12, 20, 22


def imm(value, reg=REG1):  # DREG 1, DATA 2
    return expr("immediate", u32(1, reg), data(2, value))


def nat_dnat(family, areg=REG1, preg=None):  # TYPE 1, FAMILY 2, REG_ADDR_MIN 3, PROTO_MIN 5
    a = [u32(1, 1), u32(2, family), u32(3, areg)]
    if preg:
        a.append(u32(5, preg))
    return expr("nat", *a)


def target(name, rev, info):  # NAME 1, REV 2, INFO 3
    return expr("target", strz(1, name), u32(2, rev), attr(3, info))


def match(name, rev, info):
    return expr("match", strz(1, name), u32(2, rev), attr(3, info))


def counter():  # BYTES 1, PACKETS 2
    return expr("counter", attr(1, struct.pack(">Q", 0)), attr(2, struct.pack(">Q", 0)))


def a4(s):
    return socket.inet_pton(socket.AF_INET, s)


def a6(s):
    return socket.inet_pton(socket.AF_INET6, s)


def port(p):
    return struct.pack(">H", p)


def msg(t, family, body, seq=SEQ, flags=NLM_F_MULTI):
    payload = struct.pack("=BBH", family, 0, socket.htons(12)) + body
    return struct.pack("=IHHII", 16 + len(payload), t, flags, seq, PORTID) + payload


def rule(family, table, chain, handle, *exprs):
    return msg(NEWRULE, family, strz(RULE_TABLE, table) + strz(RULE_CHAIN, chain) +
               attr(RULE_HANDLE, struct.pack(">Q", handle)) +
               nest(RULE_EXPRESSIONS, *exprs))


def done():
    return struct.pack("=IHHIIi", 20, NLMSG_DONE, NLM_F_MULTI, SEQ, PORTID, 0)


def error(e):
    return struct.pack("=IHHIIi", 36, NLMSG_ERROR, 0, SEQ, PORTID, -e) + bytes(16)


def tcp_dport(p):
    return [meta(L4PROTO), cmp(bytes([6])), payload(TRANSPORT, 2, 2), cmp(port(p))]


def ip_daddr(a):
    return [payload(NETWORK, 16, 4), cmp(a4(a))]


# nf_nat_range2 (xtables DNAT revision 2): flags u32, min_addr, max_addr (16 each),
# min_proto, max_proto (u16 each, network order), base_proto u16 + padding.
def nat_range2(addr, p):
    flags = 1 | 2  # NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED
    a = a4(addr) + bytes(12)
    return struct.pack("=I", flags) + a + a + port(p) + port(p) + bytes(4)


raw = {
    # tests/kernel/dnat.sh, table ip adminnat
    "raw-nat-daddr-dport": rule(IPV4, "adminnat", "prerouting", 2,
                                *ip_daddr("203.0.113.1"), *tcp_dport(25),
                                imm(a4("192.0.2.25")), imm(port(25), REG2),
                                nat_dnat(IPV4, REG1, REG2)) + done(),
    "raw-lookup": rule(IPV4, "adminnat", "prerouting", 4,
                       payload(NETWORK, 16, 4), lookup("__set0"), meta(L4PROTO),
                       cmp(bytes([6])), payload(TRANSPORT, 2, 2), lookup("__set1"),
                       imm(a4("192.0.2.27")), nat_dnat(IPV4)) + done(),
    # Docker's iptables backend: ! -i docker0 -p tcp --dport 587 -j DNAT
    "raw-target": rule(IPV4, "nat", "DOCKER", 9, meta(L4PROTO), cmp(bytes([6])),
                       payload(TRANSPORT, 2, 2), cmp(port(587)), counter(),
                       match("addrtype", 1, bytes(8)),
                       target("DNAT", 2, nat_range2("192.0.2.130", 587))) + done(),
    "raw-range": rule(IPV4, "adminnat", "prerouting", 5,
                      payload(NETWORK, 16, 4), rng(a4("198.51.100.0"), a4("198.51.100.20")),
                      meta(L4PROTO), cmp(bytes([6])), payload(TRANSPORT, 2, 2),
                      rng(port(2000), port(2100)), imm(a4("192.0.2.28")),
                      nat_dnat(IPV4)) + done(),
    "raw-bitwise": rule(IPV4, "adminnat", "prerouting", 6, payload(NETWORK, 16, 4),
                        bitwise(a4("255.255.255.240")), cmp(a4("203.0.113.0")),
                        *tcp_dport(25), imm(a4("192.0.2.29")), nat_dnat(IPV4)) + done(),
    # table inet sixnat, and the skipped table inet mxfence
    "raw-inet-v6": rule(INET, "sixnat", "prerouting", 3, meta(NFPROTO),
                        cmp(bytes([IPV6])), payload(NETWORK, 24, 16),
                        cmp(a6("2001:db8:e::1")), *tcp_dport(25),
                        imm(a6("2001:db8:5::25")), imm(port(25), REG2),
                        nat_dnat(IPV6, REG1, REG2)) +
                   rule(INET, "mxfence", "forward", 3, meta(NFPROTO), cmp(bytes([IPV4])),
                        *tcp_dport(25), imm(a4("192.0.2.30")), nat_dnat(IPV4)) + done(),
    "raw-ct": rule(IPV4, "adminnat", "prerouting", 8, ct(CT_DST_IP),
                   cmp(a4("203.0.113.9")), ct(CT_PROTO_DST), cmp(port(25)),
                   imm(a4("192.0.2.31")), nat_dnat(IPV4)) + done(),
    "raw-error": error(1),
    # a rule message of a header only, then a rule: the first is no rule
    "raw-no-room-for-nfgenmsg": struct.pack("=IHHII", 16, NEWRULE, NLM_F_MULTI, SEQ, PORTID) +
    rule(IPV4, "adminnat", "prerouting", 2, *ip_daddr("203.0.113.1"), imm(a4("192.0.2.25")),
         nat_dnat(IPV4)) + done(),
}


def r(*b):
    return bytes(b)


def exact(fam, a, p, x, q=None):
    """Built mode, flags 1|2: the exact rule, then NLMSG_DONE."""
    pack = a4 if fam != 2 else a6
    b = r(1, SEQ - 1, 1, 1 | 2, fam) + pack(a) + port(p) + pack(x)
    return b + (r(1) + port(q) if q is not None else r(0))


# Operands of the built mode's expressions (add_expr() in fuzz_dnat.c); registers
# 0-3 are NFT_REG_1..4.
def b_meta(key):
    return r(0, key, 0)


def b_payload(base, off, n):
    return r(1, base, off, n, 0)


def b_cmp(op, value, reg=0):
    return r(4, reg, op) + r(len(value)) + value


def b_range(lo, hi):
    return r(5, 0, len(lo) << 1) + lo + hi


def b_bitwise(mask):
    return r(3, 0, 0, len(mask)) + mask


def b_lookup(name_sel, flags=0):
    return r(6, 0, name_sel, flags)


def b_imm(value, reg=0):
    return r(7, reg, len(value)) + value


def b_nat(areg=None, preg=None, fam=0):
    f = fam | (4 if areg is not None else 0) | (8 if preg is not None else 0)
    return r(8, 0, f) + (r(areg) if areg is not None else b"") + \
        (r(preg) if preg is not None else b"")


def b_target(info, rev=2):
    return r(9, 0, rev, len(info)) + info


def b_rule(fam, *exprs, table=0, chain=0):
    return r(fam, table, chain, len(exprs)) + b"".join(exprs)


built = {
    "built-exact-ip": exact(0, "203.0.113.1", 25, "192.0.2.25", 25),
    "built-exact-inet": exact(1, "203.0.113.5", 25, "192.0.2.26"),
    "built-exact-ip6": exact(2, "2001:db8:e::1", 25, "2001:db8:5::25", 25),
    "built-lookup-range": r(1, SEQ - 1, 1, 2) +
    b_rule(0, b_payload(1, 16, 4), b_lookup(1), b_meta(1), b_cmp(0, r(6)),
           b_payload(2, 2, 2), b_range(port(2000), port(2100)),
           b_imm(a4("192.0.2.27")), b_nat(0)),
    "built-bitwise-target": r(1, SEQ - 1, 1, 2) +
    b_rule(0, b_payload(1, 16, 4), b_bitwise(a4("255.255.255.240")),
           b_cmp(0, a4("203.0.113.0")), b_meta(1), b_cmp(0, r(6)), b_payload(2, 2, 2),
           b_cmp(0, port(587)), b_target(nat_range2("192.0.2.130", 587)), table=2,
           chain=1),
    "built-skipped-and-stray": r(1, SEQ - 1, 1, 1 | 2 | 4) + r(0) + a4("203.0.113.1") +
    port(25) + a4("192.0.2.25") + r(0) +
    b_rule(2, b_meta(1), b_cmp(0, r(6)), b_imm(a4("192.0.2.30")), b_nat(0), table=1),
}


def expr_noname(*attrs):
    return nest(LIST_ELEM, nest(EXPR_DATA, *attrs))


def raw_rule(family, *attrs, seq=SEQ):
    return msg(NEWRULE, family, b"".join(attrs), seq)


crashes = {
    # libnftnl's parser followed a NULL name (nftnl_expr_parse())
    "raw-expression-without-name": rule(IPV4, "adminnat", "prerouting", 2,
                                        *ip_daddr("203.0.113.1"),
                                        expr_noname(u32(1, REG1), u32(2, 16)),
                                        imm(a4("192.0.2.25")), nat_dnat(IPV4)) + done(),
    # libnftnl's parser exits the process on an attribute of the wrong size
    "raw-handle-of-four-bytes": raw_rule(IPV4, strz(RULE_TABLE, "adminnat"),
                                         strz(RULE_CHAIN, "prerouting"),
                                         attr(RULE_HANDLE, struct.pack(">I", 2)),
                                         nest(RULE_EXPRESSIONS, imm(a4("192.0.2.25")),
                                              nat_dnat(IPV4))) + done(),
    # a table name without its NUL, last in the message: strdup() read past it
    "raw-table-unterminated": raw_rule(IPV4, strz(RULE_CHAIN, "prerouting"),
                                       nest(RULE_EXPRESSIONS, imm(a4("192.0.2.25")),
                                            nat_dnat(IPV4)),
                                       attr(RULE_TABLE, b"nat1")),
    # ct original ip6 daddr in a table ip: an IPv6 address read as an IPv4 destination
    "raw-ct-ip6-daddr-in-ip-table": rule(IPV4, "adminnat", "prerouting", 2,
                                         ct(CT_DST_IP6), cmp(a6("2001:db8:e::1")),
                                         *tcp_dport(25), imm(a4("192.0.2.25")),
                                         nat_dnat(IPV4)) + done(),
    # ip daddr < 0.0.0.0: the upper bound wrapped to 2^128 - 1, outside IPv4
    "raw-daddr-below-zero": rule(IPV4, "adminnat", "prerouting", 2,
                                 payload(NETWORK, 16, 4), cmp(a4("0.0.0.0"), op=2),
                                 *tcp_dport(25), imm(a4("192.0.2.25")),
                                 nat_dnat(IPV4)) + done(),
    # (found by the harness) two bytes of an IPv6 destination compared with two
    # bytes, last in the dump: the whole address was read from the data
    "raw-part-of-address-compared": rule(IPV6, "nat6", "prerouting", 2,
                                         imm(a6("2001:db8:5::25")), nat_dnat(IPV6),
                                         payload(NETWORK, 24, 2), cmp(a6("2001:db8::")[:2])),
}

# Built mode: a rule in table ip nat chain PREROUTING of one xtables DNAT target
# without its info: not read as a DNAT rule.
crashes["built-dnat-target-without-info"] = r(1, SEQ - 1, 1, 2) + r(0, 0, 0, 1) + r(9, 0, 4)
# Built mode (found by the harness, minimized): a rule of table ip6 nat without
# a chain attribute (flags 0x49: ip6, no chain), then zeros: xstrdup(NULL).
crashes["built-rule-without-chain"] = r(1, 0x80, 0, 0, 0x49, 0, 0, 1, 0x80)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = os.path.join(here, "corpus", "dnat")
    os.makedirs(out, exist_ok=True)
    for name, body in raw.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(b"\0" + body)
    for name, body in built.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(body)
    print(f"{len(raw) + len(built)} seeds in {out}", file=sys.stderr)
    out = os.path.join(here, "crashes", "dnat")
    os.makedirs(out, exist_ok=True)
    for name, body in crashes.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(body if name.startswith("built-") else b"\0" + body)
    print(f"{len(crashes)} crash inputs in {out}", file=sys.stderr)


main()
