/*
 * fault.c - an LD_PRELOAD shim that makes file system calls fail, for the
 * fault-injection tests (tests/cli/22-faults.sh).
 *
 *   cc -shared -fPIC -o fault.so fault.c -ldl
 *   LD_PRELOAD=./fault.so QUEUECTL_FAULT=fsync:EIO queuectl enqueue true
 *
 * Contract. Nothing happens unless QUEUECTL_FAULT is set, and only in a
 * process whose name (program_invocation_short_name) is QUEUECTL_FAULT_PROG,
 * "queuectl" by default (so timeout(1), sh and the jobs are left alone).
 *
 *   QUEUECTL_FAULT=CALLS:ERRNO   CALLS is a comma list of
 *                                  write   write(2) to a regular file (never
 *                                          to a pipe or terminal, so errors
 *                                          can still be reported)
 *                                  fsync   fsync(2), fdatasync(2), syncfs(2)
 *                                  rename  rename, renameat, renameat2
 *                                  open    open, openat (and their *64)
 *                                  mkdir   mkdir, mkdirat, only when the
 *                                          directory does not exist yet
 *                                          (the kernel says EEXIST first)
 *                                  timer   timerfd_settime (its "path" is
 *                                          "timerfd")
 *                                  timerread  read(2) of a timerfd (its
 *                                          path: anon_inode:[timerfd])
 *                                ERRNO is ENOSPC, EIO, EMFILE, EDQUOT (or
 *                                ENFILE, EACCES, EROFS, EINTR, EINVAL, or a number).
 *   QUEUECTL_FAULT_PATH=SUBSTR   only calls whose path contains SUBSTR: the
 *                                name made absolute through its directory
 *                                descriptor (/proc/self/fd), for write and
 *                                fsync the file the descriptor is open on,
 *                                for rename either the old or the new name.
 *   QUEUECTL_FAULT_SKIP=N        let the first N matching calls succeed.
 *   QUEUECTL_FAULT_COUNT=N       then fail N of them, and let the rest
 *                                succeed (default: fail all of them). So
 *                                SKIP=N-1 COUNT=1 fails the Nth call only.
 *   QUEUECTL_FAULT_FLAG=FILE     fail only while FILE exists (checked at
 *                                every call; matching calls are counted
 *                                only then).
 *   QUEUECTL_FAULT_LOG=FILE      append "PID CALL ERRNO PATH" for every
 *                                failure injected, so that a test can see
 *                                that the fault was hit.
 *
 * Counts are per process (a forked child starts with its parent's). A
 * failing call does nothing and returns -1 with errno set. Malformed
 * settings are reported on stderr once and inject nothing.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { F_WRITE = 1, F_FSYNC = 2, F_RENAME = 4, F_OPEN = 8, F_MKDIR = 16,
    F_TIMER = 32, F_TIMERREAD = 64 };

static const struct {
	const char *name;
	int mask;
} calls[] = {
	{ "write", F_WRITE }, { "fsync", F_FSYNC }, { "fdatasync", F_FSYNC },
	{ "rename", F_RENAME }, { "renameat", F_RENAME },
	{ "renameat2", F_RENAME }, { "open", F_OPEN }, { "openat", F_OPEN },
	{ "mkdir", F_MKDIR }, { "mkdirat", F_MKDIR }, { "timer", F_TIMER },
	{ "timerread", F_TIMERREAD },
};

static const struct {
	const char *name;
	int value;
} errnos[] = {
	{ "ENOSPC", ENOSPC }, { "EIO", EIO }, { "EMFILE", EMFILE },
	{ "EDQUOT", EDQUOT }, { "ENFILE", ENFILE }, { "EACCES", EACCES },
	{ "EROFS", EROFS }, { "EINTR", EINTR }, { "EINVAL", EINVAL },
};

static struct {
	int ready;         /* settings parsed */
	int mask;          /* calls that may fail; 0: shim off */
	int err;
	const char *path, *flag, *log;
	long skip, count;  /* count < 0: no limit */
	long matched;
} cfg;

static long
env_long(const char *name, long dflt)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (v == NULL || *v == '\0')
		return dflt;
	n = strtol(v, &end, 10);
	return *end == '\0' && n >= 0 ? n : dflt;
}

static int
parse_errno(const char *s)
{
	char *end;
	long n;

	for (size_t i = 0; i < sizeof errnos / sizeof *errnos; i++)
		if (strcmp(s, errnos[i].name) == 0)
			return errnos[i].value;
	n = strtol(s, &end, 10);
	return *s != '\0' && *end == '\0' && n > 0 && n < 4096 ? (int)n : 0;
}

/* The mask of the comma list s (up to the colon); 0 if a name is unknown. */
static int
parse_calls(const char *s, size_t len)
{
	int mask = 0;

	while (len > 0) {
		size_t n = strcspn(s, ","), i;

		if (n > len)
			n = len;
		for (i = 0; i < sizeof calls / sizeof *calls; i++)
			if (strlen(calls[i].name) == n &&
			    strncmp(s, calls[i].name, n) == 0)
				break;
		if (i == sizeof calls / sizeof *calls)
			return 0;
		mask |= calls[i].mask;
		s += n;
		len -= n;
		if (len > 0) {
			s++;
			len--;
		}
	}
	return mask;
}

static void
setup(void)
{
	const char *spec = getenv("QUEUECTL_FAULT"), *colon;
	const char *prog = getenv("QUEUECTL_FAULT_PROG");

	cfg.ready = 1;
	if (spec == NULL || *spec == '\0')
		return;
	if (prog == NULL || *prog == '\0')
		prog = "queuectl";
	if (strcmp(program_invocation_short_name, prog) != 0)
		return;
	if ((colon = strchr(spec, ':')) == NULL ||
	    (cfg.mask = parse_calls(spec, (size_t)(colon - spec))) == 0 ||
	    (cfg.err = parse_errno(colon + 1)) == 0) {
		cfg.mask = 0;
		dprintf(2, "fault.so: bad QUEUECTL_FAULT '%s' (want CALLS:ERRNO)\n",
		    spec);
		return;
	}
	cfg.path = getenv("QUEUECTL_FAULT_PATH");
	cfg.flag = getenv("QUEUECTL_FAULT_FLAG");
	cfg.log = getenv("QUEUECTL_FAULT_LOG");
	cfg.skip = env_long("QUEUECTL_FAULT_SKIP", 0);
	cfg.count = env_long("QUEUECTL_FAULT_COUNT", -1);
}

/* The path fd is open on, or "" (buf holds PATH_MAX bytes). */
static const char *
fd_path(int fd, char *buf)
{
	char link[64];
	ssize_t n;

	snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
	if ((n = readlink(link, buf, PATH_MAX - 1)) < 0)
		n = 0;
	buf[n] = '\0';
	return buf;
}

/* name made absolute through dirfd (buf holds PATH_MAX bytes). */
static const char *
at_path(int dirfd, const char *name, char *buf)
{
	char dir[PATH_MAX];

	if (name == NULL)
		return "";
	if (name[0] == '/')
		return name;
	if (dirfd == AT_FDCWD) {
		if (getcwd(dir, sizeof dir) == NULL)
			dir[0] = '\0';
	} else
		fd_path(dirfd, dir);
	if (snprintf(buf, PATH_MAX, "%s/%s", dir, name) >= PATH_MAX)
		return name;     /* too long to name in full: the bare name */
	return buf;
}

static void
log_fault(const char *call, const char *p1, const char *p2)
{
	char line[2 * PATH_MAX + 128];
	int fd, n;

	if (cfg.log == NULL || *cfg.log == '\0')
		return;
	n = snprintf(line, sizeof line, "%ld %s %d %s%s%s\n", (long)getpid(),
	    call, cfg.err, p1, p2 != NULL ? " " : "", p2 != NULL ? p2 : "");
	if (n < 0 || (size_t)n >= sizeof line)
		n = (int)strlen(line);
	/* raw system calls: our own write and open must not be faulted */
	fd = (int)syscall(SYS_openat, AT_FDCWD, cfg.log,
	    O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (syscall(SYS_write, fd, line, (size_t)n) < 0) {
		/* nothing to do: the log is best effort */
	}
	close(fd);
}

/*
 * Should this call of kind fail? p1, p2: the paths it names (p2 may be
 * NULL). 1 with errno set if so.
 */
static int
inject(int kind, const char *call, const char *p1, const char *p2)
{
	int saved = errno;
	long n;

	if (!cfg.ready)
		setup();
	if (!(cfg.mask & kind))
		goto pass;
	if (cfg.path != NULL && *cfg.path != '\0' &&
	    strstr(p1, cfg.path) == NULL &&
	    (p2 == NULL || strstr(p2, cfg.path) == NULL))
		goto pass;
	if (cfg.flag != NULL && *cfg.flag != '\0' && access(cfg.flag, F_OK) != 0)
		goto pass;
	n = ++cfg.matched;
	if (n <= cfg.skip || (cfg.count >= 0 && n > cfg.skip + cfg.count))
		goto pass;
	log_fault(call, p1, p2);
	errno = cfg.err;
	return 1;
pass:
	errno = saved;
	return 0;
}

/* Is the shim on for kind? (Cheap test before building paths.) */
static int
armed(int kind)
{
	if (!cfg.ready)
		setup();
	return (cfg.mask & kind) != 0;
}

#define REAL(name) \
	static __typeof__(name) *real_##name; \
	if (real_##name == NULL) \
		real_##name = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)

ssize_t
write(int fd, const void *buf, size_t len)
{
	char p[PATH_MAX];
	struct stat st;

	REAL(write);
	if (armed(F_WRITE) && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    inject(F_WRITE, "write", fd_path(fd, p), NULL))
		return -1;
	return real_write(fd, buf, len);
}

int
fsync(int fd)
{
	char p[PATH_MAX];

	REAL(fsync);
	if (armed(F_FSYNC) && inject(F_FSYNC, "fsync", fd_path(fd, p), NULL))
		return -1;
	return real_fsync(fd);
}

int
fdatasync(int fd)
{
	char p[PATH_MAX];

	REAL(fdatasync);
	if (armed(F_FSYNC) && inject(F_FSYNC, "fdatasync", fd_path(fd, p), NULL))
		return -1;
	return real_fdatasync(fd);
}

int
syncfs(int fd)
{
	char p[PATH_MAX];

	REAL(syncfs);
	if (armed(F_FSYNC) && inject(F_FSYNC, "syncfs", fd_path(fd, p), NULL))
		return -1;
	return real_syncfs(fd);
}

int
rename(const char *from, const char *to)
{
	char a[PATH_MAX], b[PATH_MAX];

	REAL(rename);
	if (armed(F_RENAME) && inject(F_RENAME, "rename",
	    at_path(AT_FDCWD, from, a), at_path(AT_FDCWD, to, b)))
		return -1;
	return real_rename(from, to);
}

int
renameat(int fromfd, const char *from, int tofd, const char *to)
{
	char a[PATH_MAX], b[PATH_MAX];

	REAL(renameat);
	if (armed(F_RENAME) && inject(F_RENAME, "renameat",
	    at_path(fromfd, from, a), at_path(tofd, to, b)))
		return -1;
	return real_renameat(fromfd, from, tofd, to);
}

int
renameat2(int fromfd, const char *from, int tofd, const char *to,
    unsigned int flags)
{
	char a[PATH_MAX], b[PATH_MAX];

	REAL(renameat2);
	if (armed(F_RENAME) && inject(F_RENAME, "renameat2",
	    at_path(fromfd, from, a), at_path(tofd, to, b)))
		return -1;
	return real_renameat2(fromfd, from, tofd, to, flags);
}

/* The mode argument of open: present only with O_CREAT or O_TMPFILE. */
#define OPEN_MODE(flags, mode) do { \
	va_list ap; \
	mode = 0; \
	if ((flags) & (O_CREAT | O_TMPFILE)) { \
		va_start(ap, flags); \
		mode = va_arg(ap, mode_t); \
		va_end(ap); \
	} \
} while (0)

int
open(const char *path, int flags, ...)
{
	char p[PATH_MAX];
	mode_t mode;

	REAL(open);
	OPEN_MODE(flags, mode);
	if (armed(F_OPEN) && inject(F_OPEN, "open", at_path(AT_FDCWD, path, p),
	    NULL))
		return -1;
	return real_open(path, flags, mode);
}

int
open64(const char *path, int flags, ...)
{
	char p[PATH_MAX];
	mode_t mode;

	REAL(open64);
	OPEN_MODE(flags, mode);
	if (armed(F_OPEN) && inject(F_OPEN, "open64",
	    at_path(AT_FDCWD, path, p), NULL))
		return -1;
	return real_open64(path, flags, mode);
}

int
openat(int dirfd, const char *path, int flags, ...)
{
	char p[PATH_MAX];
	mode_t mode;

	REAL(openat);
	OPEN_MODE(flags, mode);
	if (armed(F_OPEN) && inject(F_OPEN, "openat", at_path(dirfd, path, p),
	    NULL))
		return -1;
	return real_openat(dirfd, path, flags, mode);
}

int
openat64(int dirfd, const char *path, int flags, ...)
{
	char p[PATH_MAX];
	mode_t mode;

	REAL(openat64);
	OPEN_MODE(flags, mode);
	if (armed(F_OPEN) && inject(F_OPEN, "openat64",
	    at_path(dirfd, path, p), NULL))
		return -1;
	return real_openat64(dirfd, path, flags, mode);
}

/* mkdir fails only where it would create: an existing name is EEXIST. */
static int
mkdir_fault(const char *call, int dirfd, const char *path)
{
	char p[PATH_MAX];
	struct stat st;
	int saved = errno;

	if (!armed(F_MKDIR))
		return 0;
	if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return 0;
	errno = saved;
	return inject(F_MKDIR, call, at_path(dirfd, path, p), NULL);
}

int
mkdir(const char *path, mode_t mode)
{
	REAL(mkdir);
	if (mkdir_fault("mkdir", AT_FDCWD, path))
		return -1;
	return real_mkdir(path, mode);
}

int
mkdirat(int dirfd, const char *path, mode_t mode)
{
	REAL(mkdirat);
	if (mkdir_fault("mkdirat", dirfd, path))
		return -1;
	return real_mkdirat(dirfd, path, mode);
}

int
timerfd_settime(int fd, int flags, const struct itimerspec *new,
    struct itimerspec *old)
{
	REAL(timerfd_settime);
	if (armed(F_TIMER) && inject(F_TIMER, "timerfd_settime", "timerfd",
	    NULL))
		return -1;
	return real_timerfd_settime(fd, flags, new, old);
}

ssize_t
read(int fd, void *buf, size_t len)
{
	char p[PATH_MAX];

	REAL(read);
	if (armed(F_TIMERREAD) && strstr(fd_path(fd, p), "[timerfd]") != NULL &&
	    inject(F_TIMERREAD, "read", p, NULL))
		return -1;
	return real_read(fd, buf, len);
}
