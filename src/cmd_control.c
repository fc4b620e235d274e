/*
 * cmd_control.c - queuectl hold ID... | release ID... | cancel ID... |
 * pause | resume
 *
 * Each job is handled under SPOOL/lock (control.c's transitions need it);
 * the ids that changed are printed, one a line. Exit status: 0, or the
 * last failure's: 1 (the job is in a state where the action does not
 * apply), 65 (invalid id), 66 (no such job), 75 (it kept moving; a running
 * job not cancelled in time), 73/74.
 */
#include <err.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"
#include "lease.h"
#include "util.h"

#define EX_STATE_ 1       /* the job's state does not allow the action */

/* One id's action (lock held): 0 done, 1 nothing to do, -1 with errno. */
typedef int (*control_fn)(struct spool *, const char *, int *);

/* Report a failure of verb on id found in state; the exit status. */
static int
failed(const char *verb, const char *id, int state, int e)
{
	switch (e) {
	case EINVAL:
		warnx("%s: cannot %s: its file is not a valid job", id, verb);
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

/* fn(sp, id, state) under SPOOL/lock; -1 with errno if that fails. */
static int
locked(struct spool *sp, control_fn fn, const char *id, int *state)
{
	int lockfd, r, e;

	if ((lockfd = spool_lock(sp)) == -1)
		return -1;
	r = fn(sp, id, state);
	e = errno;
	close(lockfd);
	errno = e;
	return r;
}

/* Apply fn to id under SPOOL/lock; print the id if it changed. */
static int
control_one(struct spool *sp, const char *verb, control_fn fn,
    const char *id)
{
	int r, state = -1;

	if ((r = locked(sp, fn, id, &state)) == -1)
		return failed(verb, id, state, errno);
	if (r == 1)
		warnx("%s: already %s", id, state_name(state));
	else
		printf("%s\n", id);
	return 0;
}

/*
 * cancel of a running job: wait, on inotify of cancel/ (the request's
 * removal) and of the directories the job may go to, until it has left its
 * lease, then finish the cancel (control_cancel). A lease of a dead worker
 * is reclaimed first. CANCEL_*, or -1: ETIMEDOUT after kill_grace + 5 s.
 */
#define CANCEL_MARGIN_MS 5000

static int
cancel_watch(struct spool *sp)
{
	static const int dirs[] = { ST_PENDING, ST_FAILED, ST_DONE, ST_DEAD };
	char path[PATH_MAX + 16];
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC), e;

	if (fd == -1)
		return -1;
	if (fmt_checked(path, sizeof path, "%s/cancel", sp->path) == -1 ||
	    inotify_add_watch(fd, path, IN_DELETE | IN_MOVED_FROM |
	    IN_ONLYDIR) == -1)
		goto fail;
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
		if (fmt_checked(path, sizeof path, "%s/%s", sp->path,
		    state_dir(dirs[i])) == -1 ||
		    inotify_add_watch(fd, path, IN_MOVED_TO | IN_ONLYDIR) == -1)
			goto fail;
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

static int
cancel_wait(struct spool *sp, const char *id, int *state)
{
	int64_t deadline = mono_ms() + CANCEL_MARGIN_MS +
	    (int64_t)(sp->cfg.kill_grace * 1000);
	int fd = cancel_watch(sp), r, nl = 0, nj = 0, e;
	struct pollfd p;

	if (fd == -1)
		return -1;
	lease_reclaim_dead(sp, NULL, &nl, &nj);   /* its worker may be dead */
	while ((r = locked(sp, control_cancel, id, state)) == CANCEL_RUNNING) {
		int64_t left = deadline - mono_ms();

		if (left <= 0) {
			errno = ETIMEDOUT;
			r = -1;
			break;
		}
		p = (struct pollfd){ .fd = fd, .events = POLLIN };
		if (poll(&p, 1, (int)left) == -1 && errno != EINTR) {
			r = -1;
			break;
		}
		fd_drain(fd);
	}
	e = errno;
	close(fd);
	errno = e;
	return r;
}

/* Cancel id, waiting for a running one; print the id if it is cancelled. */
static int
cancel_one(struct spool *sp, const char *verb, control_fn fn,
    const char *id)
{
	int r, state = -1, ran = 0;

	if ((r = locked(sp, fn, id, &state)) == CANCEL_RUNNING) {
		ran = 1;
		r = cancel_wait(sp, id, &state);
	}
	if (r == -1 && errno == ETIMEDOUT) {
		warnx("%s: still running after %g s; the request stays in "
		    "%s/cancel/%s for its worker", id, sp->cfg.kill_grace +
		    CANCEL_MARGIN_MS / 1000, sp->path, id);
		return EX_TEMPFAIL_;
	}
	if (r == -1)
		return failed(verb, id, state, errno);
	if (r == CANCEL_FINISHED) {
		warnx("%s: %s %s: nothing to cancel", id, ran ?
		    "finished before the cancel took effect:" : "already",
		    state_name(state));
		return EX_STATE_;
	}
	printf("%s\n", id);
	return 0;
}

/* The command: verb ID...; one(sp, verb, fn, id) for each valid id. */
static int
control_cmd(const char *verb, int (*one)(struct spool *, const char *,
    control_fn, const char *), control_fn fn, int argc, char **argv)
{
	const struct cmd *c = cli_find(verb);
	struct spool sp;
	int r, status = 0;

	if ((r = cli_help(c, argc, argv)) != -1)
		return r;
	if (argc < 2)
		return cli_usage_error(c);
	for (int i = 1; i < argc; i++)
		if (argv[i][0] == '-')     /* no options; no id starts so */
			return cli_usage_error(c);
	cli_open(&sp);
	for (int i = 1; i < argc; i++) {
		if (!id_valid(argv[i])) {
			warnx("invalid id: %s", argv[i]);
			status = EX_DATAERR_;
		} else if ((r = one(&sp, verb, fn, argv[i])) != 0)
			status = r;
	}
	spool_close(&sp);
	return status;
}

int
cmd_hold(int argc, char **argv)
{
	return control_cmd("hold", control_one, control_hold, argc, argv);
}

int
cmd_release(int argc, char **argv)
{
	return control_cmd("release", control_one, control_release, argc,
	    argv);
}

int
cmd_cancel(int argc, char **argv)
{
	return control_cmd("cancel", cancel_one, control_cancel, argc, argv);
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
