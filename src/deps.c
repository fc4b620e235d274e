/*
 * deps.c - job dependencies ("after"). See deps.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <bsd/string.h>

#include "deps.h"
#include "util.h"

/*
 * The state of job id: ST_DONE, ST_DEAD, another state, or -1 if it is
 * nowhere; -2 if the spool cannot be read. done/ and dead/ are looked at
 * first (a fstatat each); a job seen nowhere is looked for once more,
 * since a move between two directories can hide it from one look.
 */
static int
dep_state(struct spool *sp, const char *id)
{
	char json[ID_MAX + 8];
	struct spool_loc loc;
	struct stat st;
	int state;

	if (fmt_checked(json, sizeof json, "%s.json", id) == -1)
		return -2;
	if (fstatat(sp->dir[ST_DONE], json, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return ST_DONE;
	if (fstatat(sp->dir[ST_DEAD], json, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return ST_DEAD;
	for (int tries = 0; tries < 2; tries++) {
		if (spool_find(sp, id, &loc) == 0) {
			state = loc.state;
			spool_loc_free(&loc);
			return state;
		}
		if (errno != ENOENT)
			return -2;
	}
	return -1;
}

int
deps_apply(const struct job *job)
{
	return job->after != NULL && job->attempts == 0;
}

int
deps_check(struct spool *sp, const struct job *job, char which[ID_MAX + 1])
{
	const cJSON *it;
	int r = DEPS_READY, st;

	which[0] = '\0';
	cJSON_ArrayForEach(it, job->after) {
		if ((st = dep_state(sp, it->valuestring)) == ST_DONE)
			continue;
		if (st == -2)
			return -1;
		if (st == ST_DEAD || st == -1) {
			strlcpy(which, it->valuestring, ID_MAX + 1);
			return st == ST_DEAD ? DEPS_FAILED : DEPS_UNKNOWN;
		}
		if (r == DEPS_READY) {
			strlcpy(which, it->valuestring, ID_MAX + 1);
			r = DEPS_BLOCKED;
		}
	}
	return r;
}

/*
 * Does the walk of "after" lists from id reach target? seen (an object
 * used as a set of ids) grows with every job visited, across calls: a job
 * seen once and not leading to target never will. 1, 0, or -1 (ENOMEM, or
 * the spool cannot be read).
 */
static int
reaches(struct spool *sp, const char *id, const char *target, cJSON *seen)
{
	cJSON *todo = cJSON_CreateArray(), *next;
	const cJSON *it;
	struct spool_loc loc;
	struct job job;
	char err[8];
	int r = 0;

	if (todo == NULL || !cJSON_AddItemToArray(todo, cJSON_CreateString(id)))
		goto nomem;
	while (r == 0 && (next = cJSON_DetachItemFromArray(todo, 0)) != NULL) {
		const char *cur = next->valuestring;

		if (strcmp(cur, target) == 0)
			r = 1;
		else if (cJSON_GetObjectItemCaseSensitive(seen, cur) != NULL)
			;
		else if (cJSON_AddTrueToObject(seen, cur) == NULL)
			r = -1;
		else if (spool_find(sp, cur, &loc) == -1)
			r = errno == ENOENT ? 0 : -1;
		else {
			if (spool_job_read(loc.dirfd, cur, &job, err,
			    sizeof err) == 0) {
				cJSON_ArrayForEach(it, job.after)
					cJSON_AddItemToArray(todo,
					    cJSON_CreateString(it->valuestring));
				job_free(&job);
			}
			spool_loc_free(&loc);
		}
		cJSON_Delete(next);
	}
	cJSON_Delete(todo);
	return r;
nomem:
	cJSON_Delete(todo);
	errno = ENOMEM;
	return -1;
}

int
deps_admit(struct spool *sp, const struct job *job, int walk,
    char which[ID_MAX + 1])
{
	const cJSON *it;
	struct spool_loc loc;
	cJSON *seen;
	int r = 0;

	which[0] = '\0';
	cJSON_ArrayForEach(it, job->after) {
		if (spool_find(sp, it->valuestring, &loc) == 0) {
			spool_loc_free(&loc);
			continue;
		}
		if (errno == ENOENT) {
			strlcpy(which, it->valuestring, ID_MAX + 1);
			errno = ESRCH;
		}
		return -1;
	}
	if (!walk || job->after == NULL)
		return 0;
	if ((seen = cJSON_CreateObject()) == NULL) {
		errno = ENOMEM;
		return -1;
	}
	cJSON_ArrayForEach(it, job->after)
		if ((r = reaches(sp, it->valuestring, job->id, seen)) != 0)
			break;
	cJSON_Delete(seen);
	if (r == 1) {
		strlcpy(which, it->valuestring, ID_MAX + 1);
		errno = ELOOP;
	}
	return r == 0 ? 0 : -1;
}

char *
deps_reason(int state, const char *id, char *buf, size_t n)
{
	snprintf(buf, n, "dependency %s %s", id,
	    state == DEPS_FAILED ? "failed" : "unknown");
	return buf;
}
