/*
 * The policy: a table, services (ports + sources + what happens otherwise) and
 * sources (a feed in some format, with filters). Loaded from an INI file.
 */
#ifndef MXFENCE_POLICY_H
#define MXFENCE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "diag.h"
#include "model.h"

#define NAME_MAX_LEN 32
#define DEFAULT_TABLE "mxfence"
#define DEFAULT_CONF "/etc/mxfence/mxfence.conf"
#define DEFAULT_BROADEST_V4 8
#define DEFAULT_BROADEST_V6 16
#define DEFAULT_MAX_REMOVAL 10.0
#define DEFAULT_CACHE_DIR "/var/cache/mxfence"

/* Fetching (mxfence fetch): defaults of the [source] keys. */
#define DEFAULT_MAX_SIZE (64u << 20)  /* bytes of one download */
#define DEFAULT_MAX_SHRINK 10.0       /* percent of the last good copy's prefixes */
#define DEFAULT_TIMEOUT 120           /* seconds, a whole download */
#define DEFAULT_CONNECT_TIMEOUT 15    /* seconds */
#define DEFAULT_RETRIES 3             /* after the first try; backoff 1, 2, 4... s */

enum proto { PROTO_TCP, PROTO_UDP };
enum verdict { VERDICT_ACCEPT, VERDICT_DROP, VERDICT_REJECT };

struct portrange {
	enum proto proto;
	uint16_t lo, hi;
};

const char *proto_name(enum proto p);
const char *verdict_name(enum verdict v);

struct source_loc {
	uint32_t entry, item;
};

/* A key = value of a [source] section, kept for the format's own filters. */
struct source_opt {
	char *key;
	char *value;
	unsigned line;
	bool used;
};

struct feed_format;

struct source {
	char *name;
	unsigned line; /* of the [source NAME] header */
	const struct feed_format *fmt;
	bool format_seen;
	char *file; /* as written in the policy */
	char *path; /* resolved against the policy's folder */
	bool strict;
	bool allow_empty;
	unsigned broadest[FAM_COUNT]; /* shortest prefix length accepted */
	struct source_opt *opts;
	size_t nopts;
	size_t used_by; /* services naming it */

	/*
	 * Fetched sources (a url, or a format that queries DNS): src->path is
	 * their last good copy in the cache, <cache-dir>/<name>.feed.
	 */
	bool remote;
	char *url;
	unsigned url_line;
	char *ca_file; /* resolved against the policy's folder */
	bool insecure_http;
	uint64_t max_size;
	double max_shrink;
	unsigned timeout, connect_timeout, retries;
	bool timeout_set; /* spf: a DNS query's timeout instead of its own default */
	unsigned fetch_line; /* of the first fetch key, for "only with url" */

	/* Filled when loaded. */
	struct input_vec pfx[FAM_COUNT];
	/*
	 * Its prefixes' origins are origin_base + k, k < norigins: k is the
	 * line for text formats, an index into locs for JSON formats (see
	 * policy_origin). Sources own consecutive, disjoint runs of origins.
	 */
	uint32_t origin_base, norigins;
	struct source_loc *locs;
	size_t nlocs, loccap;
	char *version;  /* the feed's own version fields, for people */
	uint64_t serial; /* its version as a number (syncToken, changeNumber), if has_serial */
	bool has_serial;
	char **labels;  /* per-entry labels of JSON feeds (e.g. "id 10") */
	size_t nlabels;
	size_t count[FAM_COUNT]; /* prefixes taken, per family */
	bool loaded;
	bool failed;
};

struct service {
	char *name;
	unsigned line;
	struct portrange *ports;
	size_t nports;
	unsigned ports_line;
	char **source_names;
	size_t nsource_names;
	unsigned sources_line;
	uint32_t *sources; /* indices into policy.sources */
	size_t nsources;
	enum verdict otherwise;
	double max_removal; /* percent of addresses */
	bool allow_empty;
	struct interval_set set[FAM_COUNT];
	/*
	 * `to`: the destinations as the clients address them (before any DNAT),
	 * per family ascending and merged. A family without any is governed as
	 * before: the service's ports on this host, any local address, nothing
	 * forwarded. With some, the service governs new connections to them,
	 * delivered here or forwarded.
	 */
	struct range_vec to[FAM_COUNT];
	unsigned to_line; /* of the first `to` key */
};

struct policy {
	char *path;
	char *dir;
	char *cache_dir;
	char *table;
	int priority;
	/*
	 * [table] unapplied: what `restore` does when nothing was ever applied
	 * (no saved ruleset): false ("closed", the default) installs the table
	 * with empty sets, so every service's ports refuse; true leaves them open.
	 */
	bool unapplied_open;
	struct service *services;
	size_t nservices;
	struct source *sources;
	size_t nsources;
};

/*
 * Parse and lint; every problem goes to diag. Returns 0 when no error.
 * cache_dir (NULL: the default) holds the last good copies of fetched sources.
 */
int policy_load(struct policy *pol, const char *path, const char *cache_dir, struct diag *d);
void policy_free(struct policy *pol);

/* Read every source a service uses and build the services' interval sets. */
int policy_compile(struct policy *pol, struct diag *d);
/* A service left with no prefix at all, unless it allows that: an error. */
int policy_empty_services(const struct policy *pol, struct diag *d);

struct source *policy_source(struct policy *pol, const char *name);

/* The set name of a service and family: "<service>_v4" / "<service>_v6". */
void service_set_name(const struct service *svc, enum family f, char *buf, size_t n);

/* Does the service govern proto/port? */
bool service_has_port(const struct service *svc, enum proto p, unsigned port);

/* Does the service have a `to` for family f? */
static inline bool service_has_to(const struct service *svc, enum family f)
{
	return svc->to[f].n > 0;
}

/*
 * Two services that share a port govern the same connections where their
 * destinations meet in some family, a family without `to` standing for every
 * destination. Returns the first such family, or -1; *meet is the first range
 * both name when both have a `to` of it (else left as it was). The policy and
 * a plan's reader refuse such services alike.
 */
int to_meet(const struct range_vec a[FAM_COUNT], const struct range_vec b[FAM_COUNT],
	    struct range *meet);

/* Is addr among the service's `to` destinations of family f? */
bool service_to_covers(const struct service *svc, enum family f, u128 addr);

/*
 * The service that governs a flow of family f to proto/port, dest its
 * destination or NULL:
 * - with a destination, the service with the port whose `to` covers it,
 *   else the one with the port and no `to` of that family (dest is then
 *   taken to be an address of this host);
 * - without, the service with the port and no `to` of that family, else
 *   the one service with the port and a `to` of that family.
 * *svc is NULL when no service governs it (the chains accept). Returns -1
 * when a flow without destination is ambiguous: several services with a
 * `to` share the port; *svc and *other are the first two.
 */
int policy_flow_service(const struct policy *pol, enum family f, enum proto p, unsigned port,
			const struct prefix *dest, const struct service **svc,
			const struct service **other);

/* Which source, and where in it, an input prefix's origin number points to. */
struct origin policy_origin(const struct policy *pol, uint32_t origin);

/* Human-readable place of an origin: "relays: relays.txt:3", "microsoft365: m365 id 10". */
void origin_where(const struct policy *pol, uint32_t origin, char *buf, size_t n);

/*
 * Names as the policy takes them: a service's or a table's (a letter, then
 * letters, digits, _), a source's (also - and .); a table's is no nft keyword.
 */
bool policy_valid_name(const char *s, bool source);
bool policy_valid_table_name(const char *s);

/* The cache's files of a fetched source: "<cache-dir>/<name><suffix>". */
char *source_cache_path(const struct policy *pol, const struct source *src, const char *suffix);

#endif
