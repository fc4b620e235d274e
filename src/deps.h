/*
 * deps.h - job dependencies ("after"): where a job's dependencies stand,
 * and the check enqueue makes. The protocol is spool-layout/README.md,
 * "dependencies". Library code: -1 with errno set, never prints.
 */
#ifndef QUEUECTL_DEPS_H
#define QUEUECTL_DEPS_H

#include "job.h"
#include "spool.h"

enum deps_state {
	DEPS_READY,      /* every dependency is in done/ */
	DEPS_BLOCKED,    /* one is pending, failed, running (or held) */
	DEPS_FAILED,     /* one is in dead/ */
	DEPS_UNKNOWN     /* one is nowhere in the spool */
};

/* Are job's dependencies to be looked at: has it an "after" list, and has
 * it never started (a retry does not wait again)? */
int deps_apply(const struct job *job);

/*
 * Where job's dependencies (job->after, may be NULL) stand. which gets the
 * id that decides: the dead or unknown one (which win, in list order),
 * else the first one not done. Returns an enum deps_state, or -1 if the
 * spool cannot be read.
 */
int deps_check(struct spool *sp, const struct job *job, char which[ID_MAX + 1]);

/*
 * Enqueue's check of job->after, with SPOOL/lock held: every named job
 * exists, else -1 with ESRCH and its id in which; with walk set, the
 * "after" lists reachable from them do not lead back to job->id, else -1
 * with ELOOP and in which the dependency that leads back. 0 if the job is
 * admitted; -1 with another errno if the spool cannot be read.
 */
int deps_admit(struct spool *sp, const struct job *job, int walk,
    char which[ID_MAX + 1]);

/* The last_error of a job doomed by state (DEPS_FAILED or DEPS_UNKNOWN)
 * of dependency id, into buf. Returns buf. */
char *deps_reason(int state, const char *id, char *buf, size_t n);

#endif
