#include "outfile.h"

#include <errno.h>
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
