/*
 * depwatch.h - a worker's jobs blocked on dependencies ("after").
 *
 * A job whose dependencies are not all done sits in the blocked tree of the
 * worker's index (index_block), keyed by the dependency it waits for. While
 * any job is blocked, done/ and dead/ are watched with inotify on the
 * worker's inotify fd; the arrival of <id>.json in either makes the jobs
 * blocked on id be looked at again. spool-layout/README.md, "dependencies",
 * has the protocol. Returns -1 with errno set on failure; never prints.
 */
#ifndef QUEUECTL_DEPWATCH_H
#define QUEUECTL_DEPWATCH_H

#include "index.h"
#include "job.h"
#include "spool.h"

struct depwatch {
	struct spool *sp;
	struct index *ix;
	int ifd;                /* the worker's inotify fd, borrowed */
	int wd[2];              /* watches of done/, dead/; -1: none */
};

void depwatch_init(struct depwatch *dw, struct spool *sp, struct index *ix,
    int ifd);

/* Watch done/ and dead/, if not yet: before a job's dependencies are looked
 * at, so that no arrival is missed. 0, or -1. */
int depwatch_arm(struct depwatch *dw);

/*
 * Put entry e where its job's dependencies say: blocked on the first one
 * not done, else ready (a job whose dependency failed or is unknown is
 * claimed, and put in dead/ by the claim). Watches done/ and dead/ first.
 * 0, or -1 (e is then left ready).
 */
int depwatch_place(struct depwatch *dw, struct qentry *e,
    const struct job *job);

/* Is wd a watch of ours (an event for depwatch_arrived)? */
int depwatch_owns(const struct depwatch *dw, int wd);

/* name arrived in done/ or dead/: look again at the entries blocked on its
 * id. Returns how many were looked at. */
int depwatch_arrived(struct depwatch *dw, const char *name);

/* Look again at every blocked entry (after a rescan). */
void depwatch_recheck(struct depwatch *dw);

/* Drop the watches when nothing is blocked. */
void depwatch_idle(struct depwatch *dw);

#endif
