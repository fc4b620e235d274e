/*
 * mono.h - the benchmark helpers' clock: seconds on CLOCK_MONOTONIC.
 */
#ifndef BENCH_MONO_H
#define BENCH_MONO_H

#include <time.h>

static inline double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
