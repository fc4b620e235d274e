/*
 * control.h - the operator's transitions: hold and release, pause and
 * resume.
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
 * look and the move), EINVAL (invalid id), or an I/O error.
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
