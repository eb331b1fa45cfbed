#include "mapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/*
 * The mappings the SIGBUS handler knows, by address range: a slot is free
 * while its start is 0. Slots hold values, not pointers to the callers'
 * structs, so the handler never follows a pointer that may have gone.
 */
#define SLOTS 16

static struct {
	atomic_uintptr_t start;
	atomic_size_t len; /* whole pages */
	atomic_int cut;
} slots[SLOTS];

static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static int slots_used;
static struct sigaction old_bus; /* the handler before ours, while any slot is used */
static uintptr_t page_size;

static void on_sigbus(int sig, siginfo_t *si, void *uctx)
{
	uintptr_t a = (uintptr_t)si->si_addr;

	(void)uctx;
	for (int i = 0; i < SLOTS; i++) {
		uintptr_t start = atomic_load(&slots[i].start);
		size_t len = atomic_load(&slots[i].len);
		if (!start || a < start || a - start >= len)
			continue;
		/* Zeros from the faulting page on: the reader goes on to its end. */
		uintptr_t from = a & ~(page_size - 1);
		if (mmap((void *)from, start + len - from, PROT_READ,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
			break;
		atomic_store(&slots[i].cut, 1);
		return;
	}
	/*
	 * Not a mapping of ours, or no way to go on: the handler before ours
	 * takes it. A fault comes again when this returns; a signal sent with
	 * kill() would not, so it is raised again (it is blocked until then).
	 */
	sigaction(SIGBUS, &old_bus, NULL);
	if (si->si_code <= 0)
		raise(sig);
}

/* A slot for [p, p + len), the handler installed with the first; -1 when all are taken. */
static int slot_claim(void *p, size_t len)
{
	int slot = -1;

	pthread_mutex_lock(&slots_lock);
	if (!page_size)
		page_size = (uintptr_t)sysconf(_SC_PAGESIZE);
	for (int i = 0; i < SLOTS && slot < 0; i++)
		if (!atomic_load(&slots[i].start))
			slot = i;
	if (slot >= 0) {
		atomic_store(&slots[slot].cut, 0);
		atomic_store(&slots[slot].len, (len + page_size - 1) & ~(page_size - 1));
		atomic_store(&slots[slot].start, (uintptr_t)p);
		if (slots_used++ == 0) {
			struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO };
			sigemptyset(&sa.sa_mask);
			sigaction(SIGBUS, &sa, &old_bus);
		}
	}
	pthread_mutex_unlock(&slots_lock);
	return slot;
}

static void slot_release(int slot)
{
	pthread_mutex_lock(&slots_lock);
	atomic_store(&slots[slot].start, 0);
	if (--slots_used == 0)
		sigaction(SIGBUS, &old_bus, NULL);
	pthread_mutex_unlock(&slots_lock);
}

/* Map fd's len bytes: 0, or -1 and the file is to be read instead. */
static int map(struct mapfile *mf, int fd, size_t len)
{
	void *p;

	p = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
	if (p == MAP_FAILED)
		return -1;
	mf->slot = slot_claim(p, len);
	if (mf->slot < 0) {
		munmap(p, len);
		return -1;
	}
	*mf = (struct mapfile){ p, len, true, fd, mf->slot };

	const char *hook = getenv("MXFENCE_TEST_AFTER_MAP");
	if (hook && system(hook) != 0)
		fprintf(stderr, "mxfence: test hook failed: %s\n", hook);
	return 0;
}

static bool worth_mapping(const struct stat *st, unsigned flags)
{
	size_t size = (size_t)st->st_size;
	long page = sysconf(_SC_PAGESIZE);

	if (!S_ISREG(st->st_mode) || size == 0)
		return false;
	if (flags & MAPFILE_BINARY)
		return true;
	/* The byte after the end must read as NUL: it does in a page the file ends inside. */
	return size >= MAPFILE_MAP_MIN && page > 0 && size % (size_t)page != 0;
}

enum mapfile_err mapfile_read(struct mapfile *mf, const char *path, size_t max, unsigned flags)
{
	const size_t limit = max > SIZE_MAX - 2 ? SIZE_MAX : max + 2;
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	enum mapfile_err err;
	int fd;

	*mf = (struct mapfile){ .fd = -1, .slot = -1 };
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return MAPFILE_OPEN;
	if (fstat(fd, &st) != 0) {
		err = MAPFILE_READ;
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		err = (flags & MAPFILE_REGULAR) ? MAPFILE_NOT_REGULAR : MAPFILE_DIRECTORY;
		goto fail;
	}
	if (!S_ISREG(st.st_mode) && (flags & MAPFILE_REGULAR)) {
		err = MAPFILE_NOT_REGULAR;
		goto fail;
	}
	if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > (uintmax_t)max) {
		err = MAPFILE_TOO_LARGE;
		goto fail;
	}
	if (worth_mapping(&st, flags) && map(mf, fd, (size_t)st.st_size) == 0)
		return MAPFILE_OK;
	for (;;) {
		if (len + 1 >= cap) {
			size_t want = cap * 2;
			if (!cap)
				want = st.st_size > 0 ? (size_t)st.st_size + 2 : 65536;
			if (want > limit)
				want = limit;
			if (want <= cap) {
				err = MAPFILE_TOO_LARGE;
				goto fail;
			}
			buf = xrealloc(buf, want);
			hint_huge(buf, want);
			cap = want;
		}
		ssize_t r = read(fd, buf + len, cap - len - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = MAPFILE_READ;
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > max) {
			err = MAPFILE_TOO_LARGE;
			goto fail;
		}
	}
	close(fd);
	buf = buf ? buf : xmalloc(1);
	buf[len] = '\0';
	*mf = (struct mapfile){ buf, len, false, -1, -1 };
	return MAPFILE_OK;
fail:;
	int saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return err;
}

bool mapfile_shrank(const struct mapfile *mf)
{
	struct stat st;

	if (!mf->mapped)
		return false;
	return atomic_load(&slots[mf->slot].cut) ||
	       (fstat(mf->fd, &st) == 0 && (uintmax_t)st.st_size < (uintmax_t)mf->len);
}

void mapfile_free(struct mapfile *mf)
{
	if (mf->mapped) {
		slot_release(mf->slot);
		munmap(mf->data, mf->len);
		close(mf->fd);
	} else {
		free(mf->data);
	}
	*mf = (struct mapfile){ .fd = -1, .slot = -1 };
}

void mapfile_why(enum mapfile_err e, int errnum, size_t max, char *buf, size_t n)
{
	switch (e) {
	case MAPFILE_OK:
		snprintf(buf, n, "read");
		break;
	case MAPFILE_OPEN:
		snprintf(buf, n, "cannot open: %s", strerror(errnum));
		break;
	case MAPFILE_DIRECTORY:
		snprintf(buf, n, "is a directory");
		break;
	case MAPFILE_NOT_REGULAR:
		snprintf(buf, n, "is not a regular file");
		break;
	case MAPFILE_TOO_LARGE:
		snprintf(buf, n, "larger than %zu bytes, the limit for this file", max);
		break;
	case MAPFILE_READ:
		snprintf(buf, n, "cannot read: %s", strerror(errnum));
		break;
	}
}
