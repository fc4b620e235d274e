/*
 * control.c - hold and release, cancel, pause and resume. See control.h.
 *
 *   hold:    renameat2(pending|failed/<id>.json, hold/<id>.json, NOREPLACE)
 *            (logs follow, spool_job_move), then replace hold/<id>.json
 *            with state held. ENOENT at the rename: a worker claimed it
 *            between our look and our move; look again.
 *   release: replace hold/<id>.json with state pending, next_run_at null,
 *            then renameat2(hold/<id>.json, pending/<id>.json, NOREPLACE).
 *
 *   cancel:  create cancel/<id>; pending or failed: hold it first; held:
 *            replace hold/<id>.json (state dead, last_error "cancelled"),
 *            renameat2(hold/<id>.json, dead/<id>.json, NOREPLACE), unlink
 *            cancel/<id>; running: its worker acts on cancel/<id>.
 *
 * The rewrite happens in hold/, which only SPOOL/lock holders change, never
 * in pending/ or failed/, where a worker may rename the file away at any
 * moment (a rewrite there could bring back a job that was just claimed).
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>

#include "control.h"
#include "crash.h"
#include "util.h"

#define MOVE_TRIES 8   /* looks before giving up on a job that keeps moving */

/* Where is id? Its state, or -1 (errno ENOENT, EINVAL or I/O). */
static int
locate(struct spool *sp, const char *id)
{
	struct spool_loc loc;

	if (spool_find(sp, id, &loc) == -1)
		return -1;
	spool_loc_free(&loc);
	return loc.state;
}

/* Rewrite dirfd/<id>.json with state st and, when clear_next, no
 * next_run_at. */
static int
restate(struct spool *sp, int dirfd, const char *id, int st, int clear_next)
{
	char err[256];
	struct job j;
	int r;

	if (spool_job_read(dirfd, id, &j, err, sizeof err) == -1)
		return -1;
	r = job_set_state(&j, st) == -1 ||
	    (clear_next && job_set_time(&j, "next_run_at", 0) == -1) ||
	    spool_job_write(sp, dirfd, &j) == -1 ? -1 : 0;
	job_free(&j);
	return r;
}

/* Move id from pending/ or failed/ (state) to hold/ if its file is a
 * valid job (an invalid one is left for a worker to quarantine: EINVAL).
 * 0, or -1 (ENOENT: it moved meanwhile). */
static int
to_hold(struct spool *sp, int state, const char *id)
{
	char err[256];
	struct job j;

	if (spool_job_read(sp->dir[state], id, &j, err, sizeof err) == -1)
		return -1;
	job_free(&j);
	return spool_job_move(sp, sp->dir[state], sp->dir[ST_HELD], id);
}

int
control_hold(struct spool *sp, const char *id, int *state)
{
	for (int tries = 0; tries < MOVE_TRIES; tries++) {
		if ((*state = locate(sp, id)) == -1)
			return -1;
		if (*state == ST_HELD)
			return 1;
		if (*state != ST_PENDING && *state != ST_FAILED) {
			errno = EBUSY;
			return -1;
		}
		if (to_hold(sp, *state, id) == -1) {
			if (errno == ENOENT)
				continue;
			return -1;
		}
		CRASH_POINT("hold.after_move");
		return restate(sp, sp->dir[ST_HELD], id, ST_HELD, 0);
	}
	errno = EAGAIN;
	return -1;
}

int
control_release(struct spool *sp, const char *id, int *state)
{
	if ((*state = locate(sp, id)) == -1)
		return -1;
	if (*state != ST_HELD) {
		errno = EBUSY;
		return -1;
	}
	if (restate(sp, sp->dir[ST_HELD], id, ST_PENDING, 1) == -1)
		return -1;
	CRASH_POINT("release.before_move");
	return spool_job_move(sp, sp->dir[ST_HELD], sp->dir[ST_PENDING], id);
}

#define LOOK_AGAIN (-2)

/* "by USER on HOST (pid N) at TIME\n" into buf. */
static void
who_when(char *buf, size_t n)
{
	const struct passwd *pw = getpwuid(geteuid());
	char when[TIME_BUFSZ];

	snprintf(buf, n, "by %s on %s (pid %ld) at %s\n",
	    pw != NULL ? pw->pw_name : "?", host_name(), (long)getpid(),
	    time_format(now_ms(), when));
}

/* Is dead/<id>.json a cancelled job? */
static int
was_cancelled(struct spool *sp, const char *id)
{
	const cJSON *e;
	char err[256];
	struct job j;
	int r;

	if (spool_job_read(sp->dir[ST_DEAD], id, &j, err, sizeof err) == -1)
		return 0;
	e = cJSON_GetObjectItemCaseSensitive(j.obj, "last_error");
	r = cJSON_IsString(e) && strcmp(e->valuestring, CONTROL_CANCELLED) == 0;
	job_free(&j);
	return r;
}

/* hold/<id>.json goes to dead/ as cancelled. */
static int
bury_held(struct spool *sp, const char *id)
{
	char err[256];
	struct job j;
	int r;

	if (spool_job_read(sp->dir[ST_HELD], id, &j, err, sizeof err) == -1)
		return -1;
	r = spool_job_doom(sp, sp->dir[ST_HELD], &j, CONTROL_CANCELLED);
	job_free(&j);
	return r;
}

/* One step of control_cancel for the job found in state: CANCEL_*,
 * LOOK_AGAIN or -1. */
static int
cancel_step(struct spool *sp, const char *id, int state)
{
	switch (state) {
	case ST_PROCESSING:
		return CANCEL_RUNNING;
	case ST_DONE:
		return CANCEL_FINISHED;
	case ST_DEAD:
		return was_cancelled(sp, id) ? CANCEL_DONE : CANCEL_FINISHED;
	case ST_HELD:
		return bury_held(sp, id) == -1 ? -1 : CANCEL_DONE;
	default:        /* pending or failed: out of the workers' reach first */
		if (to_hold(sp, state, id) == -1 && errno != ENOENT)
			return -1;
		return LOOK_AGAIN;
	}
}

/* Create SPOOL/cancel/<id> unless it is there. */
static int
request(struct spool *sp, const char *id)
{
	char text[512];

	who_when(text, sizeof text);
	if (spool_create(sp, sp->cancel, id, text, strlen(text)) == -1 &&
	    errno != EEXIST)
		return -1;
	CRASH_POINT("cancel.after_request");
	return 0;
}

int
control_cancel(struct spool *sp, const char *id, int *state)
{
	int r = LOOK_AGAIN, requested = 0;

	for (int tries = 0; r == LOOK_AGAIN && tries < MOVE_TRIES; tries++) {
		if ((*state = locate(sp, id)) == -1)
			return -1;
		if (!requested && *state != ST_DONE && *state != ST_DEAD) {
			if (request(sp, id) == -1)
				return -1;
			requested = 1;
		}
		r = cancel_step(sp, id, *state);
	}
	if (r == LOOK_AGAIN) {
		errno = EAGAIN;
		return -1;
	}
	if ((r == CANCEL_DONE || r == CANCEL_FINISHED) &&
	    control_cancel_forget(sp, id) == -1)
		return -1;
	return r;
}

int
control_cancel_forget(struct spool *sp, const char *id)
{
	return unlinkat(sp->cancel, id, 0) == -1 && errno != ENOENT ? -1 : 0;
}

struct sweep {
	struct spool *sp;
	int nowait;
	int n;
};

static int
sweep_request(int dirfd, const char *name, void *arg)
{
	struct sweep *sw = arg;
	int lockfd, r, state;

	(void)dirfd;
	if (!id_valid(name))
		return 0;
	lockfd = sw->nowait ? spool_trylock(sw->sp) : spool_lock(sw->sp);
	if (lockfd == -1)
		return 0;
	r = control_cancel(sw->sp, name, &state);
	if (r == -1 && errno == ENOENT)
		r = control_cancel_forget(sw->sp, name) == 0 ? CANCEL_FINISHED : -1;
	close(lockfd);
	if (r == CANCEL_DONE || r == CANCEL_FINISHED)
		sw->n++;
	return 0;
}

int
control_cancel_sweep(struct spool *sp, int nowait)
{
	struct sweep sw = { sp, nowait, 0 };

	if (spool_each(sp->cancel, NULL, sweep_request, &sw) == -1)
		return -1;
	return sw.n;
}

int
control_pause(struct spool *sp)
{
	char text[512];

	who_when(text, sizeof text);
	if (spool_create(sp, sp->root, CONTROL_PAUSED, text,
	    strlen(text)) == 0)
		return 0;
	return errno == EEXIST ? 1 : -1;
}

int
control_resume(struct spool *sp)
{
	if (unlinkat(sp->root, CONTROL_PAUSED, 0) == 0)
		return 0;
	return errno == ENOENT ? 1 : -1;
}

int
control_paused(struct spool *sp, char *why, size_t why_sz)
{
	struct stat st;
	size_t len;
	char *text;

	if (fstatat(sp->root, CONTROL_PAUSED, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	if (why == NULL)
		return 1;
	why[0] = '\0';
	if ((text = file_read_at(sp->root, CONTROL_PAUSED, 4096, &len)) != NULL) {
		text[strcspn(text, "\n")] = '\0';
		strlcpy(why, text, why_sz);
		free(text);
	}
	return 1;
}
