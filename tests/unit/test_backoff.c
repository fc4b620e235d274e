/*
 * test_backoff.c - backoff_delay_ms against src/job.h:
 * min(backoff_max, backoff_base ^ n) seconds, in milliseconds.
 */
#include <limits.h>
#include <stdint.h>

#include "job.h"
#include "tap.h"

#define B(base, max, n, want) \
	is_int(backoff_delay_ms((base), (max), (n)), (want), \
	    "backoff_delay_ms(%g, %g, %ld) = %lld", (double)(base), \
	    (double)(max), (long)(n), (long long)(want))

int main(void)
{
	/* The default config: base 2, max 3600. */
	B(2, 3600, 1, 2000);
	B(2, 3600, 2, 4000);
	B(2, 3600, 3, 8000);
	B(2, 3600, 10, 1024000);
	B(2, 3600, 11, 2048000);
	B(2, 3600, 12, 3600000);          /* 4096 s capped at 3600 */

	/* Capped by max. */
	B(2, 10, 3, 8000);
	B(2, 10, 4, 10000);
	B(2, 8, 3, 8000);                 /* exactly at the cap */
	B(2, 2.5, 5, 2500);               /* fractional cap */
	B(10, 60, 2, 60000);

	/* Fractional base. */
	B(1.5, 3600, 1, 1500);
	B(1.5, 3600, 2, 2250);
	B(1.5, 3600, 3, 3375);
	B(2.5, 3600, 2, 6250);

	/* Base 1: always one second. */
	B(1, 3600, 1, 1000);
	B(1, 3600, 2, 1000);
	B(1, 3600, 1000, 1000);
	B(1, 0.5, 1, 500);

	/* Max 0: no delay. */
	B(2, 0, 1, 0);
	B(2, 0, 50, 0);
	B(1, 0, 1, 0);

	/* Huge n, huge base: capped, never overflowing or negative. */
	B(2, 3600, 64, 3600000);
	B(2, 3600, 1100, 3600000);        /* 2^1100 is inf as a double */
	B(2, 3600, 1000000, 3600000);
	B(2, 3600, LONG_MAX, 3600000);
	B(1000, 3600, 1, 1000000);
	B(1000, 3600, 2, 3600000);
	B(1000, TIMEOUT_LIMIT, 1000000, INT64_C(31536000000));
	B(1.0001, TIMEOUT_LIMIT, LONG_MAX, INT64_C(31536000000));

	return done_testing();
}
