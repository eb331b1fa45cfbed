/*
 * The shape of the table, described once: its sets, its chains and, per
 * chain, the rules in order. Built from the policy; the nft script
 * (render_nft.c), the netlink batch and the rule fingerprints that the
 * structure check compares (src/nl/) all write this plan, and none of them
 * decides on its own which rules there are. Plain data, no I/O.
 */
#ifndef MXFENCE_RULEPLAN_H
#define MXFENCE_RULEPLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "addr.h"
#include "policy.h"

/* "<service>_v4": a service name and the suffix. */
#define RULE_NAME_LEN (NAME_MAX_LEN + 8)

/* A named set of addresses: a service's sources of one family. */
struct rule_set {
	char name[RULE_NAME_LEN];
	enum family fam;
	const struct service *svc; /* its intervals: svc->set[fam] */
};

/* Where a chain hooks in. Every chain is type filter, family inet. */
enum rule_hook {
	RULE_HOOK_INPUT,
	RULE_HOOK_FORWARD,
};

/* The destination ports of a rule: one protocol, ascending, overlaps merged. */
struct rule_ports {
	enum proto proto;
	struct range *v; /* n == 1: one port or one range; n > 1: a set of them */
	size_t n;
	bool ranges;     /* some entry spans several ports (as a set: an interval set) */
};

/*
 * What a rule asks of the packet's destination address. Every writer
 * switches on it, so that a new kind is a compile warning in each of them
 * until each writes it.
 */
enum rule_dest {
	RULE_DEST_ANY,      /* whatever the chain's hook sees: for input, this host's own */
	/*
	 * The service's `to`: the connection's destination and port as the
	 * client sent them (the conntrack original tuple, whatever a DNAT made
	 * of them), in the original direction only, so that no reply is judged.
	 */
	RULE_DEST_ORIGINAL,
};

/*
 * The destinations of a service's `to` in one family, as the rules hold
 * them: one element (a cmp, or a prefix's mask and cmp) or an anonymous set
 * of several, as nft makes it: of single addresses (adjacent ones apart), or
 * an interval set whose touching prefixes nft has merged.
 */
struct rule_dests {
	enum family fam;
	struct range *v; /* the elements, ascending */
	size_t n;
	bool interval;   /* some element is a prefix: v are the merged intervals */
	bool single;     /* one element, no set: an address or one prefix, `one` */
	struct prefix one;
};

/*
 * One rule, matched in this order: layer 4 protocol and destination port;
 * destination; the source looked up in a set of its family (from), or any
 * source; then the counter and the verdict.
 */
struct rule_spec {
	const struct service *svc; /* the service it is a rule of */
	struct rule_ports ports;   /* RULE_DEST_ORIGINAL: one port or one range */
	enum rule_dest dest;
	const struct rule_dests *to; /* RULE_DEST_ORIGINAL: the destinations */
	/*
	 * RULE_DEST_ANY without from: the family it is limited to (meta nfproto,
	 * first in the rule), or -1 for both. A service with a `to` of one family
	 * only falls back so in the other.
	 */
	int only_fam;
	const struct rule_set *from; /* NULL: any source, of only_fam */
	bool counter;
	enum verdict verdict;
};

struct rule_chain {
	const char *name;    /* "input", "forward" */
	enum rule_hook hook;
	int priority;
	enum verdict policy; /* for what no rule decides */
	struct rule_spec *rules;
	size_t nrules;
};

struct rule_plan {
	const char *table;         /* family inet */
	struct rule_set *sets;     /* per service, IPv4 then IPv6 */
	size_t nsets;
	struct rule_chain *chains;
	size_t nchains;
	struct rule_dests *dests;  /* per service and family with `to` */
	size_t ndests;
};

/*
 * The plan of a policy: an input chain at the policy's priority, policy
 * accept, and a forward chain like it when some service has `to`; every rule
 * counted. A service without `to`: in input, per protocol of its ports, an
 * accept for each family's set, then per protocol the `otherwise` verdict for
 * any other source. A service with `to`, in each family that has one: in
 * input and in forward, per protocol and port (or range) of its ports, the
 * accept of the family's set and the `otherwise` verdict, both on the
 * original destination; in a family without, in input, the accept and the
 * `otherwise` verdict of that family alone. Borrows the policy's names and
 * services: free the plan first.
 */
void rule_plan_build(const struct policy *pol, struct rule_plan *out);
void rule_plan_free(struct rule_plan *p);

/* The set of the plan named `name`, or NULL. */
const struct rule_set *rule_plan_set(const struct rule_plan *p, const char *name);

/* "input" */
const char *rule_hook_name(enum rule_hook h);

/*
 * The ports of protocol p of a service, sorted, overlapping ones merged
 * (adjacent ones stay apart, as written): false if it has none. Free out->v.
 */
bool service_ports(const struct service *svc, enum proto p, struct rule_ports *out);

#endif
