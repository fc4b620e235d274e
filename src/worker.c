/*
 * worker.c - the worker's event loop.
 *
 * One process, one job at a time. It sleeps in poll(2) on:
 *   - an inotify fd watching pending/ and failed/ (IN_MOVED_TO and
 *     IN_CLOSE_WRITE add a candidate to the index, IN_MOVED_FROM and
 *     IN_DELETE drop it, IN_Q_OVERFLOW forces a rescan), the spool root
 *     (SPOOL/paused: claim nothing while it exists) and cancel/ (the ids
 *     with a cancel request, kept in memory: the running one is
 *     terminated, a claimed one goes to dead/ unstarted);
 *   - a signalfd for SIGTERM/SIGINT (graceful stop), SIGUSR1 (stop now) and
 *     SIGCHLD (the job's process exited);
 *   - while a job runs, the pipes of its stdout and stderr;
 * with a timeout that is the earliest of: the next waiting job's due time,
 * the running job's timeout or kill deadline, the next housekeeping (60 s),
 * the next safety rescan (5 min), on a network or FUSE filesystem the next
 * poll rescan (poll_interval: inotify sees only this host's changes there)
 * and, under a service manager with a watchdog, the next WATCHDOG=1
 * (notify.h). On a local disk nothing polls the directories.
 *
 * Two threads of fence.c confirm the lease every lease_check and, when it
 * is lost or unconfirmed for lease_timeout, kill the job's group and end
 * the process (fenced(), exit status WORKER_FENCED).
 *
 * Claim: take the first ready index entry, renameat2() it into our lease
 * (ENOENT: another worker won, take the next), validate it, rewrite it as
 * processing with attempts + 1, start a child (clone(CLONE_VM): no copy of
 * our memory) that waits on a pipe until the lease records its process
 * group, then execs the command: a simple one
 * (no character that sh would act on) directly, any other with
 * /bin/sh -c COMMAND. An idle worker makes that child ahead (the standby:
 * child_make, standby_make) and fills in its job at the claim; jobs that
 * follow each other without a pause get theirs made at their start.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bsd/string.h>

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define UNDER_VALGRIND() RUNNING_ON_VALGRIND
#endif
#endif
#ifndef UNDER_VALGRIND
#define UNDER_VALGRIND() 0
#endif
/* A child that ends by _exit leaves AddressSanitizer's marks of its stack
 * frames on the stack it ran on: they are cleared before it is reused. */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#else
#define ASAN_UNPOISON_MEMORY_REGION(p, n) ((void)(p), (void)(n))
#endif

#include "control.h"
#include "crash.h"
#include "deps.h"
#include "depwatch.h"
#include "fence.h"
#include "fsinfo.h"
#include "index.h"
#include "journal.h"
#include "lease.h"
#include "purge.h"
#include "notify.h"
#include "prefetch.h"
#include "util.h"
#include "shell.h"
#include "worker.h"

#define RESCAN_MS      (5 * 60 * 1000)
#define RECLAIM_MS     (60 * 1000)
#define BUSY_RECLAIM_MS 1000            /* a dead lease whose job still runs */
#define SETTLE_MS      2000             /* a fresh unparsable file may be half-written */
#define TMP_MAX_AGE_MS (24LL * 3600 * 1000)
#define PREFETCH_MIN   256              /* files worth a prefetch thread */
#define RETAIN_SLICE   64               /* entries per turn of a retention pass */

enum { STOP_NONE, STOP_GRACEFUL, STOP_NOW };

struct spawn_ctx;
static void spawn_ctx_free(struct spawn_ctx *c);

/* A job held in the lease because a step that moves it on failed. */
enum { HOLD_NONE, HOLD_SETTLE, HOLD_GIVE_BACK };

#define HOLD_MAX_MS    8000             /* longest wait between two tries */

struct attempt {
	struct job job;
	char id[ID_MAX + 1];
	char name[ID_MAX + 16];    /* <id>.json */
	int from;              /* claimed from ST_PENDING or ST_FAILED */
	char *orig;            /* the file as claimed, for stop --now */
	size_t origlen;
	int restore;           /* begin() changed the file: orig goes back */
	int success;           /* the outcome to record */
	int held;              /* HOLD_*: waiting in the lease for a retry */
	int tries;
	int64_t retry_at;      /* monotonic ms of the next try */
	pid_t pid;
	int exited;            /* the process is a zombie, not yet reaped */
	int pipes[2];          /* read ends of stdout, stderr; -1 when closed */
	int logs[2];
	long long written[2];
	int truncated[2];
	int64_t start_ms;      /* wall clock */
	int64_t start_mono;    /* for the duration */
	int64_t deadline;      /* monotonic ms of the timeout; 0: none */
	int64_t mark_at;       /* monotonic ms of mark_started(); 0: done */
	int unmarked;          /* held, its file not counting the attempt:
	                        * the lease record keeps naming it */
	unsigned long long pgid_start;  /* as recorded: start_time_within() */
	int64_t kill_at;       /* monotonic ms of the SIGKILL; 0: none */
	double timeout_s;
	int timed_out;
	int stopped;           /* ended by stop --now */
	int cancelled;         /* ended for a cancel request */
	int bury;              /* recorded in dead/ as cancelled */
	struct spawn_ctx *spawn;   /* the child's, until it is reaped */
};

/*
 * The text of the job file that read_keys() read last, what fstat said of
 * it then, and the descriptor it was read from, kept open so that its inode
 * number cannot be given to another file: when take() claims that file and
 * it is still the same (inode, size, mtime), it is not read a second time,
 * nor parsed: consider() leaves the job parsed from it in job.
 * A file changed in place between the two reads, keeping its size and
 * mtime, would go unseen: the same race as a change made just after the
 * second read.
 */
struct kept {
	int dir;
	char name[NAME_MAX + 1];
	struct job_text t;      /* t.text NULL, t.fd -1: none */
	struct job job;         /* parsed from t.text; job.obj NULL: none */
};

/* A child and our ends of its pipes (child_make); pid 0: none. */
struct child {
	pid_t pid;
	unsigned long long start;   /* its start time, as proc_start_time() */
	int go;                     /* the go pipe's write end */
	int out, err;               /* its stdout's, stderr's read ends */
	struct spawn_ctx *ctx;      /* shared with it until it execs */
};

struct worker {
	struct spool *sp;
	struct lease lease;
	struct index ix;
	struct depwatch dw;    /* jobs blocked on dependencies */
	int ifd, wd[2];        /* watches of pending/, failed/ */
	int wd_root;           /* watch of the spool root, for SPOOL/paused */
	int paused;            /* SPOOL/paused exists: claim nothing */
	int wd_cancel;         /* watch of cancel/ */
	char (*cancels)[ID_MAX + 1];   /* the ids cancel/ holds requests for */
	size_t ncancel, capcancel;
	int sfd;
	int stopping;
	int need_rescan;
	unsigned gen;
	struct attempt *run;
	struct attempt *held;  /* finished or not started, not yet moved on */
	int lease_busy;        /* the lease record names a job that is over */
	int64_t next_rescan, next_reclaim;   /* monotonic ms */
	int64_t next_busy;                   /* 0, or when to reclaim again */
	struct notify notify;                /* the service manager, if any */
	int64_t next_watchdog;               /* monotonic ms; 0: no watchdog */
	const char *dup_name;                /* for duplicate_of */
	struct kept kept;                    /* the file read_keys read last */
	struct purge retain;                 /* keep_done/keep_dead pass */
	int retaining;                       /* a pass is under way */
	const char *fs;                      /* the spool's filesystem */
	int network;                         /* ... is network or FUSE */
	struct config_timing tm;             /* poll, lease check and timeout */
	int64_t next_poll;                   /* monotonic ms; tm.poll_ms > 0 */
	struct child standby;                /* the next job's, made ahead */
	int64_t standby_after;               /* monotonic ms: none before */
};

static const int watched[2] = { ST_PENDING, ST_FAILED };

/* One line to stderr: time, worker id, message. */
static void __attribute__((format(printf, 2, 3)))
wlog(struct worker *w, const char *fmt, ...)
{
	char when[TIME_BUFSZ], msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s queuectl worker %s: %s\n",
	    time_format(now_ms(), when), w->lease.id[0] ? w->lease.id : "-", msg);
	fflush(stderr);
}

/* Forget the kept text. */
static void
kept_drop(struct kept *k)
{
	job_free(&k->job);
	memset(&k->job, 0, sizeof k->job);
	free(k->t.text);
	k->t.text = NULL;
	if (k->t.fd != -1)
		close(k->t.fd);
	k->t.fd = -1;
}

/* spool_job_read of dir/name (id), keeping its text in w->kept. */
static int
read_job(struct worker *w, int dir, const char *name, const char *id,
    struct job *job, char *err, size_t errsz)
{
	struct kept *k = &w->kept;

	kept_drop(k);
	if (spool_job_read_keep(w->sp->dir[dir], id, job, err, errsz,
	    &k->t) == -1)
		return -1;
	if (k->t.len != (size_t)k->t.st.st_size)
		kept_drop(k);         /* it changed while we read */
	k->dir = dir;
	strlcpy(k->name, name, sizeof k->name);
	return 0;
}

/* The kept text, if it is of the file now at lease/name, claimed from dir
 * (the caller frees it), and in *job the job parsed from it if there is
 * one (job->obj NULL if not); else NULL. Drops them either way. */
static char *
kept_take(struct worker *w, int dir, const char *name, size_t *len,
    struct job *job)
{
	struct kept *k = &w->kept;
	const struct stat *was = &k->t.st;
	char *text = k->t.text;
	struct stat st;

	*job = k->job;          /* ours now, as the text */
	memset(&k->job, 0, sizeof k->job);
	k->t.text = NULL;
	kept_drop(k);           /* the descriptor */
	if (text == NULL || k->dir != dir || strcmp(k->name, name) != 0 ||
	    fstatat(w->lease.dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISREG(st.st_mode) || st.st_ino != was->st_ino ||
	    st.st_dev != was->st_dev || st.st_size != was->st_size ||
	    st.st_mtim.tv_sec != was->st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != was->st_mtim.tv_nsec) {
		free(text);
		job_free(job);
		memset(job, 0, sizeof *job);
		return NULL;
	}
	*len = k->t.len;
	return text;
}

/* The index keys of dir/name, read from the file, which is left parsed in
 * job (job->obj NULL if it is not; free it with job_free). Returns -1 if
 * the file is gone; a file that does not parse gets default keys (it is
 * claimed and quarantined). */
static int
read_keys(struct worker *w, int dir, const char *name, long *prio,
    int64_t *due, int64_t *order, struct job *jobp)
{
	char id[ID_MAX + 1], err[256];
	struct stat st;
	struct job job;

	memset(jobp, 0, sizeof *jobp);
	*prio = 0;
	*due = 0;
	*order = 0;
	if (fstatat(w->sp->dir[dir], name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	*order = stat_mtime_ms(&st);
	if (!S_ISREG(st.st_mode) || id_from_name(name, id) == -1)
		return 0;
	if (read_job(w, dir, name, id, &job, err, sizeof err) == -1)
		return errno == ENOENT ? -1 : 0;
	*prio = job.priority;
	*due = job.run_at > job.next_run_at ? job.run_at : job.next_run_at;
	if (job.run_at != 0)
		*order = job.run_at;
	else if (job.created_at != 0)
		*order = job.created_at;
	*jobp = job;
	return 0;
}

/*
 * Add dir/name to the index (reading its keys) or refresh it. complete: an
 * event said the file was moved in or closed after writing, so a parse
 * failure is final; a file found by a rescan may still be being written.
 */
static void
consider(struct worker *w, int dir, const char *name, int complete)
{
	long prio;
	int64_t due, order;
	struct qentry *e = index_find(&w->ix, dir, name);
	struct job job;

	if (e != NULL) {
		e->gen = w->gen;
		e->complete |= complete;
		return;
	}
	if (name[0] == '.' || !has_suffix(name, ".json") ||
	    read_keys(w, dir, name, &prio, &due, &order, &job) == -1)
		return;
	if (due <= now_ms())
		due = 0;
	if ((e = index_add(&w->ix, dir, name, prio, due, order, w->gen)) == NULL)
		wlog(w, "index: %s", strerror(errno));
	else {
		e->complete = complete;
		if (deps_apply(&job) && depwatch_place(&w->dw, e,
		    &job) == -1)
			wlog(w, "%s: cannot look at its dependencies: %s", name,
			    strerror(errno));
	}
	/* a parsed job comes from read_job, which kept its file's text
	 * unless the file changed while read: kept with it, for take() */
	if (job.obj != NULL && w->kept.t.text != NULL)
		w->kept.job = job;
	else
		job_free(&job);
}

/* Is the spool paused? Looked at by every rescan (at start, after an
 * overflow) and when an event names SPOOL/paused, never per job. */
static void
check_paused(struct worker *w)
{
	int p = control_paused(w->sp, NULL, 0);

	if (p != w->paused)
		wlog(w, p ? "spool paused: claiming nothing until 'queuectl "
		    "resume'" : "spool resumed");
	w->paused = p;
}

/* Index of id in the set of cancel requests, or -1. */
static long
cancel_index(const struct worker *w, const char *id)
{
	for (size_t i = 0; i < w->ncancel; i++)
		if (strcmp(w->cancels[i], id) == 0)
			return (long)i;
	return -1;
}

/* Signal the running job's group: SIGTERM now, SIGKILL after kill_grace. */
static void
terminate(struct worker *w, struct attempt *a)
{
	kill(-a->pid, SIGTERM);
	a->kill_at = mono_ms() + (int64_t)(w->sp->cfg.kill_grace * 1000);
}

/* If a request names the running job, end it (unless it has exited: then
 * finish() decides). */
static void
cancel_running(struct worker *w)
{
	struct attempt *a = w->run;

	if (a == NULL || a->cancelled || a->exited ||
	    cancel_index(w, a->id) == -1)
		return;
	a->cancelled = 1;
	wlog(w, "%s: cancel requested: terminating its process group", a->id);
	if (!a->stopped)
		terminate(w, a);
}

/* A request for id appeared in cancel/. */
static void
cancel_add(struct worker *w, const char *id)
{
	char (*v)[ID_MAX + 1];

	if (!id_valid(id) || cancel_index(w, id) != -1)
		return;
	if (w->ncancel == w->capcancel) {
		size_t cap = w->capcancel ? w->capcancel * 2 : 8;

		if ((v = reallocarray(w->cancels, cap, sizeof *v)) == NULL) {
			wlog(w, "cancel request %s: %s", id, strerror(errno));
			return;
		}
		w->cancels = v;
		w->capcancel = cap;
	}
	strlcpy(w->cancels[w->ncancel++], id, ID_MAX + 1);
	cancel_running(w);
}

/* The request for id left cancel/. */
static void
cancel_drop(struct worker *w, const char *id)
{
	long i = cancel_index(w, id);

	if (i != -1 && (size_t)i != --w->ncancel)
		memcpy(w->cancels[i], w->cancels[w->ncancel], ID_MAX + 1);
}

/* Job id is recorded: a request for it is settled and removed. */
static void
cancel_settled(struct worker *w, const char *id)
{
	if (w->ncancel == 0 || cancel_index(w, id) == -1)
		return;
	if (control_cancel_forget(w->sp, id) == -1)
		wlog(w, "cannot remove cancel/%s: %s", id, strerror(errno));
	cancel_drop(w, id);
}

static int
cancel_scan_one(int dirfd, const char *name, void *arg)
{
	(void)dirfd;
	cancel_add(arg, name);
	return 0;
}

/*
 * Consider every job file of pending/ or failed/ (st). On a local disk in
 * inode order, a large directory with a prefetch thread ahead (prefetch.h;
 * spool-layout/README.md, "How workers find work"); on a network or FUSE
 * filesystem in directory order, as it is listed.
 */
static int
rescan_one(int dirfd, const char *name, void *arg)
{
	struct worker *w = arg;

	consider(w, dirfd == w->sp->dir[ST_PENDING] ? ST_PENDING : ST_FAILED,
	    name, 0);
	return 0;
}

static void
rescan_dir(struct worker *w, int st)
{
	struct spool_names l = { 0 };
	struct prefetch pf = { 0 };
	int dirfd = w->sp->dir[st];

	/* no prefetch there, and a rescan every poll_interval: no list */
	if (w->network) {
		if (spool_each(dirfd, ".json", rescan_one, w) == -1)
			wlog(w, "cannot read %s/: %s", state_name(st),
			    strerror(errno));
		return;
	}
	if (spool_names_by_inode(dirfd, ".json", &l) == -1)
		wlog(w, "cannot read %s/: %s", state_name(st), strerror(errno));
	if (l.n >= PREFETCH_MIN && prefetch_start(&pf, dirfd, &l) == -1)
		wlog(w, "%s/: no prefetch thread: %s", state_name(st),
		    strerror(errno));
	for (size_t i = 0; i < l.n; i++)
		consider(w, st, spool_name_at(&l, i), 0);
	prefetch_end(&pf);
	spool_names_free(&l);
}

static void
rescan(struct worker *w)
{
	check_paused(w);
	w->ncancel = 0;
	if (spool_each(w->sp->cancel, NULL, cancel_scan_one, w) == -1)
		wlog(w, "cannot read cancel/: %s", strerror(errno));
	w->gen++;
	for (int i = 0; i < 2; i++)
		rescan_dir(w, watched[i]);
	index_sweep(&w->ix, w->gen);
	depwatch_recheck(&w->dw);
	w->need_rescan = 0;
	w->next_rescan = mono_ms() + RESCAN_MS;
	w->next_poll = mono_ms() + w->tm.poll_ms;
}

/*
 * Take the timings of the config in force (after a reload): the poll
 * period (the lease record says it from the next rewrite on) and the
 * fence's.
 */
static void
retime(struct worker *w)
{
	struct config_timing t;

	config_timing(&w->sp->cfg, w->network, &t);
	if (memcmp(&t, &w->tm, sizeof t) == 0)
		return;
	if (t.poll_ms != w->tm.poll_ms) {
		w->lease.poll_ms = t.poll_ms;
		w->lease_busy = 1;
		w->next_poll = mono_ms() + t.poll_ms;
	}
	if (t.timeout_ms != w->tm.timeout_ms) {
		/* retime runs only between jobs: the next record, the job's
		 * (before its go byte) or the idle one, says it */
		w->lease.fence_ms = t.timeout_ms;
		w->lease_busy = 1;
	}
	fence_timing(t.check_ms, t.timeout_ms);
	w->tm = t;
}

/* Start a retention pass if keep_done or keep_dead is set and none runs. */
static void
retain_start(struct worker *w)
{
	const struct config *c = &w->sp->cfg;
	int64_t now = now_ms();

	if (w->retaining || (c->keep_done < 0 && c->keep_dead < 0))
		return;
	purge_init(&w->retain, w->sp, 1, NULL, NULL);
	if (c->keep_done >= 0)
		purge_add(&w->retain, ST_DONE, now - c->keep_done);
	if (c->keep_dead >= 0)
		purge_add(&w->retain, ST_DEAD, now - c->keep_dead);
	w->retaining = 1;
}

/* One slice of the retention pass: at most RETAIN_SLICE entries. */
static void
retain_step(struct worker *w)
{
	struct purge *p = &w->retain;
	int r = purge_step(p, RETAIN_SLICE);

	if (r == 1)
		return;
	if (r == -1)
		wlog(w, "retention: cannot read %s/: %s",
		    state_dir(p->states[p->i]), strerror(errno));
	if (p->removed[0] + p->removed[1] > 0)
		wlog(w, "retention: purged %ld job(s)",
		    p->removed[0] + p->removed[1]);
	purge_end(p);
	w->retaining = 0;
}

/* Reclaim dead leases. One of another host left because its job still
 * runs there, or because it has not been free long enough for its worker
 * to have fenced itself, is tried again every BUSY_RECLAIM_MS, so that the
 * job runs again soon, not at the next housekeeping. */
static void
reclaim(struct worker *w)
{
	int nl = 0, nj = 0;

	w->next_busy = 0;
	if (lease_reclaim_dead(w->sp, w->lease.id, &nl, &nj) == -1) {
		if (errno == EBUSY || errno == EAGAIN)
			w->next_busy = mono_ms() + BUSY_RECLAIM_MS;
		else
			wlog(w, "could not fully reclaim a dead lease: %s",
			    strerror(errno));
	}
	if (nl > 0)
		wlog(w, "reclaimed %d job(s) from %d dead worker(s)", nj, nl);
}

/* Reclaim dead leases, sweep tmp/, drop old journal segments, start
 * retention: at start and every RECLAIM_MS. */
static void
housekeeping(struct worker *w)
{
	int n;

	reclaim(w);
	spool_sweep_tmp(w->sp, TMP_MAX_AGE_MS);
	journal_compact(w->sp, now_ms(), JOURNAL_KEEP_MS);
	if (w->ncancel > 0 && (n = control_cancel_sweep(w->sp, 1)) > 0)
		wlog(w, "settled %d stale cancel request(s)", n);
	retain_start(w);
	w->next_reclaim = mono_ms() + RECLAIM_MS;
}

/*
 * dir/name was moved away or deleted: drop its entry, unless the name is
 * back already (our own put-back of a job we could not start, which keeps
 * its delay).
 */
static void
forget(struct worker *w, int dir, const char *name)
{
	struct qentry *e = index_find(&w->ix, dir, name);
	struct stat st;

	if (e != NULL && fstatat(w->sp->dir[dir], name, &st,
	    AT_SYMLINK_NOFOLLOW) == -1 && errno == ENOENT)
		index_remove(&w->ix, e);
}

/*
 * A regular file that was just created is being written: wait for its
 * IN_CLOSE_WRITE, unless it is a hard link to a complete file (ln). Anything else (symlink, FIFO, directory) will never be
 * closed after writing: consider it now, so that it is quarantined.
 */
static int
created_regular(struct worker *w, int dir, const char *name)
{
	struct stat st;

	return fstatat(w->sp->dir[dir], name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    (S_ISREG(st.st_mode) && st.st_nlink == 1);
}

static void
on_inotify(struct worker *w)
{
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;

	while ((n = read(w->ifd, buf, sizeof buf)) > 0) {
		for (char *p = buf; p < buf + n; p += sizeof *ev + ev->len) {
			int dir;

			ev = (const struct inotify_event *)(void *)p;
			if (ev->mask & IN_Q_OVERFLOW) {
				w->need_rescan = 1;
				continue;
			}
			if (ev->len == 0)
				continue;
			if (ev->wd == w->wd_root) {
				if (strcmp(ev->name, CONTROL_PAUSED) == 0)
					check_paused(w);
				continue;
			}
			if (ev->wd == w->wd_cancel) {
				if (ev->mask & (IN_CREATE | IN_MOVED_TO))
					cancel_add(w, ev->name);
				else
					cancel_drop(w, ev->name);
				continue;
			}
			if (depwatch_owns(&w->dw, ev->wd)) {
				depwatch_arrived(&w->dw, ev->name);
				continue;
			}
			if (ev->wd != w->wd[0] && ev->wd != w->wd[1])
				continue;     /* a dropped watch of done/, dead/ */
			dir = ev->wd == w->wd[0] ? ST_PENDING : ST_FAILED;
			if (ev->mask & (IN_MOVED_TO | IN_CLOSE_WRITE))
				consider(w, dir, ev->name, 1);
			else if ((ev->mask & IN_CREATE) &&
			    !created_regular(w, dir, ev->name))
				consider(w, dir, ev->name, 1);
			else if (ev->mask & (IN_MOVED_FROM | IN_DELETE))
				forget(w, dir, ev->name);
		}
	}
}

static void
attempt_close(struct attempt *a)
{
	for (int i = 0; i < 2; i++) {
		if (a->pipes[i] != -1)
			close(a->pipes[i]);
		if (a->logs[i] != -1)
			close(a->logs[i]);
		a->pipes[i] = a->logs[i] = -1;
	}
}

static void
attempt_free(struct attempt *a)
{
	attempt_close(a);
	spawn_ctx_free(a->spawn);
	job_free(&a->job);
	free(a->orig);
	free(a);
}

/* Append to log i, dropping what is over log_max_bytes for this attempt. */
static void
log_write(struct worker *w, struct attempt *a, int i, const char *buf,
    size_t n)
{
	long long cap = w->sp->cfg.log_max_bytes, room = cap - a->written[i];
	char mark[96];

	if (a->truncated[i])
		return;
	if ((long long)n > room) {
		n = room > 0 ? (size_t)room : 0;
		a->truncated[i] = 1;
	}
	if (n > 0 && write_all(a->logs[i], buf, n) == -1)
		wlog(w, "%s: cannot write log: %s", a->job.id, strerror(errno));
	a->written[i] += (long long)n;
	if (a->truncated[i]) {
		snprintf(mark, sizeof mark, "\n=== queuectl: output truncated "
		    "after %lld bytes ===\n", cap);
		write_all(a->logs[i], mark, strlen(mark));
	}
}

/* Read what pipe i has now (at most 16 reads, so that a chatty job cannot
 * keep the loop from its timers and signals); close it at end of file. */
static int
pump(struct worker *w, struct attempt *a, int i)
{
	char buf[65536];
	ssize_t n;

	for (int reads = 0; a->pipes[i] != -1; reads++) {
		if (reads == 16)
			return 1;     /* more to read: come back after poll */
		n = read(a->pipes[i], buf, sizeof buf);
		if (n > 0) {
			log_write(w, a, i, buf, (size_t)n);
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN)
			return 0;
		close(a->pipes[i]);
		a->pipes[i] = -1;
	}
	return 0;
}

/*
 * What the job's child needs, prepared by the worker. The child is made
 * with clone(CLONE_VM): it shares the worker's memory until it execs,
 * which spares copying the worker's address space (the largest part of a
 * fork) but means that it must not allocate, nor write anything but its own
 * stack, and that all this stays allocated until the child is reaped.
 */
#define SPAWN_STACK (256 * 1024)

/* ms from the go byte to mark_started() at the latest */
#define MARK_DELAY_MS 10

struct spawn_ctx {
	int go, out, err;       /* the worker's ends: go pipe read, logs write */
	int run;                /* the lease's run lock, kept as LEASE_RUN_FD */
	const char *cwd;        /* NULL: the worker's */
	char **argv;            /* simple: the command's words (one block) */
	char *sh_argv[4];       /* otherwise: sh -c COMMAND */
	char **envp;            /* the worker's environment and ours */
	char *vars[4];          /* QUEUECTL_JOB_ID=... */
	char **jobvars;         /* the job's "env" as NAME=value; NULL: none */
	char stack[];           /* SPAWN_STACK bytes */
};

/* The block of the last child reaped, kept for the next one: the stack is
 * then mapped and its pages already there (a worker runs one job at a
 * time, so one is enough). */
static struct spawn_ctx *spawn_spare;

/* Free what c points to, and c unless it becomes the spare; only once the
 * child that used it is reaped (or was never made). */
static void
spawn_ctx_free(struct spawn_ctx *c)
{
	if (c == NULL)
		return;
	free(c->argv);
	free(c->envp);
	for (int i = 0; i < 4; i++)
		free(c->vars[i]);
	for (size_t i = 0; c->jobvars != NULL && c->jobvars[i] != NULL; i++)
		free(c->jobvars[i]);
	free(c->jobvars);
	if (spawn_spare == NULL)
		spawn_spare = c;
	else
		free(c);
}

/* Does var ("NAME=value") assign name (n bytes)? */
static int
sets_name(const char *var, const char *name, size_t n)
{
	return strncmp(var, name, n) == 0 && var[n] == '=';
}

/* Does var assign a name of ours (c->vars) or of the job's env (may be
 * NULL)? */
static int
named_by(const char *var, const struct spawn_ctx *c, const cJSON *env)
{
	const cJSON *it;

	for (int j = 0; j < 4; j++)
		if (sets_name(var, c->vars[j], strcspn(c->vars[j], "=")))
			return 1;
	cJSON_ArrayForEach(it, env)
		if (sets_name(var, it->string, strlen(it->string)))
			return 1;
	return 0;
}

/* The job's "env" as NAME=value strings, without our own names. */
static int
spawn_jobvars(struct spawn_ctx *c, const cJSON *env, size_t *n)
{
	const cJSON *it;
	size_t k = 0;

	*n = (size_t)cJSON_GetArraySize(env);
	if ((c->jobvars = calloc(*n + 1, sizeof *c->jobvars)) == NULL)
		return -1;
	cJSON_ArrayForEach(it, env) {
		char *var;

		if (asprintf(&var, "%s=%s", it->string, it->valuestring) == -1)
			return -1;
		if (named_by(var, c, NULL))
			free(var);        /* ours win */
		else
			c->jobvars[k++] = var;
	}
	return 0;
}

/* The environment: the worker's without the names we or the job set, then
 * the job's "env", then ours. */
static int
spawn_env(struct worker *w, struct attempt *a, struct spawn_ctx *c)
{
	size_t n = 0, k = 0, nj = 0;

	if (asprintf(&c->vars[0], "QUEUECTL_JOB_ID=%s", a->job.id) == -1 ||
	    asprintf(&c->vars[1], "QUEUECTL_ATTEMPT=%ld", a->job.attempts) == -1 ||
	    asprintf(&c->vars[2], "QUEUECTL_SPOOL=%s", w->sp->path) == -1 ||
	    asprintf(&c->vars[3], "QUEUECTL_WORKER=%s", w->lease.id) == -1) {
		memset(c->vars, 0, sizeof c->vars);    /* undefined on failure */
		return -1;
	}
	if (a->job.env != NULL && spawn_jobvars(c, a->job.env, &nj) == -1)
		return -1;
	while (environ[n] != NULL)
		n++;
	if ((c->envp = calloc(n + nj + 5, sizeof *c->envp)) == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!named_by(environ[i], c, a->job.env))
			c->envp[k++] = environ[i];
	for (size_t i = 0; c->jobvars != NULL && c->jobvars[i] != NULL; i++)
		c->envp[k++] = c->jobvars[i];
	for (int i = 0; i < 4; i++)
		c->envp[k++] = c->vars[i];
	return 0;
}

/* A context for a child that will use descriptors go, out, err and the
 * lease's run lock; its job is filled in later (spawn_fill). NULL if out
 * of memory. */
static struct spawn_ctx *
spawn_ctx_get(struct worker *w, int go, int out, int err)
{
	struct spawn_ctx *c = spawn_spare;

	spawn_spare = NULL;
	if (c != NULL)
		ASAN_UNPOISON_MEMORY_REGION(c->stack, SPAWN_STACK);
	else if ((c = malloc(sizeof *c + SPAWN_STACK)) == NULL)
		return NULL;
	memset(c, 0, sizeof *c);      /* not the stack: 256 KiB to clear */
	c->go = go;
	c->out = out;
	c->err = err;
	c->run = w->lease.runfd;
	return c;
}

/* What the child of attempt a execs, where and with what environment; it
 * reads them after its go byte. 0, or -1 (ENOMEM). */
static int
spawn_fill(struct worker *w, struct attempt *a, struct spawn_ctx *c)
{
	c->cwd = a->job.cwd;
	if (shell_simple_argv(a->job.command, &c->argv) == -1 ||
	    spawn_env(w, a, c) == -1) {
		errno = ENOMEM;
		return -1;
	}
	c->sh_argv[0] = "sh";
	c->sh_argv[1] = "-c";
	c->sh_argv[2] = (char *)a->job.command;
	return 0;
}

/* In the child: say why on stderr (no allocation) and exit. */
static void __attribute__((noreturn))
child_fail(const char *what, int e, int status)
{
	char msg[512];

	snprintf(msg, sizeof msg, "queuectl: %s: %s\n", what,
	    e == ENOENT && status == 127 ? "not found" : strerror(e));
	write(2, msg, strlen(msg));
	_exit(status);
}

/*
 * The child: its own process group, stdio in place and every other
 * descriptor closed (the lease lock above all, and the go pipe's write end,
 * so that the worker's death reads as end of file) but the lease's run
 * lock as LEASE_RUN_FD, which every process of the job then holds (so that
 * another host does not reclaim the job while it runs); then wait for the go
 * byte, which comes once the lease records our process group, and exec the
 * command as sh -c would: a simple one (shell_simple_argv) directly, with
 * sh's exit status and message when it cannot be run (127: not found, 126:
 * found but not runnable), anything else through /bin/sh.
 */
static int
child_main(void *arg)
{
	struct spawn_ctx *c = arg;
	sigset_t none;
	char ch;
	int null;

	setpgid(0, 0);
	if ((null = open("/dev/null", O_RDONLY | O_CLOEXEC)) == -1 ||
	    dup2(null, 0) == -1 || dup2(c->out, 1) == -1 ||
	    dup2(c->err, 2) == -1 || (c->go != 3 && dup2(c->go, 3) == -1) ||
	    dup2(c->run, LEASE_RUN_FD) == -1 ||
	    /* dup2(63, 63) keeps the close-on-exec flag */
	    (c->run == LEASE_RUN_FD && fcntl(LEASE_RUN_FD, F_SETFD, 0) == -1) ||
	    close_range(4, LEASE_RUN_FD - 1, 0) == -1)
		_exit(127);
	closefrom(LEASE_RUN_FD + 1);
	if (read(3, &ch, 1) != 1)
		_exit(127);           /* the worker died before recording us */
	close(3);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (c->cwd != NULL && chdir(c->cwd) == -1) {
		char what[PATH_MAX + 32];

		snprintf(what, sizeof what, "cannot change directory to %s",
		    c->cwd);
		child_fail(what, errno, 126);
	}
	if (c->argv != NULL) {
		execvpe(c->argv[0], c->argv, c->envp);
		child_fail(c->argv[0], errno, errno == ENOENT ? 127 : 126);
	}
	execve("/bin/sh", c->sh_argv, c->envp);
	child_fail("/bin/sh", errno, 127);
}

/* Start the child: clone(CLONE_VM), or fork under valgrind, which cannot
 * follow such a clone. */
static pid_t
spawn_child(struct spawn_ctx *c)
{
	pid_t pid;

	if (UNDER_VALGRIND()) {
		if ((pid = fork()) == 0)
			_exit(child_main(c));
		return pid;
	}
	return clone(child_main, c->stack + SPAWN_STACK, CLONE_VM | SIGCHLD, c);
}

/* Open the attempt's logs in the lease and write the attempt markers. */
static int
open_logs(struct worker *w, struct attempt *a)
{
	static const char *const sfx[2] = { "stdout", "stderr" };
	char name[ID_MAX + 16], when[TIME_BUFSZ], mark[256];

	for (int i = 0; i < 2; i++) {
		if (fmt_checked(name, sizeof name, "%s.%s", a->job.id, sfx[i]) == -1)
			return -1;
		if ((a->logs[i] = lease_log_open(&w->lease, i, name)) == -1)
			return -1;
		snprintf(mark, sizeof mark, JOB_LOG_MARKER_FMT, a->job.attempts,
		    w->lease.id, time_format(a->start_ms, when));
		if (write_all(a->logs[i], mark, strlen(mark)) == -1)
			return -1;
	}
	return 0;
}

/* The lease record names the running attempt a (its process group and
 * that group's leader's start time). 0, or -1 with errno set. */
static int
record_running(struct worker *w, const struct attempt *a)
{
	return lease_record(&w->lease, a->job.id, a->job.attempts, a->pid,
	    a->pgid_start, a->start_ms);
}

/*
 * Make a child (child_main) that waits on its go pipe: in its own process
 * group, its stdout and stderr on fresh pipes, the run lock in place, to
 * run attempt a, or (a NULL: the standby) the attempt that spawn_fill
 * gives it later: it shares our memory (clone(CLONE_VM)) and reads its
 * context only after the go byte. Under valgrind the child is forked, a
 * copy: a is then required. 0, or -1 with errno set.
 */
static int
child_make(struct worker *w, struct attempt *a, struct child *ch)
{
	int out[2] = { -1, -1 }, err[2] = { -1, -1 }, go[2] = { -1, -1 };
	struct spawn_ctx *c = NULL;
	static long hz;
	int64_t before;
	int saved;

	if (hz == 0)
		hz = sysconf(_SC_CLK_TCK);
	if (pipe2(out, O_CLOEXEC) == -1 ||
	    pipe2(err, O_CLOEXEC) == -1 || pipe2(go, O_CLOEXEC) == -1 ||
	    (c = spawn_ctx_get(w, go[0], out[1], err[1])) == NULL ||
	    (a != NULL && spawn_fill(w, a, c) == -1))
		goto fail;
	before = boot_ns();
	if ((ch->pid = spawn_child(c)) == -1)
		goto fail;
	if ((ch->start = start_time_within(before, boot_ns(), hz)) == 0)
		ch->start = proc_start_time(ch->pid);
	close(out[1]);
	close(err[1]);
	close(go[0]);
	setpgid(ch->pid, ch->pid);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	ch->go = go[1];
	ch->out = out[0];
	ch->err = err[0];
	ch->ctx = c;
	return 0;
fail:
	saved = errno;
	spawn_ctx_free(c);
	for (int i = 0; i < 2; i++) {
		if (out[i] != -1)
			close(out[i]);
		if (err[i] != -1)
			close(err[i]);
		if (go[i] != -1)
			close(go[i]);
	}
	memset(ch, 0, sizeof *ch);
	errno = saved;
	return -1;
}

/* End a child that was never given its go byte (it would read end of
 * file and exit 127; SIGKILL, for one that someone stopped) and reap it;
 * its pid is ours until then, so the kill cannot hit another process. */
static void
child_drop(struct child *ch)
{
	if (ch->pid == 0)
		return;
	close(ch->go);
	kill(ch->pid, SIGKILL);
	waitpid(ch->pid, NULL, 0);
	close(ch->out);
	close(ch->err);
	spawn_ctx_free(ch->ctx);
	memset(ch, 0, sizeof *ch);
}

/* An idle worker makes the child of its next job ahead (not under
 * valgrind, whose fork does not share memory): the clone and the pipes
 * are then off a pickup's path. Best effort; not again within a second of
 * one that ended unused. */
static void
standby_make(struct worker *w)
{
	if (w->standby.pid != 0 || w->run != NULL || w->held != NULL ||
	    w->stopping != STOP_NONE || w->paused || UNDER_VALGRIND() ||
	    mono_ms() < w->standby_after)
		return;
	child_make(w, NULL, &w->standby);
}

/* Is the standby child still waiting? One that ended (killed by someone)
 * is reaped, and said so. */
static int
standby_check(struct worker *w)
{
	siginfo_t si;

	if (w->standby.pid == 0)
		return 0;
	memset(&si, 0, sizeof si);
	if (waitid(P_PID, (id_t)w->standby.pid, &si, WEXITED | WNOHANG |
	    WNOWAIT) == 0 && si.si_pid == w->standby.pid) {
		wlog(w, "the standby child %ld ended unused", (long)si.si_pid);
		child_drop(&w->standby);
		w->standby_after = mono_ms() + 1000;
		return 0;
	}
	return 1;
}

/* Take the standby child into ch, if there is one still waiting. 0 or -1. */
static int
standby_take(struct worker *w, struct child *ch)
{
	if (!standby_check(w))
		return -1;
	*ch = w->standby;
	memset(&w->standby, 0, sizeof w->standby);
	return 0;
}

/* Start the attempt's process: the standby child, given its job, or one
 * made now. 0, or -1 with errno set (no child left). */
static int
spawn(struct worker *w, struct attempt *a)
{
	struct child ch;
	int saved;

	if (standby_take(w, &ch) == 0) {
		if (spawn_fill(w, a, ch.ctx) == -1)
			goto drop;
	} else if (child_make(w, a, &ch) == -1)
		return -1;
	a->pid = ch.pid;
	a->pgid_start = ch.start + (unsigned long long)TEST_SKEW("pgid_start");
	fence_job(ch.pid);
	if (open_logs(w, a) == -1 || record_running(w, a) == -1) {
		fence_job(0);
		a->pid = -1;
		goto drop;
	}
	a->spawn = ch.ctx;
	a->pipes[0] = ch.out;
	a->pipes[1] = ch.err;
	CRASH_POINT("spawn.before_go");
	write_all(ch.go, "x", 1);
	close(ch.go);
	CRASH_POINT("spawn.after_go");
	/* the job first, if it shares our CPU: what follows can wait */
	sched_yield();
	lease_spares_fill(&w->lease);
	return 0;
drop:
	saved = errno;
	child_drop(&ch);             /* it sees EOF, unrun */
	errno = saved;
	return -1;
}

/* Quarantine a claimed file from the lease; log why. */
static void
reject(struct worker *w, const char *name, const char *id, const char *why)
{
	wlog(w, "%s: not a valid job (%s): moved to dead/", name, why);
	if (spool_quarantine(w->sp, w->lease.dirfd, name, id, why) == -1)
		wlog(w, "%s: cannot quarantine: %s", name, strerror(errno));
}

/*
 * May the pending/failed file of entry e be claimed now? A file that only a
 * rescan found, that was modified less than SETTLE_MS ago and does not parse
 * may still be being written: its entry waits until SETTLE_MS after its
 * mtime, and the second look is final.
 */
static int
settled(struct worker *w, struct qentry *e)
{
	char id[ID_MAX + 1], err[256];
	struct stat st;
	struct job job;
	int64_t mtime;

	if (e->complete ||
	    fstatat(w->sp->dir[e->dir], e->name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISREG(st.st_mode) || id_from_name(e->name, id) == -1)
		return 1;
	mtime = stat_mtime_ms(&st);
	if (now_ms() - mtime >= SETTLE_MS)
		return 1;
	if (spool_job_read(w->sp->dir[e->dir], id, &job, err, sizeof err) == 0) {
		job_free(&job);
		return 1;
	}
	index_delay(&w->ix, e, mtime + SETTLE_MS);
	e->complete = 1;
	return 0;
}

/* Does the lease processing/lease, not ours, hold w->dup_name (a drop-in
 * duplicate running)? One fstatat per other lease: no lease is listed. */
static int
in_other_lease(int dirfd, const char *lease, void *arg)
{
	struct worker *w = arg;
	char path[2 * NAME_MAX + 2];
	struct stat st;

	if (strcmp(lease, w->lease.id) == 0 ||
	    fmt_checked(path, sizeof path, "%s/%s", lease, w->dup_name) == -1)
		return 0;
	return fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* Where else is name (a drop-in duplicate): done/, failed/, dead/, hold/,
 * or another worker's lease? Its directory's name, NULL if nowhere.
 * processing/ is listed only if its link count (2 + its subdirectories,
 * where the filesystem keeps it: not btrfs, which says 1) does not show
 * that our lease is the only one. */
static const char *
duplicate_of(struct worker *w, const char *name)
{
	static const int dirs[] = { ST_DONE, ST_FAILED, ST_DEAD, ST_HELD };
	struct stat st;

	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
		if (fstatat(w->sp->dir[dirs[i]], name, &st,
		    AT_SYMLINK_NOFOLLOW) == 0)
			return state_dir(dirs[i]);
	if (fstat(w->sp->dir[ST_PROCESSING], &st) == 0 && st.st_nlink == 3)
		return NULL;
	w->dup_name = name;
	if (spool_each(w->sp->dir[ST_PROCESSING], NULL, in_other_lease, w) == 1)
		return state_dir(ST_PROCESSING);
	return NULL;
}

/* Look at from/name again in a second (not in a hot loop: our own rename
 * back does not make it ready sooner, see forget()). */
static void
look_later(struct worker *w, int from, const char *name)
{
	struct qentry *e;

	if ((e = index_add(&w->ix, from, name, 0, 0, 0, w->gen)) != NULL)
		index_delay(&w->ix, e, now_ms() + 1000);
}

/* Put the claimed job back where it was found, as it was claimed. */
static int
give_back(struct worker *w, struct attempt *a)
{
	if (a->restore && spool_replace(w->sp, w->lease.dirfd, a->name,
	    a->orig, a->origlen) == -1)
		return -1;
	a->restore = 0;
	if (spool_job_move(w->sp, w->lease.dirfd, w->sp->dir[a->from],
	    a->id) == -1)
		return -1;
	look_later(w, a->from, a->name);
	return 0;
}

/*
 * A step that moves the job in our lease on (recording its result, putting
 * it back) failed: keep the job, and what is to be done with it, and try
 * again later, claiming nothing meanwhile (a lease holds one job).
 */
static void
hold(struct worker *w, struct attempt *a, int kind)
{
	int saved = errno;
	int64_t delay;

	attempt_close(a);
	a->held = kind;
	a->tries++;
	delay = a->tries >= 4 ? HOLD_MAX_MS : 1000LL << (a->tries - 1);
	a->retry_at = mono_ms() + delay;
	w->held = a;
	wlog(w, "%s: cannot %s: %s (try %d; kept in the lease, trying again "
	    "in %lld s)", a->id, kind == HOLD_SETTLE ? "record the result" :
	    "put it back", strerror(saved), a->tries, (long long)delay / 1000);
}

/* Record the finished (or cancelled) job: move it from our lease to
 * done/, failed/ or dead/, or to dead/ as cancelled. A failure with a
 * cancel request (one that came after the exit, or while the job was held)
 * is final. 0 or -1. */
static int
record(struct worker *w, struct attempt *a)
{
	int r;

	if (!a->success && w->ncancel > 0 && cancel_index(w, a->id) != -1)
		a->bury = 1;
	r = a->bury ? spool_job_doom(w->sp, w->lease.dirfd, &a->job,
	    CONTROL_CANCELLED) : spool_job_settle(w->sp, w->lease.dirfd,
	    &a->job, a->success);
	if (r == -1)
		return -1;
	if (a->bury)
		wlog(w, "%s: cancelled: moved to dead/", a->id);
	cancel_settled(w, a->id);
	return 0;
}

/* Try the held job's step again. */
static void
retry_held(struct worker *w)
{
	struct attempt *a = w->held;
	int r = a->held == HOLD_SETTLE ? record(w, a) : give_back(w, a);

	w->held = NULL;
	if (r == -1) {
		hold(w, a, a->held);
		return;
	}
	wlog(w, "%s: %s after %d tries", a->id, a->held == HOLD_SETTLE ?
	    "result recorded" : "put back", a->tries + 1);
	attempt_free(a);
}

/* Give the claimed job back, or hold it if that fails. */
static void
give_back_or_hold(struct worker *w, struct attempt *a)
{
	if (give_back(w, a) == -1)
		hold(w, a, HOLD_GIVE_BACK);
	else
		attempt_free(a);
}

/* Validate the job now in our lease; the attempt on success, else NULL. */
static struct attempt *
take(struct worker *w, int from, const char *name, const char *id)
{
	char err[256], why[300];
	struct attempt *a = calloc(1, sizeof *a);
	const char *dup;

	if (a == NULL)
		return NULL;
	a->pid = -1;
	a->pipes[0] = a->pipes[1] = a->logs[0] = a->logs[1] = -1;
	a->from = from;
	strlcpy(a->name, name, sizeof a->name);
	strlcpy(a->id, id, sizeof a->id);
	if ((a->orig = kept_take(w, from, name, &a->origlen,
	    &a->job)) == NULL)
		a->orig = file_read_at(w->lease.dirfd, name, JOB_MAX_BYTES,
		    &a->origlen);
	if (a->orig == NULL) {
		if (errno != EFBIG && errno != EINVAL && errno != ELOOP) {
			/* Not the file's fault (EACCES, EIO, EMFILE...): put it
			 * back and try again later. */
			wlog(w, "%s: cannot read: %s", name, strerror(errno));
			give_back_or_hold(w, a);
			return NULL;
		}
		snprintf(why, sizeof why, "%s", errno == EFBIG ?
		    "job file too large" : "not a regular file");
		goto bad;
	}
	if (a->job.obj == NULL && job_parse(&a->job, a->orig, a->origlen, id,
	    err, sizeof err) == -1) {
		snprintf(why, sizeof why, "%s", err);
		goto bad;
	}
	/* A job never started (a drop-in: enqueue refuses it) must leave the
	 * room for what workers add, or its rewrite would pass 1 MiB. */
	if (a->origlen > JOB_ENQUEUE_MAX && a->job.started_at == 0) {
		snprintf(why, sizeof why, "job file too large: over %d bytes, "
		    "which leaves less than %d for the fields workers add",
		    JOB_ENQUEUE_MAX, JOB_ROOM_BYTES);
		goto bad;
	}
	if (from == ST_PENDING && (dup = duplicate_of(w, name)) != NULL) {
		snprintf(why, sizeof why, "duplicate id: %s already in %s/", id,
		    dup);
		goto bad;
	}
	return a;
bad:
	reject(w, name, id, why);
	attempt_free(a);
	return NULL;
}

/* Mark the attempt started in the job file and start its process. A
 * dropped-in job gets its file's mtime as created_at. */
static int
begin(struct worker *w, struct attempt *a, const char *name)
{
	struct job *j = &a->job;
	struct stat st;
	double t = j->timeout >= 0 ? j->timeout : w->sp->cfg.timeout;

	a->start_ms = now_ms();
	a->start_mono = mono_ms();
	if (j->created_at == 0 && fstatat(w->lease.dirfd, name, &st,
	    AT_SYMLINK_NOFOLLOW) == 0 && job_set_time(j, "created_at",
	    stat_mtime_ms(&st)) == -1)
		return -1;
	if (job_set_state(j, ST_PROCESSING) == -1 ||
	    job_set_long(j, "attempts", j->attempts + 1) == -1 ||
	    job_set_string(j, "worker", w->lease.id) == -1 ||
	    job_set_time(j, "started_at", a->start_ms) == -1 ||
	    job_set_time(j, "finished_at", 0) == -1 ||
	    job_set_time(j, "next_run_at", 0) == -1)
		return -1;
	/* With sync = 1 the attempt must count even after a power loss (a job
	 * that takes the machine down must still run out of retries): the
	 * rewrite and the claim are durable before the job starts. */
	if (spool_sync(w->sp) && (spool_job_write(w->sp, w->lease.dirfd,
	    j) == -1 || fsync(w->lease.dirfd) == -1))
		return -1;
	a->timeout_s = t;
	a->deadline = t > 0 ? mono_ms() + (int64_t)(t * 1000) : 0;
	if (spawn(w, a) == -1)
		return -1;
	a->mark_at = mono_ms() + MARK_DELAY_MS;
	return 0;
}

/* With sync = 0: the job file says that the attempt started (attempts + 1,
 * processing, worker, started_at), which the lease record says until then.
 * 0, or -1 if it could not be written. */
static int
mark_file(struct worker *w, struct attempt *a)
{
	if (spool_sync(w->sp) || spool_job_write(w->sp, w->lease.dirfd,
	    &a->job) == 0)
		return 0;
	wlog(w, "%s: cannot mark the attempt started: %s (the lease record "
	    "counts it)", a->id, strerror(errno));
	return -1;
}

/*
 * What need not come before the job's first instruction, done
 * MARK_DELAY_MS after the go byte (on a busy CPU the job's child and its
 * worker share a core): mark_file(); and the recorded start time of the
 * job's leader, computed at the clone, is checked against /proc (and the
 * record mended if they differ). An attempt that ends sooner is marked
 * only if its result cannot be recorded (finish).
 */
static void
mark_started(struct worker *w, struct attempt *a)
{
	unsigned long long start;

	if (a->mark_at == 0)
		return;
	a->mark_at = 0;
	mark_file(w, a);
	if (a->exited || (start = proc_start_time(a->pid)) == 0 ||
	    start == a->pgid_start)
		return;
	wlog(w, "%s: start time %llu computed at the clone, %llu in /proc: "
	    "lease record mended", a->id, a->pgid_start, start);
	a->pgid_start = start;
	if (record_running(w, a) == -1)
		wlog(w, "cannot update the lease record: %s", strerror(errno));
}

/*
 * The claimed job a has dependencies: look at them once more (its file is
 * parsed now). Returns 1 if it may run; 0 if it was put in dead/ (a
 * dependency failed or is unknown), or put back in pending/ as blocked (or
 * to be looked at later, or held if that failed), a freed in every case.
 */
static int
deps_gate(struct worker *w, struct attempt *a)
{
	char which[ID_MAX + 1], why[ID_MAX + 32], name[ID_MAX + 16];
	int from = a->from, r = depwatch_arm(&w->dw) == -1 ? -1 :
	    deps_check(w->sp, &a->job, which);
	struct qentry *e;

	if (r == DEPS_READY)
		return 1;
	if (r == DEPS_FAILED || r == DEPS_UNKNOWN) {
		deps_reason(r, which, why, sizeof why);
		if (spool_job_doom(w->sp, w->lease.dirfd, &a->job, why) == 0) {
			wlog(w, "%s: %s: moved to dead/", a->id, why);
			attempt_free(a);
			return 0;
		}
		wlog(w, "%s: cannot move to dead/: %s", a->id, strerror(errno));
		a->restore = 1;
	}
	strlcpy(name, a->name, sizeof name);
	give_back_or_hold(w, a);
	if (r == DEPS_BLOCKED && (e = index_find(&w->ix, from, name)) != NULL &&
	    index_block(&w->ix, e, which) == -1)
		wlog(w, "%s: index: %s", name, strerror(errno));
	return 0;
}

/* If the claimed job has a cancel request, put it in dead/ unstarted (or
 * hold it if that fails) and return 1; else 0. */
static int
bury_unstarted(struct worker *w, struct attempt *a)
{
	if (cancel_index(w, a->id) == -1)
		return 0;
	a->bury = 1;
	if (record(w, a) == -1)
		hold(w, a, HOLD_SETTLE);
	else
		attempt_free(a);
	return 1;
}

/* Claim the best ready job and start it. Returns 1 if one runs. */
static int
claim_next(struct worker *w)
{
	char err[256], name[NAME_MAX + 1], id[ID_MAX + 1];
	struct qentry *e;
	struct attempt *a;
	int from;

	if (spool_config_reload(w->sp, err, sizeof err) == -1)
		wlog(w, "config: %s (keeping the previous settings)", err);
	retime(w);
	index_promote(&w->ix, now_ms());
	while ((e = index_first(&w->ix)) != NULL) {
		if (!settled(w, e))
			continue;
		from = e->dir;
		strlcpy(name, e->name, sizeof name);
		index_remove(&w->ix, e);
		if (id_from_name(name, id) == -1 || !id_valid(id)) {
			if (spool_quarantine(w->sp, w->sp->dir[from], name, NULL,
			    "file name is not <id>.json with a valid id") == 0)
				wlog(w, "%s: invalid name: moved to dead/", name);
			continue;
		}
		if (spool_job_claim(w->sp, w->sp->dir[from], w->lease.dirfd,
		    id) == -1) {
			if (errno != ENOENT) {
				wlog(w, "%s: cannot claim: %s", id, strerror(errno));
				look_later(w, from, name);
			}
			continue;
		}
		if ((a = take(w, from, name, id)) == NULL ||
		    (w->ncancel > 0 && bury_unstarted(w, a)) ||
		    (deps_apply(&a->job) && !deps_gate(w, a))) {
			if (w->held != NULL)
				return 0;
			continue;
		}
		if (begin(w, a, name) == -1) {
			wlog(w, "%s: cannot start: %s", id, strerror(errno));
			a->restore = 1;
			give_back_or_hold(w, a);
			return 0;
		}
		w->run = a;
		return 1;
	}
	return 0;
}

/*
 * After exit status 126 (what the child exits with when it cannot change
 * to the job's cwd, and sh when a command is not runnable): is the job's
 * directory unusable? Then why says so.
 */
static int
cwd_failed(const struct attempt *a, char *why, size_t n)
{
	struct stat st;
	int e = 0;

	if (a->job.cwd == NULL)
		return 0;
	if (stat(a->job.cwd, &st) == -1)
		e = errno;
	else if (!S_ISDIR(st.st_mode))
		e = ENOTDIR;
	else if (access(a->job.cwd, X_OK) == -1)
		e = errno;
	if (e == 0)
		return 0;
	snprintf(why, n, "cannot change directory to %s: %s", a->job.cwd,
	    strerror(e));
	return 1;
}

/* Describe how the attempt ended; sets exit_code and last_error. */
static int
record_outcome(struct attempt *a, int status, int *success)
{
	char why[PATH_MAX + 128];
	int code;

	*success = 0;
	if (WIFEXITED(status)) {
		code = WEXITSTATUS(status);
		snprintf(why, sizeof why, "exit status %d", code);
		*success = code == 0 && !a->timed_out;
		if (code == 126)
			cwd_failed(a, why, sizeof why);
	} else {
		int sig = WTERMSIG(status);

		code = 128 + sig;
		snprintf(why, sizeof why, "killed by signal %d (%s)", sig,
		    sigabbrev_np(sig) != NULL ? sigabbrev_np(sig) : "?");
	}
	if (a->timed_out)
		snprintf(why, sizeof why, "timed out after %g s", a->timeout_s);
	return job_set_long(&a->job, "exit_code", code) == -1 ||
	    job_set_string(&a->job, "last_error", *success ? NULL : why) == -1 ?
	    -1 : 0;
}

/* stop --now: the file goes back to pending/ as it was before the claim. */
static void
put_back(struct worker *w, struct attempt *a)
{
	char err[256];
	struct job j;

	if (job_parse(&j, a->orig, a->origlen, a->job.id, err, sizeof err) == -1)
		return;
	if (job_set_state(&j, ST_PENDING) == -1 ||
	    job_set_time(&j, "next_run_at", 0) == -1 ||
	    spool_job_write(w->sp, w->lease.dirfd, &j) == -1 ||
	    spool_job_move(w->sp, w->lease.dirfd, w->sp->dir[ST_PENDING],
	    j.id) == -1)
		wlog(w, "%s: cannot put back in pending/: %s", j.id,
		    strerror(errno));
	job_free(&j);
}

/*
 * The command has exited (a zombie still holding its pid): end what is left
 * of its process group, drain the pipes, reap it, record the outcome.
 */
static void
finish(struct worker *w)
{
	struct attempt *a = w->run;
	int64_t end;
	int status = 0, success, unmarked = a->mark_at != 0;

	kill(-a->pid, SIGKILL);
	a->mark_at = 0;         /* the result's rewrite says it all */
	for (int i = 0; i < 2; i++)
		while (pump(w, a, i) == 1)
			;
	fence_job(0);
	while (waitpid(a->pid, &status, 0) == -1 && errno == EINTR)
		;
	end = now_ms();
	w->run = NULL;
	if (a->stopped && !a->cancelled) {
		put_back(w, a);
		wlog(w, "%s: stopped, put back in pending/", a->job.id);
	} else if (record_outcome(a, status, &success) == -1 ||
	    job_set_time(&a->job, "finished_at", end) == -1 ||
	    job_set_long(&a->job, "duration_ms",
	    (long)(mono_ms() - a->start_mono)) == -1) {
		wlog(w, "%s: cannot record the result: %s (left in the lease)",
		    a->job.id, strerror(errno));
		if (unmarked)
			mark_file(w, a);
	} else {
		a->success = success;
		a->bury = a->cancelled;
		if (record(w, a) == -1) {
			a->unmarked = unmarked && mark_file(w, a) == -1;
			hold(w, a, HOLD_SETTLE);
			a = NULL;
		}
	}
	w->lease_busy = 1;      /* recorded as idle only if no job follows */
	if (a != NULL)
		attempt_free(a);
}

/* Has the running job's process exited? It stays a zombie (WNOWAIT), so
 * its pid, and so its process group id, cannot be reused until finish(). */
static void
check_exited(struct worker *w)
{
	siginfo_t si;

	if (w->run == NULL || w->run->exited)
		return;
	memset(&si, 0, sizeof si);
	if (waitid(P_PID, (id_t)w->run->pid, &si, WEXITED | WNOHANG |
	    WNOWAIT) == 0 && si.si_pid == w->run->pid)
		w->run->exited = 1;
}

/* Tell the service manager (if any) msg; a failure is logged. */
static void
tell_manager(struct worker *w, const char *msg)
{
	if (notify_send(&w->notify, msg) == -1)
		wlog(w, "cannot notify the service manager: %s", strerror(errno));
}

static void
on_signal(struct worker *w)
{
	struct signalfd_siginfo si;
	int was = w->stopping;

	while (read(w->sfd, &si, sizeof si) == sizeof si) {
		if (si.ssi_signo == SIGCHLD) {
			check_exited(w);
			standby_check(w);
		} else if (si.ssi_signo == SIGUSR1) {
			w->stopping = STOP_NOW;
			if (w->run != NULL && !w->run->stopped) {
				w->run->stopped = 1;
				if (!w->run->cancelled)
					terminate(w, w->run);
			}
		} else if (w->stopping == STOP_NONE)
			w->stopping = STOP_GRACEFUL;
	}
	if (was == STOP_NONE && w->stopping != STOP_NONE)
		tell_manager(w, w->run != NULL ? "STOPPING=1\nSTATUS=stopping: "
		    "finishing the running job" : "STOPPING=1\nSTATUS=stopping");
}

/* The watchdog's ping (when due) and the deadlines of the running
 * attempt: timeout, then the SIGKILL. */
static void
on_timers(struct worker *w)
{
	struct attempt *a = w->run;
	int64_t now = mono_ms();

	if (w->next_watchdog != 0 && now >= w->next_watchdog) {
		tell_manager(w, "WATCHDOG=1");
		w->next_watchdog = now + w->notify.watchdog_ms;
	}
	if (a == NULL)
		return;
	if (a->deadline != 0 && now >= a->deadline && !a->timed_out) {
		a->timed_out = 1;
		a->deadline = 0;
		terminate(w, a);
	}
	if (a->kill_at != 0 && now >= a->kill_at) {
		kill(-a->pid, SIGKILL);
		a->kill_at = 0;
	}
	if (a->mark_at != 0 && now >= a->mark_at)
		mark_started(w, a);
}

/* Milliseconds poll may sleep. */
static int
sleep_ms(struct worker *w)
{
	int64_t now = mono_ms(), until = w->next_reclaim, due;

	if (w->retaining)
		return 0;       /* the next slice of the retention pass */
	if (w->next_rescan < until)
		until = w->next_rescan;
	if (w->tm.poll_ms > 0 && w->next_poll < until)
		until = w->next_poll;
	if (w->next_watchdog != 0 && w->next_watchdog < until)
		until = w->next_watchdog;
	if (w->next_busy != 0 && w->next_busy < until)
		until = w->next_busy;
	if (w->standby.pid == 0 && w->standby_after > now &&
	    w->standby_after < until)
		until = w->standby_after;     /* to make it again */
	if (w->run != NULL) {
		if (w->run->deadline != 0 && w->run->deadline < until)
			until = w->run->deadline;
		if (w->run->kill_at != 0 && w->run->kill_at < until)
			until = w->run->kill_at;
		if (w->run->mark_at != 0 && w->run->mark_at < until)
			until = w->run->mark_at;
	} else if (w->held != NULL) {
		if (w->held->retry_at < until)
			until = w->held->retry_at;
	} else if (w->stopping == STOP_NONE && !w->paused &&
	    (due = index_next_due(&w->ix)) != 0) {
		int64_t in = due - now_ms();

		if (now + in < until)
			until = now + in;
	}
	if (until <= now)
		return 0;
	return until - now > INT_MAX ? INT_MAX : (int)(until - now);
}

/* Block the signals the signalfd reads; ignore SIGPIPE. */
static int
setup_signals(struct worker *w)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &set, NULL) == -1)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	w->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	return w->sfd == -1 ? -1 : 0;
}

static const char *fence_self;           /* our worker id, for fenced() */

/*
 * The fence acted (fence.h): the job's group is killed. Say so on stderr
 * (one write(2): the loop's thread may hold stdio's lock, blocked in the
 * filesystem) and exit WORKER_FENCED, recording nothing: the lease, with
 * the job in it, is reclaimed by another worker as a dead worker's.
 */
static void __attribute__((noreturn))
fenced(const char *why)
{
	char when[TIME_BUFSZ], line[1024];

	snprintf(line, sizeof line, "%s queuectl worker %s: fenced: %s; the "
	    "job's processes are killed, nothing is recorded; exiting with "
	    "status %d\n", time_format(now_ms(), when), fence_self, why,
	    WORKER_FENCED);
	write_all(2, line, strlen(line));
	_exit(WORKER_FENCED);
}

static int
setup(struct worker *w)
{
	static const uint32_t mask = IN_MOVED_TO | IN_CLOSE_WRITE | IN_CREATE |
	    IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR | IN_DONT_FOLLOW;
	/* the root (as "ROOT/.": the spool path may be a symlink) and cancel/:
	 * names come and go there only by operators' commands */
	static const uint32_t root_mask = IN_MOVED_TO | IN_CREATE |
	    IN_MOVED_FROM | IN_DELETE | IN_ONLYDIR | IN_DONT_FOLLOW;
	char path[PATH_MAX + 16];

	if (setup_signals(w) == -1 ||
	    (w->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1 ||
	    fmt_checked(path, sizeof path, "%s/.", w->sp->path) == -1 ||
	    (w->wd_root = inotify_add_watch(w->ifd, path, root_mask)) == -1 ||
	    fmt_checked(path, sizeof path, "%s/cancel", w->sp->path) == -1 ||
	    (w->wd_cancel = inotify_add_watch(w->ifd, path, root_mask)) == -1)
		return -1;
	depwatch_init(&w->dw, w->sp, &w->ix, w->ifd);
	for (int i = 0; i < 2; i++) {
		if (fmt_checked(path, sizeof path, "%s/%s", w->sp->path,
		    state_name(watched[i])) == -1 ||
		    (w->wd[i] = inotify_add_watch(w->ifd, path, mask)) == -1)
			return -1;
	}
	if ((w->network = fs_probe(w->sp->root, &w->fs)) == -1) {
		w->network = 0;
		w->fs = "unknown";
	}
	config_timing(&w->sp->cfg, w->network, &w->tm);
	if (lease_create(w->sp, &w->lease, w->fs, w->tm.poll_ms,
	    w->tm.timeout_ms) == -1)
		return -1;
	fence_self = w->lease.id;
	if (fence_start(w->sp, &w->lease, w->tm.check_ms, w->tm.timeout_ms,
	    fenced) == -1)
		return -1;
	journal_worker(w->sp, JE_START, w->lease.id);
	housekeeping(w);
	rescan(w);
	if (w->ncancel > 0 && control_cancel_sweep(w->sp, 1) > 0)
		wlog(w, "settled stale cancel requests");
	return 0;
}

static void
teardown(struct worker *w)
{
	child_drop(&w->standby);    /* it holds the run lock: before the lease goes */
	if (w->held != NULL) {
		/* One last try; else the job stays in the lease, which outlives
		 * us, and the next reclaim moves it on. */
		retry_held(w);          /* frees it and clears w->held if done */
		if (w->held != NULL) {
			wlog(w, "%s: left in the lease for the next worker or "
			    "'queuectl recover'", w->held->id);
			attempt_free(w->held);
			w->held = NULL;
		}
	}
	fence_stop();
	if (w->lease.dirfd != -1)
		journal_worker(w->sp, JE_STOP, w->lease.id);
	if (w->lease.dirfd != -1 && lease_release(w->sp, &w->lease) == -1)
		wlog(w, "cannot remove the lease: %s", strerror(errno));
	if (w->retaining)
		purge_end(&w->retain);
	index_free(&w->ix);
	kept_drop(&w->kept);
	free(w->cancels);
	notify_close(&w->notify);
	if (w->ifd != -1)
		close(w->ifd);
	if (w->sfd != -1)
		close(w->sfd);
}

/* One turn of the loop: claim if idle, sleep, handle what woke us. */
static void
turn(struct worker *w)
{
	struct pollfd pfd[4];
	nfds_t n = 0;

	if (w->held != NULL && mono_ms() >= w->held->retry_at)
		retry_held(w);
	if (w->run == NULL && w->held == NULL && w->stopping == STOP_NONE &&
	    !w->paused)
		claim_next(w);
	if (w->run == NULL && w->lease_busy &&
	    (w->held == NULL || !w->held->unmarked)) {
		if (lease_record(&w->lease, NULL, 0, 0, 0, 0) == -1)
			wlog(w, "cannot update the lease record: %s",
			    strerror(errno));
		w->lease_busy = 0;
	}
	if (w->run == NULL && w->stopping != STOP_NONE)
		return;
	pfd[n++] = (struct pollfd){ .fd = w->sfd, .events = POLLIN };
	pfd[n++] = (struct pollfd){ .fd = w->ifd, .events = POLLIN };
	if (w->run != NULL) {
		for (int i = 0; i < 2; i++)
			pfd[n++] = (struct pollfd){ .fd = w->run->pipes[i],
			    .events = POLLIN };
	}
	standby_make(w);
	if (poll(pfd, n, sleep_ms(w)) == -1 && errno != EINTR) {
		wlog(w, "poll: %s", strerror(errno));
		return;
	}
	if (pfd[0].revents)
		on_signal(w);
	if (pfd[1].revents)
		on_inotify(w);
	if (w->run != NULL) {
		for (int i = 0; i < 2; i++)
			if (pfd[2 + i].revents)
				pump(w, w->run, i);
		if (w->run->exited)
			finish(w);
	}
	on_timers(w);
	if (w->need_rescan || mono_ms() >= w->next_rescan ||
	    (w->tm.poll_ms > 0 && mono_ms() >= w->next_poll))
		rescan(w);
	if (mono_ms() >= w->next_reclaim)
		housekeeping(w);
	else if (w->next_busy != 0 && mono_ms() >= w->next_busy)
		reclaim(w);
	if (w->retaining)
		retain_step(w);
	depwatch_idle(&w->dw);
}

/*
 * The service manager: only a worker in the foreground (`worker run`) is a
 * service's main process and talks to it; every worker takes the variables
 * out of its environment, so that no job sees them.
 */
static void
notify_setup(struct worker *w, int foreground)
{
	if (notify_open(&w->notify) == -1)
		wlog(w, "NOTIFY_SOCKET: %s (not notifying the service manager)",
		    strerror(errno));
	if (!foreground)
		notify_close(&w->notify);
}

/* Ready: say so on stderr, on ready_fd (our pid and a newline, then closed)
 * and to the service manager, and start the watchdog's pings. */
static void
announce_ready(struct worker *w, int ready_fd)
{
	char line[PATH_MAX + 64];

	wlog(w, "started, pid %ld, spool %s", (long)getpid(), w->sp->path);
	if (ready_fd != -1) {
		snprintf(line, sizeof line, "%ld\n", (long)getpid());
		write_all(ready_fd, line, strlen(line));
		close(ready_fd);
	}
	snprintf(line, sizeof line, "READY=1\nSTATUS=watching %s", w->sp->path);
	tell_manager(w, line);
	if (w->notify.fd != -1 && w->notify.watchdog_ms > 0)
		w->next_watchdog = mono_ms() + w->notify.watchdog_ms;
}

int
worker_main(struct spool *sp, int ready_fd)
{
	struct worker w;
	int saved;

	memset(&w, 0, sizeof w);
	w.sp = sp;
	w.ifd = w.sfd = w.kept.t.fd = -1;
	w.lease.dirfd = w.lease.lockfd = w.lease.recfd = w.lease.runfd = -1;
	index_init(&w.ix);
	notify_setup(&w, ready_fd == -1);
	if (setup(&w) == -1) {
		saved = errno;
		wlog(&w, "cannot start: %s", strerror(saved));
		teardown(&w);
		errno = saved;
		return -1;
	}
	announce_ready(&w, ready_fd);
	while (w.run != NULL || w.stopping == STOP_NONE)
		turn(&w);
	wlog(&w, "stopped");
	teardown(&w);
	return 0;
}
