/*
 * cmd_wait.c - waiting for jobs and reading their output as it comes:
 * queuectl wait, queuectl logs (-f, --attempt) and the waiting half of
 * enqueue --wait.
 *
 * Nothing here polls: a watcher sets inotify watches on the state
 * directories (and on a job's lease while its log is not there yet, and on
 * the log's inode once it is open) before it looks for the job, then sleeps
 * until an event names the job or the log grows. The protocol it relies on
 * is spool-layout/README.md, "watching a job".
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

#define LOOK_TRIES 5       /* looks before a job missed by spool_find is gone */
#define MARK_MAX   256     /* longest attempt marker line we recognise */
#define CHUNK      65536

/* Exit status of a job found nowhere, or gone while watched. */
#define GONE_EXIT EX_NOINPUT_

/*
 * Find job id and read its file into *job (free with job_free), its place
 * into *loc (free with spool_loc_free). A miss, or a file gone between
 * finding and reading it, is looked at again, up to LOOK_TRIES times: the
 * job may have moved backwards while spool_find went through the
 * directories. Returns 0; -1 with errno ENOENT if the id is nowhere, EINVAL
 * (reason in err; *loc filled, *job not) if its file is not a valid job,
 * another errno on I/O errors.
 */
static int
look(struct spool *sp, const char *id, struct spool_loc *loc, struct job *job,
    char *err, size_t errsz)
{
	int e;

	for (int i = 0; i < LOOK_TRIES; i++) {
		if (spool_find(sp, id, loc) == -1) {
			if (errno == ENOENT)
				continue;
			return -1;
		}
		if (spool_job_read(loc->dirfd, id, job, err, errsz) == 0)
			return 0;
		if ((e = errno) == EINVAL)
			return -1;
		spool_loc_free(loc);
		if (e != ENOENT) {
			errno = e;
			return -1;
		}
	}
	errno = ENOENT;
	return -1;
}

/* inotify watches: the state directories, a lease, log files. */
struct watcher {
	int ifd;
	int wd[ST_NSTATES];     /* -1 for processing/ */
	int lease_wd;           /* the lease watched, or -1 */
};

#define DIR_EVENTS (IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE | \
    IN_ONLYDIR)

/* Watch the file or directory open as fd (the inode, whatever its name). */
static int
watch_fd(struct watcher *w, int fd, uint32_t mask)
{
	char path[64];

	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	return inotify_add_watch(w->ifd, path, mask);
}

/*
 * Start watching every state directory of sp but processing/ for entries
 * arriving and leaving. Returns 0, or -1 with errno set (w closed).
 */
static int
watch_open(struct watcher *w, struct spool *sp)
{
	w->lease_wd = -1;
	if ((w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		return -1;
	for (int s = 0; s < ST_NSTATES; s++) {
		w->wd[s] = -1;
		if (s != ST_PROCESSING &&
		    (w->wd[s] = watch_fd(w, sp->dir[s], DIR_EVENTS)) == -1) {
			int e = errno;

			close(w->ifd);
			errno = e;
			return -1;
		}
	}
	return 0;
}

/*
 * Sleep until an event comes or timeout_ms pass (-1: no limit), then call
 * fn(wd, mask, name, arg) for each event ("" when it names no entry; wd -1
 * for a queue overflow, after which anything may have happened). Returns
 * 1 if events came, 0 on timeout, -1 with errno set.
 */
static int
watch_wait(struct watcher *w, int timeout_ms,
    void (*fn)(int wd, uint32_t mask, const char *name, void *arg), void *arg)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct pollfd p = { .fd = w->ifd, .events = POLLIN };
	const struct inotify_event *ev;
	ssize_t n;
	int r;

	while ((r = poll(&p, 1, timeout_ms)) == -1 && errno == EINTR)
		;
	if (r <= 0)
		return r;
	while ((n = read(w->ifd, buf, sizeof buf)) > 0) {
		for (char *q = buf; q < buf + n; q += sizeof *ev + ev->len) {
			ev = (const struct inotify_event *)(void *)q;
			fn(ev->mask & IN_Q_OVERFLOW ? -1 : ev->wd, ev->mask,
			    ev->len > 0 ? ev->name : "", arg);
		}
	}
	return n == -1 && errno != EAGAIN && errno != EINTR ? -1 : 1;
}

/* Is name one of job id's files: <id>.json or <id>.invalid, and with logs
 * set <id>.stdout or <id>.stderr too? */
static int
names_job(const char *name, const char *id, int logs)
{
	size_t n = strlen(id);

	if (strncmp(name, id, n) != 0 || name[n] != '.')
		return 0;
	name += n + 1;
	return strcmp(name, "json") == 0 || strcmp(name, "invalid") == 0 ||
	    (logs && (strcmp(name, "stdout") == 0 || strcmp(name, "stderr") == 0));
}

/*
 * The exit status that stands for a finished job (state ST_DONE or ST_DEAD):
 * 0 when done; for a dead job its exit_code when that is 1 to 255 (the
 * command's status, or 128 + N when signal N ended it), else 1 (no status:
 * the worker died, it was cancelled, a dependency failed; or it timed out
 * yet exited 0).
 */
static int
finished_status(const struct job *j, int state)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(j->obj, "exit_code");

	if (state == ST_DONE)
		return 0;
	if (cJSON_IsNumber(c) && c->valuedouble >= 1 && c->valuedouble <= 255)
		return (int)c->valuedouble;
	return 1;
}

/* Say why a dead job failed. */
static void
say_dead(const struct job *j)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(j->obj, "last_error");

	warnx("job %s failed: %s", j->id, cJSON_IsString(e) ? e->valuestring :
	    "in dead/");
}

/* Is dead/<id>.invalid there (a file quarantined as not a job)? */
static int
quarantined(struct spool *sp, const char *id)
{
	char name[ID_MAX + 16];
	struct stat st;

	return fmt_checked(name, sizeof name, "%s.invalid", id) == 0 &&
	    fstatat(sp->dir[ST_DEAD], name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* A job that wait waits for. */
struct waited {
	const char *id;
	int finished;
	int status;             /* once finished */
	int again;              /* an event names it: look again */
};

/* Say why wait_check cannot go on (errno set) and return the exit status. */
static int
wait_fail(const struct waited *wj, int seen)
{
	int e = errno;

	if (e == ENOENT && seen)
		warnx("job %s left the spool (purged?)", wj->id);
	else if (e == ENOENT)
		warnx("no such job: %s", wj->id);
	else
		warn("%s", wj->id);
	return e == ENOENT ? GONE_EXIT : cli_exit_for(e);
}

/*
 * Look at wj once; a finished job gets its status (a dead one says why on
 * stderr). A file that is not a valid job is finished in done/ (status 0)
 * or dead/ (1), and not yet elsewhere (a worker quarantines it: then
 * dead/<id>.invalid counts as dead). Returns 0, or the exit status to end
 * with after a message: 66 if the id is nowhere (seen: it was found
 * before), 74 for an I/O error.
 */
static int
wait_check(struct spool *sp, struct waited *wj, int seen)
{
	struct spool_loc loc;
	struct job j;
	char why[256];
	int bad = 0;

	wj->again = 0;
	if (look(sp, wj->id, &loc, &j, why, sizeof why) == -1) {
		if (errno == ENOENT && quarantined(sp, wj->id)) {
			warnx("job %s failed: not a valid job (see dead/%s.reason)",
			    wj->id, wj->id);
			wj->finished = wj->status = 1;
			return 0;
		}
		if (errno != EINVAL)
			return wait_fail(wj, seen);
		bad = 1;
	}
	if (loc.state == ST_DONE || loc.state == ST_DEAD) {
		wj->finished = 1;
		wj->status = bad ? loc.state == ST_DEAD : finished_status(&j,
		    loc.state);
		if (bad && loc.state == ST_DEAD)
			warnx("job %s failed: %s", wj->id, why);
		else if (loc.state == ST_DEAD)
			say_dead(&j);
	}
	if (!bad)
		job_free(&j);
	spool_loc_free(&loc);
	return 0;
}

struct wait_set {
	struct watcher w;
	struct waited *v;
	size_t n;
	int all;                /* look at every job again (overflow) */
};

static void
wait_event(int wd, uint32_t mask, const char *name, void *arg)
{
	struct wait_set *ws = arg;

	(void)mask;
	if (wd == -1)
		ws->all = 1;
	for (size_t i = 0; i < ws->n && !ws->all; i++)
		if (names_job(name, ws->v[i].id, 0))
			ws->v[i].again = 1;
}

/* Milliseconds left until deadline (monotonic ms; -1: none), for poll. */
static int
ms_left(int64_t deadline)
{
	int64_t left;

	if (deadline < 0)
		return -1;
	left = deadline - mono_ms();
	return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/* Say which jobs are still not finished, and return 75. */
static int
wait_timed_out(const struct wait_set *ws)
{
	fprintf(stderr, "queuectl: timed out; still waiting for:");
	for (size_t i = 0; i < ws->n; i++)
		if (!ws->v[i].finished)
			fprintf(stderr, " %s", ws->v[i].id);
	fprintf(stderr, "\n");
	return EX_TEMPFAIL_;
}

/*
 * Wait until every job of ws is finished or deadline (monotonic ms, -1:
 * none) passes. Returns 0, or the exit status to end with (75: timed out).
 */
static int
wait_all(struct spool *sp, struct wait_set *ws, int64_t deadline)
{
	size_t left = 0;
	int r;

	for (size_t i = 0; i < ws->n; i++) {
		if ((r = wait_check(sp, &ws->v[i], 0)) != 0)
			return r;
		left += !ws->v[i].finished;
	}
	while (left > 0) {
		if ((r = watch_wait(&ws->w, ms_left(deadline), wait_event,
		    ws)) == 0)
			return wait_timed_out(ws);
		if (r == -1)
			err(EX_IOERR_, "inotify");
		for (size_t i = 0; i < ws->n; i++) {
			struct waited *wj = &ws->v[i];

			if (wj->finished || (!wj->again && !ws->all))
				continue;
			if ((r = wait_check(sp, wj, 1)) != 0)
				return r;
			left -= wj->finished;
		}
		ws->all = 0;
	}
	return 0;
}

/* --timeout's value as a monotonic deadline, or exit 64. */
static int64_t
deadline_of(const char *s)
{
	int64_t ms;

	if (duration_parse(s, &ms) == -1)
		errx(EX_USAGE_, "--timeout: not a duration: %s (seconds, or "
		    "with a unit: 90, 1.5, 10m, 2h)", s);
	return mono_ms() + ms;
}

int
cmd_wait(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd *c = cli_find("wait");
	struct wait_set ws = { 0 };
	int64_t deadline = -1;
	struct spool sp;
	int ch, r;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 't': deadline = deadline_of(optarg); break;
		case 'h': return cli_help(c, 2, (char *[]){ "", "-h", NULL });
		default: cli_usage(stderr, c); return EX_USAGE_;
		}
	}
	if (optind == argc) {
		cli_usage(stderr, c);
		return EX_USAGE_;
	}
	ws.n = (size_t)(argc - optind);
	if ((ws.v = calloc(ws.n, sizeof *ws.v)) == NULL)
		errx(EX_OSERR_, "out of memory");
	for (size_t i = 0; i < ws.n; i++)
		if (!id_valid(ws.v[i].id = argv[optind + (int)i]))
			errx(EX_DATAERR_, "invalid id: %s", ws.v[i].id);
	cli_open(&sp);
	if (watch_open(&ws.w, &sp) == -1)
		err(EX_OSERR_, "inotify");
	if ((r = wait_all(&sp, &ws, deadline)) == 0)
		for (size_t i = 0; i < ws.n && r == 0; i++)
			r = ws.v[i].status;
	close(ws.w.ifd);
	free(ws.v);
	spool_close(&sp);
	return r;
}
