/*
 * test_job.c - job_parse, job_from_object, job_set_*, job_serialize,
 * state_name and state_from_name against src/job.h.
 */
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "job.h"
#include "util.h"
#include "tap.h"

/* 2026-11-22T10:30:00Z */
#define T0 INT64_C(1795343400000)

static char err[512];

/* job_serialize's text, as a string of ours (free it); checks that the
 * length it gives is the text's. */
static char *serialize_dup(const struct job *j)
{
	size_t len;
	const char *t = job_serialize(j, &len);

	if (t == NULL)
		return NULL;
	ok(len == strlen(t), "job_serialize gives the length of its text");
	return strdup(t);
}

/* Parse a NUL-terminated json text. */
static int parse(struct job *j, const char *json, const char *name_id)
{
	memset(j, 0, sizeof *j);
	err[0] = 0;
	return job_parse(j, json, strlen(json), name_id, err, sizeof err);
}

/* The json must be refused with a one-line reason. */
static void refused(const char *json, const char *name_id, const char *what)
{
	struct job j;
	int r = parse(&j, json, name_id);

	ok(r == -1 && err[0] != 0 && strchr(err, '\n') == NULL,
	    "refused: %s (reason: %s)", what, r == -1 ? err : "accepted");
	if (r == 0)
		job_free(&j);
}

/* The json must be accepted. */
static void accepted(const char *json, const char *name_id, const char *what)
{
	struct job j;
	int r = parse(&j, json, name_id);

	ok(r == 0, "accepted: %s%s%s", what, r ? " - " : "", r ? err : "");
	if (r == 0)
		job_free(&j);
}

/* Build {"command":"x", FIELD} and expect acceptance or refusal. */
static void field(const char *member, int good)
{
	char buf[512];

	snprintf(buf, sizeof buf, "{\"command\":\"x\",%s}", member);
	if (good)
		accepted(buf, NULL, member);
	else
		refused(buf, NULL, member);
}

static void test_states(void)
{
	static const char *const names[] = {
		"pending", "processing", "done", "failed", "dead", "held"
	};
	int i;

	is_int(ST_NSTATES, 6, "six states");
	for (i = 0; i < ST_NSTATES; i++) {
		is_str(state_name(i), names[i], "state_name(%d)", i);
		is_int(state_from_name(names[i]), i, "state_from_name(\"%s\")",
		    names[i]);
	}
	is_int(state_from_name("completed"), ST_DONE,
	    "state_from_name(\"completed\") is done");
	is_int(state_from_name("hold"), ST_HELD,
	    "state_from_name(\"hold\") (its directory) is held");
	is_str(state_dir(ST_HELD), "hold", "held jobs live in hold/");
	is_str(state_dir(ST_DEAD), "dead", "other directories are their state");
	is_int(state_from_name("bogus"), -1, "state_from_name(\"bogus\") is -1");
	is_int(state_from_name(""), -1, "state_from_name(\"\") is -1");
	is_int(state_from_name("pend"), -1, "a prefix of a state is no state");
	is_int(state_from_name("pendingx"), -1,
	    "a state with a suffix is no state");
	is_int(state_from_name("complete"), -1, "\"complete\" is no state");
}

static void test_minimal(void)
{
	struct job j;
	const char *json = "{\"command\":\"echo hi\"}";

	if (!ok(parse(&j, json, NULL) == 0, "minimal job parses (%s)", err))
		return;
	is_str(j.id, "", "absent id stays empty without name_id");
	is_str(j.command, "echo hi", "command");
	is_int(j.state, -1, "no state field: state -1");
	is_int(j.attempts, 0, "attempts defaults to 0");
	is_int(j.max_retries, -1, "max_retries not set: -1");
	is_int(j.priority, 0, "priority defaults to 0");
	is_dbl(j.timeout, -1, "timeout not set: -1");
	is_int(j.run_at, 0, "run_at not set: 0");
	is_int(j.created_at, 0, "created_at not set: 0");
	is_int(j.started_at, 0, "started_at not set: 0");
	is_int(j.finished_at, 0, "finished_at not set: 0");
	is_int(j.next_run_at, 0, "next_run_at not set: 0");
	ok(j.cwd == NULL, "cwd not set: NULL");
	ok(j.obj != NULL && cJSON_IsObject(j.obj), "obj holds the object");
	job_free(&j);
	job_free(&j);   /* "job itself may be reused": freeing twice is safe */
	job_free(NULL);
	ok(1, "job_free twice and job_free(NULL) do not crash");

	/* The struct may be reused after job_free. */
	if (ok(parse(&j, "{\"command\":\"true\",\"id\":\"again\"}", NULL) == 0,
	    "job struct reused after job_free")) {
		is_str(j.id, "again", "id field read when name_id is NULL");
		job_free(&j);
	}
}

static void test_full(void)
{
	struct job j;
	const char *json =
	    "{\n"
	    "  \"id\": \"job1\", \"command\": \"echo hello\", \"state\": \"failed\",\n"
	    "  \"attempts\": 2, \"max_retries\": 5, \"priority\": -7,\n"
	    "  \"run_at\": \"2026-11-22T10:30:00Z\", \"timeout\": 2.5,\n"
	    "  \"created_at\": \"2026-11-22T10:30:00.123Z\",\n"
	    "  \"updated_at\": \"2026-11-22T10:30:01Z\",\n"
	    "  \"started_at\": \"2026-11-22T10:30:02Z\",\n"
	    "  \"finished_at\": \"2026-11-22T10:30:03.500Z\",\n"
	    "  \"duration_ms\": 1500, \"exit_code\": 1, \"last_error\": \"exit status 1\",\n"
	    "  \"next_run_at\": \"2026-11-22T10:30:07.500Z\", \"worker\": \"host-1234\",\n"
	    "  \"cwd\": \"/tmp\"\n"
	    "}\n";

	if (!ok(parse(&j, json, "job1") == 0, "full job parses (%s)", err))
		return;
	is_str(j.id, "job1", "id");
	is_str(j.command, "echo hello", "command");
	is_int(j.state, ST_FAILED, "state failed");
	is_int(j.attempts, 2, "attempts");
	is_int(j.max_retries, 5, "max_retries");
	is_int(j.priority, -7, "priority");
	is_dbl(j.timeout, 2.5, "timeout");
	is_int(j.run_at, T0, "run_at");
	is_int(j.created_at, T0 + 123, "created_at with ms");
	is_int(j.started_at, T0 + 2000, "started_at");
	is_int(j.finished_at, T0 + 3500, "finished_at");
	is_int(j.next_run_at, T0 + 7500, "next_run_at");
	is_str(j.cwd, "/tmp", "cwd");
	job_free(&j);
}

static void test_id_field(void)
{
	struct job j;

	if (ok(parse(&j, "{\"command\":\"x\"}", "fromname") == 0,
	    "absent id with name_id accepted (%s)", err)) {
		is_str(j.id, "fromname", "name_id fills the id");
		job_free(&j);
	}
	if (ok(parse(&j, "{\"id\":\"same\",\"command\":\"x\"}", "same") == 0,
	    "id equal to name_id accepted (%s)", err)) {
		is_str(j.id, "same", "id equal to name_id");
		job_free(&j);
	}
	refused("{\"id\":\"other\",\"command\":\"x\"}", "job1",
	    "id disagreeing with name_id");
	refused("{\"id\":\"Job1\",\"command\":\"x\"}", "job1",
	    "id differing from name_id only in case");
	refused("{\"id\":\"job\",\"command\":\"x\"}", "job1",
	    "id that is a prefix of name_id");
	refused("{\"id\":\"../x\",\"command\":\"x\"}", NULL, "id \"../x\"");
	refused("{\"id\":\"a/b\",\"command\":\"x\"}", NULL, "id \"a/b\"");
	refused("{\"id\":\".x\",\"command\":\"x\"}", NULL, "id \".x\"");
	refused("{\"id\":\"\",\"command\":\"x\"}", NULL, "empty id");
	refused("{\"id\":5,\"command\":\"x\"}", NULL, "numeric id");
	refused("{\"id\":[\"job1\"],\"command\":\"x\"}", NULL, "array id");
	refused("{\"id\":\"job1\\u0000x\",\"command\":\"x\"}", "job1",
	    "id with an escaped NUL, equal to name_id up to it");

	{
		char json[300], id[ID_MAX + 2];

		memset(id, 'a', ID_MAX);
		id[ID_MAX] = 0;
		snprintf(json, sizeof json, "{\"id\":\"%s\",\"command\":\"x\"}",
		    id);
		if (ok(parse(&j, json, NULL) == 0, "128-char id accepted (%s)",
		    err)) {
			is_str(j.id, id, "128-char id kept whole");
			job_free(&j);
		}
		id[ID_MAX] = 'a';
		id[ID_MAX + 1] = 0;
		snprintf(json, sizeof json, "{\"id\":\"%s\",\"command\":\"x\"}",
		    id);
		refused(json, NULL, "129-char id");
	}
}

static void test_command(void)
{
	refused("{}", NULL, "missing command");
	refused("{\"id\":\"job1\"}", "job1", "missing command with id");
	refused("{\"command\":\"\"}", NULL, "empty command");
	refused("{\"command\":5}", NULL, "numeric command");
	refused("{\"command\":null}", NULL, "null command");
	refused("{\"command\":true}", NULL, "boolean command");
	refused("{\"command\":[\"echo\",\"hi\"]}", NULL, "array command");
	refused("{\"command\":{}}", NULL, "object command");
	accepted("{\"command\":\"echo 'a b' && exit 3\"}", NULL,
	    "command with quotes and operators");
	accepted("{\"command\":\"printf '%s\\\\u0000'\"}", NULL,
	    "command with an escaped backslash before u0000");
	/* A C string cannot hold U+0000: taking the command would silently
	 * run (and rewrite) only its first part. */
	refused("{\"command\":\"echo a\\u0000; rm -rf x\"}", NULL,
	    "command with an escaped NUL (\\u0000)");
}

static void test_state_field(void)
{
	static const char *const names[] = {
		"pending", "processing", "done", "failed", "dead", "held"
	};
	struct job j;
	char json[128];
	int i;

	for (i = 0; i < ST_NSTATES; i++) {
		snprintf(json, sizeof json,
		    "{\"command\":\"x\",\"state\":\"%s\"}", names[i]);
		if (ok(parse(&j, json, NULL) == 0, "state \"%s\" accepted",
		    names[i])) {
			is_int(j.state, i, "state \"%s\" parsed", names[i]);
			job_free(&j);
		}
	}
	if (ok(parse(&j, "{\"command\":\"x\",\"state\":\"completed\"}", NULL)
	    == 0, "state \"completed\" accepted (%s)", err)) {
		is_int(j.state, ST_DONE, "\"completed\" means done");
		job_free(&j);
	}
	field("\"state\":\"finished\"", 0);
	field("\"state\":\"\"", 0);
	field("\"state\":1", 0);
	field("\"state\":true", 0);
}

static void test_numbers(void)
{
	char m[128];
	struct job j;

	/* attempts: integer >= 0 */
	field("\"attempts\":0", 1);
	field("\"attempts\":7", 1);
	field("\"attempts\":-1", 0);
	field("\"attempts\":1.5", 0);
	field("\"attempts\":\"1\"", 0);
	field("\"attempts\":true", 0);
	field("\"attempts\":1e30", 0);

	/* max_retries: integer 0..RETRIES_LIMIT */
	field("\"max_retries\":0", 1);
	snprintf(m, sizeof m, "\"max_retries\":%ld", RETRIES_LIMIT);
	field(m, 1);
	snprintf(m, sizeof m, "\"max_retries\":%ld", RETRIES_LIMIT + 1);
	field(m, 0);
	field("\"max_retries\":-1", 0);
	field("\"max_retries\":2.5", 0);
	field("\"max_retries\":\"3\"", 0);
	field("\"max_retries\":1e30", 0);
	if (ok(parse(&j, "{\"command\":\"x\",\"max_retries\":0}", NULL) == 0,
	    "max_retries 0 parses")) {
		is_int(j.max_retries, 0, "max_retries 0 is kept (not 'unset')");
		job_free(&j);
	}

	/* priority: integer, |p| <= PRIORITY_LIMIT */
	snprintf(m, sizeof m, "\"priority\":%ld", PRIORITY_LIMIT);
	field(m, 1);
	snprintf(m, sizeof m, "\"priority\":%ld", -PRIORITY_LIMIT);
	field(m, 1);
	snprintf(m, sizeof m, "\"priority\":%ld", PRIORITY_LIMIT + 1);
	field(m, 0);
	snprintf(m, sizeof m, "\"priority\":%ld", -PRIORITY_LIMIT - 1);
	field(m, 0);
	field("\"priority\":1.5", 0);
	field("\"priority\":\"0\"", 0);
	snprintf(m, sizeof m, "{\"command\":\"x\",\"priority\":%ld}",
	    -PRIORITY_LIMIT);
	if (ok(parse(&j, m, NULL) == 0, "priority -limit parses")) {
		is_int(j.priority, -PRIORITY_LIMIT, "priority -limit value");
		job_free(&j);
	}

	/* timeout: number 0..TIMEOUT_LIMIT */
	field("\"timeout\":0", 1);
	field("\"timeout\":0.25", 1);
	field("\"timeout\":31536000", 1);
	field("\"timeout\":31536000.5", 0);
	field("\"timeout\":31536001", 0);
	field("\"timeout\":-1", 0);
	field("\"timeout\":-0.5", 0);
	field("\"timeout\":\"10\"", 0);
	field("\"timeout\":false", 0);
	if (ok(parse(&j, "{\"command\":\"x\",\"timeout\":0}", NULL) == 0,
	    "timeout 0 parses")) {
		is_dbl(j.timeout, 0, "timeout 0 is kept (0 = none, not unset)");
		job_free(&j);
	}
}

static void test_times(void)
{
	static const char *const keys[] = {
		"run_at", "created_at", "updated_at", "started_at",
		"finished_at", "next_run_at"
	};
	char m[160];
	struct job j;
	size_t i;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		snprintf(m, sizeof m, "\"%s\":\"2026-11-22T10:30:00.250Z\"",
		    keys[i]);
		field(m, 1);
		snprintf(m, sizeof m, "\"%s\":null", keys[i]);
		field(m, 1);
		snprintf(m, sizeof m, "\"%s\":\"yesterday\"", keys[i]);
		field(m, 0);
		snprintf(m, sizeof m, "\"%s\":\"2026-13-01T00:00:00Z\"", keys[i]);
		field(m, 0);
		snprintf(m, sizeof m, "\"%s\":1795343400", keys[i]);
		field(m, 0);
		snprintf(m, sizeof m, "\"%s\":true", keys[i]);
		field(m, 0);
	}

	if (ok(parse(&j, "{\"command\":\"x\",\"run_at\":\"2026-11-22T11:30:00+01:00\"}",
	    NULL) == 0, "run_at with +01:00 offset parses (%s)", err)) {
		is_int(j.run_at, T0, "run_at offset applied");
		job_free(&j);
	}
	if (ok(parse(&j, "{\"command\":\"x\",\"run_at\":null,\"next_run_at\":null}",
	    NULL) == 0, "null times parse")) {
		is_int(j.run_at, 0, "null run_at is 0");
		is_int(j.next_run_at, 0, "null next_run_at is 0");
		job_free(&j);
	}
}

static void test_run_after(void)
{
	struct job j;
	char *s;
	cJSON *o;

	if (!ok(parse(&j, "{\"command\":\"x\",\"run_after\":\"2026-11-22T10:30:00Z\"}",
	    NULL) == 0, "run_after accepted (%s)", err))
		return;
	is_int(j.run_at, T0, "run_after sets run_at");
	s = serialize_dup(&j);
	if (ok(s != NULL, "serialize job from run_after")) {
		o = cJSON_Parse(s);
		ok(o != NULL, "serialized text is JSON");
		ok(cJSON_GetObjectItemCaseSensitive(o, "run_after") == NULL,
		    "run_after is renamed: no run_after after serialize");
		ok(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(o, "run_at")),
		    "run_after is renamed: run_at is a string");
		cJSON_Delete(o);
		free(s);
	}
	job_free(&j);

	if (ok(parse(&j, "{\"command\":\"x\",\"run_after\":\"2026-11-22T10:30:00Z\"}",
	    NULL) == 0, "run_after parses again")) {
		s = serialize_dup(&j);
		job_free(&j);
		if (ok(s != NULL, "serialized")) {
			if (ok(parse(&j, s, NULL) == 0,
			    "serialized run_after job parses back (%s)", err)) {
				is_int(j.run_at, T0, "run_at survives round trip");
				job_free(&j);
			}
			free(s);
		}
	}
	field("\"run_after\":\"soon\"", 0);
	field("\"run_after\":42", 0);
}

static void test_unknown_fields(void)
{
	struct job j;
	char *s;
	cJSON *o, *meta, *arr;

	if (!ok(parse(&j, "{\"command\":\"x\",\"owner\":\"bob\","
	    "\"meta\":{\"tags\":[1,\"two\",null],\"deep\":{\"k\":true}},"
	    "\"ratio\":0.5}", "j1") == 0, "unknown fields accepted (%s)", err))
		return;
	s = serialize_dup(&j);
	job_free(&j);
	if (!ok(s != NULL, "serialize job with unknown fields"))
		return;
	ok(strlen(s) > 0 && s[strlen(s) - 1] == '\n',
	    "serialized text ends with a newline");
	o = cJSON_Parse(s);
	if (ok(o != NULL, "serialized text is JSON")) {
		is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o,
		    "owner")), "bob", "unknown string field kept");
		meta = cJSON_GetObjectItemCaseSensitive(o, "meta");
		arr = cJSON_GetObjectItemCaseSensitive(meta, "tags");
		is_int(cJSON_GetArraySize(arr), 3, "nested array kept");
		is_str(cJSON_GetStringValue(cJSON_GetArrayItem(arr, 1)), "two",
		    "nested array element kept");
		ok(cJSON_IsNull(cJSON_GetArrayItem(arr, 2)),
		    "nested null kept");
		ok(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(meta, "deep"), "k")),
		    "nested object kept");
		is_dbl(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o,
		    "ratio")), 0.5, "unknown number field kept");
		is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o,
		    "command")), "x", "command kept");
	}
	cJSON_Delete(o);
	free(s);
}

static void test_not_a_job(void)
{
	struct job j;
	const char *buf = "{\"command\":\"x\"}GARBAGE";

	refused("", NULL, "empty text");
	refused("   \n", NULL, "whitespace only");
	refused("[]", NULL, "array");
	refused("[{\"command\":\"x\"}]", NULL, "array holding a job");
	refused("\"command\"", NULL, "string");
	refused("42", NULL, "number");
	refused("null", NULL, "null");
	refused("true", NULL, "boolean");
	refused("{\"command\":\"x\"", NULL, "truncated object");
	refused("{\"command\":\"x\",}", NULL, "trailing comma");
	refused("{command:\"x\"}", NULL, "unquoted key");
	refused("{\"command\":\"x\"} junk", NULL, "trailing garbage");
	refused("{\"command\":\"x\"}{\"command\":\"y\"}", NULL,
	    "two objects");
	refused("{\"command\":\"x\"}\n}", NULL, "trailing brace");
	accepted("{\"command\":\"x\"}\n", NULL, "trailing newline");
	accepted("  \n{\"command\":\"x\"}  \n\n", NULL,
	    "surrounding whitespace");

	/* len bounds the text: it need not be NUL-terminated. */
	memset(&j, 0, sizeof j);
	err[0] = 0;
	if (ok(job_parse(&j, buf, 15, NULL, err, sizeof err) == 0,
	    "len excludes bytes after the object (%s)", err)) {
		is_str(j.command, "x", "command read within len");
		job_free(&j);
	}
	memset(&j, 0, sizeof j);
	ok(job_parse(&j, buf, 10, NULL, err, sizeof err) == -1,
	    "len cutting the object short is refused");
	memset(&j, 0, sizeof j);
	ok(job_parse(&j, "{\"command\":\"x\"}\0{", 17, NULL, err, sizeof err)
	    == -1, "NUL byte inside len is refused (trailing garbage)");
}

static void test_from_object(void)
{
	struct job j;
	cJSON *o;

	o = cJSON_Parse("{\"command\":\"ls\",\"priority\":3}");
	memset(&j, 0, sizeof j);
	if (ok(job_from_object(&j, o, "obj1", err, sizeof err) == 0,
	    "job_from_object accepts a valid object (%s)", err)) {
		is_str(j.id, "obj1", "job_from_object fills id");
		is_str(j.command, "ls", "job_from_object command");
		is_int(j.priority, 3, "job_from_object priority");
		ok(j.obj == o, "job_from_object keeps the object");
		job_free(&j);
	}
	o = cJSON_Parse("{\"command\":\"\"}");
	memset(&j, 0, sizeof j);
	err[0] = 0;
	ok(job_from_object(&j, o, NULL, err, sizeof err) == -1 && err[0],
	    "job_from_object refuses an empty command (frees obj) (%s)", err);
	o = cJSON_Parse("[1]");
	memset(&j, 0, sizeof j);
	err[0] = 0;
	ok(job_from_object(&j, o, NULL, err, sizeof err) == -1 && err[0],
	    "job_from_object refuses a non-object (%s)", err);
}

static void test_set_roundtrip(void)
{
	struct job j, k;
	char *s, tb[TIME_BUFSZ];
	cJSON *o;
	const int64_t run = T0 + 61234;

	if (!ok(parse(&j, "{\"command\":\"make test\",\"keep\":\"me\","
	    "\"next_run_at\":\"2026-11-22T10:30:00Z\",\"worker\":\"w1\"}",
	    NULL) == 0, "base job parses (%s)", err))
		return;
	is_int(job_set_id(&j, "rt-1"), 0, "job_set_id");
	is_str(j.id, "rt-1", "job_set_id updates the typed copy");
	is_int(job_set_state(&j, ST_FAILED), 0, "job_set_state");
	is_int(j.state, ST_FAILED, "job_set_state updates the typed copy");
	is_int(job_set_long(&j, "attempts", 2), 0, "job_set_long attempts");
	is_int(j.attempts, 2, "attempts typed copy");
	is_int(job_set_long(&j, "max_retries", 5), 0, "job_set_long max_retries");
	is_int(j.max_retries, 5, "max_retries typed copy");
	is_int(job_set_long(&j, "priority", -42), 0, "job_set_long priority");
	is_int(j.priority, -42, "priority typed copy");
	is_int(job_set_long(&j, "exit_code", 3), 0, "job_set_long exit_code");
	is_int(job_set_double(&j, "timeout", 2.5), 0, "job_set_double timeout");
	is_dbl(j.timeout, 2.5, "timeout typed copy");
	is_int(job_set_time(&j, "run_at", run), 0, "job_set_time run_at");
	is_int(j.run_at, run, "run_at typed copy");
	is_int(job_set_time(&j, "created_at", T0), 0, "job_set_time created_at");
	is_int(j.created_at, T0, "created_at typed copy");
	is_int(job_set_time(&j, "started_at", T0 + 1), 0, "job_set_time started_at");
	is_int(j.started_at, T0 + 1, "started_at typed copy");
	is_int(job_set_time(&j, "finished_at", T0 + 2), 0,
	    "job_set_time finished_at");
	is_int(j.finished_at, T0 + 2, "finished_at typed copy");
	is_int(job_set_time(&j, "next_run_at", 0), 0, "job_set_time 0 (null)");
	is_int(j.next_run_at, 0, "next_run_at typed copy cleared");
	is_int(job_set_string(&j, "last_error", "exit status 3"), 0,
	    "job_set_string last_error");
	is_int(job_set_string(&j, "worker", NULL), 0, "job_set_string NULL");
	is_int(job_set_string(&j, "cwd", "/srv/app"), 0, "job_set_string cwd");
	is_str(j.cwd, "/srv/app", "cwd typed copy");

	s = serialize_dup(&j);
	job_free(&j);
	if (!ok(s != NULL, "job_serialize after job_set_*"))
		return;
	ok(s[0] != 0 && s[strlen(s) - 1] == '\n', "ends with a newline");

	o = cJSON_Parse(s);
	if (ok(cJSON_IsObject(o), "serialized text is a JSON object")) {
		is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o,
		    "id")), "rt-1", "id in file");
		is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o,
		    "state")), "failed", "state written by name");
		is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o,
		    "run_at")), time_format(run, tb), "run_at written as ISO time");
		ok(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o,
		    "next_run_at")), "time 0 written as null");
		ok(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "worker")),
		    "string NULL written as null");
		is_dbl(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o,
		    "exit_code")), 3, "exit_code number");
		is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o,
		    "last_error")), "exit status 3", "last_error string");
		is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o,
		    "keep")), "me", "unknown field survives job_set_*");
	}
	cJSON_Delete(o);

	if (ok(parse(&k, s, "rt-1") == 0, "serialized job parses back (%s)",
	    err)) {
		is_str(k.id, "rt-1", "round trip id");
		is_str(k.command, "make test", "round trip command");
		is_int(k.state, ST_FAILED, "round trip state");
		is_int(k.attempts, 2, "round trip attempts");
		is_int(k.max_retries, 5, "round trip max_retries");
		is_int(k.priority, -42, "round trip priority");
		is_dbl(k.timeout, 2.5, "round trip timeout");
		is_int(k.run_at, run, "round trip run_at (ms kept)");
		is_int(k.created_at, T0, "round trip created_at");
		is_int(k.started_at, T0 + 1, "round trip started_at");
		is_int(k.finished_at, T0 + 2, "round trip finished_at");
		is_int(k.next_run_at, 0, "round trip next_run_at null");
		is_str(k.cwd, "/srv/app", "round trip cwd");
		job_free(&k);
	}
	free(s);

	/* Every state survives job_set_state + serialize + parse. */
	{
		int st;

		for (st = 0; st < ST_NSTATES; st++) {
			if (parse(&j, "{\"command\":\"x\"}", "st") != 0)
				continue;
			job_set_state(&j, st);
			s = serialize_dup(&j);
			job_free(&j);
			if (s && parse(&k, s, "st") == 0) {
				is_int(k.state, st, "state %s round trip",
				    state_name(st));
				job_free(&k);
			} else {
				ok(0, "state %s round trip (%s)",
				    state_name(st), err);
			}
			free(s);
		}
	}

	/* Replacing an existing value replaces it, leaving one key. */
	if (parse(&j, "{\"command\":\"x\",\"attempts\":1}", NULL) == 0) {
		job_set_long(&j, "attempts", 4);
		s = serialize_dup(&j);
		job_free(&j);
		o = s ? cJSON_Parse(s) : NULL;
		{
			int n = 0;
			cJSON *it;

			cJSON_ArrayForEach(it, o)
				if (it->string && strcmp(it->string, "attempts") == 0)
					n++;
			is_int(n, 1, "job_set_long replaces, does not duplicate");
		}
		is_dbl(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o,
		    "attempts")), 4, "replaced value");
		cJSON_Delete(o);
		free(s);
	}
}

static void test_err_small(void)
{
	struct job j;
	char small[8];

	memset(small, 'X', sizeof small);
	memset(&j, 0, sizeof j);
	ok(job_parse(&j, "{}", 2, NULL, small, sizeof small) == -1 &&
	    memchr(small, 0, sizeof small) != NULL,
	    "reason truncated into a small err buffer, NUL-terminated");
}

/* Refused: duplicate keys, invalid UTF-8; accepted: valid multibyte. */
static void test_hostile(void)
{
	static const char *const bad[] = {
		"{\"command\":\"a\",\"command\":\"b\"}",
		"{\"command\":\"a\",\"priority\":1,\"priority\":2}",
		"{\"command\":\"\xff\"}",
		"{\"command\":\"\xc0\xaf\"}",             /* overlong '/' */
		"{\"command\":\"\xed\xa0\x80\"}",         /* surrogate */
		"{\"command\":\"\xf4\x90\x80\x80\"}",     /* above U+10FFFF */
		"{\"command\":\"\xe2\x82\"}",             /* truncated */
	};
	struct job j;

	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		ok(job_parse(&j, bad[i], strlen(bad[i]), NULL, err, sizeof err) == -1,
		    "hostile input %zu refused (%s)", i, err);
		job_free(&j);
	}
	ok(job_parse(&j, bad[0], strlen(bad[0]), NULL, err, sizeof err) == -1 &&
	    strstr(err, "duplicate key") != NULL, "duplicate key named: %s", err);
	job_free(&j);
	static const char good1[] =
	    "{\"command\":\"echo \xe2\x82\xac \xf0\x9f\x98\x80\"}";
	static const char good2[] =
	    "{\"command\":\"x\",\"meta\":{\"a\":1,\"b\":{\"a\":2}}}";

	err[0] = '\0';
	ok(job_parse(&j, good1, strlen(good1), NULL, err, sizeof err) == 0,
	    "valid UTF-8 accepted (%s)", err);
	job_free(&j);
	ok(job_parse(&j, good2, strlen(good2), NULL, err, sizeof err) == 0,
	    "equal keys in different nested objects accepted (%s)", err);
	job_free(&j);
}

/* job_serialize reuses one buffer: it grows for a large job, is freed at
 * the call after it, and a small job after it is whole and alone in it. */
static void test_serialize_buffer(void)
{
	size_t big = 200000, len;
	char *json = malloc(big + 32), *first;
	struct mallinfo2 m1, m2;
	const char *t;
	struct job j;

	if (json == NULL)
		return;
	strcpy(json, "{\"command\":\"");
	memset(json + 12, 'x', big);
	strcpy(json + 12 + big, "\"}");
	if (ok(parse(&j, json, "big") == 0, "a job of 200000 bytes parses")) {
		t = job_serialize(&j, &len);
		ok(t != NULL && len > big && len == strlen(t) &&
		    t[len - 1] == '\n', "a job larger than the buffer is "
		    "serialized whole (%zu bytes)", len);
		job_free(&j);
	}
	free(json);
	if (!ok(parse(&j, "{\"command\":\"a\"}", "s1") == 0, "small job"))
		return;
	m1 = mallinfo2();
	first = serialize_dup(&j);
	m2 = mallinfo2();
	ok(m1.uordblks + m1.hblkhd >= m2.uordblks + m2.hblkhd + big,
	    "the large job's buffer is freed at the next call (%zu bytes in use "
	    "before, %zu after)", m1.uordblks + m1.hblkhd,
	    m2.uordblks + m2.hblkhd);
	job_free(&j);
	if (!ok(parse(&j, "{\"command\":\"b\"}", "s2") == 0, "small job"))
		return;
	t = job_serialize(&j, &len);
	ok(t != NULL && first != NULL && strstr(t, "\"b\"") != NULL &&
	    strstr(t, "\"a\"") == NULL && strstr(t, "x") == NULL &&
	    len == strlen(first), "the next job's text replaces the last");
	job_free(&j);
	free(first);
}

/* job_set_long and job_add_int write an integer as its decimal text,
 * which reads back as the same number. */
static void test_set_long_text(void)
{
	struct job j, k;
	cJSON *o = cJSON_CreateObject(), *back;
	char *s;

	if (ok(o != NULL && job_add_int(o, "pgid_start", 9000000000123LL) ==
	    0 && job_add_int(o, "pid", -1) == 0, "job_add_int")) {
		s = cJSON_PrintUnformatted(o);
		is_str(s, "{\"pgid_start\":9000000000123,\"pid\":-1}",
		    "job_add_int's items printed as decimal text");
		back = s != NULL ? cJSON_Parse(s) : NULL;
		ok(cJSON_IsNumber(cJSON_GetObjectItem(back, "pgid_start")) &&
		    cJSON_GetObjectItem(back, "pgid_start")->valuedouble ==
		    9000000000123.0, "... and parsed back as the number");
		cJSON_Delete(back);
		free(s);
	}
	cJSON_Delete(o);

	if (!ok(parse(&j, "{\"command\":\"x\"}", "n1") == 0, "job n1"))
		return;
	is_int(job_set_long(&j, "duration_ms", 9000000000123L), 0,
	    "job_set_long of a number above 2^32");
	is_int(job_set_long(&j, "priority", -7), 0, "job_set_long negative");
	s = serialize_dup(&j);
	job_free(&j);
	ok(s != NULL && strstr(s, "\"duration_ms\":\t9000000000123,") != NULL &&
	    strstr(s, "\"priority\":\t-7\n") != NULL,
	    "integers written as their decimal text");
	if (s != NULL && ok(parse(&k, s, "n1") == 0, "and read back (%s)",
	    err)) {
		is_int(k.priority, -7, "priority read back");
		job_free(&k);
	}
	free(s);
}

int main(void)
{
	test_hostile();
	test_states();
	test_minimal();
	test_full();
	test_id_field();
	test_command();
	test_state_field();
	test_numbers();
	test_times();
	test_run_after();
	test_unknown_fields();
	test_not_a_job();
	test_from_object();
	test_set_roundtrip();
	test_err_small();
	test_serialize_buffer();
	test_set_long_text();
	return done_testing();
}
