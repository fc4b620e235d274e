/*
 * test_shell.c - shell_simple_argv: which commands run without /bin/sh and
 * the words they run with; and, for every simple one, that sh -c gives the
 * same words (a printf of its arguments run both ways).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bsd/string.h>

#include "shell.h"
#include "tap.h"

/* Join argv with '|' into buf. */
static const char *
joined(char **argv, char *buf, size_t n)
{
	buf[0] = '\0';
	for (size_t i = 0; argv[i] != NULL; i++) {
		if (i > 0)
			strlcat(buf, "|", n);
		strlcat(buf, argv[i], n);
	}
	return buf;
}

static void
test_simple(void)
{
	static const struct { const char *cmd, *words; } cases[] = {
		{ "true", "true" },
		{ "false", "false" },
		{ "make -j4 all", "make|-j4|all" },
		{ "  ./run.sh\t--x=1  a,b:c@d%e+f ", "./run.sh|--x=1|a,b:c@d%e+f" },
		{ "/usr/bin/env", "/usr/bin/env" },
		{ "tar czf /tmp/home.tgz /home", "tar|czf|/tmp/home.tgz|/home" },
	};
	char buf[256], **argv;

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		int r = shell_simple_argv(cases[i].cmd, &argv);

		if (!is_int(r, 1, "simple: [%s]", cases[i].cmd))
			continue;
		is_str(joined(argv, buf, sizeof buf), cases[i].words,
		    "... runs as its words");
		free(argv);
	}
}

static void
test_needs_shell(void)
{
	static const char *const cmds[] = {
		"", "   ", "echo hi", "cd /tmp", "exit 3", "export A=1",
		"A=1 make", "a=b", "ls *.c", "ls ?", "ls [ab]", "cat <in",
		"echo >out", "a | b", "a; b", "a && b", "a & b", "$HOME/x",
		"x `id`", "x 'y'", "x \"y\"", "x\\ y", "~/bin/x", "x # c",
		"if true", "time make", "! false", "{ x; }", "x\ny", "printf x",
		"test -f x", "[ -f x ]", "kill 1", "pwd", "read x", "wait",
		". ./env", ": x", "exec x", "eval x", "trap x", "umask 022",
		"ulimit -n", "caf\xc3\xa9", "x (y)", "x !y", "x y=1 ^z",
	};
	char **argv = (char **)1;

	for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++) {
		is_int(shell_simple_argv(cmds[i], &argv), 0,
		    "needs sh: [%s]", cmds[i]);
		ok(argv == NULL, "... and no vector is returned");
	}
}

/* For each simple command, sh -c 'printf <%s> WORDS' prints our words. */
static void
test_same_as_sh(void)
{
	static const char *const args[] = {
		"a b c", " x\ty ", "--opt=1 -j4", "a,b:c@d%e+f/g.h_i-j",
		"1 2 3 4 5 6 7 8 9 10",
	};
	char cmd[512], line[512], want[512], **argv;

	for (size_t i = 0; i < sizeof args / sizeof *args; i++) {
		FILE *p;
		size_t n;

		snprintf(line, sizeof line, "x %s", args[i]);
		if (!is_int(shell_simple_argv(line, &argv), 1, "[%s] is simple",
		    line))
			continue;
		want[0] = '\0';
		for (size_t k = 1; argv[k] != NULL; k++) {
			strlcat(want, "<", sizeof want);
			strlcat(want, argv[k], sizeof want);
			strlcat(want, ">", sizeof want);
		}
		free(argv);
		snprintf(cmd, sizeof cmd, "sh -c 'printf \"<%%s>\" %s'", args[i]);
		if ((p = popen(cmd, "r")) == NULL) {
			ok(0, "popen");
			continue;
		}
		n = fread(line, 1, sizeof line - 1, p);
		line[n] = '\0';
		pclose(p);
		is_str(line, want, "sh splits [%s] into the same words", args[i]);
	}
}

int
main(void)
{
	test_simple();
	test_needs_shell();
	test_same_as_sh();
	return done_testing();
}
