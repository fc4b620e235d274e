/*
 * spool.c - the spool directory and the moves between its states.
 *
 * Protocol (spool-layout/README.md has the full crash analysis):
 *
 *   write:    tmp/<unique> (O_CREAT|O_EXCL|O_NOFOLLOW, 0600), write, fsync
 *   replace:  write, then rename(tmp/<unique>, DIR/<id>.json) over the old
 *             file: a reader sees the old or the new contents, never half.
 *   move:     link(FROM/<id>.stdout|stderr, TO/...); the commit point is
 *             renameat2(FROM/<id>.json, TO/<id>.json, RENAME_NOREPLACE);
 *             unlink(FROM/<id>.stdout|stderr); fsync(TO).
 *   enqueue:  write; flock(SPOOL/lock); look for the id everywhere;
 *             renameat2(tmp/<unique>, pending/<id>.json, NOREPLACE);
 *             unlock; fsync(pending/). A generated id is new by
 *             construction: neither lock nor look-up.
 *   settle:   replace in the lease with the outcome and target state,
 *             then move to done/, failed/ or dead/, then append the
 *             outcome to the journal (journal.h).
 *
 * A job's json is therefore always in exactly one state directory. A crash
 * between the steps of a move leaves extra links to the logs (link count
 * > 1), which the next move of the same job or the reclaim of the lease
 * removes; a crash between replace and move leaves a file whose "state"
 * names where it was going, which reclaim honours.
 *
 * fsync (config sync = 1): every new file before its rename, and the target
 * directory after each move. With sync = 0 none.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <bsd/string.h>

#include "crash.h"
#include "deps.h"
#include "journal.h"
#include "lease.h"
#include "spool.h"
#include "util.h"

static const char *const log_suffixes[] = { ".stdout", ".stderr" };

int
spool_path(const char *opt, char *buf, size_t n)
{
	const char *v;
	struct passwd *pw;

	if (opt != NULL && *opt != '\0')
		return strcpy_checked(buf, opt, n);
	if ((v = getenv("QUEUECTL_SPOOL")) != NULL && *v != '\0')
		return strcpy_checked(buf, v, n);
	if ((v = getenv("XDG_STATE_HOME")) != NULL && *v == '/')
		return fmt_checked(buf, n, "%s/queuectl", v);
	if ((v = getenv("HOME")) == NULL || *v == '\0') {
		if ((pw = getpwuid(getuid())) == NULL) {
			errno = ENOENT;
			return -1;
		}
		v = pw->pw_dir;
	}
	return fmt_checked(buf, n, "%s/.local/state/queuectl", v);
}

/* mkdir -p path with mode 0700 for what it creates. */
static int
mkdir_p(const char *path)
{
	char buf[PATH_MAX];

	if (strcpy_checked(buf, path, sizeof buf) == -1)
		return -1;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0700) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

/* Open (creating if needed) the directory name under root, no symlinks.
 * Opened first: every command opens the spool, which nearly always has
 * its directories. */
static int
open_subdir(int root, const char *name)
{
	const int fl = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	int fd = openat(root, name, fl);

	if (fd != -1 || errno != ENOENT)
		return fd;
	if (mkdirat(root, name, 0700) == -1 && errno != EEXIST)
		return -1;
	return openat(root, name, fl);
}

/* Open the spool root, creating it (mkdir -p) when it is missing. */
static int
open_root(const char *path)
{
	const int fl = O_RDONLY | O_DIRECTORY | O_CLOEXEC;
	int fd = open(path, fl);

	if (fd != -1 || errno != ENOENT)
		return fd;
	return mkdir_p(path) == -1 ? -1 : open(path, fl);
}

/* StrictModes: the root, its directories and its config must be ours and
 * writable only by us (name is "" for the root itself). */
static int
check_mode(int fd, const char *path, const char *name, char *err, size_t errsz)
{
	static uid_t euid = (uid_t)-1;   /* queuectl never changes it */
	struct stat st;

	if (euid == (uid_t)-1)
		euid = geteuid();
	if (fstat(fd, &st) == -1) {
		snprintf(err, errsz, "%s/%s: %s", path, name, strerror(errno));
		return -1;
	}
	if (st.st_uid != euid) {
		snprintf(err, errsz, "%s%s%s: spool is owned by uid %u, not by "
		    "you (uid %u); use your own spool or run as its owner", path,
		    *name ? "/" : "", name, (unsigned)st.st_uid, (unsigned)euid);
		errno = EACCES;
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errsz, "%s%s%s: spool is writable by group or "
		    "others; fix it with: chmod go-w %s%s%s", path, *name ? "/" : "",
		    name, path, *name ? "/" : "", name);
		errno = EPERM;
		return -1;
	}
	return 0;
}

/* check_mode of SPOOL/config, if there is one. */
static int
check_config_mode(int root, const char *path, char *err, size_t errsz)
{
	int fd = openat(root, "config", O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK), r;

	if (fd == -1)
		return errno == ENOENT ? 0 :
		    (snprintf(err, errsz, "%s/config: %s", path, strerror(errno)), -1);
	r = check_mode(fd, path, "config", err, errsz);
	close(fd);
	return r;
}

int
spool_open(struct spool *sp, const char *path, char *err, size_t errsz)
{
	char abs[PATH_MAX];
	int saved;

	memset(sp, 0, sizeof *sp);
	sp->root = sp->tmp = sp->cancel = sp->journal = sp->jfd = -1;
	for (int i = 0; i < ST_NSTATES; i++)
		sp->dir[i] = -1;
	config_defaults(&sp->cfg);
	if (strcpy_checked(sp->path, path, sizeof sp->path) == -1) {
		snprintf(err, errsz, "spool path too long");
		return -1;
	}
	if ((sp->root = open_root(path)) == -1) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* Jobs get the path in QUEUECTL_SPOOL and run elsewhere: make a
	 * relative one absolute. */
	if (path[0] != '/' && realpath(path, abs) != NULL)
		strlcpy(sp->path, abs, sizeof sp->path);
	path = sp->path;
	if (check_mode(sp->root, path, "", err, errsz) == -1)
		goto fail;
	if ((sp->tmp = open_subdir(sp->root, "tmp")) == -1)
		goto fail_errno;
	if (check_mode(sp->tmp, path, "tmp", err, errsz) == -1)
		goto fail;
	if ((sp->cancel = open_subdir(sp->root, "cancel")) == -1)
		goto fail_errno;
	if (check_mode(sp->cancel, path, "cancel", err, errsz) == -1)
		goto fail;
	for (int i = 0; i < ST_NSTATES; i++) {
		if ((sp->dir[i] = open_subdir(sp->root, state_dir(i))) == -1)
			goto fail_errno;
		if (check_mode(sp->dir[i], path, state_dir(i), err, errsz) == -1)
			goto fail;
	}
	if (check_config_mode(sp->root, path, err, errsz) == -1)
		goto fail;
	/* A bad config file must not lock out the commands that report or
	 * repair it: keep the defaults and tell the caller. */
	if (spool_config_reload(sp, sp->cfg_error, sizeof sp->cfg_error) == -1)
		config_defaults(&sp->cfg);
	return 0;
fail_errno:
	snprintf(err, errsz, "%s: %s", path, strerror(errno));
fail:
	saved = errno;
	spool_close(sp);
	errno = saved;
	return -1;
}

void
spool_close(struct spool *sp)
{
	if (sp->root != -1)
		close(sp->root);
	if (sp->tmp != -1)
		close(sp->tmp);
	if (sp->cancel != -1)
		close(sp->cancel);
	for (int i = 0; i < ST_NSTATES; i++)
		if (sp->dir[i] != -1)
			close(sp->dir[i]);
	sp->root = sp->tmp = sp->cancel = -1;
	for (int i = 0; i < ST_NSTATES; i++)
		sp->dir[i] = -1;
	journal_close(sp);
}

int
spool_sync(const struct spool *sp)
{
	return sp->cfg.sync && !sp->nosync;
}

int
spool_config_reload(struct spool *sp, char *err, size_t errsz)
{
	struct config c;
	struct stat st;
	size_t len;
	char *text;
	int r;

	if (fstatat(sp->root, "config", &st, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno != ENOENT) {
			snprintf(err, errsz, "config: %s", strerror(errno));
			return -1;
		}
		config_defaults(&sp->cfg);
		sp->cfg_ino = 0;
		return 0;
	}
	sp->cfg_error[0] = '\0';
	if (st.st_ino == sp->cfg_ino &&
	    st.st_mtim.tv_sec == sp->cfg_mtime.tv_sec &&
	    st.st_mtim.tv_nsec == sp->cfg_mtime.tv_nsec)
		return 0;
	if ((text = file_read_at(sp->root, "config", 65536, &len)) == NULL) {
		snprintf(err, errsz, "config: %s", strerror(errno));
		return -1;
	}
	config_defaults(&c);
	r = config_parse(&c, text, len, err, errsz);
	free(text);
	if (r == -1)
		return -1;
	sp->cfg = c;
	sp->cfg_ino = st.st_ino;
	sp->cfg_mtime = st.st_mtim;
	return 0;
}

int
spool_config_store(struct spool *sp, const char *text, size_t len)
{
	return spool_replace(sp, sp->root, "config", text, len);
}

/* spool_write_tmp, with fsync of the file when dosync. */
static int
write_tmp(struct spool *sp, const char *buf, size_t len, char *name,
    size_t n, int dosync)
{
	static unsigned long seq;
	int fd, saved;

	for (int tries = 0; ; tries++) {
		if (fmt_checked(name, n, "%s.%ld.%lu.%08x", host_name(),
		    (long)self_pid(), ++seq, rand32()) == -1)
			return -1;
		fd = openat(sp->tmp, name, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd != -1 || errno != EEXIST || tries > 8)
			break;
	}
	if (fd == -1)
		return -1;
	if (write_all(fd, buf, len) == -1)
		goto fail;
	CRASH_POINT("write.before_fsync");
	if (dosync && fsync(fd) == -1)
		goto fail;
	CRASH_POINT("write.after_fsync");
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlinkat(sp->tmp, name, 0);
	errno = saved;
	return -1;
}

int
spool_write_tmp(struct spool *sp, const char *buf, size_t len, char *name,
    size_t n)
{
	return write_tmp(sp, buf, len, name, n, spool_sync(sp));
}

/*
 * Put tmp/from in place of dirfd/to without fsync: renameat2
 * (RENAME_EXCHANGE), then unlink the old file, now tmp/from. ext4 flushes a
 * file that a rename puts over another (auto_da_alloc: about 50 us and a
 * writeback on every job transition); an exchange is not such a rename. A
 * directory at to is exchanged back (EISDIR, as renameat says). Where to is
 * missing (ENOENT) or the filesystem lacks exchange (EINVAL: FUSE, NFS;
 * remembered in sp), a plain renameat.
 */
static int
replace_nosync(struct spool *sp, const char *from, int dirfd, const char *to)
{
	if (!sp->noexchange) {
		if (renameat2(sp->tmp, from, dirfd, to, RENAME_EXCHANGE) == 0) {
			if (unlinkat(sp->tmp, from, 0) == 0 || errno != EISDIR)
				return 0;
			renameat2(sp->tmp, from, dirfd, to, RENAME_EXCHANGE);
			errno = EISDIR;
			return -1;
		}
		if (errno == EINVAL || errno == ENOSYS)
			sp->noexchange = 1;
		else if (errno != ENOENT)
			return -1;
	}
	return renameat(sp->tmp, from, dirfd, to);
}

/* spool_replace, or with noreplace spool_create. */
static int
place(struct spool *sp, int dirfd, const char *name, const char *buf,
    size_t len, int noreplace)
{
	char tmp[128];
	int saved, r;

	if (spool_write_tmp(sp, buf, len, tmp, sizeof tmp) == -1)
		return -1;
	CRASH_POINT("replace.before_rename");
	r = noreplace ? spool_rename_noreplace(sp->tmp, tmp, dirfd, name) :
	    spool_sync(sp) ? renameat(sp->tmp, tmp, dirfd, name) :
	    replace_nosync(sp, tmp, dirfd, name);
	if (r == -1) {
		saved = errno;
		unlinkat(sp->tmp, tmp, 0);
		errno = saved;
		return -1;
	}
	CRASH_POINT("replace.after_rename");
	return 0;
}

int
spool_replace(struct spool *sp, int dirfd, const char *name, const char *buf,
    size_t len)
{
	return place(sp, dirfd, name, buf, len, 0);
}

int
spool_create(struct spool *sp, int dirfd, const char *name, const char *buf,
    size_t len)
{
	return place(sp, dirfd, name, buf, len, 1);
}

int
spool_job_write(struct spool *sp, int dirfd, struct job *job)
{
	char name[ID_MAX + 8];
	const char *text;
	size_t len;

	if (job_set_time(job, "updated_at", now_ms()) == -1 ||
	    fmt_checked(name, sizeof name, "%s.json", job->id) == -1 ||
	    (text = job_serialize(job, &len)) == NULL)
		return -1;
	return spool_replace(sp, dirfd, name, text, len);
}

int
spool_job_read(int dirfd, const char *id, struct job *job, char *err,
    size_t errsz)
{
	return spool_job_read_keep(dirfd, id, job, err, errsz, NULL);
}

int
spool_job_read_keep(int dirfd, const char *id, struct job *job, char *err,
    size_t errsz, struct job_text *kt)
{
	char name[ID_MAX + 8];
	struct job_text t;
	int r;

	if (fmt_checked(name, sizeof name, "%s.json", id) == -1)
		return -1;
	if ((t.text = file_read_keep_at(dirfd, name, JOB_MAX_BYTES, &t.len,
	    &t.st, &t.fd)) == NULL) {
		int saved = errno;

		if (saved == EFBIG || saved == ELOOP || saved == EINVAL) {
			snprintf(err, errsz, "%s", saved == EFBIG ?
			    "job file too large" : "not a regular file");
			saved = EINVAL;
		} else {
			if (saved == ESTALE)
				saved = ENOENT;   /* renamed away meanwhile */
			snprintf(err, errsz, "%s", strerror(saved));
		}
		errno = saved;
		return -1;
	}
	r = job_parse(job, t.text, t.len, id, err, errsz);
	if (r == 0 && kt != NULL)
		*kt = t;
	else {
		free(t.text);
		close(t.fd);
	}
	if (r == -1)
		errno = EINVAL;
	return r;
}

/* Where RENAME_NOREPLACE is refused, a directory (which cannot be linked)
 * is moved by a plain renameat once the target name is free: a directory
 * replaces only an empty directory, never a file. */
static int
rename_dir(int fromfd, const char *from, int tofd, const char *to)
{
	struct stat st;

	if (fstatat(fromfd, from, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = EPERM;
		return -1;
	}
	if (fstatat(tofd, to, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	if (errno != ENOENT)
		return -1;
	return renameat(fromfd, from, tofd, to);
}

int
spool_rename_noreplace(int fromfd, const char *from, int tofd, const char *to)
{
	if (renameat2(fromfd, from, tofd, to, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -1;
	if (linkat(fromfd, from, tofd, to, 0) == -1)
		return errno == EPERM ? rename_dir(fromfd, from, tofd, to) : -1;
	if (unlinkat(fromfd, from, 0) == -1) {
		int saved = errno;

		unlinkat(tofd, to, 0);
		errno = saved;
		return -1;
	}
	return 0;
}

/* Give tofd a link to fromfd/name; a different file already there under
 * that name is a leftover of an earlier cut-short move and is replaced.
 * 1: linked; 2: tofd had it already; 0: fromfd has no such file; -1. */
static int
link_log(int fromfd, int tofd, const char *name)
{
	struct stat a, b;

	for (int tries = 0; tries < 3; tries++) {
		if (linkat(fromfd, name, tofd, name, 0) == 0)
			return 1;
		if (errno == ENOENT)
			return 0;
		if (errno != EEXIST)
			return -1;
		if (fstatat(fromfd, name, &a, AT_SYMLINK_NOFOLLOW) == -1)
			return errno == ENOENT ? 0 : -1;
		if (fstatat(tofd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
		    a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			return 2;
		if (unlinkat(tofd, name, 0) == -1 && errno != ENOENT)
			return -1;
	}
	errno = EEXIST;
	return -1;
}

/* The move of spool_job_move and spool_job_claim; tofd is fsync'ed when
 * dosync is set and sync is on. */
static int
move_job(struct spool *sp, int fromfd, int tofd, const char *id,
    int noreplace, int dosync)
{
	char json[ID_MAX + 8], logs[2][ID_MAX + 8];
	int linked[2] = { 0, 0 }, saved, r;
	struct stat st;

	if (fmt_checked(json, sizeof json, "%s.json", id) == -1)
		return -1;
	/* Refuse before touching logs that may belong to the job there. */
	if (noreplace && fstatat(tofd, json, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return -1;
	}
	for (int i = 0; i < 2; i++) {
		if (fmt_checked(logs[i], sizeof logs[i], "%s%s", id,
		    log_suffixes[i]) == -1 ||
		    (linked[i] = link_log(fromfd, tofd, logs[i])) == -1)
			goto undo;
	}
	CRASH_POINT("move.after_link");
	r = noreplace ? spool_rename_noreplace(fromfd, json, tofd, json) :
	    renameat(fromfd, json, tofd, json);
	if (r == -1)
		goto undo;
	CRASH_POINT("move.after_rename");
	for (int i = 0; i < 2; i++)
		if (linked[i] != 0)       /* none there: none to unlink */
			unlinkat(fromfd, logs[i], 0);
	CRASH_POINT("move.before_fsync");
	/* The move has happened: a failing fsync does not undo it. */
	if (dosync && spool_sync(sp))
		fsync(tofd);
	CRASH_POINT("move.after_fsync");
	return 0;
undo:
	saved = errno;
	for (int i = 0; i < 2; i++)
		if (linked[i] == 1)
			unlinkat(tofd, logs[i], 0);
	errno = saved;
	return -1;
}

int
spool_job_move(struct spool *sp, int fromfd, int tofd, const char *id)
{
	return move_job(sp, fromfd, tofd, id, 1, 1);
}

int
spool_job_claim(struct spool *sp, int fromfd, int leasefd, const char *id)
{
	/* No fsync: a claim lost to a power loss leaves the job in pending/ (or
	 * failed/), where nothing has run it; the attempt that runs it is made
	 * durable by the rewrite that counts it, whose fsync of the lease
	 * directory also carries the claim's entry. */
	return move_job(sp, fromfd, leasefd, id, 0, 0);
}

/* Where a settled job goes, and its next_run_at. */
static int
settle_target(struct spool *sp, struct job *job, int success, int64_t now,
    int64_t *next)
{
	long max = job->max_retries >= 0 ? job->max_retries : sp->cfg.max_retries;

	*next = 0;
	if (success)
		return ST_DONE;
	if (job->attempts >= 1 + max)
		return ST_DEAD;
	*next = now + backoff_delay_ms(sp->cfg.backoff_base,
	    sp->cfg.backoff_max, job->attempts);
	return ST_FAILED;
}

/* Move job (rewritten already) from fromfd to target; a duplicate id
 * there is quarantined. Returns the state it ends in, or -1. */
static int
settle_move(struct spool *sp, int fromfd, struct job *job, int target)
{
	char why[ID_MAX + 64];

	CRASH_POINT("settle.before_move");
	if (spool_job_move(sp, fromfd, sp->dir[target], job->id) == -1) {
		if (errno != EEXIST)
			return -1;
		/* Another job of this id got there first (a drop-in
		 * duplicate). */
		snprintf(why, sizeof why, "duplicate id: %s already in %s/",
		    job->id, state_dir(target));
		if (spool_quarantine(sp, fromfd, NULL, job->id, why) == -1)
			return -1;
		target = ST_DEAD;
	}
	/* After the commit point: a line is never written for an outcome
	 * that is not recorded (statistics: a failed append is ignored). */
	journal_outcome(sp, job, target);
	return target;
}

int
spool_job_settle(struct spool *sp, int fromfd, struct job *job, int success)
{
	int64_t next;
	int target = settle_target(sp, job, success, now_ms(), &next);

	if (job_set_state(job, target) == -1 ||
	    job_set_time(job, "next_run_at", next) == -1 ||
	    spool_job_write(sp, fromfd, job) == -1)
		return -1;
	return settle_move(sp, fromfd, job, target);
}

int
spool_job_doom(struct spool *sp, int fromfd, struct job *job,
    const char *why)
{
	if (job_set_state(job, ST_DEAD) == -1 ||
	    job_set_string(job, "last_error", why) == -1 ||
	    job_set_time(job, "finished_at", now_ms()) == -1 ||
	    job_set_time(job, "next_run_at", 0) == -1 ||
	    spool_job_write(sp, fromfd, job) == -1)
		return -1;
	return settle_move(sp, fromfd, job, ST_DEAD) == -1 ? -1 : 0;
}

/* Is dirfd/name present (any type, not followed)? */
static int
present(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

struct find_arg {
	const char *json;
	char lease[WORKER_ID_MAX + 1];
	int fd;
};

static int
find_in_lease(int dirfd, const char *name, void *arg)
{
	struct find_arg *fa = arg;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);

	/* Gone meanwhile, or not a lease; any other error (EMFILE, EIO) must
	 * not pass for "not there". */
	if (fd == -1)
		return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ?
		    0 : -1;
	if (present(fd, fa->json) &&
	    strcpy_checked(fa->lease, name, sizeof fa->lease) == 0) {
		fa->fd = fd;
		return 1;
	}
	close(fd);
	return 0;
}

int
spool_find(struct spool *sp, const char *id, struct spool_loc *loc)
{
	static const int order[] = { ST_PENDING, ST_PROCESSING, ST_FAILED,
	    ST_HELD, ST_DONE, ST_DEAD };
	char json[ID_MAX + 8];
	struct find_arg fa;
	int r;

	memset(loc, 0, sizeof *loc);
	loc->dirfd = -1;
	if (!id_valid(id) || fmt_checked(json, sizeof json, "%s.json", id) == -1) {
		errno = EINVAL;
		return -1;
	}
	fa.json = json;
	fa.fd = -1;
	for (size_t i = 0; i < sizeof order / sizeof *order; i++) {
		int st = order[i];

		if (st != ST_PROCESSING) {
			if (!present(sp->dir[st], json))
				continue;
			loc->state = st;
			loc->dirfd = sp->dir[st];
			strlcpy(loc->dir, state_dir(st), sizeof loc->dir);
			return 0;
		}
		if ((r = spool_each(sp->dir[ST_PROCESSING], NULL, find_in_lease,
		    &fa)) == -1)
			return -1;
		if (r == 1) {
			loc->state = st;
			loc->dirfd = fa.fd;
			loc->owned = 1;
			snprintf(loc->dir, sizeof loc->dir, "processing/%s",
			    fa.lease);
			return 0;
		}
	}
	errno = ENOENT;
	return -1;
}

void
spool_loc_free(struct spool_loc *loc)
{
	if (loc->owned && loc->dirfd != -1)
		close(loc->dirfd);
	loc->dirfd = -1;
	loc->owned = 0;
}

/* Pick the quarantine name: the id itself when free in dead/, else new. */
static void
quarantine_id(struct spool *sp, const char *hint, char qid[ID_MAX + 1])
{
	char a[ID_MAX + 16], b[ID_MAX + 16];

	if (hint != NULL && id_valid(hint) &&
	    fmt_checked(a, sizeof a, "%s.invalid", hint) == 0 &&
	    fmt_checked(b, sizeof b, "%s.json", hint) == 0 &&
	    !present(sp->dir[ST_DEAD], a) && !present(sp->dir[ST_DEAD], b)) {
		strlcpy(qid, hint, ID_MAX + 1);
		return;
	}
	id_generate(qid);
}

/* The logs of a quarantined NAME.json follow it as dead/<qid>.stdout|err. */
static void
quarantine_logs(struct spool *sp, int fromfd, const char *name,
    const char *qid)
{
	char id[ID_MAX + 1], from[ID_MAX + 16], to[ID_MAX + 16];

	if (id_from_name(name, id) == -1)
		return;
	for (int i = 0; i < 2; i++) {
		snprintf(from, sizeof from, "%s%s", id, log_suffixes[i]);
		snprintf(to, sizeof to, "%s%s", qid, log_suffixes[i]);
		spool_rename_noreplace(fromfd, from, sp->dir[ST_DEAD], to);
	}
}

int
spool_quarantine(struct spool *sp, int fromfd, const char *name,
    const char *hint, const char *reason)
{
	char qid[ID_MAX + 1], inval[ID_MAX + 16], rsn[ID_MAX + 16];
	char when[TIME_BUFSZ], *text = NULL, json[ID_MAX + 8];
	int saved;

	if (name == NULL) {
		if (fmt_checked(json, sizeof json, "%s.json", hint) == -1)
			return -1;
		name = json;
	}
	for (int tries = 0; ; tries++) {
		quarantine_id(sp, tries == 0 ? hint : NULL, qid);
		snprintf(inval, sizeof inval, "%s.invalid", qid);
		snprintf(rsn, sizeof rsn, "%s.reason", qid);
		if (spool_rename_noreplace(fromfd, name, sp->dir[ST_DEAD], inval) == 0)
			break;
		if (errno != EEXIST || tries > 4)
			return -1;
	}
	CRASH_POINT("quarantine.after_rename");
	quarantine_logs(sp, fromfd, name, qid);
	if (asprintf(&text, "file: %s\nreason: %s\ntime: %s\n", name, reason,
	    time_format(now_ms(), when)) == -1) {
		errno = ENOMEM;
		return -1;
	}
	if (spool_replace(sp, sp->dir[ST_DEAD], rsn, text, strlen(text)) == -1)
		goto fail;
	free(text);
	if (spool_sync(sp) && fsync(sp->dir[ST_DEAD]) == -1)
		return -1;
	return 0;
fail:
	saved = errno;
	free(text);
	errno = saved;
	return -1;
}

int
spool_open_lock(int dirfd, const char *name, int create)
{
	struct stat st;
	int fd = openat(dirfd, name, O_RDWR | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK | (create ? O_CREAT : 0), 0600);

	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

/* SPOOL/lock with flock operation op; the fd, or -1. */
static int
lock_root(struct spool *sp, int op)
{
	int fd = spool_open_lock(sp->root, "lock", 1);

	if (fd == -1)
		return -1;
	while (flock(fd, op) == -1) {
		if (errno != EINTR) {
			int saved = errno;

			close(fd);
			errno = saved;
			return -1;
		}
	}
	return fd;
}

int
spool_lock(struct spool *sp)
{
	return lock_root(sp, LOCK_EX);
}

int
spool_trylock(struct spool *sp)
{
	return lock_root(sp, LOCK_EX | LOCK_NB);
}

int
spool_below_floor(struct spool *sp)
{
	struct statvfs vfs;

	if (sp->cfg.min_free <= 0 || fstatvfs(sp->root, &vfs) == -1 ||
	    vfs.f_blocks == 0)
		return 0;
	return (double)vfs.f_bavail * 100 < sp->cfg.min_free * (double)vfs.f_blocks;
}

/*
 * Fill a new job's id, state (pending, or held if it says so) and times,
 * and write it to tmp/ as tmp.
 * Returns 1 if the id was generated here (new by construction: no other
 * job can hold it, so it needs no look-up), 0 if the job brought its own,
 * -1 on failure.
 */
static int
enqueue_write(struct spool *sp, struct job *job, char tmp[128], int dosync)
{
	char gen[ID_MAX + 1];
	const char *text;
	int fresh = job->id[0] == '\0';
	size_t len;

	if ((fresh && job_set_id(job, id_generate(gen)) == -1) ||
	    job_set_state(job, job->state == ST_HELD ? ST_HELD : ST_PENDING) == -1 ||
	    (job->created_at == 0 &&
	    job_set_time(job, "created_at", now_ms()) == -1) ||
	    job_set_time(job, "updated_at", now_ms()) == -1)
		return -1;
	/* absent, so 0 in job->attempts already; the item is written, not
	 * read back (job_add_int) */
	if (cJSON_GetObjectItemCaseSensitive(job->obj, "attempts") == NULL &&
	    job_add_int(job->obj, "attempts", 0) == -1)
		return -1;
	if ((text = job_serialize(job, &len)) == NULL)
		return -1;
	/* what a worker would refuse to read is not written */
	if (len > JOB_ENQUEUE_MAX || !utf8_valid(text, len)) {
		errno = len > JOB_ENQUEUE_MAX ? EFBIG : EILSEQ;
		return -1;
	}
	return write_tmp(sp, text, len, tmp, 128, dosync) == -1 ? -1 : fresh;
}

struct same_cmd {
	const char *command;
	char id[ID_MAX + 1];
};

/* Does dirfd/name hold a job with the command we look for? 1: yes (its id
 * in sc->id). A file that does not parse is not a match. */
static int
same_command(int dirfd, const char *name, void *arg)
{
	struct same_cmd *sc = arg;
	char id[ID_MAX + 1], err[8];
	struct job job;
	int r;

	if (id_from_name(name, id) == -1 ||
	    spool_job_read(dirfd, id, &job, err, sizeof err) == -1)
		return errno == EINVAL || errno == ENOENT || errno == ELOOP ||
		    errno == EFBIG ? 0 : -1;
	r = strcmp(job.command, sc->command) == 0;
	if (r)
		strlcpy(sc->id, id, sizeof sc->id);
	job_free(&job);
	return r;
}

static int
same_command_leased(int dirfd, const char *name, const char *lease,
    void *arg)
{
	(void)lease;
	return same_command(dirfd, name, arg);
}

/*
 * Is a job with job->command waiting or running: in failed/, pending/, a
 * lease, failed/ again (a retry that ended meanwhile), hold/? 1 with its id
 * in id and where in loc->dir, 0 if not, -1 if a directory cannot be read.
 */
static int
find_command(struct spool *sp, const struct job *job, char id[ID_MAX + 1],
    struct spool_loc *loc)
{
	static const int order[] = { ST_FAILED, ST_PENDING, ST_PROCESSING,
	    ST_FAILED, ST_HELD };
	struct same_cmd sc = { job->command, "" };
	const char *where = NULL;
	int r = 0;

	for (size_t i = 0; i < sizeof order / sizeof *order && r == 0; i++) {
		r = order[i] == ST_PROCESSING ?
		    spool_each_leased(sp, same_command_leased, &sc) :
		    spool_each(sp->dir[order[i]], ".json", same_command, &sc);
		where = state_dir(order[i]);
	}
	if (r == 1) {
		strlcpy(id, sc.id, ID_MAX + 1);
		strlcpy(loc->dir, where, sizeof loc->dir);
	}
	return r;
}

/* Does the enqueue of job need SPOOL/lock: for the look-up of an id it
 * brings (not fresh), of its dependencies, or of its command (unique)? */
static int
enqueue_locks(const struct job *job, int fresh)
{
	return !fresh || job->after != NULL || job->unique != JOB_UNIQUE_NO;
}

/*
 * The check of a unique job: 0 if no job has its command; 2 if one has and
 * the job is to be that one (job's id set to it); -1 with EALREADY (and the
 * other job's id in job, where in loc) if that is an error, or another errno
 * if the spool cannot be read.
 */
static int
unique_check(struct spool *sp, struct job *job, struct spool_loc *loc)
{
	char id[ID_MAX + 1];
	int r = find_command(sp, job, id, loc);

	if (r <= 0)
		return r;
	if (job_set_id(job, id) == -1)
		return -1;
	if (job->unique == JOB_UNIQUE_STRICT) {
		errno = EALREADY;
		return -1;
	}
	return 2;
}

/* Rename tmp/tmp to pending/<id>.json (hold/ for a held job); unless the id
 * is fresh (generated), first check, with SPOOL/lock held, that it is
 * nowhere in the spool; for a
 * unique job, that its command is not waiting or running (unique_check;
 * 2: it is, nothing renamed). The tmp file is removed unless renamed. */
static int
enqueue_commit(struct spool *sp, struct job *job, const char *tmp,
    int fresh, struct spool_loc *loc)
{
	char json[ID_MAX + 8];
	int saved, r;

	if (fmt_checked(json, sizeof json, "%s.json", job->id) == -1)
		goto fail;
	if (fresh)
		errno = ENOENT;
	else if (spool_find(sp, job->id, loc) == 0) {
		errno = EEXIST;
		goto fail;
	}
	if (errno != ENOENT)
		goto fail;
	if (job->after != NULL && deps_admit(sp, job, !fresh, loc->other) == -1)
		goto fail;
	if (job->unique != JOB_UNIQUE_NO && (r = unique_check(sp, job,
	    loc)) != 0) {
		if (r == -1)
			goto fail;
		unlinkat(sp->tmp, tmp, 0);
		return 2;
	}
	CRASH_POINT("enqueue.before_rename");
	if (spool_rename_noreplace(sp->tmp, tmp, sp->dir[job->state], json) == -1)
		goto fail;
	CRASH_POINT("enqueue.after_rename");
	return 0;
fail:
	saved = errno;
	unlinkat(sp->tmp, tmp, 0);
	errno = saved;
	return -1;
}

/*
 * Write job to tmp/ (fsync'ed if dosync) and commit it (enqueue_commit),
 * taking SPOOL/lock into *lockfd first if the job needs its look-ups and
 * *lockfd is -1; the caller closes it. enqueue_commit's return (0, 2, -1);
 * nothing is left in tmp/.
 */
static int
enqueue_one(struct spool *sp, struct job *job, struct spool_loc *loc,
    int dosync, int *lockfd)
{
	char tmp[128];
	int fresh, saved;

	memset(loc, 0, sizeof *loc);
	loc->dirfd = -1;
	if ((fresh = enqueue_write(sp, job, tmp, dosync)) == -1)
		return -1;
	/* the lock guards the look-ups of enqueue_locks only */
	if (*lockfd == -1 && enqueue_locks(job, fresh) &&
	    (*lockfd = spool_lock(sp)) == -1) {
		saved = errno;
		unlinkat(sp->tmp, tmp, 0);
		errno = saved;
		return -1;
	}
	return enqueue_commit(sp, job, tmp, fresh, loc);
}

int
spool_enqueue(struct spool *sp, struct job *job, struct spool_loc *loc)
{
	int lockfd = -1, saved, r;

	r = enqueue_one(sp, job, loc, spool_sync(sp), &lockfd);
	saved = errno;
	if (lockfd != -1)
		close(lockfd);
	errno = saved;
	if (r != 0)
		return r;
	/* Queued: a failing fsync now is told apart (1), so that the caller
	 * does not enqueue it again under a new id. */
	if (spool_sync(sp) && fsync(sp->dir[job->state]) == -1)
		return 1;
	CRASH_POINT("enqueue.after_fsync");
	return 0;
}

void
spool_group_begin(struct spool_group *g)
{
	g->lockfd = -1;
	g->n = 0;
}

int
spool_group_add(struct spool *sp, struct spool_group *g, struct job *job,
    struct spool_loc *loc)
{
	int r = enqueue_one(sp, job, loc, 0, &g->lockfd);

	if (r == 0)
		g->n++;
	return r;
}

int
spool_group_end(struct spool *sp, struct spool_group *g)
{
	size_t n = g->n;

	if (g->lockfd != -1)
		close(g->lockfd);
	spool_group_begin(g);
	/* once renamed the jobs are queued: a failing sync is told apart
	 * by the caller, not taken for a failure to enqueue */
	if (n > 0 && spool_sync(sp) && syncfs(sp->root) == -1)
		return -1;
	CRASH_POINT("enqueue.after_fsync");
	return 0;
}

/* A stream of the directory dirfd (its own descriptor: dirfd's offset and
 * lifetime stay the caller's); NULL with errno set. */
static DIR *
dir_open(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;

	if (fd == -1)
		return NULL;
	if ((d = fdopendir(fd)) == NULL)
		close(fd);
	return d;
}

int
spool_each(int dirfd, const char *suffix,
    int (*fn)(int dirfd, const char *name, void *arg), void *arg)
{
	struct dirent *de;
	DIR *d = dir_open(dirfd);
	int r = 0;

	if (d == NULL)
		return -1;
	while (r == 0 && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (suffix != NULL && !has_suffix(de->d_name, suffix))
			continue;
		r = fn(dirfd, de->d_name, arg);
	}
	closedir(d);
	return r;
}

static int
by_inode_cmp(const void *a, const void *b)
{
	const struct spool_name *x = a, *y = b;

	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/* Append the entry de to l. 0, or -1 (ENOMEM). */
static int
names_add(struct spool_names *l, const struct dirent *de)
{
	size_t n = strlen(de->d_name) + 1;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 1024;
		struct spool_name *e = reallocarray(l->e, cap, sizeof *e);

		if (e == NULL)
			return -1;
		l->e = e;
		l->cap = cap;
	}
	if (l->len + n > l->room) {
		size_t room = l->room ? 2 * l->room : 32768;
		char *buf;

		while (room < l->len + n)
			room *= 2;
		if ((buf = realloc(l->buf, room)) == NULL)
			return -1;
		l->buf = buf;
		l->room = room;
	}
	memcpy(l->buf + l->len, de->d_name, n);
	l->e[l->n].ino = de->d_ino;
	l->e[l->n].type = de->d_type;
	l->e[l->n++].off = l->len;
	l->len += n;
	return 0;
}

int
spool_names_by_inode(int dirfd, const char *suffix, struct spool_names *l)
{
	struct dirent *de;
	DIR *d = dir_open(dirfd);
	int r = 0;

	if (d == NULL)
		return -1;
	while (r == 0 && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && (suffix == NULL ||
		    has_suffix(de->d_name, suffix)))
			r = names_add(l, de);
	closedir(d);
	if (r == 0 && l->n > 0)
		qsort(l->e, l->n, sizeof *l->e, by_inode_cmp);
	return r;
}

void
spool_names_free(struct spool_names *l)
{
	free(l->e);
	free(l->buf);
	memset(l, 0, sizeof *l);
}

struct leased_arg {
	int (*fn)(int, const char *, const char *, void *);
	void *arg;
	const char *lease;
};

static int
leased_job(int dirfd, const char *name, void *arg)
{
	struct leased_arg *la = arg;

	return la->fn(dirfd, name, la->lease, la->arg);
}

static int
leased_dir(int dirfd, const char *name, void *arg)
{
	struct leased_arg *la = arg;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC), r, saved;

	/* gone meanwhile, or not a directory: no lease; any other failure
	 * (EMFILE, EIO...) must not pass for a lease without jobs */
	if (fd == -1)
		return errno == ENOENT || errno == ENOTDIR || errno == ELOOP ?
		    0 : -1;
	la->lease = name;
	r = spool_each(fd, ".json", leased_job, la);
	saved = errno;
	close(fd);
	errno = saved;
	return r == -1 && errno == ENOENT ? 0 : r;
}

int
spool_each_leased(struct spool *sp,
    int (*fn)(int dirfd, const char *name, const char *lease, void *arg),
    void *arg)
{
	struct leased_arg la = { fn, arg, NULL };

	return spool_each(sp->dir[ST_PROCESSING], NULL, leased_dir, &la);
}

/* spool_dlq_retry's work, SPOOL/lock held. */
static int
dlq_retry_locked(struct spool *sp, const char *id, char *err, size_t errsz)
{
	struct job j;
	int r;

	if (spool_job_read(sp->dir[ST_DEAD], id, &j, err, errsz) == -1)
		return -1;
	r = job_set_state(&j, ST_PENDING) == -1 ||
	    job_set_long(&j, "attempts", 0) == -1 ||
	    job_set_string(&j, "last_error", NULL) == -1 ||
	    job_set_string(&j, "exit_code", NULL) == -1 ||
	    job_set_time(&j, "next_run_at", 0) == -1 ||
	    spool_job_write(sp, sp->dir[ST_DEAD], &j) == -1 ||
	    spool_job_move(sp, sp->dir[ST_DEAD], sp->dir[ST_PENDING], id) == -1
	    ? -1 : 0;
	job_free(&j);
	return r;
}

int
spool_dlq_retry(struct spool *sp, const char *id, char *err, size_t errsz)
{
	int lockfd, r, saved;

	if (!id_valid(id)) {
		snprintf(err, errsz, "invalid id");
		errno = EINVAL;
		return -1;
	}
	if ((lockfd = spool_lock(sp)) == -1)
		return -1;
	r = dlq_retry_locked(sp, id, err, errsz);
	saved = errno;
	close(lockfd);
	errno = saved;
	return r;
}

static int
count_entry(int dirfd, const char *name, void *arg)
{
	(void)dirfd;
	(void)name;
	(*(long *)arg)++;
	return 0;
}

static int
count_leased(int dirfd, const char *name, const char *lease, void *arg)
{
	(void)lease;
	return count_entry(dirfd, name, arg);
}

long
spool_count(struct spool *sp, int state)
{
	long n = 0;
	int r;

	if (state == ST_PROCESSING)
		r = spool_each_leased(sp, count_leased, &n);
	else
		r = spool_each(sp->dir[state], ".json", count_entry, &n);
	return r == -1 ? -1 : n;
}

struct sweep_arg {
	int64_t cutoff;
	int n;
};

/*
 * The pid of the process on this host that made tmp/name, or 0 when the
 * name is not one of ours: "HOST.PID.SEQ.RAND" (spool_write_tmp) or
 * "lease.HOST-PID" (a lease being built).
 */
static pid_t
tmp_owner(const char *name)
{
	const char *host = host_name(), *p;
	size_t n = strlen(host);
	char *end;
	long pid;

	if (strncmp(name, "lease.", 6) == 0) {
		if (strncmp(name + 6, host, n) != 0 || name[6 + n] != '-')
			return 0;
		p = name + 7 + n;
	} else {
		if (strncmp(name, host, n) != 0 || name[n] != '.')
			return 0;
		p = name + n + 1;
	}
	pid = strtol(p, &end, 10);
	return end != p && pid > 1 && pid <= INT_MAX &&
	    (*end == '.' || *end == '\0') ? (pid_t)pid : 0;
}

/* Remove tmp/name if it is old, or ours and its writer is dead. A lease
 * directory left half-built is emptied first. */
static int
sweep_one(int dirfd, const char *name, void *arg)
{
	struct sweep_arg *sa = arg;
	pid_t owner = tmp_owner(name);
	struct stat st;
	int fd;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	if (stat_mtime_ms(&st) >= sa->cutoff &&
	    (owner == 0 || kill(owner, 0) == 0 || errno != ESRCH))
		return 0;
	if (S_ISDIR(st.st_mode)) {
		if (strncmp(name, "lease.", 6) != 0)
			return 0;
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (fd == -1)
			return 0;
		lease_unlink_files(fd);
		close(fd);
	}
	if (unlinkat(dirfd, name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) == 0)
		sa->n++;
	return 0;
}

int
spool_sweep_tmp(struct spool *sp, int64_t max_age_ms)
{
	struct sweep_arg sa = { now_ms() - max_age_ms, 0 };

	if (spool_each(sp->tmp, NULL, sweep_one, &sa) == -1)
		return -1;
	return sa.n;
}
