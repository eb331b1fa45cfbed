#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static char outbuf[1 << 16];

int outfile_open(struct outfile *o, const char *path, char *err, size_t errlen)
{
	int fd;

	memset(o, 0, sizeof(*o));
	if (!path || streq(path, "-")) {
		o->f = stdout;
		setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));
		return 0;
	}
	o->path = xstrdup(path);
	/*
	 * A device or a pipe (-o /dev/stdout, a FIFO) is written as it is, with
	 * no temporary file (o->tmp stays NULL): a rename would put a regular
	 * file in its place. Only a regular file has a half-written state to avoid.
	 */
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		o->f = fopen(path, "we");
		if (!o->f) {
			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
			goto fail;
		}
		setvbuf(o->f, outbuf, _IOFBF, sizeof(outbuf));
		return 0;
	}
	o->tmp = xasprintf("%s.tmp.XXXXXX", path);
	fd = mkstemp(o->tmp);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot create a file beside it: %s", path, strerror(errno));
		goto fail;
	}
	fchmod(fd, 0644);
	o->f = fdopen(fd, "w");
	if (!o->f) {
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		close(fd);
		unlink(o->tmp);
		goto fail;
	}
	setvbuf(o->f, outbuf, _IOFBF, sizeof(outbuf));
	return 0;
fail:
	free(o->path);
	free(o->tmp);
	o->path = o->tmp = NULL;
	return -1;
}

int outfile_commit(struct outfile *o, char *errbuf, size_t errlen)
{
	int err = 0;

	if (!o->path) {
		if (fflush(stdout) != 0 || ferror(stdout)) {
			snprintf(errbuf, errlen, "standard output: %s", strerror(errno));
			return -1;
		}
		return 0;
	}
	if (fflush(o->f) != 0 || ferror(o->f) || (o->tmp && fsync(fileno(o->f)) != 0))
		err = errno ? errno : EIO;
	if (fclose(o->f) != 0 && !err)
		err = errno;
	o->f = NULL;
	if (!err && o->tmp && rename(o->tmp, o->path) != 0)
		err = errno;
	if (err) {
		snprintf(errbuf, errlen, "%s: cannot write: %s", o->path, strerror(err));
		if (o->tmp)
			unlink(o->tmp);
	}
	free(o->path);
	free(o->tmp);
	o->path = o->tmp = NULL;
	return err ? -1 : 0;
}

void outfile_abort(struct outfile *o)
{
	if (o->path) {
		if (o->f)
			fclose(o->f);
		if (o->tmp)
			unlink(o->tmp);
		free(o->path);
		free(o->tmp);
	}
	memset(o, 0, sizeof(*o));
}

int write_atomic(const char *path, const void *buf, size_t len, mode_t mode, unsigned flags,
		 char *err, size_t errlen)
{
	char *tmp = xasprintf("%s.tmp.XXXXXX", path);
	int fd, e, rc = -1;

	fd = mkstemp(tmp);
	if (fd < 0) {
		snprintf(err, errlen, "%s: cannot create a file beside it: %s", path, strerror(errno));
		goto out;
	}
	if ((e = write_all(fd, buf, len)) != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(e));
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (fchmod(fd, mode) != 0 || ((flags & WRITE_DURABLE) && fsync(fd) != 0) || close(fd) != 0 ||
	    rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(tmp);
	return rc;
}

static void remove_stale(const char *path)
{
	char *pattern = xasprintf("%s.tmp.??????", path);
	glob_t g;

	if (glob(pattern, GLOB_NOSORT, NULL, &g) == 0)
		for (size_t i = 0; i < g.gl_pathc; i++)
			unlink(g.gl_pathv[i]);
	globfree(&g);
	free(pattern);
}

int pending_create(struct pending_file *p, char *path, char *err, size_t errlen)
{
	*p = (struct pending_file)PENDING_FILE_INIT;
	p->path = path;
	remove_stale(path);
	p->tmp = xasprintf("%s.tmp.XXXXXX", path);
	p->fd = mkstemp(p->tmp);
	if (p->fd < 0) {
		snprintf(err, errlen, "%s: cannot create a file beside it: %s", path, strerror(errno));
		free(p->tmp);
		p->tmp = NULL;
		pending_discard(p);
		return -1;
	}
	return 0;
}

int pending_commit(struct pending_file *p, unsigned flags, char *err, size_t errlen)
{
	int rc = -1;

	if (p->fd < 0 || !p->tmp) {
		snprintf(err, errlen, "%s: nothing was prepared", p->path ? p->path : "(none)");
		goto out;
	}
	if (((flags & WRITE_DURABLE) && fsync(p->fd) != 0) || close(p->fd) != 0) {
		p->fd = -1;
		snprintf(err, errlen, "%s: cannot write: %s", p->path, strerror(errno));
		goto out;
	}
	p->fd = -1;
	if (rename(p->tmp, p->path) != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", p->path, strerror(errno));
		goto out;
	}
	free(p->tmp);
	p->tmp = NULL;
	if (flags & WRITE_DURABLE) {
		char *dir = xstrdup(p->path);
		int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (dfd >= 0) {
			fsync(dfd);
			close(dfd);
		}
		free(dir);
	}
	rc = 0;
out:
	pending_discard(p);
	return rc;
}

void pending_discard(struct pending_file *p)
{
	if (p->fd >= 0)
		close(p->fd);
	if (p->tmp)
		unlink(p->tmp);
	free(p->tmp);
	free(p->path);
	*p = (struct pending_file)PENDING_FILE_INIT;
}
