/*
 * mxfence restore [-c CONF]: what the boot unit runs, after nftables.service
 * and before the network, and again whenever nftables.service is reloaded or
 * restarted. Never fetches, never reads a source: it puts back what the last
 * apply committed.
 *
 *   the table holds the generation the state file names: nothing to do;
 *   else the saved ruleset <state-dir>/<table>.nft is loaded by `nft -f`, one
 *   transaction that replaces the table whole (nft is the one program that
 *   reads every script build can write, whatever its rules);
 *   no saved ruleset (nothing ever applied, or the state lost) and no table:
 *   [table] unapplied = closed (the default) installs the policy's table with
 *   empty sets, so that every service's ports refuse every source until the
 *   first apply; unapplied = open leaves the ports alone and says so. A table
 *   that is there without a saved ruleset is left as it is.
 *
 * Exit 0 done as above, 2 an error (the policy unreadable, the kernel refused,
 * the saved ruleset damaged or refused by nft; the closed table is still
 * installed then, when the policy says closed and there is no table).
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cmd.h"
#include "lock.h"
#include "nl.h"
#include "render.h"
#include "ruleplan.h"
#include "saved.h"
#include "state.h"
#include "util.h"

extern char **environ;

#define CLOSED_ATTEMPTS 5

/* nft -f PATH, its messages on our stderr. 0, or -1 with err. */
static int run_nft(const char *path, char *err, size_t errlen)
{
	char *argv[] = { "nft", "-f", (char *)path, NULL };
	posix_spawn_file_actions_t fa;
	int status, rc;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	rc = posix_spawnp(&pid, "nft", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		snprintf(err, errlen, "cannot run nft: %s", strerror(rc));
		return -1;
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			snprintf(err, errlen, "nft: %s", strerror(errno));
			return -1;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		snprintf(err, errlen, "nft -f %s exited %d", path, WEXITSTATUS(status));
	else
		snprintf(err, errlen, "nft -f %s was killed by signal %d", path, WTERMSIG(status));
	return -1;
}

/*
 * The policy's table with every set empty, in one compare-and-swapped
 * transaction, unless a table of that name is there by then. 0 installed
 * (genid set), 1 a table is there, -1 with err.
 */
static int install_closed(struct nl *nl, const struct policy *pol, uint32_t *genid, char *err,
			  size_t errlen)
{
	for (int attempt = 1; attempt <= CLOSED_ATTEMPTS; attempt++) {
		struct nl_table_live t;
		struct nl_result res;

		if (nl_read_table(nl, pol->table, false, &t, err, errlen) < 0)
			return -1;
		bool present = t.present;
		uint32_t gen = t.genid;
		nl_table_live_free(&t);
		if (present) {
			*genid = gen;
			return 1;
		}
		/* The plan's table, chains and rules; its sets stay empty. */
		struct nl_batch *b = nl_batch_new(nl, gen);
		struct rule_plan plan;
		rule_plan_build(pol, &plan);
		nl_batch_add_plan(b, &plan);
		rule_plan_free(&plan);
		nl_batch_send(b, false, &res);
		nl_batch_free(b);
		if (res.status == NL_OK) {
			*genid = res.genid;
			return 0;
		}
		if (res.status != NL_RESTART && res.status != NL_UNKNOWN) {
			snprintf(err, errlen, "%s", res.err);
			return -1;
		}
	}
	snprintf(err, errlen, "the ruleset kept changing; gave up after %d attempts", CLOSED_ATTEMPTS);
	return -1;
}

/* Does the saved ruleset hold what the state file says the last apply committed? */
static bool saved_matches_state(const struct saved_ruleset *s, const struct state *st)
{
	if (s->nsets != st->nsets)
		return false;
	for (size_t i = 0; i < st->nsets; i++) {
		const struct saved_set *ss = saved_set_find(s, st->sets[i].name);
		if (!ss || ss->fam != st->sets[i].fam ||
		    !ranges_same_addresses(ss->iv.v, ss->iv.n, st->sets[i].iv.v, st->sets[i].iv.n))
			return false;
	}
	return true;
}

/* The services' ports, for people: "smtp (tcp/25), submission (tcp/587)". */
static void ports_text(const struct policy *pol, char *buf, size_t n)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < pol->nservices && o < n; i++) {
		o += (size_t)snprintf(buf + o, n - o, "%s%s (", i ? ", " : "", pol->services[i].name);
		for (size_t k = 0; k < pol->services[i].nports && o < n; k++) {
			char p[32];
			portrange_format(&pol->services[i].ports[k], p, sizeof(p));
			o += (size_t)snprintf(buf + o, n - o, "%s%s", k ? " " : "", p);
		}
		if (o < n)
			o += (size_t)snprintf(buf + o, n - o, ")");
	}
}

/* Loads the saved ruleset; 0 loaded, -1 (reported). */
static int load_saved(struct nl *nl, const struct globals *g, const struct policy *pol,
		      const char *path, const struct saved_ruleset *saved, int lock)
{
	struct state st;
	char err[600];
	uint32_t g0 = 0, g1 = 0;

	if (nl_getgen(nl, &g0) < 0)
		g0 = 0;
	if (run_nft(path, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxfence restore: %s\n", err);
		return -1;
	}
	if (nl_getgen(nl, &g1) < 0)
		g1 = 0;
	printf("restore: loaded %s: table inet %s (generation %u)\n", path, pol->table, g1);
	/*
	 * nft -f is one commit, which moves the generation by exactly one:
	 * anything else means another commit came between, and then what the
	 * kernel holds is not known without reading it.
	 */
	if (lock < 0 || !g1 || g1 != g0 + 1)
		return 0;
	if (state_read(g->state_dir, pol->table, &st, err, sizeof(err)) != 0)
		return 0;
	if (saved_matches_state(saved, &st)) {
		struct restamp_set *rs = xcalloc(saved->nsets ? saved->nsets : 1, sizeof(*rs));
		for (size_t i = 0; i < saved->nsets; i++)
			rs[i] = (struct restamp_set){ saved->sets[i].name, saved->sets[i].iv.v,
						      saved->sets[i].iv.n };
		if (state_restamp(g->state_dir, &st, rs, saved->nsets, g1, err, sizeof(err)) < 0)
			fprintf(stderr, "mxfence restore: warning: state not updated (%s); the next "
					"run reads the kernel in full\n", err);
		free(rs);
	}
	state_free(&st);
	return 0;
}

int cmd_restore(int argc, char **argv, struct globals *g)
{
	static const struct option opts[] = { COMMON_LONGOPTS, { 0 } };
	struct policy pol;
	struct diag d = { 0 };
	struct nl *nl = NULL;
	struct nl_table_live t = { 0 };
	struct saved_ruleset saved = { 0 };
	struct state st;
	char err[600], ports[1024];
	char *path = NULL;
	int opt, rc = EXIT_INPUT, lock = -1;

	while ((opt = getopt_long(argc, argv, "+c:h", opts, NULL)) != -1) {
		if (common_option(opt, g))
			continue;
		if (opt == 'h') {
			puts("usage: mxfence restore [-c CONF]\n"
			     "Load the saved ruleset of the last apply unless the kernel holds it; with\n"
			     "none, close the services' ports ([table] unapplied = closed) or leave them.\n"
			     "Never fetches. Exit 0 done, 2 error.");
			return EXIT_OK;
		}
		return usage_error("restore", "unknown option");
	}
	if (optind < argc)
		return usage_error("restore", "unexpected argument '%s'", argv[optind]);

	/* The policy names the table, its services and the unapplied choice; no source is read. */
	if (policy_load(&pol, g->conf, g->cache_dir, &d) < 0) {
		diag_print(&d, stderr);
		fprintf(stderr, "mxfence restore: %zu error%s in %s; nothing loaded\n", d.errors,
			d.errors == 1 ? "" : "s", g->conf);
		diag_free(&d);
		policy_free(&pol);
		return EXIT_INPUT;
	}
	diag_free(&d);
	if (nl_open(&nl, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxfence restore: %s\n", err);
		goto out;
	}
	/*
	 * The lock if it is free at once: a refresh may hold it for minutes of
	 * fetching while the ports are open. Without it the kernel is still safe
	 * (a concurrent apply's commit is compare-and-swapped); only the state
	 * file is left to its holder.
	 */
	lock = lock_take(g->state_dir, 0, err, sizeof(err));
	if (nl_read_table(nl, pol.table, false, &t, err, sizeof(err)) < 0) {
		fprintf(stderr, "mxfence restore: %s\n", err);
		goto out;
	}
	if (t.present && state_read(g->state_dir, pol.table, &st, err, sizeof(err)) == 0) {
		bool same = st.genid == t.genid && st.netns == netns_inode();
		state_free(&st);
		if (same) {
			printf("restore: table inet %s holds the last apply (generation %u); nothing "
			       "to do\n", pol.table, t.genid);
			rc = EXIT_OK;
			goto out;
		}
	}

	path = saved_path(g->state_dir, pol.table);
	int sr = saved_read(path, &saved, err, sizeof(err));
	if (sr == 0 && !streq(saved.table, pol.table)) {
		snprintf(err, sizeof(err), "%s: written for table %s", path, saved.table);
		saved_ruleset_free(&saved);
		sr = -1;
	}
	if (sr == 0) {
		rc = load_saved(nl, g, &pol, path, &saved, lock) == 0 ? EXIT_OK : EXIT_INPUT;
		if (rc == EXIT_OK)
			goto out;
	} else if (sr < 0) {
		fprintf(stderr, "mxfence restore: %s\n", err);
	}

	/*
	 * Nothing to load, or it could not be loaded (exit 2 then): the policy's
	 * choice, unless a table is there.
	 */
	rc = sr == 1 ? EXIT_OK : EXIT_INPUT;
	ports_text(&pol, ports, sizeof(ports));
	if (pol.unapplied_open) {
		nl_table_live_free(&t);
		if (nl_read_table(nl, pol.table, false, &t, err, sizeof(err)) == 0 && t.present)
			printf("restore: no saved ruleset loaded; table inet %s is there and stays as "
			       "it is\n", pol.table);
		else
			printf("restore: no saved ruleset loaded; unapplied = open: %s stay open to "
			       "every source until the first apply\n", ports);
		goto out;
	}
	uint32_t gen;
	int c = install_closed(nl, &pol, &gen, err, sizeof(err));
	if (c < 0) {
		fprintf(stderr, "mxfence restore: installing the closed table: %s\n", err);
		rc = EXIT_INPUT;
	} else if (c == 1) {
		printf("restore: no saved ruleset loaded; table inet %s is there and stays as it is\n",
		       pol.table);
	} else {
		printf("restore: no saved ruleset loaded; unapplied = closed: table inet %s installed "
		       "with empty sets (generation %u): %s refuse every source until the first "
		       "apply\n", pol.table, gen, ports);
	}
out:
	free(path);
	saved_ruleset_free(&saved);
	nl_table_live_free(&t);
	nl_close(nl);
	lock_release(lock);
	policy_free(&pol);
	return rc;
}
