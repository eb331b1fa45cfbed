/*
 * The DNAT rules of every nf_tables table, read over netlink: which
 * connections (protocol, destination port, destination address as the client
 * sent them) another table rewrites to somewhere else. mxfence's `check` and
 * `status` compare them with the services' `to`. Plain data out; only this
 * side of src/nl/ knows libnftnl.
 *
 * Read: native `dnat` (nft, Docker's nftables backend) and the xtables DNAT
 * target (iptables-nft, Docker's iptables backend); matches on meta nfproto
 * and l4proto, on the destination address and port by payload or by the
 * conntrack original tuple, with cmp, range, bitwise prefixes and set
 * lookups. A match that is not understood (a negation, an xtables match) is
 * taken as matching everything of its kind: a rule reads broader than it is,
 * never narrower. A match nothing passes (a destination of the other family
 * than the rule's, `ip daddr < 0.0.0.0`) reads as no destination or no port.
 * Rules of iptables-legacy are not in nf_tables and are not seen. A message
 * that names no table or no chain is no rule of a table, and an attribute
 * of the wrong size is taken as absent: the kernel sends neither.
 */
#ifndef MXFENCE_NL_DNAT_H
#define MXFENCE_NL_DNAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../addr.h"

struct nat_rule {
	char *family;   /* the table's: "ip", "ip6", "inet" */
	char *table, *chain;
	uint64_t handle;
	int fam;        /* the destinations' family: FAM_V4, FAM_V6, or -1 either */
	int l4proto;    /* the IP protocol matched (IPPROTO_TCP, IPPROTO_UDP, any other
			   0-255), or -1 any */
	bool any_port;  /* no destination port match read; ports NULL then */
	struct range *ports; /* ascending, disjoint, inside 0-65535; none: no port */
	size_t nports;
	bool any_dest;  /* no destination address match read; dest NULL then */
	struct range *dest; /* ascending, disjoint, of family fam (never -1 when
			       !any_dest); none: no destination */
	size_t ndest;
	char target[160]; /* "192.0.2.130:25", "[2001:db8:5::25]:25", "addresses of a map",
			     never empty */
};

struct nat_rule_list {
	struct nat_rule *v;
	size_t n;
};

struct nl;

/*
 * Every DNAT rule of every table but `skip_table` (family inet, ours), read
 * consistently: every reply of the generation read first, and that
 * generation again at the end; all over again if it moved. Returns 0, or
 * -errno with err filled.
 */
int nl_read_dnat(struct nl *nl, const char *skip_table, struct nat_rule_list *out, char *err,
		 size_t errlen);
/*
 * The same reading without a socket: buf holds the replies of a rule dump
 * (NFT_MSG_GETRULE) as recvmsg() gives them, netlink messages one after the
 * other, aligned as recvmsg()'s. Those of the first message's request (seq,
 * portid) are read, up to NLMSG_DONE or an error, and every DNAT rule among
 * them goes to out as nl_read_dnat() would give it, but that no set can be
 * asked for its elements: a match on a set lookup reads as everything of its
 * kind, as it does for a set that is gone by the time it is read. Returns 0,
 * or -errno (the kernel's error in the replies, -EBADMSG for a message cut
 * short) with out empty.
 */
int nl_dnat_parse(const void *buf, size_t len, const char *skip_table, struct nat_rule_list *out);
void nat_rule_list_free(struct nat_rule_list *l);

#endif
