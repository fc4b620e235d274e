/*
 * job.c - the job file: parsing, validation, ids, backoff. See job.h.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>
#define LIBBSD_OPENBSD_VIS      /* the historical vis(3) API; silences a warning */
#include <bsd/vis.h>

#include "job.h"
#include "util.h"

static const char *const state_names[ST_NSTATES] = {
	"pending", "processing", "done", "failed", "dead", "held"
};

/* Fields whose value is a string or null. */
static const char *const string_fields[] = {
	"last_error", "worker", "cwd"
};

const char *
state_name(int state)
{
	return state >= 0 && state < ST_NSTATES ? state_names[state] : "?";
}

const char *
state_dir(int state)
{
	return state == ST_HELD ? "hold" : state_name(state);
}

int
state_from_name(const char *name)
{
	if (strcmp(name, "completed") == 0)
		return ST_DONE;
	if (strcmp(name, "hold") == 0)
		return ST_HELD;
	for (int i = 0; i < ST_NSTATES; i++)
		if (strcmp(name, state_names[i]) == 0)
			return i;
	return -1;
}

int
id_valid(const char *id)
{
	static const char first[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	size_t n = strlen(id);

	return n >= 1 && n <= ID_MAX && strchr(first, id[0]) != NULL &&
	    strspn(id + 1, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == n - 1;
}

int
id_from_name(const char *name, char id[ID_MAX + 1])
{
	size_t n = strlen(name);

	if (n <= 5 || n - 5 > ID_MAX || !has_suffix(name, ".json"))
		return -1;
	memcpy(id, name, n - 5);
	id[n - 5] = '\0';
	return 0;
}

char *
id_generate(char buf[ID_MAX + 1])
{
	static const char b32[] = "0123456789abcdefghjkmnpqrstvwxyz";
	static int64_t last_ms;
	static uint32_t last_r;
	int64_t ms = now_ms();
	uint32_t r = rand32() & 0x3fffffff;
	static struct time_prefix cache;
	const char *p;

	/* Strictly increasing within the process: in the same millisecond
	 * (or if the clock went back) the random part grows by a random step;
	 * only when it would overflow does the millisecond move on. */
	if (ms <= last_ms) {
		ms = last_ms;
		r = last_r + 1 + (rand32() & 0xffff);
		if (r > 0x3fffffff) {
			ms++;
			r = rand32() & 0x3fffffff;
		}
	}
	last_ms = ms;
	last_r = r;
	/* "YYYYMMDD-HHMMSS" (the clock is past 1970 and before 10000) */
	p = time_prefix(&cache, (time_t)(ms / 1000), "%04d%02d%02d-%02d%02d%02d",
	    15);
	memcpy(buf, p != NULL ? p : "19700101-000000", 15);
	buf[15] = '.';
	put_ms3(buf + 16, (int)(ms % 1000));
	buf[19] = '-';
	for (int i = 25; i >= 20; i--, r >>= 5)
		buf[i] = b32[r & 31];
	buf[26] = '\0';
	return buf;
}

/* Is item a JSON number holding an integer in [lo, hi]? Stores it in *v. */
static int
int_in_range(const cJSON *item, double lo, double hi, long *v)
{
	double d;

	if (!cJSON_IsNumber(item))
		return 0;
	d = item->valuedouble;
	if (!isfinite(d) || d != floor(d) || d < lo || d > hi)
		return 0;
	*v = (long)d;
	return 1;
}

/*
 * Check the time-valued field key: absent, null or an ISO 8601 time. A
 * valid time is rewritten in the canonical form (UTC, milliseconds, Z).
 */
static int
check_time(cJSON *obj, const char *key, int64_t *out, char *err,
    size_t errsz)
{
	cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
	char canon[TIME_BUFSZ];

	*out = 0;
	if (it == NULL || cJSON_IsNull(it))
		return 0;
	if (!cJSON_IsString(it) || time_parse(it->valuestring, out) == -1) {
		snprintf(err, errsz, "%s: not an ISO 8601 time", key);
		return -1;
	}
	time_format(*out, canon);
	if (strcmp(canon, it->valuestring) != 0 &&
	    cJSON_SetValuestring(it, canon) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	return 0;
}

/* Rename "run_after" to "run_at" (when there is no run_at). */
static int
alias_run_after(cJSON *obj, char *err, size_t errsz)
{
	cJSON *ra = cJSON_GetObjectItemCaseSensitive(obj, "run_after");

	if (ra == NULL)
		return 0;
	if (cJSON_GetObjectItemCaseSensitive(obj, "run_at") != NULL) {
		snprintf(err, errsz, "run_at and run_after both given");
		return -1;
	}
	cJSON_DetachItemViaPointer(obj, ra);
	cJSON_AddItemToObject(obj, "run_at", ra);
	return 0;
}

/* Validate the id against the file name's id and store it in job->id. */
static int
check_id(struct job *job, const char *name_id, char *err, size_t errsz)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(job->obj, "id");

	if (it != NULL && !cJSON_IsNull(it)) {
		if (!cJSON_IsString(it) || !id_valid(it->valuestring)) {
			snprintf(err, errsz, "id: must match "
			    "[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
			return -1;
		}
		if (name_id != NULL && strcmp(name_id, it->valuestring) != 0) {
			snprintf(err, errsz, "id \"%.*s\" disagrees with the "
			    "file name", ID_MAX, it->valuestring);
			return -1;
		}
		strlcpy(job->id, it->valuestring, sizeof job->id);
		return 0;
	}
	if (name_id == NULL)
		return 0;
	if (!id_valid(name_id)) {
		snprintf(err, errsz, "file name is not a valid job id");
		return -1;
	}
	return job_set_id(job, name_id) == -1 ?
	    (snprintf(err, errsz, "out of memory"), -1) : 0;
}

/* Check command, state and the string fields. */
static int
check_strings(struct job *job, char *err, size_t errsz)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(job->obj, "command");

	if (it == NULL) {
		snprintf(err, errsz, "command: missing");
		return -1;
	}
	if (!cJSON_IsString(it) || it->valuestring[0] == '\0') {
		snprintf(err, errsz, "command: must be a non-empty string");
		return -1;
	}
	job->command = it->valuestring;
	job->state = -1;
	it = cJSON_GetObjectItemCaseSensitive(job->obj, "state");
	if (it != NULL && !cJSON_IsNull(it) && (!cJSON_IsString(it) ||
	    (job->state = state_from_name(it->valuestring)) == -1)) {
		snprintf(err, errsz, "state: not one of pending, processing, "
		    "done, failed, dead, held");
		return -1;
	}
	for (size_t i = 0; i < sizeof string_fields / sizeof *string_fields; i++) {
		it = cJSON_GetObjectItemCaseSensitive(job->obj, string_fields[i]);
		if (it != NULL && !cJSON_IsNull(it) && !cJSON_IsString(it)) {
			snprintf(err, errsz, "%s: must be a string",
			    string_fields[i]);
			return -1;
		}
	}
	it = cJSON_GetObjectItemCaseSensitive(job->obj, "cwd");
	job->cwd = cJSON_IsString(it) ? it->valuestring : NULL;
	if (job->cwd != NULL && job->cwd[0] != '/') {
		snprintf(err, errsz, "cwd: must be an absolute path");
		return -1;
	}
	return 0;
}

static const char *duplicate_key(const cJSON *obj);

/* Check "env": absent, null, or an object of strings whose names are
 * non-empty and hold no '='. */
static int
check_env(struct job *job, char *err, size_t errsz)
{
	const cJSON *env = cJSON_GetObjectItemCaseSensitive(job->obj, "env");
	const cJSON *it;

	job->env = NULL;
	if (env == NULL || cJSON_IsNull(env))
		return 0;
	if (!cJSON_IsObject(env)) {
		snprintf(err, errsz, "env: must be an object of strings");
		return -1;
	}
	if (duplicate_key(env) != NULL) {
		snprintf(err, errsz, "env: a name appears twice");
		return -1;
	}
	cJSON_ArrayForEach(it, env) {
		if (it->string[0] == '\0' || strchr(it->string, '=') != NULL) {
			snprintf(err, errsz, "env: a name must be non-empty and "
			    "hold no '='");
			return -1;
		}
		if (!cJSON_IsString(it)) {
			snprintf(err, errsz, "env: the value of %.64s must be a "
			    "string", it->string);
			return -1;
		}
	}
	job->env = env;
	return 0;
}

/* Check "after": absent, null, or an array of valid ids, each once, not
 * the job's own (when known). An empty array is no dependency. */
static int
check_after(struct job *job, char *err, size_t errsz)
{
	const cJSON *after = cJSON_GetObjectItemCaseSensitive(job->obj, "after");
	const cJSON *it, *prev;

	job->after = NULL;
	if (after == NULL || cJSON_IsNull(after))
		return 0;
	if (!cJSON_IsArray(after)) {
		snprintf(err, errsz, "after: must be an array of job ids");
		return -1;
	}
	if (cJSON_GetArraySize(after) > AFTER_MAX) {
		snprintf(err, errsz, "after: at most %d ids", AFTER_MAX);
		return -1;
	}
	cJSON_ArrayForEach(it, after) {
		if (!cJSON_IsString(it) || !id_valid(it->valuestring)) {
			snprintf(err, errsz, "after: must be an array of job ids "
			    "([A-Za-z0-9][A-Za-z0-9._-]{0,127})");
			return -1;
		}
		if (strcmp(it->valuestring, job->id) == 0) {
			snprintf(err, errsz, "after: a job cannot wait for itself");
			return -1;
		}
		for (prev = after->child; prev != it; prev = prev->next)
			if (strcmp(prev->valuestring, it->valuestring) == 0) {
				snprintf(err, errsz, "after: %s appears twice",
				    it->valuestring);
				return -1;
			}
	}
	job->after = after->child != NULL ? after : NULL;
	return 0;
}

/* Check "unique": absent, null or a boolean. */
static int
check_unique(struct job *job, char *err, size_t errsz)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(job->obj, "unique");

	job->unique = JOB_UNIQUE_NO;
	if (it == NULL || cJSON_IsNull(it))
		return 0;
	if (!cJSON_IsBool(it)) {
		snprintf(err, errsz, "unique: must be true or false");
		return -1;
	}
	job->unique = cJSON_IsTrue(it) ? JOB_UNIQUE_REUSE : JOB_UNIQUE_NO;
	return 0;
}

/* Check the numeric fields and their ranges. */
static int
check_numbers(struct job *job, char *err, size_t errsz)
{
	const cJSON *o = job->obj, *it;
	long v;

#define NUMFIELD(key, lo, hi, dflt, dst) do {				\
	it = cJSON_GetObjectItemCaseSensitive(o, key);			\
	if (it == NULL || cJSON_IsNull(it))				\
		dst = dflt;						\
	else if (int_in_range(it, lo, hi, &v))				\
		dst = v;						\
	else {								\
		snprintf(err, errsz, "%s: must be an integer from %.0f " \
		    "to %.0f", key, (double)(lo), (double)(hi));	\
		return -1;						\
	}								\
} while (0)
	NUMFIELD("attempts", 0, RETRIES_LIMIT + 1, 0, job->attempts);
	NUMFIELD("max_retries", 0, RETRIES_LIMIT, -1, job->max_retries);
	NUMFIELD("priority", -PRIORITY_LIMIT, PRIORITY_LIMIT, 0, job->priority);
	NUMFIELD("duration_ms", 0, 9.0e15, 0, v);
	NUMFIELD("exit_code", -1, 255, 0, v);
#undef NUMFIELD
	it = cJSON_GetObjectItemCaseSensitive(o, "timeout");
	job->timeout = -1;
	if (it != NULL && !cJSON_IsNull(it)) {
		if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) ||
		    it->valuedouble < 0 || it->valuedouble > TIMEOUT_LIMIT) {
			snprintf(err, errsz, "timeout: must be a number of "
			    "seconds from 0 to %.0f", TIMEOUT_LIMIT);
			return -1;
		}
		job->timeout = it->valuedouble;
	}
	return 0;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The first key that appears twice in obj (top level), or NULL. */
static const char *
duplicate_key(const cJSON *obj)
{
	const cJSON *it;
	const char **names, *dup = NULL;
	size_t n = 0;

	cJSON_ArrayForEach(it, obj)
		n++;
	if (n < 2 || (names = calloc(n, sizeof *names)) == NULL)
		return NULL;
	n = 0;
	cJSON_ArrayForEach(it, obj)
		names[n++] = it->string;
	qsort(names, n, sizeof *names, name_cmp);
	for (size_t i = 1; i < n && dup == NULL; i++)
		if (strcmp(names[i - 1], names[i]) == 0)
			dup = names[i];
	free(names);
	return dup;
}

int
job_from_object(struct job *job, cJSON *obj, const char *name_id, char *err,
    size_t errsz)
{
	const char *dup;
	int64_t ignored;

	memset(job, 0, sizeof *job);
	job->obj = obj;
	if (!cJSON_IsObject(obj)) {
		snprintf(err, errsz, "not a JSON object");
		goto fail;
	}
	/* Readers disagree on which of two equal keys counts (cJSON takes the
	 * first, jq the last): refuse the ambiguity. */
	if ((dup = duplicate_key(obj)) != NULL) {
		char shown[64 * 4 + 1];
		size_t n = strnlen(dup, 64);

		if (strnvisx(shown, sizeof shown, dup, n, VIS_CSTYLE | VIS_NL |
		    VIS_TAB | VIS_OCTAL | VIS_DQ) == -1)
			strlcpy(shown, "?", sizeof shown);
		snprintf(err, errsz, "duplicate key \"%s\"", shown);
		goto fail;
	}
	if (alias_run_after(obj, err, errsz) == -1 ||
	    check_id(job, name_id, err, errsz) == -1 ||
	    check_strings(job, err, errsz) == -1 ||
	    check_env(job, err, errsz) == -1 ||
	    check_unique(job, err, errsz) == -1 ||
	    check_after(job, err, errsz) == -1 ||
	    check_numbers(job, err, errsz) == -1 ||
	    check_time(obj, "run_at", &job->run_at, err, errsz) == -1 ||
	    check_time(obj, "created_at", &job->created_at, err, errsz) == -1 ||
	    check_time(obj, "started_at", &job->started_at, err, errsz) == -1 ||
	    check_time(obj, "finished_at", &job->finished_at, err, errsz) == -1 ||
	    check_time(obj, "next_run_at", &job->next_run_at, err, errsz) == -1 ||
	    check_time(obj, "updated_at", &ignored, err, errsz) == -1)
		goto fail;
	return 0;
fail:
	job_free(job);
	return -1;
}

/* Does the JSON text hold a \u0000 escape (which cJSON would turn into a
 * C string terminator, silently cutting the string)? */
static int
has_escaped_nul(const char *buf, size_t len)
{
	for (size_t i = 0; i + 6 <= len; i++) {
		size_t bs = 0;

		if (memcmp(buf + i, "\\u0000", 6) != 0)
			continue;
		while (bs < i && buf[i - 1 - bs] == '\\')
			bs++;
		if (bs % 2 == 0)
			return 1;
	}
	return 0;
}

int
job_parse(struct job *job, const char *buf, size_t len, const char *name_id,
    char *err, size_t errsz)
{
	const char *end = NULL;
	cJSON *obj;

	memset(job, 0, sizeof *job);
	if (len > JOB_MAX_BYTES) {
		snprintf(err, errsz, "larger than %d bytes", JOB_MAX_BYTES);
		return -1;
	}
	if (memchr(buf, '\0', len) != NULL || has_escaped_nul(buf, len)) {
		snprintf(err, errsz, "invalid JSON: contains a NUL character");
		return -1;
	}
	if (!utf8_valid(buf, len)) {
		snprintf(err, errsz, "invalid JSON: not valid UTF-8");
		return -1;
	}
	obj = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (obj == NULL) {
		snprintf(err, errsz, "invalid JSON near byte %zu",
		    end != NULL && end >= buf ? (size_t)(end - buf) : (size_t)0);
		return -1;
	}
	while (end < buf + len && strchr(" \t\r\n", *end) != NULL)
		end++;
	if (end != buf + len) {
		snprintf(err, errsz, "invalid JSON: trailing data at byte %zu",
		    (size_t)(end - buf));
		cJSON_Delete(obj);
		return -1;
	}
	return job_from_object(job, obj, name_id, err, errsz);
}

void
job_free(struct job *job)
{
	if (job == NULL)
		return;
	cJSON_Delete(job->obj);
	memset(job, 0, sizeof *job);
}

/* Replace (or add) key in job->obj with item; takes item. */
static int
job_put(struct job *job, const char *key, cJSON *item)
{
	if (item == NULL) {
		errno = ENOMEM;
		return -1;
	}
	if (cJSON_GetObjectItemCaseSensitive(job->obj, key) != NULL)
		cJSON_ReplaceItemInObjectCaseSensitive(job->obj, key, item);
	else
		cJSON_AddItemToObject(job->obj, key, item);
	return 0;
}

int
job_set_id(struct job *job, const char *id)
{
	if (strcpy_checked(job->id, id, sizeof job->id) == -1)
		return -1;
	return job_put(job, "id", cJSON_CreateString(id));
}

int
job_set_state(struct job *job, int state)
{
	job->state = state;
	return job_put(job, "state", cJSON_CreateString(state_name(state)));
}

int
job_add_int(cJSON *o, const char *key, long long v)
{
	char buf[24];
	cJSON *it;

	snprintf(buf, sizeof buf, "%lld", v);
	if ((it = cJSON_CreateRaw(buf)) == NULL ||
	    !cJSON_AddItemToObject(o, key, it)) {
		cJSON_Delete(it);
		errno = ENOMEM;
		return -1;
	}
	return 0;
}

int
job_set_long(struct job *job, const char *key, long v)
{
	if (strcmp(key, "attempts") == 0)
		job->attempts = v;
	else if (strcmp(key, "max_retries") == 0)
		job->max_retries = v;
	else if (strcmp(key, "priority") == 0)
		job->priority = v;
	return job_put(job, key, cJSON_CreateNumber((double)v));
}

int
job_set_double(struct job *job, const char *key, double v)
{
	if (strcmp(key, "timeout") == 0)
		job->timeout = v;
	return job_put(job, key, cJSON_CreateNumber(v));
}

int
job_set_time(struct job *job, const char *key, int64_t ms)
{
	char buf[TIME_BUFSZ];

	if (strcmp(key, "run_at") == 0)
		job->run_at = ms;
	else if (strcmp(key, "created_at") == 0)
		job->created_at = ms;
	else if (strcmp(key, "started_at") == 0)
		job->started_at = ms;
	else if (strcmp(key, "finished_at") == 0)
		job->finished_at = ms;
	else if (strcmp(key, "next_run_at") == 0)
		job->next_run_at = ms;
	return job_put(job, key, ms == 0 ? cJSON_CreateNull() :
	    cJSON_CreateString(time_format(ms, buf)));
}

int
job_set_string(struct job *job, const char *key, const char *s)
{
	if (job_put(job, key, s == NULL ? cJSON_CreateNull() :
	    cJSON_CreateString(s)) == -1)
		return -1;
	/* Pointers into obj must follow the new item. */
	if (strcmp(key, "command") == 0 || strcmp(key, "cwd") == 0) {
		const cJSON *it = cJSON_GetObjectItemCaseSensitive(job->obj, key);
		const char *v = cJSON_IsString(it) ? it->valuestring : NULL;

		if (key[1] == 'o')
			job->command = v;
		else
			job->cwd = v;
	}
	return 0;
}

const char *
job_serialize(const struct job *job, size_t *len)
{
	/* kept between calls: no allocation per job once it is large enough */
	static _Thread_local char *buf;
	static _Thread_local size_t cap;
	char *nbuf;
	size_t n;

	if (cap > JOB_SERIALIZE_KEEP) {  /* a large job's: not kept for good */
		free(buf);
		buf = NULL;
		cap = 0;
	}
	/* cJSON_PrintPreallocated wants 5 bytes more than it writes; one more
	 * is for the newline */
	while (buf == NULL ||
	    !cJSON_PrintPreallocated(job->obj, buf, (int)cap - 1, 1)) {
		if (cap >= JOB_SERIALIZE_MAX) {
			errno = EFBIG;
			return NULL;
		}
		n = cap == 0 ? 4096 : cap * 2;
		if ((nbuf = realloc(buf, n)) == NULL) {
			errno = ENOMEM;
			return NULL;
		}
		buf = nbuf;
		cap = n;
	}
	n = strlen(buf);
	buf[n] = '\n';
	buf[n + 1] = '\0';
	*len = n + 1;
	return buf;
}

int64_t
backoff_delay_ms(double base, double max, long n)
{
	double secs = 1;

	if (base < 1)
		base = 1;
	if (n < 1)
		n = 1;
	/* base^n by squaring (n is a whole number: no pow(3), so no libm to
	 * load at every start), done once it passes max */
	for (long k = n; k > 0 && secs <= max; k >>= 1) {
		if (k & 1)
			secs *= base;
		base *= base;
	}
	if (!isfinite(secs) || secs > max)
		secs = max;
	if (secs < 0)
		secs = 0;
	return (int64_t)(secs * 1000 + 0.5);    /* secs >= 0 */
}

ssize_t
job_log_marker(const char *p, size_t n, long *attempt)
{
	static const char pre[] = JOB_LOG_MARKER_PREFIX;
	const size_t k = sizeof pre - 1;
	char line[JOB_LOG_MARKER_MAX + 1], *q;
	const char *nl;
	size_t len, d;

	if (memcmp(p, pre, n < k ? n : k) != 0)
		return 0;
	len = n < JOB_LOG_MARKER_MAX ? n : JOB_LOG_MARKER_MAX;
	if ((nl = memchr(p, '\n', len)) == NULL)
		return n < JOB_LOG_MARKER_MAX ? -1 : 0;
	len = (size_t)(nl - p);
	memcpy(line, p, len);
	line[len] = '\0';
	if (len < k + 15 || strcmp(line + len - 4, " ===") != 0)
		return 0;
	line[len - 4] = '\0';          /* "...attempt N on W at T" */
	q = line + k;
	if ((d = strspn(q, "0123456789")) == 0 || d > 9 ||
	    strncmp(q + d, " on ", 4) != 0)
		return 0;
	*attempt = strtol(q, NULL, 10);
	q += d + 4;
	if ((d = strspn(q, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-")) == 0 || strncmp(q + d, " at ", 4) != 0)
		return 0;
	q += d + 4;
	if ((d = strspn(q, "0123456789-:.TZ")) == 0 || q[d] != '\0' ||
	    *attempt <= 0)
		return 0;
	return (ssize_t)len + 1;
}
