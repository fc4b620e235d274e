/*
 * test_journal.c - the journal's line format (journal_format, journal_parse)
 * and the metrics computed from records (metrics_add, metrics_add_lease,
 * metrics_finish, metrics_percentile, utilisation) against src/journal.h
 * and src/metrics.h, without a spool; and appending to a segment of a
 * spool in /tmp after a write that was cut short (journal_append).
 */
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"
#include "metrics.h"
#include "tap.h"

#define NOW INT64_C(1796031864000)

static struct journal_rec
rec(int64_t t, int ev, int64_t dur, long att, const char *w, const char *id)
{
	struct journal_rec r;

	memset(&r, 0, sizeof r);
	r.time = t;
	r.event = ev;
	r.duration_ms = dur;
	r.attempt = att;
	snprintf(r.worker, sizeof r.worker, "%s", w);
	snprintf(r.id, sizeof r.id, "%s", id);
	return r;
}

static void round_trip(struct journal_rec r, const char *want)
{
	char buf[JOURNAL_LINE_MAX + 1];
	struct journal_rec back;
	int n = journal_format(&r, buf, sizeof buf);

	is_str(n > 0 ? buf : "(failed)", want, "journal_format: %.*s",
	    (int)strcspn(want, "\n"), want);
	ok(n > 0 && journal_parse(buf, (size_t)n - 1, &back) == 0 &&
	    back.time == r.time && back.event == r.event &&
	    back.duration_ms == r.duration_ms && back.attempt == r.attempt &&
	    strcmp(back.worker, r.worker) == 0 && strcmp(back.id, r.id) == 0,
	    "... parses back to the same record");
}

static void bad_line(const char *line)
{
	struct journal_rec r;

	errno = 0;
	ok(journal_parse(line, strlen(line), &r) == -1 && errno == EINVAL,
	    "journal_parse refuses \"%s\"", line);
}

static void test_format(void)
{
	char buf[JOURNAL_LINE_MAX + 1], small[16];
	struct journal_rec r, bad;

	round_trip(rec(NOW, JE_DONE, 1520, 1, "host1-4242", "job-1"),
	    "1796031864000 done 1520 1 host1-4242 job-1\n");
	round_trip(rec(NOW, JE_FAILED, 0, 3, "h-1", "x.y_z"),
	    "1796031864000 failed 0 3 h-1 x.y_z\n");
	round_trip(rec(NOW, JE_DEAD, -1, 0, "", "cancelled-one"),
	    "1796031864000 dead - 0 - cancelled-one\n");
	round_trip(rec(5, JE_START, -1, -1, "h-2", ""), "5 start - - h-2 -\n");
	round_trip(rec(6, JE_STOP, -1, -1, "h-2", ""), "6 stop - - h-2 -\n");
	bad = rec(NOW, JE_DONE, 1, 1, "a b", "id");
	ok(journal_format(&bad, buf, sizeof buf) == -1 && errno == EINVAL,
	    "a field with a space is refused");
	bad = rec(NOW, JE_NEVENTS, 1, 1, "w", "id");
	ok(journal_format(&bad, buf, sizeof buf) == -1, "an unknown event is refused");
	r = rec(NOW, JE_DONE, 1, 1, "w", "id");
	ok(journal_format(&r, small, sizeof small) == -1 &&
	    errno == ENAMETOOLONG, "a buffer too small: ENAMETOOLONG");
	ok(journal_parse("7 done 1 1 w id more fields", 27, &r) == 0 &&
	    strcmp(r.id, "id") == 0, "fields after the sixth are ignored");
	bad_line("");
	bad_line("7 done 1 1 w");
	bad_line("x done 1 1 w id");
	bad_line("-7 done 1 1 w id");
	bad_line("7 finished 1 1 w id");
	bad_line("7 done 1x 1 w id");
	bad_line("7 done 1 one w id");
	bad_line("7  done 1 1 w id");
	bad_line("7 done 1 1 w id-that-is-way-too-long-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
	is_int(journal_event_of_state(ST_DONE), JE_DONE, "done/ is the done event");
	is_int(journal_event_of_state(ST_DEAD), JE_DEAD, "dead/ is the dead event");
	is_int(journal_event_of_state(ST_PENDING), -1, "pending/ is no outcome");
}

static void test_percentile(void)
{
	static const int64_t v[] = { 10, 20, 30, 40, 50, 60, 70, 80, 90, 100 };
	static const int64_t one[] = { 7 };

	is_int(metrics_percentile(v, 10, 50), 50, "p50 of 10..100 is 50");
	is_int(metrics_percentile(v, 10, 90), 90, "p90 is 90");
	is_int(metrics_percentile(v, 10, 99), 100, "p99 is 100 (rank ceil(9.9))");
	is_int(metrics_percentile(v, 10, 100), 100, "p100 is the max");
	is_int(metrics_percentile(v, 10, 51), 60, "p51 is 60 (rank 6)");
	is_int(metrics_percentile(v, 10, 1), 10, "p1 is the min");
	is_int(metrics_percentile(one, 1, 50), 7, "one value is every percentile");
	is_int(metrics_percentile(v, 0, 50), -1, "none: -1");
}

static void add(struct metrics *m, struct journal_rec r)
{
	metrics_add(m, &r);
}

static void test_metrics(void)
{
	struct lease_info li;
	struct metrics m;

	metrics_init(&m, NOW);
	/* w1 started 2 hours ago, still alive (lease), ran 3 jobs */
	add(&m, rec(NOW - 30000, JE_DONE, 10000, 1, "w1", "a"));
	add(&m, rec(NOW - 20000, JE_FAILED, 5000, 1, "w1", "b"));
	add(&m, rec(NOW - 600000, JE_DONE, 300, 1, "w1", "c"));
	/* w2 started 10 minutes ago and stopped 5 minutes ago */
	add(&m, rec(NOW - 600000, JE_START, -1, -1, "w2", ""));
	add(&m, rec(NOW - 400000, JE_DEAD, 100000, 2, "w2", "d"));
	add(&m, rec(NOW - 300000, JE_STOP, -1, -1, "w2", ""));
	/* a cancelled pending job: no worker, no duration */
	add(&m, rec(NOW - 1000, JE_DEAD, -1, 0, "", "e"));
	memset(&li, 0, sizeof li);
	strcpy(li.id, "w1");
	li.alive = 1;
	li.started_at = NOW - 7200000;
	strcpy(li.job, "f");
	li.job_started_at = NOW - 6000;
	metrics_add_lease(&m, &li);
	metrics_finish(&m);

	is_int(m.outcomes[0][0], 1, "1m: one done");
	is_int(m.outcomes[0][1], 1, "1m: one failed");
	is_int(m.outcomes[0][2], 1, "1m: one dead (the cancelled job)");
	is_int(m.outcomes[1][0], 2, "1h: two done");
	is_int(m.outcomes[1][2], 2, "1h: two dead");
	is_int((long long)m.ndur, 2, "two durations (done only)");
	is_int(m.durations[0], 300, "durations sorted");
	is_int(m.nworkers, 2, "two workers");
	is_int(m.workers[0].wall[0], 60000, "w1 (alive since 2 h): wall 1m = 60 s");
	is_int(m.workers[0].wall[1], 3600000, "w1: wall 1h = 3600 s");
	is_int(m.workers[0].busy[0], 10000 + 5000 + 6000,
	    "w1 busy in 1m: two attempts and the running one");
	is_int(m.workers[0].busy[1], 10000 + 5000 + 300 + 6000,
	    "w1 busy in 1h");
	is_int(m.workers[1].wall[0], 0, "w2 (stopped 5 min ago): no wall in 1m");
	is_int(m.workers[1].wall[1], 300000, "w2: wall 1h from start to stop");
	is_int(m.workers[1].busy[1], 100000, "w2: busy 100 s");
	ok(metrics_worker_utilisation(&m.workers[1], 0) < 0,
	    "w2: no utilisation in 1m");
	is_dbl(metrics_worker_utilisation(&m.workers[1], 1), 1.0 / 3,
	    "w2: utilisation 1h = 100 / 300");
	is_dbl(metrics_utilisation(&m, 0), 21000.0 / 60000,
	    "overall 1m: busy / wall");
	is_dbl(metrics_utilisation(&m, 1), (21300.0 + 100000) / (3600000 + 300000),
	    "overall 1h");
	metrics_free(&m);

	metrics_init(&m, NOW);
	metrics_finish(&m);
	ok(metrics_utilisation(&m, 1) < 0, "no workers: no utilisation");
	metrics_free(&m);
}

static int
collect_ids(const struct journal_rec *r, void *arg)
{
	char *ids = arg;

	strcat(ids, r->id);
	strcat(ids, " ");
	return 0;
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* A line cut short by a failed write (a full disk; here RLIMIT_FSIZE) is
 * not glued to the next line of the same process: the next append starts
 * on a new line, so that it is read back, and the torn one is not. */
static void test_short_write(void)
{
	char dir[] = "/tmp/queuectl-unit-XXXXXX", err[256], ids[256] = "";
	struct journal_rec a = rec(NOW, JE_DONE, 1520, 1, "host1-4242", "first");
	struct journal_rec b = rec(NOW + 1, JE_DONE, 7, 1, "host1-4242", "torn");
	struct journal_rec c = rec(NOW + 2, JE_DONE, 9, 1, "host1-4242", "third");
	struct rlimit old, lim;
	struct spool sp;
	struct stat st;

	if (!ok(mkdtemp(dir) != NULL && spool_open(&sp, dir, err,
	    sizeof err) == 0, "a spool in /tmp"))
		return;
	ok(journal_append(&sp, &a) == 0 && fstat(sp.jfd, &st) == 0,
	    "a line appended");
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = (rlim_t)st.st_size + 26;  /* "... done 7 1 hos" */
	setrlimit(RLIMIT_FSIZE, &lim);
	ok(journal_append(&sp, &b) == -1, "a write cut short fails");
	setrlimit(RLIMIT_FSIZE, &old);
	ok(journal_append(&sp, &c) == 0, "the next append succeeds");
	journal_read(&sp, 0, collect_ids, ids);
	is_str(ids, "first third ", "both whole lines read back, the torn one not");
	spool_close(&sp);
	nftw(dir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

int main(void)
{
	test_format();
	test_percentile();
	test_metrics();
	test_short_write();
	return done_testing();
}
