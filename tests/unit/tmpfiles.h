/*
 * Scratch files for the unit programs: a folder of their own under $TMPDIR,
 * files written into it, and the folder removed at the end.
 */
#ifndef MXFENCE_TEST_TMPFILES_H
#define MXFENCE_TEST_TMPFILES_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmp_dir[512];

static inline void tmp_begin(const char *prog)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmp_dir, sizeof(tmp_dir), "%s/mxfence-%s.XXXXXX", t && *t ? t : "/tmp", prog);
	if (!mkdtemp(tmp_dir)) {
		perror(tmp_dir);
		exit(2);
	}
}

/* "<tmp_dir>/name" in a static buffer of four, so that a few may be used at once. */
static inline const char *tmp_path(const char *name)
{
	static char bufs[4][1024];
	static unsigned next;
	char *b = bufs[next++ % 4];

	snprintf(b, sizeof(bufs[0]), "%s/%s", tmp_dir, name);
	return b;
}

static inline const char *tmp_write(const char *name, const void *data, size_t len)
{
	const char *path = tmp_path(name);
	FILE *f = fopen(path, "we");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
		perror(path);
		exit(2);
	}
	return path;
}

static inline const char *tmp_text(const char *name, const char *text)
{
	return tmp_write(name, text, strlen(text));
}

static inline int tmp_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void tmp_end(void)
{
	nftw(tmp_dir, tmp_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
