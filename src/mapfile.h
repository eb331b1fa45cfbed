/*
 * A file's bytes in memory, whole: mapped when that is cheaper, read
 * otherwise. A large file is mapped because its pages then come from the
 * page cache as they are, where read() would copy them into fresh memory
 * that the kernel zeroes first (most of the cost of taking in a
 * million-line list or a million-interval state file).
 *
 * One policy for a mapped file cut short while it is read. mxfence writes
 * its own files beside their place and renames them, so only someone else
 * can do this. Reading a page past the new end raises SIGBUS; the one
 * handler, on whatever thread reads, marks the mapping as cut short and puts
 * zeros in place of the rest of it, so the reader goes on to its end as if
 * the file held zeros there. When it is done, the caller asks
 * mapfile_shrank(), which also notices a file cut inside its last page
 * (where no SIGBUS comes), and throws away what it read: the caller gets an
 * error it reports as it sees fit. A feed ends the run (exit 2, naming the
 * file); a state file counts as unreadable and the kernel is read instead.
 * A SIGBUS outside these mappings is not this module's: it goes to the
 * handler that was there before (the default: the process dies).
 *
 * Test hook: MXFENCE_TEST_AFTER_MAP, a shell command run once a file has
 * been mapped, before it is read (e.g. "truncate -s 0 FILE").
 */
#ifndef MXFENCE_MAPFILE_H
#define MXFENCE_MAPFILE_H

#include <stdbool.h>
#include <stddef.h>

/* A text file this large or larger is mapped; smaller ones are read. */
#define MAPFILE_MAP_MIN (1u << 20)

/* mapfile_read()'s flags. */
#define MAPFILE_REGULAR 1u /* refuse anything but a regular file */
#define MAPFILE_BINARY 2u  /* no NUL needed after the bytes: map at any size */

/* Why mapfile_read() failed; OPEN and READ leave errno set. */
enum mapfile_err {
	MAPFILE_OK,
	MAPFILE_OPEN,
	MAPFILE_DIRECTORY,
	MAPFILE_NOT_REGULAR, /* with MAPFILE_REGULAR */
	MAPFILE_TOO_LARGE,
	MAPFILE_READ,
};

struct mapfile {
	char *data; /* len bytes, then a NUL unless MAPFILE_BINARY mapped them */
	size_t len;
	bool mapped;
	int fd;   /* mapped: kept open, to see whether the file shrank */
	int slot; /* mapped: its place among the mappings the handler knows */
};

/*
 * Read path whole, at most max bytes. Without MAPFILE_BINARY a regular file
 * of MAPFILE_MAP_MIN bytes or more is mapped when its size is not a multiple
 * of the page size (the rest of its last page reads as the NUL after it);
 * with it, any non-empty regular file is mapped. A directory is refused;
 * other files (a FIFO, /dev/stdin) are read. Mapping that fails falls back to
 * reading. 0, or an enum mapfile_err.
 */
enum mapfile_err mapfile_read(struct mapfile *mf, const char *path, size_t max, unsigned flags);

/*
 * What went wrong, as the text after "PATH: ": "cannot open: No such file or
 * directory", "is a directory", "larger than 1048576 bytes"; errnum is the
 * errno mapfile_read left.
 */
void mapfile_why(enum mapfile_err e, int errnum, size_t max, char *buf, size_t n);

/* Did the file shrink while it was mapped? Always false for a file read. */
bool mapfile_shrank(const struct mapfile *mf);

void mapfile_free(struct mapfile *mf);

#endif
