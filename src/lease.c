/*
 * lease.c - lease directories and the reclaim of dead ones. See lease.h and
 * spool-layout/README.md ("reclaim of a dead lease").
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

#include "config.h"
#include "crash.h"
#include "lease.h"
#include "util.h"

/* Fields of /proc/PID/stat: state (3), pgrp (5), starttime (22). */
static int
proc_stat(pid_t pid, char *state, pid_t *pgrp, unsigned long long *start)
{
	char path[64], buf[1024], *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* Field 2 (comm) may hold spaces and parentheses: skip to the last ')'. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	p++;
	for (int field = 3; field <= 22 && p != NULL; field++) {
		while (*p == ' ')
			p++;
		if (field == 3)
			*state = *p;
		else if (field == 5)
			*pgrp = (pid_t)strtol(p, NULL, 10);
		else if (field == 22)
			*start = strtoull(p, NULL, 10);
		p = strchr(p, ' ');
	}
	return 0;
}

unsigned long long
start_time_within(int64_t before, int64_t after, long hz)
{
	int64_t tick;

	if (hz <= 0 || 1000000000 % hz != 0 || before <= 0 || after < before)
		return 0;
	tick = 1000000000 / hz;
	if (before / tick != after / tick || before % tick < START_MARGIN_NS ||
	    tick - after % tick < START_MARGIN_NS)
		return 0;
	return (unsigned long long)(before / tick);
}

unsigned long long
proc_start_time(pid_t pid)
{
	unsigned long long start = 0;
	pid_t pgrp;
	char state;

	return proc_stat(pid, &state, &pgrp, &start) == 0 ? start : 0;
}

/* Has process group pgid a member that is not a zombie? (An init that is
 * slow to reap must not make a killed group look alive.) */
static int
group_alive(pid_t pgid)
{
	unsigned long long start;
	struct dirent *de;
	int alive = 0;
	pid_t pgrp;
	char state;
	DIR *d;

	if ((d = opendir("/proc")) == NULL)
		return kill(-pgid, 0) == 0;
	while (!alive && (de = readdir(d)) != NULL) {
		long pid = strtol(de->d_name, NULL, 10);

		if (pid > 0 && proc_stat((pid_t)pid, &state, &pgrp, &start) == 0)
			alive = pgrp == pgid && state != 'Z' && state != 'X';
	}
	closedir(d);
	return alive;
}

/* Is dirfd/name the file open as fd? 1 or 0 (not: gone or another
 * file), -1 if it cannot be told (errno set). */
static int
same_entry(int fd, int dirfd, const char *name)
{
	struct stat a, b;

	if (fstat(fd, &a) == -1)
		return -1;
	if (fstatat(dirfd, name, &b, AT_SYMLINK_NOFOLLOW) == -1)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	return a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

static int
same_file(int fd, int dirfd, const char *name)
{
	return same_entry(fd, dirfd, name) == 1;
}

/*
 * Write text, padded with blanks to LEASE_RECORD_SIZE bytes and a newline,
 * over the lease record in place: one pwrite(2), no temporary file and no
 * rename (which on ext4 would flush the file). The record matters only
 * while this boot lasts (no fsync), a kill cannot cut a pwrite of a regular
 * file short, and a reader that catches one half done retries.
 */
static int
record_write(struct lease *l, const char *text)
{
	char buf[LEASE_RECORD_SIZE];
	size_t n = strlen(text);
	ssize_t w;

	if (n >= sizeof buf) {
		errno = EOVERFLOW;
		return -1;
	}
	memcpy(buf, text, n);
	memset(buf + n, ' ', sizeof buf - n - 1);
	buf[sizeof buf - 1] = '\n';
	if (l->recfd == -1 && (l->recfd = openat(l->dirfd, "lease", O_RDWR |
	    O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600)) == -1)
		return -1;
	while ((w = pwrite(l->recfd, buf, sizeof buf, 0)) == -1 && errno == EINTR)
		;
	if (w == -1)
		return -1;
	if (w != (ssize_t)sizeof buf) {
		errno = EIO;
		return -1;
	}
	return 0;
}

int
lease_record(struct lease *l, const char *job, long attempt, pid_t pgid,
    unsigned long long pgid_start, int64_t job_started_at)
{
	static pid_t self;
	static unsigned long long self_start;
	char when[TIME_BUFSZ], *text;
	cJSON *o = cJSON_CreateObject();
	pid_t pid = self_pid();
	int r = -1;

	if (o == NULL)
		goto out;
	cJSON_AddStringToObject(o, "worker", l->id);
	cJSON_AddStringToObject(o, "host", host_name());
	job_add_int(o, "pid", pid);
	if (self != pid) {              /* once per process */
		self = pid;
		self_start = proc_start_time(self);
	}
	job_add_int(o, "pid_start", (long long)self_start);
	cJSON_AddStringToObject(o, "started_at", time_format(l->started_at, when));
	if (l->fs != NULL)
		cJSON_AddStringToObject(o, "fs", l->fs);
	job_add_int(o, "poll_ms", l->poll_ms);
	if (l->fence_ms > 0)
		job_add_int(o, "lease_timeout_ms", l->fence_ms);
	if (job != NULL) {
		cJSON_AddStringToObject(o, "job", job);
		job_add_int(o, "attempt", attempt);
		job_add_int(o, "pgid", pgid);
		job_add_int(o, "pgid_start", (long long)pgid_start);
		cJSON_AddStringToObject(o, "job_started_at",
		    time_format(job_started_at, when));
	} else
		cJSON_AddNullToObject(o, "job");
	if ((text = cJSON_PrintUnformatted(o)) == NULL)
		goto out;
	r = record_write(l, text);
	free(text);
out:
	cJSON_Delete(o);
	if (r == -1 && errno == 0)
		errno = ENOMEM;
	return r;
}


/* Close the lease's spare logs (not unlinked: lease_unlink_files). */
static void
spares_close(struct lease *l)
{
	for (int i = 0; i < 2; i++) {
		if (l->spare[i] != -1)
			close(l->spare[i]);
		l->spare[i] = -1;
	}
}

/* Build the lease in tmp/ with its lock held, then rename it into place. */
static int
lease_build(struct spool *sp, struct lease *l)
{
	char tmpname[WORKER_ID_MAX + 16];
	int fd = -1, saved;

	if (fmt_checked(tmpname, sizeof tmpname, "lease.%s", l->id) == -1)
		return -1;
	if (mkdirat(sp->tmp, tmpname, 0700) == -1 && errno != EEXIST)
		return -1;
	if ((fd = openat(sp->tmp, tmpname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1)
		goto fail;
	if ((l->lockfd = spool_open_lock(fd, "lock", 1)) == -1 ||
	    flock(l->lockfd, LOCK_EX | LOCK_NB) == -1 ||
	    (l->runfd = spool_open_lock(fd, "run", 1)) == -1 ||
	    flock(l->runfd, LOCK_EX | LOCK_NB) == -1)
		goto fail;
	l->dirfd = fd;
	lease_spares_fill(l);
	if (lease_record(l, NULL, 0, 0, 0, 0) == -1)
		goto fail;
	CRASH_POINT("lease.before_rename");
	if (spool_rename_noreplace(sp->tmp, tmpname, sp->dir[ST_PROCESSING],
	    l->id) == -1)
		goto fail;
	CRASH_POINT("lease.after_rename");
	if (spool_sync(sp))
		fsync(sp->dir[ST_PROCESSING]);
	return 0;
fail:
	saved = errno;
	if (l->lockfd != -1)
		close(l->lockfd);
	if (l->runfd != -1)
		close(l->runfd);
	if (l->recfd != -1)
		close(l->recfd);
	spares_close(l);
	if (fd != -1) {
		lease_unlink_files(fd);
		close(fd);
	}
	unlinkat(sp->tmp, tmpname, AT_REMOVEDIR);
	l->lockfd = l->dirfd = l->recfd = l->runfd = -1;
	errno = saved;
	return -1;
}

int
lease_create(struct spool *sp, struct lease *l, const char *fs,
    long long poll_ms, long long fence_ms)
{
	int a = 0, b = 0;

	memset(l, 0, sizeof *l);
	l->dirfd = l->lockfd = l->recfd = l->runfd = -1;
	l->spare[0] = l->spare[1] = -1;
	l->fs = fs;
	l->poll_ms = poll_ms;
	l->fence_ms = fence_ms;
	l->started_at = now_ms();
	if (fmt_checked(l->id, sizeof l->id, "%s-%ld", host_name(),
	    (long)getpid()) == -1)
		return -1;
	if (lease_build(sp, l) == 0)
		return 0;
	if (errno != EEXIST && errno != ENOTEMPTY)
		return -1;
	/* A dead worker that had our pid left its lease: reclaim, retry. */
	lease_reclaim_dead(sp, NULL, &a, &b);
	return lease_build(sp, l);
}

int
lease_confirm(struct spool *sp, const struct lease *l)
{
	int r;

	if (flock(l->lockfd, LOCK_EX | LOCK_NB) == -1)
		return errno == EWOULDBLOCK ? 0 : -1;
	if ((r = same_entry(l->dirfd, sp->dir[ST_PROCESSING], l->id)) != 1)
		return r;
	return same_entry(l->lockfd, l->dirfd, "lock");
}

/* A lease's own files; the last two are its spare logs (stdout, stderr),
 * named so that they are neither jobs nor logs (drop_leftover). */
static const char *const lease_files[] = { "lease", "run", "lock",
    ".stdout-spare", ".stderr-spare" };
static const char *const *const spare_name = lease_files + 3;

void
lease_spares_fill(struct lease *l)
{
	for (int i = 0; i < 2; i++)
		if (l->spare[i] == -1)
			l->spare[i] = openat(l->dirfd, spare_name[i], O_WRONLY |
			    O_APPEND | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
			    0600);
}

int
lease_log_open(struct lease *l, int i, const char *name)
{
	int fd = l->spare[i];

	if (fd != -1) {
		if (spool_rename_noreplace(l->dirfd, spare_name[i], l->dirfd,
		    name) == 0) {
			l->spare[i] = -1;
			return fd;
		}
		if (errno != EEXIST) {       /* gone, or unusable: make another */
			close(fd);
			l->spare[i] = -1;
		}
	}
	return openat(l->dirfd, name, O_WRONLY | O_APPEND | O_CREAT |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
}

void
lease_unlink_files(int dirfd)
{
	for (size_t i = 0; i < sizeof lease_files / sizeof lease_files[0]; i++)
		unlinkat(dirfd, lease_files[i], 0);
}

/* Remove the lease's own files and directory (lock held by the caller). */
static int
lease_remove(struct spool *sp, int dirfd, const char *name)
{
	lease_unlink_files(dirfd);
	if (unlinkat(sp->dir[ST_PROCESSING], name, AT_REMOVEDIR) == -1 &&
	    errno != ENOENT)
		return -1;
	if (spool_sync(sp))
		fsync(sp->dir[ST_PROCESSING]);
	return 0;
}

int
lease_release(struct spool *sp, struct lease *l)
{
	int r;

	/* closed first: NFS and FUSE keep a file unlinked while open as a
	 * hidden name (.nfsXXXX, .fuse_hiddenXXXX), and the rmdir would fail */
	if (l->recfd != -1)
		close(l->recfd);
	if (l->runfd != -1)
		close(l->runfd);
	spares_close(l);
	l->runfd = -1;
	r = lease_remove(sp, l->dirfd, l->id);
	close(l->dirfd);
	l->dirfd = l->recfd = -1;
	return r;
}

/* Read the lease record of dirfd into o (caller frees). */
static cJSON *
record_read(int dirfd)
{
	size_t len;
	char *text;
	cJSON *o = NULL;

	/* a live worker rewrites it in place: a torn read is tried again */
	for (int tries = 0; o == NULL && tries < 3; tries++) {
		if ((text = file_read_at(dirfd, "lease", 65536, &len)) == NULL)
			return NULL;
		o = cJSON_ParseWithLength(text, len);
		free(text);
	}
	return o;
}

static const char *
rec_str(const cJSON *o, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

static double
rec_num(const cJSON *o, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(it) ? it->valuedouble : 0;
}

/* Wait up to 2 s for the SIGKILLed group pgid to be gone (a process in
 * uninterruptible sleep dies late). 1 if it is. */
static int
group_gone(pid_t pgid)
{
	struct timespec ten_ms = { 0, 10 * 1000 * 1000 };

	for (int i = 0; i < 200; i++) {
		if (!group_alive(pgid))
			return 1;
		nanosleep(&ten_ms, NULL);
	}
	return 0;
}

/* Is the lock file wfd/name held by someone? */
static int
lock_held(int wfd, const char *name)
{
	int fd = spool_open_lock(wfd, name, 0);
	int held;

	if (fd == -1)
		return 0;
	held = flock(fd, LOCK_SH | LOCK_NB) == -1 && errno == EWOULDBLOCK;
	close(fd);
	return held;
}

/*
 * Does a job of this dead lease, recorded on another host, still run
 * there? Its processes hold <lease>/run (LEASE_RUN_FD), which they inherited
 * from their worker: while it is locked, the job must not be run again here
 * (the host's own next worker kills them; this host cannot). Only while the
 * record names a job (it does from before the job's first instruction until
 * it is settled): a process an ended job left behind holds the lock too.
 */
static int
runs_elsewhere(const cJSON *rec, int wfd)
{
	const char *host = rec_str(rec, "host");

	return host != NULL && strcmp(host, host_name()) != 0 &&
	    rec_str(rec, "job") != NULL && lock_held(wfd, "run");
}

/*
 * End what is left of the attempt's process group, if it ran on this host.
 * The group is ours if its leader still has the recorded start time, or if
 * the leader is gone but members remain (a pid is not reused while it names
 * a process group). Returns -1 if the group outlived its SIGKILL: then the
 * lease is left for a later round, so that the job never runs twice at once.
 */
static int
kill_orphans(const cJSON *rec)
{
	const char *host = rec_str(rec, "host");
	pid_t pgid = (pid_t)rec_num(rec, "pgid");
	unsigned long long start = (unsigned long long)rec_num(rec, "pgid_start");
	unsigned long long now;

	if (host == NULL || strcmp(host, host_name()) != 0 || pgid <= 1)
		return 0;
	now = proc_start_time(pgid);
	if ((now != 0 && now == start) || (now == 0 && group_alive(pgid))) {
		kill(-pgid, SIGKILL);
		return group_gone(pgid) ? 0 : -1;
	}
	return 0;
}

struct reclaim {
	struct spool *sp;
	const cJSON *rec;       /* the dead lease's record; NULL: none */
	int njobs;
	int failed;
};

/* Are adir/name and bdir/name one file (a move by link + unlink that was
 * cut short between the two, where RENAME_NOREPLACE is refused)? */
static int
one_file(int adir, int bdir, const char *name)
{
	struct stat a, b;

	return fstatat(adir, name, &a, AT_SYMLINK_NOFOLLOW) == 0 &&
	    fstatat(bdir, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/*
 * Does the dead lease's record name an attempt of job that its file does
 * not count yet (a worker with sync = 0 died before its rewrite after the
 * go byte)? Then count it as that rewrite would have: 1, or -1 (ENOMEM).
 */
static int
count_recorded(const cJSON *rec, const char *id, struct job *job)
{
	const char *rid = rec_str(rec, "job"), *worker = rec_str(rec, "worker");
	const char *when = rec_str(rec, "job_started_at");
	int64_t started = 0;

	if (rid == NULL || strcmp(rid, id) != 0 ||
	    (long)rec_num(rec, "attempt") != job->attempts + 1)
		return 0;
	if (when != NULL)
		time_parse(when, &started);
	if (job_set_state(job, ST_PROCESSING) == -1 ||
	    job_set_long(job, "attempts", job->attempts + 1) == -1 ||
	    (worker != NULL && job_set_string(job, "worker", worker) == -1) ||
	    job_set_time(job, "started_at", started) == -1)
		return -1;
	return 1;
}

/* Put one job of a dead lease where it belongs. */
static int
reclaim_job(int dirfd, const char *name, void *arg)
{
	struct reclaim *rc = arg;
	struct spool *sp = rc->sp;
	char id[ID_MAX + 1], err[256];
	struct job job;
	int st;

	if (id_from_name(name, id) == -1) {
		strlcpy(err, "file name too long", sizeof err);
		goto bad;
	}
	if (spool_job_read(dirfd, id, &job, err, sizeof err) == -1) {
		if (errno != EINVAL)
			return rc->failed = 1, 0;
		goto bad;
	}
	st = job.state < 0 ? ST_PENDING : job.state;
	if (st != ST_PROCESSING && rc->rec != NULL) {
		int r = count_recorded(rc->rec, id, &job);

		if (r == -1) {
			job_free(&job);
			return rc->failed = 1, 0;
		}
		if (r == 1)
			st = ST_PROCESSING;
	}
	if (st == ST_PROCESSING) {
		int64_t now = now_ms();

		if (job_set_time(&job, "finished_at", now) == -1 ||
		    job_set_long(&job, "duration_ms", (long)(job.started_at &&
		    now > job.started_at ? now - job.started_at : 0)) == -1 ||
		    job_set_string(&job, "exit_code", NULL) == -1 ||
		    job_set_string(&job, "last_error", "worker died") == -1 ||
		    spool_job_settle(sp, dirfd, &job, 0) == -1)
			rc->failed = 1;
	} else if (spool_job_move(sp, dirfd, sp->dir[st], id) == -1) {
		if (errno != EEXIST)
			rc->failed = 1;
		else if (one_file(dirfd, sp->dir[st], name))
			unlinkat(dirfd, name, 0);   /* a cut-short link + unlink */
		else
			spool_quarantine(sp, dirfd, name, id,
			    "duplicate id found while reclaiming a dead lease");
	}
	job_free(&job);
	rc->njobs++;
	return 0;
bad:
	if (spool_quarantine(sp, dirfd, name, NULL, err) == -1)
		rc->failed = 1;
	return 0;
}

/* Logs with no json beside them are extra links left by a cut-short move. */
static int
drop_leftover(int dirfd, const char *name, void *arg)
{
	struct reclaim *rc = arg;
	char json[ID_MAX + 16];
	const char *dot = strrchr(name, '.');
	struct stat st;

	if (dot == NULL || (strcmp(dot, ".stdout") != 0 &&
	    strcmp(dot, ".stderr") != 0))
		return 0;
	snprintf(json, sizeof json, "%.*s.json", (int)(dot - name), name);
	if (fstatat(dirfd, json, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_nlink > 1)
		unlinkat(dirfd, name, 0);
	else
		rc->failed = 1;   /* the only copy: keep it for a human */
	return 0;
}

/*
 * When this process first found each dead lease of another host free (its
 * lock taken by us): such a lease is reclaimed only once it has been free
 * for its worker's lease_timeout + 1 s, by our monotonic clock. A worker
 * that lost its lock early (its filesystem client died: the server frees
 * the locks at once) has by then fenced itself, killing its job. One entry
 * per lease, none evicted for another: an entry goes when its lease is
 * reclaimed or found alive, or at the end of a pass (lease_reclaim_dead)
 * that did not see it.
 */
static struct seen {
	char name[WORKER_ID_MAX + 1];
	int64_t first;
	unsigned pass;          /* the last pass that saw it */
} *seen;
static size_t nseen, capseen;
static unsigned seen_pass;

/* Drop the entries for which drop(entry, name) is true. */
static void
seen_drop(int (*drop)(const struct seen *, const char *), const char *name)
{
	for (size_t i = 0; i < nseen;)
		if (drop(&seen[i], name))
			seen[i] = seen[--nseen];
		else
			i++;
}

static int
named(const struct seen *e, const char *name)
{
	return strcmp(e->name, name) == 0;
}

static int
unseen(const struct seen *e, const char *name)
{
	(void)name;
	return e->pass != seen_pass;
}

static void
seen_forget(const char *name)
{
	seen_drop(named, name);
}

/* When name was first seen free; now if it was not (or if there is no
 * memory to remember it: it then waits until there is). */
static int64_t
seen_first(const char *name, int64_t now)
{
	struct seen *n;

	for (size_t i = 0; i < nseen; i++)
		if (strcmp(seen[i].name, name) == 0) {
			seen[i].pass = seen_pass;
			return seen[i].first;
		}
	if (nseen == capseen) {
		size_t cap = capseen ? 2 * capseen : 16;

		if ((n = reallocarray(seen, cap, sizeof *seen)) == NULL)
			return now;
		seen = n;
		capseen = cap;
	}
	strlcpy(seen[nseen].name, name, sizeof seen[nseen].name);
	seen[nseen].first = now;
	seen[nseen++].pass = seen_pass;
	return now;
}

/* Must the dead lease name (record rec) of another host wait before it is
 * reclaimed: has it been seen free for less than its worker's
 * lease_timeout_ms + 1 s? A record without it (an older worker) does not
 * wait. */
static int
fence_grace(const cJSON *rec, const char *name)
{
	const char *host = rec_str(rec, "host");
	double t = rec_num(rec, "lease_timeout_ms");
	int64_t now = mono_ms();

	if (host == NULL || strcmp(host, host_name()) == 0 || t <= 0)
		return 0;
	return now - seen_first(name, now) < (int64_t)t + CONFIG_FENCE_MARGIN_MS;
}

/* Reclaim the lease processing/name if its lock is free. Returns 0, 1 if
 * it is left because its job still runs on another host, 2 if it is
 * another host's and must stay free longer (fence_grace), or -1. */
static int
reclaim_one(struct spool *sp, const char *name, int *nleases, int *njobs)
{
	struct reclaim rc = { sp, NULL, 0, 0 };
	int wfd, lockfd = -1, busy = 0;
	cJSON *rec = NULL;

	wfd = openat(sp->dir[ST_PROCESSING], name, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	if (wfd == -1)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	/* A lease without a lock file is damaged: make one, so that two
	 * reclaimers still exclude each other. */
	lockfd = spool_open_lock(wfd, "lock", 1);
	if (lockfd == -1 || flock(lockfd, LOCK_EX | LOCK_NB) == -1 ||
	    !same_file(wfd, sp->dir[ST_PROCESSING], name) ||
	    !same_file(lockfd, wfd, "lock")) {
		seen_forget(name);
		goto out;     /* alive, or reclaimed meanwhile */
	}
	if ((rec = record_read(wfd)) != NULL) {
		busy = runs_elsewhere(rec, wfd) ? 1 :
		    fence_grace(rec, name) ? 2 : 0;
		if (!busy && kill_orphans(rec) == -1)
			rc.failed = 1;
		if (busy || rc.failed)
			goto out;
	}
	seen_forget(name);
	CRASH_POINT("reclaim.after_kill");
	rc.rec = rec;
	spool_each(wfd, ".json", reclaim_job, &rc);
	spool_each(wfd, NULL, drop_leftover, &rc);
	CRASH_POINT("reclaim.before_remove");
	if (!rc.failed && lease_remove(sp, wfd, name) == -1)
		rc.failed = 1;
	(*nleases)++;
	*njobs += rc.njobs;
out:
	cJSON_Delete(rec);
	if (lockfd != -1)
		close(lockfd);
	close(wfd);
	return busy ? busy : rc.failed ? -1 : 0;
}

struct reclaim_all {
	struct spool *sp;
	const char *self;
	int *nleases, *njobs;
	int failed, busy, waiting;
};

static int
reclaim_each(int dirfd, const char *name, void *arg)
{
	struct reclaim_all *ra = arg;

	(void)dirfd;
	if (ra->self != NULL && strcmp(name, ra->self) == 0)
		return 0;
	switch (reclaim_one(ra->sp, name, ra->nleases, ra->njobs)) {
	case -1:
		ra->failed = 1;
		break;
	case 1:
		ra->busy = 1;
		break;
	case 2:
		ra->waiting = 1;
		break;
	}
	return 0;
}

int
lease_reclaim_dead(struct spool *sp, const char *self, int *nleases,
    int *njobs)
{
	struct reclaim_all ra = { sp, self, nleases, njobs, 0, 0, 0 };

	seen_pass++;
	if (spool_each(sp->dir[ST_PROCESSING], NULL, reclaim_each, &ra) == -1)
		return -1;
	seen_drop(unseen, NULL);
	if (ra.failed)
		return -1;
	if (ra.busy || ra.waiting) {
		errno = ra.waiting ? EAGAIN : EBUSY;
		return -1;
	}
	return 0;
}

struct list_arg {
	struct lease_info *v;
	int n, cap;
};

static void
info_fill(struct lease_info *li, int wfd, const char *name)
{
	cJSON *rec = record_read(wfd);
	const char *s;

	memset(li, 0, sizeof *li);
	strlcpy(li->id, name, sizeof li->id);
	li->alive = lock_held(wfd, "lock");
	if (rec == NULL)
		return;
	if ((s = rec_str(rec, "host")) != NULL)
		strlcpy(li->host, s, sizeof li->host);
	if ((s = rec_str(rec, "job")) != NULL)
		strlcpy(li->job, s, sizeof li->job);
	if ((s = rec_str(rec, "started_at")) != NULL)
		time_parse(s, &li->started_at);
	if ((s = rec_str(rec, "job_started_at")) != NULL)
		time_parse(s, &li->job_started_at);
	if ((s = rec_str(rec, "fs")) != NULL)
		strlcpy(li->fs, s, sizeof li->fs);
	li->poll_ms = (long long)rec_num(rec, "poll_ms");
	li->pid = (pid_t)rec_num(rec, "pid");
	li->pid_start = (unsigned long long)rec_num(rec, "pid_start");
	cJSON_Delete(rec);
}

static int
list_one(int dirfd, const char *name, void *arg)
{
	struct list_arg *la = arg;
	int wfd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);

	if (wfd == -1)
		return 0;
	if (la->n == la->cap) {
		int cap = la->cap ? la->cap * 2 : 8;
		struct lease_info *v = reallocarray(la->v, (size_t)cap, sizeof *v);

		if (v == NULL) {
			close(wfd);
			return -1;
		}
		la->v = v;
		la->cap = cap;
	}
	info_fill(&la->v[la->n++], wfd, name);
	close(wfd);
	return 0;
}

static int
info_cmp(const void *a, const void *b)
{
	return strcmp(((const struct lease_info *)a)->id,
	    ((const struct lease_info *)b)->id);
}

int
lease_list(struct spool *sp, struct lease_info **out)
{
	struct list_arg la = { NULL, 0, 0 };

	if (spool_each(sp->dir[ST_PROCESSING], NULL, list_one, &la) != 0) {
		free(la.v);
		return -1;
	}
	if (la.n > 0)
		qsort(la.v, (size_t)la.n, sizeof *la.v, info_cmp);
	*out = la.v;
	return la.n;
}
