/*
 * metrics.h - what `queuectl metrics` reports, computed from the directory
 * entries of the state directories, the journal (journal.h) and the lease
 * records: never from the job files.
 *
 * Windows are the last 60 s and the last 3600 s before m->now. The
 * accumulation (metrics_add, metrics_add_lease, metrics_finish) and
 * metrics_percentile are pure and unit-tested; metrics_collect does the
 * I/O. Definitions: spool-layout/README.md ("Metrics from it").
 */
#ifndef QUEUECTL_METRICS_H
#define QUEUECTL_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "journal.h"
#include "lease.h"
#include "spool.h"

#define METRICS_NWIN 2
extern const int64_t metrics_window_ms[METRICS_NWIN];     /* 60 s, 3600 s */
extern const char *const metrics_window_name[METRICS_NWIN]; /* "1m", "1h" */
#define METRICS_DURATION_WINDOW 1    /* percentiles: done jobs of the last hour */

struct metrics_worker {
	char id[WORKER_ID_MAX + 1];
	int alive;                    /* its lease's lock is held */
	int64_t start;                /* its start event or lease; 0: unknown */
	int64_t stop;                 /* its stop event; 0: none */
	int64_t last;                 /* its latest event of any kind */
	int64_t busy[METRICS_NWIN];   /* ms running attempts, in each window */
	int64_t wall[METRICS_NWIN];   /* ms alive, in each window */
};

struct metrics {
	int64_t now;
	long jobs[ST_NSTATES];            /* per state, from the directories */
	long outcomes[METRICS_NWIN][3];   /* done, failed, dead per window */
	int64_t *durations;               /* of done attempts, in the duration
	                                   * window; sorted by metrics_finish */
	size_t ndur, capdur;
	struct metrics_worker *workers;
	size_t nworkers, capworkers;
};

/* An empty struct metrics for the windows ending at now. */
void metrics_init(struct metrics *m, int64_t now);

/* Count one journal record. 0, or -1 (ENOMEM). */
int metrics_add(struct metrics *m, const struct journal_rec *r);

/* Count a lease: a live worker, and its running attempt. 0 or -1. */
int metrics_add_lease(struct metrics *m, const struct lease_info *li);

/* Work out the workers' wall times and sort the durations. */
void metrics_finish(struct metrics *m);

/*
 * The nearest-rank percentile p (0 < p <= 100) of sorted[0..n-1]: the
 * value at rank ceil(p / 100 * n). -1 when n is 0.
 */
int64_t metrics_percentile(const int64_t *sorted, size_t n, double p);

/* Busy over wall time of every worker in window w, or -1 with no wall time. */
double metrics_utilisation(const struct metrics *m, int w);

/* The same for one worker (at most 1), or -1. */
double metrics_worker_utilisation(const struct metrics_worker *mw, int w);

/*
 * Everything at once: counts per state (directory entries), the journal
 * since now minus the longest window, the leases. 0, or -1 (errno set).
 */
int metrics_collect(struct spool *sp, int64_t now, struct metrics *m);

void metrics_free(struct metrics *m);

#endif
