/*
 * cmd_enqueue.c - queuectl enqueue: a JSON object (argument or stdin) or a
 * plain command, with options that set or override fields; or, with
 * --batch, many jobs from standard input in one process.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bsd/string.h>

#include "cli.h"
#include "shell.h"
#include "util.h"

struct enq_opts {
	const char *id;
	const char *priority, *max_retries, *timeout, *run_at, *delay;
	const char *cwd;        /* --cwd */
	char **env;             /* --env NAME=value, nenv of them */
	int nenv;
	char **after;           /* --after ID[,ID...], nafter of them */
	int nafter;
	int unique;             /* JOB_UNIQUE_*: --unique[=strict] */
	int nosync;
	int hold;               /* into hold/ */
	int wait;               /* --wait: follow the job, exit with its status */
	int batch;              /* 0, '\n' (JSON or command lines) or '\0' */
};

/* The options' values, checked. */
struct enq_vals {
	long priority, max_retries;
	double timeout;
	char run_at[TIME_BUFSZ];
	char cwd[PATH_MAX];     /* --cwd made absolute */
};

/* Read all of stdin (at most JOB_MAX_BYTES). */
static char *
read_stdin(size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	ssize_t r;

	if (buf == NULL)
		errx(EX_OSERR_, "out of memory");
	while ((r = read(0, buf + n, cap - n)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			err(EX_IOERR_, "standard input");
		n += (size_t)r;
		if (n > JOB_MAX_BYTES)
			errx(EX_DATAERR_, "job on standard input is larger than "
			    "%d bytes", JOB_MAX_BYTES);
		if (n == cap && (buf = realloc(buf, cap *= 2)) == NULL)
			errx(EX_OSERR_, "out of memory");
	}
	*len = n;
	return buf;
}

static void
put(cJSON *obj, const char *key, cJSON *item)
{
	if (item == NULL)
		errx(EX_OSERR_, "out of memory");
	if (cJSON_GetObjectItemCaseSensitive(obj, key) != NULL)
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item);
	else
		cJSON_AddItemToObject(obj, key, item);
}

/* Check the ids of --after: exit 65 for one that is not an id. */
static void
parse_after(const struct enq_opts *o)
{
	for (int i = 0; i < o->nafter; i++) {
		char *list = strdup(o->after[i]), *p = list, *id;

		if (list == NULL)
			errx(EX_OSERR_, "out of memory");
		while ((id = strsep(&p, ",")) != NULL)
			if (!id_valid(id))
				errx(EX_DATAERR_, "--after: invalid id \"%s\": must "
				    "match [A-Za-z0-9][A-Za-z0-9._-]{0,127}", id);
		free(list);
	}
}

/* Add the --after ids to the job's "after" (replacing it if it is not an
 * array; validation refuses such a job anyway), each id once. */
static void
apply_after(cJSON *obj, const struct enq_opts *o)
{
	cJSON *after = cJSON_GetObjectItemCaseSensitive(obj, "after"), *it;

	if (!cJSON_IsArray(after)) {
		put(obj, "after", cJSON_CreateArray());
		after = cJSON_GetObjectItemCaseSensitive(obj, "after");
	}
	for (int i = 0; i < o->nafter; i++) {
		char *list = strdup(o->after[i]), *p = list, *id;

		if (list == NULL)
			errx(EX_OSERR_, "out of memory");
		while ((id = strsep(&p, ",")) != NULL) {
			cJSON_ArrayForEach(it, after)
				if (cJSON_IsString(it) &&
				    strcmp(it->valuestring, id) == 0)
					break;
			if (it == NULL && !cJSON_AddItemToArray(after,
			    cJSON_CreateString(id)))
				errx(EX_OSERR_, "out of memory");
		}
		free(list);
	}
}

/* Check --env and --cwd; a relative --cwd is taken from our directory. */
static void
parse_env_cwd(const struct enq_opts *o, struct enq_vals *v)
{
	char here[PATH_MAX];

	for (int i = 0; i < o->nenv; i++)
		if (o->env[i][0] == '=' || strchr(o->env[i], '=') == NULL)
			errx(EX_USAGE_, "--env: not NAME=value: %s", o->env[i]);
	if (o->cwd == NULL)
		return;
	if (o->cwd[0] == '\0')
		errx(EX_USAGE_, "--cwd: empty directory name");
	if (o->cwd[0] == '/') {
		if (strcpy_checked(v->cwd, o->cwd, sizeof v->cwd) == -1)
			errx(EX_USAGE_, "--cwd: path too long");
		return;
	}
	if (getcwd(here, sizeof here) == NULL)
		err(EX_OSERR_, "--cwd %s: cannot tell the current directory",
		    o->cwd);
	if (fmt_checked(v->cwd, sizeof v->cwd, "%s/%s", strcmp(here, "/") ?
	    here : "", o->cwd) == -1)
		errx(EX_USAGE_, "--cwd: path too long");
}

/*
 * Check every option and turn it into its JSON value, before anything is
 * allocated: a bad option exits 64 with nothing to free.
 */
static void
parse_opts(const struct enq_opts *o, struct enq_vals *v)
{
	int64_t ms = 0;

	if (o->priority != NULL)
		v->priority = cli_int_opt("priority", o->priority,
		    -PRIORITY_LIMIT, PRIORITY_LIMIT);
	if (o->max_retries != NULL)
		v->max_retries = cli_int_opt("max-retries", o->max_retries, 0,
		    RETRIES_LIMIT);
	if (o->timeout != NULL) {
		if (duration_parse(o->timeout, &ms) == -1 ||
		    ms > (int64_t)(TIMEOUT_LIMIT * 1000))
			errx(EX_USAGE_, "--timeout: must be a number of seconds "
			    "from 0 to %.0f", TIMEOUT_LIMIT);
		v->timeout = (double)ms / 1000;
	}
	if (o->run_at != NULL && time_parse(o->run_at, &ms) == -1)
		errx(EX_USAGE_, "--run-at: not a time: %s (use "
		    "2026-11-22T10:30:00Z)", o->run_at);
	if (o->delay != NULL) {
		if (duration_parse(o->delay, &ms) == -1)
			errx(EX_USAGE_, "--delay: not a duration: %s", o->delay);
		ms += now_ms();
	}
	if (o->run_at != NULL || o->delay != NULL)
		time_format(ms, v->run_at);
	parse_env_cwd(o, v);
	parse_after(o);
}

/* Add the --env assignments to the job's "env" (replacing it if it is not
 * an object; validation refuses such a job anyway). */
static void
apply_env(cJSON *obj, const struct enq_opts *o)
{
	cJSON *env = cJSON_GetObjectItemCaseSensitive(obj, "env");

	if (!cJSON_IsObject(env)) {
		put(obj, "env", cJSON_CreateObject());
		env = cJSON_GetObjectItemCaseSensitive(obj, "env");
	}
	for (int i = 0; i < o->nenv; i++) {
		char *name = strdup(o->env[i]), *eq;

		if (name == NULL)
			errx(EX_OSERR_, "out of memory");
		eq = strchr(name, '=');
		*eq = '\0';
		put(env, name, cJSON_CreateString(eq + 1));
		free(name);
	}
}

/* Set the fields that options gave on the job object. */
static void
apply_opts(cJSON *obj, const struct enq_opts *o, const struct enq_vals *v)
{
	if (o->id != NULL)
		put(obj, "id", cJSON_CreateString(o->id));
	if (o->priority != NULL)
		put(obj, "priority", cJSON_CreateNumber((double)v->priority));
	if (o->max_retries != NULL)
		put(obj, "max_retries", cJSON_CreateNumber((double)v->max_retries));
	if (o->timeout != NULL)
		put(obj, "timeout", cJSON_CreateNumber(v->timeout));
	if (o->run_at != NULL || o->delay != NULL)
		put(obj, "run_at", cJSON_CreateString(v->run_at));
	if (o->unique != JOB_UNIQUE_NO)
		put(obj, "unique", cJSON_CreateTrue());
	if (o->cwd != NULL)
		put(obj, "cwd", cJSON_CreateString(v->cwd));
	if (o->nenv > 0)
		apply_env(obj, o);
	if (o->hold)
		put(obj, "state", cJSON_CreateString(state_name(ST_HELD)));
	if (o->nafter > 0)
		apply_after(obj, o);
}

/*
 * The job object of one record: text (len bytes) is a JSON job if json is
 * set, else a shell command line. NULL with the reason in err if it is not
 * a job (a command must be UTF-8: a job file is JSON).
 */
static cJSON *
record_object(const char *text, size_t len, int json, char *err,
    size_t errsz)
{
	struct job job;
	cJSON *obj;

	if (json) {
		if (job_parse(&job, text, len, NULL, err, errsz) == -1)
			return NULL;
		return job.obj;       /* options are applied to the object */
	}
	if (!utf8_valid(text, len)) {
		snprintf(err, errsz, "the command is not valid UTF-8 (a job file "
		    "is JSON, which holds only UTF-8 text)");
		return NULL;
	}
	if ((obj = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(obj, "command", text) == NULL)
		errx(EX_OSERR_, "out of memory");
	return obj;
}

/* Build the job object from the words after the options, or exit 65. */
static cJSON *
job_object(int n, char **words)
{
	int json = n == 1 && (strcmp(words[0], "-") == 0 || words[0][0] == '{');
	char *text, err[256];
	size_t len;
	cJSON *obj;

	if (json && strcmp(words[0], "-") == 0)
		text = read_stdin(&len);
	else if ((text = json ? strdup(words[0]) : shell_join(n, words)) == NULL)
		errx(EX_OSERR_, "out of memory");
	else
		len = strlen(text);
	obj = record_object(text, len, json, err, sizeof err);
	free(text);
	if (obj == NULL)
		errx(EX_DATAERR_, "bad job: %s", err);
	return obj;
}

/* Validate the object (taken) with the same rules as a job file, as a
 * worker will read it. Returns 0, or -1 with the reason in err. */
static int
validate(cJSON *obj, struct job *job, char *err, size_t errsz)
{
	/* The text checks of job_parse (size, UTF-8) are made on the file's
	 * text when it is written (spool_enqueue: EFBIG, EILSEQ). */
	return job_from_object(job, obj, NULL, err, errsz);
}

/* Apply the options and the caller's directory to obj, then validate. */
static int
finish_job(cJSON *obj, const struct enq_opts *o, const struct enq_vals *v,
    struct job *job, char *err, size_t errsz)
{
	static char cwd[PATH_MAX];      /* once per process (--batch) */

	apply_opts(obj, o, v);
	if (cwd[0] == '\0' && getcwd(cwd, sizeof cwd) == NULL)
		cwd[0] = '\0';
	if (cJSON_GetObjectItemCaseSensitive(obj, "cwd") == NULL &&
	    cwd[0] != '\0')
		put(obj, "cwd", cJSON_CreateString(cwd));
	if (validate(obj, job, err, errsz) == -1)
		return -1;
	if (o->unique == JOB_UNIQUE_STRICT)
		job->unique = JOB_UNIQUE_STRICT;
	return 0;
}

/* Exit for a failed enqueue of job (errno and loc set by spool_enqueue*). */
static void __attribute__((noreturn))
enqueue_failed(const struct job *job, const struct spool_loc *loc,
    const char *where)
{
	int e = errno;

	if (e == EEXIST)
		errx(EX_CANTCREAT_, "%sjob %s already exists (in %s/)", where,
		    job->id, loc->dir);
	if (e == ESRCH)
		errx(EX_NOINPUT_, "%sdependency %s: no such job", where,
		    loc->other);
	if (e == ELOOP)
		errx(EX_DATAERR_, "%sdependency cycle: job %s waits, directly "
		    "or not, for %s", where, loc->other, job->id);
	if (e == EALREADY)
		errx(EX_CANTCREAT_, "%sjob %s (in %s/) has the same command: "
		    "not enqueued (--unique=strict)", where, job->id, loc->dir);
	if (e == EFBIG)
		errx(EX_DATAERR_, "%sbad job: larger than %d bytes (a job "
		    "file may hold %d; the rest is room for what workers "
		    "add)", where, JOB_ENQUEUE_MAX, JOB_MAX_BYTES);
	if (e == EILSEQ)
		errx(EX_DATAERR_, "%sbad job: not valid UTF-8 (a job file is "
		    "JSON, which holds only UTF-8 text)", where);
	errno = e;
	err(cli_exit_for(e), "%scannot enqueue", where);
}

/* Open the spool for new jobs, or exit. */
static void
open_for_jobs(struct spool *sp, const struct enq_opts *o)
{
	cli_open(sp);
	sp->nosync = o->nosync;
	if (spool_below_floor(sp))
		errx(EX_TEMPFAIL_, "the spool's filesystem has less than %g%% "
		    "free (config min_free): not accepting jobs",
		    sp->cfg.min_free);
}

/*
 * enqueue --batch: records from standard input, one job each. A record is
 * a line (--batch) or a NUL-terminated string (--batch0); one starting with
 * '{' is a JSON job, any other non-blank one a shell command line. Each job
 * is queued as soon as it is read, in groups made durable together
 * (spool_group_*: one sync per group); a group ends when it holds
 * BATCH_GROUP jobs or when standard input has nothing more to read at once,
 * and its ids are printed, a line each, only once it is durable. A bad
 * record ends the run: the jobs before it are enqueued and printed, then
 * the error names the record's number.
 */
#define BATCH_GROUP 4096

struct batch {
	struct spool sp;
	const struct enq_opts *o;
	const struct enq_vals *v;
	struct spool_group g;
	char ids[BATCH_GROUP][ID_MAX + 1];  /* of the group's jobs */
	size_t n;               /* jobs in the group */
	unsigned long recno;    /* records read */
	char *buf;              /* input not yet taken */
	size_t len, cap, off;
	int eof;
};

/* End the group and print its ids; exit if it cannot be made durable. */
static void
batch_flush(struct batch *b)
{
	int r = spool_group_end(&b->sp, &b->g), e = errno;

	for (size_t i = 0; i < b->n; i++)
		printf("%s\n", b->ids[i]);
	if (fflush(stdout) == EOF)
		err(EX_IOERR_, "standard output");
	if (r == -1) {
		errno = e;      /* not stdio's */
		err(EX_IOERR_, "the last %zu jobs are queued, but may not "
		    "survive a power loss: sync", b->n);
	}
	b->n = 0;
}

/* Exit with status and the message (and errno e's text, unless e is 0),
 * once the group's jobs, already queued, are durable and printed. */
static void __attribute__((noreturn, format(printf, 4, 5)))
batch_exit(struct batch *b, int status, int e, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	batch_flush(b);
	if (e == 0)
		errx(status, "%s", msg);
	errno = e;
	err(status, "%s", msg);
}

/* Is standard input readable now without blocking? */
static int
input_ready(void)
{
	struct pollfd p = { .fd = 0, .events = POLLIN };

	return poll(&p, 1, 0) != 0;
}

/* The next record (NUL-terminated in place), or NULL at the end. Flushes
 * the group before a read that could block. */
static char *
batch_next(struct batch *b)
{
	char *rec, *end;
	ssize_t r;

	for (;;) {
		end = memchr(b->buf + b->off, b->o->batch, b->len - b->off);
		if (end != NULL || (b->eof && b->off < b->len)) {
			rec = b->buf + b->off;
			b->off = end != NULL ? (size_t)(end - b->buf) + 1 : b->len;
			if (end == NULL)
				end = b->buf + b->len;  /* last record, unterminated */
			*end = '\0';
			b->recno++;
			return rec;
		}
		if (b->eof)
			return NULL;
		memmove(b->buf, b->buf + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		if (b->len + 1 >= b->cap) {
			char *nbuf;

			if (b->cap > JOB_MAX_BYTES + 1)
				batch_exit(b, EX_DATAERR_, 0, "record %lu: larger "
				    "than %d bytes", b->recno + 1, JOB_MAX_BYTES);
			if ((nbuf = realloc(b->buf, b->cap * 2)) == NULL)
				batch_exit(b, EX_OSERR_, 0, "out of memory");
			b->buf = nbuf;
			b->cap *= 2;
		}
		if (b->n > 0 && !input_ready())
			batch_flush(b);
		r = read(0, b->buf + b->len, b->cap - b->len - 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			batch_exit(b, EX_IOERR_, errno, "standard input");
		b->len += (size_t)r;
		b->eof = r == 0;
	}
}

/* Queue one record's job in the group; exit if it is bad or cannot be. */
static void
batch_add(struct batch *b, char *rec)
{
	struct spool_loc loc;
	struct job job;
	char err[256], where[64];
	cJSON *obj;
	int e;

	if ((obj = record_object(rec, strlen(rec), rec[0] == '{', err,
	    sizeof err)) == NULL ||
	    finish_job(obj, b->o, b->v, &job, err, sizeof err) == -1)
		batch_exit(b, EX_DATAERR_, 0, "record %lu: bad job: %s",
		    b->recno, err);
	if (spool_group_add(&b->sp, &b->g, &job, &loc) == -1) {
		e = errno;
		batch_flush(b);
		snprintf(where, sizeof where, "record %lu: ", b->recno);
		errno = e;
		enqueue_failed(&job, &loc, where);
	}
	strlcpy(b->ids[b->n], job.id, sizeof b->ids[b->n]);
	job_free(&job);
	if (++b->n == BATCH_GROUP)
		batch_flush(b);
}

static int
enqueue_batch(const struct enq_opts *o, const struct enq_vals *v)
{
	struct batch *b = calloc(1, sizeof *b);
	char *rec;

	if (b == NULL || (b->buf = malloc(b->cap = 65536)) == NULL)
		errx(EX_OSERR_, "out of memory");
	b->o = o;
	b->v = v;
	spool_group_begin(&b->g);
	open_for_jobs(&b->sp, o);
	while ((rec = batch_next(b)) != NULL)
		if (rec[strspn(rec, " \t\r\n")] != '\0')
			batch_add(b, rec);
	batch_flush(b);
	spool_close(&b->sp);
	free(b->buf);
	free(b);
	return 0;
}

/*
 * The options into o (o->env and o->after have room for argc entries
 * each). Returns -1 when the job is to be enqueued, else the exit status
 * (--help, a usage error).
 */
static int
enq_getopt(int argc, char **argv, struct enq_opts *o)
{
	static const struct option longopts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "priority", required_argument, NULL, 'p' },
		{ "max-retries", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ "run-at", required_argument, NULL, 'a' },
		{ "delay", required_argument, NULL, 'D' },
		{ "cwd", required_argument, NULL, 'C' },
		{ "env", required_argument, NULL, 'E' },
		{ "unique", optional_argument, NULL, 'U' },
		{ "after", required_argument, NULL, 'A' },
		{ "no-sync", no_argument, NULL, 'n' },
		{ "hold", no_argument, NULL, 'H' },
		{ "wait", no_argument, NULL, 'W' },
		{ "batch", no_argument, NULL, 'b' },
		{ "batch0", no_argument, NULL, '0' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd *c = cli_find("enqueue");
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'i': o->id = optarg; break;
		case 'p': o->priority = optarg; break;
		case 'r': o->max_retries = optarg; break;
		case 't': o->timeout = optarg; break;
		case 'a': o->run_at = optarg; break;
		case 'D': o->delay = optarg; break;
		case 'C': o->cwd = optarg; break;
		case 'E': o->env[o->nenv++] = optarg; break;
		case 'A': o->after[o->nafter++] = optarg; break;
		case 'U':
			if (optarg != NULL && strcmp(optarg, "strict") != 0)
				errx(EX_USAGE_, "--unique=%s: the only value is "
				    "strict", optarg);
			o->unique = optarg != NULL ? JOB_UNIQUE_STRICT :
			    JOB_UNIQUE_REUSE;
			break;
		case 'n': o->nosync = 1; break;
		case 'H': o->hold = 1; break;
		case 'W': o->wait = 1; break;
		case 'b': o->batch = '\n'; break;
		case '0': o->batch = '\0'; break;
		case 'h':
			return cli_show_help(c);
		default:
			return cli_usage_error(c);
		}
	}
	if ((optind == argc) != (o->batch != -1)) {
		if (o->batch != -1)
			warnx("--batch reads the jobs from standard input only");
		return cli_usage_error(c);
	}
	return -1;
}

/* The checks of option combinations and of the words after them: exit 64
 * (or 65 for a bad id) if they do not fit. */
static void
enq_check(int n, char **words, const struct enq_opts *o)
{
	if (n > 1 && (words[0][0] == '{' || strcmp(words[0], "-") == 0))
		errx(EX_USAGE_, "options go before the JSON job; nothing may "
		    "follow it");
	if (o->run_at != NULL && o->delay != NULL)
		errx(EX_USAGE_, "give --run-at or --delay, not both");
	if (o->id != NULL && o->batch != -1)
		errx(EX_USAGE_, "--id names one job: not with --batch");
	if (o->wait && o->batch != -1)
		errx(EX_USAGE_, "--wait waits for one job: not with --batch");
	if (o->id != NULL && !id_valid(o->id))
		errx(EX_DATAERR_, "invalid id: must match "
		    "[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
}

/* Enqueue the job of the words after the options; print its id (and with
 * --wait follow it). Returns the exit status. */
static int
enqueue_one(int n, char **words, const struct enq_opts *o,
    const struct enq_vals *v)
{
	struct spool_loc loc;
	struct spool sp;
	struct job job;
	char why[256];
	int r;

	if (finish_job(job_object(n, words), o, v, &job, why,
	    sizeof why) == -1)
		errx(EX_DATAERR_, "bad job: %s", why);
	open_for_jobs(&sp, o);
	if ((r = spool_enqueue(&sp, &job, &loc)) == -1)
		enqueue_failed(&job, &loc, "");
	/* --wait: standard output is the job's; the id goes to stderr. */
	fprintf(o->wait ? stderr : stdout, "%s\n", job.id);
	if (r == 1)
		err(EX_IOERR_, "job %s is queued, but may not survive a power "
		    "loss: fsync of pending/", job.id);
	r = o->wait ? cmd_wait_output(&sp, job.id) : 0;
	job_free(&job);
	spool_close(&sp);
	return r;
}

int
cmd_enqueue(int argc, char **argv)
{
	struct enq_opts o = { 0 };
	struct enq_vals v = { 0 };
	int r;

	o.batch = -1;
	/* room for every argument as --env, and again as --after */
	if ((o.env = calloc(2 * (size_t)argc, sizeof *o.env)) == NULL)
		errx(EX_OSERR_, "out of memory");
	o.after = o.env + argc;
	if ((r = enq_getopt(argc, argv, &o)) == -1) {
		enq_check(argc - optind, argv + optind, &o);
		parse_opts(&o, &v);
		r = o.batch != -1 ? enqueue_batch(&o, &v) :
		    enqueue_one(argc - optind, argv + optind, &o, &v);
	}
	free(o.env);
	return r;
}
