/*
 * config.h - the spool's settings: SPOOL/config, one "key = value" a line.
 *
 * Blank lines and lines starting with '#' are ignored. Keys may be written
 * with dashes or underscores. A file with an unknown key or a bad value is
 * an error that names the line. Parsing is pure and unit-tested; loading and
 * storing go through the spool's atomic write.
 */
#ifndef QUEUECTL_CONFIG_H
#define QUEUECTL_CONFIG_H

#include <stddef.h>

struct config {
	long max_retries;      /* 0..RETRIES_LIMIT, default 3 */
	double backoff_base;   /* 1..1000, default 2 */
	double backoff_max;    /* seconds, 0..TIMEOUT_LIMIT, default 3600 */
	double timeout;        /* seconds, 0 = none, default 0 */
	double kill_grace;     /* seconds, 0..TIMEOUT_LIMIT, default 5 */
	long long log_max_bytes; /* 0..2^40, default 10 MiB; suffix k/M/G */
	int sync;              /* 0 or 1, default 1 */
	double min_free;       /* percent of the spool's filesystem that must stay
	                        * free for enqueue to accept a job, 0..100, default 1 */
	long long keep_done;   /* ms a job stays in done/ after it finished;
	                        * -1 (default, "forever"): no retention */
	long long keep_dead;   /* the same for dead/ */
};

/* Fill c with the defaults. */
void config_defaults(struct config *c);

/* Number of keys and their canonical names, in documentation order. */
extern const char *const config_keys[];
extern const size_t config_nkeys;

/*
 * Canonical name of key (dashes become underscores), or NULL if it is not
 * a known key.
 */
const char *config_key_canonical(const char *key);

/*
 * Set one key from its text value in c. Returns 0, or -1 with a message
 * naming the key and the accepted range in err.
 */
int config_set_value(struct config *c, const char *key, const char *value,
    char *err, size_t errsz);

/* Format the value of key in c into buf (canonical text). 0 or -1. */
int config_get_value(const struct config *c, const char *key, char *buf,
    size_t n);

/*
 * Parse the text of a config file (len bytes) over c (which should hold the
 * defaults). Returns 0, or -1 with "line N: ..." in err (a NUL byte
 * anywhere is refused).
 */
int config_parse(struct config *c, const char *text, size_t len, char *err,
    size_t errsz);

/*
 * Set key = value in the file text (len bytes): replace the line that sets
 * this key (under either spelling), or append one. Comments and other lines
 * are kept; a line with a NUL byte is dropped. Returns a malloc'ed new
 * text, or NULL (ENOMEM).
 */
char *config_text_set(const char *text, size_t len, const char *key,
    const char *value);

#endif
