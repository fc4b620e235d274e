/*
 * crash.c - crash points for the reliability tests. See crash.h.
 */
#ifdef QUEUECTL_CRASH_POINTS
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crash.h"

void
crash_point(const char *name)
{
	static long hits;
	const char *want = getenv("QUEUECTL_CRASH_AT");
	size_t n = strlen(name);
	long nth = 1;

	if (want == NULL || strncmp(want, name, n) != 0 ||
	    (want[n] != '\0' && want[n] != ':'))
		return;
	if (want[n] == ':')
		nth = strtol(want + n + 1, NULL, 10);
	if (++hits == nth)
		kill(getpid(), SIGKILL);
}

long
test_skew(const char *name)
{
	const char *want = getenv("QUEUECTL_TEST_SKEW");
	size_t n = strlen(name);

	if (want == NULL || strncmp(want, name, n) != 0 || want[n] != ':')
		return 0;
	return strtol(want + n + 1, NULL, 10);
}
#else
/* An empty translation unit is not ISO C. */
typedef int crash_points_disabled;
#endif
