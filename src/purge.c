/*
 * purge.c - removing finished jobs. See purge.h and spool-layout/README.md
 * ("purge").
 *
 * Age: a job's finished_at, else (no such field, or a file that does not
 * parse) its file's mtime; a quarantined entry's .reason mtime, else its
 * .invalid's. quick (the workers' lazy pass): a job file whose mtime is
 * after the cutoff is kept without being read, since the queue rewrites a
 * job's file when its attempt ends (mtime >= finished_at); `queuectl purge`
 * reads every file.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crash.h"
#include "purge.h"
#include "util.h"

void
purge_init(struct purge *p, struct spool *sp, int quick,
    void (*fn)(int state, const char *id, int invalid, void *arg), void *arg)
{
	memset(p, 0, sizeof *p);
	p->sp = sp;
	p->quick = quick;
	p->fn = fn;
	p->arg = arg;
}

int
purge_add(struct purge *p, int state, int64_t cutoff)
{
	if (p->n == 2 || (state != ST_DONE && state != ST_DEAD)) {
		errno = EINVAL;
		return -1;
	}
	p->states[p->n] = state;
	p->cutoff[p->n++] = cutoff;
	return 0;
}

/* mtime of dirfd/name in ms, or -1 if it is gone (or cannot be seen). */
static int64_t
mtime_at(int dirfd, const char *name)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return -1;
	return stat_mtime_ms(&st);
}

/* The time a job's age counts from, or -1 if it is gone. */
static int64_t
job_time(struct purge *p, int dirfd, const char *name, const char *id)
{
	int64_t t = mtime_at(dirfd, name);
	char err[256];
	struct job job;

	if (t == -1 || (p->quick && t > p->cutoff[p->i]))
		return t;
	if (spool_job_read(dirfd, id, &job, err, sizeof err) == 0) {
		if (job.finished_at != 0)
			t = job.finished_at;
		job_free(&job);
	} else if (errno == ENOENT)
		return -1;
	return t;
}

/* The time a quarantined entry's age counts from, or -1 if it is gone. */
static int64_t
invalid_time(int dirfd, const char *stem, const char *name)
{
	char reason[ID_MAX + 16];
	int64_t t = -1;

	if (fmt_checked(reason, sizeof reason, "%s.reason", stem) == 0)
		t = mtime_at(dirfd, reason);
	return t != -1 ? t : mtime_at(dirfd, name);
}

/*
 * Remove stem's files, the entry itself (.json, or .invalid after its
 * .reason) last. The logs of a quarantined entry stay when a job of the
 * same id is there too (it came later: a move replaces older logs, so they
 * are the job's). Returns 0 if this call removed the entry, -1 otherwise.
 */
static int
remove_entry(int dirfd, const char *stem, int invalid)
{
	static const char *const job_files[] = { ".stdout", ".stderr", ".json" };
	static const char *const inv_files[] = { ".stdout", ".stderr", ".reason",
	    ".invalid" };
	const char *const *sfx = invalid ? inv_files : job_files;
	size_t n = invalid ? 4 : 3, i = 0;
	char name[ID_MAX + 16];
	struct stat st;
	int r = -1;

	if (invalid && (fmt_checked(name, sizeof name, "%s.json", stem) == -1 ||
	    fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0))
		i = 2;                  /* the logs are the job's */
	for (; i < n; i++) {
		if (fmt_checked(name, sizeof name, "%s%s", stem, sfx[i]) == -1)
			return -1;
		if (i == n - 1)
			CRASH_POINT("purge.before_unlink");
		r = unlinkat(dirfd, name, 0);
	}
	return r;
}

/* Look at one entry of the directory walked now. */
static void
purge_entry(struct purge *p, const char *name)
{
	int state = p->states[p->i], dirfd = p->sp->dir[state], invalid;
	size_t len = strlen(name);
	char stem[ID_MAX + 1];
	int64_t t;

	if (has_suffix(name, ".json"))
		invalid = 0;
	else if (state == ST_DEAD && has_suffix(name, ".invalid"))
		invalid = 1;
	else
		return;
	len -= invalid ? strlen(".invalid") : strlen(".json");
	if (len == 0 || len > ID_MAX)
		return;
	memcpy(stem, name, len);
	stem[len] = '\0';
	t = invalid ? invalid_time(dirfd, stem, name) :
	    job_time(p, dirfd, name, stem);
	if (t == -1 || t > p->cutoff[p->i])
		return;
	if (remove_entry(dirfd, stem, invalid) == 0) {
		p->removed[p->i]++;
		if (p->fn != NULL)
			p->fn(state, stem, invalid, p->arg);
	}
}

/* Open the stream of the directory walked now. */
static int
open_stream(struct purge *p)
{
	int fd = openat(p->sp->dir[p->states[p->i]], ".", O_RDONLY |
	    O_DIRECTORY | O_CLOEXEC);

	if (fd == -1)
		return -1;
	if ((p->d = fdopendir(fd)) == NULL) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return 0;
}

int
purge_step(struct purge *p, size_t max)
{
	struct dirent *de;
	size_t seen = 0;

	while (p->i < p->n) {
		if (p->d == NULL && open_stream(p) == -1)
			return -1;      /* p->i names the directory */
		while ((de = readdir(p->d)) != NULL) {
			if (de->d_name[0] != '.')
				purge_entry(p, de->d_name);
			if (max != 0 && ++seen >= max)
				return 1;
		}
		closedir(p->d);
		p->d = NULL;
		p->i++;
	}
	return 0;
}

void
purge_end(struct purge *p)
{
	if (p->d != NULL)
		closedir(p->d);
	p->d = NULL;
	p->i = p->n;
}
