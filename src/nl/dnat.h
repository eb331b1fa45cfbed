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
 * never narrower. Rules of iptables-legacy are not in nf_tables and are not
 * seen.
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
	int l4proto;    /* IPPROTO_TCP, IPPROTO_UDP, or -1 any */
	bool any_port;  /* no destination port match read */
	struct range *ports;
	size_t nports;
	bool any_dest;  /* no destination address match read */
	struct range *dest; /* of family fam (never -1 when !any_dest) */
	size_t ndest;
	char target[160]; /* "192.0.2.130:25", "[2001:db8:5::25]:25", "addresses of a map" */
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
void nat_rule_list_free(struct nat_rule_list *l);

#endif
