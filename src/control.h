/*
 * control.h - the operator's transitions: hold and release, cancel, pause
 * and resume.
 *
 * hold/ is a state directory that no worker watches or claims from; only
 * these functions move jobs into and out of it, each under SPOOL/lock
 * (spool_lock), which the caller holds. The protocol is in
 * spool-layout/README.md ("hold and release"). All functions return -1
 * with errno set on failure and never print or exit.
 */
#ifndef QUEUECTL_CONTROL_H
#define QUEUECTL_CONTROL_H

#include "spool.h"

/*
 * Hold job id: move it from pending/ or failed/ to hold/ (renameat2
 * RENAME_NOREPLACE: the commit point), then rewrite it there with state
 * held; attempts, errors and next_run_at are kept. SPOOL/lock held by the
 * caller. *state is where the job was found. Returns 0 (held now), 1 (it
 * was held already), or -1: ENOENT (no such job), EBUSY (its state cannot
 * be held: processing, done, dead), EAGAIN (it kept moving between the
 * look and the move), EINVAL (invalid id, or a file that is not a valid
 * job: left where it is, for a worker to quarantine), or an I/O error.
 */
int control_hold(struct spool *sp, const char *id, int *state);

/*
 * Release held job id: rewrite it in hold/ with state pending and no
 * next_run_at (it runs as soon as a worker is free, or at its run_at;
 * attempts and last_error are kept), then move it to pending/ (RENAME_
 * NOREPLACE: the commit point). SPOOL/lock held by the caller. *state is
 * where the job was found. Returns 0, or -1: ENOENT (no such job), EBUSY
 * (not held), EEXIST (pending/ has a job of that id), EINVAL, or I/O.
 */
int control_release(struct spool *sp, const char *id, int *state);

#define CONTROL_CANCELLED "cancelled"   /* last_error of a cancelled job */

/* What control_cancel found. */
enum {
	CANCEL_DONE,       /* in dead/ as cancelled (now or before); no request left */
	CANCEL_RUNNING,    /* processing: SPOOL/cancel/<id> asks its worker */
	CANCEL_FINISHED    /* done, or dead for another reason: nothing changed */
};

/*
 * Cancel job id (SPOOL/lock held by the caller). A job that is done or
 * dead is left alone. Otherwise the request SPOOL/cancel/<id> is created
 * (kept if there); then a pending or failed job is moved to hold/ (ENOENT:
 * claimed meanwhile, look again), and a held one is rewritten there (state
 * dead, last_error "cancelled", finished_at now) and moved to dead/, the
 * request removed; a running one is left to its worker, which watches
 * cancel/. *state is where the job was last found. Returns CANCEL_*, or -1:
 * ENOENT (no such job), EINVAL (as for control_hold), EAGAIN (it kept
 * moving), or I/O.
 */
int control_cancel(struct spool *sp, const char *id, int *state);

/* Remove SPOOL/cancel/<id> if it is there. 0 or -1. */
int control_cancel_forget(struct spool *sp, const char *id);

/*
 * Act on every request in SPOOL/cancel/ whose job is not running (each
 * under SPOOL/lock, taken here): cancel pending, failed and held jobs, drop
 * the requests of jobs that are finished or nowhere. With nowait (a
 * worker, whose loop must not stall), a request whose lock is held by
 * another process is left for the next sweep. Returns how many requests
 * were settled, or -1 if cancel/ cannot be read.
 */
int control_cancel_sweep(struct spool *sp, int nowait);

#define CONTROL_PAUSED "paused"     /* SPOOL/paused: the pause flag */

/*
 * Pause the spool: create SPOOL/paused atomically (tmp/ file, rename
 * RENAME_NOREPLACE) holding one line "by USER on HOST (pid N) at TIME".
 * Workers claim nothing while it exists. Returns 0, 1 if the spool was
 * paused already (the file is left as it was), or -1.
 */
int control_pause(struct spool *sp);

/* Resume: remove SPOOL/paused. Returns 0, 1 if it was not paused, or -1. */
int control_resume(struct spool *sp);

/*
 * Is the spool paused (any entry named SPOOL/paused)? 1 or 0. When why is
 * not NULL, the file's first line goes there (why_sz bytes; "" if none).
 */
int control_paused(struct spool *sp, char *why, size_t why_sz);

#endif
