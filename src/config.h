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
	/* Several hosts (spool-layout/README.md): seconds, CONFIG_AUTO (-1)
	 * for the default that suits the spool's filesystem. */
	double poll_interval;  /* rescan period; 0 = off; auto: 1 s on network
	                        * and FUSE filesystems, off on local ones */
	double lease_check;    /* period of the lease confirmation */
	double lease_timeout;  /* unconfirmed this long: the worker fences itself */
	double lock_failover;  /* the filesystem's lock failover, default 42 */
};

#define CONFIG_AUTO (-1.0)

/* The multi-host timings in force, in milliseconds (config_timing). */
struct config_timing {
	long long poll_ms;     /* 0: no rescan by polling */
	long long check_ms;
	long long timeout_ms;
	long long failover_ms;
};

#define CONFIG_FENCE_MARGIN_MS 1000   /* lease_timeout + this <= lock_failover */
#define CONFIG_WARN_MAX 320

/*
 * The timings of c for a spool on a network (1) or local (0) filesystem,
 * "auto" resolved: poll_interval 1 s on a network filesystem, else 0;
 * lease_timeout the smaller of 3/4 of lock_failover and lock_failover - 1 s
 * on a network filesystem, else 60 s; lease_check the smaller of 10 s and
 * a quarter of lease_timeout. Pure.
 */
void config_timing(const struct config *c, int network,
    struct config_timing *t);

/*
 * The rules the timings t must follow (spool-layout/README.md, "fencing"),
 * as sentences: up to max of them into warn. Returns how many. Pure.
 */
int config_timing_warnings(const struct config_timing *t, int network,
    char warn[][CONFIG_WARN_MAX], int max);

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
