/*
 * index.c - a worker's in-memory index of claimable jobs. See index.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"

static int
name_cmp(struct qentry *a, struct qentry *b)
{
	if (a->dir != b->dir)
		return a->dir < b->dir ? -1 : 1;
	return strcmp(a->name, b->name);
}

static int
ready_cmp(struct qentry *a, struct qentry *b)
{
	if (a->priority != b->priority)
		return a->priority < b->priority ? -1 : 1;
	if (a->order != b->order)
		return a->order < b->order ? -1 : 1;
	return name_cmp(a, b);
}

static int
wait_cmp(struct qentry *a, struct qentry *b)
{
	if (a->due != b->due)
		return a->due < b->due ? -1 : 1;
	return name_cmp(a, b);
}

static int
blocked_cmp(struct qentry *a, struct qentry *b)
{
	int c = strcmp(a->blocker, b->blocker);

	return c != 0 ? c : name_cmp(a, b);
}

/* libbsd's tree.h marks its static functions __unused but leaves the
 * macro undefined (it clashes with Linux headers); define it after them. */
#ifndef __unused
#define __unused __attribute__((__unused__))
#endif
RB_GENERATE_STATIC(qnames, qentry, by_name, name_cmp)
RB_GENERATE_STATIC(qready, qentry, by_order, ready_cmp)
RB_GENERATE_STATIC(qwait, qentry, by_order, wait_cmp)
RB_GENERATE_STATIC(qblocked, qentry, by_order, blocked_cmp)

void
index_init(struct index *ix)
{
	RB_INIT(&ix->names);
	RB_INIT(&ix->ready);
	RB_INIT(&ix->waiting);
	RB_INIT(&ix->blocked);
	ix->n = 0;
	ix->nblocked = 0;
}

void
index_free(struct index *ix)
{
	struct qentry *e;

	while ((e = RB_MIN(qnames, &ix->names)) != NULL)
		index_remove(ix, e);
}

struct qentry *
index_find(struct index *ix, int dir, const char *name)
{
	/* A stack key with room for the flexible name, suitably aligned. */
	union {
		struct qentry e;
		char buf[sizeof(struct qentry) + 256];
	} key;
	size_t n = strlen(name);

	if (n >= 256)
		return NULL;
	key.e.dir = dir;
	memcpy(key.e.name, name, n + 1);
	return RB_FIND(qnames, &ix->names, &key.e);
}

struct qentry *
index_add(struct index *ix, int dir, const char *name, long priority,
    int64_t due, int64_t order, unsigned gen)
{
	struct qentry *e = index_find(ix, dir, name);
	size_t n = strlen(name);

	if (e != NULL) {
		e->gen = gen;
		return e;
	}
	if (n >= 256) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if ((e = calloc(1, sizeof *e + n + 1)) == NULL)
		return NULL;
	e->dir = dir;
	e->priority = priority;
	e->due = due;
	e->order = order;
	e->gen = gen;
	memcpy(e->name, name, n + 1);
	RB_INSERT(qnames, &ix->names, e);
	e->ready = due == 0;
	if (e->ready)
		RB_INSERT(qready, &ix->ready, e);
	else
		RB_INSERT(qwait, &ix->waiting, e);
	ix->n++;
	return e;
}

/* Take e out of the ready, waiting or blocked tree. */
static void
detach(struct index *ix, struct qentry *e)
{
	if (e->blocker != NULL) {
		RB_REMOVE(qblocked, &ix->blocked, e);
		free(e->blocker);
		e->blocker = NULL;
		ix->nblocked--;
	} else if (e->ready)
		RB_REMOVE(qready, &ix->ready, e);
	else
		RB_REMOVE(qwait, &ix->waiting, e);
}

void
index_remove(struct index *ix, struct qentry *e)
{
	RB_REMOVE(qnames, &ix->names, e);
	detach(ix, e);
	ix->n--;
	free(e);
}

void
index_delay(struct index *ix, struct qentry *e, int64_t due)
{
	detach(ix, e);
	e->ready = 0;
	e->due = due;
	RB_INSERT(qwait, &ix->waiting, e);
}

void
index_promote(struct index *ix, int64_t now)
{
	struct qentry *e;

	while ((e = RB_MIN(qwait, &ix->waiting)) != NULL && e->due <= now) {
		RB_REMOVE(qwait, &ix->waiting, e);
		e->ready = 1;
		RB_INSERT(qready, &ix->ready, e);
	}
}

int
index_block(struct index *ix, struct qentry *e, const char *blocker)
{
	char *b = strdup(blocker);

	if (b == NULL)
		return -1;
	detach(ix, e);
	e->blocker = b;
	e->ready = 0;
	RB_INSERT(qblocked, &ix->blocked, e);
	ix->nblocked++;
	return 0;
}

void
index_unblock(struct index *ix, struct qentry *e)
{
	if (e->blocker == NULL)
		return;
	detach(ix, e);
	e->ready = e->due == 0;
	if (e->ready)
		RB_INSERT(qready, &ix->ready, e);
	else
		RB_INSERT(qwait, &ix->waiting, e);
}

struct qentry *
index_blocked_by(struct index *ix, const char *blocker)
{
	union {
		struct qentry e;
		char buf[sizeof(struct qentry) + 1];
	} key;
	struct qentry *e;

	if (blocker == NULL)
		return RB_MIN(qblocked, &ix->blocked);
	memset(&key, 0, sizeof key);
	key.e.blocker = (char *)blocker;
	key.e.dir = -1;           /* before every entry of that blocker */
	e = RB_NFIND(qblocked, &ix->blocked, &key.e);
	return e != NULL && strcmp(e->blocker, blocker) == 0 ? e : NULL;
}

struct qentry *
index_blocked_next(struct index *ix, struct qentry *e, const char *blocker)
{
	(void)ix;               /* tree.h's RB_NEXT does not use the head */
	e = RB_NEXT(qblocked, &ix->blocked, e);
	return e != NULL && (blocker == NULL || strcmp(e->blocker, blocker) ==
	    0) ? e : NULL;
}

struct qentry *
index_first(struct index *ix)
{
	return RB_MIN(qready, &ix->ready);
}

int64_t
index_next_due(struct index *ix)
{
	struct qentry *e = RB_MIN(qwait, &ix->waiting);

	return e != NULL ? e->due : 0;
}

void
index_sweep(struct index *ix, unsigned gen)
{
	struct qentry *e, *next;

	for (e = RB_MIN(qnames, &ix->names); e != NULL; e = next) {
		next = RB_NEXT(qnames, &ix->names, e);
		if (e->gen != gen)
			index_remove(ix, e);
	}
}
