/*
 * fence.c - the fencing threads. See fence.h and spool-layout/README.md
 * ("fencing").
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "fence.h"
#include "util.h"

static struct {
	pthread_mutex_t mu;       /* pgid, stopped; held by a fence to its end */
	pthread_mutex_t chk;      /* held by the checker during a check */
	pid_t pgid;
	atomic_int stopped;
	atomic_llong last_ok;     /* boot ms of the start of the last confirmed check */
	atomic_llong check_ms, timeout_ms;
	atomic_int last_errno;    /* of the last unconfirmed check, or 0 */
	struct spool *sp;
	const struct lease *l;
	void (*fenced)(const char *why);
	pthread_t threads[2];
	int nthreads;
	int tfd[2];               /* each thread's timer (CLOCK_BOOTTIME) */
	int stopfd;               /* an eventfd: readable once fence_stop runs */
} fc = { .mu = PTHREAD_MUTEX_INITIALIZER, .chk = PTHREAD_MUTEX_INITIALIZER,
    .tfd = { -1, -1 }, .stopfd = -1 };

static long long
boot_ms(void)
{
	return boot_ns() / 1000000;
}

static void fence_now(const char *why);

/* Sleep on timer tfd until boot ms t (absolute); 1 if fence_stop woke us.
 * (A timerfd, not a sleep: fence_stop must be able to end the wait.) A
 * timer that cannot be armed or read fences the worker: without it nothing
 * would ever check the lease again. */
static int
sleep_until(int tfd, long long t)
{
	struct itimerspec its = { .it_value = { t / 1000, (t % 1000) * 1000000 } };
	struct pollfd p[2] = { { tfd, POLLIN, 0 }, { fc.stopfd, POLLIN, 0 } };
	char why[128];
	uint64_t n;

	if (timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL) == -1) {
		snprintf(why, sizeof why, "cannot arm the lease check's timer: "
		    "%s", strerror(errno));
		fence_now(why);
		return 1;       /* fencing is stopped */
	}
	while (poll(p, 2, -1) == -1 && errno == EINTR)
		;
	if (p[1].revents != 0)
		return 1;
	if (read(tfd, &n, sizeof n) == -1 && errno != EAGAIN && errno != EINTR) {
		snprintf(why, sizeof why, "cannot read the lease check's timer: "
		    "%s", strerror(errno));
		fence_now(why);
		return 1;
	}
	return 0;
}

/* Kill the job's group and end the process through fc.fenced; nothing
 * once fencing is stopped. */
static void
fence_now(const char *why)
{
	pthread_mutex_lock(&fc.mu);
	if (atomic_load(&fc.stopped)) {
		pthread_mutex_unlock(&fc.mu);
		return;
	}
	if (fc.pgid > 0)
		kill(-fc.pgid, SIGKILL);
	fc.fenced(why);           /* does not return */
	pthread_mutex_unlock(&fc.mu);
}

/* Fence if the lease was last confirmed more than timeout_ms before now. */
static void
fence_if_expired(long long now)
{
	long long last = atomic_load(&fc.last_ok);
	long long timeout = atomic_load(&fc.timeout_ms);
	int e = atomic_load(&fc.last_errno);
	char why[256];

	if (now - last <= timeout)
		return;
	snprintf(why, sizeof why, "lease not confirmed for %.1f s (lease_timeout "
	    "%.1f s)%s%s", (now - last) / 1000.0, timeout / 1000.0,
	    e != 0 ? ": " : "", e != 0 ? strerror(e) : "");
	fence_now(why);
}

/* One check; 1 if fencing is stopped. */
static int
check_once(void)
{
	long long t0;
	int r;

	pthread_mutex_lock(&fc.chk);
	if (atomic_load(&fc.stopped)) {
		pthread_mutex_unlock(&fc.chk);
		return 1;
	}
	t0 = boot_ms();
	fence_if_expired(t0);
	r = lease_confirm(fc.sp, fc.l);
	if (r == -1)
		atomic_store(&fc.last_errno, errno);
	pthread_mutex_unlock(&fc.chk);
	if (r == 1) {
		atomic_store(&fc.last_errno, 0);
		atomic_store(&fc.last_ok, t0);
	} else if (r == 0)
		fence_now("lease lost: its lock was taken, or its directory or "
		    "lock file was removed or replaced");
	return 0;
}

static void *
checker(void *arg)
{
	(void)arg;
	while (!sleep_until(fc.tfd[0], boot_ms() + atomic_load(&fc.check_ms)))
		if (check_once())
			break;
	return NULL;
}

static void *
watchdog(void *arg)
{
	(void)arg;
	do
		fence_if_expired(boot_ms());
	while (!sleep_until(fc.tfd[1], atomic_load(&fc.last_ok) +
	    atomic_load(&fc.timeout_ms) + 1));
	return NULL;
}

/* Close the descriptors of the threads (after they ended). */
static void
fence_close(void)
{
	for (int i = 0; i < 2; i++) {
		if (fc.tfd[i] != -1)
			close(fc.tfd[i]);
		fc.tfd[i] = -1;
	}
	if (fc.stopfd != -1)
		close(fc.stopfd);
	fc.stopfd = -1;
}

int
fence_start(struct spool *sp, const struct lease *l, long long check_ms,
    long long timeout_ms, void (*fenced)(const char *why))
{
	void *(*const fn[2])(void *) = { checker, watchdog };
	int e = 0;

	fc.sp = sp;
	fc.l = l;
	fc.fenced = fenced;
	atomic_store(&fc.stopped, 0);
	fence_timing(check_ms, timeout_ms);
	atomic_store(&fc.last_ok, boot_ms());
	if ((fc.stopfd = eventfd(0, EFD_CLOEXEC)) == -1 ||
	    (fc.tfd[0] = timerfd_create(CLOCK_BOOTTIME, TFD_CLOEXEC)) == -1 ||
	    (fc.tfd[1] = timerfd_create(CLOCK_BOOTTIME, TFD_CLOEXEC)) == -1) {
		e = errno;
		fence_close();
		errno = e;
		return -1;
	}
	for (fc.nthreads = 0; fc.nthreads < 2 && e == 0; fc.nthreads++)
		if ((e = pthread_create(&fc.threads[fc.nthreads], NULL,
		    fn[fc.nthreads], NULL)) != 0)
			break;
	if (e == 0)
		return 0;
	fence_stop();
	errno = e;
	return -1;
}

void
fence_timing(long long check_ms, long long timeout_ms)
{
	atomic_store(&fc.check_ms, check_ms);
	atomic_store(&fc.timeout_ms, timeout_ms);
}

void
fence_job(pid_t pgid)
{
	pthread_mutex_lock(&fc.mu);
	fc.pgid = pgid;
	pthread_mutex_unlock(&fc.mu);
}

void
fence_stop(void)
{
	uint64_t one = 1;

	pthread_mutex_lock(&fc.chk);
	pthread_mutex_lock(&fc.mu);
	atomic_store(&fc.stopped, 1);
	pthread_mutex_unlock(&fc.mu);
	pthread_mutex_unlock(&fc.chk);
	if (fc.stopfd != -1)
		(void)!write(fc.stopfd, &one, sizeof one);
	for (int i = 0; i < fc.nthreads; i++)
		pthread_join(fc.threads[i], NULL);
	fc.nthreads = 0;
	fence_close();
}
