/*
 * tap.h - a tiny plan-less TAP producer for the unit tests.
 *
 *   ok(cond, "description %d", n);       "ok N - description" or "not ok N"
 *   is_int(got, want, "description");    also prints got/want on failure
 *   is_str(got, want, "description");    strings; NULL is shown as (null)
 *   is_dbl(got, want, "description");    doubles, compared exactly
 *   diag("note %s", x);                  "# note" on stdout
 *   return done_testing();               prints "1..N"; 1 if any failed
 *
 * Failures also print "#   at FILE:LINE". Each macro returns 1 on pass and
 * 0 on failure, so a test can skip dependent checks.
 */
#ifndef QUEUECTL_TAP_H
#define QUEUECTL_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_count;
static int tap_failures;

static inline int tap_vresult(int pass, const char *file, int line,
    const char *fmt, va_list ap)
{
	++tap_count;
	printf("%sok %d - ", pass ? "" : "not ", tap_count);
	vprintf(fmt, ap);
	putchar('\n');
	if (!pass) {
		++tap_failures;
		printf("#   Failed test at %s:%d\n", file, line);
	}
	fflush(stdout);
	return pass;
}

static inline int tap_ok(int pass, const char *file, int line,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static inline int tap_ok(int pass, const char *file, int line,
    const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = tap_vresult(pass, file, line, fmt, ap);
	va_end(ap);
	return r;
}

static inline int tap_is_int(long long got, long long want, const char *file,
    int line, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static inline int tap_is_int(long long got, long long want, const char *file,
    int line, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = tap_vresult(got == want, file, line, fmt, ap);
	va_end(ap);
	if (!r)
		printf("#          got: %lld\n#     expected: %lld\n", got, want);
	return r;
}

/* Print s quoted, with control characters escaped so that it stays on one
 * TAP line. */
static inline void tap_print_str(const char *label, const char *s)
{
	printf("# %13s ", label);
	if (s == NULL) {
		puts("(null)");
		return;
	}
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	puts("\"");
}

static inline int tap_is_str(const char *got, const char *want,
    const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static inline int tap_is_str(const char *got, const char *want,
    const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	int r, pass;

	pass = (got == NULL || want == NULL) ? got == want
	    : strcmp(got, want) == 0;
	va_start(ap, fmt);
	r = tap_vresult(pass, file, line, fmt, ap);
	va_end(ap);
	if (!r) {
		tap_print_str("got:", got);
		tap_print_str("expected:", want);
	}
	return r;
}

static inline int tap_is_dbl(double got, double want, const char *file,
    int line, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static inline int tap_is_dbl(double got, double want, const char *file,
    int line, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = tap_vresult(got == want, file, line, fmt, ap);
	va_end(ap);
	if (!r)
		printf("#          got: %.17g\n#     expected: %.17g\n", got, want);
	return r;
}

static inline void diag(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
static inline void diag(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("# ", stdout);
	vprintf(fmt, ap);
	putchar('\n');
	va_end(ap);
	fflush(stdout);
}

static inline int done_testing(void)
{
	printf("1..%d\n", tap_count);
	if (tap_failures)
		printf("# failed %d of %d tests\n", tap_failures, tap_count);
	fflush(stdout);
	return tap_failures ? 1 : 0;
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define is_int(got, want, ...) \
	tap_is_int((long long)(got), (long long)(want), __FILE__, __LINE__, \
	    __VA_ARGS__)
#define is_str(got, want, ...) \
	tap_is_str((got), (want), __FILE__, __LINE__, __VA_ARGS__)
#define is_dbl(got, want, ...) \
	tap_is_dbl((double)(got), (double)(want), __FILE__, __LINE__, \
	    __VA_ARGS__)

#endif
