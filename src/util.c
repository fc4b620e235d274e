/*
 * util.c - time, strings and small file helpers. See util.h for contracts.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>

#include "util.h"

int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
boot_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
stat_mtime_ms(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

/*
 * The calendar part of secs in fmt ("%04d-%02d-%02dT%02d:%02d:%02d" or the
 * like, with the six fields of struct tm in order) into c->text, which
 * must come out exactly len characters long. The last second asked for is
 * remembered: timestamps come in runs within one second (a job's fields,
 * a batch of jobs), and formatting them is most of the CPU time of an
 * enqueue. Returns c->text, or NULL when secs does not fit.
 */
const char *
time_prefix(struct time_prefix *c, time_t secs, const char *fmt, int len)
{
	struct tm tm;

	if (c->valid && c->secs == secs)
		return c->text;
	c->valid = 0;
	if (gmtime_r(&secs, &tm) == NULL ||
	    snprintf(c->text, sizeof c->text, fmt, tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
	    tm.tm_sec) != len)
		return NULL;
	c->secs = secs;
	c->valid = 1;
	return c->text;
}

/* Write n as 3 digits at p. */
void
put_ms3(char *p, int n)
{
	p[0] = (char)('0' + n / 100);
	p[1] = (char)('0' + n / 10 % 10);
	p[2] = (char)('0' + n % 10);
}

char *
time_format(int64_t ms, char buf[TIME_BUFSZ])
{
	static struct time_prefix cache;
	time_t secs = (time_t)(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
	const char *p = time_prefix(&cache, secs, "%04d-%02d-%02dT%02d:%02d:%02d",
	    19);

	if (p == NULL) {
		strlcpy(buf, "1970-01-01T00:00:00.000Z", TIME_BUFSZ);
		return buf;
	}
	memcpy(buf, p, 19);
	buf[19] = '.';
	put_ms3(buf + 20, (int)(ms - (int64_t)secs * 1000));
	memcpy(buf + 23, "Z", 2);
	return buf;
}

/* Read exactly n digits from *p into *v; advance *p. 0 or -1. */
static int
digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return -1;
		*v = *v * 10 + (**p - '0');
	}
	return 0;
}

/* Parse the zone suffix at p: "Z", "+HH:MM", "-HH[:]MM" or "". */
static int
zone_parse(const char *p, int *local, long *offset)
{
	int hh, mm;
	int sign;

	*local = 0;
	*offset = 0;
	if (*p == '\0') {
		*local = 1;
		return 0;
	}
	if ((p[0] == 'Z' || p[0] == 'z') && p[1] == '\0')
		return 0;
	if (*p != '+' && *p != '-')
		return -1;
	sign = *p++ == '-' ? -1 : 1;
	if (digits(&p, 2, &hh) == -1)
		return -1;
	if (*p == ':')
		p++;
	if (digits(&p, 2, &mm) == -1 || *p != '\0' || hh > 23 || mm > 59)
		return -1;
	*offset = sign * (hh * 3600L + mm * 60L);
	return 0;
}

int
time_parse(const char *s, int64_t *ms)
{
	const char *p = s;
	struct tm tm;
	int y, mo, d, h, mi, sec = 0, frac = 0, local;
	long offset;
	time_t t;

	memset(&tm, 0, sizeof tm);
	if (digits(&p, 4, &y) == -1 || *p++ != '-' ||
	    digits(&p, 2, &mo) == -1 || *p++ != '-' ||
	    digits(&p, 2, &d) == -1 || (*p != 'T' && *p != 't' && *p != ' '))
		goto bad;
	p++;
	if (digits(&p, 2, &h) == -1 || *p++ != ':' || digits(&p, 2, &mi) == -1)
		goto bad;
	if (*p == ':') {
		p++;
		if (digits(&p, 2, &sec) == -1)
			goto bad;
		if (*p == '.' || *p == ',') {
			int scale = 100;

			if (!isdigit((unsigned char)*++p))
				goto bad;
			for (; isdigit((unsigned char)*p); p++, scale /= 10)
				frac += (*p - '0') * scale;
		}
	}
	if (zone_parse(p, &local, &offset) == -1)
		goto bad;
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h > 23 || mi > 59 || sec > 60)
		goto bad;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	tm.tm_isdst = -1;
	t = local ? mktime(&tm) : timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != d)
		goto bad;
	t -= offset;
	/* what time_format() writes and this reads back: 1970 to 9999, UTC */
	if (t < 0 || t > (time_t)253402300799)
		goto bad;
	*ms = (int64_t)t * 1000 + frac;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int
duration_parse(const char *s, int64_t *ms)
{
	char *end;
	double v, unit = 1;

	errno = 0;
	if (!isdigit((unsigned char)*s) && *s != '.')
		goto bad;
	if (strspn(s, "0123456789.") < strlen(s) - (strlen(s) > 0 &&
	    strchr("smhd", s[strlen(s) - 1]) != NULL))
		goto bad;           /* decimal only: no hex, exponents, inf */
	v = strtod(s, &end);
	if (end == s || errno != 0 || !isfinite(v) || v < 0)
		goto bad;
	if (*end != '\0') {
		switch (*end) {
		case 's': unit = 1; break;
		case 'm': unit = 60; break;
		case 'h': unit = 3600; break;
		case 'd': unit = 86400; break;
		default: goto bad;
		}
		if (end[1] != '\0')
			goto bad;
	}
	v *= unit;
	if (v > 100.0 * 365 * 86400) {
		errno = ERANGE;
		return -1;
	}
	*ms = (int64_t)(v * 1000 + 0.5);       /* v >= 0 */
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

char *
duration_format(int64_t ms, char buf[DURATION_BUFSZ])
{
	static const struct { int64_t ms; char unit; } units[] = {
		{ 86400000, 'd' }, { 3600000, 'h' }, { 60000, 'm' }, { 1000, 's' }
	};

	for (size_t i = 0; i < sizeof units / sizeof *units; i++)
		if (ms != 0 && ms % units[i].ms == 0) {
			snprintf(buf, DURATION_BUFSZ, "%lld%c",
			    (long long)(ms / units[i].ms), units[i].unit);
			return buf;
		}
	if (ms == 0)
		snprintf(buf, DURATION_BUFSZ, "0s");
	else
		snprintf(buf, DURATION_BUFSZ, "%lld.%03llds", (long long)(ms / 1000),
		    (long long)(ms % 1000));
	return buf;
}

char *
file_read_at(int dirfd, const char *name, size_t max, size_t *len)
{
	struct stat st;
	char *buf;
	int fd;

	if ((buf = file_read_keep_at(dirfd, name, max, len, &st, &fd)) != NULL)
		close(fd);
	return buf;
}

char *
file_read_keep_at(int dirfd, const char *name, size_t max, size_t *len,
    struct stat *stp, int *fdp)
{
	struct stat st;
	char *buf = NULL;
	size_t have = 0;
	ssize_t n;
	int fd, saved;

	*fdp = -1;
	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd == -1)
		return NULL;
	if (fstat(fd, &st) == -1)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if ((size_t)st.st_size > max) {
		errno = EFBIG;
		goto fail;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL)
		goto fail;
	/* The file may grow while we read; stop at its size when we looked. */
	while (have < (size_t)st.st_size) {
		n = read(fd, buf + have, (size_t)st.st_size - have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto fail;
		if (n == 0)
			break;
		have += (size_t)n;
	}
	buf[have] = '\0';
	*len = have;
	*stp = st;
	*fdp = fd;
	return buf;
fail:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return NULL;
}

int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void
fd_drain(int fd)
{
	char buf[4096];

	while (read(fd, buf, sizeof buf) > 0)
		;
}

int
strcpy_checked(char *dst, const char *src, size_t n)
{
	if (strlcpy(dst, src, n) >= n) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
fmt_checked(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = vsnprintf(buf, n, fmt, ap);
	va_end(ap);
	if (r < 0 || (size_t)r >= n) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), m = strlen(suffix);

	return n >= m && strcmp(name + n - m, suffix) == 0;
}

int
utf8_valid(const char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)buf, *end = p + len;

	while (p < end) {
		unsigned char c = *p++;
		size_t n;
		unsigned long cp;

		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf)
			n = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			n = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 3, cp = c & 0x07;
		else
			return 0;
		if ((size_t)(end - p) < n)
			return 0;
		for (size_t i = 0; i < n; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (*p & 0x3f);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
		    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
	}
	return 1;
}

const char *
host_name(void)
{
	static char host[65];
	char raw[HOST_NAME_MAX + 1];

	if (host[0] != '\0')
		return host;
	if (gethostname(raw, sizeof raw) == -1 || raw[0] == '\0')
		strlcpy(raw, "localhost", sizeof raw);
	raw[sizeof raw - 1] = '\0';
	raw[strcspn(raw, ".")] = '\0';
	for (size_t i = 0; raw[i] != '\0' && i < sizeof host - 1; i++)
		host[i] = isalnum((unsigned char)raw[i]) ? raw[i] : '-';
	if (host[0] == '\0' || !isalnum((unsigned char)host[0]))
		strlcpy(host, "localhost", sizeof host);
	return host;
}

static pid_t self_cached;

static void
self_forget(void)
{
	self_cached = 0;
}

pid_t
self_pid(void)
{
	static int registered;

	if (!registered) {
		registered = 1;
		pthread_atfork(NULL, NULL, self_forget);
	}
	if (self_cached == 0)
		self_cached = getpid();
	return self_cached;
}

uint32_t
rand32(void)
{
	static uint32_t pool[64];
	static size_t left;
	static pid_t owner;

	if (left == 0 || owner != self_pid()) {
		/* getrandom(2) first: one system call, where arc4random's first
		 * use sets up its state (two mappings, a getrandom, a ChaCha key
		 * schedule), about 15 µs of every enqueue */
		if (getrandom(pool, sizeof pool, GRND_NONBLOCK) !=
		    (ssize_t)sizeof pool)
			arc4random_buf(pool, sizeof pool);
		left = sizeof pool / sizeof *pool;
		owner = self_pid();
	}
	return pool[--left];
}
