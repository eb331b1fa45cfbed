#include "runrecord.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "outfile.h"
#include "util.h"

#define RUN_RECORD_MAX 4096

char *run_record_path(const char *dir)
{
	return xasprintf("%s/refresh.json", dir);
}

static int64_t time_field(json_t *o, const char *key, bool *bad)
{
	json_t *v = json_object_get(o, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		*bad = true;
		return 0;
	}
	return (int64_t)json_integer_value(v);
}

int run_record_read(const char *dir, struct run_record *r, char *err, size_t errlen)
{
	char *path = run_record_path(dir);
	json_error_t je;
	json_t *o = NULL;
	struct stat sb;
	bool bad = false;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (stat(path, &sb) != 0) {
		if (errno == ENOENT)
			rc = 1;
		else
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_size > RUN_RECORD_MAX) {
		snprintf(err, errlen, "%s: not a record of a refresh", path);
		goto out;
	}
	o = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
	if (!o || !json_is_object(o)) {
		snprintf(err, errlen, "%s: %s", path, o ? "not a JSON object" : je.text);
		goto out;
	}
	json_t *code = json_object_get(o, "exit_code");
	r->ended = time_field(o, "ended", &bad);
	r->last_success = time_field(o, "last_success", &bad);
	if (bad || !json_is_integer(code) || json_integer_value(code) < 0 ||
	    json_integer_value(code) > 255 || !r->ended) {
		snprintf(err, errlen, "%s: not a record of a refresh", path);
		goto out;
	}
	r->exit_code = (int)json_integer_value(code);
	rc = 0;
out:
	json_decref(o);
	free(path);
	return rc;
}

int run_record_write(const char *dir, int64_t ended, int exit_code, char *err, size_t errlen)
{
	struct run_record old;
	char e2[512];
	char *path, *text;
	int rc;

	int64_t last_success = run_record_read(dir, &old, e2, sizeof(e2)) == 0 ? old.last_success : 0;
	if (exit_code == 0)
		last_success = ended;
	json_t *o = json_pack("{s:I, s:i, s:o}", "ended", (json_int_t)ended, "exit_code", exit_code,
			      "last_success",
			      last_success ? json_integer((json_int_t)last_success) : json_null());
	text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	path = run_record_path(dir);
	mkdir_p(dir, 0700);
	size_t n = strlen(text);
	text = xrealloc(text, n + 2);
	text[n++] = '\n';
	rc = write_atomic(path, text, n, 0644, 0, err, errlen);
	free(text);
	free(path);
	return rc;
}
