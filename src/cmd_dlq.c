/*
 * cmd_dlq.c - queuectl dlq list | retry ID... | retry --all.
 *
 * dead/ holds dead jobs (<id>.json) and quarantined files (<qid>.invalid
 * with <qid>.reason). retry rewrites a dead job in place (attempts 0, errors
 * cleared, state pending) and moves it to pending/.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>

#include "cli.h"
#include "util.h"

/* The fields of a .reason file: "key: value" lines. */
static void
reason_field(const char *text, const char *key, char *out, size_t n)
{
	size_t k = strlen(key);

	out[0] = '\0';
	for (const char *p = text; p != NULL && *p; p = strchr(p, '\n'),
	    p = p != NULL ? p + 1 : NULL) {
		if (strncmp(p, key, k) == 0 && p[k] == ':') {
			const char *v = p + k + 1 + (p[k + 1] == ' ');

			snprintf(out, n, "%.*s", (int)strcspn(v, "\n"), v);
			return;
		}
	}
}

struct inv_arg {
	cJSON *arr;
};

static int
invalid_one(int dirfd, const char *name, void *arg)
{
	struct inv_arg *ia = arg;
	char qid[ID_MAX + 16], rname[ID_MAX + 24], file[512], reason[512];
	char *text;
	size_t len;
	cJSON *o;

	snprintf(qid, sizeof qid, "%.*s", (int)(strlen(name) - 8), name);
	snprintf(rname, sizeof rname, "%s.reason", qid);
	text = file_read_at(dirfd, rname, 65536, &len);
	reason_field(text != NULL ? text : "", "reason", reason, sizeof reason);
	reason_field(text != NULL ? text : "", "file", file, sizeof file);
	free(text);
	if (ia->arr != NULL) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "id", qid);
		cJSON_AddStringToObject(o, "state", "dead");
		cJSON_AddTrueToObject(o, "invalid");
		cJSON_AddStringToObject(o, "file", file);
		cJSON_AddStringToObject(o, "reason", reason);
		cJSON_AddItemToArray(ia->arr, o);
	} else {
		/* the file's name is a drop-in's: any bytes but '/' and NUL */
		cli_put_safe(qid, 28);
		fputs(" invalid  ", stdout);
		cli_put_safe(file, 0);
		fputs(": ", stdout);
		cli_put_safe(reason, 0);
		putchar('\n');
	}
	return 0;
}

static int
dlq_list(struct spool *sp, int json)
{
	struct joblist jl = { 0 };
	struct inv_arg ia;
	cJSON *arr = json ? cJSON_CreateArray() : NULL;

	if (joblist_add_state(sp, ST_DEAD, &jl) == -1)
		err(EX_IOERR_, "%s/dead", sp->path);
	joblist_sort(&jl);
	for (size_t i = 0; i < jl.n; i++) {
		const struct job *j = &jl.v[i];
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(j->obj,
		    "last_error");

		if (json)
			cJSON_AddItemToArray(arr, job_json(j, ST_DEAD, NULL));
		else {
			printf("%-28s %3ld  ", j->id, j->attempts);
			cli_put_safe(cJSON_IsString(e) ? e->valuestring : "-", 24);
			putchar(' ');
			cli_put_safe(j->command, 0);
			putchar('\n');
		}
	}
	ia.arr = arr;
	if (spool_each(sp->dir[ST_DEAD], ".invalid", invalid_one, &ia) == -1)
		err(EX_IOERR_, "%s/dead", sp->path);
	if (json)
		cli_print_json(arr);
	joblist_free(&jl);
	return 0;
}

/* Retry one dead job. Returns 0 or an exit status. */
static int
retry_one(struct spool *sp, const char *id)
{
	char err[256], inv[ID_MAX + 16];
	struct stat st;

	if (!id_valid(id)) {
		warnx("invalid id: %s", id);
		return EX_DATAERR_;
	}
	if (spool_dlq_retry(sp, id, err, sizeof err) == 0) {
		printf("%s\n", id);
		return 0;
	}
	snprintf(inv, sizeof inv, "%s.invalid", id);
	if (errno == ENOENT && fstatat(sp->dir[ST_DEAD], inv, &st,
	    AT_SYMLINK_NOFOLLOW) == 0) {
		warnx("%s: a quarantined file, not a job: fix dead/%s "
		    "and mv it to pending/%s.json", id, inv, id);
		return EX_DATAERR_;
	}
	if (errno == ENOENT) {
		warnx("%s: not in the dead letter queue", id);
		return EX_NOINPUT_;
	}
	if (errno == EINVAL) {
		warnx("%s: %s", id, err);
		return EX_DATAERR_;
	}
	warn("%s: cannot retry", id);
	return cli_exit_for(errno);
}

/* Retry every job of dead/ (ids collected first: a retry rewrites the
 * file in dead/ before it moves it). */
static int
retry_all(struct spool *sp)
{
	struct idlist ids = { NULL, 0, 0 };
	int status = 0, r;

	if (idlist_of_dir(sp->dir[ST_DEAD], &ids) != 0)
		err(EX_IOERR_, "%s/dead", sp->path);
	for (size_t i = 0; i < ids.n; i++)
		if ((r = retry_one(sp, ids.v[i])) != 0)
			status = r;
	free(ids.v);
	return status;
}

int
cmd_dlq(int argc, char **argv)
{
	const struct cmd *c = cli_find("dlq");
	struct spool sp;
	int r, status = 0;

	if ((r = cli_help(c, argc, argv)) != -1)
		return r;
	if (argc >= 2 && strcmp(argv[1], "list") == 0 && (argc == 2 ||
	    (argc == 3 && strcmp(argv[2], "--json") == 0))) {
		cli_open(&sp);
		r = dlq_list(&sp, argc == 3);
		spool_close(&sp);
		return r;
	}
	if (argc >= 3 && strcmp(argv[1], "retry") == 0) {
		cli_open(&sp);
		if (argc == 3 && strcmp(argv[2], "--all") == 0)
			status = retry_all(&sp);
		else {
			for (int i = 2; i < argc; i++)
				if ((r = retry_one(&sp, argv[i])) != 0)
					status = r;
		}
		spool_close(&sp);
		return status;
	}
	return cli_usage_error(c);
}
