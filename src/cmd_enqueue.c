/*
 * cmd_enqueue.c - queuectl enqueue: a JSON object (argument or stdin) or a
 * plain command, with options that set or override fields.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

struct enq_opts {
	const char *id;
	const char *priority, *max_retries, *timeout, *run_at, *delay;
	int nosync;
};

/* The options' values, checked. */
struct enq_vals {
	long priority, max_retries;
	double timeout;
	char run_at[TIME_BUFSZ];
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

/* Parse an integer option in [lo, hi] or exit 64. */
static long
int_opt(const char *name, const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi)
		errx(EX_USAGE_, "--%s: must be an integer from %ld to %ld", name,
		    lo, hi);
	return v;
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

/*
 * Check every option and turn it into its JSON value, before anything is
 * allocated: a bad option exits 64 with nothing to free.
 */
static void
parse_opts(const struct enq_opts *o, struct enq_vals *v)
{
	int64_t ms = 0;

	if (o->priority != NULL)
		v->priority = int_opt("priority", o->priority,
		    -PRIORITY_LIMIT, PRIORITY_LIMIT);
	if (o->max_retries != NULL)
		v->max_retries = int_opt("max-retries", o->max_retries, 0,
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
}

/* Build the job object from the words after the options. */
static cJSON *
job_object(int n, char **words)
{
	char *buf, *cmd, err[256];
	struct job job;
	size_t len;
	cJSON *obj;

	if (n == 1 && (strcmp(words[0], "-") == 0 || words[0][0] == '{')) {
		if (strcmp(words[0], "-") == 0)
			buf = read_stdin(&len);
		else if ((buf = strdup(words[0])) == NULL)
			errx(EX_OSERR_, "out of memory");
		else
			len = strlen(buf);
		if (job_parse(&job, buf, len, NULL, err, sizeof err) == -1) {
			free(buf);
			errx(EX_DATAERR_, "bad job: %s", err);
		}
		free(buf);
		obj = job.obj;        /* options are applied to the object */
		job.obj = NULL;
		return obj;
	}
	if ((cmd = shell_join(n, words)) == NULL)
		errx(EX_OSERR_, "out of memory");
	if (!utf8_valid(cmd, strlen(cmd))) {
		free(cmd);
		errx(EX_DATAERR_, "the command is not valid UTF-8 (a job file "
		    "is JSON, which holds only UTF-8 text)");
	}
	if ((obj = cJSON_CreateObject()) == NULL ||
	    cJSON_AddStringToObject(obj, "command", cmd) == NULL)
		errx(EX_OSERR_, "out of memory");
	free(cmd);
	return obj;
}

/* Validate the object with the same rules as a job file. */
static void
validate(cJSON *obj, struct job *job)
{
	char *text = cJSON_PrintUnformatted(obj), err[256];

	cJSON_Delete(obj);
	if (text == NULL)
		errx(EX_OSERR_, "out of memory");
	if (job_parse(job, text, strlen(text), NULL, err, sizeof err) == -1) {
		free(text);
		errx(EX_DATAERR_, "bad job: %s", err);
	}
	free(text);
}

int
cmd_enqueue(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "id", required_argument, NULL, 'i' },
		{ "priority", required_argument, NULL, 'p' },
		{ "max-retries", required_argument, NULL, 'r' },
		{ "timeout", required_argument, NULL, 't' },
		{ "run-at", required_argument, NULL, 'a' },
		{ "delay", required_argument, NULL, 'D' },
		{ "no-sync", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd *c = cli_find("enqueue");
	struct enq_opts o = { 0 };
	struct enq_vals v = { 0 };
	struct spool_loc loc;
	struct spool sp;
	struct job job;
	char cwd[PATH_MAX];
	cJSON *obj;
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+h", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'i': o.id = optarg; break;
		case 'p': o.priority = optarg; break;
		case 'r': o.max_retries = optarg; break;
		case 't': o.timeout = optarg; break;
		case 'a': o.run_at = optarg; break;
		case 'D': o.delay = optarg; break;
		case 'n': o.nosync = 1; break;
		case 'h':
			return cli_help(c, 2, (char *[]){ "", "-h", NULL });
		default:
			cli_usage(stderr, c);
			return EX_USAGE_;
		}
	}
	if (optind == argc) {
		cli_usage(stderr, c);
		return EX_USAGE_;
	}
	if (argc - optind > 1 && (argv[optind][0] == '{' ||
	    strcmp(argv[optind], "-") == 0))
		errx(EX_USAGE_, "options go before the JSON job; nothing may "
		    "follow it");
	if (o.run_at != NULL && o.delay != NULL)
		errx(EX_USAGE_, "give --run-at or --delay, not both");
	if (o.id != NULL && !id_valid(o.id))
		errx(EX_DATAERR_, "invalid id: must match "
		    "[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
	parse_opts(&o, &v);
	obj = job_object(argc - optind, argv + optind);
	apply_opts(obj, &o, &v);
	if (cJSON_GetObjectItemCaseSensitive(obj, "cwd") == NULL &&
	    getcwd(cwd, sizeof cwd) != NULL)
		put(obj, "cwd", cJSON_CreateString(cwd));
	validate(obj, &job);
	cli_open(&sp);
	sp.nosync = o.nosync;
	if (spool_below_floor(&sp))
		errx(EX_TEMPFAIL_, "the spool's filesystem has less than %g%% "
		    "free (config min_free): not accepting jobs", sp.cfg.min_free);
	if (spool_enqueue(&sp, &job, &loc) == -1) {
		int e = errno;

		if (e == EEXIST)
			errx(EX_CANTCREAT_, "job %s already exists (in %s/)",
			    job.id, loc.dir);

		errno = e;
		err(cli_exit_for(e), "cannot enqueue");
	}
	printf("%s\n", job.id);
	job_free(&job);
	spool_close(&sp);
	return 0;
}
