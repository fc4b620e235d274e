/*
 * fuzz_config.c - libFuzzer harness for the config file parser and editor
 * (src/config.c: config_parse, config_get_value, config_set_value,
 * config_text_set).
 *
 * The input is the text of SPOOL/config (not NUL-terminated). Properties:
 *   - a refused file gets a non-empty one-line reason that names the line;
 *   - for an accepted file, every value config_get_value prints reads back
 *     through config_set_value (and through config_parse) as the same value;
 *   - `config set` on the file (config_text_set with each key, under both
 *     spellings, stored as cmd_config.c stores it) gives a file that parses,
 *     holds the new value and keeps every other setting;
 *   - config_text_set never breaks on any text, valid or not.
 */
#include <string.h>

#include "config.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

/* Two valid values for each key; a key not listed here (a new one) gets
 * its default value and the value of c. */
static const struct {
	const char *key, *v[2];
} alt_values[] = {
	{ "max_retries", { "7", "0" } },
	{ "backoff_base", { "1.5", "3" } },
	{ "backoff_max", { "60", "0.25" } },
	{ "timeout", { "30", "0" } },
	{ "kill_grace", { "2.5", "0" } },
	{ "log_max_bytes", { "1048576", "0" } },
	{ "sync", { "0", "1" } },
	{ "min_free", { "5", "0.5" } },
};

/* Value number i (0 or 1) to set key to, into buf. */
static void
alt_value(const char *key, int i, const struct config *c, char *buf,
    size_t n)
{
	struct config d;

	for (size_t j = 0; j < sizeof alt_values / sizeof *alt_values; j++)
		if (strcmp(alt_values[j].key, key) == 0) {
			snprintf(buf, n, "%s", alt_values[j].v[i]);
			return;
		}
	config_defaults(&d);
	CHECK(config_get_value(i ? c : &d, key, buf, n) == 0, "get %s", key);
}

/* a and b hold the same settings: every key prints the same. */
static void
check_same(const struct config *a, const struct config *b, const char *what,
    const char *text)
{
	char va[64], vb[64];

	for (size_t i = 0; i < config_nkeys; i++) {
		CHECK(config_get_value(a, config_keys[i], va, sizeof va) == 0 &&
		    config_get_value(b, config_keys[i], vb, sizeof vb) == 0,
		    "config_get_value %s", config_keys[i]);
		CHECK(strcmp(va, vb) == 0, "%s: %s is %s, expected %s\n%s",
		    what, config_keys[i], vb, va, text);
	}
}

/* The values of c are in their documented ranges. */
static void
check_ranges(const struct config *c)
{
	CHECK(c->max_retries >= 0 && c->max_retries <= 1000000, "max_retries");
	CHECK(c->backoff_base >= 1 && c->backoff_base <= 1000, "backoff_base");
	CHECK(c->backoff_max >= 0 && c->backoff_max <= 31536000, "backoff_max");
	CHECK(c->timeout >= 0 && c->timeout <= 31536000, "timeout");
	CHECK(c->kill_grace >= 0 && c->kill_grace <= 31536000, "kill_grace");
	CHECK(c->log_max_bytes >= 0 && c->log_max_bytes <= (1LL << 40),
	    "log_max_bytes");
	CHECK(c->sync == 0 || c->sync == 1, "sync");
}

static void
check_refusal(const char *err)
{
	CHECK(strncmp(err, "line ", 5) == 0, "reason names no line: %s", err);
	CHECK(strchr(err, '\n') == NULL, "reason is not one line: %s", err);
}

/* The key with dashes for underscores ("max-retries"). */
static void
dashed(const char *key, char *buf, size_t n)
{
	size_t i;

	for (i = 0; key[i] != '\0' && i + 1 < n; i++)
		buf[i] = key[i] == '_' ? '-' : key[i];
	buf[i] = '\0';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct config c, d, e, want;
	char err[512], val[64], key[32], v[64], *out;
	int ok;

	config_defaults(&c);
	err[0] = '\0';
	ok = config_parse(&c, text, size, err, sizeof err) == 0;
	if (!ok)
		check_refusal(err);
	else
		check_ranges(&c);

	for (size_t i = 0; i < config_nkeys; i++) {
		const char *k = config_keys[i];

		CHECK(config_key_canonical(k) == k, "canonical %s", k);
		dashed(k, key, sizeof key);
		CHECK(config_key_canonical(key) == k, "canonical %s", key);

		if (ok) {
			/* get -> set reads back the same value */
			CHECK(config_get_value(&c, k, val, sizeof val) == 0,
			    "config_get_value %s", k);
			d = c;
			if (config_set_value(&d, k, val, err, sizeof err) == -1)
				CHECK(0, "%s = %s does not read back: %s", k, val,
				    err);
			check_same(&c, &d, "get/set", val);
		}

		/* config set KEY VALUE on this file, under either spelling */
		alt_value(k, size > i && (data[i] & 1), &c, v, sizeof v);
		out = config_text_set(text, size, (i + size) & 1 ? key : k, v);
		CHECK(out != NULL, "config_text_set failed");
		CHECK(strlen(out) > 0 && out[strlen(out) - 1] == '\n',
		    "config_text_set output, as stored, does not end in a "
		    "newline (cut at a NUL byte?): [%s]", out);
		config_defaults(&e);
		if (config_parse(&e, out, strlen(out), err, sizeof err) == -1) {
			CHECK(!ok, "after config set %s %s, the valid file does "
			    "not parse: %s\n%s", k, v, err, out);
			check_refusal(err);
		} else if (ok) {
			want = c;
			CHECK(config_set_value(&want, k, v, err, sizeof err) == 0,
			    "alt value %s = %s: %s", k, v, err);
			check_same(&want, &e, "after config set", out);
		}
		free(out);
	}
	return 0;
}
