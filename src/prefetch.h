/*
 * prefetch.h - start reading a directory's files into the page cache ahead
 * of the one who reads them.
 *
 * Reading 100,000 small job files with a cold cache one after another costs
 * one disk round trip each (about 7 s of reads alone on the benchmark's
 * disk, 9.2 s to a worker's first claim); the same reads queued together
 * complete in parallel (about 1 s). A prefetch thread
 * goes through a name list (spool_names) in order: for each regular file
 * openat, posix_fadvise(POSIX_FADV_WILLNEED) (which queues the read and
 * returns) and close, while the caller reads the same files in the same
 * order. Nothing is read into the caller's memory, and a file that is gone
 * or not readable is skipped. Worth it only for a large directory on a
 * local disk.
 */
#ifndef QUEUECTL_PREFETCH_H
#define QUEUECTL_PREFETCH_H

#include <pthread.h>
#include <stdatomic.h>

#include "spool.h"

struct prefetch {
	pthread_t thread;
	int dirfd;
	const struct spool_names *names;
	int running;
	atomic_int stop;
};

/*
 * Start prefetching the regular files of names (in dirfd) in a thread.
 * names and dirfd must stay valid until prefetch_end. 0, or -1 with errno
 * set (no thread: the caller just reads without one).
 */
int prefetch_start(struct prefetch *p, int dirfd,
    const struct spool_names *names);

/* Stop the thread, if it runs, and wait for it. */
void prefetch_end(struct prefetch *p);

#endif
