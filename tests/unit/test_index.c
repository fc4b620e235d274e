/*
 * test_index.c - the worker's in-memory index: claim order (priority, then
 * order time, then name), waiting entries promoted at their due time,
 * removal, and the rescan sweep.
 */
#include <stdio.h>
#include <string.h>

#include "index.h"
#include "job.h"
#include "tap.h"

static const char *
first_name(struct index *ix)
{
	struct qentry *e = index_first(ix);

	return e != NULL ? e->name : "(none)";
}

/* Pop the first ready entry and return its name in buf. */
static const char *
pop(struct index *ix, char *buf, size_t n)
{
	struct qentry *e = index_first(ix);

	if (e == NULL)
		return "(none)";
	snprintf(buf, n, "%s", e->name);
	index_remove(ix, e);
	return buf;
}

int
main(void)
{
	struct index ix;
	char buf[64];

	index_init(&ix);
	ok(index_first(&ix) == NULL, "empty index has no first entry");
	ok(index_next_due(&ix) == 0, "empty index has no due time");

	index_add(&ix, ST_PENDING, "c.json", 0, 0, 300, 1);
	index_add(&ix, ST_PENDING, "a.json", 0, 0, 100, 1);
	index_add(&ix, ST_PENDING, "b.json", -5, 0, 200, 1);
	index_add(&ix, ST_PENDING, "d.json", 0, 0, 100, 1);
	index_add(&ix, ST_FAILED, "e.json", 10, 0, 50, 1);
	ok(ix.n == 5, "five entries");
	is_str(pop(&ix, buf, sizeof buf), "b.json", "lowest priority value first");
	is_str(pop(&ix, buf, sizeof buf), "a.json", "then earliest order time");
	is_str(pop(&ix, buf, sizeof buf), "d.json", "ties broken by name");
	is_str(pop(&ix, buf, sizeof buf), "c.json", "then later order time");
	is_str(pop(&ix, buf, sizeof buf), "e.json", "highest priority value last");
	ok(index_first(&ix) == NULL && ix.n == 0, "index empty after popping all");

	index_add(&ix, ST_PENDING, "later.json", -100, 5000, 5000, 1);
	index_add(&ix, ST_PENDING, "sooner.json", 0, 3000, 3000, 1);
	ok(index_first(&ix) == NULL, "waiting entries are not ready");
	ok(index_next_due(&ix) == 3000, "next due is the earliest waiting");
	index_promote(&ix, 2999);
	ok(index_first(&ix) == NULL, "nothing promoted before its due time");
	index_promote(&ix, 3000);
	is_str(first_name(&ix), "sooner.json", "promoted at its due time");
	ok(index_next_due(&ix) == 5000, "next due moves on");
	index_promote(&ix, 10000);
	is_str(first_name(&ix), "later.json", "promoted entry sorts by priority");

	ok(index_add(&ix, ST_PENDING, "sooner.json", 99, 0, 0, 2) != NULL,
	    "adding an existing name succeeds");
	ok(ix.n == 2, "adding an existing name does not duplicate it");
	ok(index_find(&ix, ST_PENDING, "sooner.json")->priority == 0,
	    "adding an existing name keeps its keys");
	ok(index_find(&ix, ST_FAILED, "sooner.json") == NULL,
	    "names are per directory");

	index_sweep(&ix, 2);
	ok(ix.n == 1 && index_find(&ix, ST_PENDING, "later.json") == NULL,
	    "sweep drops entries the last rescan did not see");
	index_free(&ix);
	ok(ix.n == 0, "index_free empties it");
	return done_testing();
}
