/*
 * config.c - parsing and formatting of SPOOL/config. See config.h.
 */
#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <bsd/string.h>

#include "config.h"
#include "job.h"
#include "util.h"

#define LOG_MAX_LIMIT (1LL << 40)

const char *const config_keys[] = {
	"max_retries", "backoff_base", "backoff_max", "timeout", "kill_grace",
	"log_max_bytes", "sync", "min_free", "keep_done", "keep_dead",
	"poll_interval", "lease_check", "lease_timeout", "lock_failover"
};
const size_t config_nkeys = sizeof config_keys / sizeof *config_keys;

void
config_defaults(struct config *c)
{
	c->max_retries = 3;
	c->backoff_base = 2;
	c->backoff_max = 3600;
	c->timeout = 0;
	c->kill_grace = 5;
	c->log_max_bytes = 10LL << 20;
	c->sync = 1;
	c->min_free = 1;
	c->keep_done = -1;
	c->keep_dead = -1;
	c->poll_interval = CONFIG_AUTO;
	c->lease_check = CONFIG_AUTO;
	c->lease_timeout = CONFIG_AUTO;
	c->lock_failover = 42;
}

const char *
config_key_canonical(const char *key)
{
	char norm[32];

	if (strlcpy(norm, key, sizeof norm) >= sizeof norm)
		return NULL;
	for (char *p = norm; *p; p++)
		if (*p == '-')
			*p = '_';
	for (size_t i = 0; i < config_nkeys; i++)
		if (strcmp(norm, config_keys[i]) == 0)
			return config_keys[i];
	return NULL;
}

/* Parse a finite number in [lo, hi] from the whole of s. */
static int
number(const char *s, double lo, double hi, double *v)
{
	char *end;

	/* Decimal only: strtod would also take hex, "inf" and "nan". */
	if (*s == '\0' || strspn(s, "0123456789.eE+-") != strlen(s))
		return -1;
	errno = 0;
	*v = strtod(s, &end);
	return *end == '\0' && errno == 0 && isfinite(*v) && *v >= lo &&
	    *v <= hi ? 0 : -1;
}

/* Parse a byte count with an optional k/M/G suffix (powers of 1024). */
static int
bytes(const char *s, long long *v)
{
	char *end;
	double d, mult = 1;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	d = strtod(s, &end);
	if (errno != 0 || !isfinite(d))
		return -1;
	if (*end != '\0') {
		switch (tolower((unsigned char)*end)) {
		case 'k': mult = 1024.0; break;
		case 'm': mult = 1024.0 * 1024; break;
		case 'g': mult = 1024.0 * 1024 * 1024; break;
		default: return -1;
		}
		end++;
		if (tolower((unsigned char)*end) == 'b' ||
		    tolower((unsigned char)*end) == 'i')
			end++;
		if (*end != '\0')
			return -1;
	}
	d *= mult;
	if (d != floor(d) || d < 0 || d > (double)LOG_MAX_LIMIT)
		return -1;
	*v = (long long)d;
	return 0;
}

/* A retention time: a duration (duration_parse) or "forever" (-1). */
static int
keep_time(const char *s, long long *v)
{
	int64_t ms;

	if (strcmp(s, "forever") == 0)
		return *v = -1, 0;
	if (duration_parse(s, &ms) == -1)
		return -1;
	*v = ms;
	return 0;
}

static int
boolean(const char *s, int *v)
{
	static const char *const yes[] = { "1", "true", "yes", "on" };
	static const char *const no[] = { "0", "false", "no", "off" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *v = 1, 0;
		if (strcasecmp(s, no[i]) == 0)
			return *v = 0, 0;
	}
	return -1;
}

/* The multi-host keys: seconds (double) in struct config at off. */
static const struct {
	const char *key;
	size_t off;
	double lo, hi;
	int can_auto;
	const char *range;
} mh_keys[] = {
	{ "poll_interval", offsetof(struct config, poll_interval), 0, 3600,
	  1, "auto, or a number of seconds from 0 (off) to 3600" },
	{ "lease_check", offsetof(struct config, lease_check), 0.1, 3600,
	  1, "auto, or a number of seconds from 0.1 to 3600" },
	{ "lease_timeout", offsetof(struct config, lease_timeout), 0.2,
	  86400, 1, "auto, or a number of seconds from 0.2 to 86400" },
	{ "lock_failover", offsetof(struct config, lock_failover), 1,
	  86400, 0, "a number of seconds from 1 to 86400" },
};

/* Set a multi-host key (canonical k): 1 if k is one (*range is then NULL,
 * or the accepted range when value is bad), 0 if it is not. */
static int
multihost_value(struct config *c, const char *k, const char *value,
    const char **range)
{
	for (size_t i = 0; i < sizeof mh_keys / sizeof *mh_keys; i++) {
		double *dst = (double *)(void *)((char *)c + mh_keys[i].off);

		if (strcmp(k, mh_keys[i].key) != 0)
			continue;
		*range = NULL;
		if (mh_keys[i].can_auto && strcmp(value, "auto") == 0)
			*dst = CONFIG_AUTO;
		else if (number(value, mh_keys[i].lo, mh_keys[i].hi, dst) == -1)
			*range = mh_keys[i].range;
		return 1;
	}
	return 0;
}

int
config_set_value(struct config *c, const char *key, const char *value,
    char *err, size_t errsz)
{
	const char *k = config_key_canonical(key);
	const char *range = NULL;
	double d;

	if (k == NULL) {
		int n = snprintf(err, errsz, "unknown config key '%s' (known:", key);

		for (size_t i = 0; i < config_nkeys && n >= 0 &&
		    (size_t)n < errsz; i++)
			n += snprintf(err + n, errsz - (size_t)n, "%s %s",
			    i ? "," : "", config_keys[i]);
		if (n >= 0 && (size_t)n < errsz)
			snprintf(err + n, errsz - (size_t)n, ")");
		return -1;
	}
	if (multihost_value(c, k, value, &range))
		;
	else if (strcmp(k, "max_retries") == 0) {
		if (number(value, 0, RETRIES_LIMIT, &d) == 0 && d == floor(d))
			c->max_retries = (long)d;
		else
			range = "an integer from 0 to 1000000";
	} else if (strcmp(k, "backoff_base") == 0) {
		if (number(value, 1, 1000, &c->backoff_base) == -1)
			range = "a number from 1 to 1000";
	} else if (strcmp(k, "backoff_max") == 0 || strcmp(k, "timeout") == 0 ||
	    strcmp(k, "kill_grace") == 0) {
		double *dst = k[0] == 'b' ? &c->backoff_max :
		    k[0] == 't' ? &c->timeout : &c->kill_grace;

		if (number(value, 0, TIMEOUT_LIMIT, dst) == -1)
			range = "a number of seconds from 0 to 31536000";
	} else if (strcmp(k, "log_max_bytes") == 0) {
		if (bytes(value, &c->log_max_bytes) == -1)
			range = "a byte count from 0 to 1T (suffixes k, M, G)";
	} else if (strcmp(k, "min_free") == 0) {
		if (number(value, 0, 100, &c->min_free) == -1)
			range = "a percentage from 0 to 100";
	} else if (strcmp(k, "keep_done") == 0 || strcmp(k, "keep_dead") == 0) {
		if (keep_time(value, strcmp(k, "keep_done") == 0 ?
		    &c->keep_done : &c->keep_dead) == -1)
			range = "a duration (a number of seconds, or with a "
			    "unit: 30s, 15m, 12h, 7d) up to 36500d, or forever";
	} else if (boolean(value, &c->sync) == -1)
		range = "0 or 1";
	if (range != NULL) {
		snprintf(err, errsz, "%s: bad value '%s': must be %s", k, value,
		    range);
		return -1;
	}
	return 0;
}

/* The shortest %g text of v that reads back as exactly v. */
static int
fmt_double(char *buf, size_t n, double v)
{
	int r = -1;

	if (v == floor(v) && fabs(v) < 1e15)
		return snprintf(buf, n, "%.0f", v);
	for (int prec = 6; prec <= 17; prec++) {
		r = snprintf(buf, n, "%.*g", prec, v);
		if (r < 0 || (size_t)r >= n || strtod(buf, NULL) == v)
			break;
	}
	return r;
}

/* The value of a multi-host key k into *d: 1, or 0 if k is not one. */
static int
multihost_get(const struct config *c, const char *k, double *d)
{
	for (size_t i = 0; i < sizeof mh_keys / sizeof *mh_keys; i++)
		if (strcmp(k, mh_keys[i].key) == 0) {
			*d = *(const double *)(const void *)((const char *)c +
			    mh_keys[i].off);
			return 1;
		}
	return 0;
}

int
config_get_value(const struct config *c, const char *key, char *buf, size_t n)
{
	const char *k = config_key_canonical(key);
	double secs;
	int r;

	if (k == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (strcmp(k, "max_retries") == 0)
		r = snprintf(buf, n, "%ld", c->max_retries);
	else if (strcmp(k, "backoff_base") == 0)
		r = fmt_double(buf, n, c->backoff_base);
	else if (strcmp(k, "backoff_max") == 0)
		r = fmt_double(buf, n, c->backoff_max);
	else if (strcmp(k, "timeout") == 0)
		r = fmt_double(buf, n, c->timeout);
	else if (strcmp(k, "kill_grace") == 0)
		r = fmt_double(buf, n, c->kill_grace);
	else if (strcmp(k, "log_max_bytes") == 0)
		r = snprintf(buf, n, "%lld", c->log_max_bytes);
	else if (strcmp(k, "min_free") == 0)
		r = fmt_double(buf, n, c->min_free);
	else if (multihost_get(c, k, &secs))
		r = secs == CONFIG_AUTO ? snprintf(buf, n, "auto") :
		    fmt_double(buf, n, secs);
	else if (strcmp(k, "keep_done") == 0 || strcmp(k, "keep_dead") == 0) {
		long long v = strcmp(k, "keep_done") == 0 ? c->keep_done :
		    c->keep_dead;
		char d[DURATION_BUFSZ];

		r = snprintf(buf, n, "%s", v < 0 ? "forever" :
		    duration_format(v, d));
	} else
		r = snprintf(buf, n, "%d", c->sync);
	if (r < 0 || (size_t)r >= n) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Trim spaces at both ends of s in place; returns the new start. */
static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/*
 * Split one line into key and value (in place). Returns 1 for a setting,
 * 0 for a blank or comment line, -1 for a line without '='.
 */
static int
split_line(char *line, char **key, char **value)
{
	char *eq, *s = trim(line);

	if (*s == '\0' || *s == '#')
		return 0;
	if ((eq = strchr(s, '=')) == NULL)
		return -1;
	*eq = '\0';
	*key = trim(s);
	*value = trim(eq + 1);
	return 1;
}

int
config_parse(struct config *c, const char *text, size_t len, char *err,
    size_t errsz)
{
	const char *nul = memchr(text, '\0', len);
	char *copy, *line, *next, *key, *value;
	char msg[256];
	int lineno = 0, r = 0;

	if (nul != NULL) {
		for (const char *p = text; p < nul; p++)
			lineno += *p == '\n';
		snprintf(err, errsz, "line %d: a NUL byte", lineno + 1);
		return -1;
	}
	if ((copy = strndup(text, len)) == NULL) {
		snprintf(err, errsz, "out of memory");
		return -1;
	}
	for (line = copy; line != NULL && r == 0; line = next) {
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		lineno++;
		switch (split_line(line, &key, &value)) {
		case -1:
			snprintf(err, errsz, "line %d: expected key = value",
			    lineno);
			r = -1;
			break;
		case 1:
			if (config_set_value(c, key, value, msg, sizeof msg) == -1) {
				snprintf(err, errsz, "line %d: %s", lineno, msg);
				r = -1;
			}
			break;
		}
	}
	free(copy);
	return r;
}

char *
config_text_set(const char *text, size_t len, const char *key,
    const char *value)
{
	const char *canon = config_key_canonical(key), *p = text, *end = text + len;
	size_t cap = len + strlen(canon != NULL ? canon : key) + strlen(value) + 8;
	char *out = malloc(cap), *o = out;
	int replaced = 0;

	if (out == NULL)
		return NULL;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		char *line = strndup(p, n), *k, *v;
		int setting = line != NULL ? split_line(line, &k, &v) : 0;
		int same = setting == 1 && canon != NULL &&
		    config_key_canonical(k) == canon;

		free(line);
		if (memchr(p, '\0', n) != NULL)
			;       /* a line with a NUL byte is no setting: dropped */
		else if (same && !replaced) {
			o += sprintf(o, "%s = %s\n", canon, value);
			replaced = 1;
		} else if (!same) {
			memcpy(o, p, n);
			o += n;
			*o++ = '\n';
		}
		p += n + (nl != NULL);
	}
	if (!replaced)
		sprintf(o, "%s = %s\n", canon != NULL ? canon : key, value);
	else
		*o = '\0';
	return out;
}

void
config_timing(const struct config *c, int network, struct config_timing *t)
{
	long long failover = (long long)(c->lock_failover * 1000);

	t->failover_ms = failover;
	if (c->poll_interval != CONFIG_AUTO)
		t->poll_ms = (long long)(c->poll_interval * 1000);
	else
		t->poll_ms = network ? 1000 : 0;
	if (c->lease_timeout != CONFIG_AUTO)
		t->timeout_ms = (long long)(c->lease_timeout * 1000);
	else if (network)
		t->timeout_ms = failover * 3 / 4 < failover - 1000 ?
		    failover * 3 / 4 : failover - 1000;
	else
		t->timeout_ms = 60000;
	if (t->timeout_ms < 200)
		t->timeout_ms = 200;
	if (c->lease_check != CONFIG_AUTO)
		t->check_ms = (long long)(c->lease_check * 1000);
	else
		t->check_ms = t->timeout_ms / 4 < 10000 ? t->timeout_ms / 4 : 10000;
}

int
config_timing_warnings(const struct config_timing *t, int network,
    char warn[][CONFIG_WARN_MAX], int max)
{
	int n = 0;

	if (n < max && network && t->poll_ms == 0)
		snprintf(warn[n++], CONFIG_WARN_MAX, "poll_interval is 0 on a "
		    "network filesystem: workers see jobs that other hosts add "
		    "only at their 5-minute rescan");
	if (n < max && network &&
	    t->timeout_ms + CONFIG_FENCE_MARGIN_MS > t->failover_ms)
		snprintf(warn[n++], CONFIG_WARN_MAX, "lease_timeout (%.3g s) "
		    "+ %.3g s is more than lock_failover (%.3g s): a host cut "
		    "off from the others may still run its job when another "
		    "host reclaims it", t->timeout_ms / 1000.0,
		    CONFIG_FENCE_MARGIN_MS / 1000.0, t->failover_ms / 1000.0);
	if (n < max && t->check_ms * 2 > t->timeout_ms)
		snprintf(warn[n++], CONFIG_WARN_MAX, "lease_check (%.3g s) is "
		    "more than half of lease_timeout (%.3g s): one slow check "
		    "makes a healthy worker stop its job", t->check_ms / 1000.0,
		    t->timeout_ms / 1000.0);
	return n;
}
