/*
 * journal.h - the metrics journal: SPOOL/journal/<YYYYMMDDTHH>.<writer>,
 * one line per recorded outcome of an attempt and per worker start/stop.
 *
 * Format, writers, crash behaviour and bounds: spool-layout/README.md
 * ("The journal"). A line is
 *
 *     TIME EVENT DURATION ATTEMPT WORKER ID
 *
 * six fields separated by one space ("-" for a field that does not apply);
 * readers ignore fields after the sixth and lines that do not parse. The
 * format and parse functions are pure (unit-tested); the rest does I/O and
 * returns -1 with errno set on failure, never printing.
 */
#ifndef QUEUECTL_JOURNAL_H
#define QUEUECTL_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

#include "spool.h"

enum journal_event {
	JE_DONE, JE_FAILED, JE_DEAD,  /* the state an attempt's outcome chose */
	JE_START, JE_STOP,            /* a worker started, stopped */
	JE_NEVENTS
};

#define JOURNAL_HOUR_MS  (3600LL * 1000)
#define JOURNAL_KEEP_MS  (24 * JOURNAL_HOUR_MS)  /* segments kept after their hour */
#define JOURNAL_LINE_MAX (64 + WORKER_ID_MAX + ID_MAX)

struct journal_rec {
	int64_t time;             /* ms since the epoch */
	int event;                /* enum journal_event */
	int64_t duration_ms;      /* -1: none */
	long attempt;             /* -1: none */
	char worker[WORKER_ID_MAX + 1];   /* "" : none */
	char id[ID_MAX + 1];              /* "" : none */
};

/* Name of an event ("done", "start", ...), or NULL. */
const char *journal_event_name(int event);

/* The event of an outcome state (ST_DONE, ST_FAILED, ST_DEAD), or -1. */
int journal_event_of_state(int state);

/*
 * Format r as one line with its newline into buf (n bytes). Returns the
 * length, or -1 (ENAMETOOLONG, or EINVAL for a field with a space).
 */
int journal_format(const struct journal_rec *r, char *buf, size_t n);

/*
 * Parse one line (len bytes, without its newline) into r. Returns 0, or -1
 * (EINVAL) if it is not a journal line.
 */
int journal_parse(const char *line, size_t len, struct journal_rec *r);

/*
 * Append r (r->time is taken as the time of the append) to this process's
 * segment of r->time's hour, opening (and creating) it when the hour
 * changes: one write(2), no fsync.
 */
int journal_append(struct spool *sp, const struct journal_rec *r);

/*
 * Append the outcome of job's attempt, now in state (done, failed, dead):
 * its duration_ms, attempts, worker and id, at the current time.
 */
int journal_outcome(struct spool *sp, const struct job *job, int state);

/* Append a worker's start or stop (JE_START, JE_STOP) now. */
int journal_worker(struct spool *sp, int event, const char *worker);

/*
 * Call fn for every record with time >= since, reading only the segments
 * whose hour can hold one. Records of one segment come in the order they
 * were appended; segments in no particular order. A torn last line (no
 * newline) and lines that do not parse are skipped. Stops when fn returns
 * non-zero and returns that; 0 at the end; -1 if the journal cannot be
 * read (a spool without a journal/ has no records: 0).
 */
int journal_read(struct spool *sp, int64_t since,
    int (*fn)(const struct journal_rec *r, void *arg), void *arg);

/*
 * Remove the segments whose hour ended more than keep_ms before now.
 * Returns how many, or -1.
 */
int journal_compact(struct spool *sp, int64_t now, int64_t keep_ms);

/* Close the open segment, and the journal directory (spool_close does). */
void journal_close(struct spool *sp);

#endif
