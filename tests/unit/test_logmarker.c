/*
 * test_logmarker.c - job_log_marker against the line the worker writes
 * (JOB_LOG_MARKER_FMT), near misses, and prefixes of a marker.
 */
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "job.h"
#include "tap.h"

static ssize_t
marker(const char *s, long *a)
{
	*a = -1;
	return job_log_marker(s, strlen(s), a);
}

int
main(void)
{
	static const char *const no[] = {
		"=== queuectl: attempt 0 on w at 2026-11-22T10:30:00.000Z ===\n",
		"=== queuectl: attempt -1 on w at 2026-11-22T10:30:00.000Z ===\n",
		"=== queuectl: attempt  1 on w at 2026-11-22T10:30:00.000Z ===\n",
		"=== queuectl: attempt 1 on  at 2026-11-22T10:30:00.000Z ===\n",
		"=== queuectl: attempt 1 on a b at 2026-11-22T10:30:00.000Z ===\n",
		"=== queuectl: attempt 1 on w at  ===\n",
		"=== queuectl: attempt 1 on w at now ===\n",
		"=== queuectl: attempt 1 on w at 2026-11-22T10:30:00Z ==\n",
		"=== queuectl: attempt 1 on w at 2026-11-22T10:30:00Z === \n",
		"=== queuectl: attempt 1234567890 on w at 1 ===\n",
		"=== queuectl: output truncated after 1024 bytes ===\n",
		"== queuectl: attempt 1 on w at 1 ===\n",
		"hello\n",
	};
	char line[512], big[JOB_LOG_MARKER_MAX + 8];
	const char *tail = "rest of the log\n";
	ssize_t r;
	long a;
	int len;

	len = snprintf(line, sizeof line, JOB_LOG_MARKER_FMT, 12L,
	    "host-1.example_x-4242", "2026-11-22T10:30:00.123Z");
	strcat(line, tail);
	r = marker(line, &a);
	is_int((int)r, len, "the worker's marker line is recognised, to its "
	    "newline");
	is_int((int)a, 12, "... with its attempt number");
	for (int n = 0; n < len; n++)
		if (!ok(job_log_marker(line, (size_t)n, &a) == -1,
		    "its first %d bytes may begin a marker", n))
			break;
	for (size_t i = 0; i < sizeof no / sizeof *no; i++)
		is_int((int)marker(no[i], &a), 0, "not a marker: %.*s",
		    (int)strcspn(no[i], "\n"), no[i]);
	is_int((int)job_log_marker("=== queuectl: attempt 1 on w at 1 ===", 37, &a),
	    -1, "a marker without its newline yet may still be one");
	memset(big, 'x', sizeof big);
	memcpy(big, JOB_LOG_MARKER_PREFIX, strlen(JOB_LOG_MARKER_PREFIX));
	is_int((int)job_log_marker(big, sizeof big, &a), 0,
	    "a line longer than JOB_LOG_MARKER_MAX is not one");
	is_int((int)job_log_marker(big, JOB_LOG_MARKER_MAX - 1, &a), -1,
	    "... until that many bytes are there");
	is_int((int)job_log_marker("x=== queuectl", 13, &a), 0,
	    "text before the prefix: not one");
	return done_testing();
}
