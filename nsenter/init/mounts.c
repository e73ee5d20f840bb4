/*
 * mounts.c: the container's mounts, devices and symlinks, made inside the
 * rootfs on verified fds; their flags, the recursive attributes, idmapped
 * and tmpcopyup mounts; the masked and read-only paths.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "copyup.h"
#include "init.h"
#include "mountattr.h"

/* the flags a mount copied into a less privileged mount namespace has locked (MNT_LOCK_*) */
#define ATIME_ENUM (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)
#define ATIME_FLAGS (ATIME_ENUM | MS_NODIRATIME)
#define LOCKABLE (MS_RDONLY | MS_NODEV | MS_NOEXEC | MS_NOSUID | ATIME_FLAGS)

/* mount_flags is the lockable flags of the mount fd is on, as mount(2) flags */
static unsigned long mount_flags(int fd)
{
	struct statvfs sv;
	unsigned long f = 0;
	if (fstatvfs(fd, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
	if (sv.f_flag & ST_RDONLY) f |= MS_RDONLY;
	if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
	/* strictatime is no flag of its own: the absence of the others */
	if (!(f & ATIME_ENUM))
		f |= MS_STRICTATIME;
	return f;
}

/*
 * bind_remount gives a new (bind) mount the flags set, without those the
 * options cleared (runc 1.2's semantics, unlike mount(8)'s): first exactly
 * set. Where the kernel refuses (EPERM: the source's flags are locked, as
 * for a mount copied into a user namespace), or where locked says the
 * source's flags are to be treated as locked, the source's lockable flags
 * are kept on top of set, unless the options clear one of them or ask for
 * another atime: that is an error, never a mount other than asked.
 */
static int bind_remount(const char *target, int fd, unsigned long set, unsigned long clr, int locked)
{
	unsigned long src = mount_flags(fd), flags = set;
	if ((clr & ATIME_FLAGS) && !(set & ATIME_FLAGS)) {
		/* a remount keeps the atime flags unless some are given: give the
		 * source's minus the cleared ones, relatime (the kernel's default)
		 * when none is left, strictatime for norelatime */
		flags |= src & ATIME_FLAGS & ~clr;
		if (!(flags & ATIME_ENUM))
			flags |= (clr & MS_RELATIME) ? MS_STRICTATIME : MS_RELATIME;
	}
	if (!locked) {
		if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | flags, NULL) == 0)
			return 0;
		if (errno != EPERM)
			return -1;
	}
	if ((src & clr & LOCKABLE) || ((set & ATIME_FLAGS) && (set & ATIME_FLAGS) != (src & ATIME_FLAGS)))
		return errno = EPERM, -1;
	return mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | flags | (src & LOCKABLE), NULL);
}

static int remount(const char *target, int fd, unsigned long flags)
{
	return bind_remount(target, fd, flags, 0, 0);
}

static void mount_finish(const char *dst, unsigned long reflags, unsigned long prop, unsigned long clr, int locked);

/* ordinary_dir refuses a mount destination that is a symlink (or no directory): CVE-2019-19921 */
static void ordinary_dir(const char *dst, const char *type)
{
	struct stat sb;
	int fd = open_in_root(dst, O_PATH | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return;
		fail(errno, "mount %s on %s", type, dst);
	}
	if (fstat(fd, &sb) < 0)
		fail(errno, "mount %s on %s: stat", type, dst);
	if (!S_ISDIR(sb.st_mode))
		fail(0, "mount %s on %s: filesystem \"%s\" must be mounted on ordinary directory", type, dst, type);
	close(fd);
}

/* existing_mode is the mode of the directory at dst, or -1 when there is none yet. */
static int existing_mode(const char *dst)
{
	struct stat sb;
	int fd = open_in_root(dst, O_PATH | O_DIRECTORY);
	if (fd < 0)
		return -1;
	int mode = fstat(fd, &sb) == 0 ? (int)(sb.st_mode & 07777) : -1;
	close(fd);
	return mode;
}

/*
 * mount_point makes (or opens) the mount point dst for a bind of src: a
 * file for a file, a directory for anything else. kind MNT_AUTO asks the
 * source itself, at dirfd/path (a path seen in our mount namespace, or a
 * tree's fd with an empty path).
 */
static int mount_point(int kind, int dirfd, const char *path, const char *src, const char *dst)
{
	if (kind == MNT_AUTO) {
		struct stat sb;
		if (fstatat(dirfd, path, &sb, *path ? 0 : AT_EMPTY_PATH) < 0)
			fail(errno, "mount %s on %s: bind source", src, dst);
		kind = S_ISDIR(sb.st_mode) ? MNT_DIR : MNT_FILE;
	}
	int fd = kind == MNT_FILE ? create_file(dst) : mkdir_all(dst, 0755);
	if (fd < 0)
		fail(errno, "mount %s: create mount point %s", src, dst);
	return fd;
}

void op_mount(struct op *op)
{
	char buf[64];
	need(op, 4, 4);
	unsigned long flags = op->ints[0], reflags = op->ints[2], prop = op->ints[3];
	unsigned long extra = op->nints > 4 ? op->ints[4] : 0;
	const char *src = op->strs[0], *dst = op->strs[1], *type = op->strs[2], *data = op->strs[3];
	if (extra & MOUNT_ORDINARY_DIR)
		ordinary_dir(dst, type);
	/*
	 * as runc: a tmpfs given no mode= takes the mode of the directory it
	 * covers, as a mount option, so mountinfo shows it (mode=710)
	 */
	int mode = (extra & MOUNT_INHERIT_MODE) ? existing_mode(dst) : -1;
	char *withmode = NULL;
	if (mode >= 0) {
		size_t n = strlen(data) + 16;
		withmode = malloc(n);
		if (!withmode)
			fail(ENOMEM, "mount %s on %s", type, dst);
		snprintf(withmode, n, "mode=%04o%s%s", mode, *data ? "," : "", data);
		data = withmode;
	}
	/* MNT_AUTO: made by an earlier mount of this container: it is there only in here */
	int fd = mount_point((int)op->ints[1], AT_FDCWD, src, src, dst);
	if (mount(src, fdpath(fd, buf), *type ? type : NULL, flags, *data ? data : NULL) < 0)
		fail(errno, "mount %s on %s", src, dst);
	close(fd);
	free(withmode);
	mount_finish(dst, reflags, prop, op->nints > 5 ? op->ints[5] : 0, 0);
}

/*
 * mount_finish remounts a new mount with its flags (without those clr
 * clears; locked: keep the source's, see bind_remount) and sets its
 * propagation.
 */
static void mount_finish(const char *dst, unsigned long reflags, unsigned long prop, unsigned long clr, int locked)
{
	char buf[64];
	if (!reflags && !clr && !prop)
		return;
	/* the fd still points under the new mount: reopen to reach its root */
	int fd = open_in_root(dst, O_PATH);
	if (fd < 0)
		fail(errno, "reopen mount %s", dst);
	if ((reflags || clr) && bind_remount(fdpath(fd, buf), fd, reflags, clr, locked) < 0)
		fail(errno, "remount %s (a flag of the source the options change may be locked)", dst);
	if (prop && mount(NULL, fdpath(fd, buf), NULL, prop, NULL) < 0)
		fail(errno, "set propagation of %s", dst);
	close(fd);
}

void op_mknod(struct op *op)
{
	char parent[PATH_MAX], base[PATH_MAX];
	need(op, 4, 1);
	const char *path = op->strs[0];
	split(path, parent, base);
	int pfd = mkdir_all(parent, 0755);
	if (pfd < 0)
		fail(errno, "mknod %s: create %s", path, parent);
	if (mknodat(pfd, base, (mode_t)op->ints[0], (dev_t)op->ints[1]) < 0 && errno != EEXIST)
		fail(errno, "mknod %s", path);
	if (fchownat(pfd, base, (uid_t)op->ints[2], (gid_t)op->ints[3], AT_SYMLINK_NOFOLLOW) < 0)
		fail(errno, "chown %s", path);
	close(pfd);
}

void op_binddev(struct op *op)
{
	char buf[64];
	need(op, 0, 2);
	int fd = create_file(op->strs[1]);
	if (fd < 0)
		fail(errno, "bind device %s: create %s", op->strs[0], op->strs[1]);
	if (mount(op->strs[0], fdpath(fd, buf), NULL, MS_BIND, NULL) < 0)
		fail(errno, "bind device %s on %s", op->strs[0], op->strs[1]);
	close(fd);
}

void op_symlink(struct op *op)
{
	char parent[PATH_MAX], base[PATH_MAX];
	need(op, 0, 2);
	split(op->strs[1], parent, base);
	int pfd = mkdir_all(parent, 0755);
	if (pfd < 0)
		fail(errno, "symlink %s: create %s", op->strs[1], parent);
	if (symlinkat(op->strs[0], pfd, base) < 0 && errno != EEXIST)
		fail(errno, "symlink %s -> %s", op->strs[1], op->strs[0]);
	close(pfd);
}

/*
 * op_mount_attr applies recursive attributes (rro, rnosuid, ...) to the mount
 * at a destination and every mount below it, through mount_setattr(2) on
 * the fd of that mount, resolved inside the rootfs.
 */
void op_mount_attr(struct op *op)
{
	need(op, 3, 1);
	const char *dst = op->strs[0];
	int fd = open_in_root(dst, O_PATH);
	if (fd < 0)
		fail(errno, "mount %s: reopen for recursive attributes", dst);
	if (set_mount_attr(fd, (int)op->ints[2], op->ints[0], op->ints[1], 0) < 0)
		fail(errno, "mount %s: set recursive attributes (mount_setattr 0x%llx/0x%llx)", dst,
		     (unsigned long long)op->ints[0], (unsigned long long)op->ints[1]);
	close(fd);
}

/*
 * op_idmap_mount attaches a tree the parent made (idmapping needs
 * privileges over the host's filesystem that we lack in the container's
 * user namespace) onto the destination, resolved inside the rootfs. The
 * parent opens the source when we ask, in our mount namespace: as runc, a
 * source the config's earlier mounts made is found there.
 */
void op_idmap_mount(struct op *op)
{
	need(op, 3, 2);
	const char *src = op->strs[0], *dst = op->strs[1];
	send_msg(SYNC_TREE, NULL, 0);
	int tree = recv_fd("bind mount source");
	int fd = mount_point((int)op->ints[0], tree, "", src, dst);
	if (move_tree(tree, fd) < 0)
		fail(errno, "idmapped mount %s on %s: move_mount", src, dst);
	close(fd);
	close(tree);
	mount_finish(dst, op->ints[1], op->ints[2], op->nints > 3 ? op->ints[3] : 0, op->nints > 4 ? (int)op->ints[4] : 0);
}

/*
 * op_tmpcopyup mounts a tmpfs over a directory of the image and copies the
 * directory's tree into it, through the fd of the directory it covers.
 */
void op_tmpcopyup(struct op *op)
{
	char buf[64], where[NAME_MAX + 1];
	need(op, 3, 2);
	const char *dst = op->strs[0], *data = op->strs[1];
	int fd = mkdir_all(dst, 0755);
	if (fd < 0)
		fail(errno, "tmpcopyup %s: create mount point", dst);
	int old = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (old < 0)
		fail(errno, "tmpcopyup %s: open the image's directory", dst);
	if (mount("tmpfs", fdpath(fd, buf), "tmpfs", op->ints[0], *data ? data : NULL) < 0)
		fail(errno, "mount tmpfs on %s", dst);
	close(fd);
	int new = open_in_root(dst, O_RDONLY | O_DIRECTORY);
	if (new < 0)
		fail(errno, "tmpcopyup %s: open the new tmpfs", dst);
	if (copy_tree(old, new, where, sizeof(where)) < 0)
		fail(errno, "tmpcopyup %s: copy %s", dst, where);
	close(old);
	close(new);
	mount_finish(dst, op->ints[1], op->ints[2], 0, 0);
}

/* open_if_exists opens a path inside the container, or returns -1 when it isn't there. */
static int open_if_exists(const char *path, const char *what)
{
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT)
		fail(errno, "%s %s", what, path);
	return fd;
}

/* op_mask hides a path: a verified /dev/null over files, an empty read-only tmpfs over directories. */
void op_mask(struct op *op)
{
	char buf[64], nbuf[64];
	struct stat sb, nb;
	need(op, 0, 1);
	const char *path = op->strs[0];
	int fd = open_if_exists(path, "mask");
	if (fd < 0)
		return;
	if (fstat(fd, &sb) < 0)
		fail(errno, "mask %s: stat", path);
	if (S_ISDIR(sb.st_mode)) {
		/* as runc: every masked directory shows the same empty read-only tmpfs */
		if (st.masktmpfs < 0) {
			if (mount("tmpfs", fdpath(fd, buf), "tmpfs", MS_RDONLY, "size=0k") < 0)
				fail(errno, "mask %s", path);
			st.masktmpfs = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (st.masktmpfs < 0)
				fail(errno, "mask %s: reopen", path);
		} else {
			if (mount(fdpath(st.masktmpfs, nbuf), fdpath(fd, buf), NULL, MS_BIND, NULL) < 0)
				fail(errno, "mask %s", path);
			close(fd);
			fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0 || remount(fdpath(fd, buf), fd, MS_RDONLY) < 0)
				fail(errno, "mask %s: remount read-only", path);
		}
	} else {
		/* bind only the real /dev/null, never whatever the image put there (CVE-2025-31133) */
		int nfd = open("/dev/null", O_PATH | O_CLOEXEC | O_NOFOLLOW);
		if (nfd < 0 || fstat(nfd, &nb) < 0)
			fail(errno, "mask %s: open /dev/null", path);
		if (!S_ISCHR(nb.st_mode) || nb.st_rdev != makedev(1, 3))
			fail(0, "mask %s: /dev/null is not the null device", path);
		if (mount(fdpath(nfd, nbuf), fdpath(fd, buf), NULL, MS_BIND, NULL) < 0)
			fail(errno, "mask %s", path);
		close(nfd);
	}
	close(fd);
}

void op_readonly(struct op *op)
{
	char buf[64];
	need(op, 0, 1);
	const char *path = op->strs[0];
	int fd = open_if_exists(path, "readonly path");
	if (fd < 0)
		return;
	if (mount(fdpath(fd, buf), fdpath(fd, buf), NULL, MS_BIND | MS_REC, NULL) < 0)
		fail(errno, "readonly path %s: bind", path);
	close(fd);
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0 || remount(fdpath(fd, buf), fd, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC) < 0)
		fail(errno, "readonly path %s: remount", path);
	close(fd);
}

/* op_remount_ro makes one mount read-only in place, keeping its other flags. */
void op_remount_ro(struct op *op)
{
	char buf[64];
	need(op, 0, 1);
	int fd = open(op->strs[0], O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || mount(NULL, fdpath(fd, buf), NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | mount_flags(fd), NULL) < 0)
		fail(errno, "remount %s read-only", op->strs[0]);
	close(fd);
}
