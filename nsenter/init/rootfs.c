/*
 * rootfs.c: the container's root: binding it, moving into it (pivot_root,
 * --no-pivot's move and chroot, or a bare chroot without a mount
 * namespace) and its propagation.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "init.h"
#include "mountroot.h"
#include "nopivot.h"

/*
 * parent_propagation sets the propagation of the mount that holds the
 * rootfs, as runc does: pivot_root refuses a shared new root or parent, and
 * the rootfs bind must not become a peer of the host's copy. A slave root
 * (rslave, the default, or slave) keeps a slave parent, so the host's
 * mounts still reach the container (runc 1.5, runc#5200); any other is made
 * private. MS_SLAVE leaves a slave or private mount as it is, so an rslave
 * "/" keeps its master. STATX_ATTR_MOUNT_ROOT finds that mount without
 * parsing mountinfo.
 */
static void parent_propagation(const char *rootfs, unsigned long flag)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s", rootfs);
	for (;;) {
		int is_root = is_mount_root(p);
		if (is_root < 0)
			fail(errno, "statx %s", p);
		/* the mount that holds the rootfs (the rootfs itself when it is one):
		 * the rootfs bind made next is its child and takes its propagation */
		if (is_root || strcmp(p, "/") == 0) {
			if (mount(NULL, p, NULL, flag, NULL) < 0)
				fail(errno, "set propagation of %s", p);
			return;
		}
		char *slash = strrchr(p, '/');
		if (slash == p)
			p[1] = 0;
		else if (slash)
			*slash = 0;
		else
			return;
	}
}

void op_rootfs(struct op *op)
{
	need(op, 2, 1);
	st.rootfs = op->strs[0];
	/* host mounts stay out of the container, and ours out of the host */
	if (mount(NULL, "/", NULL, (unsigned long)op->ints[0], NULL) < 0)
		fail(errno, "set propagation of /");
	parent_propagation(st.rootfs, (unsigned long)op->ints[1]);
	/* pivot_root wants the new root to be a mount point */
	if (mount(st.rootfs, st.rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		fail(errno, "bind rootfs %s", st.rootfs);
	st.rootfd = open(st.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (st.rootfd < 0)
		fail(errno, "open rootfs %s", st.rootfs);
}

/*
 * reopen_dev_null makes stdio that is the host's /dev/null the container's
 * /dev/null, as runc's init does: CRIU cannot checkpoint a file on a mount
 * the container does not have. Only the real null device, never whatever
 * the image put at /dev/null (CVE-2025-31133); without one, or without
 * /proc to reopen it through, stdio stays as it is.
 */
static void reopen_dev_null(void)
{
	char buf[64];
	struct stat sb;
	int nfd = -1, pfd = -1;
	for (int fd = 0; fd < 3; fd++) {
		/* most stdio is pipes or a pty: nothing to open then */
		if (fstat(fd, &sb) < 0 || !S_ISCHR(sb.st_mode) || sb.st_rdev != makedev(1, 3))
			continue;
		if (pfd < 0) {
			struct stat nb;
			pfd = open("/dev/null", O_PATH | O_CLOEXEC | O_NOFOLLOW);
			if (pfd < 0)
				return;
			if (fstat(pfd, &nb) < 0 || !S_ISCHR(nb.st_mode) || nb.st_rdev != makedev(1, 3))
				break;
			if ((nfd = open(fdpath(pfd, buf), O_RDWR | O_CLOEXEC)) < 0)
				break;
		}
		if (dup3(nfd, fd, 0) < 0)
			fail(errno, "reopen /dev/null as fd %d", fd);
	}
	if (nfd >= 0)
		close(nfd);
	if (pfd >= 0)
		close(pfd);
}

void op_pivot_root(struct op *op)
{
	need(op, 1, 0);
	if (fchdir(st.rootfd) < 0)
		fail(errno, "chdir to rootfs %s", st.rootfs);
	if (op->ints[0]) {
		/* --no-pivot: for rootfs on ramfs, where pivot_root is refused */
		char what[PATH_MAX + 64];
		if (hide_kernel_fs(st.rootfs, what, sizeof(what)) < 0)
			fail(errno, "--no-pivot: %s", what);
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
			fail(errno, "move rootfs %s to /", st.rootfs);
		if (chroot(".") < 0)
			fail(errno, "chroot %s", st.rootfs);
	} else {
		int oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (oldroot < 0)
			fail(errno, "open old root");
		/* pivot_root(".", ".") stacks the old root on the new one: no put_old dir needed */
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			fail(errno, "pivot_root %s", st.rootfs);
		/*
		 * Work on the old root itself, not on whatever "." is now: the
		 * rslave must reach the old root's mounts only (so our unmount
		 * stays ours) and leave the container's own propagation alone.
		 */
		if (fchdir(oldroot) < 0)
			fail(errno, "chdir to old root");
		if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
			fail(errno, "make old root slave");
		if (umount2(".", MNT_DETACH) < 0)
			fail(errno, "unmount old root");
		close(oldroot);
	}
	if (chdir("/") < 0)
		fail(errno, "chdir /");
	close(st.rootfd);
	st.rootfd = -1;
	reopen_dev_null();
}

void op_propagation(struct op *op)
{
	need(op, 1, 0);
	if (mount(NULL, "/", NULL, (unsigned long)op->ints[0], NULL) < 0)
		fail(errno, "set rootfs propagation");
}

/* op_chroot enters the rootfs of a container without a mount namespace */
void op_chroot(struct op *op)
{
	need(op, 0, 1);
	/* without a mount namespace nothing mounts /proc inside: keep a way to the fifo */
	st.procfd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (chroot(op->strs[0]) < 0 || chdir("/") < 0)
		fail(errno, "chroot %s", op->strs[0]);
}
