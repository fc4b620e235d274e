/*
 * fuzz.h - what the libFuzzer harnesses in tests/fuzz/ share.
 *
 * CHECK(cond, fmt, ...) aborts with a message when a property does not hold:
 * libFuzzer then reports the input as a crash, like a sanitizer error.
 */
#ifndef QUEUECTL_FUZZ_H
#define QUEUECTL_FUZZ_H

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"

/* The entry points libFuzzer calls (declared for -Wmissing-prototypes). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n  ",		\
		    __FILE__, __LINE__, #cond);				\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
		abort();						\
	}								\
} while (0)

/*
 * A fixed time zone with a positive offset and summer time, given as a
 * POSIX TZ string (no tzdata needed), so that local times ("no zone") are
 * reproducible and can fall before the epoch.
 */
#define FUZZ_TZ "CET-1CEST,M3.5.0,M10.5.0/3"

/*
 * a and b are the same number, or differ in the last bit only: cJSON_Print
 * writes a double with 15 significant digits when that reads back within
 * DBL_EPSILON (relative), so a rewritten job may lose that bit (for example
 * "timeout": 0.30000000000000004 is written back as 0.3). Not a queuectl
 * bug, and harmless for seconds.
 */
static inline int
same_number(double a, double b)
{
	return a == b || fabs(a - b) <= fmax(fabs(a), fabs(b)) * DBL_EPSILON;
}

/* job_serialize's text, as a string of the caller's (free it): the
 * function's own buffer is reused by its next call. */
static inline char *
serialize_dup(const struct job *job)
{
	size_t len;
	const char *t = job_serialize(job, &len);

	return t != NULL ? strdup(t) : NULL;
}

/* A fixed "now" for the fields enqueue and the worker fill in. */
#define FUZZ_NOW_MS ((int64_t)1795000000123LL)

#endif
