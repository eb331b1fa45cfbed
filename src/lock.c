/* Exclusive locks on a folder, with a bounded wait. */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

int lock_take(const char *dir, unsigned timeout, char *err, size_t errlen)
{
	char *path = xasprintf("%s/lock", dir);
	struct timespec pause = { 0, 100 * 1000 * 1000 };
	unsigned waited_ms = 0;
	int fd = -1;

	if (mkdir_p(dir, 0755) < 0) {
		snprintf(err, errlen, "cannot make %s: %s", dir, strerror(errno));
		goto out;
	}
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		goto out;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK && errno != EINTR) {
			snprintf(err, errlen, "cannot lock %s: %s", path, strerror(errno));
			close(fd);
			fd = -1;
			goto out;
		}
		if (waited_ms >= timeout * 1000u) {
			snprintf(err, errlen, "another mxfence run holds %s; gave up after %u s", path,
				 timeout);
			close(fd);
			fd = -1;
			goto out;
		}
		nanosleep(&pause, NULL);
		waited_ms += 100;
	}
out:
	free(path);
	return fd;
}

void lock_release(int fd)
{
	if (fd >= 0)
		close(fd);
}
