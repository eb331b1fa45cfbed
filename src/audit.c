#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int audit_open(const char *state_dir, char *err, size_t errlen)
{
	char *path = xasprintf("%s/%s", state_dir, AUDIT_FILE);
	int fd;

	mkdir_p(state_dir, 0700);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		snprintf(err, errlen, "%s: cannot open the audit trail: %s", path, strerror(errno));
	free(path);
	return fd;
}

void audit_close(int fd)
{
	if (fd >= 0)
		close(fd);
}

/* SUDO_USER when sudo set it (a plain name), else the real uid's name, else "uid N". */
static void user_name(char *buf, size_t n)
{
	const char *s = getenv("SUDO_USER");
	struct passwd *pw;

	if (s && *s && strlen(s) < 64 && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
						   "0123456789._-@$") == strlen(s)) {
		snprintf(buf, n, "%s", s);
		return;
	}
	pw = getpwuid(getuid());
	if (pw && pw->pw_name)
		snprintf(buf, n, "%s", pw->pw_name);
	else
		snprintf(buf, n, "uid %u", (unsigned)getuid());
}

static json_t *u128_str(u128 v)
{
	char b[48];
	u128_format(v, b);
	return json_string(b);
}

char *audit_line(const struct audit_entry *e)
{
	json_t *root = json_object(), *svcs = json_array();
	char when[32], user[80];
	time_t at = (time_t)e->time;
	struct tm tm;
	char *line;

	if (!gmtime_r(&at, &tm) || !strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(when, sizeof(when), "%lld", (long long)e->time);
	user_name(user, sizeof(user));
	json_object_set_new(root, "time", json_string(when));
	json_object_set_new(root, "user", json_string(user));
	json_object_set_new(root, "uid", json_integer((json_int_t)getuid()));
	json_object_set_new(root, "command", json_string(e->command));
	json_object_set_new(root, "plan", e->plan_sha256 ? json_string(e->plan_sha256) : json_null());
	json_object_set_new(root, "table", json_string(e->table));
	json_object_set_new(root, "netns", json_integer((json_int_t)e->netns));
	json_object_set_new(root, "generation_before", json_integer(e->gen_before));
	json_object_set_new(root, "generation_after", json_integer(e->gen_after));
	for (size_t i = 0; i < e->nservices; i++) {
		const struct diff_totals *t = &e->services[i].t;
		json_t *o = json_object();
		json_object_set_new(o, "service", json_string(e->services[i].name));
		json_object_set_new(o, "prefixes_added", json_integer((json_int_t)t->prefixes_added));
		json_object_set_new(o, "prefixes_removed", json_integer((json_int_t)t->prefixes_removed));
		json_object_set_new(o, "ipv4_addresses_added", u128_str(t->v4_gained));
		json_object_set_new(o, "ipv4_addresses_removed", u128_str(t->v4_lost));
		json_object_set_new(o, "ipv6_64s_added", u128_str(t->v6_gained));
		json_object_set_new(o, "ipv6_64s_removed", u128_str(t->v6_lost));
		json_array_append_new(svcs, o);
	}
	json_object_set_new(root, "services", svcs);
	line = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
	json_decref(root);
	return line ? line : xstrdup("{}");
}

int audit_append(int fd, const struct audit_entry *e, char *err, size_t errlen)
{
	char *line = audit_line(e), *text = xasprintf("%s\n", line);
	int rc = 0, w;

	/* One write: appends of concurrent writers (O_APPEND) do not interleave. */
	if ((w = write_all(fd, text, strlen(text))) != 0 || fsync(fd) != 0) {
		snprintf(err, errlen, "cannot append to the audit trail: %s",
			 strerror(w ? w : errno));
		rc = -1;
	}
	openlog("mxfence", LOG_PID, LOG_AUTHPRIV);
	syslog(LOG_NOTICE, "audit: %s", line);
	closelog();
	free(text);
	free(line);
	return rc;
}

long audit_tail(const char *state_dir, size_t want, char ***lines, char *err, size_t errlen)
{
	char *path = xasprintf("%s/%s", state_dir, AUDIT_FILE);
	struct stat st;
	size_t cap = 64u << 10, got = 0, n = 0;
	char *buf = NULL;
	off_t from;
	int fd;

	*lines = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		free(path);
		if (e == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", AUDIT_FILE, strerror(e));
		return -1;
	}
	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		free(path);
		return -1;
	}
	/* The tail: enough for `want` lines of ordinary size. */
	if (cap < want * 4096)
		cap = want * 4096;
	from = st.st_size > (off_t)cap ? st.st_size - (off_t)cap : 0;
	buf = xmalloc(cap + 1);
	got = read_all(fd, buf, cap, from);
	close(fd);
	free(path);
	buf[got] = '\0';
	/* Lines from the end; a first one cut by the window is dropped. */
	char *end = buf + got;
	*lines = xcalloc(want ? want : 1, sizeof(char *));
	while (n < want && end > buf) {
		if (end[-1] == '\n')
			end--;
		char *start = end;
		while (start > buf && start[-1] != '\n')
			start--;
		if (start == buf && from > 0)
			break;
		if (end > start)
			(*lines)[n++] = xstrndup(start, (size_t)(end - start));
		end = start;
	}
	free(buf);
	/* Oldest first. */
	for (size_t i = 0; i < n / 2; i++) {
		char *t = (*lines)[i];
		(*lines)[i] = (*lines)[n - 1 - i];
		(*lines)[n - 1 - i] = t;
	}
	return (long)n;
}

int audit_describe(const char *line, char *buf, size_t n)
{
	json_t *root = json_loads(line, JSON_REJECT_DUPLICATES, NULL), *svcs;
	const char *when, *user, *cmd, *plan;
	json_int_t uid, before, after;
	size_t o = 0, i;
	json_t *s;

	if (!root || json_unpack(root, "{s:s, s:s, s:I, s:s, s:I, s:I}", "time", &when, "user",
				 &user, "uid", &uid, "command", &cmd, "generation_before", &before,
				 "generation_after", &after) != 0) {
		json_decref(root);
		return -1;
	}
	plan = json_string_value(json_object_get(root, "plan"));
	o += (size_t)snprintf(buf + o, o < n ? n - o : 0, "%.10s %.8s UTC %s (uid %lld): %s", when,
			      strlen(when) >= 19 ? when + 11 : "", user, (long long)uid, cmd);
	if (plan)
		o += (size_t)snprintf(buf + o, o < n ? n - o : 0, " sha256:%.16s...", plan);
	o += (size_t)snprintf(buf + o, o < n ? n - o : 0, ": generation %lld -> %lld",
			      (long long)before, (long long)after);
	svcs = json_object_get(root, "services");
	json_array_foreach(svcs, i, s) {
		json_int_t pa = 0, pr = 0;
		const char *name = "?", *g4 = "?", *l4 = "?", *g6 = "?", *l6 = "?";
		json_unpack(s, "{s?s, s?I, s?I, s?s, s?s, s?s, s?s}", "service", &name,
			    "prefixes_added", &pa, "prefixes_removed", &pr, "ipv4_addresses_added",
			    &g4, "ipv4_addresses_removed", &l4, "ipv6_64s_added", &g6,
			    "ipv6_64s_removed", &l6);
		o += (size_t)snprintf(buf + o, o < n ? n - o : 0,
				      "%s %s +%lld/-%lld prefixes (IPv4 +%s/-%s, IPv6 /64s +%s/-%s)",
				      i ? "," : ";", name, (long long)pa, (long long)pr, g4, l4, g6, l6);
	}
	json_decref(root);
	return 0;
}
