/*
 * cmd_worker.c - queuectl worker start | run | stop.
 *
 * start: double fork + setsid per worker; each reports its pid on a pipe
 * once ready, so start returns only when every worker watches the spool.
 * stop: finds live workers through their leases (a held lock), never a pid
 * file; signals them and waits for each by taking its lease lock, which
 * frees only when the worker is gone.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "lease.h"
#include "util.h"
#include "worker.h"

#define MAX_WORKERS 256

/* The detached worker's stdio: /dev/null in, /dev/null out,
 * SPOOL/worker.log for its diagnostics. */
static void
detach_stdio(struct spool *sp)
{
	int null = open("/dev/null", O_RDWR);
	int log = openat(sp->root, "worker.log", O_WRONLY | O_APPEND | O_CREAT |
	    O_NOFOLLOW | O_CLOEXEC, 0600);

	if (null != -1) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(log != -1 ? log : null, 2);
		close(null);
	}
	if (log != -1)
		close(log);
}

/* Fork one detached worker writing its pid to ready; parent returns. */
static int
spawn_detached(struct spool *sp, int ready[2])
{
	pid_t pid = fork(), gc;
	int status;

	if (pid == -1)
		return -1;
	if (pid == 0) {
		close(ready[0]);
		setsid();
		if ((gc = fork()) != 0)
			_exit(gc == -1 ? 1 : 0);
		umask(077);
		detach_stdio(sp);
		_exit(worker_main(sp, ready[1]) == 0 ? 0 : 1);
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	return 0;
}

static int
worker_start(struct spool *sp, int count)
{
	int ready[2], got = 0;
	char line[32];
	FILE *f;

	if (pipe2(ready, O_CLOEXEC) == -1)
		err(EX_OSERR_, "pipe");
	for (int i = 0; i < count; i++)
		if (spawn_detached(sp, ready) == -1)
			err(EX_OSERR_, "fork");
	close(ready[1]);
	if ((f = fdopen(ready[0], "r")) == NULL)
		err(EX_OSERR_, "fdopen");
	while (got < count && fgets(line, sizeof line, f) != NULL) {
		fputs(line, stdout);
		got++;
	}
	fclose(f);
	if (got < count)
		errx(EX_TEMPFAIL_, "only %d of %d workers started; see %s/worker.log",
		    got, count, sp->path);
	return 0;
}

/*
 * Wait until the worker of lease id has exited: its pidfd becomes readable
 * once the process is gone. Without a pidfd (-1), wait for its lease lock
 * to become free, which it closes on exit; but a worker removes its lease
 * directory before it exits, so that is only as good as the directory is
 * still there.
 */
static void
wait_gone(struct spool *sp, const char *id, int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	int wfd, fd;

	if (pidfd != -1) {
		while (poll(&p, 1, -1) == -1 && errno == EINTR)
			;
		return;
	}
	wfd = openat(sp->dir[ST_PROCESSING], id, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	if (wfd == -1)
		return;
	fd = spool_open_lock(wfd, "lock", 0);
	close(wfd);
	if (fd == -1)
		return;
	while (flock(fd, LOCK_SH) == -1 && errno == EINTR)
		;
	close(fd);
}

static int
worker_stop(struct spool *sp, int now)
{
	struct lease_info *li;
	int n, sent = 0, *pidfd;

	if ((n = lease_list(sp, &li)) == -1)
		err(EX_IOERR_, "%s/processing", sp->path);
	if ((pidfd = calloc((size_t)n + 1, sizeof *pidfd)) == NULL)
		err(EX_OSERR_, "out of memory");
	for (int i = 0; i < n; i++) {
		/* Signal only the process that wrote the lease: same host,
		 * same pid, same start time (not a reused pid); the pidfd is
		 * taken before that check, so it cannot be of a newer one. */
		pidfd[i] = li[i].alive && li[i].pid > 1 ?
		    pidfd_open(li[i].pid, 0) : -1;
		li[i].alive = li[i].alive && li[i].pid > 1 &&
		    (pidfd[i] != -1 || errno != ESRCH) &&
		    strcmp(li[i].host, host_name()) == 0 &&
		    proc_start_time(li[i].pid) == li[i].pid_start &&
		    kill(li[i].pid, now ? SIGUSR1 : SIGTERM) == 0;
		sent += li[i].alive;
	}
	for (int i = 0; i < n; i++) {
		if (li[i].alive)
			wait_gone(sp, li[i].id, pidfd[i]);
		if (pidfd[i] != -1)
			close(pidfd[i]);
	}
	if (sent == 0)
		printf("no workers running\n");
	else
		printf("stopped %d worker%s\n", sent, sent == 1 ? "" : "s");
	free(pidfd);
	free(li);
	return 0;
}

int
cmd_worker(int argc, char **argv)
{
	const struct cmd *c = cli_find("worker");
	struct spool sp;
	int r;

	if ((r = cli_help(c, argc, argv)) != -1)
		return r;
	if (argc < 2)
		goto usage;
	if (strcmp(argv[1], "start") == 0) {
		long count = 1;

		const char *n = argc == 4 && strcmp(argv[2], "--count") == 0 ?
		    argv[3] : argc == 3 && strncmp(argv[2], "--count=", 8) == 0 ?
		    argv[2] + 8 : NULL;

		if (n != NULL)
			count = cli_int_opt("count", n, 1, MAX_WORKERS);
		else if (argc != 2)
			goto usage;
		cli_open(&sp);
		fflush(stdout);
		return worker_start(&sp, (int)count);
	}
	if (strcmp(argv[1], "run") == 0 && argc == 2) {
		cli_open(&sp);
		if (worker_main(&sp, -1) == -1)
			err(errno == EINVAL ? EX_SOFTWARE_ : cli_exit_for(errno),
			    "cannot start the worker");
		return 0;
	}
	if (strcmp(argv[1], "stop") == 0 && (argc == 2 ||
	    (argc == 3 && strcmp(argv[2], "--now") == 0))) {
		cli_open(&sp);
		return worker_stop(&sp, argc == 3);
	}
usage:
	return cli_usage_error(c);
}
