/*
 * job.h - the job file: parsing, validation, ids, backoff.
 *
 * A job is a JSON object (spool-layout/job.schema.json). struct job keeps
 * the parsed cJSON object, so fields that queuectl does not know survive
 * every rewrite, and a typed copy of the fields the engine uses. Everything
 * here is pure (no spool I/O) and unit-tested.
 */
#ifndef QUEUECTL_JOB_H
#define QUEUECTL_JOB_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#define ID_MAX 128                 /* longest id, without the NUL */
#define JOB_MAX_BYTES (1 << 20)    /* largest job file accepted */
/* Room kept by enqueue under JOB_MAX_BYTES for the fields the queue adds
 * later (worker, started_at, exit_code, last_error...), so that a job it
 * accepts never grows past what a reader accepts. */
#define JOB_ROOM_BYTES 8192
#define JOB_ENQUEUE_MAX (JOB_MAX_BYTES - JOB_ROOM_BYTES)
#define PRIORITY_LIMIT 1000000000L /* |priority| <= this */
#define RETRIES_LIMIT 1000000L     /* max_retries <= this */
#define TIMEOUT_LIMIT 31536000.0   /* timeout, kill_grace: <= one year */
#define AFTER_MAX 1000             /* most ids in "after" */

enum job_state {
	ST_PENDING, ST_PROCESSING, ST_DONE, ST_FAILED, ST_DEAD, ST_HELD,
	ST_NSTATES
};

struct job {
	cJSON *obj;              /* the whole object, owned */
	char id[ID_MAX + 1];
	const char *command;     /* points into obj */
	int state;               /* enum job_state; -1 if the file has none */
	long attempts;
	long max_retries;        /* -1: not set, config applies */
	long priority;
	double timeout;          /* seconds; -1: not set, config applies */
	int64_t run_at;          /* ms since epoch; 0: not set */
	int64_t created_at;      /* 0: not set */
	int64_t started_at;      /* 0: not set */
	int64_t finished_at;     /* 0: not set */
	int64_t next_run_at;     /* 0: not set */
	const char *cwd;         /* NULL: the worker's directory */
	const cJSON *env;        /* "env" object, points into obj; NULL: none */
	int unique;              /* JOB_UNIQUE_*: "unique": true is _REUSE */
	const cJSON *after;      /* "after" ids, points into obj; NULL: none */
};

/* What enqueue does with a unique job whose command is already queued. */
enum { JOB_UNIQUE_NO, JOB_UNIQUE_REUSE, JOB_UNIQUE_STRICT };

/* Name of a state as used for the "state" field ("held", "done", ...). */
const char *state_name(int state);

/* Name of a state's directory: the state's name, but "hold" for held. */
const char *state_dir(int state);

/*
 * State for a name ("pending", "done", ...; "completed" means done, "hold",
 * the directory's name, held). Returns the enum job_state, or -1 if name is
 * not a state.
 */
int state_from_name(const char *name);

/* Is id a valid job id: [A-Za-z0-9][A-Za-z0-9._-]{0,127}? */
int id_valid(const char *id);

/*
 * The id of a job file name "<id>.json" into id: 0, or -1 if name does not
 * end in ".json" or its stem is empty or longer than ID_MAX. The stem is not
 * validated (id_valid does that).
 */
int id_from_name(const char *name, char id[ID_MAX + 1]);

/*
 * Generate a new id into buf: "YYYYMMDD-HHMMSS.mmm-xxxxxx", UTC time then
 * 6 random base-32 characters. Ids from one process strictly increase.
 * Returns buf.
 */
char *id_generate(char buf[ID_MAX + 1]);

/*
 * Parse and validate a job from buf (len bytes, need not be NUL-terminated).
 * name_id, if not NULL, is the id the file name gives: the "id" field must
 * then be absent (it is filled in) or equal. With name_id NULL an absent id
 * stays empty (job->id[0] == 0), for the caller to generate.
 * Checks every known field's type and range; "run_after" is renamed to
 * "run_at". On success fills *job (free with job_free) and returns 0. On
 * failure returns -1 and writes a one-line reason to err (errsz bytes).
 */
int job_parse(struct job *job, const char *buf, size_t len,
    const char *name_id, char *err, size_t errsz);

/*
 * Validate an already parsed object and fill *job from it; takes ownership
 * of obj in every case (frees it on failure). Same rules as job_parse.
 */
int job_from_object(struct job *job, cJSON *obj, const char *name_id,
    char *err, size_t errsz);

/* Free what job holds; job itself may be reused. NULL-safe. */
void job_free(struct job *job);

/*
 * Add key: v to the object o, for an object that is only written out, never
 * read in memory (a lease record, a new job's "attempts": 0): the item is
 * raw (cJSON_CreateRaw), v's decimal text. cJSON 1.7.15 prints every
 * number through sprintf("%1.15g") and sscanf, some µs each and more at
 * their first use in a process, on the path of every enqueue and claim.
 * The item is not cJSON_IsNumber (so job_set_long does not use it: the
 * worker reads "duration_ms" back for the journal). 0, or -1 (ENOMEM).
 */
int job_add_int(cJSON *o, const char *key, long long v);

/* Set a field in job->obj and the typed copy. Return 0, or -1 (ENOMEM). */
int job_set_id(struct job *job, const char *id);
int job_set_state(struct job *job, int state);
int job_set_long(struct job *job, const char *key, long v);
int job_set_double(struct job *job, const char *key, double v);
int job_set_time(struct job *job, const char *key, int64_t ms); /* 0: null */
int job_set_string(struct job *job, const char *key, const char *s); /* NULL: null */

/*
 * Serialize the job for its file: formatted JSON and a final newline, NUL-
 * terminated, its length (without the NUL) in *len. The text is in a buffer
 * of the calling thread, valid until its next call, and kept from call to
 * call (no allocation per job) while it is at most JOB_SERIALIZE_KEEP bytes:
 * one grown for a larger job is freed at the next call, so that a worker
 * does not keep a large job's size for good. NULL with ENOMEM, or EFBIG
 * past JOB_SERIALIZE_MAX bytes.
 */
#define JOB_SERIALIZE_KEEP (64 << 10)
#define JOB_SERIALIZE_MAX (64 << 20)
const char *job_serialize(const struct job *job, size_t *len);

/*
 * Delay in milliseconds before the retry that follows failed attempt n (n >= 1):
 * min(backoff_max, backoff_base ^ n) seconds. base >= 1, max >= 0 (seconds).
 */
int64_t backoff_delay_ms(double base, double max, long n);

/*
 * The line that begins each attempt in a job's logs (worker.c writes it):
 * JOB_LOG_MARKER_FMT with the attempt number, the worker id and the time.
 */
#define JOB_LOG_MARKER_PREFIX "=== queuectl: attempt "
#define JOB_LOG_MARKER_FMT JOB_LOG_MARKER_PREFIX "%ld on %s at %s ===\n"
#define JOB_LOG_MARKER_MAX 256     /* longest marker line recognised */

/*
 * Does p (n bytes) begin with an attempt marker line: the prefix, a
 * positive decimal number, " on " a worker id ([A-Za-z0-9._-]), " at " a
 * time ([0-9:.TZ-]), " ===\n"? Returns its length (the attempt number in
 * *attempt); 0 if it does not; -1 if the n bytes may be the beginning of
 * one (they match so far, no newline yet, n < JOB_LOG_MARKER_MAX).
 */
ssize_t job_log_marker(const char *p, size_t n, long *attempt);

#endif
