/*
 * purge.h - removing finished jobs from done/ and dead/: `queuectl purge`
 * and the workers' retention (config keep_done, keep_dead).
 *
 * A job goes logs first, json last, so that a crash never leaves logs
 * without their job; a quarantined entry goes logs, .reason, .invalid
 * (spool-layout/README.md, "purge"). A pass walks one directory at a time
 * through an open directory stream, in slices of bounded size, so that a
 * worker can interleave it with its other work.
 */
#ifndef QUEUECTL_PURGE_H
#define QUEUECTL_PURGE_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>

#include "spool.h"

struct purge {
	struct spool *sp;
	int states[2];           /* ST_DONE and/or ST_DEAD, in this order */
	int64_t cutoff[2];       /* remove what finished at or before this */
	int n, i;                /* states given; the one walked now */
	int quick;               /* read a job file only if its mtime <= cutoff */
	DIR *d;                  /* the stream of states[i], or NULL */
	long removed[2];         /* per state */
	/* told of each entry removed (may be NULL) */
	void (*fn)(int state, const char *id, int invalid, void *arg);
	void *arg;
};

/*
 * Start a pass: nothing is walked yet. quick: see the header comment of
 * purge.c (the workers' way); 0 reads every job file. fn/arg may be NULL.
 */
void purge_init(struct purge *p, struct spool *sp, int quick,
    void (*fn)(int state, const char *id, int invalid, void *arg), void *arg);

/*
 * Add state (ST_DONE or ST_DEAD) to the pass: entries whose age (finished_at,
 * else mtime; see spool-layout/README.md) is at or before cutoff (ms since
 * the epoch) are removed. At most two states; 0 or -1 (EINVAL).
 */
int purge_add(struct purge *p, int state, int64_t cutoff);

/*
 * Look at up to max entries (0: no limit). Returns 1 when there is more to
 * do, 0 when the pass is over, -1 (errno set) when the directory of
 * states[i] cannot be read (then end the pass). An entry that cannot be
 * removed is skipped.
 */
int purge_step(struct purge *p, size_t max);

/* End the pass (closes its stream); p may be re-initialised. */
void purge_end(struct purge *p);

#endif
