/*
 * cmd_status.c - the read-only views: status, list, show (logs:
 * cmd_wait.c).
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"
#include "deps.h"
#include "lease.h"
#include "util.h"

struct avg {
	double sum;
	long n;
};

static int
avg_one(int dirfd, const char *name, void *arg)
{
	struct avg *a = arg;
	size_t len;
	char *text = file_read_at(dirfd, name, JOB_MAX_BYTES, &len);
	cJSON *o = text != NULL ? cJSON_ParseWithLength(text, len) : NULL;
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(o, "duration_ms");

	if (cJSON_IsNumber(d)) {
		a->sum += d->valuedouble;
		a->n++;
	}
	cJSON_Delete(o);
	free(text);
	return 0;
}

/* One worker of status --json. */
static cJSON *
worker_json(const struct lease_info *li)
{
	cJSON *w = cJSON_CreateObject();

	cJSON_AddStringToObject(w, "id", li->id);
	cJSON_AddNumberToObject(w, "pid", (double)li->pid);
	if (li->job[0] != '\0')
		cJSON_AddStringToObject(w, "job", li->job);
	else
		cJSON_AddNullToObject(w, "job");
	cJSON_AddStringToObject(w, "host", li->host);
	if (li->fs[0] != '\0')
		cJSON_AddStringToObject(w, "fs", li->fs);
	else
		cJSON_AddNullToObject(w, "fs");
	cJSON_AddStringToObject(w, "watch", li->poll_ms > 0 ? "inotify+poll" :
	    "inotify");
	cJSON_AddNumberToObject(w, "poll_interval", li->poll_ms / 1000.0);
	return w;
}

static cJSON *
status_json(struct spool *sp, long counts[], struct lease_info *li, int n,
    struct avg *a)
{
	char warn[4][CONFIG_WARN_MAX];
	cJSON *doc = cJSON_CreateObject(), *jobs, *ws, *wa;
	int nw = cli_settings_warnings(sp, NULL, NULL, warn, 4);

	cJSON_AddStringToObject(doc, "spool", sp->path);
	jobs = cJSON_AddObjectToObject(doc, "jobs");
	for (int s = 0; s < ST_NSTATES; s++)
		cJSON_AddNumberToObject(jobs, state_name(s), (double)counts[s]);
	cJSON_AddBoolToObject(doc, "paused", control_paused(sp, NULL, 0));
	ws = cJSON_AddArrayToObject(doc, "workers");
	for (int i = 0; i < n; i++)
		if (li[i].alive)
			cJSON_AddItemToArray(ws, worker_json(&li[i]));
	if (a->n > 0)
		cJSON_AddNumberToObject(doc, "avg_duration_ms", a->sum / a->n);
	else
		cJSON_AddNullToObject(doc, "avg_duration_ms");
	wa = cJSON_AddArrayToObject(doc, "warnings");
	for (int i = 0; i < nw; i++)
		cJSON_AddItemToArray(wa, cJSON_CreateString(warn[i]));
	return doc;
}

/* The settings warnings (queuectl doctor tells more). */
static void
status_warnings(struct spool *sp)
{
	char warn[4][CONFIG_WARN_MAX];
	int n = cli_settings_warnings(sp, NULL, NULL, warn, 4);

	for (int i = 0; i < n; i++)
		printf("warning: %s\n", warn[i]);
	if (n > 0)
		printf("(see 'queuectl doctor')\n");
}

static void
status_text(struct spool *sp, long counts[], struct lease_info *li, int n,
    struct avg *a)
{
	int alive = 0, dead = 0;
	char why[512];
	const char *fs;

	printf("spool: %s\njobs: ", sp->path);
	for (int s = 0; s < ST_NSTATES; s++)
		printf("%s%s %ld", s ? ", " : "", state_name(s), counts[s]);
	for (int i = 0; i < n; i++)
		li[i].alive ? alive++ : dead++;
	if (control_paused(sp, why, sizeof why))
		printf("\npaused %s: workers claim nothing new until "
		    "'queuectl resume'", why);
	printf("\nworkers: %d\n", alive);
	for (int i = 0; i < n; i++) {
		if (!li[i].alive)
			continue;
		printf("  %s  pid %ld  ", li[i].id, (long)li[i].pid);
		if (li[i].job[0] != '\0')
			printf("running %s for %.1f s", li[i].job,
			    (double)(now_ms() - li[i].job_started_at) / 1000);
		else
			printf("idle");
		fs = li[i].fs[0] != '\0' ? li[i].fs : "?";
		if (li[i].poll_ms > 0)
			printf("  (%s: inotify + poll every %g s)\n", fs,
			    li[i].poll_ms / 1000.0);
		else
			printf("  (%s: inotify)\n", fs);
	}
	if (dead > 0)
		printf("dead leases: %d (reclaimed by the next worker or "
		    "'queuectl recover')\n", dead);
	if (a->n > 0)
		printf("average duration: %.0f ms over %ld done jobs\n",
		    a->sum / a->n, a->n);
	else
		printf("average duration: -\n");
	status_warnings(sp);
}

int
cmd_status(int argc, char **argv)
{
	const struct cmd *c = cli_find("status");
	struct avg a = { 0, 0 };
	struct lease_info *li;
	long counts[ST_NSTATES];
	struct spool sp;
	int n, json = 0, r;

	if ((r = cli_help(c, argc, argv)) != -1)
		return r;
	if (argc == 2 && strcmp(argv[1], "--json") == 0)
		json = 1;
	else if (argc != 1)
		return cli_usage_error(c);
	cli_open(&sp);
	for (int s = 0; s < ST_NSTATES; s++)
		if ((counts[s] = spool_count(&sp, s)) == -1)
			err(cli_exit_for(errno), "%s/%s", sp.path, state_dir(s));
	if ((n = lease_list(&sp, &li)) == -1)
		err(cli_exit_for(errno), "%s/processing", sp.path);
	spool_each(sp.dir[ST_DONE], ".json", avg_one, &a);
	if (json)
		cli_print_json(status_json(&sp, counts, li, n, &a));
	else
		status_text(&sp, counts, li, n, &a);
	free(li);
	spool_close(&sp);
	return 0;
}

/* One line of list output: command on one line, control chars as '?'. */
static void
list_line(const struct job *j, int state)
{
	printf("%-28s %-10s %3ld  ", j->id, state_name(state), j->attempts);
	cli_put_safe(j->command, 0);
	putchar('\n');
}

int
cmd_list(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const struct cmd *c = cli_find("list");
	struct joblist jl = { 0 };
	int only = -1, json = 0, ch;
	struct spool sp;
	cJSON *arr;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "hs:j", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if ((only = state_from_name(optarg)) == -1)
				errx(EX_USAGE_, "--state: not a state: %s (pending,"
				    " processing, done, failed, dead, held)", optarg);
			break;
		case 'j': json = 1; break;
		case 'h': return cli_show_help(c);
		default: return cli_usage_error(c);
		}
	}
	if (optind != argc)
		return cli_usage_error(c);
	cli_open(&sp);
	for (int s = 0; s < ST_NSTATES; s++)
		if ((only == -1 || only == s) && joblist_add_state(&sp, s, &jl) == -1)
			err(EX_IOERR_, "%s/%s", sp.path, state_dir(s));
	joblist_sort(&jl);
	arr = json ? cJSON_CreateArray() : NULL;
	for (size_t i = 0; i < jl.n; i++)
		if (json)
			cJSON_AddItemToArray(arr, job_json(&jl.v[i], jl.state[i],
			    NULL));
		else
			list_line(&jl.v[i], jl.state[i]);
	if (json)
		cli_print_json(arr);
	joblist_free(&jl);
	spool_close(&sp);
	return 0;
}

/* Find id or exit 66. */
static void
find_or_exit(struct spool *sp, const char *id, struct spool_loc *loc)
{
	if (!id_valid(id))
		errx(EX_DATAERR_, "invalid id: %s", id);
	if (spool_find(sp, id, loc) == -1) {
		if (errno == ENOENT)
			errx(EX_NOINPUT_, "no such job: %s", id);
		err(EX_IOERR_, "%s", id);
	}
}

static void
show_text(const struct job *j, const char *dir)
{
	const cJSON *it;

	printf("%-12s %s\n", "dir", dir);
	cJSON_ArrayForEach(it, j->obj) {
		char *v = cJSON_IsString(it) ? NULL : cJSON_PrintUnformatted(it);

		printf("%-12s %s\n", it->string, v != NULL ? v : it->valuestring);
		free(v);
	}
}

/*
 * Why a pending job with dependencies does not run yet, into buf: "waiting
 * for ID", or "dependency ID failed" / "unknown" (it is on its way to
 * dead/); NULL if nothing holds it.
 */
static const char *
blocked_by(struct spool *sp, const struct job *j, int state, char *buf,
    size_t n)
{
	char which[ID_MAX + 1];
	int r;

	if (state != ST_PENDING || !deps_apply(j) ||
	    (r = deps_check(sp, j, which)) == -1 || r == DEPS_READY)
		return NULL;
	if (r == DEPS_BLOCKED)
		snprintf(buf, n, "waiting for %s", which);
	else
		deps_reason(r, which, buf, n);
	return buf;
}

int
cmd_show(int argc, char **argv)
{
	const struct cmd *c = cli_find("show");
	struct spool_loc loc;
	struct spool sp;
	struct job j;
	char err[256], why[ID_MAX + 32];
	int json = 0, r;
	const char *id = NULL, *blocked;

	if ((r = cli_help(c, argc, argv)) != -1)
		return r;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (id == NULL)
			id = argv[i];
		else
			id = "";
	}
	if (id == NULL || *id == '\0')
		return cli_usage_error(c);
	cli_open(&sp);
	find_or_exit(&sp, id, &loc);
	if (spool_job_read(loc.dirfd, id, &j, err, sizeof err) == -1)
		errx(errno == ENOENT ? EX_TEMPFAIL_ : EX_DATAERR_, "%s: %s", id,
		    errno == ENOENT ? "moved while reading; try again" : err);
	blocked = blocked_by(&sp, &j, loc.state, why, sizeof why);
	if (json) {
		cJSON *o = job_json(&j, loc.state, loc.dir);

		if (blocked != NULL)
			cJSON_AddStringToObject(o, "blocked", blocked);
		cli_print_json(o);
	} else {
		show_text(&j, loc.dir);
		if (blocked != NULL)
			printf("%-12s %s\n", "blocked", blocked);
	}
	job_free(&j);
	spool_loc_free(&loc);
	spool_close(&sp);
	return 0;
}
