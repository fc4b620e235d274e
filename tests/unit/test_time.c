/*
 * test_time.c - the helpers of src/util.h: time_format, time_parse,
 * duration_parse, shell_quote, has_suffix, and the small string and file
 * helpers.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "shell.h"
#include "tap.h"

/* 2026-11-22T10:30:00Z */
#define T0 INT64_C(1795343400000)

static void fmt(int64_t ms, const char *want)
{
	char buf[TIME_BUFSZ];

	is_str(time_format(ms, buf), want, "time_format(%lld)", (long long)ms);
}

static void test_format(void)
{
	char buf[TIME_BUFSZ];

	fmt(0, "1970-01-01T00:00:00.000Z");
	fmt(1, "1970-01-01T00:00:00.001Z");
	fmt(T0, "2026-11-22T10:30:00.000Z");
	fmt(T0 + 123, "2026-11-22T10:30:00.123Z");
	fmt(T0 + 59999, "2026-11-22T10:30:59.999Z");
	fmt(INT64_C(951868799999), "2000-02-29T23:59:59.999Z");
	fmt(INT64_C(2147483648000), "2038-01-19T03:14:08.000Z");
	ok(time_format(5, buf) == buf, "time_format returns buf");
	/* the calendar part is remembered per second: runs within one
	 * second, and going back and forth across seconds, stay right */
	fmt(T0 + 999, "2026-11-22T10:30:00.999Z");
	fmt(T0 + 1000, "2026-11-22T10:30:01.000Z");
	fmt(T0 + 999, "2026-11-22T10:30:00.999Z");
	fmt(T0 + 86400000 + 5, "2026-11-23T10:30:00.005Z");
	fmt(T0 + 86400000 + 6, "2026-11-23T10:30:00.006Z");
	fmt(T0 - 1, "2026-11-22T10:29:59.999Z");
}

static void parse_good(const char *s, int64_t want)
{
	int64_t ms = -12345;
	int r = time_parse(s, &ms);

	if (ok(r == 0, "time_parse(\"%s\") succeeds", s))
		is_int(ms, want, "time_parse(\"%s\") value", s);
}

static void parse_bad(const char *s, const char *what)
{
	int64_t ms = 0;
	int r;

	errno = 0;
	r = time_parse(s, &ms);
	ok(r == -1 && errno == EINVAL, "time_parse refuses %s \"%s\" (EINVAL)",
	    what, s);
}

static void test_parse(void)
{
	static const int64_t rt[] = {
		0, 1, T0, T0 + 123, T0 + 999, INT64_C(951868799999),
		INT64_C(2147483648000), INT64_C(4102444800000)
	};
	char buf[TIME_BUFSZ];
	int64_t ms, now;
	size_t i;

	parse_good("2026-11-22T10:30:00Z", T0);
	parse_good("2026-11-22T10:30:00.123Z", T0 + 123);
	parse_good("2026-11-22T10:30:00.5Z", T0 + 500);
	parse_good("2026-11-22T10:30:00.05Z", T0 + 50);
	parse_good("2026-11-22T10:30:00.000Z", T0);
	parse_good("2026-11-22T10:30Z", T0);
	parse_good("2026-11-22 10:30:00Z", T0);
	parse_good("2026-11-22T11:30:00+01:00", T0);
	parse_good("2026-11-22T11:30:00.250+01:00", T0 + 250);
	parse_good("2026-11-22T05:00:00-05:30", T0);
	parse_good("2026-11-22T10:30:00+00:00", T0);
	parse_good("2026-11-22T10:30:00-00:00", T0);
	parse_good("2026-11-23T00:30:00+14:00", T0);
	parse_good("1970-01-01T00:00:00Z", 0);
	parse_good("2000-02-29T23:59:59.999Z", INT64_C(951868799999));
	parse_good("2038-01-19T03:14:08Z", INT64_C(2147483648000));

	/* No zone: local time, as date(1) reads it. */
	setenv("TZ", "UTC0", 1);
	tzset();
	parse_good("2026-11-22T10:30:00", T0);
	parse_good("2026-11-22 10:30", T0);
	setenv("TZ", "EST5", 1);
	tzset();
	parse_good("2026-11-22T05:30:00", T0);
	parse_good("2026-11-22T10:30:00Z", T0);   /* Z ignores TZ */
	setenv("TZ", "UTC0", 1);
	tzset();

	parse_bad("", "the empty string");
	parse_bad("garbage", "garbage");
	parse_bad("2026-13-01T00:00:00Z", "month 13");
	parse_bad("2026-00-10T00:00:00Z", "month 0");
	parse_bad("2026-11-00T00:00:00Z", "day 0");
	parse_bad("2026-11-31T00:00:00Z", "November 31");
	parse_bad("2026-02-30T00:00:00Z", "February 30");
	parse_bad("2026-02-29T00:00:00Z", "February 29 of a common year");
	parse_bad("2026-11-22T24:00:00Z", "hour 24");
	parse_bad("2026-11-22T10:60:00Z", "minute 60");
	parse_bad("2026-11-22T10:30:61Z", "second 61");
	parse_bad("2026-11-22T10:30:00Zjunk", "trailing junk");
	parse_bad("2026-11-22T10:30:00Z ", "a trailing space");
	parse_bad("2026-11-22T10:30:00ZZ", "a doubled Z");
	parse_bad("2026-11-22", "a date alone");
	parse_bad("2026-11-22T", "a date and T");
	parse_bad("2026-11-22T10", "no minutes");
	parse_bad("2026-11-22T10:30:00.Z", "a dot without digits");
	parse_bad("2026-11-22T10:30:00+01", "an incomplete offset");
	parse_bad("2026-11-22T10:30:00+0100x", "junk after an offset");
	parse_bad("2026-11-22  10:30:00Z", "two spaces");
	parse_bad("2026-11-22X10:30:00Z", "X as separator");
	parse_bad(" 2026-11-22T10:30:00Z", "a leading space");
	parse_bad("1795343400", "epoch seconds");

	for (i = 0; i < sizeof rt / sizeof rt[0]; i++) {
		ms = -1;
		time_format(rt[i], buf);
		ok(time_parse(buf, &ms) == 0 && ms == rt[i],
		    "round trip %lld -> %s -> %lld", (long long)rt[i], buf,
		    (long long)ms);
	}
	now = now_ms();
	ms = -1;
	time_format(now, buf);
	ok(time_parse(buf, &ms) == 0 && ms == now, "round trip of now_ms (%s)",
	    buf);
}

static void dur_good(const char *s, int64_t want)
{
	int64_t ms = -1;

	if (ok(duration_parse(s, &ms) == 0, "duration_parse(\"%s\") succeeds",
	    s))
		is_int(ms, want, "duration_parse(\"%s\") value", s);
}

static void dur_bad(const char *s, int err)
{
	int64_t ms = 0;
	int r;

	errno = 0;
	r = duration_parse(s, &ms);
	ok(r == -1 && errno == err, "duration_parse refuses \"%s\" (%s)", s,
	    err == EINVAL ? "EINVAL" : "ERANGE");
}

static void test_duration(void)
{
	dur_good("90", 90000);
	dur_good("1.5", 1500);
	dur_good("0", 0);
	dur_good("0.001", 1);
	dur_good("10s", 10000);
	dur_good("10m", 600000);
	dur_good("1.5m", 90000);
	dur_good("2h", 7200000);
	dur_good("1d", 86400000);
	dur_good("0.5d", 43200000);
	dur_good("36500d", INT64_C(3153600000000));

	dur_bad("-1", EINVAL);
	dur_bad("-1s", EINVAL);
	dur_bad("x", EINVAL);
	dur_bad("5q", EINVAL);
	dur_bad("", EINVAL);
	dur_bad("m", EINVAL);
	dur_bad("1mm", EINVAL);
	dur_bad("1.2.3", EINVAL);
	dur_bad("10 m", EINVAL);
	dur_bad("nan", EINVAL);
	dur_bad("inf", EINVAL);
	dur_bad("0x10", EINVAL);         /* not a decimal number */
	dur_bad("1000000d", ERANGE);
	dur_bad("99999999999999999999", ERANGE);
}

static void dur_fmt(int64_t ms, const char *want)
{
	char buf[DURATION_BUFSZ];
	int64_t back = -1;

	is_str(duration_format(ms, buf), want, "duration_format(%lld)",
	    (long long)ms);
	ok(duration_parse(buf, &back) == 0 && back == ms,
	    "duration_parse(\"%s\") reads back %lld", buf, (long long)ms);
}

static void test_duration_format(void)
{
	dur_fmt(0, "0s");
	dur_fmt(1, "0.001s");
	dur_fmt(1500, "1.500s");
	dur_fmt(30000, "30s");
	dur_fmt(90000, "90s");
	dur_fmt(900000, "15m");
	dur_fmt(5400000, "90m");
	dur_fmt(43200000, "12h");
	dur_fmt(604800000, "7d");
	dur_fmt(INT64_C(3153600000000), "36500d");
	dur_fmt(61001, "61.001s");
}

/* Run printf '<%s>' QUOTED in /bin/sh and return what it prints. */
static char *sh_read_back(const char *quoted)
{
	static char out[512];
	char cmd[512];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof cmd, "printf '<%%s>' %s", quoted);
	p = popen(cmd, "r");
	if (p == NULL)
		return NULL;
	n = fread(out, 1, sizeof out - 1, p);
	out[n] = 0;
	pclose(p);
	return out;
}

static void test_shell_quote(void)
{
	static const char *const words[] = {
		"abc", "a b", "it's", "", "'", "''", "$HOME", "a*b", "`id`",
		"$(id)", "a\\b", "new\nline", "a;b", "~", "-n", "a\"b", "a|b",
		"tab\there", "x=1 y", "!", "*", "#x", "a'b'c", " lead",
	};
	char want[128], *q;
	size_t i;

	q = shell_quote("abc");
	is_str(q, "abc", "shell_quote leaves a plain word alone");
	free(q);
	q = shell_quote("a b");
	is_str(q, "'a b'", "shell_quote puts a word with a space in quotes");
	free(q);

	for (i = 0; i < sizeof words / sizeof words[0]; i++) {
		q = shell_quote(words[i]);
		snprintf(want, sizeof want, "<%s>", words[i]);
		if (ok(q != NULL, "shell_quote(word %zu) returns a string", i)) {
			is_str(sh_read_back(q), want,
			    "sh reads quote of word %zu back as one word: %s",
			    i, strchr(q, '\n') ? "(multi-line)" : q);
		}
		free(q);
	}
}

static void test_suffix(void)
{
	ok(has_suffix("a.json", ".json"), "has_suffix(a.json, .json)");
	ok(has_suffix(".json", ".json"), "has_suffix(.json, .json)");
	ok(has_suffix("a.json", ""), "has_suffix(a.json, \"\")");
	ok(has_suffix("", ""), "has_suffix(\"\", \"\")");
	ok(!has_suffix("a.jso", ".json"), "!has_suffix(a.jso, .json)");
	ok(!has_suffix("json", ".json"), "!has_suffix(json, .json) (shorter)");
	ok(!has_suffix("", ".json"), "!has_suffix(\"\", .json)");
	ok(!has_suffix("a.json.tmp", ".json"), "!has_suffix(a.json.tmp, .json)");
	ok(!has_suffix("a.JSON", ".json"), "!has_suffix(a.JSON, .json)");
	ok(has_suffix("x.stdout", ".stdout"), "has_suffix(x.stdout, .stdout)");
}

static void test_strings(void)
{
	char b[4];
	int r;

	memset(b, 'X', sizeof b);
	is_int(strcpy_checked(b, "abc", sizeof b), 0, "strcpy_checked fits");
	is_str(b, "abc", "strcpy_checked copies");
	errno = 0;
	r = strcpy_checked(b, "abcd", sizeof b);
	ok(r == -1 && errno == ENAMETOOLONG,
	    "strcpy_checked too long: -1 ENAMETOOLONG");
	is_int(strcpy_checked(b, "", sizeof b), 0, "strcpy_checked empty");
	is_str(b, "", "strcpy_checked empty copies");

	is_int(fmt_checked(b, sizeof b, "%d", 123), 0, "fmt_checked fits");
	is_str(b, "123", "fmt_checked formats");
	errno = 0;
	r = fmt_checked(b, sizeof b, "%d", 1234);
	ok(r == -1 && errno == ENAMETOOLONG,
	    "fmt_checked truncated: -1 ENAMETOOLONG");
}

static void test_files(void)
{
	char dir[] = "/tmp/queuectl-unit-XXXXXX", *buf, big[10000];
	size_t len;
	int dfd, fd, p[2];

	if (!ok(mkdtemp(dir) != NULL, "mkdtemp"))
		return;
	dfd = open(dir, O_DIRECTORY | O_RDONLY);
	fd = openat(dfd, "f", O_WRONLY | O_CREAT | O_EXCL, 0600);
	memset(big, 'q', sizeof big);
	is_int(write_all(fd, "hello", 5), 0, "write_all to a file");
	close(fd);
	fd = openat(dfd, "big", O_WRONLY | O_CREAT | O_EXCL, 0600);
	is_int(write_all(fd, big, sizeof big), 0, "write_all 10000 bytes");
	close(fd);
	fd = openat(dfd, "empty", O_WRONLY | O_CREAT | O_EXCL, 0600);
	close(fd);
	ok(mkdirat(dfd, "d", 0700) == 0 && symlinkat("f", dfd, "link") == 0 &&
	    mkfifoat(dfd, "fifo", 0600) == 0,
	    "set up a directory, a symlink and a FIFO");

	len = 99;
	buf = file_read_at(dfd, "f", 100, &len);
	if (ok(buf != NULL, "file_read_at reads a file")) {
		is_int(len, 5, "file_read_at length");
		is_str(buf, "hello", "file_read_at contents, NUL-terminated");
		free(buf);
	}
	buf = file_read_at(dfd, "f", 5, &len);
	ok(buf != NULL && len == 5, "file_read_at with max equal to the size");
	free(buf);
	errno = 0;
	buf = file_read_at(dfd, "f", 4, &len);
	ok(buf == NULL && errno == EFBIG, "file_read_at over max: EFBIG");
	free(buf);
	buf = file_read_at(dfd, "big", 100000, &len);
	ok(buf != NULL && len == sizeof big && buf[len] == 0 &&
	    memcmp(buf, big, sizeof big) == 0, "file_read_at of 10000 bytes");
	free(buf);
	len = 99;
	buf = file_read_at(dfd, "empty", 100, &len);
	ok(buf != NULL && len == 0 && buf[0] == 0,
	    "file_read_at of an empty file");
	free(buf);
	errno = 0;
	buf = file_read_at(dfd, "link", 100, &len);
	ok(buf == NULL && errno == ELOOP, "file_read_at of a symlink: ELOOP");
	free(buf);
	errno = 0;
	buf = file_read_at(dfd, "d", 100, &len);
	ok(buf == NULL && errno == EINVAL, "file_read_at of a directory: EINVAL");
	free(buf);
	errno = 0;
	buf = file_read_at(dfd, "missing", 100, &len);
	ok(buf == NULL && errno == ENOENT, "file_read_at of a missing file: ENOENT");
	free(buf);
	diag("file_read_at of a FIFO must not block (alarm in 5 s)");
	alarm(5);
	errno = 0;
	buf = file_read_at(dfd, "fifo", 100, &len);
	alarm(0);
	ok(buf == NULL && errno == EINVAL, "file_read_at of a FIFO: EINVAL");
	free(buf);

	if (pipe(p) == 0) {
		char rb[8] = "";

		is_int(write_all(p[1], "pipe", 4), 0, "write_all to a pipe");
		close(p[1]);
		ok(read(p[0], rb, sizeof rb - 1) == 4 && strcmp(rb, "pipe") == 0,
		    "write_all wrote the bytes");
		close(p[0]);
	}

	unlinkat(dfd, "f", 0);
	unlinkat(dfd, "big", 0);
	unlinkat(dfd, "empty", 0);
	unlinkat(dfd, "link", 0);
	unlinkat(dfd, "fifo", 0);
	unlinkat(dfd, "d", AT_REMOVEDIR);
	close(dfd);
	rmdir(dir);
}

static void test_clock_host(void)
{
	int64_t a, b, t = (int64_t)time(NULL) * 1000;
	const char *h, *c;
	int clean = 1;

	a = now_ms();
	ok(a >= t - 2000 && a <= t + 2000, "now_ms is the wall clock in ms");
	a = mono_ms();
	b = mono_ms();
	ok(a > 0 && b >= a, "mono_ms does not go back");

	h = host_name();
	ok(h != NULL && h[0] != 0, "host_name is not empty: %s", h ? h : "");
	for (c = h; c && *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		    (*c >= '0' && *c <= '9') || *c == '-'))
			clean = 0;
	ok(clean, "host_name holds only [A-Za-z0-9-]");
}

/* self_pid: the process's pid, also in the child of a fork after the
 * parent has asked for its own. */
static void
test_self_pid(void)
{
	int fds[2], st;
	pid_t child, seen = 0;

	ok(self_pid() == getpid(), "self_pid is getpid");
	ok(self_pid() == getpid(), "... asked again");
	if (pipe(fds) == -1 || (child = fork()) == -1) {
		ok(0, "pipe and fork for the self_pid check");
		return;
	}
	if (child == 0) {
		pid_t p = self_pid() == getpid() ? getpid() : -1;

		write(fds[1], &p, sizeof p);
		_exit(0);
	}
	close(fds[1]);
	if (read(fds[0], &seen, sizeof seen) != (ssize_t)sizeof seen)
		seen = 0;
	close(fds[0]);
	waitpid(child, &st, 0);
	ok(seen == child, "in a forked child self_pid is the child's pid");
	ok(self_pid() == getpid(), "... and the parent's stays its own");
}

int main(void)
{
	setenv("TZ", "UTC0", 1);
	tzset();
	test_format();
	test_parse();
	test_duration();
	test_duration_format();
	test_shell_quote();
	test_suffix();
	test_strings();
	test_files();
	test_clock_host();
	test_self_pid();
	return done_testing();
}
