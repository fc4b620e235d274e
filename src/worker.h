/*
 * worker.h - the worker: claims jobs from the spool and runs them, one at a
 * time, until told to stop. The protocol is in spool-layout/README.md.
 */
#ifndef QUEUECTL_WORKER_H
#define QUEUECTL_WORKER_H

#include "spool.h"

/*
 * Run a worker on sp until SIGTERM/SIGINT (finish the running job, then
 * exit) or SIGUSR1 (stop the running job and put it back in pending/).
 * When ready (lease taken, inotify watching, spool scanned) it writes its
 * pid and a newline to ready_fd and closes it (ready_fd -1: none). Warnings
 * go to stderr, one line each, prefixed with the time and the worker id.
 * In the foreground (ready_fd -1) under a service manager (NOTIFY_SOCKET,
 * see notify.h) it sends READY=1 at that same moment, WATCHDOG=1 every half
 * of WATCHDOG_USEC, and STOPPING=1 when a stop begins; every worker removes
 * NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID from its environment, so
 * that its jobs do not see them.
 * On a network or FUSE filesystem it also rescans pending/ and failed/
 * every poll_interval, and it confirms its lease every lease_check (see
 * WORKER_FENCED).
 * Returns 0 after a clean stop, -1 (errno set) if it could not start.
 */
int worker_main(struct spool *sp, int ready_fd);

/*
 * The exit status of a worker that fenced itself (fence.h): its lease was
 * lost or could not be confirmed within lease_timeout, so it killed its
 * job's process group and exited without recording anything. A service
 * manager restarts it (Restart=on-failure): the new worker starts clean.
 */
#define WORKER_FENCED 3

#endif
