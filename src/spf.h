/*
 * SPF flattening: the addresses a domain's SPF record (RFC 7208) passes,
 * found by following the record through DNS, written as a feed that
 * format = spf reads back.
 *
 * Output of spf_flatten(), one line each:
 *
 *	# spf DOMAIN
 *	PREFIX<TAB>CHAIN
 *	...
 *
 * PREFIX is an ip4/ip6 network as the record writes it ("/32" or "/128"
 * added when it has no length), or for a and mx an address found in DNS
 * with the term's cidr length, host bits cleared. CHAIN says where it
 * came from: the domains followed from DOMAIN, joined by " > ", through
 * include: and redirect=, and for a and mx the host looked up:
 *
 *	_spf.google.com > _netblocks2.google.com
 *	example.org > a www.example.org
 *	example.org > mx mail.example.org
 *
 * Order: as met in the records, depth first. A domain reached along two
 * branches (a diamond) is flattened each time.
 *
 * Flattened: ip4, ip6, a, mx and include with the pass qualifier ('+' or
 * none); redirect= when the record has no all term.
 *
 * Warnings (the feed is still written): ip4, ip6, a, mx and include terms
 * with a '-', '~' or '?' qualifier (skipped); ptr, exists and terms with
 * macros (they depend on the sender, skipped); terms after all (never
 * evaluated); a redirect= beside an all term; an a or mx host with no
 * address, or a domain with no MX; more DNS-querying terms (include, a,
 * mx, ptr, exists, redirect) than the 10 a receiver evaluates.
 *
 * Errors (nothing is written): a malformed record; no SPF record (no TXT
 * record starting "v=spf1", any case) or several at a domain; a TXT lookup
 * that fails (NXDOMAIN, SERVFAIL, REFUSED, no answer in the timeout), and
 * an A, AAAA or MX lookup that fails other than by NXDOMAIN; a pass all
 * ("all", "+all"), which would allow every address; a loop (a domain in
 * its own chain); a chain longer than max_depth domains; more than
 * max_lookups DNS queries in all (TXT, MX, and A plus AAAA for each a
 * host and each MX host). Every message names the chain.
 */
#ifndef MXFENCE_SPF_H
#define MXFENCE_SPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <ldns/ldns.h>

#include "addr.h"
#include "diag.h"

#define SPF_MAX_DEPTH 10      /* domains in one chain */
#define SPF_MAX_LOOKUPS 100   /* DNS queries of one flattening */
#define SPF_RFC_LOOKUPS 10    /* DNS-querying terms a receiver evaluates (RFC 7208 4.6.4) */
#define SPF_TIMEOUT_MS 5000   /* per query */
#define SPF_MAX_RECORD 4096   /* longest record text parsed */

enum spf_kind {
	SPF_ALL,
	SPF_INCLUDE,
	SPF_A,
	SPF_MX,
	SPF_PTR,
	SPF_IP4,
	SPF_IP6,
	SPF_EXISTS,
	SPF_REDIRECT, /* modifiers */
	SPF_EXP,
};

struct spf_term {
	enum spf_kind kind;
	char qual;     /* '+', '-', '~' or '?'; '+' when absent; 0 for modifiers */
	char *text;    /* the term as written */
	char *domain;  /* domain-spec; NULL when absent (a, mx, ptr: the record's domain) */
	char *net;     /* ip4, ip6: the network as written, without the "ip4:" */
	struct prefix prefix; /* ip4, ip6: parsed */
	unsigned cidr4, cidr6; /* a, mx: 32 and 128 unless given */
	bool macro;    /* the domain-spec has a macro: %{i} and the like */
};

struct spf_record {
	struct spf_term *terms; /* mechanisms and known modifiers; unknown modifiers are dropped */
	size_t n;
};

/* "v=spf1" (any case) followed by a space or the end. */
bool spf_is_record(const char *text, size_t len);

/*
 * Split a record into terms, strictly: every malformed term is an error
 * at `where` quoting it, with "(chain: CHAIN)" when chain is not NULL.
 * Returns 0, or -1 with rec empty. No I/O.
 */
int spf_parse_record(const char *text, size_t len, struct spf_record *rec, struct diag *d,
		     const char *where, const char *chain);
void spf_record_free(struct spf_record *rec);
/* A domain name as the parser accepts one in a record (no macros). */
bool spf_domain_valid(const char *s);
/* "include", "ip4", "redirect", ... */
const char *spf_kind_name(enum spf_kind k);

/* A TXT record: its character-strings joined with no separator, NUL-terminated. */
struct spf_txt {
	char *text;
	size_t len; /* may hold NUL bytes */
};

/* The TXT records of an answer section, in order. Returns how many. */
size_t spf_txt_from_pkt(const ldns_pkt *pkt, struct spf_txt **txt);
/* The same from a DNS message on the wire; -1 when it does not parse. */
int spf_txt_from_wire(const uint8_t *wire, size_t len, struct spf_txt **txt, size_t *n);
void spf_txt_free(struct spf_txt *txt, size_t n);

struct spf_opts {
	const char *resolver;  /* "ADDR", "ADDR:PORT", "[V6ADDR]:PORT"; NULL: /etc/resolv.conf */
	unsigned timeout_ms;   /* 0: SPF_TIMEOUT_MS */
	unsigned max_depth;    /* 0: SPF_MAX_DEPTH */
	unsigned max_lookups;  /* 0: SPF_MAX_LOOKUPS */
};

/*
 * opts->resolver's text: the address (in addr, of n bytes) and the port
 * (53 when not given). Returns 0, or -1 when malformed.
 */
int spf_resolver_parse(const char *s, char *addr, size_t n, uint16_t *port);

/*
 * Flatten the SPF record of domain into out (the format above). Errors and
 * warnings go to d at `where`. Returns 0, or -1 after any error, with
 * nothing written.
 */
int spf_flatten(const char *domain, const struct spf_opts *opts, FILE *out, struct diag *d,
		const char *where);

struct source;
/*
 * A [source] of format spf: its domain and its spf_opts (resolver points
 * into the source). Errors name the policy line. Returns 0 or -1.
 */
int spf_source_opts(struct source *src, const char *policy_path, const char **domain,
		    struct spf_opts *opts, struct diag *d);

#endif
