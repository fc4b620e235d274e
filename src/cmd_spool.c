/*
 * cmd_spool.c - queuectl init and recover (dead leases, tmp/, stale cancel
 * requests).
 */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "control.h"
#include "lease.h"
#include "util.h"

#define TMP_MAX_AGE_MS (24LL * 3600 * 1000)

int
cmd_init(int argc, char **argv)
{
	const struct cmd *c = cli_find("init");
	struct spool sp;
	int r;

	if ((r = cli_no_args(c, argc, argv)) != -1)
		return r;
	cli_open(&sp);
	printf("%s\n", sp.path);
	spool_close(&sp);
	return 0;
}

/* lease_reclaim_dead, waiting (RECOVER_WAIT_MS at most) while some of the
 * leases left are other hosts' not yet free long enough (EAGAIN). */
#define RECOVER_WAIT_MS (10 * 60 * 1000)
static int
recover_leases(struct spool *sp, int *nleases, int *njobs)
{
	struct timespec quarter = { 0, 250 * 1000 * 1000 };
	int64_t until = mono_ms() + RECOVER_WAIT_MS;
	int r, said = 0;

	while ((r = lease_reclaim_dead(sp, NULL, nleases, njobs)) == -1 &&
	    errno == EAGAIN && mono_ms() < until) {
		if (!said++)
			warnx("waiting until the dead leases of other hosts have "
			    "been free for their lease_timeout + 1 s");
		nanosleep(&quarter, NULL);
	}
	return r;
}

int
cmd_recover(int argc, char **argv)
{
	const struct cmd *c = cli_find("recover");
	struct spool sp;
	int nleases = 0, njobs = 0, r, swept, cancels;

	if ((r = cli_no_args(c, argc, argv)) != -1)
		return r;
	cli_open(&sp);
	r = recover_leases(&sp, &nleases, &njobs);
	swept = spool_sweep_tmp(&sp, TMP_MAX_AGE_MS);
	cancels = control_cancel_sweep(&sp, 0);
	printf("reclaimed %d job%s from %d dead worker%s\n", njobs,
	    njobs == 1 ? "" : "s", nleases, nleases == 1 ? "" : "s");
	if (swept > 0)
		printf("removed %d stale file%s from tmp/\n", swept,
		    swept == 1 ? "" : "s");
	if (cancels > 0)
		printf("settled %d cancel request%s\n", cancels,
		    cancels == 1 ? "" : "s");
	spool_close(&sp);
	if (r == -1) {
		warnx("some leases could not be fully reclaimed; see %s/processing",
		    sp.path);
		return EX_TEMPFAIL_;
	}
	return 0;
}
