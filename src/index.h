/*
 * index.h - a worker's in-memory index of claimable jobs.
 *
 * Entries are the <id>.json names of pending/ and failed/. Each is in the
 * name tree and in exactly one of: the ready tree, ordered by (priority, order
 * time, name), the waiting tree, ordered by (due time, name), or the blocked
 * tree of jobs waiting for a dependency, ordered by (the id they wait for,
 * name). A claim takes the first ready entry without reading any directory. Red-black trees from
 * libbsd's <sys/tree.h>; all operations O(log n).
 */
#ifndef QUEUECTL_INDEX_H
#define QUEUECTL_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include <bsd/sys/tree.h>

struct qentry {
	RB_ENTRY(qentry) by_name;
	RB_ENTRY(qentry) by_order;
	int dir;            /* ST_PENDING or ST_FAILED */
	int ready;          /* in the ready tree (else waiting) */
	long priority;
	int64_t due;        /* ms since epoch; 0 = now */
	int64_t order;      /* run_at, else created_at, else mtime (ms) */
	unsigned gen;       /* last rescan that saw it */
	int complete;       /* seen moved in or closed: not still being written */
	char *blocker;      /* in the blocked tree: the id it waits for; else NULL */
	char name[];        /* "<id>.json" */
};

RB_HEAD(qnames, qentry);
RB_HEAD(qready, qentry);
RB_HEAD(qwait, qentry);
RB_HEAD(qblocked, qentry);

struct index {
	struct qnames names;
	struct qready ready;
	struct qwait waiting;
	struct qblocked blocked;
	size_t n;
	size_t nblocked;
};

void index_init(struct index *ix);
void index_free(struct index *ix);

/* Look up dir/name; NULL if absent. */
struct qentry *index_find(struct index *ix, int dir, const char *name);

/*
 * Add dir/name with its keys; an existing entry only has its gen updated.
 * Returns the entry, or NULL (ENOMEM).
 */
struct qentry *index_add(struct index *ix, int dir, const char *name,
    long priority, int64_t due, int64_t order, unsigned gen);

/* Remove and free e. */
void index_remove(struct index *ix, struct qentry *e);

/* Make e wait until due (ms since epoch). */
void index_delay(struct index *ix, struct qentry *e, int64_t due);

/* Move every waiting entry with due <= now to the ready tree. */
void index_promote(struct index *ix, int64_t now);

/* The first ready entry, or NULL. */
struct qentry *index_first(struct index *ix);

/* Earliest due time among waiting entries, or 0 if none wait. */
int64_t index_next_due(struct index *ix);

/*
 * Move e to the blocked tree, waiting for the job blocker (copied), out of
 * reach of index_first and index_next_due. 0, or -1 (ENOMEM: e unchanged).
 */
int index_block(struct index *ix, struct qentry *e, const char *blocker);

/* Move a blocked e back: ready, or waiting if its due time is set. */
void index_unblock(struct index *ix, struct qentry *e);

/* A blocked entry waiting for blocker (any, if NULL), or NULL; the next
 * one after e, or NULL. */
struct qentry *index_blocked_by(struct index *ix, const char *blocker);
struct qentry *index_blocked_next(struct index *ix, struct qentry *e,
    const char *blocker);

/* Remove every entry whose gen is not gen (not seen by the last rescan). */
void index_sweep(struct index *ix, unsigned gen);

#endif
