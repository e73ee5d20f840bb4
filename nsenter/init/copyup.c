/*
 * copyup.c: tmpcopyup, the copy of a directory of the image into the tmpfs
 * mounted over it. The image is the container's: any entry may be a
 * symlink (copied as a link, never followed), a FIFO (made anew, never
 * opened) or a huge file (the tmpfs's size bounds the copy).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "copyup.h"

#define MAX_DEPTH 128

/* copy_xattrs copies every extended attribute of one open file to another. */
static int copy_xattrs(int from, int to)
{
	char names[65536], value[65536];
	ssize_t n = flistxattr(from, names, sizeof(names));
	if (n < 0)
		return (errno == ENOTSUP || errno == EOPNOTSUPP) ? 0 : -1;
	for (char *name = names; name < names + n; name += strlen(name) + 1) {
		ssize_t v = fgetxattr(from, name, value, sizeof(value));
		if (v < 0)
			return -1;
		/* trusted.* and some security.* need privileges over the host that a
		 * user namespace lacks: those stay behind, the rest is copied */
		if (fsetxattr(to, name, value, v, 0) < 0 && errno != EPERM && errno != ENOTSUP && errno != EOPNOTSUPP)
			return -1;
	}
	return 0;
}

/* finish gives a copied entry its owner, mode, times and xattrs (an fd that may be written). */
static int finish(int fd, const struct stat *sb, int xattrs_from)
{
	struct timespec ts[2] = { sb->st_atim, sb->st_mtim };
	if (fchown(fd, sb->st_uid, sb->st_gid) < 0 || fchmod(fd, sb->st_mode & 07777) < 0)
		return -1;
	if (xattrs_from >= 0 && copy_xattrs(xattrs_from, fd) < 0)
		return -1;
	return futimens(fd, ts);
}

static int copy_file(int sfd, const char *name, int dfd, const struct stat *sb)
{
	int in = openat(sfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (in < 0)
		return -1;
	struct stat now;
	/* the entry may have changed since fstatat: copy it only if still a regular file */
	if (fstat(in, &now) < 0 || !S_ISREG(now.st_mode) || now.st_ino != sb->st_ino) {
		close(in);
		return errno = ESTALE, -1;
	}
	int out = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		close(in);
		return -1;
	}
	int ret = 0;
	for (;;) {
		ssize_t n = sendfile(out, in, NULL, 1 << 20);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n < 0 ? -1 : 0;
			break;
		}
	}
	if (ret == 0)
		ret = finish(out, &now, in);
	int e = errno;
	close(in);
	close(out);
	errno = e;
	return ret;
}

static int copy_dir(int src, int dst, int depth, char *where, size_t wlen);

static int copy_entry(int src, int dst, const char *name, int depth, char *where, size_t wlen)
{
	struct stat sb;
	if (fstatat(src, name, &sb, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	switch (sb.st_mode & S_IFMT) {
	case S_IFREG:
		return copy_file(src, name, dst, &sb);
	case S_IFDIR: {
		if (depth >= MAX_DEPTH)
			return errno = ELOOP, -1;
		int s = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s < 0)
			return -1;
		if (mkdirat(dst, name, 0700) < 0) {
			close(s);
			return -1;
		}
		int d = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int ret = d < 0 ? -1 : copy_dir(s, d, depth + 1, where, wlen);
		/* the mode last: a read-only directory must be filled first */
		if (ret == 0)
			ret = finish(d, &sb, s);
		int e = errno;
		close(s);
		if (d >= 0)
			close(d);
		errno = e;
		return ret;
	}
	case S_IFLNK: {
		char target[PATH_MAX + 1];
		ssize_t n = readlinkat(src, name, target, sizeof(target) - 1);
		if (n < 0)
			return -1;
		target[n] = 0;
		struct timespec ts[2] = { sb.st_atim, sb.st_mtim };
		if (symlinkat(target, dst, name) < 0 ||
		    fchownat(dst, name, sb.st_uid, sb.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
		    utimensat(dst, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
			return -1;
		return 0;
	}
	default: {
		/* devices, FIFOs, sockets: made anew, never opened */
		struct timespec ts[2] = { sb.st_atim, sb.st_mtim };
		if (mknodat(dst, name, sb.st_mode, sb.st_rdev) < 0 ||
		    fchownat(dst, name, sb.st_uid, sb.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
		    fchmodat(dst, name, sb.st_mode & 07777, 0) < 0 ||
		    utimensat(dst, name, ts, AT_SYMLINK_NOFOLLOW) < 0)
			return -1;
		return 0;
	}
	}
}

static int copy_dir(int src, int dst, int depth, char *where, size_t wlen)
{
	int fd = dup(src);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	int ret = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (copy_entry(src, dst, e->d_name, depth, where, wlen) < 0) {
			int err = errno;
			if (!where[0])
				snprintf(where, wlen, "%s", e->d_name);
			closedir(d);
			errno = err;
			return -1;
		}
	}
	closedir(d);
	return ret;
}

int copy_tree(int src, int dst, char *where, size_t wlen)
{
	where[0] = 0;
	return copy_dir(src, dst, 0, where, wlen);
}
