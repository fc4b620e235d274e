/*
 * test_config.c - config defaults, keys, values, file parsing and editing
 * against src/config.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "tap.h"

static char err[512];

static void test_defaults(void)
{
	struct config c;

	memset(&c, 0xa5, sizeof c);
	config_defaults(&c);
	is_int(c.max_retries, 3, "default max_retries");
	is_dbl(c.backoff_base, 2, "default backoff_base");
	is_dbl(c.backoff_max, 3600, "default backoff_max");
	is_dbl(c.timeout, 0, "default timeout");
	is_dbl(c.kill_grace, 5, "default kill_grace");
	is_int(c.log_max_bytes, 10485760, "default log_max_bytes");
	is_int(c.sync, 1, "default sync");
	is_dbl(c.min_free, 1, "default min_free");
}

static void test_min_free(void)
{
	struct config c;
	char buf[64];

	config_defaults(&c);
	ok(config_set_value(&c, "min-free", "2.5", err, sizeof err) == 0,
	    "min-free 2.5 accepted");
	is_dbl(c.min_free, 2.5, "min_free is 2.5");
	ok(config_get_value(&c, "min_free", buf, sizeof buf) == 0 &&
	    strcmp(buf, "2.5") == 0, "config_get_value(min_free) is 2.5");
	ok(config_set_value(&c, "min_free", "0", err, sizeof err) == 0 &&
	    c.min_free == 0, "min_free 0 (off) accepted");
	ok(config_set_value(&c, "min_free", "100.5", err, sizeof err) == -1,
	    "min_free over 100 refused");
	ok(strstr(err, "min_free") != NULL && strstr(err, "0 to 100") != NULL,
	    "the error names the key and the range: %s", err);
	ok(config_set_value(&c, "min_free", "-1", err, sizeof err) == -1,
	    "negative min_free refused");
}

static void keep_good(const char *key, const char *v, long long want,
    const char *back)
{
	struct config c;
	char buf[64];

	config_defaults(&c);
	if (ok(config_set_value(&c, key, v, err, sizeof err) == 0,
	    "%s %s accepted", key, v)) {
		is_int(strstr(key, "dead") != NULL ? c.keep_dead : c.keep_done,
		    want, "%s %s is %lld ms", key, v, want);
		ok(config_get_value(&c, key, buf, sizeof buf) == 0 &&
		    strcmp(buf, back) == 0, "%s %s reads back as %s (%s)", key, v,
		    back, buf);
	}
}

static void test_keep(void)
{
	struct config c;

	config_defaults(&c);
	is_int(c.keep_done, -1, "default keep_done: forever");
	is_int(c.keep_dead, -1, "default keep_dead: forever");
	keep_good("keep_done", "7d", 604800000, "7d");
	keep_good("keep-dead", "12h", 43200000, "12h");
	keep_good("keep_done", "90", 90000, "90s");
	keep_good("keep_done", "1.5h", 5400000, "90m");
	keep_good("keep_done", "0s", 0, "0s");
	keep_good("keep_dead", "forever", -1, "forever");
	ok(config_set_value(&c, "keep_done", "7 days", err, sizeof err) == -1,
	    "keep_done '7 days' refused");
	ok(strstr(err, "keep_done") != NULL && strstr(err, "forever") != NULL,
	    "the error names the key and the accepted values: %s", err);
	ok(config_set_value(&c, "keep_dead", "-1d", err, sizeof err) == -1,
	    "a negative keep_dead refused");
	ok(config_set_value(&c, "nope", "1", err, sizeof err) == -1 &&
	    strstr(err, "keep_dead") != NULL && strstr(err, "max_retries") !=
	    NULL, "an unknown key's error lists the keys: %s", err);
}

static void test_keys(void)
{
	static const char *const want[] = {
		"max_retries", "backoff_base", "backoff_max", "timeout",
		"kill_grace", "log_max_bytes", "sync", "min_free", "keep_done",
		"keep_dead", "poll_interval", "lease_check", "lease_timeout",
		"lock_failover"
	};
	size_t i;

	if (is_int(config_nkeys, 14, "fourteen config keys"))
		for (i = 0; i < 14; i++)
			is_str(config_keys[i], want[i], "config_keys[%zu]", i);

	is_str(config_key_canonical("max_retries"), "max_retries",
	    "canonical max_retries");
	is_str(config_key_canonical("max-retries"), "max_retries",
	    "canonical max-retries");
	is_str(config_key_canonical("backoff-base"), "backoff_base",
	    "canonical backoff-base");
	is_str(config_key_canonical("backoff-max"), "backoff_max",
	    "canonical backoff-max");
	is_str(config_key_canonical("kill-grace"), "kill_grace",
	    "canonical kill-grace");
	is_str(config_key_canonical("log-max-bytes"), "log_max_bytes",
	    "canonical log-max-bytes");
	is_str(config_key_canonical("log-max_bytes"), "log_max_bytes",
	    "canonical log-max_bytes (mixed)");
	is_str(config_key_canonical("timeout"), "timeout", "canonical timeout");
	is_str(config_key_canonical("sync"), "sync", "canonical sync");
	is_str(config_key_canonical("bogus"), NULL, "unknown key: NULL");
	is_str(config_key_canonical(""), NULL, "empty key: NULL");
	is_str(config_key_canonical("max_retries "), NULL,
	    "key with a trailing space: NULL");
	is_str(config_key_canonical("max_retrie"), NULL, "key prefix: NULL");
	is_str(config_key_canonical("max_retriess"), NULL,
	    "key with a suffix: NULL");
	is_str(config_key_canonical("syncs"), NULL, "\"syncs\": NULL");
	is_str(config_key_canonical("max__retries"), NULL,
	    "doubled underscore: NULL");
}

/* Set key=value on fresh defaults; expect success. */
static struct config set_good(const char *key, const char *value)
{
	struct config c;

	config_defaults(&c);
	err[0] = 0;
	ok(config_set_value(&c, key, value, err, sizeof err) == 0,
	    "config_set_value(%s, \"%s\") accepted%s%s", key, value,
	    err[0] ? ": " : "", err);
	return c;
}

/* Set key=value; expect refusal with a message that names the key (or
 * names, if given). */
static void set_bad(const char *key, const char *value, const char *names)
{
	struct config c;
	int r;

	config_defaults(&c);
	err[0] = 0;
	r = config_set_value(&c, key, value, err, sizeof err);
	ok(r == -1 && strstr(err, names) != NULL,
	    "config_set_value(%s, \"%s\") refused naming %s (%s)", key, value,
	    names, r == -1 ? err : "accepted");
}

static void test_set_value(void)
{
	struct config c;

	c = set_good("max_retries", "5");
	is_int(c.max_retries, 5, "max_retries = 5");
	c = set_good("max-retries", "0");
	is_int(c.max_retries, 0, "max-retries = 0");
	c = set_good("max_retries", "1000000");
	is_int(c.max_retries, 1000000, "max_retries = 1000000 (limit)");
	set_bad("max_retries", "1000001", "max_retries");
	set_bad("max_retries", "-1", "max_retries");
	set_bad("max_retries", "2.5", "max_retries");
	set_bad("max_retries", "abc", "max_retries");
	set_bad("max_retries", "3x", "max_retries");
	set_bad("max_retries", "", "max_retries");
	set_bad("max_retries", "99999999999999999999999", "max_retries");
	set_bad("max-retries", "-1", "retries");

	c = set_good("backoff_base", "1.5");
	is_dbl(c.backoff_base, 1.5, "backoff_base = 1.5");
	c = set_good("backoff-base", "1");
	is_dbl(c.backoff_base, 1, "backoff-base = 1");
	c = set_good("backoff_base", "1000");
	is_dbl(c.backoff_base, 1000, "backoff_base = 1000");
	set_bad("backoff_base", "0.5", "backoff_base");
	set_bad("backoff_base", "0", "backoff_base");
	set_bad("backoff_base", "1001", "backoff_base");
	set_bad("backoff_base", "nan", "backoff_base");
	set_bad("backoff_base", "inf", "backoff_base");
	set_bad("backoff_base", "two", "backoff_base");
	set_bad("backoff_base", "2 x", "backoff_base");
	set_bad("backoff_base", "1001", "1000");  /* the accepted range */

	c = set_good("backoff_max", "0");
	is_dbl(c.backoff_max, 0, "backoff_max = 0");
	c = set_good("backoff_max", "90.5");
	is_dbl(c.backoff_max, 90.5, "backoff_max = 90.5");
	c = set_good("backoff_max", "31536000");
	is_dbl(c.backoff_max, 31536000, "backoff_max = one year");
	set_bad("backoff_max", "31536001", "backoff_max");
	set_bad("backoff_max", "-1", "backoff_max");
	set_bad("backoff_max", "x", "backoff_max");

	c = set_good("timeout", "30");
	is_dbl(c.timeout, 30, "timeout = 30");
	c = set_good("timeout", "0.5");
	is_dbl(c.timeout, 0.5, "timeout = 0.5");
	set_bad("timeout", "-5", "timeout");
	set_bad("timeout", "soon", "timeout");

	c = set_good("kill_grace", "0");
	is_dbl(c.kill_grace, 0, "kill_grace = 0");
	c = set_good("kill-grace", "2.5");
	is_dbl(c.kill_grace, 2.5, "kill-grace = 2.5");
	set_bad("kill_grace", "-1", "kill_grace");
	set_bad("kill_grace", "31536001", "kill_grace");

	c = set_good("log_max_bytes", "0");
	is_int(c.log_max_bytes, 0, "log_max_bytes = 0");
	c = set_good("log_max_bytes", "12345");
	is_int(c.log_max_bytes, 12345, "log_max_bytes = 12345");
	c = set_good("log_max_bytes", "10k");
	is_int(c.log_max_bytes, 10240, "log_max_bytes = 10k");
	c = set_good("log-max-bytes", "1M");
	is_int(c.log_max_bytes, 1048576, "log_max_bytes = 1M");
	c = set_good("log_max_bytes", "1G");
	is_int(c.log_max_bytes, 1073741824LL, "log_max_bytes = 1G");
	c = set_good("log_max_bytes", "1024G");
	is_int(c.log_max_bytes, 1099511627776LL, "log_max_bytes = 1024G = 2^40");
	c = set_good("log_max_bytes", "1099511627776");
	is_int(c.log_max_bytes, 1099511627776LL, "log_max_bytes = 2^40");
	set_bad("log_max_bytes", "1099511627777", "log_max_bytes");
	set_bad("log_max_bytes", "1025G", "log_max_bytes");
	set_bad("log_max_bytes", "-1", "log_max_bytes");
	set_bad("log_max_bytes", "1x", "log_max_bytes");
	set_bad("log_max_bytes", "k", "log_max_bytes");
	set_bad("log_max_bytes", "10kk", "log_max_bytes");
	set_bad("log_max_bytes", "", "log_max_bytes");

	{
		static const char *const yes[] = { "1", "true", "yes", "on" };
		static const char *const no[] = { "0", "false", "no", "off" };
		size_t i;

		for (i = 0; i < 4; i++) {
			config_defaults(&c);
			c.sync = 0;
			ok(config_set_value(&c, "sync", yes[i], err, sizeof err)
			    == 0 && c.sync == 1, "sync = %s sets 1", yes[i]);
			c.sync = 1;
			ok(config_set_value(&c, "sync", no[i], err, sizeof err)
			    == 0 && c.sync == 0, "sync = %s sets 0", no[i]);
		}
	}
	set_bad("sync", "2", "sync");
	set_bad("sync", "maybe", "sync");
	set_bad("sync", "", "sync");
	set_bad("sync", "-1", "sync");

	set_bad("bogus", "1", "bogus");
	set_bad("max_retriez", "1", "max_retriez");
}

static void get(const struct config *c, const char *key, const char *want)
{
	char buf[64];

	memset(buf, 0, sizeof buf);
	if (ok(config_get_value(c, key, buf, sizeof buf) == 0,
	    "config_get_value(%s) succeeds", key))
		is_str(buf, want, "config_get_value(%s)", key);
}

static void test_get_value(void)
{
	struct config c;
	char small[3];

	config_defaults(&c);
	get(&c, "max_retries", "3");
	get(&c, "backoff_base", "2");
	get(&c, "backoff_max", "3600");
	get(&c, "timeout", "0");
	get(&c, "kill_grace", "5");
	get(&c, "log_max_bytes", "10485760");
	get(&c, "sync", "1");
	get(&c, "max-retries", "3");
	get(&c, "log-max-bytes", "10485760");

	c.backoff_base = 1.5;
	c.timeout = 2.25;
	c.backoff_max = 31536000;
	c.log_max_bytes = 1099511627776LL;
	c.sync = 0;
	c.max_retries = 1000000;
	get(&c, "backoff_base", "1.5");
	get(&c, "timeout", "2.25");
	get(&c, "backoff_max", "31536000");
	get(&c, "log_max_bytes", "1099511627776");
	get(&c, "sync", "0");
	get(&c, "max_retries", "1000000");
	c.backoff_max = 1234567;
	c.kill_grace = 86399.5;
	get(&c, "backoff_max", "1234567");
	get(&c, "kill_grace", "86399.5");

	ok(config_get_value(&c, "bogus", small, sizeof small) == -1,
	    "config_get_value of an unknown key fails");
	ok(config_get_value(&c, "backoff_max", small, sizeof small) == -1,
	    "config_get_value into a too small buffer fails");

	/* What get prints, set accepts back, giving the same value. */
	{
		struct config d;
		char buf[64];
		size_t i;
		int same = 1;

		config_defaults(&d);
		for (i = 0; i < config_nkeys; i++) {
			if (config_get_value(&c, config_keys[i], buf,
			    sizeof buf) != 0 ||
			    config_set_value(&d, config_keys[i], buf, err,
			    sizeof err) != 0) {
				diag("%s: '%s' does not read back", config_keys[i],
				    buf);
				same = 0;
			}
		}
		if (d.backoff_max != c.backoff_max)
			diag("backoff_max %.17g read back as %.17g",
			    c.backoff_max, d.backoff_max);
		ok(same && d.max_retries == c.max_retries &&
		    d.backoff_base == c.backoff_base &&
		    d.backoff_max == c.backoff_max && d.timeout == c.timeout &&
		    d.kill_grace == c.kill_grace &&
		    d.log_max_bytes == c.log_max_bytes && d.sync == c.sync,
		    "config_get_value output reads back via config_set_value");
	}
}

static int parse_text(struct config *c, const char *text)
{
	config_defaults(c);
	err[0] = 0;
	return config_parse(c, text, strlen(text), err, sizeof err);
}

static void parse_bad(const char *text, const char *line, const char *what)
{
	struct config c;
	int r = parse_text(&c, text);

	ok(r == -1 && strstr(err, line) != NULL,
	    "config_parse refuses %s with \"%s\" (%s)", what, line,
	    r == -1 ? err : "accepted");
}

static void test_parse(void)
{
	struct config c;
	const char *text =
	    "# queuectl settings\n"
	    "\n"
	    "max_retries = 5\n"
	    "backoff-base=1.5\n"
	    "   \n"
	    "#timeout = 99\n"
	    "backoff_max   =   60\n"
	    "timeout = 30\n"
	    "kill-grace = 2\n"
	    "log-max-bytes = 1M\n"
	    "sync = off\n";

	if (ok(parse_text(&c, text) == 0, "config_parse of a full file (%s)",
	    err)) {
		is_int(c.max_retries, 5, "parsed max_retries");
		is_dbl(c.backoff_base, 1.5, "parsed backoff-base=1.5 (no spaces)");
		is_dbl(c.backoff_max, 60, "parsed backoff_max (many spaces)");
		is_dbl(c.timeout, 30, "parsed timeout (comment ignored)");
		is_dbl(c.kill_grace, 2, "parsed kill-grace");
		is_int(c.log_max_bytes, 1048576, "parsed log-max-bytes 1M");
		is_int(c.sync, 0, "parsed sync off");
	}

	if (ok(parse_text(&c, "timeout = 7") == 0,
	    "last line without a newline (%s)", err))
		is_dbl(c.timeout, 7, "value on a last line without newline");

	if (ok(parse_text(&c, "sync = 0\n") == 0, "one key (%s)", err)) {
		is_int(c.sync, 0, "the key is set");
		is_int(c.max_retries, 3, "other keys keep their defaults");
		is_dbl(c.backoff_max, 3600, "backoff_max keeps its default");
	}

	if (ok(parse_text(&c, "") == 0, "empty file")) {
		is_int(c.max_retries, 3, "empty file keeps defaults");
		is_int(c.log_max_bytes, 10485760, "empty file keeps log default");
	}
	ok(parse_text(&c, "# only a comment\n\n") == 0, "comments only");

	if (ok(parse_text(&c, "max_retries = 1\nmax_retries = 2\n") == 0,
	    "a key set twice (%s)", err))
		is_int(c.max_retries, 2, "the last setting wins");

	/* len bounds the text. */
	{
		const char *t = "max_retries = 5\nmax_retries = 7\n";

		config_defaults(&c);
		if (ok(config_parse(&c, t, 16, err, sizeof err) == 0,
		    "config_parse within len (%s)", err))
			is_int(c.max_retries, 5, "text beyond len ignored");
	}

	parse_bad("max_retries = 5\n\nbogus = 1\n", "line 3",
	    "an unknown key on line 3");
	parse_bad("bogus = 1\n", "bogus", "an unknown key, naming it");
	parse_bad("# c\nbackoff_base = 0.1\n", "line 2", "a bad value on line 2");
	parse_bad("# c\nbackoff_base = 0.1\n", "backoff_base",
	    "a bad value, naming the key");
	parse_bad("sync = 1\nsync\n", "line 2", "a line without '='");
	parse_bad("= 5\n", "line 1", "a line without a key");
	parse_bad("max_retries =\n", "line 1", "a line without a value");
	parse_bad("max_retries = 5 6\n", "line 1", "two values");
	parse_bad("\n\n\n\n\n\n\n\n\n\nsync = 7\n", "line 11",
	    "a bad value on line 11");
}

/* Count the lines of s. */
static int nlines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		if (*s == '\n')
			n++;
	return n;
}

/* Does s contain line (whole) as one of its lines? */
static int has_line(const char *s, const char *line)
{
	size_t n = strlen(line);
	const char *p = s;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == s || p[-1] == '\n') && (p[n] == '\n' || p[n] == 0))
			return 1;
		p++;
	}
	return 0;
}

static void test_text_set(void)
{
	struct config c;
	char *t;
	const char *orig =
	    "# my settings\n"
	    "# max_retries = 9\n"
	    "max-retries = 5\n"
	    "sync = 0\n";

	t = config_text_set(orig, strlen(orig), "max_retries", "7");
	if (ok(t != NULL, "config_text_set replacing a dashed line")) {
		is_int(nlines(t), 4, "same number of lines");
		ok(strncmp(t, "# my settings\n# max_retries = 9\n", 32) == 0,
		    "comments kept, in place, unchanged");
		ok(has_line(t, "sync = 0"), "other line kept");
		ok(!strstr(t, "= 5"), "old value gone");
		ok(t[0] && t[strlen(t) - 1] == '\n', "ends with a newline");
		if (ok(parse_text(&c, t) == 0, "result parses (%s)", err)) {
			is_int(c.max_retries, 7, "new value in force");
			is_int(c.sync, 0, "sync unchanged");
		}
		free(t);
	}

	t = config_text_set(orig, strlen(orig), "max-retries", "8");
	if (ok(t != NULL, "config_text_set with a dashed key")) {
		is_int(nlines(t), 4, "dashed key replaces, does not append");
		if (ok(parse_text(&c, t) == 0, "result parses (%s)", err))
			is_int(c.max_retries, 8, "new value in force");
		free(t);
	}

	t = config_text_set("sync = 0\n", 9, "timeout", "30");
	if (ok(t != NULL, "config_text_set appending")) {
		is_str(t, "sync = 0\ntimeout = 30\n", "line appended");
		free(t);
	}

	t = config_text_set("sync = 0", 8, "timeout", "30");
	if (ok(t != NULL, "config_text_set appending after no final newline")) {
		is_int(nlines(t), 2, "two lines");
		ok(has_line(t, "sync = 0"), "old line intact");
		if (ok(parse_text(&c, t) == 0, "result parses (%s)", err)) {
			is_dbl(c.timeout, 30, "appended value in force");
			is_int(c.sync, 0, "old value in force");
		}
		free(t);
	}

	t = config_text_set("", 0, "max_retries", "4");
	if (ok(t != NULL, "config_text_set on an empty file")) {
		is_str(t, "max_retries = 4\n", "one line");
		free(t);
	}

	t = config_text_set("timeout = 5\nkill_grace = 5\n",
	    strlen("timeout = 5\nkill_grace = 5\n"), "kill_grace", "1");
	if (ok(t != NULL, "config_text_set of the last line")) {
		ok(has_line(t, "timeout = 5"), "previous line untouched");
		is_int(nlines(t), 2, "still two lines");
		if (ok(parse_text(&c, t) == 0, "result parses (%s)", err)) {
			is_dbl(c.kill_grace, 1, "kill_grace replaced");
			is_dbl(c.timeout, 5, "timeout untouched");
		}
		free(t);
	}

	{
		const char *s = "sync=1   \nmax_retries = 2\n";

		t = config_text_set(s, strlen(s), "sync", "0");
		if (ok(t != NULL, "config_text_set of a line without spaces")) {
			is_int(nlines(t), 2, "line without spaces replaced");
			if (ok(parse_text(&c, t) == 0, "result parses (%s)",
			    err)) {
				is_int(c.sync, 0, "sync replaced");
				is_int(c.max_retries, 2, "max_retries kept");
			}
			free(t);
		}
	}
}

int main(void)
{
	test_min_free();
	test_defaults();
	test_keys();
	test_keep();
	test_set_value();
	test_get_value();
	test_parse();
	test_text_set();
	return done_testing();
}
