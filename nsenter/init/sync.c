/*
 * sync.c: talking to the parent, casco, over the sync socket: the typed
 * messages of plan.h, the one-line error every failure ends in, and the
 * descriptors the parent sends.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "init.h"

int send_msg(char type, const void *data, uint32_t len)
{
	/*
	 * One write(2) on the stream socket: a seccomp profile may refuse
	 * sendmsg/sendto to the container's process but never write. If even
	 * that fails, say so on stderr and exit: the parent sees EOF instead of
	 * waiting forever.
	 */
	char buf[5 + 8192];
	if (len > sizeof(buf) - 5)
		len = sizeof(buf) - 5;
	buf[0] = type;
	memcpy(buf + 1, &len, 4);
	if (len)
		memcpy(buf + 5, data, len);
	if (write(st.sync, buf, 5 + len) == (ssize_t)(5 + len))
		return 0;
	if (type != SYNC_ERROR) {
		dprintf(2, "casco-init: cannot report to the runtime: %s\n", strerror(errno));
		_exit(1);
	}
	return -1;
}

/* fail reports one line to the parent (and stderr once nobody listens) and exits. */
void __attribute__((noreturn, format(printf, 2, 3))) fail(int err, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	if (err) {
		/* errno text in Go's style: lower case first letter */
		int m = snprintf(buf + n, sizeof(buf) - n, ": %s", strerror(err));
		if (m > 2 && buf[n + 2] >= 'A' && buf[n + 2] <= 'Z')
			buf[n + 2] += 'a' - 'A';
		if (m > 0)
			n += m;
		if (n >= (int)sizeof(buf))
			n = sizeof(buf) - 1;
	}
	signal(SIGPIPE, SIG_IGN); /* `create` may be gone: the message is lost, not the exit status */
	/* a directory is not executable either: 126, as a shell says */
	int code = err == ENOENT ? 127 : (err == EACCES || err == EISDIR ? 126 : 1);
	if (st.fifo >= 0) {
		/*
		 * Past the handshake `start` (or `run`) reads the fifo to its end,
		 * and `create`, which held the sync socket, is gone: the line goes
		 * to the caller of `start` after an "E". The container's stderr
		 * gets it first, as runc's init writes it there: an engine's
		 * container log keeps it.
		 */
		static char out[1 + sizeof(buf)];
		out[0] = 'E';
		memcpy(out + 1, buf, n);
		out[n + 1] = '\n';
		(void)!write(2, out + 1, n + 1);
		(void)!write(st.fifo, out, n + 1);
		_exit(code);
	}
	/* one line for the user: the parent prints it, stderr only gets it when nobody listens */
	if (send_msg(SYNC_ERROR, buf, n) < 0 && n < (int)sizeof(buf) - 1) {
		buf[n++] = '\n';
		(void)!write(2, buf, n);
	}
	_exit(code);
}

void read_full(int fd, void *buf, size_t n)
{
	char *p = buf;
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			_exit(1); /* the parent went away: nobody to report to */
		p += r;
		n -= r;
	}
}

void wait_parent(void)
{
	char hdr[5];
	read_full(st.sync, hdr, 5);
	if (hdr[0] != SYNC_GO)
		_exit(1);
}

/* recv_fd takes the next descriptor the parent sends. */
int recv_fd(const char *what)
{
	char c, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	ssize_t n;
	do
		n = recvmsg(st.sync, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		fail(n < 0 ? errno : 0, "%s: receive its descriptor from the runtime", what);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)))
		fail(0, "%s: the runtime sent no descriptor", what);
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	return fd;
}
