/*
 * fuzz_job.c - libFuzzer harness for the job-file parser and validator
 * (src/job.c: job_parse, job_serialize, job_set_*).
 *
 * The input is the bytes of a job file (not NUL-terminated, as a worker
 * reads it), parsed once as `queuectl enqueue -` does (no file name) and
 * once as a worker does for pending/job1.json. Properties checked:
 *   - a refused file gets a non-empty one-line reason;
 *   - an accepted job satisfies every documented range, its id agrees with
 *     the file name, "run_after" is gone (renamed to "run_at");
 *   - what job_serialize writes parses back to the same job and serializes
 *     to the same text (the worker rewrites files it has accepted);
 *   - after the changes a worker makes (job_set_*), the file still parses
 *     under its id and holds the new values;
 *   - a file whose name is not a valid id is refused whatever it holds.
 * Memory errors, leaks and undefined behaviour are caught by the sanitizers.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz.h"
#include "job.h"
#include "util.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("TZ", FUZZ_TZ, 1);
	tzset();
	return 0;
}

static int
same_str(const char *a, const char *b)
{
	return a == NULL ? b == NULL : b != NULL && strcmp(a, b) == 0;
}

/* The properties every accepted job has. */
static void
check_job(const struct job *j, const char *name_id, const char *text)
{
	const cJSON *it;

	CHECK(cJSON_IsObject(j->obj), "accepted a non-object: %s", text);
	it = cJSON_GetObjectItemCaseSensitive(j->obj, "command");
	CHECK(j->command != NULL && j->command[0] != '\0' &&
	    cJSON_IsString(it) && j->command == it->valuestring,
	    "command does not point at the object's command");
	if (name_id != NULL)
		CHECK(strcmp(j->id, name_id) == 0, "id '%s' for file %s.json",
		    j->id, name_id);
	if (j->id[0] != '\0') {
		CHECK(id_valid(j->id), "accepted the invalid id '%s'", j->id);
		it = cJSON_GetObjectItemCaseSensitive(j->obj, "id");
		CHECK(cJSON_IsString(it) && strcmp(it->valuestring, j->id) == 0,
		    "the object's id differs from job->id '%s'", j->id);
	}
	CHECK(j->state >= -1 && j->state < ST_NSTATES, "state %d", j->state);
	CHECK(j->attempts >= 0 && j->attempts <= RETRIES_LIMIT + 1,
	    "attempts %ld", j->attempts);
	CHECK(j->max_retries >= -1 && j->max_retries <= RETRIES_LIMIT,
	    "max_retries %ld", j->max_retries);
	CHECK(j->priority >= -PRIORITY_LIMIT && j->priority <= PRIORITY_LIMIT,
	    "priority %ld", j->priority);
	CHECK(j->timeout == -1 || (j->timeout >= 0 &&
	    j->timeout <= TIMEOUT_LIMIT), "timeout %g", j->timeout);
	CHECK(cJSON_GetObjectItemCaseSensitive(j->obj, "run_after") == NULL,
	    "run_after is still there after the rename to run_at:\n%s", text);
	if (j->cwd != NULL) {
		it = cJSON_GetObjectItemCaseSensitive(j->obj, "cwd");
		CHECK(cJSON_IsString(it) && it->valuestring == j->cwd,
		    "cwd does not point at the object's cwd");
	}
}

/* a and b are the same job (the typed copies agree). */
static void
check_same(const struct job *a, const struct job *b, const char *text)
{
	CHECK(strcmp(a->id, b->id) == 0, "id '%s' became '%s':\n%s", a->id,
	    b->id, text);
	CHECK(strcmp(a->command, b->command) == 0, "command changed:\n%s",
	    text);
	CHECK(a->state == b->state, "state %d became %d", a->state, b->state);
	CHECK(a->attempts == b->attempts, "attempts %ld became %ld",
	    a->attempts, b->attempts);
	CHECK(a->max_retries == b->max_retries, "max_retries %ld became %ld",
	    a->max_retries, b->max_retries);
	CHECK(a->priority == b->priority, "priority %ld became %ld",
	    a->priority, b->priority);
	CHECK(same_number(a->timeout, b->timeout), "timeout %.17g became %.17g",
	    a->timeout, b->timeout);
	CHECK(a->run_at == b->run_at, "run_at %lld became %lld",
	    (long long)a->run_at, (long long)b->run_at);
	CHECK(a->created_at == b->created_at, "created_at changed");
	CHECK(a->started_at == b->started_at, "started_at changed");
	CHECK(a->finished_at == b->finished_at, "finished_at changed");
	CHECK(a->next_run_at == b->next_run_at, "next_run_at changed");
	CHECK(same_str(a->cwd, b->cwd), "cwd changed");
}

static void
check_refusal(const char *err)
{
	CHECK(err[0] != '\0', "refused without a reason");
	CHECK(strchr(err, '\n') == NULL, "reason is not one line: %s", err);
}

/* What a worker does to an accepted job, then the file must still parse. */
static void
worker_update(struct job *j, const uint8_t *data, size_t size)
{
	char err[512], *text;
	struct job k;
	long attempts = j->attempts <= RETRIES_LIMIT ? j->attempts + 1 :
	    j->attempts;
	long prio = size > 0 ? (long)(data[0] % 7) - 3 : 0;
	int newcmd = size > 1 && (data[1] & 1);

	if (j->id[0] == '\0')
		CHECK(job_set_id(j, "20261122-103000.123-abcdef") == 0, "set id");
	CHECK(job_set_state(j, ST_PROCESSING) == 0, "set state");
	CHECK(job_set_long(j, "attempts", attempts) == 0, "set attempts");
	CHECK(job_set_long(j, "priority", prio) == 0, "set priority");
	CHECK(job_set_time(j, "started_at", FUZZ_NOW_MS) == 0, "set time");
	CHECK(job_set_time(j, "next_run_at", 0) == 0, "set time");
	CHECK(job_set_string(j, "worker", "host-1234") == 0, "set worker");
	CHECK(job_set_string(j, "last_error", NULL) == 0, "set last_error");
	CHECK(job_set_double(j, "timeout", 1.5) == 0, "set timeout");
	if (newcmd)
		CHECK(job_set_string(j, "command", "echo 'new' \"cmd\"") == 0,
		    "set command");
	CHECK(job_set_string(j, "cwd", "/tmp") == 0, "set cwd");

	text = serialize_dup(j);
	CHECK(text != NULL, "job_serialize failed");
	if (job_parse(&k, text, strlen(text), j->id, err, sizeof err) == -1)
		CHECK(0, "updated job does not parse back: %s\n%s", err, text);
	check_job(&k, j->id, text);
	check_same(j, &k, text);
	CHECK(k.state == ST_PROCESSING && k.attempts == attempts &&
	    k.priority == prio && k.started_at == FUZZ_NOW_MS &&
	    k.next_run_at == 0 && k.timeout == 1.5 &&
	    strcmp(k.cwd, "/tmp") == 0, "updated values lost:\n%s", text);
	if (newcmd)
		CHECK(strcmp(k.command, "echo 'new' \"cmd\"") == 0,
		    "command lost");
	job_free(&k);
	free(text);
}

static void
one(const uint8_t *data, size_t size, const char *name_id)
{
	char err[512], *text, *text2;
	struct job j, k;

	err[0] = '\0';
	if (job_parse(&j, (const char *)data, size, name_id, err,
	    sizeof err) == -1) {
		check_refusal(err);
		CHECK(j.obj == NULL, "refused job still holds an object");
		return;
	}
	text = serialize_dup(&j);
	CHECK(text != NULL, "job_serialize failed");
	CHECK(text[0] == '{' && text[strlen(text) - 1] == '\n',
	    "serialized job is not an object and a newline");
	check_job(&j, name_id, text);

	/* The text the worker writes back must be read back the same. */
	if (job_parse(&k, text, strlen(text), name_id, err, sizeof err) == -1)
		CHECK(0, "serialized job does not parse back: %s\n%s", err, text);
	check_job(&k, name_id, text);
	check_same(&j, &k, text);
	text2 = serialize_dup(&k);
	CHECK(text2 != NULL && strcmp(text, text2) == 0,
	    "serialization is not stable:\n%s\n---\n%s", text, text2);
	free(text2);
	job_free(&k);

	worker_update(&j, data, size);
	job_free(&j);
	free(text);
}

/* A file whose name is not a valid id ("pending/.job1.json") is refused,
 * whatever it holds. */
static void
bad_name(const uint8_t *data, size_t size)
{
	char err[512];
	struct job j;

	err[0] = '\0';
	CHECK(job_parse(&j, (const char *)data, size, ".job1", err,
	    sizeof err) == -1, "accepted a job from the file .job1.json");
	check_refusal(err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size, NULL);
	one(data, size, "job1");
	bad_name(data, size);
	return 0;
}
