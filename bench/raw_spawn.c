/*
 * raw_spawn [-n N] [-p P] [-q] [-- COMMAND ARGS...]
 *
 * The machine's own limit for a job runner: fork+exec COMMAND (default:
 * sh -c true) N times in total, keeping P running at once (P processes each
 * doing fork, exec, wait in a loop), and print "RATE SECONDS" (spawns per
 * second, wall time). -q sends the children's stdout to /dev/null (for
 * commands that print, such as an enqueue command).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mono.h"

int
main(int argc, char **argv)
{
	static char *dflt[] = { "sh", "-c", "true", NULL };
	char **cmd = dflt;
	long n = 1000, p = 1, started = 0, running = 0, failed = 0;
	int c, quiet = 0, devnull = -1;
	double t0, t1;

	while ((c = getopt(argc, argv, "+n:p:q")) != -1) {
		switch (c) {
		case 'n': n = atol(optarg); break;
		case 'p': p = atol(optarg); break;
		case 'q': quiet = 1; break;
		default:
			fputs("usage: raw_spawn [-n N] [-p P] [-q] [-- COMMAND...]\n",
			    stderr);
			return 64;
		}
	}
	if (optind < argc)
		cmd = argv + optind;
	if (n < 1 || p < 1) {
		fputs("raw_spawn: N and P must be at least 1\n", stderr);
		return 64;
	}
	if (quiet && (devnull = open("/dev/null", O_WRONLY)) == -1) {
		perror("/dev/null");
		return 74;
	}

	t0 = mono();
	while (started < n || running > 0) {
		while (started < n && running < p) {
			pid_t pid = fork();

			if (pid == -1) {
				perror("fork");
				return 71;
			}
			if (pid == 0) {
				if (devnull != -1)
					dup2(devnull, 1);
				execvp(cmd[0], cmd);
				_exit(127);
			}
			started++;
			running++;
		}
		int st;
		pid_t pid = wait(&st);

		if (pid == -1) {
			if (errno == EINTR)
				continue;
			perror("wait");
			return 71;
		}
		running--;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed++;
	}
	t1 = mono();
	if (failed)
		fprintf(stderr, "raw_spawn: %ld of %ld runs failed\n", failed, n);
	printf("%.1f %.4f\n", (double)n / (t1 - t0), t1 - t0);
	return failed ? 1 : 0;
}
