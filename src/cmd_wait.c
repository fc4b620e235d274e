/*
 * cmd_wait.c - waiting for jobs and reading their output as it comes:
 * queuectl wait, queuectl logs (-f, --attempt) and the waiting half of
 * enqueue --wait.
 *
 * A watcher sets inotify watches on the state directories (and on a job's
 * lease while its log is not there yet, and on the log's inode once it is
 * open) before it looks for the job, then sleeps until an event names the
 * job or the log grows. On a network or FUSE filesystem, where inotify
 * sees only this host's changes, it also looks again every poll_interval
 * (config; as workers do). The protocol it relies on is
 * spool-layout/README.md, "watching a job".
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
#include "fsinfo.h"
#include "util.h"

#define LOOK_TRIES 5       /* looks before a job missed by spool_find is gone */
#define MARK_MAX   JOB_LOG_MARKER_MAX
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
	long long poll_ms;      /* look again this often; 0: inotify only */
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
	struct config_timing t;
	int network = fs_probe(sp->root, NULL);

	config_timing(&sp->cfg, network == 1, &t);
	w->poll_ms = t.poll_ms;
	w->lease_wd = -1;
	if ((w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1)
		return -1;
	for (int s = 0; s < ST_NSTATES; s++) {
		w->wd[s] = -1;
		if (s != ST_PROCESSING &&
		    (w->wd[s] = watch_fd(w, sp->dir[s], DIR_EVENTS)) == -1) {
			int e = errno;

			close(w->ifd);
			w->ifd = -1;
			errno = e;
			return -1;
		}
	}
	return 0;
}

/* Watch the lease directory open as fd instead of the previous one (fd
 * -1: none). The new watch is set before the old one goes, so that a lease
 * watched again misses nothing. */
static int
watch_lease(struct watcher *w, int fd)
{
	int wd = fd == -1 ? -1 : watch_fd(w, fd, DIR_EVENTS);

	if (fd != -1 && wd == -1)
		return -1;
	if (w->lease_wd != -1 && w->lease_wd != wd)
		inotify_rm_watch(w->ifd, w->lease_wd);
	w->lease_wd = wd;
	return 0;
}

/*
 * Sleep until an event comes or timeout_ms pass (-1: no limit), then call
 * fn(wd, mask, name, arg) for each event ("" when it names no entry; wd -1
 * for a queue overflow, or when w->poll_ms passed first: anything may have
 * happened). Returns 1 if events came (or the poll period passed), 0 on
 * timeout, -1 with errno set.
 */
static int
watch_wait(struct watcher *w, int timeout_ms,
    void (*fn)(int wd, uint32_t mask, const char *name, void *arg), void *arg)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct pollfd p = { .fd = w->ifd, .events = POLLIN };
	const struct inotify_event *ev;
	int r, ms = timeout_ms, polled = 0;
	ssize_t n;

	if (w->poll_ms > 0 && (ms < 0 || ms > w->poll_ms)) {
		ms = (int)w->poll_ms;
		polled = 1;
	}
	while ((r = poll(&p, 1, ms)) == -1 && errno == EINTR)
		;
	if (r == 0 && polled) {
		fn(-1, 0, "", arg);
		return 1;
	}
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

/* Is name one of job id's files: <id>.json, .invalid, .stdout, .stderr? */
static int
names_job(const char *name, const char *id)
{
	size_t n = strlen(id);

	if (strncmp(name, id, n) != 0 || name[n] != '.')
		return 0;
	name += n + 1;
	return strcmp(name, "json") == 0 || strcmp(name, "invalid") == 0 ||
	    strcmp(name, "stdout") == 0 || strcmp(name, "stderr") == 0;
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
	struct waited *v;       /* in the order of the arguments */
	struct waited **by_id;  /* sorted by id, for the events */
	size_t n;
	int all;                /* look at every job again (overflow) */
};

static int
by_id_cmp(const void *a, const void *b)
{
	return strcmp((*(struct waited *const *)a)->id,
	    (*(struct waited *const *)b)->id);
}

/* Sort ws->by_id; exit if out of memory. */
static void
wait_index(struct wait_set *ws)
{
	if ((ws->by_id = calloc(ws->n, sizeof *ws->by_id)) == NULL)
		errx(EX_OSERR_, "out of memory");
	for (size_t i = 0; i < ws->n; i++)
		ws->by_id[i] = &ws->v[i];
	qsort(ws->by_id, ws->n, sizeof *ws->by_id, by_id_cmp);
}

/* An event: mark the jobs whose <id>.json or <id>.invalid it names. */
static void
wait_event(int wd, uint32_t mask, const char *name, void *arg)
{
	struct wait_set *ws = arg;
	struct waited key = { 0 }, *kp = &key, **hit;
	char id[ID_MAX + 1];
	const char *dot = strrchr(name, '.');
	size_t lo, hi;

	(void)mask;
	if (wd == -1)
		ws->all = 1;
	if (dot == NULL || (size_t)(dot - name) > ID_MAX ||
	    (strcmp(dot, ".json") != 0 && strcmp(dot, ".invalid") != 0))
		return;
	memcpy(id, name, (size_t)(dot - name));
	id[dot - name] = '\0';
	key.id = id;
	if ((hit = bsearch(&kp, ws->by_id, ws->n, sizeof *ws->by_id,
	    by_id_cmp)) == NULL)
		return;
	lo = hi = (size_t)(hit - ws->by_id);      /* an id given twice */
	while (lo > 0 && strcmp(ws->by_id[lo - 1]->id, id) == 0)
		lo--;
	while (hi < ws->n && strcmp(ws->by_id[hi]->id, id) == 0)
		ws->by_id[hi++]->again = 1;
	while (lo < hi)
		ws->by_id[lo++]->again = 1;
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
		case 'h': return cli_show_help(c);
		default: return cli_usage_error(c);
		}
	}
	if (optind == argc)
		return cli_usage_error(c);
	ws.n = (size_t)(argc - optind);
	if ((ws.v = calloc(ws.n, sizeof *ws.v)) == NULL)
		errx(EX_OSERR_, "out of memory");
	for (size_t i = 0; i < ws.n; i++)
		if (!id_valid(ws.v[i].id = argv[optind + (int)i]))
			errx(EX_DATAERR_, "invalid id: %s", ws.v[i].id);
	wait_index(&ws);
	cli_open(&sp);
	if (watch_open(&ws.w, &sp) == -1)
		err(EX_OSERR_, "inotify");
	if ((r = wait_all(&sp, &ws, deadline)) == 0)
		for (size_t i = 0; i < ws.n && r == 0; i++)
			r = ws.v[i].status;
	close(ws.w.ifd);
	free(ws.by_id);
	free(ws.v);
	spool_close(&sp);
	return r;
}

/*
 * Following a job's logs.
 *
 * Each stream (stdout, stderr) is one file for the job's whole life
 * (spool-layout/README.md, "watching a job"): once open, it is read to its
 * end whenever inotify says it grew. Its bytes go through an attempt filter
 * when only one attempt is wanted or the markers are to be dropped: a
 * marker "=== queuectl: attempt N on WORKER at TIME ===\n" is recognised
 * wherever it starts (after output without a final newline it starts
 * mid-line), bytes that may begin one are held back until the rest comes.
 */
struct stream {
	int fd;                 /* the log, -1 until open */
	int wd;                 /* its inotify watch */
	int out;                /* where its bytes go */
	const char *name;       /* "stdout", "stderr" */
	long cur;               /* attempt of the section being read (0: none) */
	int passed;             /* the wanted attempt's section has begun */
	int over;               /* ... and a later one too */
	char held[MARK_MAX];    /* a tail that may begin a marker */
	size_t nheld;
};

struct follow {
	struct spool *sp;
	const char *id;
	int follow;             /* 0: print what is there and stop */
	long attempt;           /* only this attempt; 0: all */
	int strip;              /* drop the attempt markers */
	int headers;            /* "==> stdout <==" when the stream changes */
	int last;               /* the stream written last, or -1 */
	int look;               /* an event asks for a new look */
	int seen;               /* the job was found once */
	struct stream s[2];     /* fd -1 and out -1: not wanted */
	struct watcher w;
	struct job job;         /* the job at the last look (job.obj NULL: none) */
	int state;
};

/* Write n bytes of stream i to its output, after a header if wanted. */
static void
emit(struct follow *f, int i, const char *p, size_t n)
{
	char hdr[32];

	if (n == 0)
		return;
	if (f->headers && f->last != i) {
		snprintf(hdr, sizeof hdr, "==> %s <==\n", f->s[i].name);
		if (write_all(f->s[i].out, hdr, strlen(hdr)) == -1)
			err(EX_IOERR_, "output");
	}
	f->last = i;
	if (write_all(f->s[i].out, p, n) == -1)
		err(EX_IOERR_, "output");
}

/* Is the section being read by s wanted? */
static int
section_wanted(const struct follow *f, const struct stream *s)
{
	return f->attempt == 0 || (s->passed && !s->over);
}

/* A marker of attempt a (len bytes at p) begins a section of stream i. */
static void
section(struct follow *f, int i, long a, const char *p, size_t len)
{
	struct stream *s = &f->s[i];

	if (f->attempt != 0) {
		if (s->passed)
			s->over = 1;
		else if (a == f->attempt)
			s->passed = 1;
	}
	s->cur = a;
	if (!f->strip && section_wanted(f, s))
		emit(f, i, p, len);
}

/*
 * Pass buf (n bytes: the held tail, then what was read) of stream i through
 * the attempt filter. Unless final, a tail that may begin a marker is held
 * back for the next call.
 */
static void
filter(struct follow *f, int i, const char *buf, size_t n, int final)
{
	struct stream *s = &f->s[i];
	size_t at = 0, from = 0, j;
	const char *eq;
	ssize_t r;
	long a;

	s->nheld = 0;
	while ((eq = memchr(buf + from, '=', n - from)) != NULL) {
		j = (size_t)(eq - buf);
		from = j + 1;
		if ((r = job_log_marker(eq, n - j, &a)) == 0 || (r == -1 && final))
			continue;
		if (section_wanted(f, s))
			emit(f, i, buf + at, j - at);
		if (r == -1) {
			memcpy(s->held, eq, s->nheld = n - j);
			return;
		}
		section(f, i, a, eq, (size_t)r);
		at = from = j + (size_t)r;
	}
	if (section_wanted(f, s))
		emit(f, i, buf + at, n - at);
}

/* Read stream i to its end (as it is now). 0, or -1 with errno set. */
static int
drain(struct follow *f, int i)
{
	char buf[MARK_MAX + CHUNK];
	struct stream *s = &f->s[i];
	int raw = f->attempt == 0 && !f->strip;
	ssize_t n;

	while (s->fd != -1) {
		memcpy(buf, s->held, s->nheld);
		n = read(s->fd, buf + s->nheld, CHUNK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (int)n;
		if (raw)
			emit(f, i, buf, (size_t)n);
		else
			filter(f, i, buf, s->nheld + (size_t)n, 0);
	}
	return 0;
}

/* Flush what stream i holds back (the end of its log). */
static void
flush_held(struct follow *f, int i)
{
	char tail[MARK_MAX];
	size_t n = f->s[i].nheld;

	memcpy(tail, f->s[i].held, n);
	filter(f, i, tail, n, 1);
}

/*
 * Open stream i's log in dirfd, if it is wanted, not open yet and there;
 * when following, watch its inode. Returns 0 (open or not there), or -1
 * with errno set (EINVAL: not a regular file).
 */
static int
stream_open(struct follow *f, int i, int dirfd)
{
	struct stream *s = &f->s[i];
	char name[ID_MAX + 16];
	struct stat st;
	int e;

	if (s->fd != -1 || s->out == -1)
		return 0;
	if (fmt_checked(name, sizeof name, "%s.%s", f->id, s->name) == -1)
		return -1;
	s->fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (s->fd == -1)
		return errno == ENOENT ? 0 : -1;
	if (fstat(s->fd, &st) == -1)
		;
	else if (!S_ISREG(st.st_mode))
		errno = EINVAL;
	else if (!f->follow || (s->wd = watch_fd(&f->w, s->fd, IN_MODIFY)) != -1)
		return 0;
	e = errno;
	close(s->fd);
	s->fd = -1;
	errno = e;
	return -1;
}

/* Open the logs of the job found at loc; while one is missing from its
 * lease, watch the lease (then try again: it may have come meanwhile). */
static int
streams_open(struct follow *f, const struct spool_loc *loc)
{
	int missing = 0;

	for (int i = 0; i < 2; i++) {
		if (stream_open(f, i, loc->dirfd) == -1)
			return -1;
		missing |= f->s[i].out != -1 && f->s[i].fd == -1;
	}
	if (!f->follow)
		return 0;
	if (watch_lease(&f->w, missing && loc->state == ST_PROCESSING ?
	    loc->dirfd : -1) == -1)
		return -1;
	for (int i = 0; i < 2 && missing; i++)
		if (stream_open(f, i, loc->dirfd) == -1)
			return -1;
	return 0;
}

/*
 * Look for the job again: its file and state into f->job and f->state, its
 * logs opened where it is now. Returns 0, or an exit status after a
 * message (66: nowhere, 65: not a valid job).
 */
static int
follow_look(struct follow *f)
{
	struct spool_loc loc;
	char why[256];
	int r = 0;

	job_free(&f->job);
	f->look = 0;
	if (look(f->sp, f->id, &loc, &f->job, why, sizeof why) == -1) {
		if (errno == EINVAL) {
			spool_loc_free(&loc);
			warnx("%s: %s", f->id, why);
			return EX_DATAERR_;
		}
		if (errno == ENOENT)
			warnx(f->seen ? "job %s left the spool (purged?)" :
			    "no such job: %s", f->id);
		else
			warn("%s", f->id);
		return errno == ENOENT ? GONE_EXIT : cli_exit_for(errno);
	}
	f->seen = 1;
	f->state = loc.state;
	if (streams_open(f, &loc) == -1) {
		warn("%s: logs", f->id);
		r = cli_exit_for(errno);
	}
	spool_loc_free(&loc);
	return r;
}

/* Is what f follows over: the job finished, or the attempt wanted is? */
static int
follow_over(const struct follow *f)
{
	long n = f->job.attempts;
	int all_over = 1;

	if (f->state == ST_DONE || f->state == ST_DEAD)
		return 1;
	if (f->attempt == 0)
		return 0;
	for (int i = 0; i < 2; i++)
		all_over &= f->s[i].out == -1 || f->s[i].over;
	return all_over || n > f->attempt ||
	    (n == f->attempt && f->state != ST_PROCESSING);
}

static void
follow_event(int wd, uint32_t mask, const char *name, void *arg)
{
	struct follow *f = arg;

	(void)mask;
	if (wd == -1 || names_job(name, f->id))
		f->look = 1;
}

/* Set f up for job id of sp: nothing wanted, nothing open. */
static void
follow_init(struct follow *f, struct spool *sp, const char *id)
{
	static const char *const names[2] = { "stdout", "stderr" };

	memset(f, 0, sizeof *f);
	f->sp = sp;
	f->id = id;
	f->last = -1;
	f->w.ifd = -1;
	for (int i = 0; i < 2; i++) {
		f->s[i].fd = f->s[i].wd = f->s[i].out = -1;
		f->s[i].name = names[i];
	}
}

static void
follow_free(struct follow *f)
{
	for (int i = 0; i < 2; i++)
		if (f->s[i].fd != -1)
			close(f->s[i].fd);
	if (f->w.ifd != -1)
		close(f->w.ifd);
	job_free(&f->job);
}

/*
 * Print f->id's logs as they are; with f->follow, go on as they grow until
 * the job (or the attempt wanted) is over. Returns 0, with the job as last
 * seen in f->job and f->state; or an exit status after a message.
 */
static int
follow_run(struct follow *f)
{
	int r;

	if (f->follow && watch_open(&f->w, f->sp) == -1)
		err(EX_OSERR_, "inotify");
	f->look = 1;
	for (;;) {
		if (f->look && (r = follow_look(f)) != 0)
			return r;
		for (int i = 0; i < 2; i++)
			if (drain(f, i) == -1)
				err(EX_IOERR_, "%s.%s", f->id, f->s[i].name);
		if (!f->follow || follow_over(f))
			break;
		if (watch_wait(&f->w, -1, follow_event, f) == -1)
			err(EX_IOERR_, "inotify");
	}
	for (int i = 0; i < 2; i++)
		flush_held(f, i);
	return 0;
}

int
cmd_wait_output(struct spool *sp, const char *id)
{
	struct follow f;
	int r;

	follow_init(&f, sp, id);
	f.follow = f.strip = 1;
	f.s[0].out = 1;
	f.s[1].out = 2;
	if ((r = follow_run(&f)) == 0) {
		r = finished_status(&f.job, f.state);
		if (f.state == ST_DEAD)
			say_dead(&f.job);
	}
	follow_free(&f);
	return r;
}

int
cmd_logs(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "stdout", no_argument, NULL, 'o' },
		{ "stderr", no_argument, NULL, 'e' },
		{ "attempt", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd *c = cli_find("logs");
	int want[2] = { 1, 1 }, ch, r;
	struct follow f;
	struct spool sp;

	follow_init(&f, &sp, NULL);
	optind = 1;
	while ((ch = getopt_long(argc, argv, "hf", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f': f.follow = 1; break;
		case 'o': want[1] = 0; break;
		case 'e': want[0] = 0; break;
		case 'a': f.attempt = cli_int_opt("attempt", optarg, 1,
			    LONG_MAX); break;
		case 'h': return cli_show_help(c);
		default: return cli_usage_error(c);
		}
	}
	if (optind != argc - 1 || (!want[0] && !want[1]))
		return cli_usage_error(c);
	if (!id_valid(f.id = argv[optind]))
		errx(EX_DATAERR_, "invalid id: %s", f.id);
	for (int i = 0; i < 2; i++)
		f.s[i].out = want[i] ? 1 : -1;
	f.headers = want[0] && want[1];
	cli_open(&sp);
	if ((r = follow_run(&f)) == 0 && f.attempt != 0 && !f.s[0].passed &&
	    !f.s[1].passed) {
		warnx("job %s has no attempt %ld", f.id, f.attempt);
		r = EX_NOINPUT_;
	}
	follow_free(&f);
	spool_close(&sp);
	return r;
}
