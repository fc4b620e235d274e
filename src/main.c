/*
 * main.c - queuectl's entry point: global options and the command table.
 *
 * queuectl [-d DIR | --spool DIR] COMMAND [ARGS...]
 * Each command is a function in a cmd_*.c file, called with argv starting
 * at the command's name; it returns the process exit status (sysexits(3)).
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#ifndef VERSION
#define VERSION "0.1.0"
#endif

static const struct cmd commands[] = {
	{ "init", cmd_init, "init", "create the spool" },
	{ "enqueue", cmd_enqueue,
	  "enqueue [--id ID] [--priority N] [--max-retries N] [--timeout SEC]\n"
	  "                [--run-at TIME] [--delay SEC] [--no-sync] [--hold]\n"
	  "                [--env NAME=VALUE]... [--cwd DIR] [--unique[=strict]] [--wait]\n"
	  "                [--after ID[,ID...]]...\n"
	  "                (JSON | - | [--] COMMAND... | --batch | --batch0)",
	  "add a job, or many from standard input" },
	{ "worker", cmd_worker,
	  "worker start [--count N] | worker run | worker stop [--now]",
	  "start, run or stop workers" },
	{ "status", cmd_status, "status [--json]",
	  "counts per state, workers, average duration" },
	{ "list", cmd_list, "list [--state STATE] [--json]", "list jobs, oldest first" },
	{ "show", cmd_show, "show ID [--json]", "show one job" },
	{ "logs", cmd_logs, "logs [-f] [--stdout | --stderr] [--attempt N] ID",
	  "print a job's output, or follow it" },
	{ "wait", cmd_wait, "wait [--timeout SEC] ID...",
	  "wait until jobs are done or dead; exit with their status" },
	{ "cancel", cmd_cancel, "cancel ID...",
	  "move jobs to dead/, ending a running one's processes" },
	{ "hold", cmd_hold, "hold ID...", "park pending or failed jobs in hold/" },
	{ "release", cmd_release, "release ID...",
	  "put held jobs back in pending/" },
	{ "pause", cmd_pause, "pause",
	  "let workers finish their jobs but claim no new one" },
	{ "resume", cmd_resume, "resume", "undo pause" },
	{ "dlq", cmd_dlq, "dlq list [--json] | dlq retry ID... | dlq retry --all",
	  "the dead letter queue" },
	{ "purge", cmd_purge,
	  "purge [--state done|dead] [--older-than DURATION] [-v | --json]",
	  "remove finished jobs and their logs" },
	{ "metrics", cmd_metrics, "metrics [--json | --prometheus [FILE]]",
	  "throughput, durations, retry and dead rates, utilisation" },
	{ "top", cmd_top, "top",
	  "a live view of the spool (a snapshot when not on a terminal)" },
	{ "config", cmd_config,
	  "config get [KEY] | config set KEY VALUE | config list [--json]",
	  "read and change settings" },
	{ "doctor", cmd_doctor, "doctor",
	  "check the spool's filesystem and the multi-host settings" },
	{ "recover", cmd_recover, "recover", "reclaim the jobs of dead workers now" },
};

const char *cli_spool_opt;

const struct cmd *
cli_find(const char *name)
{
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: queuectl [-d DIR | --spool DIR] COMMAND [ARGS...]\n"
	    "       queuectl --help | --version\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
		fprintf(f, "  %-8s  %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nRun 'queuectl COMMAND --help' for a command's options; "
	    "see queuectl(1).\n");
}

/* Make sure fds 0-2 are open, so no file we open takes their place (an
 * fcntl each, /dev/null opened only when one is closed). */
static void
sane_stdio(void)
{
	int fd;

	if (fcntl(0, F_GETFD) != -1 && fcntl(1, F_GETFD) != -1 &&
	    fcntl(2, F_GETFD) != -1)
		return;
	while ((fd = open("/dev/null", O_RDWR)) != -1 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

/* A command's status, or 74 when what it printed could not all be written
 * (a full disk, a closed pipe reader ignoring SIGPIPE): a script must not
 * take a cut output for the whole. */
static int
output_checked(int status)
{
	if (fflush(stdout) == EOF || ferror(stdout)) {
		warn("standard output");
		return status != 0 ? status : EX_IOERR_;
	}
	return status;
}

int
main(int argc, char **argv)
{
	const struct cmd *c;
	int i = 1;

	sane_stdio();
	/* Messages say "queuectl: ..." whatever the binary is called. */
	program_invocation_short_name = (char *)"queuectl";
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return output_checked(0);
		}
		if (strcmp(argv[i], "-V") == 0 || strcmp(argv[i], "--version") == 0) {
			printf("queuectl %s\n", VERSION);
			return output_checked(0);
		}
		if ((strcmp(argv[i], "-d") == 0 || strcmp(argv[i], "--spool") == 0) &&
		    i + 1 < argc)
			cli_spool_opt = argv[++i];
		else if (strncmp(argv[i], "--spool=", 8) == 0)
			cli_spool_opt = argv[i] + 8;
		else {
			warnx("unknown option: %s", argv[i]);
			usage(stderr);
			return EX_USAGE_;
		}
	}
	if (i == argc) {
		usage(stderr);
		return EX_USAGE_;
	}
	if ((c = cli_find(argv[i])) == NULL) {
		warnx("unknown command: %s", argv[i]);
		usage(stderr);
		return EX_USAGE_;
	}
	return output_checked(c->fn(argc - i, argv + i));
}
