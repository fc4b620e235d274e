/*
 * shell.h - commands as /bin/sh reads them: quoting words into a command
 * line, and recognising a command line simple enough to run without sh.
 * Pure string functions; unit-tested and fuzzed.
 */
#ifndef QUEUECTL_SHELL_H
#define QUEUECTL_SHELL_H

/*
 * Quote one word for /bin/sh so that it reads back as exactly that word:
 * plain words stay as they are, others are put in single quotes. Returns a
 * malloc'ed string or NULL (ENOMEM).
 */
char *shell_quote(const char *word);

/*
 * The shell command line for the n >= 1 words of `enqueue -- WORDS`: one
 * word is taken as a command line as it is; several are each quoted with
 * shell_quote() and joined by spaces, and a first word that sh would not
 * read as a command name (a reserved word such as "if", or NAME=value) is
 * quoted too, so that sh runs exactly those words as nq and task-spooler
 * do. Returns a malloc'ed string or NULL (ENOMEM).
 */
char *shell_join(int n, char *const *words);

/*
 * If command is a simple command that sh would run as just its words, with
 * nothing for the shell to do, store its words in *argv (a malloc'ed,
 * NULL-terminated vector with the strings after it in the same block: one
 * free()) and return 1; return 0 when it needs sh, and -1 (ENOMEM).
 *
 * Simple means, as GNU make decides when it may skip the shell: only the
 * characters A-Za-z0-9 and _ . / , : = + % @ - between blanks (spaces and
 * tabs), no quote, no $, no glob, no redirection, no ~, no #; and a first
 * word that is neither NAME=value nor a reserved word nor a builtin of sh
 * (echo, cd, exit, ...), except true and false, whose programs behave the
 * same. Such a command gives the same result run with execvp(3) as with
 * sh -c.
 */
int shell_simple_argv(const char *command, char ***argv);

#endif
