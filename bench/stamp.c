/*
 * stamp FILE - a benchmark job's first act: write the current CLOCK_REALTIME
 * in nanoseconds (decimal, then a newline) to FILE (open O_CREAT|O_WRONLY,
 * write, close). The pickup driver waits for FILE and subtracts the time it
 * recorded just before it started the enqueue command.
 */
#include <fcntl.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	struct timespec ts;
	char buf[32];
	int fd, n;

	clock_gettime(CLOCK_REALTIME, &ts);
	if (argc != 2) {
		fputs("usage: stamp FILE\n", stderr);
		return 64;
	}
	n = snprintf(buf, sizeof buf, "%lld\n",
	    (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
	if ((fd = open(argv[1], O_CREAT | O_WRONLY | O_TRUNC, 0644)) == -1) {
		perror(argv[1]);
		return 74;
	}
	if (write(fd, buf, (size_t)n) != n) {
		perror("write");
		return 74;
	}
	return close(fd) == -1 ? 74 : 0;
}
