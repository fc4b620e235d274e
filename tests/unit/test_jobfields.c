/*
 * test_jobfields.c - validation of the job fields of issue 5's per-job
 * settings against src/job.h: "cwd", "env", "unique", "after".
 */
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "job.h"
#include "tap.h"

static char err[512];

/* Parse {"command":"x",MEMBER}; 0 or -1 as job_parse. */
static int
parse_member(struct job *j, const char *member)
{
	char buf[1024];

	snprintf(buf, sizeof buf, "{\"command\":\"x\"%s%s}",
	    member[0] ? "," : "", member);
	err[0] = '\0';
	return job_parse(j, buf, strlen(buf), NULL, err, sizeof err);
}

static void
field(const char *member, int good)
{
	struct job j;
	int r = parse_member(&j, member);

	if (good)
		ok(r == 0, "accepted: %s%s%s", member, r ? " - " : "",
		    r ? err : "");
	else
		ok(r == -1 && err[0] != '\0' && strchr(err, '\n') == NULL,
		    "refused: %s (%s)", member, r == -1 ? err : "accepted");
	if (r == 0)
		job_free(&j);
}

static void
test_cwd(void)
{
	struct job j;

	field("\"cwd\":\"/srv/app\"", 1);
	field("\"cwd\":null", 1);
	field("\"cwd\":\"srv/app\"", 0);
	field("\"cwd\":\"\"", 0);
	field("\"cwd\":7", 0);
	if (parse_member(&j, "\"cwd\":\"/tmp\"") == 0) {
		is_str(j.cwd, "/tmp", "cwd typed copy");
		job_free(&j);
	}
}

static void
test_env(void)
{
	struct job j;

	field("\"env\":{}", 1);
	field("\"env\":null", 1);
	field("\"env\":{\"A\":\"1\",\"B_2\":\"x=y\",\"C\":\"\"}", 1);
	field("\"env\":{\"A\":\"caf\\u00e9\"}", 1);
	field("\"env\":[\"A=1\"]", 0);
	field("\"env\":\"A=1\"", 0);
	field("\"env\":{\"A=B\":\"1\"}", 0);
	field("\"env\":{\"\":\"1\"}", 0);
	field("\"env\":{\"A\":1}", 0);
	field("\"env\":{\"A\":null}", 0);
	field("\"env\":{\"A\":{\"B\":\"1\"}}", 0);
	field("\"env\":{\"A\":\"1\",\"A\":\"2\"}", 0);
	field("\"env\":{\"A\":\"x\\u0000y\"}", 0);
	field("\"env\":{\"A\\u0000B\":\"1\"}", 0);
	if (parse_member(&j, "\"env\":{\"K\":\"V\"}") == 0) {
		ok(j.env != NULL && cJSON_IsObject(j.env), "env typed copy");
		is_str(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
		    j.env, "K")), "V", "env K");
		job_free(&j);
	}
	if (parse_member(&j, "") == 0) {
		ok(j.env == NULL, "no env: NULL");
		job_free(&j);
	}
}

static void
test_unique(void)
{
	struct job j;

	field("\"unique\":true", 1);
	field("\"unique\":false", 1);
	field("\"unique\":null", 1);
	field("\"unique\":1", 0);
	field("\"unique\":\"yes\"", 0);
	if (parse_member(&j, "\"unique\":true") == 0) {
		is_int(j.unique, JOB_UNIQUE_REUSE, "unique true: reuse");
		job_free(&j);
	}
	if (parse_member(&j, "\"unique\":false") == 0) {
		is_int(j.unique, JOB_UNIQUE_NO, "unique false: no");
		job_free(&j);
	}
	if (parse_member(&j, "") == 0) {
		is_int(j.unique, JOB_UNIQUE_NO, "no unique: no");
		job_free(&j);
	}
}

static void
test_after(void)
{
	char big[AFTER_MAX * 8 + 64];
	size_t n;
	struct job j;

	field("\"after\":[\"a\"]", 1);
	field("\"after\":[\"a\",\"b.2\",\"C_3-x\"]", 1);
	field("\"after\":null", 1);
	field("\"after\":[]", 1);
	field("\"after\":\"a\"", 0);
	field("\"after\":[1]", 0);
	field("\"after\":[null]", 0);
	field("\"after\":[\"\"]", 0);
	field("\"after\":[\"../x\"]", 0);
	field("\"after\":[\".a\"]", 0);
	field("\"after\":[\"a\",\"a\"]", 0);
	field("\"after\":[[\"a\"]]", 0);
	field("\"id\":\"me\",\"after\":[\"x\",\"me\"]", 0);
	if (parse_member(&j, "\"after\":[\"a\",\"b\"]") == 0) {
		ok(j.after != NULL && cJSON_GetArraySize(j.after) == 2,
		    "after typed copy");
		job_free(&j);
	}
	if (parse_member(&j, "\"after\":[]") == 0) {
		ok(j.after == NULL, "after []: no dependency");
		job_free(&j);
	}
	if (parse_member(&j, "") == 0) {
		ok(j.after == NULL, "no after: NULL");
		job_free(&j);
	}
	/* the file name's id counts as the job's own */
	{
		const char *t = "{\"command\":\"x\",\"after\":[\"f\"]}";
		int r = job_parse(&j, t, strlen(t), "f", err, sizeof err);

		ok(r == -1, "after naming the file name's id is refused");
		if (r == 0)
			job_free(&j);
	}
	n = (size_t)snprintf(big, sizeof big, "\"after\":[");
	for (int i = 0; i <= AFTER_MAX; i++)
		n += (size_t)snprintf(big + n, sizeof big - n, "%s\"j%d\"",
		    i ? "," : "", i);
	snprintf(big + n, sizeof big - n, "]");
	{
		char buf[sizeof big + 32];
		int r;

		snprintf(buf, sizeof buf, "{\"command\":\"x\",%s}", big);
		r = job_parse(&j, buf, strlen(buf), NULL, err, sizeof err);
		ok(r == -1, "more than AFTER_MAX ids are refused (%s)", err);
		if (r == 0)
			job_free(&j);
	}
}

int
main(void)
{
	test_cwd();
	test_env();
	test_unique();
	test_after();
	return done_testing();
}
