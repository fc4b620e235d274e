/*
 * shell.c - quoting words for /bin/sh, and running simple commands without
 * it (see shell.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shell.h"

char *
shell_quote(const char *word)
{
	static const char safe[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@%_-+=:,./";
	size_t n = strlen(word), quotes = 0;
	char *out, *o;

	if (n > 0 && strspn(word, safe) == n)
		return strdup(word);
	for (const char *p = word; *p; p++)
		quotes += *p == '\'';
	/* each ' becomes '\'' (4 bytes); plus the two quotes and the NUL */
	if ((out = malloc(n + quotes * 3 + 3)) == NULL)
		return NULL;
	o = out;
	*o++ = '\'';
	for (const char *p = word; *p; p++) {
		if (*p == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else
			*o++ = *p;
	}
	*o++ = '\'';
	*o = '\0';
	return out;
}

/*
 * Would sh read word, first on a line, as other than a command name: a
 * reserved word (POSIX's, and bash's, which may be /bin/sh), or an
 * assignment NAME=value?
 */
static int
not_a_command_name(const char *word)
{
	static const char *const reserved[] = { "!", "{", "}", "case", "do",
	    "done", "elif", "else", "esac", "fi", "for", "if", "in", "then",
	    "until", "while", "[[", "]]", "coproc", "function", "select",
	    "time" };
	size_t n = strspn(word, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

	for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++)
		if (strcmp(word, reserved[i]) == 0)
			return 1;
	return n > 0 && word[n] == '=' && !(word[0] >= '0' && word[0] <= '9');
}

char *
shell_join(int n, char *const *words)
{
	char *out = NULL, *q;
	size_t len = 0;
	FILE *f;
	int bad = 0;

	if (n == 1)
		return strdup(words[0]);
	if ((f = open_memstream(&out, &len)) == NULL)
		return NULL;
	for (int i = 0; i < n && !bad; i++) {
		if ((q = shell_quote(words[i])) == NULL) {
			bad = 1;
			break;
		}
		/* a word shell_quote() left bare is [A-Za-z0-9@%_+=:,./-]* */
		if (i == 0 && q[0] != '\'' && not_a_command_name(words[0]))
			bad = fprintf(f, "'%s'", q) < 0;
		else
			bad = fprintf(f, "%s%s", i > 0 ? " " : "", q) < 0;
		free(q);
	}
	if (fclose(f) != 0 || bad) {
		free(out);
		errno = ENOMEM;
		return NULL;
	}
	return out;
}

/* Builtins of dash and bash that a program of the same name would not
 * replace exactly (true and false are left out on purpose: they would). */
static int
is_builtin(const char *word)
{
	static const char *const builtins[] = { ".", ":", "[", "alias", "bg",
	    "bind", "break", "builtin", "caller", "cd", "chdir", "command",
	    "compgen", "complete", "continue", "declare", "dirs", "disown",
	    "echo", "enable", "eval", "exec", "exit", "export", "fc", "fg",
	    "getopts", "hash", "help", "history", "jobs", "kill", "let",
	    "local", "logout", "mapfile", "popd", "printf", "pushd", "pwd",
	    "read", "readarray", "readonly", "return", "set", "shift",
	    "shopt", "source", "suspend", "test", "times", "trap", "type",
	    "typeset", "ulimit", "umask", "unalias", "unset", "wait" };

	for (size_t i = 0; i < sizeof builtins / sizeof *builtins; i++)
		if (strcmp(word, builtins[i]) == 0)
			return 1;
	return 0;
}

int
shell_simple_argv(const char *command, char ***argv)
{
	static const char plain[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./,:=+%@-";
	size_t len = strlen(command), words = 0;
	char **v, *s;

	*argv = NULL;
	for (const char *p = command; *p; ) {
		size_t n = strspn(p, plain);

		if (n > 0)
			words++;
		p += n;
		n = strspn(p, " \t");
		if (n == 0 && *p != '\0')
			return 0;       /* a character sh gives a meaning */
		p += n;
	}
	if (words == 0)
		return 0;
	if ((v = malloc((words + 1) * sizeof *v + len + 1)) == NULL)
		return -1;
	s = memcpy(v + words + 1, command, len + 1);
	words = 0;
	for (char *tok = strtok(s, " \t"); tok != NULL; tok = strtok(NULL, " \t"))
		v[words++] = tok;
	v[words] = NULL;
	if (strchr(v[0], '=') != NULL || is_builtin(v[0]) ||
	    not_a_command_name(v[0])) {
		free(v);
		return 0;
	}
	*argv = v;
	return 1;
}
