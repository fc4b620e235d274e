/*
 * fuzz_args.c - libFuzzer harness for what the CLI does with its arguments
 * before it writes a job (src/cmd_enqueue.c, with src/job.c and src/util.c).
 *
 * The input is taken as command-line words: the bytes up to the first NUL
 * are one argument string s (as argv would hold it), and the bytes split at
 * every NUL are an argument vector. Properties:
 *   - `queuectl enqueue JSON` (s starts with '{'): job_parse with no file
 *     name; when it accepts, the object with cwd added, printed and parsed
 *     again as validate() does, must be accepted too; the file enqueue then
 *     writes (id, state, created_at, updated_at, attempts filled in) must be
 *     accepted by a worker under its id, with the same command and fields;
 *   - `queuectl enqueue WORD`: the one-word command is stored unchanged;
 *   - `queuectl enqueue -- W1 W2 ...`: each word shell_quote'd and joined
 *     reads back (a small POSIX sh word splitter below) as exactly those
 *     words, and the first one is a command name: no assignment, no
 *     reserved word;
 *   - shell_quote(s) reads back as the single word s;
 *   - time_parse (--run-at) and duration_parse (--timeout, --delay) either
 *     refuse with EINVAL/ERANGE or give a value whose canonical text
 *     (time_format, the job's "timeout") is accepted again with the same
 *     value;
 *   - a valid id (--id) becomes a job file name that reads back.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fuzz.h"
#include "job.h"
#include "util.h"
#include "shell.h"

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("TZ", FUZZ_TZ, 1);
	tzset();
	return 0;
}

/* ---- a small /bin/sh word splitter ---------------------------------- */

/* Characters that mean nothing to the shell outside quotes (a subset of
 * what POSIX leaves alone; '=' is special only in an assignment). */
static const char sh_plain[] = "abcdefghijklmnopqrstuvwxyz"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%_-+=:,./";

/* POSIX reserved words, and those of shells that may be /bin/sh (bash) */
static const char *const sh_reserved[] = {
	"!", "{", "}", "case", "do", "done", "elif", "else", "esac", "fi",
	"for", "if", "in", "then", "until", "while",
	"[[", "]]", "coproc", "function", "select", "time"
};

struct words {
	char **w;
	size_t *len;
	size_t n;
};

static void
words_free(struct words *ws)
{
	for (size_t i = 0; i < ws->n; i++)
		free(ws->w[i]);
	free(ws->w);
	free(ws->len);
	memset(ws, 0, sizeof *ws);
}

static void
words_add(struct words *ws, char *w, size_t len)
{
	ws->w = realloc(ws->w, (ws->n + 1) * sizeof *ws->w);
	ws->len = realloc(ws->len, (ws->n + 1) * sizeof *ws->len);
	CHECK(ws->w != NULL && ws->len != NULL, "out of memory");
	ws->w[ws->n] = w;
	ws->len[ws->n++] = len;
}

/* Is w[0..n) a shell name ([A-Za-z_][A-Za-z0-9_]*)? */
static int
sh_name(const char *w, size_t n)
{
	if (n == 0 || !(w[0] == '_' || (w[0] >= 'a' && w[0] <= 'z') ||
	    (w[0] >= 'A' && w[0] <= 'Z')))
		return 0;
	for (size_t i = 1; i < n; i++)
		if (!(w[i] == '_' || (w[i] >= 'a' && w[i] <= 'z') ||
		    (w[i] >= 'A' && w[i] <= 'Z') || (w[i] >= '0' && w[i] <= '9')))
			return 0;
	return 1;
}

/*
 * Split line into words as /bin/sh would, for what shell_quote writes:
 * plain characters, '...' strings and backslash escapes, words separated
 * by spaces. Returns 0, or a message for anything the shell would
 * interpret: another special character, an unterminated quote, or a first
 * word that is an assignment (NAME=...) or a reserved word.
 */
static const char *
sh_split(const char *line, struct words *ws)
{
	const char *p = line;

	memset(ws, 0, sizeof *ws);
	while (*p != '\0') {
		size_t cap = strlen(p) + 1, n = 0;
		char *w;
		int quoted = 0, assign = 0, seen_eq = 0;

		if (*p == ' ') {
			p++;
			continue;
		}
		if ((w = malloc(cap)) == NULL)
			return "out of memory";
		while (*p != '\0' && *p != ' ') {
			if (*p == '\'') {
				const char *q = strchr(p + 1, '\'');

				if (q == NULL) {
					free(w);
					return "unterminated quote";
				}
				memcpy(w + n, p + 1, (size_t)(q - p - 1));
				n += (size_t)(q - p - 1);
				p = q + 1;
				quoted = 1;
			} else if (*p == '\\') {
				if (p[1] == '\0' || p[1] == '\n') {
					free(w);
					return "backslash at the end";
				}
				w[n++] = p[1];
				p += 2;
				quoted = 1;
			} else if (strchr(sh_plain, *p) != NULL) {
				if (*p == '=' && !seen_eq) {
					seen_eq = 1;
					assign = !quoted && sh_name(w, n);
				}
				w[n++] = *p++;
			} else {
				free(w);
				return "a special character outside quotes";
			}
		}
		w[n] = '\0';
		if (ws->n == 0 && assign) {
			free(w);
			return "the first word is an assignment (NAME=value)";
		}
		if (ws->n == 0 && !quoted)
			for (size_t i = 0; i < sizeof sh_reserved /
			    sizeof *sh_reserved; i++)
				if (strcmp(w, sh_reserved[i]) == 0) {
					free(w);
					return "the first word is a reserved word";
				}
		words_add(ws, w, n);
	}
	return NULL;
}

/* ---- the enqueue path ------------------------------------------------ */

static void
put(cJSON *obj, const char *key, cJSON *item)
{
	CHECK(item != NULL, "out of memory");
	if (cJSON_GetObjectItemCaseSensitive(obj, key) != NULL)
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item);
	else
		cJSON_AddItemToObject(obj, key, item);
}

/*
 * What cmd_enqueue does from the job object on: add cwd, validate (print,
 * parse again), then spool_enqueue fills in its fields and serializes; a
 * worker must accept that file. Takes obj.
 */
static void
enqueue(cJSON *obj, const char *what)
{
	char err[512], *text;
	struct job job, w;

	if (cJSON_GetObjectItemCaseSensitive(obj, "cwd") == NULL)
		put(obj, "cwd", cJSON_CreateString("/home/user"));
	text = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	CHECK(text != NULL, "cJSON_PrintUnformatted failed");
	if (job_parse(&job, text, strlen(text), NULL, err, sizeof err) == -1)
		CHECK(0, "%s: accepted, then refused by validate(): %s\n%s",
		    what, err, text);
	free(text);

	if (job.id[0] == '\0')
		CHECK(job_set_id(&job, "20261122-103000.123-abcdef") == 0, "id");
	CHECK(job_set_state(&job, ST_PENDING) == 0, "state");
	if (job.created_at == 0)
		CHECK(job_set_time(&job, "created_at", FUZZ_NOW_MS) == 0, "time");
	CHECK(job_set_time(&job, "updated_at", FUZZ_NOW_MS) == 0, "time");
	if (cJSON_GetObjectItemCaseSensitive(job.obj, "attempts") == NULL)
		CHECK(job_add_int(job.obj, "attempts", 0) == 0, "attempts");
	text = serialize_dup(&job);
	CHECK(text != NULL, "job_serialize failed");

	if (job_parse(&w, text, strlen(text), job.id, err, sizeof err) == -1)
		CHECK(0, "%s: a worker refuses the file enqueue wrote: %s\n%s",
		    what, err, text);
	CHECK(strcmp(w.id, job.id) == 0 && strcmp(w.command, job.command) == 0 &&
	    w.state == ST_PENDING && w.priority == job.priority &&
	    w.attempts == job.attempts && w.max_retries == job.max_retries &&
	    same_number(w.timeout, job.timeout) && w.run_at == job.run_at &&
	    w.created_at == job.created_at,
	    "%s: the worker reads another job than enqueue wrote:\n%s", what,
	    text);
	job_free(&w);
	job_free(&job);
	free(text);
}

/* queuectl enqueue JSON */
static void
enqueue_json(const char *s)
{
	char err[512];
	struct job job;
	cJSON *obj;

	err[0] = '\0';
	if (job_parse(&job, s, strlen(s), NULL, err, sizeof err) == -1) {
		CHECK(err[0] != '\0' && strchr(err, '\n') == NULL,
		    "bad reason: '%s'", err);
		return;
	}
	obj = job.obj;
	job.obj = NULL;
	enqueue(obj, "enqueue JSON");
}

/* queuectl enqueue WORD... (n words). */
static void
enqueue_words(char **words, size_t n)
{
	char *cmd;
	cJSON *obj;
	struct words ws;
	const char *why;

	/* a JSON argument ("{...}" or "-") is handled by enqueue_json; with
	 * more words after it, enqueue refuses the command line */
	if (n == 0 || words[0][0] == '{' || strcmp(words[0], "-") == 0)
		return;
	if (n == 1) {
		if (words[0][0] == '\0')
			return;     /* an empty command is refused; fine */
		cmd = strdup(words[0]);
		CHECK(cmd != NULL, "out of memory");
	} else {
		/* enqueue -- W1 W2...: the words, quoted and joined */
		cmd = shell_join((int)n, words);
		CHECK(cmd != NULL, "shell_join failed");
		why = sh_split(cmd, &ws);
		CHECK(why == NULL, "%zu words quoted as [%s]: %s (first word "
		    "[%s])", n, cmd, why, words[0]);
		CHECK(ws.n == n, "%zu words quoted as [%s] read back as %zu", n,
		    cmd, ws.n);
		for (size_t i = 0; i < n; i++)
			CHECK(ws.len[i] == strlen(words[i]) &&
			    memcmp(ws.w[i], words[i], ws.len[i]) == 0,
			    "word %zu [%s] quoted as [%s] reads back as [%s]", i,
			    words[i], cmd, ws.w[i]);
		words_free(&ws);
	}
	if (!utf8_valid(cmd, strlen(cmd))) {
		free(cmd);      /* enqueue refuses it (65): JSON is UTF-8 */
		return;
	}
	obj = cJSON_CreateObject();
	CHECK(obj != NULL && cJSON_AddStringToObject(obj, "command", cmd) !=
	    NULL, "out of memory");
	{
		/* the stored command is exactly cmd */
		char err[512], *text = cJSON_PrintUnformatted(obj);
		struct job job;

		CHECK(text != NULL, "print");
		if (job_parse(&job, text, strlen(text), NULL, err,
		    sizeof err) == -1)
			CHECK(0, "command [%s] refused: %s", cmd, err);
		CHECK(strcmp(job.command, cmd) == 0, "command [%s] stored as "
		    "[%s]", cmd, job.command);
		job_free(&job);
		free(text);
	}
	enqueue(obj, "enqueue WORDS");
	free(cmd);
}

/* shell_quote(s) reads back as s. */
static void
quote_one(const char *s)
{
	char *q = shell_quote(s);
	struct words ws;
	const char *why;

	CHECK(q != NULL, "shell_quote failed");
	/* a lone word is not in command position: only its value matters */
	why = sh_split(q, &ws);
	if (why != NULL && strncmp(why, "the first word", 14) == 0) {
		char *line = malloc(strlen(q) + 3);

		CHECK(line != NULL, "out of memory");
		strcpy(line, "x ");
		strcat(line, q);
		why = sh_split(line, &ws);
		free(line);
		if (why == NULL) {
			/* drop the "x" */
			free(ws.w[0]);
			memmove(ws.w, ws.w + 1, (ws.n - 1) * sizeof *ws.w);
			memmove(ws.len, ws.len + 1, (ws.n - 1) * sizeof *ws.len);
			ws.n--;
		}
	}
	CHECK(why == NULL, "[%s] quoted as [%s]: %s", s, q, why);
	CHECK(ws.n == 1 && strcmp(ws.w[0], s) == 0,
	    "[%s] quoted as [%s] reads back as %zu words, first [%s]", s, q,
	    ws.n, ws.n > 0 ? ws.w[0] : "");
	words_free(&ws);
	free(q);
}

/* --run-at TIME */
static void
run_at(const char *s)
{
	char canon[TIME_BUFSZ], canon2[TIME_BUFSZ], err[512], json[128];
	int64_t ms = 0, ms2 = 0;
	struct job job;

	errno = 0;
	if (time_parse(s, &ms) == -1) {
		CHECK(errno == EINVAL, "time_parse: errno %d", errno);
		return;
	}
	time_format(ms, canon);
	if (time_parse(canon, &ms2) == -1)
		CHECK(0, "[%s] is %lld ms, written as %s, which time_parse "
		    "refuses", s, (long long)ms, canon);
	CHECK(ms2 == ms, "[%s] is %lld ms, written as %s, read back as %lld",
	    s, (long long)ms, canon, (long long)ms2);
	CHECK(strcmp(time_format(ms2, canon2), canon) == 0, "unstable format");
	snprintf(json, sizeof json, "{\"command\":\"x\",\"run_at\":\"%s\"}",
	    canon);
	if (job_parse(&job, json, strlen(json), NULL, err, sizeof err) == -1)
		CHECK(0, "--run-at %s: the job is refused: %s", s, err);
	CHECK(job.run_at == ms, "--run-at %s: run_at %lld", s,
	    (long long)job.run_at);
	job_free(&job);
}

/* --timeout SEC, --delay SEC */
static void
durations(const char *s)
{
	char canon[TIME_BUFSZ], err[512];
	int64_t ms = 0, at = 0;
	struct job job;
	cJSON *obj;
	char *text;

	errno = 0;
	if (duration_parse(s, &ms) == -1) {
		CHECK(errno == EINVAL || errno == ERANGE,
		    "duration_parse: errno %d", errno);
		return;
	}
	CHECK(ms >= 0 && ms <= (int64_t)100 * 365 * 86400 * 1000,
	    "[%s] gives %lld ms", s, (long long)ms);
	/* --delay: run_at = now + ms */
	time_format(FUZZ_NOW_MS + ms, canon);
	CHECK(time_parse(canon, &at) == 0 && at == FUZZ_NOW_MS + ms,
	    "--delay %s: %s", s, canon);
	/* --timeout: stored as seconds when in range */
	if (ms > (int64_t)(TIMEOUT_LIMIT * 1000))
		return;
	obj = cJSON_CreateObject();
	CHECK(obj != NULL && cJSON_AddStringToObject(obj, "command", "x") &&
	    cJSON_AddNumberToObject(obj, "timeout", (double)ms / 1000),
	    "out of memory");
	text = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	CHECK(text != NULL, "print");
	if (job_parse(&job, text, strlen(text), NULL, err, sizeof err) == -1)
		CHECK(0, "--timeout %s: refused: %s (%s)", s, err, text);
	CHECK(fabs(job.timeout * 1000 - (double)ms) < 0.5,
	    "--timeout %s: %g s", s, job.timeout);
	job_free(&job);
	free(text);
}

/* --id ID */
static void
id_opt(const char *s)
{
	char name[ID_MAX + 8], id[ID_MAX + 1], err[512], *text;
	struct job job, w;
	const char cmd[] = "{\"command\":\"x\"}";

	if (!id_valid(s))
		return;
	CHECK(strlen(s) <= ID_MAX && s[0] != '.' && strchr(s, '/') == NULL,
	    "id_valid accepts [%s]", s);
	CHECK(fmt_checked(name, sizeof name, "%s.json", s) == 0, "name");
	CHECK(id_from_name(name, id) == 0 && strcmp(id, s) == 0,
	    "id_from_name(%s)", name);
	CHECK(job_parse(&job, cmd, strlen(cmd), NULL, err, sizeof err) == 0,
	    "job");
	CHECK(job_set_id(&job, s) == 0, "job_set_id");
	text = serialize_dup(&job);
	CHECK(text != NULL, "serialize");
	if (job_parse(&w, text, strlen(text), s, err, sizeof err) == -1)
		CHECK(0, "--id %s: refused: %s", s, err);
	job_free(&w);
	job_free(&job);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1), **argv;
	size_t argc = 0;

	CHECK(buf != NULL, "out of memory");
	memcpy(buf, data, size);
	buf[size] = '\0';

	/* the bytes up to the first NUL: one argument */
	if (buf[0] == '{')
		enqueue_json(buf);
	quote_one(buf);
	run_at(buf);
	durations(buf);
	id_opt(buf);

	/* the bytes split at each NUL: an argument vector (at most 64) */
	argv = calloc(65, sizeof *argv);
	CHECK(argv != NULL, "out of memory");
	for (size_t i = 0; i <= size && argc < 64; ) {
		argv[argc++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	enqueue_words(argv, argc);
	free(argv);
	free(buf);
	return 0;
}
