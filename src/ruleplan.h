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
#define PLAN_NAME_LEN (NAME_MAX_LEN + 8)

/* A named set of addresses: a service's sources of one family. */
struct plan_set {
	char name[PLAN_NAME_LEN];
	enum family fam;
	const struct service *svc; /* its intervals: svc->set[fam] */
};

/* Where a chain hooks in. Every chain is type filter, family inet. */
enum plan_hook {
	PLAN_HOOK_INPUT,
};

/* The destination ports of a rule: one protocol, ascending, overlaps merged. */
struct plan_ports {
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
enum plan_dest {
	PLAN_DEST_ANY, /* whatever the chain's hook sees: for input, this host's own */
};

/*
 * One rule, matched in this order: layer 4 protocol and destination port;
 * destination; the source looked up in a set of its family (from), or any
 * source; then the counter and the verdict.
 */
struct plan_rule {
	const struct service *svc; /* the service it is a rule of */
	struct plan_ports ports;
	enum plan_dest dest;
	const struct plan_set *from; /* NULL: any source, any family */
	bool counter;
	enum verdict verdict;
};

struct plan_chain {
	const char *name;    /* "input" */
	enum plan_hook hook;
	int priority;
	enum verdict policy; /* for what no rule decides */
	struct plan_rule *rules;
	size_t nrules;
};

struct rule_plan {
	const char *table;         /* family inet */
	struct plan_set *sets;     /* per service, IPv4 then IPv6 */
	size_t nsets;
	struct plan_chain *chains;
	size_t nchains;
};

/*
 * The plan of a policy: one input chain at the policy's priority, policy
 * accept; per service, per protocol of its ports, an accept for each family's
 * set, then per protocol the `otherwise` verdict for any other source, every
 * rule counted. Borrows the policy's names and services: free the plan first.
 */
void rule_plan_build(const struct policy *pol, struct rule_plan *out);
void rule_plan_free(struct rule_plan *p);

/* The set of the plan named `name`, or NULL. */
const struct plan_set *rule_plan_set(const struct rule_plan *p, const char *name);

/* "input" */
const char *plan_hook_name(enum plan_hook h);

/*
 * The ports of protocol p of a service, sorted, overlapping ones merged
 * (adjacent ones stay apart, as written): false if it has none. Free out->v.
 */
bool service_ports(const struct service *svc, enum proto p, struct plan_ports *out);

#endif
