/*
 * depwatch.c - a worker's jobs blocked on dependencies. See depwatch.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "deps.h"
#include "depwatch.h"
#include "util.h"

static const int dep_dirs[2] = { ST_DONE, ST_DEAD };

void
depwatch_init(struct depwatch *dw, struct spool *sp, struct index *ix,
    int ifd)
{
	dw->sp = sp;
	dw->ix = ix;
	dw->ifd = ifd;
	dw->wd[0] = dw->wd[1] = -1;
}

int
depwatch_arm(struct depwatch *dw)
{
	char path[PATH_MAX + 16];

	for (int i = 0; i < 2; i++) {
		if (dw->wd[i] != -1)
			continue;
		if (fmt_checked(path, sizeof path, "%s/%s", dw->sp->path,
		    state_name(dep_dirs[i])) == -1 ||
		    (dw->wd[i] = inotify_add_watch(dw->ifd, path, IN_MOVED_TO |
		    IN_ONLYDIR | IN_DONT_FOLLOW)) == -1)
			return -1;
	}
	return 0;
}

int
depwatch_place(struct depwatch *dw, struct qentry *e, const struct job *job)
{
	char which[ID_MAX + 1];
	int r;

	if (depwatch_arm(dw) == -1 || (r = deps_check(dw->sp, job, which)) == -1) {
		index_unblock(dw->ix, e);
		return -1;
	}
	if (r == DEPS_BLOCKED)
		return index_block(dw->ix, e, which);
	index_unblock(dw->ix, e);
	return 0;
}

int
depwatch_owns(const struct depwatch *dw, int wd)
{
	return wd != -1 && (wd == dw->wd[0] || wd == dw->wd[1]);
}

/* Look at blocked entry e again, reading its file. */
static void
relook(struct depwatch *dw, struct qentry *e)
{
	char id[ID_MAX + 1], err[8];
	struct job job;

	if (id_from_name(e->name, id) == -1 ||
	    spool_job_read(dw->sp->dir[e->dir], id, &job, err, sizeof err) == -1) {
		/* gone (its IN_MOVED_FROM follows) or unreadable now: ready,
		 * so that the claim decides */
		index_unblock(dw->ix, e);
		return;
	}
	if (deps_apply(&job))
		depwatch_place(dw, e, &job);
	else
		index_unblock(dw->ix, e);
	job_free(&job);
}

/* Look again at the entries blocked on blocker (every one if NULL): their
 * (dir, name) are collected first, as a look may block one again on the
 * same id. */
static int
relook_all(struct depwatch *dw, const char *blocker)
{
	struct qentry *e;
	size_t n = 0, cap = dw->ix->nblocked;
	char **names;
	int *dirs;

	if (cap == 0)
		return 0;
	names = calloc(cap, sizeof *names);
	dirs = calloc(cap, sizeof *dirs);
	if (names != NULL && dirs != NULL) {
		for (e = index_blocked_by(dw->ix, blocker); e != NULL && n < cap;
		    e = index_blocked_next(dw->ix, e, blocker))
			if ((names[n] = strdup(e->name)) != NULL)
				dirs[n++] = e->dir;
		for (size_t i = 0; i < n; i++)
			if ((e = index_find(dw->ix, dirs[i], names[i])) != NULL &&
			    e->blocker != NULL)
				relook(dw, e);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(dirs);
	return (int)n;
}

int
depwatch_arrived(struct depwatch *dw, const char *name)
{
	char id[ID_MAX + 1];

	if (id_from_name(name, id) == -1)
		return 0;
	return relook_all(dw, id);
}

void
depwatch_recheck(struct depwatch *dw)
{
	relook_all(dw, NULL);
}

void
depwatch_idle(struct depwatch *dw)
{
	if (dw->ix->nblocked > 0)
		return;
	for (int i = 0; i < 2; i++)
		if (dw->wd[i] != -1) {
			inotify_rm_watch(dw->ifd, dw->wd[i]);
			dw->wd[i] = -1;
		}
}
