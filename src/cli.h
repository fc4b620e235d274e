/*
 * cli.h - what the command layer shares: the command table's entry type,
 * opening the spool for a command, exit statuses, output helpers.
 *
 * Only the command layer (main.c, cmd_*.c) prints and chooses exit codes.
 */
#ifndef QUEUECTL_CLI_H
#define QUEUECTL_CLI_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "spool.h"

/* sysexits(3) */
#define EX_OK_        0
#define EX_USAGE_     64
#define EX_DATAERR_   65
#define EX_NOINPUT_   66
#define EX_SOFTWARE_  70
#define EX_OSERR_     71
#define EX_CANTCREAT_ 73
#define EX_IOERR_     74
#define EX_TEMPFAIL_  75
#define EX_NOPERM_    77
#define EX_CONFIG_    78

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;    /* the lines after "usage: queuectl " */
	const char *summary;
};

/* The spool path given by -d/--spool (NULL when none). */
extern const char *cli_spool_opt;

/* Open (creating) the spool or exit with the right status and message. */
void cli_open(struct spool *sp);

/* The exit status for a failure with errno e. */
int cli_exit_for(int e);

/* Print "usage: queuectl USAGE" to f. */
void cli_usage(FILE *f, const struct cmd *c);

/* Print c's help (usage, summary, the values of its metavariables) to
 * stdout; returns 0, the exit status of -h/--help. */
int cli_show_help(const struct cmd *c);

/* Print c's usage to stderr; returns EX_USAGE_, the status to exit with. */
int cli_usage_error(const struct cmd *c);

/* Handle -h/--help and unknown options in the common way. Returns the
 * exit status to return, or -1 to go on. */
int cli_help(const struct cmd *c, int argc, char **argv);

/* For a command that takes no argument: cli_help, then a usage error for
 * any argument. Returns the exit status to return, or -1 to go on. */
int cli_no_args(const struct cmd *c, int argc, char **argv);

/* The value of option --name, an integer in [lo, hi] (hi LONG_MAX: no
 * upper bound), or exit 64 saying the range. */
long cli_int_opt(const char *name, const char *s, long lo, long hi);

/* Print s to stdout with each control character (below 0x20, and DEL)
 * as '?' (one line stays one line), padded with spaces to width bytes. */
void cli_put_safe(const char *s, int width);

/* Print a cJSON document (and a newline) to stdout; frees it. */
void cli_print_json(cJSON *doc);

/* Read every job of a state directory; jobs sorted oldest first. */
struct joblist {
	struct job *v;
	int *state;               /* state[i]: the state v[i] was read in */
	size_t n, cap;
};
int joblist_add_state(struct spool *sp, int state, struct joblist *jl);
void joblist_sort(struct joblist *jl);
void joblist_free(struct joblist *jl);

/* The ids of a directory's jobs (ID.json), in no order: ids.v is
 * malloc'd (free it; start from all zero). 0, or -1 with errno. */
struct idlist {
	char (*v)[ID_MAX + 1];
	size_t n, cap;
};
int idlist_of_dir(int dirfd, struct idlist *ids);

/* A job object for --json: the file's fields plus the directory's state. */
cJSON *job_json(const struct job *j, int state, const char *dir);

/* Commands, one per file (cmd_*.c). */
int cmd_init(int argc, char **argv);
int cmd_recover(int argc, char **argv);
int cmd_enqueue(int argc, char **argv);
int cmd_worker(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_wait(int argc, char **argv);

/*
 * enqueue --wait, once job id is queued: copy its output as it is written
 * (stdout to standard output, stderr to standard error, without the attempt
 * markers), following every attempt until the job is done or dead. Returns
 * the status `wait` gives for it (a dead job says why on stderr), or an
 * exit status after a message (66: the job left the spool).
 */
int cmd_wait_output(struct spool *sp, const char *id);
int cmd_dlq(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_purge(int argc, char **argv);
int cmd_hold(int argc, char **argv);
int cmd_release(int argc, char **argv);
int cmd_cancel(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_metrics(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_doctor(int argc, char **argv);

/*
 * The warnings about the multi-host settings of sp (config_timing_warnings
 * for the spool's filesystem): up to max of them into warn; returns how
 * many. *network and *fs (either may be NULL) get the filesystem's kind
 * and name (fs_probe). cmd_doctor.c; status shows them too.
 */
int cli_settings_warnings(struct spool *sp, int *network, const char **fs,
    char warn[][CONFIG_WARN_MAX], int max);

/* The command table (main.c), for usage texts. */
const struct cmd *cli_find(const char *name);

#endif
