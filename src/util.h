/*
 * util.h - time, strings and small file helpers shared by every subsystem.
 *
 * Functions here never exit and never print; on failure they return -1
 * (or NULL) with errno set.
 */
#ifndef QUEUECTL_UTIL_H
#define QUEUECTL_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Milliseconds since the Unix epoch, wall clock. */
int64_t now_ms(void);

/* Milliseconds of CLOCK_MONOTONIC, for measuring intervals. */
int64_t mono_ms(void);

/* CLOCK_BOOTTIME in nanoseconds: the clock of a process's start time. */
int64_t boot_ns(void);

/* The modification time of st in milliseconds since the epoch. */
struct stat;
int64_t stat_mtime_ms(const struct stat *st);

#define TIME_BUFSZ 32

/* A remembered calendar prefix of one second (time_prefix). */
struct time_prefix {
	time_t secs;
	int valid;
	char text[32];
};

/*
 * Format the UTC calendar fields of secs with fmt, which takes year, month,
 * day, hour, minute, second (ints) and must give exactly len characters
 * (< 32); remembered in c for the next call with the same secs. Returns
 * the text (owned by c), or NULL if secs does not fit the format.
 */
const char *time_prefix(struct time_prefix *c, time_t secs, const char *fmt,
    int len);

/* Write 0 <= n <= 999 as three digits at p (no NUL). */
void put_ms3(char *p, int n);

/*
 * Format ms (since the epoch) as UTC ISO 8601 with milliseconds,
 * "2026-11-22T10:30:00.123Z", into buf of TIME_BUFSZ bytes. Returns buf.
 */
char *time_format(int64_t ms, char buf[TIME_BUFSZ]);

/*
 * Parse an ISO 8601 time: "YYYY-MM-DDTHH:MM[:SS[.fff]]" ('T' or one space)
 * followed by "Z", "+HH:MM"/"-HH:MM", or nothing (then local time, as date(1)
 * does). Stores milliseconds since the epoch in *ms. Returns 0, or -1 with
 * errno EINVAL if s is not such a time or is not between
 * 1970-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
 */
int time_parse(const char *s, int64_t *ms);

/*
 * Parse a duration: a non-negative decimal number of seconds with an optional
 * unit suffix s, m, h or d ("90", "1.5", "10m", "2h"). Stores milliseconds in
 * *ms. Returns 0, or -1 with errno EINVAL (or ERANGE over 100 years).
 */
int duration_parse(const char *s, int64_t *ms);

#define DURATION_BUFSZ 32

/*
 * Format ms (>= 0) as a duration that duration_parse reads back exactly:
 * in the largest unit of d, h, m, s that divides it ("7d", "90m", "45s"),
 * else in seconds with the milliseconds ("1.5s", "0.001s"). Returns buf.
 */
char *duration_format(int64_t ms, char buf[DURATION_BUFSZ]);

/*
 * Read a whole regular file at dirfd/name (O_NOFOLLOW) into a NUL-terminated
 * malloc'ed buffer; stores its length in *len. Refuses files larger than max
 * bytes (EFBIG) and anything that is not a regular file (EINVAL; ELOOP for a
 * symlink). Returns the buffer, or NULL with errno set.
 */
char *file_read_at(int dirfd, const char *name, size_t max, size_t *len);

/* file_read_at, and what fstat(2) said of the file read in *st; the
 * descriptor read is left open in *fdp (-1 on failure). */
char *file_read_keep_at(int dirfd, const char *name, size_t max, size_t *len,
    struct stat *st, int *fdp);

/* Write all of buf to fd, retrying short writes and EINTR. 0 or -1. */
int write_all(int fd, const void *buf, size_t len);

/* Read and drop what a non-blocking fd (an inotify fd) has to read now. */
void fd_drain(int fd);

/* Copy src into dst of size n; -1 with ENAMETOOLONG if it does not fit. */
int strcpy_checked(char *dst, const char *src, size_t n);

/* snprintf into buf of size n; -1 with ENAMETOOLONG on truncation. */
int fmt_checked(char *buf, size_t n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Is buf (len bytes) well-formed UTF-8: no overlong forms, no surrogates,
 * nothing above U+10FFFF? Returns 1 or 0. */
int utf8_valid(const char *buf, size_t len);

/* Does name end with suffix? */
int has_suffix(const char *name, const char *suffix);

/* This host's name, cut at the first dot, with characters outside
 * [A-Za-z0-9-] replaced by '-'; "localhost" if it has none. */
const char *host_name(void);

/* getpid(2), with one system call per process, not one per use: the value
 * is kept, and dropped in the child of a fork(2) (pthread_atfork). */
pid_t self_pid(void);

/* A uniformly random number, as arc4random(3), drawn from a buffer filled
 * 64 numbers at a time by getrandom(2) (arc4random_buf(3) if the kernel's
 * pool is not ready): libbsd's arc4random makes a getpid(2) system call at
 * every use to notice a fork. The buffer is dropped when self_pid() differs
 * from the process that filled it, so a forked child never repeats its
 * parent's numbers. Not thread-safe, unlike arc4random: only a process's
 * main thread may call it. */
uint32_t rand32(void);

#endif
