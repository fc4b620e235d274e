/*
 * raw_files [-f] [-s SIZE] [-c COMMAND] [-x PREFIX] TMPDIR DESTDIR N
 *
 * The machine's own limit for a file-based queue: N times, create
 * TMPDIR/NAME (O_CREAT|O_EXCL), write about SIZE bytes (default 300) of a
 * valid queuectl job, {"command":COMMAND,"pad":"..."} (COMMAND default
 * "true", inserted as is: no JSON escaping), close it and rename it to
 * DESTDIR/NAME, where NAME is PREFIX (default "r") and an 8-digit counter
 * plus ".json". -f: fsync each file before the rename and DESTDIR after it
 * (a durable enqueue's two fsyncs). Prints "RATE SECONDS" (files per second).
 * TMPDIR and DESTDIR must be on the same filesystem; the same tool fills
 * spools for the other benchmarks (the drop-in protocol).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mono.h"

int
main(int argc, char **argv)
{
	const char *command = "true", *prefix = "r";
	char buf[4096], name[256];
	long n, size = 300;
	int c, dosync = 0, tfd, dfd, len;
	double t0, t1;

	while ((c = getopt(argc, argv, "fs:c:x:")) != -1) {
		switch (c) {
		case 'f': dosync = 1; break;
		case 's': size = atol(optarg); break;
		case 'c': command = optarg; break;
		case 'x': prefix = optarg; break;
		default:
			goto usage;
		}
	}
	if (argc - optind != 3)
		goto usage;
	n = atol(argv[optind + 2]);
	if (size < 0 || size > (long)sizeof buf - 1)
		size = 300;

	len = snprintf(buf, sizeof buf, "{\"command\":\"%s\",\"pad\":\"", command);
	if (len < 0 || len > (int)sizeof buf - 8)
		goto usage;
	while (len < size - 3)
		buf[len++] = 'x';
	len += snprintf(buf + len, sizeof buf - (size_t)len, "\"}\n");

	if ((tfd = open(argv[optind], O_RDONLY | O_DIRECTORY)) == -1) {
		perror(argv[optind]);
		return 74;
	}
	if ((dfd = open(argv[optind + 1], O_RDONLY | O_DIRECTORY)) == -1) {
		perror(argv[optind + 1]);
		return 74;
	}
	t0 = mono();
	for (long i = 0; i < n; i++) {
		snprintf(name, sizeof name, "%s%08ld.json", prefix, i);
		int fd = openat(tfd, name, O_CREAT | O_EXCL | O_WRONLY, 0600);

		if (fd == -1) {
			perror(name);
			return 74;
		}
		if (write(fd, buf, (size_t)len) != len ||
		    (dosync && fsync(fd) == -1) || close(fd) == -1) {
			perror(name);
			return 74;
		}
		if (renameat(tfd, name, dfd, name) == -1 ||
		    (dosync && fsync(dfd) == -1)) {
			perror(name);
			return 74;
		}
	}
	t1 = mono();
	printf("%.1f %.4f\n", (double)n / (t1 - t0), t1 - t0);
	return 0;
usage:
	fputs("usage: raw_files [-f] [-s SIZE] [-c COMMAND] [-x PREFIX] "
	    "TMPDIR DESTDIR N\n", stderr);
	return 64;
}
