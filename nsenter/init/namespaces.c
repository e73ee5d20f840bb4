/*
 * namespaces.c: joining and making the container's namespaces, and what
 * is set inside them (the time offsets, the host and domain names, sysctls).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include "init.h"

/*
 * Namespace files are all opened before the first setns: once the mount
 * namespace is joined, /proc/<pid>/ns of the target is out of sight.
 */
static int nsfds[64], nsfds_len, nsfds_next;

void open_namespaces(char *plan, uint32_t len)
{
	struct cursor c = { plan, plan + len };
	struct op op;
	while (c.p < c.end) {
		next_op(&c, &op);
		if (op.code != OP_SETNS)
			continue;
		need(&op, 1, 1);
		if (nsfds_len == 64)
			fail(0, "init: too many namespaces to join");
		int fd = open(op.strs[0], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			fail(errno, "open namespace %s", op.strs[0]);
		nsfds[nsfds_len++] = fd;
	}
}

/*
 * A namespace that the joined user namespace does not own (the host's
 * network namespace, say) can be joined only with the privileges we have
 * before entering that user namespace. So the plan joins the other
 * namespaces first, with ints[1] = 1 when a user namespace follows; one
 * that refuses us (EPERM: it needs the user namespace's privileges, as an
 * unprivileged caller's may) is joined right after the user namespace, as
 * runc does since runc#4390.
 */
static struct deferred_ns {
	int fd;
	int flag;
	const char *path;
} deferred[64];
static int ndeferred;

static void join_deferred(void)
{
	for (int i = 0; i < ndeferred; i++) {
		if (setns(deferred[i].fd, deferred[i].flag) < 0)
			fail(errno, "setns %s", deferred[i].path);
		close(deferred[i].fd);
	}
	ndeferred = 0;
}

void op_setns(struct op *op)
{
	need(op, 1, 1);
	int fd = nsfds[nsfds_next++];
	int flag = (int)op->ints[0];
	if (setns(fd, flag) < 0) {
		if (errno == EPERM && op->nints > 1 && op->ints[1] && ndeferred < 64) {
			deferred[ndeferred++] = (struct deferred_ns){ fd, flag, op->strs[0] };
			return;
		}
		fail(errno, "setns %s", op->strs[0]);
	}
	close(fd);
	if (flag == CLONE_NEWUSER) {
		/*
		 * Become the joined namespace's root, as runc's nsexec does: our
		 * host ids mean nothing in there, and files made with an unmapped
		 * fsuid fail with EOVERFLOW. setgroups may be denied in it: fine.
		 * run.oci.keep_original_groups (ints[2]) keeps the caller's groups.
		 */
		int keep_groups = op->nints > 2 && op->ints[2];
		if (!keep_groups && setgroups(0, NULL) < 0 && errno != EPERM)
			fail(errno, "setgroups in user namespace %s", op->strs[0]);
		if (setresgid(0, 0, 0) < 0)
			fail(errno, "setgid 0 in user namespace %s", op->strs[0]);
		if (setresuid(0, 0, 0) < 0)
			fail(errno, "setuid 0 in user namespace %s", op->strs[0]);
		join_deferred();
	}
}

void op_unshare(struct op *op)
{
	need(op, 1, 0);
	if (unshare((int)op->ints[0]) < 0)
		fail(errno, "unshare 0x%llx", (unsigned long long)op->ints[0]);
}

void op_timens(struct op *op)
{
	need(op, 0, 1);
	if (unshare(CLONE_NEWTIME) < 0)
		fail(errno, "unshare time namespace");
	/* no offsets: the kernel refuses an empty write, and zero is its default */
	if (op->lens[0] > 1)
		write_file("/proc/self/timens_offsets", op->strs[0], op->lens[0] - 1);
	/* before ~6.3 exec does not move us into it: join it ourselves */
	int fd = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWTIME) < 0)
		fail(errno, "enter time namespace");
	close(fd);
}

void op_fork(struct op *op)
{
	(void)op;
	/* joining a pid namespace takes effect for children only */
	int go[2];
	if (pipe2(go, O_CLOEXEC) < 0)
		fail(errno, "fork into pid namespace: pipe");
	pid_t pid = fork();
	if (pid < 0)
		fail(errno, "fork into pid namespace");
	if (pid > 0) {
		char buf[32];
		int n = snprintf(buf, sizeof(buf), "%d", pid);
		send_msg(SYNC_PID, buf, n);
		/* only now may the child talk: the parent must learn its pid first */
		(void)!write(go[1], "1", 1);
		_exit(0);
	}
	char c;
	close(go[1]);
	if (read(go[0], &c, 1) != 1)
		_exit(1);
	close(go[0]);
	/* the session main made is the parent's, who leads it: a new one */
	if (setsid() < 0)
		fail(errno, "fork into pid namespace: setsid");
}

void op_hostname(struct op *op)
{
	need(op, 0, 1);
	if (sethostname(op->strs[0], op->lens[0] - 1) < 0)
		fail(errno, "sethostname %s", op->strs[0]);
}

void op_domainname(struct op *op)
{
	need(op, 0, 1);
	if (setdomainname(op->strs[0], op->lens[0] - 1) < 0)
		fail(errno, "setdomainname %s", op->strs[0]);
}

/* op_sysctl writes a /proc/sys file of the container's namespaces */
void op_sysctl(struct op *op)
{
	need(op, 0, 2);
	write_file(op->strs[0], op->strs[1], op->lens[1] - 1);
}
