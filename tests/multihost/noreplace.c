/*
 * noreplace.c - an LD_PRELOAD shim for the multi-host runs (tests/multihost/)
 * of a queuectl that cannot start a worker on a FUSE file system.
 *
 *   cc -shared -fPIC -o noreplace.so noreplace.c -ldl
 *   LD_PRELOAD=./noreplace.so queuectl worker start
 *
 * GlusterFS's FUSE client (like every FUSE file system without rename2)
 * answers renameat2(RENAME_NOREPLACE) with EINVAL. queuectl falls back to
 * link+unlink for job files, but not for the rename that publishes a new
 * lease directory, so a worker fails to start with "Invalid argument".
 * Contract: renameat2 with exactly RENAME_NOREPLACE that fails with EINVAL
 * on a directory is done again as a plain renameat (a lease directory is
 * never empty, so that never replaces one: ENOTEMPTY). Every other call is
 * passed on unchanged. run.sh uses it only after it has reported that a
 * plain worker does not start, to measure the rest; once the worker has
 * that fallback itself, the shim is never loaded.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

int renameat2(int olddirfd, const char *oldpath, int newdirfd,
    const char *newpath, unsigned int flags);

int
renameat2(int olddirfd, const char *oldpath, int newdirfd,
    const char *newpath, unsigned int flags)
{
	static int (*real)(int, const char *, int, const char *, unsigned int);
	struct stat st;
	int r, saved;

	if (real == NULL)
		real = (int (*)(int, const char *, int, const char *,
		    unsigned int))dlsym(RTLD_NEXT, "renameat2");
	if (real == NULL) {
		errno = ENOSYS;
		return -1;
	}
	r = real(olddirfd, oldpath, newdirfd, newpath, flags);
	if (r == 0 || errno != EINVAL || flags != RENAME_NOREPLACE)
		return r;
	saved = errno;
	if (fstatat(olddirfd, oldpath, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
	    !S_ISDIR(st.st_mode)) {
		errno = saved;
		return -1;
	}
	return renameat(olddirfd, oldpath, newdirfd, newpath);
}
