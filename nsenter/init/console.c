/*
 * console.c: the container's terminal: a pty made in its devpts, the
 * master sent to the console socket, the slave its stdio and /dev/console.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "init.h"

void op_console(struct op *op)
{
	char name[64];
	need(op, 4, 0);
	int sock = (int)op->ints[0];
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		fail(errno, "console: open /dev/ptmx");
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		fail(errno, "console: unlockpt");
	/* the slave comes from the master itself, not from a path the image controls (CVE-2025-52565) */
	int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	if (slave < 0)
		fail(errno, "console: open pty peer");
	unsigned int n;
	if (ioctl(master, TIOCGPTN, &n) < 0)
		fail(errno, "console: ptsname");
	snprintf(name, sizeof(name), "/dev/pts/%u", n);
	if (op->ints[1] || op->ints[2]) {
		struct winsize ws = { .ws_row = op->ints[1], .ws_col = op->ints[2] };
		if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
			fail(errno, "console: set size");
	}
	/*
	 * The process's terminal is its own, as runc's fixStdioPermissions
	 * makes it: owned by the process's user, the group left as devpts
	 * gave it (gid=5, tty). An unmapped id, a read-only /dev: left alone.
	 */
	if (op->nints > 4 && fchown(slave, (uid_t)op->ints[4], -1) < 0 &&
	    errno != EINVAL && errno != EPERM && errno != EROFS)
		fail(errno, "console: chown %s", name);
	if (op->nints > 5 && op->ints[5]) {
		struct termios tio;
		if (tcgetattr(slave, &tio) < 0)
			fail(errno, "console: tcgetattr");
		tio.c_oflag &= ~ONLCR;
		if (tcsetattr(slave, TCSANOW, &tio) < 0)
			fail(errno, "console: clear onlcr");
	}
	/* runc's protocol: one message, the pty name as data, the master as SCM_RIGHTS */
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { name, strlen(name) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &master, sizeof(int));
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		fail(errno, "console: send pty master");
	close(master);
	close(sock);
	/* the pty becomes the process's controlling terminal (of the session
	 * main made) and stdio, and /dev/console */
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		fail(errno, "console: set controlling terminal");
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0)
			fail(errno, "console: dup2");
	if (!op->ints[3]) { /* exec: the container's /dev/console stays its init's */
		if (slave > 2)
			close(slave);
		return;
	}
	char buf[64], sbuf[64];
	int cfd = open("/dev/console", O_PATH | O_CLOEXEC | O_NOFOLLOW);
	if (cfd < 0 && errno == ENOENT) {
		if (mknod("/dev/console", S_IFREG | 0600, 0) < 0 && errno != EEXIST)
			fail(errno, "console: create /dev/console");
		cfd = open("/dev/console", O_PATH | O_CLOEXEC | O_NOFOLLOW);
	}
	if (cfd < 0)
		fail(errno, "console: open /dev/console");
	if (mount(fdpath(slave, sbuf), fdpath(cfd, buf), NULL, MS_BIND, NULL) < 0)
		fail(errno, "console: bind %s on /dev/console", name);
	close(cfd);
	if (slave > 2)
		close(slave);
}
