/*
 * cmd_control.c - queuectl hold ID... | release ID... | pause | resume
 *
 * Each job is handled under SPOOL/lock (control.c's transitions need it);
 * the ids that changed are printed, one a line. Exit status: 0, or the
 * last failure's: 1 (the job is in a state where the action does not
 * apply), 65 (invalid id), 66 (no such job), 75 (it kept moving), 73/74.
 */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"

#define EX_STATE_ 1       /* the job's state does not allow the action */

/* One id's action (lock held): 0 done, 1 nothing to do, -1 with errno. */
typedef int (*control_fn)(struct spool *, const char *, int *);

/* Report a failure of verb on id found in state; the exit status. */
static int
failed(const char *verb, const char *id, int state, int e)
{
	switch (e) {
	case EINVAL:
		warnx("invalid id: %s", id);
		return EX_DATAERR_;
	case ENOENT:
		warnx("%s: no such job", id);
		return EX_NOINPUT_;
	case EBUSY:
		warnx("%s: cannot %s: it is %s", id, verb, state_name(state));
		return EX_STATE_;
	case EAGAIN:
		warnx("%s: cannot %s: it keeps moving; try again", id, verb);
		return EX_TEMPFAIL_;
	case EEXIST:
		warnx("%s: cannot %s: %s/ has a job of that id", id, verb,
		    state_dir(ST_PENDING));
		return EX_CANTCREAT_;
	default:
		errno = e;
		warn("%s: cannot %s", id, verb);
		return cli_exit_for(e);
	}
}

/* Apply fn to id under SPOOL/lock; print the id if it changed. */
static int
control_one(struct spool *sp, const char *verb, control_fn fn,
    const char *id)
{
	int lockfd, r, state = -1, e;

	if (!id_valid(id))
		return failed(verb, id, state, EINVAL);
	if ((lockfd = spool_lock(sp)) == -1) {
		warn("%s/lock", sp->path);
		return EX_IOERR_;
	}
	r = fn(sp, id, &state);
	e = errno;
	close(lockfd);
	if (r == -1)
		return failed(verb, id, state, e);
	if (r == 1)
		warnx("%s: already %s", id, state_name(state));
	else
		printf("%s\n", id);
	return 0;
}

/* The command: verb ID...; fn for each id. */
static int
control_cmd(const char *verb, control_fn fn, int argc, char **argv)
{
	const struct cmd *c = cli_find(verb);
	struct spool sp;
	int r, status = 0;

	if ((r = cli_help(c, argc, argv)) != -1)
		return r;
	if (argc < 2 || argv[1][0] == '-') {
		cli_usage(stderr, c);
		return EX_USAGE_;
	}
	cli_open(&sp);
	for (int i = 1; i < argc; i++)
		if ((r = control_one(&sp, verb, fn, argv[i])) != 0)
			status = r;
	spool_close(&sp);
	return status;
}

int
cmd_hold(int argc, char **argv)
{
	return control_cmd("hold", control_hold, argc, argv);
}

int
cmd_release(int argc, char **argv)
{
	return control_cmd("release", control_release, argc, argv);
}

/* pause or resume: no argument; fn is control_pause or control_resume. */
static int
flag_cmd(const char *verb, int (*fn)(struct spool *), const char *done,
    const char *already, int argc, char **argv)
{
	const struct cmd *c = cli_find(verb);
	struct spool sp;
	char why[512];
	int r;

	if ((r = cli_no_args(c, argc, argv)) != -1)
		return r;
	cli_open(&sp);
	if ((r = fn(&sp)) == -1)
		err(cli_exit_for(errno), "%s/%s", sp.path, CONTROL_PAUSED);
	if (r == 1 && control_paused(&sp, why, sizeof why))
		warnx("%s %s", already, why);
	else if (r == 1)
		warnx("%s", already);
	else
		printf("%s\n", done);
	spool_close(&sp);
	return 0;
}

int
cmd_pause(int argc, char **argv)
{
	return flag_cmd("pause", control_pause, "paused: workers finish their "
	    "current job and claim nothing new until 'queuectl resume'",
	    "already paused", argc, argv);
}

int
cmd_resume(int argc, char **argv)
{
	return flag_cmd("resume", control_resume, "resumed", "not paused",
	    argc, argv);
}
