/*
 * control.c - hold and release. See control.h.
 *
 *   hold:    renameat2(pending|failed/<id>.json, hold/<id>.json, NOREPLACE)
 *            (logs follow, spool_job_move), then replace hold/<id>.json
 *            with state held. ENOENT at the rename: a worker claimed it
 *            between our look and our move; look again.
 *   release: replace hold/<id>.json with state pending, next_run_at null,
 *            then renameat2(hold/<id>.json, pending/<id>.json, NOREPLACE).
 *
 * The rewrite happens in hold/, which only SPOOL/lock holders change, never
 * in pending/ or failed/, where a worker may rename the file away at any
 * moment (a rewrite there could bring back a job that was just claimed).
 */
#include <errno.h>
#include <string.h>

#include "control.h"
#include "crash.h"

#define MOVE_TRIES 8      /* looks before giving up on a job that keeps moving */

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
		if (spool_job_move(sp, sp->dir[*state], sp->dir[ST_HELD],
		    id) == -1) {
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
