/*
 * crash.h - crash points for the reliability tests.
 *
 * CRASH_POINT("name") marks a step of a transition (before and after each
 * rename and fsync). In a test build (-DQUEUECTL_CRASH_POINTS) the process
 * kills itself with SIGKILL when it reaches the point named by the
 * environment variable QUEUECTL_CRASH_AT ("name" or "name:N" for the N-th
 * time); tests then check that the next worker or `recover` repairs the
 * spool. In a normal build the macro is empty and the variable is ignored.
 */
#ifndef QUEUECTL_CRASH_H
#define QUEUECTL_CRASH_H

#ifdef QUEUECTL_CRASH_POINTS
void crash_point(const char *name);
#define CRASH_POINT(name) crash_point(name)
#else
#define CRASH_POINT(name) ((void)0)
#endif

/*
 * TEST_SKEW("name"): in a test build, N when QUEUECTL_TEST_SKEW is
 * "name:N", else 0; 0 in a normal build. It puts a wrong value where the
 * code computes one that it checks later, so that a test can make the
 * check's mending branch run.
 */
#ifdef QUEUECTL_CRASH_POINTS
long test_skew(const char *name);
#define TEST_SKEW(name) test_skew(name)
#else
#define TEST_SKEW(name) 0L
#endif

#endif
