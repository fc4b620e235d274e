/*
 * test_jobfields.c - validation of the job fields of issue 5's per-job
 * settings against src/job.h: "cwd", "env", "unique".
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

int
main(void)
{
	test_cwd();
	test_env();
	test_unique();
	return done_testing();
}
