/*
 * notify.h - the service manager's readiness and watchdog protocol
 * (systemd's sd_notify(3)), written here so that queuectl needs no
 * libsystemd.
 *
 * The protocol: a service started with NOTIFY_SOCKET in its environment
 * sends newline-separated "KEY=VALUE" assignments, one datagram each, to
 * the AF_UNIX socket that variable names: an absolute path, or, when it
 * starts with '@', a name in the abstract namespace (the '@' stands for
 * the leading NUL byte). "READY=1" says start-up is over, "STOPPING=1" that
 * a stop has begun, "STATUS=TEXT" a line for `systemctl status`,
 * "WATCHDOG=1" that the service is alive. With WatchdogSec= the manager
 * sets WATCHDOG_USEC (and WATCHDOG_PID, the process that must send) and
 * kills a service that sends nothing for that long; sending every half of
 * it is the convention. Other address forms (vsock:) are not supported.
 */
#ifndef QUEUECTL_NOTIFY_H
#define QUEUECTL_NOTIFY_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/un.h>

struct notify {
	int fd;                     /* -1: no service manager to talk to */
	struct sockaddr_un addr;
	socklen_t addrlen;
	int64_t watchdog_ms;        /* interval between pings; 0: none */
};

/*
 * Read NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID, then remove them from
 * the environment (so that no child takes itself for the service). The
 * watchdog applies when WATCHDOG_USEC is a positive number and WATCHDOG_PID
 * is unset or our pid; its interval is half of WATCHDOG_USEC, at least 1
 * ms. Without NOTIFY_SOCKET, n->fd is -1 and notify_send does nothing.
 * Returns 0, or -1 with errno set (EINVAL: a NOTIFY_SOCKET that is neither
 * an absolute path nor an '@' name; ENAMETOOLONG: too long for an AF_UNIX
 * address; or the socket(2) error) and n->fd -1.
 */
int notify_open(struct notify *n);

/*
 * Send msg (one or more "KEY=VALUE" lines) as one datagram. Returns 0 (also
 * when there is no socket), or -1 with errno set by sendto(2).
 */
int notify_send(struct notify *n, const char *msg);

/* Close the socket; n->fd becomes -1. */
void notify_close(struct notify *n);

#endif
