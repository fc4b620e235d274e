/*
 * lease.h - lease directories: processing/<worker-id>/, one per live worker.
 *
 * A worker creates its lease in tmp/ with its lock already taken and renames
 * it into processing/, so a lease never appears unlocked. It holds
 * flock(LOCK_EX) on <lease>/lock for its whole life: a lease whose lock can be
 * taken belongs to a dead worker and is reclaimed (spool-layout/README.md).
 */
#ifndef QUEUECTL_LEASE_H
#define QUEUECTL_LEASE_H

#include <stdint.h>
#include <sys/types.h>

#include "spool.h"

#define LEASE_RECORD_SIZE 1024        /* the lease record, blank-padded */
#define LEASE_RUN_FD      63          /* where a job holds <lease>/run */

struct lease {
	char id[WORKER_ID_MAX + 1];   /* HOST-PID */
	int dirfd;
	int lockfd;
	int runfd;                    /* <lease>/run, locked; the jobs inherit it */
	int recfd;                    /* the record, rewritten in place */
	int spare[2];                 /* the spare logs (lease_log_open), -1 */
	int64_t started_at;
	const char *fs;               /* the spool's filesystem (fs_probe) */
	long long poll_ms;            /* rescan period; 0: inotify only */
	long long fence_ms;           /* its lease_timeout: it fences itself
	                               * this long after it lost the lease */
};

/* What status and stop need to know of a lease. */
struct lease_info {
	char id[WORKER_ID_MAX + 1];
	char host[72];
	char job[ID_MAX + 1];         /* "" when idle */
	pid_t pid;
	unsigned long long pid_start; /* the worker's start time (proc_start_time) */
	int alive;                    /* its lock is held */
	int64_t started_at;           /* the worker's */
	int64_t job_started_at;       /* 0 when idle */
	char fs[16];                  /* its spool's filesystem, "" if unknown */
	long long poll_ms;            /* its rescan period; 0: inotify only */
};

/*
 * Create and lock this process's lease, named HOST-PID. A leftover lease of
 * the same name (a dead process of this host that had our pid) is reclaimed
 * first. fs, poll_ms and fence_ms (its lease_timeout) go into the record
 * (how the worker watches the spool, when it fences itself; l->poll_ms and
 * l->fence_ms may change later: the next record says so). 0 or -1.
 */
int lease_create(struct spool *sp, struct lease *l, const char *fs,
    long long poll_ms, long long fence_ms);

/*
 * Rewrite the lease record in place (one pwrite of LEASE_RECORD_SIZE
 * bytes): the worker, and the running attempt (job id, its number, its
 * process group and the leader's start time, when it started) or idle when
 * job is NULL. A record that names an attempt counts it at reclaim even if
 * the job file does not say so yet (spool-layout/README.md, claim). 0 or -1.
 */
int lease_record(struct lease *l, const char *job, long attempt,
    pid_t pgid, unsigned long long pgid_start, int64_t job_started_at);

/*
 * Create the spare logs that the lease lacks: empty files
 * <lease>/.stdout-spare and .stderr-spare, kept open, which lease_log_open
 * renames to an attempt's logs, so that starting a job creates no file
 * (creating one is the dearer call, the more so on an ext4 that has freed
 * inodes lately). Best effort: a spare that cannot be made is not there,
 * and lease_log_open creates the log itself.
 */
void lease_spares_fill(struct lease *l);

/*
 * Open log i (0: stdout, 1: stderr) of an attempt, the file name in the
 * lease, to append to: the spare renamed to name when there is one and
 * name does not exist (a job's first attempt), else name opened, created
 * if need be. A descriptor (close-on-exec), or -1 with errno set.
 */
int lease_log_open(struct lease *l, int i, const char *name);

/* Unlink the files a lease directory holds besides jobs and their logs
 * (lock, run, record, spare logs), so that it can be removed. */
void lease_unlink_files(int dirfd);

/*
 * Remove the (empty of jobs) lease. Its lock stays held until l->lockfd is
 * closed: a worker leaves that to its exit, so that `worker stop`, which
 * waits for the lock, returns only once the process is gone. 0 or -1.
 */
int lease_release(struct spool *sp, struct lease *l);

/*
 * Confirm that our lease is still ours: flock(LOCK_EX|LOCK_NB) again on the
 * lock we hold (on a shared filesystem this fails with EWOULDBLOCK once
 * another host took the lock), then processing/<id> must be the directory
 * we hold open and its lock file the one we locked. Returns 1 (confirmed),
 * 0 (lost: the lock was taken, or the directory or lock file was removed or
 * replaced), or -1 with errno set (not confirmed: the filesystem fails).
 * May block as long as the filesystem does. Thread-safe.
 */
int lease_confirm(struct spool *sp, const struct lease *l);

/*
 * List every lease with what its record says; *out is malloc'ed (free it).
 * Returns the count, or -1.
 */
int lease_list(struct spool *sp, struct lease_info **out);

/*
 * Reclaim every dead lease other than self (may be NULL): kill what is left
 * of its attempt's process group on this host, move its jobs where they
 * belong, counting an interrupted attempt as failed ("worker died"), and
 * remove the lease. Adds to *nleases and *njobs. Returns 0, or -1 if some
 * lease could not be fully reclaimed (the rest are still done); errno is
 * EBUSY when the only leases left are dead ones of another host whose job
 * still runs there (its processes hold the run lock): they can be
 * reclaimed once it ends; EAGAIN when some of those left are leases of
 * another host that this process has not yet seen free for their worker's
 * lease_timeout (fence_ms) + 1 s: a worker cut off from the filesystem
 * whose locks were freed early (its client died) may still run its job
 * until then. Call again later (the time counts from the first call).
 */
int lease_reclaim_dead(struct spool *sp, const char *self, int *nleases,
    int *njobs);

/* Start time of process pid (clock ticks since boot, /proc/PID/stat), or 0. */
unsigned long long proc_start_time(pid_t pid);

/*
 * The start time, as proc_start_time() gives it (hz ticks a second), of a
 * process created between the CLOCK_BOOTTIME instants before and after
 * (boot_ns) by the caller's fork or clone: the kernel stamps a new process
 * with that clock, and /proc shows it in whole ticks. When the interval
 * lies within one tick and START_MARGIN_NS from both of its edges, that
 * tick; otherwise 0, and the caller reads /proc. This spares a new job's
 * start the first look-up of its /proc entry (about 20 us).
 */
#define START_MARGIN_NS 100000
unsigned long long start_time_within(int64_t before, int64_t after, long hz);

#endif
