/*
 * journal.c - the metrics journal. See journal.h and spool-layout/README.md
 * ("The journal").
 *
 * Segments are named by the UTC hour of their appends and the writer,
 * "YYYYMMDDTHH.HOST-PID", so a reader picks the hours of its window from
 * the names alone and compaction unlinks whole files, never rewriting one.
 * A process keeps its current segment open (sp->jfd, for hour sp->jhour);
 * the writer's pid is in the name, so a process that forks must not have
 * appended before (`worker start` forks its workers before any append).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>

#include "journal.h"
#include "util.h"

#define SEGMENT_MAX_BYTES (1u << 30)

static const char *const event_names[JE_NEVENTS] = {
	"done", "failed", "dead", "start", "stop"
};

const char *
journal_event_name(int event)
{
	return event >= 0 && event < JE_NEVENTS ? event_names[event] : NULL;
}

int
journal_event_of_state(int state)
{
	return state == ST_DONE ? JE_DONE : state == ST_FAILED ? JE_FAILED :
	    state == ST_DEAD ? JE_DEAD : -1;
}

/* A text field: "-" when empty; no space or newline in it. */
static const char *
field(const char *s)
{
	return *s == '\0' ? "-" : strpbrk(s, " \n") != NULL ? NULL : s;
}

int
journal_format(const struct journal_rec *r, char *buf, size_t n)
{
	char dur[24] = "-", att[24] = "-";
	const char *ev = journal_event_name(r->event), *w = field(r->worker),
	    *id = field(r->id);
	int len;

	if (ev == NULL || w == NULL || id == NULL || r->time < 0) {
		errno = EINVAL;
		return -1;
	}
	if (r->duration_ms >= 0)
		snprintf(dur, sizeof dur, "%lld", (long long)r->duration_ms);
	if (r->attempt >= 0)
		snprintf(att, sizeof att, "%ld", r->attempt);
	len = snprintf(buf, n, "%lld %s %s %s %s %s\n", (long long)r->time, ev,
	    dur, att, w, id);
	if (len < 0 || (size_t)len >= n) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return len;
}

/* The next space-separated token of [*p, end): its start and length. */
static int
token(const char **p, const char *end, const char **tok, size_t *len)
{
	const char *s = *p, *e;

	if (s >= end)
		return -1;
	e = memchr(s, ' ', (size_t)(end - s));
	if (e == NULL)
		e = end;
	if (e == s)
		return -1;
	*tok = s;
	*len = (size_t)(e - s);
	*p = e < end ? e + 1 : end;
	return 0;
}

/* A decimal number, or -1 for "-" when dash is allowed; -2 if neither. */
static int64_t
number(const char *s, size_t len, int dash)
{
	int64_t v = 0;

	if (dash && len == 1 && *s == '-')
		return -1;
	if (len == 0 || len > 18)
		return -2;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -2;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/* Copy a text field ("-" means empty) into dst of n bytes. */
static int
text(const char *s, size_t len, char *dst, size_t n)
{
	if (len == 1 && *s == '-')
		len = 0;
	if (len >= n)
		return -1;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return 0;
}

int
journal_parse(const char *line, size_t len, struct journal_rec *r)
{
	const char *p = line, *end = line + len, *t[6];
	size_t l[6];
	int64_t v;

	for (int i = 0; i < 6; i++)
		if (token(&p, end, &t[i], &l[i]) == -1)
			goto bad;
	if ((r->time = number(t[0], l[0], 0)) < 0)
		goto bad;
	for (r->event = 0; r->event < JE_NEVENTS; r->event++)
		if (strlen(event_names[r->event]) == l[1] &&
		    memcmp(event_names[r->event], t[1], l[1]) == 0)
			break;
	if (r->event == JE_NEVENTS || (r->duration_ms = number(t[2], l[2],
	    1)) == -2 || (v = number(t[3], l[3], 1)) == -2 ||
	    text(t[4], l[4], r->worker, sizeof r->worker) == -1 ||
	    text(t[5], l[5], r->id, sizeof r->id) == -1)
		goto bad;
	r->attempt = (long)v;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

/* The journal directory's fd, opened (and made, if create) once. */
static int
journal_dir(struct spool *sp, int create)
{
	if (sp->journal != -1)
		return sp->journal;
	if (create && mkdirat(sp->root, "journal", 0700) == -1 &&
	    errno != EEXIST)
		return -1;
	sp->journal = openat(sp->root, "journal", O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC);
	return sp->journal;
}

/* The name of this process's segment for hour (hours since the epoch). */
static int
segment_name(int64_t hour, char *buf, size_t n)
{
	time_t t = (time_t)(hour * 3600);
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL)
		return -1;
	return fmt_checked(buf, n, "%04d%02d%02dT%02d.%s-%ld", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, host_name(), (long)getpid());
}

/* The hour a segment's name gives, or -1 if the name is not a segment's. */
static int64_t
segment_hour(const char *name)
{
	struct tm tm;
	int64_t d, h;

	if (strlen(name) < 13 || name[8] != 'T' || name[11] != '.' ||
	    (d = number(name, 8, 0)) < 0 || (h = number(name + 9, 2, 0)) < 0 ||
	    h > 23)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = (int)(d / 10000) - 1900;
	tm.tm_mon = (int)(d / 100 % 100) - 1;
	tm.tm_mday = (int)(d % 100);
	tm.tm_hour = (int)h;
	return (int64_t)timegm(&tm) / 3600;
}

/*
 * Open this process's segment for hour. *torn is set when the file does
 * not end with a newline (a writer that had our pid died mid-line).
 */
static int
segment_open(struct spool *sp, int64_t hour, int *torn)
{
	char name[64 + WORKER_ID_MAX], last;
	struct stat st;
	int dir = journal_dir(sp, 1), fd;

	*torn = 0;
	if (dir == -1 || segment_name(hour, name, sizeof name) == -1)
		return -1;
	/* read-write: the same fd reads the last byte (O_APPEND writes) */
	fd = openat(dir, name, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == 0 && st.st_size > 0 &&
	    pread(fd, &last, 1, st.st_size - 1) == 1)
		*torn = last != '\n';
	if (sp->jfd != -1)
		close(sp->jfd);
	sp->jfd = fd;
	sp->jhour = hour;
	return 0;
}

int
journal_append(struct spool *sp, const struct journal_rec *r)
{
	char line[JOURNAL_LINE_MAX + 2];
	int64_t hour = r->time / JOURNAL_HOUR_MS;
	int len, torn = 0, saved;

	if ((len = journal_format(r, line + 1, sizeof line - 1)) == -1)
		return -1;
	if ((sp->jfd == -1 || hour != sp->jhour) &&
	    segment_open(sp, hour, &torn) == -1)
		return -1;
	line[0] = '\n';
	if (write_all(sp->jfd, line + !torn, (size_t)len + (size_t)torn) == 0)
		return 0;
	/* Part of the line may be written: the next append opens the
	 * segment again, which finds the torn line and starts a new one. */
	saved = errno;
	close(sp->jfd);
	sp->jfd = -1;
	errno = saved;
	return -1;
}

int
journal_outcome(struct spool *sp, const struct job *job, int state)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(job->obj,
	    "duration_ms");
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(job->obj, "worker");
	struct journal_rec r;

	memset(&r, 0, sizeof r);
	r.time = now_ms();
	r.event = journal_event_of_state(state);
	r.duration_ms = cJSON_IsNumber(d) && d->valuedouble >= 0 ?
	    (int64_t)d->valuedouble : -1;
	r.attempt = job->attempts;
	if (cJSON_IsString(w) && strcpy_checked(r.worker, w->valuestring,
	    sizeof r.worker) == -1)
		r.worker[0] = '\0';
	strlcpy(r.id, job->id, sizeof r.id);
	return journal_append(sp, &r);
}

int
journal_worker(struct spool *sp, int event, const char *worker)
{
	struct journal_rec r;

	memset(&r, 0, sizeof r);
	r.time = now_ms();
	r.event = event;
	r.duration_ms = -1;
	r.attempt = -1;
	if (strcpy_checked(r.worker, worker, sizeof r.worker) == -1)
		return -1;
	return journal_append(sp, &r);
}

/* Call fn for each whole line of buf[0..len) with time >= since. */
static int
read_lines(const char *buf, size_t len, int64_t since,
    int (*fn)(const struct journal_rec *, void *), void *arg)
{
	const char *p = buf, *end = buf + len, *nl;
	struct journal_rec r;
	int ret;

	for (; p < end && (nl = memchr(p, '\n', (size_t)(end - p))) != NULL;
	    p = nl + 1) {
		if (journal_parse(p, (size_t)(nl - p), &r) == -1 ||
		    r.time < since)
			continue;
		if ((ret = fn(&r, arg)) != 0)
			return ret;
	}
	return 0;
}

struct read_arg {
	int64_t since;
	int (*fn)(const struct journal_rec *, void *);
	void *arg;
};

static int
read_segment(int dirfd, const char *name, void *arg)
{
	struct read_arg *ra = arg;
	int64_t hour = segment_hour(name);
	size_t len;
	char *buf;
	int r;

	if (hour == -1 || (hour + 1) * JOURNAL_HOUR_MS <= ra->since)
		return 0;
	if ((buf = file_read_at(dirfd, name, SEGMENT_MAX_BYTES, &len)) == NULL)
		/* removed meanwhile, or not a regular file: skipped; any other
		 * failure would make the counts silently wrong */
		return errno == ENOENT || errno == EINVAL || errno == ELOOP ?
		    0 : -1;
	r = read_lines(buf, len, ra->since, ra->fn, ra->arg);
	free(buf);
	return r;
}

int
journal_read(struct spool *sp, int64_t since,
    int (*fn)(const struct journal_rec *r, void *arg), void *arg)
{
	struct read_arg ra = { since, fn, arg };
	int dir = journal_dir(sp, 0);

	if (dir == -1)
		return errno == ENOENT ? 0 : -1;
	return spool_each(dir, NULL, read_segment, &ra);
}

struct compact_arg {
	int64_t before;       /* segments whose hour ended at or before this */
	int n;
};

static int
compact_one(int dirfd, const char *name, void *arg)
{
	struct compact_arg *ca = arg;
	int64_t hour = segment_hour(name);

	if (hour != -1 && (hour + 1) * JOURNAL_HOUR_MS <= ca->before &&
	    unlinkat(dirfd, name, 0) == 0)
		ca->n++;
	return 0;
}

int
journal_compact(struct spool *sp, int64_t now, int64_t keep_ms)
{
	struct compact_arg ca = { now - keep_ms, 0 };
	int dir = journal_dir(sp, 0);

	if (dir == -1)
		return errno == ENOENT ? 0 : -1;
	if (spool_each(dir, NULL, compact_one, &ca) == -1)
		return -1;
	return ca.n;
}

void
journal_close(struct spool *sp)
{
	if (sp->jfd != -1)
		close(sp->jfd);
	if (sp->journal != -1)
		close(sp->journal);
	sp->jfd = sp->journal = -1;
}
