/*
 * cmd_purge.c - queuectl purge [--state done|dead] [--older-than DURATION]
 * [-v | --verbose] [--json]: remove finished jobs and their logs.
 *
 * Prints "purged N jobs (done A, dead B)"; -v first prints each removed
 * entry as "STATE ID" (a quarantined one as "dead ID (invalid)"); --json
 * prints {"purged": N, "done": [IDS], "dead": [IDS]} instead.
 */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "purge.h"
#include "util.h"

struct purge_out {
	int verbose;
	cJSON *ids[2];            /* done, dead (--json) */
};

static void
purged_one(int state, const char *id, int invalid, void *arg)
{
	struct purge_out *o = arg;

	if (o->ids[0] != NULL)
		cJSON_AddItemToArray(o->ids[state == ST_DEAD],
		    cJSON_CreateString(id));
	else if (o->verbose)
		printf("%s %s%s\n", state_name(state), id,
		    invalid ? " (invalid)" : "");
}

/* Parse the options into *only (-1: both) and *age (ms). */
static int
purge_opts(const struct cmd *c, int argc, char **argv, int *only,
    int64_t *age, struct purge_out *o, int *json)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "older-than", required_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	int ch;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "hs:o:vj", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			*only = state_from_name(optarg);
			if (*only != ST_DONE && *only != ST_DEAD)
				errx(EX_USAGE_, "--state: must be done or dead, "
				    "not %s", optarg);
			break;
		case 'o':
			if (duration_parse(optarg, age) == -1)
				errx(EX_USAGE_, "--older-than: not a duration: %s "
				    "(a number of seconds, or 30s, 15m, 12h, 7d)",
				    optarg);
			break;
		case 'v': o->verbose = 1; break;
		case 'j': *json = 1; break;
		case 'h': return cli_show_help(c);
		default: return cli_usage_error(c);
		}
	}
	if (optind != argc)
		return cli_usage_error(c);
	return -1;
}

int
cmd_purge(int argc, char **argv)
{
	const struct cmd *c = cli_find("purge");
	struct purge_out o = { 0, { NULL, NULL } };
	int only = -1, json = 0, r;
	int64_t age = 0, now;
	struct purge p;
	struct spool sp;
	cJSON *doc;

	if ((r = purge_opts(c, argc, argv, &only, &age, &o, &json)) != -1)
		return r;
	cli_open(&sp);
	if (json) {
		o.ids[0] = cJSON_CreateArray();
		o.ids[1] = cJSON_CreateArray();
	}
	now = now_ms();
	purge_init(&p, &sp, 0, purged_one, &o);
	if (only != ST_DEAD)
		purge_add(&p, ST_DONE, now - age);
	if (only != ST_DONE)
		purge_add(&p, ST_DEAD, now - age);
	r = purge_step(&p, 0);
	if (r == -1)
		warn("%s/%s", sp.path, state_dir(p.states[p.i]));
	purge_end(&p);
	if (json) {
		doc = cJSON_CreateObject();
		cJSON_AddNumberToObject(doc, "purged",
		    (double)(p.removed[0] + p.removed[1]));
		cJSON_AddItemToObject(doc, "done", o.ids[0]);
		cJSON_AddItemToObject(doc, "dead", o.ids[1]);
		cli_print_json(doc);
	} else {
		long done = p.states[0] == ST_DONE ? p.removed[0] : 0;
		long dead = p.removed[0] + p.removed[1] - done;

		printf("purged %ld job%s (done %ld, dead %ld)\n", done + dead,
		    done + dead == 1 ? "" : "s", done, dead);
	}
	spool_close(&sp);
	return r == -1 ? EX_IOERR_ : 0;
}
