/*
 * test_starttime.c - start_time_within (src/lease.h): a new process's start
 * time in clock ticks from the CLOCK_BOOTTIME instants around its clone,
 * or 0 when the interval is near or across a tick's edge; and, against the
 * kernel, that a forked child's /proc start time is the computed one.
 */
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lease.h"
#include "util.h"
#include "tap.h"

#define MS INT64_C(1000000)

static void test_pure(void)
{
	/* 100 Hz: ticks of 10 ms */
	is_int(start_time_within(123 * 10 * MS + 4 * MS, 123 * 10 * MS + 5 * MS,
	    100), 123, "inside tick 123");
	is_int(start_time_within(123 * 10 * MS + 9 * MS, 124 * 10 * MS + MS,
	    100), 0, "across the edge of two ticks: 0");
	is_int(start_time_within(124 * 10 * MS + 50000, 124 * 10 * MS + MS,
	    100), 0, "50 us after the tick's start: 0");
	is_int(start_time_within(124 * 10 * MS + 200000, 125 * 10 * MS - 50000,
	    100), 0, "50 us before the tick's end: 0");
	is_int(start_time_within(124 * 10 * MS + START_MARGIN_NS,
	    125 * 10 * MS - START_MARGIN_NS, 100), 124, "the margins included");
	is_int(start_time_within(5 * MS, 4 * MS, 100), 0, "after before before: 0");
	is_int(start_time_within(0, 4 * MS, 100), 0, "no clock: 0");
	/* 250 Hz: 4 ms */
	is_int(start_time_within(1001 * 4 * MS + MS, 1001 * 4 * MS + 2 * MS,
	    250), 1001, "250 Hz: tick 1001");
	is_int(start_time_within(4 * MS + MS, 4 * MS + 2 * MS, 0), 0,
	    "no hz: 0");
	is_int(start_time_within(4 * MS + MS, 4 * MS + 2 * MS, 7), 0,
	    "hz that does not divide a second: 0");
}

/* Forked children: whenever the computation gives a tick, /proc agrees. */
static void test_kernel(void)
{
	long hz = sysconf(_SC_CLK_TCK);
	int computed = 0, agree = 0;

	for (int i = 0; i < 40; i++) {
		int64_t before = boot_ns();
		unsigned long long t, p;
		pid_t pid = fork();

		if (pid == 0) {
			pause();
			_exit(0);
		}
		t = start_time_within(before, boot_ns(), hz);
		p = proc_start_time(pid);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		if (t == 0)
			continue;
		computed++;
		agree += t == p;
	}
	ok(computed > 0, "computed for %d of 40 children", computed);
	is_int(agree, computed, "/proc agrees with every one computed");
}

int main(void)
{
	test_pure();
	test_kernel();
	return done_testing();
}
