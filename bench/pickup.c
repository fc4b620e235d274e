/*
 * pickup - pickup latency driver.
 *
 * pickup [-n SAMPLES] [-s SETTLE_MS] [-t TIMEOUT_MS] -d STAMPDIR -o PREFIX
 *        LABEL COMMAND... [::: LABEL COMMAND...]...
 *
 * For each of SAMPLES rounds, and in each round for each variant once, in
 * an order shuffled afresh every round (so that no variant always follows
 * the same one, whose disk writes or exiting processes it would then
 * always share the machine with): record CLOCK_REALTIME, fork+exec COMMAND with every
 * "{}" in its words replaced by a fresh stamp file STAMPDIR/LABEL.K.ns (stdout
 * to /dev/null), wait with inotify on STAMPDIR until that file is closed
 * after writing (or TIMEOUT_MS, default 10000, passes), read the
 * CLOCK_REALTIME nanoseconds that the job (bench/stamp) wrote into it and
 * keep the difference. Then reap the command and sleep SETTLE_MS (default
 * 30, plus up to 10 ms of jitter) so that the queue is idle again.
 *
 * Writes every sample (microseconds, one a line, in order) to
 * PREFIX.LABEL.txt and prints one line per variant:
 *   LABEL N MEDIAN P90 P99 MIN MAX LOST      (milliseconds)
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct variant {
	const char *label;
	char **argv;        /* template, NULL-terminated */
	int argc;
	double *us;         /* samples */
	int n, lost;
};

static int64_t
real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *
subst(const char *word, const char *path)
{
	const char *p = strstr(word, "{}");
	char *out;

	if (p == NULL)
		return strdup(word);
	if ((out = malloc(strlen(word) + strlen(path) + 1)) == NULL)
		return NULL;
	memcpy(out, word, (size_t)(p - word));
	strcpy(out + (p - word), path);
	strcat(out, p + 2);
	return out;
}

/* Wait until name is closed after writing in the watched directory. */
static int
wait_for(int ifd, const char *dir, const char *name, int64_t deadline)
{
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	char path[PATH_MAX];

	for (;;) {
		/* the file may have been written before an event could be read */
		snprintf(path, sizeof path, "%s/%s", dir, name);
		int64_t left = deadline - mono_ms();
		if (left <= 0)
			return -1;
		struct pollfd pfd = { .fd = ifd, .events = POLLIN };
		int r = poll(&pfd, 1, (int)left);

		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		ssize_t len = read(ifd, buf, sizeof buf);
		if (len <= 0)
			continue;
		for (char *p = buf; p < buf + len;) {
			struct inotify_event *ev = (struct inotify_event *)p;

			if (ev->len > 0 && strcmp(ev->name, name) == 0)
				return 0;
			if (ev->mask & IN_Q_OVERFLOW) {
				if (access(path, F_OK) == 0)
					return 0;
			}
			p += sizeof *ev + ev->len;
		}
	}
}

static int
cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(const double *s, int n, double q)
{
	int i = (int)(q * n + 0.999999) - 1;     /* nearest rank */

	if (i < 0)
		i = 0;
	if (i >= n)
		i = n - 1;
	return s[i];
}

int
main(int argc, char **argv)
{
	int c, nsamples = 100, settle = 30, timeout = 10000, nv = 0, devnull;
	const char *dir = NULL, *prefix = NULL;
	struct variant *v;

	while ((c = getopt(argc, argv, "+n:s:t:d:o:")) != -1) {
		switch (c) {
		case 'n': nsamples = atoi(optarg); break;
		case 's': settle = atoi(optarg); break;
		case 't': timeout = atoi(optarg); break;
		case 'd': dir = optarg; break;
		case 'o': prefix = optarg; break;
		default: goto usage;
		}
	}
	if (dir == NULL || prefix == NULL || optind + 2 > argc || nsamples < 1)
		goto usage;
	if ((v = calloc((size_t)argc, sizeof *v)) == NULL)
		return 71;
	for (int i = optind; i < argc;) {
		v[nv].label = argv[i++];
		v[nv].argv = argv + i;
		while (i < argc && strcmp(argv[i], ":::") != 0) {
			i++;
			v[nv].argc++;
		}
		if (v[nv].argc == 0)
			goto usage;
		if (i < argc)
			argv[i++] = NULL;          /* terminate the template */
		if ((v[nv].us = calloc((size_t)nsamples, sizeof(double))) == NULL)
			return 71;
		nv++;
	}
	argv[argc] = NULL;
	if ((devnull = open("/dev/null", O_WRONLY)) == -1)
		return 74;
	int ifd = inotify_init1(IN_CLOEXEC);
	if (ifd == -1 || inotify_add_watch(ifd, dir, IN_CLOSE_WRITE) == -1) {
		perror(dir);
		return 74;
	}
	srand((unsigned)getpid());
	int *order = calloc((size_t)nv, sizeof *order);

	if (order == NULL)
		return 71;
	for (int j = 0; j < nv; j++)
		order[j] = j;
	for (int k = 0; k < nsamples; k++) {
		for (int j = nv - 1; j > 0; j--) {      /* Fisher-Yates */
			int r = rand() % (j + 1), t = order[j];

			order[j] = order[r];
			order[r] = t;
		}
		for (int j = 0; j < nv; j++) {
			struct variant *x = &v[order[j]];
			char name[256], path[PATH_MAX], *args[x->argc + 1];

			snprintf(name, sizeof name, "%s.%d.ns", x->label, k);
			snprintf(path, sizeof path, "%s/%s", dir, name);
			unlink(path);
			for (int a = 0; a < x->argc; a++)
				if ((args[a] = subst(x->argv[a], path)) == NULL)
					return 71;
			args[x->argc] = NULL;

			int64_t t0 = real_ns();
			pid_t pid = fork();
			if (pid == -1) {
				perror("fork");
				return 71;
			}
			if (pid == 0) {
				dup2(devnull, 1);
				execvp(args[0], args);
				perror(args[0]);
				_exit(127);
			}
			int ok = wait_for(ifd, dir, name, mono_ms() + timeout);
			int st;
			waitpid(pid, &st, 0);
			if (ok == 0) {
				char buf[64] = "";
				int fd = open(path, O_RDONLY);
				ssize_t len = fd == -1 ? -1 :
				    read(fd, buf, sizeof buf - 1);
				if (fd != -1)
					close(fd);
				if (len > 0) {
					buf[len] = '\0';
					x->us[x->n++] =
					    (double)(atoll(buf) - t0) / 1000.0;
				} else
					x->lost++;
			} else {
				x->lost++;
				fprintf(stderr, "pickup: %s: no stamp within %d ms\n",
				    x->label, timeout);
			}
			unlink(path);
			for (int a = 0; a < x->argc; a++)
				free(args[a]);
			struct timespec sl = { 0,
			    (long)(settle + rand() % 11) * 1000000L };
			nanosleep(&sl, NULL);
		}
	}

	for (int j = 0; j < nv; j++) {
		struct variant *x = &v[j];
		char path[PATH_MAX];
		FILE *f;

		snprintf(path, sizeof path, "%s.%s.txt", prefix, x->label);
		if ((f = fopen(path, "w")) == NULL) {
			perror(path);
			return 74;
		}
		for (int i = 0; i < x->n; i++)
			fprintf(f, "%.1f\n", x->us[i]);
		fclose(f);
		if (x->n == 0) {
			printf("%s 0 - - - - - %d\n", x->label, x->lost);
			continue;
		}
		qsort(x->us, (size_t)x->n, sizeof(double), cmp);
		printf("%s %d %.3f %.3f %.3f %.3f %.3f %d\n", x->label, x->n,
		    pct(x->us, x->n, 0.5) / 1000, pct(x->us, x->n, 0.9) / 1000,
		    pct(x->us, x->n, 0.99) / 1000, x->us[0] / 1000,
		    x->us[x->n - 1] / 1000, x->lost);
	}
	return 0;
usage:
	fputs("usage: pickup [-n SAMPLES] [-s SETTLE_MS] [-t TIMEOUT_MS] -d STAMPDIR "
	    "-o PREFIX LABEL COMMAND... [::: LABEL COMMAND...]...\n", stderr);
	return 64;
}
