/*
 * cmd_config.c - queuectl config get [KEY] | set KEY VALUE | list [--json].
 *
 * set validates the value, then rewrites SPOOL/config atomically under
 * SPOOL/lock, keeping comments and other lines. Workers re-read the file
 * before every claim.
 */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "util.h"

static void
config_print(const struct config *cfg, int json)
{
	char v[64], *end;
	cJSON *o = json ? cJSON_CreateObject() : NULL;
	double d;

	for (size_t i = 0; i < config_nkeys; i++) {
		config_get_value(cfg, config_keys[i], v, sizeof v);
		/* numbers as numbers; durations ("7d", "forever") as text */
		d = strtod(v, &end);
		if (json && *end == '\0')
			cJSON_AddNumberToObject(o, config_keys[i], d);
		else if (json)
			cJSON_AddStringToObject(o, config_keys[i], v);
		else
			printf("%s = %s\n", config_keys[i], v);
	}
	if (json)
		cli_print_json(o);
}

static int
config_set(struct spool *sp, const char *key, const char *value)
{
	struct config c = sp->cfg;
	char msg[256], *text, *next, canon_value[64];
	size_t len = 0;
	int lockfd;

	if (config_set_value(&c, key, value, msg, sizeof msg) == -1)
		errx(EX_USAGE_, "%s", msg);
	config_get_value(&c, key, canon_value, sizeof canon_value);
	if ((lockfd = spool_lock(sp)) == -1)
		err(EX_IOERR_, "%s/lock", sp->path);
	text = file_read_at(sp->root, "config", 65536, &len);
	if (text == NULL && errno != ENOENT)
		err(EX_IOERR_, "%s/config", sp->path);
	next = config_text_set(text != NULL ? text : "", len, key, canon_value);
	if (next == NULL)
		errx(EX_OSERR_, "out of memory");
	if (spool_config_store(sp, next, strlen(next)) == -1)
		err(cli_exit_for(errno), "%s/config", sp->path);
	close(lockfd);
	free(text);
	free(next);
	return 0;
}

int
cmd_config(int argc, char **argv)
{
	const struct cmd *c = cli_find("config");
	struct spool sp;
	char v[64];
	int r;

	if ((r = cli_help(c, argc, argv)) != -1)
		return r;
	if (argc < 2)
		goto usage;
	if ((strcmp(argv[1], "get") == 0 && argc == 2) ||
	    (strcmp(argv[1], "list") == 0 && (argc == 2 ||
	    (argc == 3 && strcmp(argv[2], "--json") == 0)))) {
		cli_open(&sp);
		config_print(&sp.cfg, argc == 3);
		return 0;
	}
	if (strcmp(argv[1], "get") == 0 && argc == 3) {
		if (config_key_canonical(argv[2]) == NULL)
			errx(EX_USAGE_, "unknown config key '%s'", argv[2]);
		cli_open(&sp);
		config_get_value(&sp.cfg, argv[2], v, sizeof v);
		printf("%s\n", v);
		return 0;
	}
	if (strcmp(argv[1], "set") == 0 && argc == 4) {
		cli_open(&sp);
		return config_set(&sp, argv[2], argv[3]);
	}
usage:
	return cli_usage_error(c);
}
