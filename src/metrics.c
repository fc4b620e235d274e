/*
 * metrics.c - computing `queuectl metrics`. See metrics.h.
 *
 * An attempt's busy time is [time - duration, time] of its journal line,
 * credited to the worker that ran it; a live worker's running attempt adds
 * [job_started_at, now]. A worker's wall time runs from its start (its start
 * event or lease record; the window's start if neither is known) to now
 * while its lease is alive, else to its stop event, else to its latest
 * event. Each is clipped to the window.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "metrics.h"

const int64_t metrics_window_ms[METRICS_NWIN] = { 60 * 1000, 3600 * 1000 };
const char *const metrics_window_name[METRICS_NWIN] = { "1m", "1h" };

void
metrics_init(struct metrics *m, int64_t now)
{
	memset(m, 0, sizeof *m);
	m->now = now;
}

/* Length of [a, b] within [c, d]. */
static int64_t
overlap(int64_t a, int64_t b, int64_t c, int64_t d)
{
	int64_t lo = a > c ? a : c, hi = b < d ? b : d;

	return hi > lo ? hi - lo : 0;
}

/* The worker named id, added if new; NULL (ENOMEM). */
static struct metrics_worker *
worker_of(struct metrics *m, const char *id)
{
	struct metrics_worker *w;

	for (size_t i = 0; i < m->nworkers; i++)
		if (strcmp(m->workers[i].id, id) == 0)
			return &m->workers[i];
	if (m->nworkers == m->capworkers) {
		size_t cap = m->capworkers ? 2 * m->capworkers : 8;

		if ((w = reallocarray(m->workers, cap, sizeof *w)) == NULL)
			return NULL;
		m->workers = w;
		m->capworkers = cap;
	}
	w = &m->workers[m->nworkers++];
	memset(w, 0, sizeof *w);
	strlcpy(w->id, id, sizeof w->id);
	return w;
}

/* Credit [from, to] to w's busy time in each window. */
static void
add_busy(struct metrics *m, struct metrics_worker *w, int64_t from, int64_t to)
{
	for (int i = 0; i < METRICS_NWIN; i++)
		w->busy[i] += overlap(from, to, m->now - metrics_window_ms[i],
		    m->now);
}

static int
add_duration(struct metrics *m, int64_t d)
{
	if (m->ndur == m->capdur) {
		size_t cap = m->capdur ? 2 * m->capdur : 1024;
		int64_t *v = reallocarray(m->durations, cap, sizeof *v);

		if (v == NULL)
			return -1;
		m->durations = v;
		m->capdur = cap;
	}
	m->durations[m->ndur++] = d;
	return 0;
}

int
metrics_add(struct metrics *m, const struct journal_rec *r)
{
	struct metrics_worker *w = NULL;

	if (r->worker[0] != '\0' && (w = worker_of(m, r->worker)) == NULL)
		return -1;
	if (w != NULL && r->time > w->last)
		w->last = r->time;
	if (r->event == JE_START && w != NULL) {
		if (r->time > w->start)
			w->start = r->time;
		if (w->stop != 0 && w->stop < r->time)
			w->stop = 0;        /* the pid was reused */
		return 0;
	}
	if (r->event == JE_STOP) {
		if (w != NULL)
			w->stop = r->time;
		return 0;
	}
	for (int i = 0; i < METRICS_NWIN; i++)
		if (r->time >= m->now - metrics_window_ms[i] && r->time <= m->now)
			m->outcomes[i][r->event]++;
	if (r->duration_ms < 0)
		return 0;
	if (w != NULL)
		add_busy(m, w, r->time - r->duration_ms, r->time);
	if (r->event == JE_DONE && r->time <= m->now && r->time >= m->now -
	    metrics_window_ms[METRICS_DURATION_WINDOW])
		return add_duration(m, r->duration_ms);
	return 0;
}

int
metrics_add_lease(struct metrics *m, const struct lease_info *li)
{
	struct metrics_worker *w;

	if (!li->alive)
		return 0;
	if ((w = worker_of(m, li->id)) == NULL)
		return -1;
	w->alive = 1;
	if (w->start == 0)
		w->start = li->started_at;
	if (li->job[0] != '\0' && li->job_started_at != 0)
		add_busy(m, w, li->job_started_at, m->now);
	return 0;
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

void
metrics_finish(struct metrics *m)
{
	for (size_t i = 0; i < m->nworkers; i++) {
		struct metrics_worker *w = &m->workers[i];
		int64_t end = w->alive ? m->now : w->stop ? w->stop : w->last;

		for (int k = 0; k < METRICS_NWIN; k++) {
			int64_t from = m->now - metrics_window_ms[k];

			w->wall[k] = overlap(w->start ? w->start : from, end, from,
			    m->now);
		}
	}
	if (m->ndur > 0)        /* qsort(NULL, 0, ...) is undefined */
		qsort(m->durations, m->ndur, sizeof *m->durations, cmp_i64);
}

int64_t
metrics_percentile(const int64_t *sorted, size_t n, double p)
{
	double rank = p / 100 * (double)n;
	size_t r = (size_t)rank;

	if (n == 0)
		return -1;
	if ((double)r < rank)
		r++;                   /* ceil */
	if (r < 1)
		r = 1;
	if (r > n)
		r = n;
	return sorted[r - 1];
}

double
metrics_utilisation(const struct metrics *m, int w)
{
	int64_t busy = 0, wall = 0;

	for (size_t i = 0; i < m->nworkers; i++) {
		int64_t b = m->workers[i].busy[w], t = m->workers[i].wall[w];

		busy += b < t ? b : t;
		wall += t;
	}
	return wall > 0 ? (double)busy / (double)wall : -1;
}

double
metrics_worker_utilisation(const struct metrics_worker *mw, int w)
{
	if (mw->wall[w] <= 0)
		return -1;
	return mw->busy[w] >= mw->wall[w] ? 1 :
	    (double)mw->busy[w] / (double)mw->wall[w];
}

static int
collect_one(const struct journal_rec *r, void *arg)
{
	return metrics_add(arg, r) == -1 ? -1 : 0;
}

int
metrics_collect(struct spool *sp, int64_t now, struct metrics *m)
{
	struct lease_info *li = NULL;
	int n, saved;

	metrics_init(m, now);
	for (int s = 0; s < ST_NSTATES; s++)
		if ((m->jobs[s] = spool_count(sp, s)) == -1)
			goto fail;
	if (journal_read(sp, now - metrics_window_ms[METRICS_NWIN - 1],
	    collect_one, m) == -1)
		goto fail;
	if ((n = lease_list(sp, &li)) == -1)
		goto fail;
	for (int i = 0; i < n; i++)
		if (metrics_add_lease(m, &li[i]) == -1)
			goto fail;
	free(li);
	metrics_finish(m);
	return 0;
fail:
	saved = errno;
	free(li);
	metrics_free(m);
	errno = saved;
	return -1;
}

void
metrics_free(struct metrics *m)
{
	free(m->durations);
	free(m->workers);
	m->durations = NULL;
	m->workers = NULL;
	m->ndur = m->capdur = m->nworkers = m->capworkers = 0;
}
