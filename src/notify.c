/*
 * notify.c - the sd_notify(3) protocol without libsystemd. See notify.h.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "notify.h"

/* Fill n->addr from NOTIFY_SOCKET's value s. 0, or -1 with errno set. */
static int
notify_address(struct notify *n, const char *s)
{
	size_t len = strlen(s);

	if (s[0] != '/' && s[0] != '@') {
		errno = EINVAL;
		return -1;
	}
	if (len >= sizeof n->addr.sun_path || len < 2) {
		errno = len < 2 ? EINVAL : ENAMETOOLONG;
		return -1;
	}
	memset(&n->addr, 0, sizeof n->addr);
	n->addr.sun_family = AF_UNIX;
	memcpy(n->addr.sun_path, s, len);
	n->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
	if (s[0] == '@')
		n->addr.sun_path[0] = '\0';   /* abstract: exactly len bytes */
	else
		n->addrlen++;                 /* a path: with its NUL */
	return 0;
}

/* The watchdog interval in ms from WATCHDOG_USEC and WATCHDOG_PID, 0 if
 * it does not apply to this process. */
static int64_t
notify_watchdog(void)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	char *end;
	unsigned long long us, p;

	if (usec == NULL || *usec < '0' || *usec > '9')
		return 0;
	errno = 0;
	us = strtoull(usec, &end, 10);
	if (*end != '\0' || errno != 0 || us == 0)
		return 0;
	if (pid != NULL) {
		p = strtoull(pid, &end, 10);
		if (*pid < '0' || *pid > '9' || *end != '\0' ||
		    p != (unsigned long long)getpid())
			return 0;
	}
	us /= 2000;                       /* half the period, in ms */
	return us == 0 ? 1 : us > INT64_MAX ? INT64_MAX : (int64_t)us;
}

int
notify_open(struct notify *n)
{
	const char *s = getenv("NOTIFY_SOCKET");
	int r = 0, saved = 0;

	n->fd = -1;
	n->watchdog_ms = 0;
	if (s != NULL && notify_address(n, s) == 0) {
		n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (n->fd != -1)
			n->watchdog_ms = notify_watchdog();
	}
	if (s != NULL && n->fd == -1) {
		r = -1;
		saved = errno;
	}
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	errno = saved;
	return r;
}

int
notify_send(struct notify *n, const char *msg)
{
	ssize_t r;

	if (n->fd == -1)
		return 0;
	do
		r = sendto(n->fd, msg, strlen(msg), MSG_NOSIGNAL,
		    (const struct sockaddr *)&n->addr, n->addrlen);
	while (r == -1 && errno == EINTR);
	return r == -1 ? -1 : 0;
}

void
notify_close(struct notify *n)
{
	if (n->fd != -1)
		close(n->fd);
	n->fd = -1;
}
