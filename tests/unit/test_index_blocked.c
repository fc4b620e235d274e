/*
 * test_index_blocked.c - blocked entries of the worker's index (jobs waiting
 * for a dependency): out of reach of claims and timers, found by the id
 * they wait for, back in the ready or waiting tree when unblocked, freed
 * with the index.
 */
#include <stdio.h>
#include <string.h>

#include "index.h"
#include "job.h"
#include "tap.h"

int
main(void)
{
	struct index ix;
	struct qentry *a, *b, *c, *d, *e;

	index_init(&ix);
	a = index_add(&ix, ST_PENDING, "a.json", 0, 0, 1, 1);
	b = index_add(&ix, ST_PENDING, "b.json", 0, 0, 2, 1);
	c = index_add(&ix, ST_PENDING, "c.json", 0, 5000, 3, 1);
	d = index_add(&ix, ST_FAILED, "d.json", -5, 0, 4, 1);
	ok(a && b && c && d, "four entries added");
	is_int(index_block(&ix, a, "x"), 0, "block a on x");
	is_int(index_block(&ix, b, "y"), 0, "block b on y");
	is_int(index_block(&ix, c, "x"), 0, "block c (waiting) on x");
	is_int((int)ix.nblocked, 3, "three blocked");
	is_int((int)ix.n, 4, "still four entries");
	ok(index_first(&ix) == d, "the first ready entry is the unblocked d");
	index_remove(&ix, d);
	ok(index_first(&ix) == NULL, "blocked entries are never ready");
	is_int((int)index_next_due(&ix), 0, "nor waiting (no timer for c)");
	index_promote(&ix, 1000000);
	ok(index_first(&ix) == NULL, "promote does not touch them");

	e = index_blocked_by(&ix, "x");
	ok(e == a || e == c, "blocked_by x finds an entry waiting for x");
	ok(index_blocked_by(&ix, "y") == b, "blocked_by y finds b");
	ok(index_blocked_by(&ix, "w") == NULL, "blocked_by w: none");
	ok(index_blocked_by(&ix, "xx") == NULL, "blocked_by xx: none (no prefix match)");
	ok(index_blocked_by(&ix, NULL) != NULL, "blocked_by NULL: any");
	e = index_blocked_by(&ix, "x");
	e = index_blocked_next(&ix, e, "x");
	ok(e == a || e == c, "blocked_next x: the other one waiting for x");
	ok(index_blocked_next(&ix, e, "x") == NULL, "... then none");
	{
		int k = 0;

		for (e = index_blocked_by(&ix, NULL); e != NULL;
		    e = index_blocked_next(&ix, e, NULL))
			k++;
		is_int(k, 3, "walking every blocked entry finds three");
	}
	is_str(a->blocker, "x", "a's blocker");

	/* re-blocking moves it in the tree */
	is_int(index_block(&ix, a, "y"), 0, "block a on y instead");
	ok(index_blocked_by(&ix, "x") == c, "x: only c left");
	is_int((int)ix.nblocked, 3, "still three blocked");

	index_unblock(&ix, a);
	ok(a->blocker == NULL, "unblocked a has no blocker");
	ok(index_first(&ix) == a, "unblocked a (no due time) is ready");
	index_unblock(&ix, c);
	ok(index_first(&ix) == a, "unblocked c (due later) is not ready");
	is_int((int)index_next_due(&ix), 5000, "... it waits for its due time");
	is_int((int)ix.nblocked, 1, "one blocked left (b)");
	index_unblock(&ix, a);
	ok(index_first(&ix) == a, "unblocking an entry that is not blocked changes nothing");

	/* delay and remove of a blocked entry */
	index_delay(&ix, b, 7000);
	ok(b->blocker == NULL && index_next_due(&ix) == 5000, "delay unblocks into waiting");
	is_int((int)ix.nblocked, 0, "none blocked");
	index_block(&ix, b, "z");
	index_remove(&ix, b);
	is_int((int)ix.nblocked, 0, "removing a blocked entry counts it out");
	ok(index_blocked_by(&ix, "z") == NULL, "... and it is gone from the tree");

	/* sweep and free with blocked entries (valgrind/ASan: nothing leaks) */
	index_block(&ix, a, "q");
	index_sweep(&ix, 2);
	is_int((int)ix.n, 0, "sweep removes blocked entries too");
	is_int((int)ix.nblocked, 0, "... and counts them out");
	index_add(&ix, ST_PENDING, "f.json", 0, 0, 1, 1);
	index_block(&ix, index_find(&ix, ST_PENDING, "f.json"), "q");
	index_free(&ix);
	is_int((int)ix.n, 0, "free empties an index with a blocked entry");
	return done_testing();
}
