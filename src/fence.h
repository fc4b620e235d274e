/*
 * fence.h - a worker's fencing: it confirms its lease every lease_check
 * and, when the lease is lost or has not been confirmed for lease_timeout,
 * stops its job's process group at once and ends the process, before
 * another host can reclaim the job (spool-layout/README.md, "fencing").
 *
 * Two threads of the worker do it, so that a filesystem that stops
 * answering, which blocks the worker's loop in its next read or write,
 * cannot keep the job running: a checker, which makes the blocking calls
 * (lease_confirm), and a watchdog, which makes none and acts at the
 * deadline. Times are taken on CLOCK_BOOTTIME, which goes on while the
 * machine is suspended (as the other hosts' clocks do).
 */
#ifndef QUEUECTL_FENCE_H
#define QUEUECTL_FENCE_H

#include <sys/types.h>

#include "lease.h"

/*
 * Start fencing the lease l of sp (both must outlive fence_stop), checking
 * every check_ms, with a deadline of timeout_ms after the start of the
 * last confirmed check (the lease counts as confirmed now). On a lost or
 * expired lease, the job's process group (fence_job) gets SIGKILL, then
 * fenced(why) is called in the fencing thread; it must end the process
 * (_exit) without touching the spool. The calling thread must block every
 * signal the threads must not take (they inherit its mask). 0 or -1.
 */
int fence_start(struct spool *sp, const struct lease *l, long long check_ms,
    long long timeout_ms, void (*fenced)(const char *why));

/* Change the timings (a config change). */
void fence_timing(long long check_ms, long long timeout_ms);

/*
 * The process group of the running job (pgid > 0), or none (0). Set it
 * once the group exists, and clear it before the group's leader is reaped,
 * so that a fence never signals a reused id. Blocks while a fence acts.
 */
void fence_job(pid_t pgid);

/* Stop fencing (the lease is about to be released): waits for a check in
 * progress to end, then ends both threads; from then on nothing is checked
 * nor signalled. */
void fence_stop(void);

#endif
