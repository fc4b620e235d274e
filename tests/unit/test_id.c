/*
 * test_id.c - id_valid and id_generate against src/job.h.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "job.h"
#include "util.h"
#include "tap.h"

#define NGEN 1000

static void valid(const char *id, int want, const char *what)
{
	is_int(id_valid(id) != 0, want, "id_valid(%s) is %s", what,
	    want ? "true" : "false");
}

static void test_valid(void)
{
	char id[ID_MAX + 3];

	valid("a", 1, "\"a\"");
	valid("Z", 1, "\"Z\"");
	valid("0", 1, "\"0\"");
	valid("job1", 1, "\"job1\"");
	valid("a.b-c_d", 1, "\"a.b-c_d\"");
	valid("9...", 1, "\"9...\"");
	valid("a..b", 1, "\"a..b\"");
	valid("x-", 1, "\"x-\" (trailing dash)");
	valid("20261122-104512.123-k3j9x2", 1, "a generated-style id");

	valid("", 0, "\"\"");
	valid(".x", 0, "\".x\"");
	valid(".", 0, "\".\"");
	valid("..", 0, "\"..\"");
	valid("-x", 0, "\"-x\"");
	valid("_x", 0, "\"_x\"");
	valid("../x", 0, "\"../x\"");
	valid("a/b", 0, "\"a/b\"");
	valid("a/", 0, "\"a/\"");
	valid("/a", 0, "\"/a\"");
	valid("a b", 0, "\"a b\" (space)");
	valid(" a", 0, "\" a\" (leading space)");
	valid("a ", 0, "\"a \" (trailing space)");
	valid("a\n", 0, "\"a\\n\" (trailing newline)");
	valid("a\nb", 0, "\"a\\nb\"");
	valid("a\tb", 0, "\"a\\tb\"");
	valid("\xc3\xa9t\xc3\xa9", 0, "\"\\xc3\\xa9t\\xc3\\xa9\" (UTF-8 \"ete\")");
	valid("a\xc3\xa9", 0, "\"a\\xc3\\xa9\" (UTF-8 after a letter)");
	valid("a\xff", 0, "\"a\\xff\" (high byte)");
	valid("a\\b", 0, "\"a\\\\b\" (backslash)");
	valid("a:b", 0, "\"a:b\"");
	valid("a*", 0, "\"a*\"");
	valid("a+b", 0, "\"a+b\"");
	valid("a~", 0, "\"a~\"");

	memset(id, 'a', ID_MAX);
	id[ID_MAX] = 0;
	valid(id, 1, "128 chars");
	id[0] = '7';
	id[ID_MAX - 1] = '.';
	valid(id, 1, "128 chars starting with a digit, ending with a dot");
	id[0] = 'a';
	id[ID_MAX] = 'a';
	id[ID_MAX + 1] = 0;
	valid(id, 0, "129 chars");
	id[ID_MAX] = '/';
	valid(id, 0, "128 chars then '/'");
	memset(id, 'b', ID_MAX + 2);
	id[ID_MAX + 2] = 0;
	valid(id, 0, "130 chars");
}

/* Is c in a lowercase base-32 alphabet (digits and lowercase letters)? */
static int b32(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z');
}

/* Check the "YYYYMMDD-HHMMSS.mmm-xxxxxx" shape; return its time or -1. */
static int64_t id_time(const char *id)
{
	static const char shape[] = "dddddddd-dddddd.ddd-rrrrrr";
	char iso[40];
	int64_t ms;
	size_t i;

	if (strlen(id) != sizeof shape - 1)
		return -1;
	for (i = 0; i < sizeof shape - 1; i++) {
		if (shape[i] == 'd' && !(id[i] >= '0' && id[i] <= '9'))
			return -1;
		if (shape[i] == 'r' && !b32(id[i]))
			return -1;
		if (shape[i] != 'd' && shape[i] != 'r' && id[i] != shape[i])
			return -1;
	}
	snprintf(iso, sizeof iso, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2s.%.3sZ",
	    id, id + 4, id + 6, id + 9, id + 11, id + 13, id + 16);
	if (time_parse(iso, &ms) != 0)
		return -1;
	return ms;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void test_generate(void)
{
	static char ids[NGEN][ID_MAX + 1];
	char buf[ID_MAX + 1], *ret;
	const char *sfx[NGEN];
	int64_t before, after, t;
	int i, increasing = 1, allvalid = 1, shaped = 1, distinct;

	before = now_ms();
	ret = id_generate(buf);
	after = now_ms();
	ok(ret == buf, "id_generate returns buf");
	ok(id_valid(buf), "generated id is valid: %s", buf);
	t = id_time(buf);
	ok(t >= 0, "generated id has the shape YYYYMMDD-HHMMSS.mmm-xxxxxx: %s",
	    buf);
	ok(t >= before - 1000 && t <= after + 1000,
	    "generated id carries the current UTC time (%lld in [%lld, %lld])",
	    (long long)t, (long long)before, (long long)after);

	for (i = 0; i < NGEN; i++) {
		id_generate(ids[i]);
		if (!id_valid(ids[i]))
			allvalid = 0;
		if (id_time(ids[i]) < 0)
			shaped = 0;
		if (i > 0 && strcmp(ids[i - 1], ids[i]) >= 0) {
			if (increasing)
				diag("not increasing: %s then %s", ids[i - 1],
				    ids[i]);
			increasing = 0;
		}
	}
	ok(strcmp(buf, ids[0]) < 0, "second id sorts after the first");
	ok(allvalid, "%d generated ids are all valid", NGEN);
	ok(shaped, "%d generated ids all have the documented shape", NGEN);
	ok(increasing, "%d generated ids strictly increase (strcmp)", NGEN);

	/* Unique, checked independently of the order. */
	{
		const char *p[NGEN];

		for (i = 0; i < NGEN; i++)
			p[i] = ids[i];
		qsort(p, NGEN, sizeof p[0], cmp_str);
		distinct = 1;
		for (i = 1; i < NGEN; i++)
			if (strcmp(p[i - 1], p[i]) == 0)
				distinct = 0;
		ok(distinct, "%d generated ids are unique", NGEN);
	}

	/* The last 6 characters are random, not a constant or a counter
	 * starting anew: nearly all differ. */
	for (i = 0; i < NGEN; i++)
		sfx[i] = ids[i] + strlen(ids[i]) - 6;
	qsort(sfx, NGEN, sizeof sfx[0], cmp_str);
	distinct = 1;
	for (i = 1; i < NGEN; i++)
		if (strcmp(sfx[i - 1], sfx[i]) != 0)
			distinct++;
	ok(distinct > NGEN * 9 / 10, "random parts vary (%d distinct of %d)",
	    distinct, NGEN);
}

/* Ids made faster than one a millisecond keep the current time: they do
 * not run ahead of the clock (enqueue --batch makes 20,000 a second). */
static void test_no_drift(void)
{
	char prev[ID_MAX + 1], buf[ID_MAX + 1];
	int64_t after;
	int increasing = 1;

	id_generate(prev);
	for (int i = 0; i < 50000; i++) {
		id_generate(buf);
		if (strcmp(prev, buf) >= 0)
			increasing = 0;
		memcpy(prev, buf, sizeof buf);
	}
	after = now_ms();
	ok(increasing, "50,000 ids made at once strictly increase");
	ok(id_time(buf) <= after + 1000, "... and the last carries the time it "
	    "was made (%s, now %lld)", buf, (long long)after);
}

/* Two processes forked from one state generate different ids. */
static void test_fork(void)
{
	char mine[ID_MAX + 1], theirs[ID_MAX + 1] = "";
	int fd[2], status;
	ssize_t n;
	pid_t pid;

	id_generate(mine);      /* initialise whatever state there is */
	if (pipe(fd) != 0) {
		ok(0, "pipe");
		return;
	}
	pid = fork();
	if (pid == 0) {
		char b[ID_MAX + 1];

		close(fd[0]);
		id_generate(b);
		if (write(fd[1], b, strlen(b)) < 0)
			_exit(1);
		_exit(0);
	}
	close(fd[1]);
	id_generate(mine);
	n = read(fd[0], theirs, ID_MAX);
	close(fd[0]);
	waitpid(pid, &status, 0);
	theirs[n > 0 ? n : 0] = 0;
	ok(strlen(theirs) >= 6 && strlen(mine) >= 6 && strcmp(mine, theirs) != 0 &&
	    strcmp(mine + strlen(mine) - 6, theirs + strlen(theirs) - 6) != 0,
	    "parent and forked child generate different random parts (%s, %s)",
	    mine, theirs);
}

static void
test_from_name(void)
{
	char id[ID_MAX + 1], name[ID_MAX + 16];

	ok(id_from_name("job1.json", id) == 0, "id_from_name(job1.json) succeeds");
	is_str(id, "job1", "id_from_name strips .json");
	ok(id_from_name("a.b.json", id) == 0 && strcmp(id, "a.b") == 0,
	    "id_from_name keeps inner dots");
	ok(id_from_name(".json", id) == -1, "id_from_name(.json) fails: empty stem");
	ok(id_from_name("job1.txt", id) == -1, "id_from_name refuses other suffixes");
	ok(id_from_name("job1", id) == -1, "id_from_name refuses no suffix");
	memset(name, 'a', ID_MAX);
	strcpy(name + ID_MAX, ".json");
	ok(id_from_name(name, id) == 0 && strlen(id) == ID_MAX,
	    "id_from_name takes a %d-character stem", ID_MAX);
	memset(name, 'a', ID_MAX + 1);
	strcpy(name + ID_MAX + 1, ".json");
	ok(id_from_name(name, id) == -1, "id_from_name refuses a %d-character stem",
	    ID_MAX + 1);
}

int main(void)
{
	test_from_name();
	test_valid();
	test_generate();
	test_no_drift();
	test_fork();
	return done_testing();
}
