/*
 * waitn - time a queue draining into a directory.
 *
 * waitn -n N [-s SUFFIX] [-t TIMEOUT_S] [-m K,K...] [-o FILE] DIR...
 *       [-- COMMAND...]
 *
 * Watches each DIR with inotify, counts the names ending in SUFFIX (default
 * ".json") that are renamed into them (IN_MOVED_TO; a queue moves finished
 * jobs in by rename; those already there do not count), starts COMMAND (if any; its
 * stdout is passed through, e.g. the pids printed by `queuectl worker
 * start`, or into FILE with -o) and waits until the count reaches N or
 * TIMEOUT_S (default 600) passes. The clock starts just before COMMAND is
 * forked. Prints, in seconds:
 *   TOTAL FIRST CMD START [MK...]
 * TOTAL: until N were counted; FIRST: until the first one (after those
 * already there); CMD: until COMMAND exited (-1 if still running; it is not
 * waited for more than 10 s after the count was reached); START: CLOCK_REALTIME at the start, in nanoseconds
 * (to compare with a bench/stamp file); MK: until the count reached each K
 * given with -m (counted from the start, not counting those already there).
 * Exit status 1 on timeout (TOTAL is then the time waited, prefixed "timeout").
 * Meant for directories that only grow during the run (an inotify queue
 * overflow falls back to counting the directories again).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mono.h"

static const char *suffix = ".json";

static int
match(const char *name)
{
	size_t n = strlen(name), s = strlen(suffix);

	return n >= s && strcmp(name + n - s, suffix) == 0;
}

static long
count_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	long n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (match(e->d_name))
			n++;
	closedir(d);
	return n;
}

int
main(int argc, char **argv)
{
	long target = -1, count = 0, marks[64];
	double mark_t[64], timeout = 600, t0, first = -1, cmd_t = -1;
	int c, nmarks = 0, ndirs = 0;
	char **dirs, **cmd = NULL;
	pid_t pid = -1;
	const char *out = NULL;
	struct timespec rt;

	while ((c = getopt(argc, argv, "+n:s:t:m:o:")) != -1) {
		switch (c) {
		case 'n': target = atol(optarg); break;
		case 's': suffix = optarg; break;
		case 't': timeout = atof(optarg); break;
		case 'o': out = optarg; break;
		case 'm':
			for (char *p = optarg; *p && nmarks < 64;) {
				marks[nmarks] = strtol(p, &p, 10);
				mark_t[nmarks++] = -1;
				if (*p == ',')
					p++;
				else
					break;
			}
			break;
		default: goto usage;
		}
	}
	if (target < 0)
		goto usage;
	dirs = argv + optind;
	for (int i = optind; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			argv[i] = NULL;
			cmd = argv + i + 1;
			break;
		}
		ndirs++;
	}
	if (cmd != NULL && cmd[0] == NULL)
		cmd = NULL;

	int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ifd == -1)
		return 71;
	for (int i = 0; i < ndirs; i++) {
		if (inotify_add_watch(ifd, dirs[i], IN_MOVED_TO) == -1) {
			perror(dirs[i]);
			return 74;
		}
		count += count_dir(dirs[i]);
	}
	long before = count;

	clock_gettime(CLOCK_REALTIME, &rt);
	t0 = mono();
	if (cmd != NULL) {
		if ((pid = fork()) == -1)
			return 71;
		if (pid == 0) {
			if (out != NULL) {
				int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
				if (fd == -1 || dup2(fd, 1) == -1) {
					perror(out);
					_exit(127);
				}
			}
			execvp(cmd[0], cmd);
			perror(cmd[0]);
			_exit(127);
		}
	}
	char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		double now = mono();

		for (int i = 0; i < nmarks; i++)
			if (mark_t[i] < 0 && count - before >= marks[i])
				mark_t[i] = now - t0;
		if (first < 0 && count > before)
			first = now - t0;
		if (count - before >= target)
			break;
		if (pid > 0) {
			int st;
			if (waitpid(pid, &st, WNOHANG) == pid) {
				cmd_t = now - t0;
				pid = -1;
			}
		}
		if (now - t0 > timeout) {
			printf("timeout %.4f %ld\n", now - t0, count);
			return 1;
		}
		struct pollfd pfd = { .fd = ifd, .events = POLLIN };
		if (poll(&pfd, 1, pid > 0 ? 5 : 100) <= 0)
			continue;
		ssize_t len = read(ifd, buf, sizeof buf);
		if (len <= 0)
			continue;
		for (char *p = buf; p < buf + len;) {
			struct inotify_event *ev = (struct inotify_event *)p;

			if (ev->mask & IN_Q_OVERFLOW) {
				count = 0;
				for (int i = 0; i < ndirs; i++)
					count += count_dir(dirs[i]);
			} else if (ev->len > 0 && match(ev->name))
				count++;
			p += sizeof *ev + ev->len;
		}
	}
	double total = mono() - t0;
	for (int i = 0; pid > 0 && i < 10000; i++) {
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			cmd_t = mono() - t0;
			break;
		}
		usleep(1000);
	}
	printf("%.4f %.4f %.4f %lld", total, first, cmd_t,
	    (long long)rt.tv_sec * 1000000000LL + rt.tv_nsec);
	for (int i = 0; i < nmarks; i++)
		printf(" %.4f", mark_t[i]);
	putchar('\n');
	return 0;
usage:
	fputs("usage: waitn -n N [-s SUFFIX] [-t TIMEOUT_S] [-m K,...] [-o FILE] "
	    "DIR... [-- COMMAND...]\n", stderr);
	return 64;
}
