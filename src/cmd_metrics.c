/*
 * cmd_metrics.c - queuectl metrics [--json | --prometheus [FILE]].
 *
 * The numbers come from metrics_collect (metrics.h). --prometheus writes
 * the text exposition format (version 0.0.4) to stdout, or to FILE
 * atomically: a temporary file in FILE's directory, flushed, then renamed
 * over FILE, so that a node_exporter textfile collector never reads half.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "metrics.h"
#include "util.h"

static const char *const outcome_names[3] = { "done", "failed", "dead" };

/* Outcomes of window w: 0 done, 1 failed, 2 dead, 3 all, 4 finished. */
static long
outcomes(const struct metrics *m, int w, int which)
{
	const long *o = m->outcomes[w];

	return which < 3 ? o[which] : which == 3 ? o[0] + o[1] + o[2] :
	    o[0] + o[2];
}

/* failed (which 1) or dead (2) over all outcomes of window w; -1: none. */
static double
rate(const struct metrics *m, int w, int which)
{
	long all = outcomes(m, w, 3);

	return all > 0 ? (double)outcomes(m, w, which) / (double)all : -1;
}

static int64_t
pct(const struct metrics *m, double p)
{
	return metrics_percentile(m->durations, m->ndur, p);
}

static void
add_num_or_null(cJSON *o, const char *key, double v)
{
	if (v < 0)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddNumberToObject(o, key, v);
}

static cJSON *
windows_json(const struct metrics *m)
{
	cJSON *ws = cJSON_CreateObject(), *o;

	for (int w = 0; w < METRICS_NWIN; w++) {
		o = cJSON_AddObjectToObject(ws, metrics_window_name[w]);
		cJSON_AddNumberToObject(o, "seconds",
		    (double)metrics_window_ms[w] / 1000);
		for (int i = 0; i < 3; i++)
			cJSON_AddNumberToObject(o, outcome_names[i],
			    (double)outcomes(m, w, i));
		cJSON_AddNumberToObject(o, "finished", (double)outcomes(m, w, 4));
		cJSON_AddNumberToObject(o, "throughput_per_s",
		    (double)outcomes(m, w, 4) * 1000 / (double)metrics_window_ms[w]);
		add_num_or_null(o, "retry_rate", rate(m, w, 1));
		add_num_or_null(o, "dead_rate", rate(m, w, 2));
		add_num_or_null(o, "utilisation", metrics_utilisation(m, w));
	}
	return ws;
}

static cJSON *
workers_json(const struct metrics *m)
{
	cJSON *arr = cJSON_CreateArray(), *o, *u, *b, *t;

	for (size_t i = 0; i < m->nworkers; i++) {
		const struct metrics_worker *mw = &m->workers[i];

		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", mw->id);
		cJSON_AddBoolToObject(o, "alive", mw->alive);
		u = cJSON_AddObjectToObject(o, "utilisation");
		b = cJSON_AddObjectToObject(o, "busy_ms");
		t = cJSON_AddObjectToObject(o, "wall_ms");
		for (int w = 0; w < METRICS_NWIN; w++) {
			add_num_or_null(u, metrics_window_name[w],
			    metrics_worker_utilisation(mw, w));
			cJSON_AddNumberToObject(b, metrics_window_name[w],
			    (double)mw->busy[w]);
			cJSON_AddNumberToObject(t, metrics_window_name[w],
			    (double)mw->wall[w]);
		}
		cJSON_AddItemToArray(arr, o);
	}
	return arr;
}

static cJSON *
metrics_json(const struct spool *sp, const struct metrics *m)
{
	cJSON *doc = cJSON_CreateObject(), *jobs, *d;
	char when[TIME_BUFSZ];

	cJSON_AddStringToObject(doc, "spool", sp->path);
	cJSON_AddStringToObject(doc, "time", time_format(m->now, when));
	jobs = cJSON_AddObjectToObject(doc, "jobs");
	for (int s = 0; s < ST_NSTATES; s++)
		cJSON_AddNumberToObject(jobs, state_name(s), (double)m->jobs[s]);
	cJSON_AddItemToObject(doc, "windows", windows_json(m));
	d = cJSON_AddObjectToObject(doc, "duration_ms");
	cJSON_AddStringToObject(d, "window",
	    metrics_window_name[METRICS_DURATION_WINDOW]);
	cJSON_AddNumberToObject(d, "count", (double)m->ndur);
	add_num_or_null(d, "p50", (double)pct(m, 50));
	add_num_or_null(d, "p90", (double)pct(m, 90));
	add_num_or_null(d, "p99", (double)pct(m, 99));
	add_num_or_null(d, "max", (double)pct(m, 100));
	cJSON_AddItemToObject(doc, "workers", workers_json(m));
	return doc;
}

/* "12.5%" or "-" into buf. */
static const char *
percent(double v, char *buf, size_t n)
{
	if (v < 0)
		return "-";
	snprintf(buf, n, "%.1f%%", v * 100);
	return buf;
}

static void
metrics_text(const struct spool *sp, const struct metrics *m)
{
	static const char *const rows[] = { "done", "failed", "dead" };
	char a[16], b[16];

	printf("spool: %s\njobs: ", sp->path);
	for (int s = 0; s < ST_NSTATES; s++)
		printf("%s%s %ld", s ? ", " : "", state_name(s), m->jobs[s]);
	printf("\n%-22s %12s %12s\n", "", "last minute", "last hour");
	printf("%-22s %12ld %12ld\n", "finished (done+dead)", outcomes(m, 0, 4),
	    outcomes(m, 1, 4));
	for (int i = 0; i < 3; i++)
		printf("  %-20s %12ld %12ld\n", rows[i], outcomes(m, 0, i),
		    outcomes(m, 1, i));
	printf("%-22s %12.2f %12.2f\n", "finished per minute",
	    (double)outcomes(m, 0, 4), (double)outcomes(m, 1, 4) / 60);
	printf("%-22s %12s %12s\n", "retry rate", percent(rate(m, 0, 1), a,
	    sizeof a), percent(rate(m, 1, 1), b, sizeof b));
	printf("%-22s %12s %12s\n", "dead rate", percent(rate(m, 0, 2), a,
	    sizeof a), percent(rate(m, 1, 2), b, sizeof b));
	printf("%-22s %12s %12s\n", "worker utilisation",
	    percent(metrics_utilisation(m, 0), a, sizeof a),
	    percent(metrics_utilisation(m, 1), b, sizeof b));
	if (m->ndur == 0)
		printf("duration of done jobs, last hour: -\n");
	else
		printf("duration of done jobs, last hour (%zu): p50 %lld ms, p90 "
		    "%lld ms, p99 %lld ms, max %lld ms\n", m->ndur,
		    (long long)pct(m, 50), (long long)pct(m, 90),
		    (long long)pct(m, 99), (long long)pct(m, 100));
	for (size_t i = 0; i < m->nworkers; i++)
		printf("worker %s%s: utilisation %s (last minute), %s (last "
		    "hour)\n", m->workers[i].id, m->workers[i].alive ? "" :
		    " (gone)", percent(metrics_worker_utilisation(&m->workers[i],
		    0), a, sizeof a), percent(metrics_worker_utilisation(
		    &m->workers[i], 1), b, sizeof b));
}

static void
prom_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP queuectl_%s %s\n# TYPE queuectl_%s %s\n", name, help,
	    name, type);
}

/* A sample value: NaN for "no data" (v < 0). */
static void
prom_value(FILE *f, double v)
{
	if (v < 0)
		fprintf(f, " NaN\n");
	else
		fprintf(f, " %.9g\n", v);
}

/* A gauge with one sample per window: v[w] (< 0: NaN). */
static void
prom_per_window(FILE *f, const char *name, const char *help,
    const double v[METRICS_NWIN])
{
	prom_head(f, name, "gauge", help);
	for (int w = 0; w < METRICS_NWIN; w++) {
		fprintf(f, "queuectl_%s{window=\"%s\"}", name,
		    metrics_window_name[w]);
		prom_value(f, v[w]);
	}
}

static void
prom_windows(FILE *f, const struct metrics *m)
{
	double tput[METRICS_NWIN], retry[METRICS_NWIN], dead[METRICS_NWIN];

	prom_head(f, "outcomes", "gauge", "Attempt outcomes recorded in the "
	    "window (journal), by the state they put the job in.");
	for (int w = 0; w < METRICS_NWIN; w++) {
		for (int i = 0; i < 3; i++)
			fprintf(f, "queuectl_outcomes{window=\"%s\",outcome=\"%s\"} "
			    "%ld\n", metrics_window_name[w], outcome_names[i],
			    outcomes(m, w, i));
		tput[w] = (double)outcomes(m, w, 4) * 1000 /
		    (double)metrics_window_ms[w];
		retry[w] = rate(m, w, 1);
		dead[w] = rate(m, w, 2);
	}
	prom_per_window(f, "throughput_per_second", "Jobs finished (done or "
	    "dead) per second over the window.", tput);
	prom_per_window(f, "retry_ratio", "Share of the window's outcomes that "
	    "were failed attempts to be retried.", retry);
	prom_per_window(f, "dead_ratio", "Share of the window's outcomes that "
	    "put the job in dead/.", dead);
}

static void
prom_workers(FILE *f, const struct metrics *m)
{
	double util[METRICS_NWIN];
	long alive = 0;

	for (size_t i = 0; i < m->nworkers; i++)
		alive += m->workers[i].alive;
	prom_head(f, "workers", "gauge", "Live workers (leases whose lock is "
	    "held).");
	fprintf(f, "queuectl_workers %ld\n", alive);
	for (int w = 0; w < METRICS_NWIN; w++)
		util[w] = metrics_utilisation(m, w);
	prom_per_window(f, "utilisation_ratio", "Busy time over wall time of "
	    "all workers in the window.", util);
	prom_head(f, "worker_utilisation_ratio", "gauge", "Busy time over wall "
	    "time of one worker in the window.");
	for (size_t i = 0; i < m->nworkers; i++)
		for (int w = 0; w < METRICS_NWIN; w++) {
			double u = metrics_worker_utilisation(&m->workers[i], w);

			if (u < 0)
				continue;
			fprintf(f, "queuectl_worker_utilisation_ratio{worker=\"%s\","
			    "window=\"%s\"}", m->workers[i].id,
			    metrics_window_name[w]);
			prom_value(f, u);
		}
}

static void
prom_durations(FILE *f, const struct metrics *m)
{
	static const double qs[] = { 50, 90, 99 };

	/* gauges, not a summary: the window slides, so a _sum and _count
	 * would go down, which rate() takes for a counter reset */
	prom_head(f, "job_duration_seconds", "gauge", "Duration percentile "
	    "of the attempts that ended done in the last hour (nearest rank).");
	for (size_t i = 0; i < sizeof qs / sizeof *qs; i++) {
		int64_t v = pct(m, qs[i]);

		fprintf(f, "queuectl_job_duration_seconds{quantile=\"%g\"}",
		    qs[i] / 100);
		prom_value(f, v < 0 ? -1 : (double)v / 1000);
	}
	prom_head(f, "job_duration_max_seconds", "gauge", "Longest attempt "
	    "that ended done in the last hour.");
	fprintf(f, "queuectl_job_duration_max_seconds");
	prom_value(f, m->ndur ? (double)pct(m, 100) / 1000 : -1);
}

/* The whole exposition into a malloc'ed string; NULL (ENOMEM). */
static char *
prometheus_text(const struct metrics *m, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	if (f == NULL)
		return NULL;
	prom_head(f, "jobs", "gauge", "Jobs in each state directory.");
	for (int s = 0; s < ST_NSTATES; s++)
		fprintf(f, "queuectl_jobs{state=\"%s\"} %ld\n", state_name(s),
		    m->jobs[s]);
	prom_windows(f, m);
	prom_durations(f, m);
	prom_workers(f, m);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

/* Replace path with buf: a temporary file beside it, then rename(2). */
static int
write_atomic(const char *path, const char *buf, size_t len)
{
	char d[PATH_MAX], b[PATH_MAX], tmp[PATH_MAX];
	mode_t mask = umask(0);
	int fd, saved;

	umask(mask);
	if (strcpy_checked(d, path, sizeof d) == -1 ||
	    strcpy_checked(b, path, sizeof b) == -1 ||
	    fmt_checked(tmp, sizeof tmp, "%s/.%s.XXXXXX", dirname(d),
	    basename(b)) == -1)
		return -1;
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1)
		return -1;
	if (fchmod(fd, 0666 & ~mask) == -1 || write_all(fd, buf, len) == -1 ||
	    fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	if (rename(tmp, path) == 0)
		return 0;
	fd = -1;
fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = saved;
	return -1;
}

/* --prometheus: to stdout, or to file atomically. */
static int
prometheus(const struct metrics *m, const char *file)
{
	size_t len = 0;
	char *text = prometheus_text(m, &len);

	if (text == NULL)
		err(EX_OSERR_, "out of memory");
	if (file == NULL)
		fwrite(text, 1, len, stdout);
	else if (write_atomic(file, text, len) == -1) {
		warn("%s", file);
		free(text);
		return EX_CANTCREAT_;
	}
	free(text);
	return 0;
}

int
cmd_metrics(int argc, char **argv)
{
	const struct cmd *c = cli_find("metrics");
	const char *file = NULL;
	int mode = 0, r;          /* 0 text, 1 json, 2 prometheus */
	struct metrics m;
	struct spool sp;

	if ((r = cli_help(c, argc, argv)) != -1)
		return r;
	if (argc == 2 && strcmp(argv[1], "--json") == 0)
		mode = 1;
	else if (argc >= 2 && argc <= 3 && strcmp(argv[1], "--prometheus") == 0)
		mode = 2, file = argc == 3 ? argv[2] : NULL;
	else if (argc == 2 && strncmp(argv[1], "--prometheus=", 13) == 0)
		mode = 2, file = argv[1] + 13;
	else if (argc != 1)
		return cli_usage_error(c);
	if (file != NULL && *file == '\0')
		errx(EX_USAGE_, "--prometheus: empty file name");
	cli_open(&sp);
	if (metrics_collect(&sp, now_ms(), &m) == -1)
		err(cli_exit_for(errno), "%s", sp.path);
	r = 0;
	if (mode == 1)
		cli_print_json(metrics_json(&sp, &m));
	else if (mode == 2)
		r = prometheus(&m, file);
	else
		metrics_text(&sp, &m);
	metrics_free(&m);
	spool_close(&sp);
	return r;
}
