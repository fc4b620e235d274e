/*
 * cmd_doctor.c - queuectl doctor: the spool's filesystem, how workers will
 * watch it, and whether the multi-host settings keep their rule
 * (spool-layout/README.md, "Several hosts"). Also the settings warnings
 * that status shows.
 */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "fsinfo.h"
#include "lease.h"
#include "util.h"

int
cli_settings_warnings(struct spool *sp, int *network, const char **fs,
    char warn[][CONFIG_WARN_MAX], int max)
{
	struct config_timing t;
	const char *name = "unknown";
	int net = fs_probe(sp->root, &name);

	if (net == -1)
		net = 0;
	if (network != NULL)
		*network = net;
	if (fs != NULL)
		*fs = name;
	config_timing(&sp->cfg, net, &t);
	return config_timing_warnings(&t, net, warn, max);
}

/* What the workers of this host will do, from the settings in force. */
static void
doctor_modes(struct spool *sp, const char *fs, int network)
{
	struct config_timing t;

	config_timing(&sp->cfg, network, &t);
	printf("filesystem: %s (%s)\n", fs, network ? "network or FUSE: "
	    "inotify sees only the changes made on this host" : "local");
	if (t.poll_ms > 0)
		printf("workers watch: inotify, and rescan every %g s "
		    "(poll_interval)\n", t.poll_ms / 1000.0);
	else
		printf("workers watch: inotify only (poll_interval 0)\n");
	printf("lease: confirmed every %g s (lease_check), fenced after %g s "
	    "without confirmation (lease_timeout)", t.check_ms / 1000.0,
	    t.timeout_ms / 1000.0);
	if (network)
		printf("; lock failover %g s (lock_failover)",
		    t.failover_ms / 1000.0);
	printf("\n");
}

/* The spool root's owner and mode (spool_open refuses the bad ones). */
static void
doctor_perms(struct spool *sp)
{
	struct stat st;

	if (fstat(sp->root, &st) == -1)
		err(EX_IOERR_, "%s", sp->path);
	printf("permissions: mode %04o, owner uid %ld: ok\n",
	    (unsigned)(st.st_mode & 07777), (long)st.st_uid);
}

/* The live workers, per host, from their leases. */
static void
doctor_workers(struct spool *sp)
{
	struct lease_info *li;
	int n, alive = 0;

	if ((n = lease_list(sp, &li)) == -1)
		err(EX_IOERR_, "%s/processing", sp->path);
	for (int i = 0; i < n; i++)
		alive += li[i].alive;
	printf("workers: %d alive", alive);
	for (int i = 0, first = 1; i < n; i++) {
		if (!li[i].alive)
			continue;
		printf("%s%s (%s, %s)", first ? ": " : ", ", li[i].id,
		    li[i].fs[0] != '\0' ? li[i].fs : "?",
		    li[i].poll_ms > 0 ? "polling" : "inotify only");
		first = 0;
	}
	printf("\n");
	free(li);
}

int
cmd_doctor(int argc, char **argv)
{
	const struct cmd *c = cli_find("doctor");
	char warn[8][CONFIG_WARN_MAX];
	const char *fs;
	struct spool sp;
	int r, n, network;

	if ((r = cli_no_args(c, argc, argv)) != -1)
		return r;
	cli_open(&sp);
	n = cli_settings_warnings(&sp, &network, &fs, warn, 7);
	printf("spool: %s\n", sp.path);
	doctor_modes(&sp, fs, network);
	doctor_perms(&sp);
	doctor_workers(&sp);
	if (sp.cfg_error[0] != '\0')
		snprintf(warn[n++], CONFIG_WARN_MAX, "config: %s (the defaults "
		    "are in force)", sp.cfg_error);
	for (int i = 0; i < n; i++)
		printf("warning: %s\n", warn[i]);
	if (n == 0)
		printf("no warnings\n");
	spool_close(&sp);
	return n > 0 ? 1 : 0;
}
