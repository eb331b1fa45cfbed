/* One mxfence at a time per folder: an exclusive flock(2) on "<dir>/lock". */
#ifndef MXFENCE_LOCK_H
#define MXFENCE_LOCK_H

#include <stddef.h>

#define DEFAULT_LOCK_TIMEOUT 120 /* seconds a second run waits for the first */

/*
 * Lock <dir>/lock (the folder is made if missing), waiting at most timeout
 * seconds. Returns the descriptor that holds the lock until closed, or -1
 * with err filled.
 */
int lock_take(const char *dir, unsigned timeout, char *err, size_t errlen);
void lock_release(int fd);

#endif
