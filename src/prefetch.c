/*
 * prefetch.c - the prefetch thread (prefetch.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "prefetch.h"

static void *
prefetch_main(void *arg)
{
	struct prefetch *p = arg;
	const struct spool_names *l = p->names;

	for (size_t i = 0; i < l->n && !atomic_load(&p->stop); i++) {
		int fd;

		/* not a FIFO or device: nothing but a file is opened */
		if (l->e[i].type != DT_REG)
			continue;
		fd = openat(p->dirfd, spool_name_at(l, i), O_RDONLY |
		    O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1)
			continue;
		posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
		close(fd);
	}
	return NULL;
}

int
prefetch_start(struct prefetch *p, int dirfd, const struct spool_names *names)
{
	sigset_t all, old;
	int e;

	p->dirfd = dirfd;
	p->names = names;
	p->running = 0;
	atomic_store(&p->stop, 0);
	/* the thread takes no signal: the caller's signalfd keeps them all */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	e = pthread_create(&p->thread, NULL, prefetch_main, p);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		errno = e;
		return -1;
	}
	p->running = 1;
	return 0;
}

void
prefetch_end(struct prefetch *p)
{
	if (!p->running)
		return;
	atomic_store(&p->stop, 1);
	pthread_join(p->thread, NULL);
	p->running = 0;
}
