/*
 * cli.c - helpers shared by the commands. See cli.h.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>

#include "cli.h"
#include "util.h"

#define WORD_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_"

void
cli_open(struct spool *sp)
{
	char path[PATH_MAX], msg[PATH_MAX + 256];

	if (spool_path(cli_spool_opt, path, sizeof path) == -1)
		err(EX_USAGE_, "cannot work out the spool path (set QUEUECTL_SPOOL)");
	if (spool_open(sp, path, msg, sizeof msg) == -1) {
		int e = errno;

		warnx("%s", msg);
		exit(e == EPERM || e == EACCES ? EX_NOPERM_ : cli_exit_for(e));
	}
	if (sp->cfg_error[0] != '\0')
		warnx("%s/config: %s (using the defaults; fix it with "
		    "'queuectl config set' or an editor)", sp->path, sp->cfg_error);
}

int
cli_exit_for(int e)
{
	switch (e) {
	case ENOENT:
		return EX_NOINPUT_;
	case EEXIST:
		return EX_CANTCREAT_;
	case EINVAL:
		return EX_DATAERR_;
	case EAGAIN:
	case EINTR:
	case EMFILE:
	case ENFILE:
		return EX_TEMPFAIL_;
	case EPERM:
	case EACCES:
		return EX_NOPERM_;
	case ENOMEM:
		return EX_OSERR_;
	default:
		return EX_IOERR_;
	}
}

void
cli_usage(FILE *f, const struct cmd *c)
{
	fprintf(f, "usage: queuectl %s\n", c->usage);
}

/* Does the usage text u name the metavariable m (a whole word)? */
static int
names_word(const char *u, const char *m)
{
	size_t n = strlen(m);

	for (const char *p = u; (p = strstr(p, m)) != NULL; p += n)
		if ((p == u || !strchr(WORD_CHARS, p[-1])) &&
		    (p[n] == '\0' || !strchr(WORD_CHARS, p[n])))
			return 1;
	return 0;
}

/*
 * After the usage, one line for each metavariable of c's usage whose values
 * are a known set: "STATE is one of: pending processing ...", "KEY is one
 * of: max_retries ...". The bash completion (contrib/bash-completion)
 * reads these lines: keep the form.
 */
static void
help_values(const struct cmd *c)
{
	if (names_word(c->usage, "STATE")) {
		printf("STATE is one of:");
		for (int i = 0; i < ST_NSTATES; i++)
			printf(" %s", state_name(i));
		printf("\n");
	}
	if (names_word(c->usage, "KEY")) {
		printf("KEY is one of:");
		for (size_t i = 0; i < config_nkeys; i++)
			printf(" %s", config_keys[i]);
		printf("\n");
	}
}

int
cli_show_help(const struct cmd *c)
{
	cli_usage(stdout, c);
	printf("%s; see queuectl(1).\n", c->summary);
	help_values(c);
	return 0;
}

int
cli_usage_error(const struct cmd *c)
{
	cli_usage(stderr, c);
	return EX_USAGE_;
}

int
cli_help(const struct cmd *c, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0)
			return cli_show_help(c);
	}
	return -1;
}

int
cli_no_args(const struct cmd *c, int argc, char **argv)
{
	int r;

	if ((r = cli_help(c, argc, argv)) != -1)
		return r;
	if (argc != 1)
		return cli_usage_error(c);
	return -1;
}

static int
idlist_add(int dirfd, const char *name, void *arg)
{
	struct idlist *ids = arg;

	(void)dirfd;
	if (ids->n == ids->cap) {
		size_t cap = ids->cap ? ids->cap * 2 : 64;
		char (*v)[ID_MAX + 1] = reallocarray(ids->v, cap, sizeof *v);

		if (v == NULL)
			return -1;
		ids->v = v;
		ids->cap = cap;
	}
	if (id_from_name(name, ids->v[ids->n]) == 0)
		ids->n++;
	return 0;
}

int
idlist_of_dir(int dirfd, struct idlist *ids)
{
	return spool_each(dirfd, ".json", idlist_add, ids) != 0 ? -1 : 0;
}

long
cli_int_opt(const char *name, const char *s, long lo, long hi)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || errno != 0 || v < lo || v > hi) {
		if (hi == LONG_MAX)
			errx(EX_USAGE_, "--%s: must be an integer from %ld", name,
			    lo);
		errx(EX_USAGE_, "--%s: must be an integer from %ld to %ld", name,
		    lo, hi);
	}
	return v;
}

void
cli_put_safe(const char *s, int width)
{
	int n = 0;

	for (; *s != '\0'; s++, n++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
	for (; n < width; n++)
		putchar(' ');
}

void
cli_print_json(cJSON *doc)
{
	char *s = doc != NULL ? cJSON_Print(doc) : NULL;

	if (s == NULL)
		errx(EX_OSERR_, "out of memory");
	puts(s);
	free(s);
	cJSON_Delete(doc);
}

static int
joblist_push(struct joblist *jl, struct job *j, int state)
{
	if (jl->n == jl->cap) {
		size_t cap = jl->cap ? jl->cap * 2 : 64;
		struct job *v = reallocarray(jl->v, cap, sizeof *v);
		int *st;

		if (v == NULL)
			return -1;
		jl->v = v;
		if ((st = reallocarray(jl->state, cap, sizeof *st)) == NULL)
			return -1;
		jl->state = st;
		jl->cap = cap;
	}
	jl->v[jl->n] = *j;
	jl->state[jl->n] = state;
	jl->n++;
	return 0;
}

struct add_arg {
	struct joblist *jl;
	int state;
};

static int
add_one(int dirfd, const char *name, void *arg)
{
	struct add_arg *aa = arg;
	char id[ID_MAX + 1], err[256];
	struct stat st;
	struct job j;

	if (id_from_name(name, id) == -1)
		return 0;
	/* A file that vanished or does not parse is not listed. */
	if (spool_job_read(dirfd, id, &j, err, sizeof err) == -1)
		return 0;
	/* A dropped-in job has no created_at until a worker claims it: sort
	 * it by when its file was written. */
	if (j.created_at == 0 && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		j.created_at = stat_mtime_ms(&st);
	if (joblist_push(aa->jl, &j, aa->state) == -1) {
		job_free(&j);
		return -1;
	}
	return 0;
}

static int
add_leased(int dirfd, const char *name, const char *lease, void *arg)
{
	(void)lease;
	return add_one(dirfd, name, arg);
}

int
joblist_add_state(struct spool *sp, int state, struct joblist *jl)
{
	struct add_arg aa = { jl, state };

	if (state == ST_PROCESSING)
		return spool_each_leased(sp, add_leased, &aa) == 0 ? 0 : -1;
	return spool_each(sp->dir[state], ".json", add_one, &aa) == 0 ? 0 : -1;
}

static struct joblist *sort_jl;

static int
job_cmp(const void *a, const void *b)
{
	const struct job *x = &sort_jl->v[*(const size_t *)a];
	const struct job *y = &sort_jl->v[*(const size_t *)b];

	if (x->created_at != y->created_at)
		return x->created_at < y->created_at ? -1 : 1;
	return strcmp(x->id, y->id);
}

void
joblist_sort(struct joblist *jl)
{
	size_t *ix = calloc(jl->n ? jl->n : 1, sizeof *ix);
	struct job *v = calloc(jl->n ? jl->n : 1, sizeof *v);
	int *st = calloc(jl->n ? jl->n : 1, sizeof *st);

	if (ix == NULL || v == NULL || st == NULL)
		errx(EX_OSERR_, "out of memory");
	for (size_t i = 0; i < jl->n; i++)
		ix[i] = i;
	sort_jl = jl;
	qsort(ix, jl->n, sizeof *ix, job_cmp);
	for (size_t i = 0; i < jl->n; i++) {
		v[i] = jl->v[ix[i]];
		st[i] = jl->state[ix[i]];
	}
	free(jl->v);
	free(jl->state);
	free(ix);
	jl->v = v;
	jl->state = st;
	jl->cap = jl->n ? jl->n : 1;
}

void
joblist_free(struct joblist *jl)
{
	for (size_t i = 0; i < jl->n; i++)
		job_free(&jl->v[i]);
	free(jl->v);
	free(jl->state);
	memset(jl, 0, sizeof *jl);
}

cJSON *
job_json(const struct job *j, int state, const char *dir)
{
	cJSON *o = cJSON_Duplicate(j->obj, 1);

	if (o == NULL)
		errx(EX_OSERR_, "out of memory");
	if (cJSON_GetObjectItemCaseSensitive(o, "state") != NULL)
		cJSON_ReplaceItemInObjectCaseSensitive(o, "state",
		    cJSON_CreateString(state_name(state)));
	else
		cJSON_AddStringToObject(o, "state", state_name(state));
	if (dir != NULL)
		cJSON_AddStringToObject(o, "dir", dir);
	return o;
}
