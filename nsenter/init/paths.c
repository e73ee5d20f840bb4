/*
 * paths.c: paths inside the rootfs, resolved so that no symlink leads out
 * of it, and the files of /proc the init writes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init.h"

/*
 * Every path inside the container is resolved with openat2(RESOLVE_IN_ROOT):
 * symlinks are followed as if the rootfs were "/", so none can lead out of
 * it (CVE-2021-30465). Mounts then go onto the verified fd, never a string.
 */
/*
 * A scoped lookup fails with EAGAIN when a rename or a mount anywhere on
 * the system raced one of its ".." steps (the kernel cannot prove the walk
 * stayed in the root), and with EXDEV if the result was moved out of the
 * root under it. Both are retried, a bounded number of times, as
 * path-resolution libraries do: a container renaming its own directories
 * must not make its own creation fail outright.
 */
#define OPENAT2_TRIES 64

int open_in_root(const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd = -1;
	for (int i = 0; i < OPENAT2_TRIES; i++) {
		fd = syscall(SYS_openat2, st.rootfd, path, &how, sizeof(how));
		if (fd >= 0 || (errno != EAGAIN && errno != EXDEV))
			break;
	}
	return fd;
}

void split(const char *path, char *parent, char *base)
{
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	const char *slash = memrchr(path, '/', n);
	if (!slash) {
		strcpy(parent, "/");
		memcpy(base, path, n);
		base[n] = 0;
		return;
	}
	size_t pl = slash - path;
	memcpy(parent, path, pl ? pl : 1);
	parent[pl ? pl : 1] = 0;
	memcpy(base, slash + 1, n - pl - 1);
	base[n - pl - 1] = 0;
}

/*
 * follow_dangling writes to out the path the kernel would reach through
 * path's dangling symlinks: the first missing component, when it is a
 * symlink, is replaced by its target (relative to its directory, or to the
 * rootfs when absolute), until the first missing component is no symlink.
 * So a destination reached through a symlink to nothing is made where the
 * symlink points, as runc's securejoin does. The result is only ever
 * opened with open_in_root: whatever a symlink says, it stays in the rootfs.
 */
static int follow_dangling(const char *path, char *out)
{
	char cur[PATH_MAX], next[PATH_MAX], target[PATH_MAX];
	if (strlen(path) >= PATH_MAX)
		return errno = ENAMETOOLONG, -1;
	strcpy(cur, path);
	for (int links = 0;;) {
		/* find the first prefix of cur that does not resolve */
		size_t end = 0, n = strlen(cur);
		for (;;) {
			while (end < n && cur[end] == '/')
				end++;
			if (end == n) { /* every component exists */
				strcpy(out, cur);
				return 0;
			}
			while (end < n && cur[end] != '/')
				end++;
			char save = cur[end];
			cur[end] = 0;
			int fd = open_in_root(cur, O_PATH);
			cur[end] = save;
			if (fd < 0)
				break;
			close(fd);
		}
		if (errno != ENOENT)
			return -1;
		/* the component ending at end is missing, or a symlink to nothing */
		size_t cstart = end;
		while (cstart > 0 && cur[cstart - 1] != '/')
			cstart--;
		char parent[PATH_MAX], base[PATH_MAX];
		memcpy(parent, cur, cstart);
		parent[cstart] = 0;
		if (!*parent)
			strcpy(parent, "/");
		memcpy(base, cur + cstart, end - cstart);
		base[end - cstart] = 0;
		int pfd = open_in_root(parent, O_PATH | O_DIRECTORY);
		if (pfd < 0)
			return -1;
		ssize_t tl = readlinkat(pfd, base, target, sizeof(target) - 1);
		close(pfd);
		if (tl < 0) { /* no symlink: the rest is made as written */
			strcpy(out, cur);
			return 0;
		}
		target[tl] = 0;
		if (++links > 40)
			return errno = ELOOP, -1;
		int w = target[0] == '/' ? snprintf(next, sizeof(next), "%s%s", target, cur + end)
		                         : snprintf(next, sizeof(next), "%s/%s%s", parent, target, cur + end);
		if (w < 0 || (size_t)w >= sizeof(next))
			return errno = ENAMETOOLONG, -1;
		strcpy(cur, next);
	}
}

static int mkdir_walk(const char *path, mode_t mode);

/*
 * open_made opens what was just made as base in the directory pfd (which
 * was resolved inside the rootfs): through pfd, not by its path again, so
 * a parent renamed meanwhile (by the container itself, racing its own
 * creation) does not lose it. base is a name just created, never "." or
 * "..", and is not followed if it was replaced by a symlink.
 */
static int open_made(int pfd, const char *base, int flags)
{
	return openat(pfd, base, flags | O_NOFOLLOW | O_CLOEXEC);
}

/* mkdir_all creates path (and its parents) inside the rootfs, returning an O_PATH fd. */
int mkdir_all(const char *path, mode_t mode)
{
	char real[PATH_MAX];
	int fd = open_in_root(path, O_PATH | O_DIRECTORY);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	if (follow_dangling(path, real) < 0)
		return -1;
	return mkdir_walk(real, mode);
}

static int mkdir_walk(const char *path, mode_t mode)
{
	char parent[PATH_MAX], base[PATH_MAX];
	int fd = open_in_root(path, O_PATH | O_DIRECTORY);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	if (strlen(path) >= PATH_MAX)
		return errno = ENAMETOOLONG, -1;
	split(path, parent, base);
	int pfd = mkdir_walk(parent, mode);
	if (pfd < 0)
		return -1;
	if (mkdirat(pfd, base, mode) < 0) {
		int e = errno;
		close(pfd);
		if (e != EEXIST)
			return errno = e, -1;
		return open_in_root(path, O_PATH | O_DIRECTORY); /* made by someone else */
	}
	fd = open_made(pfd, base, O_PATH | O_DIRECTORY);
	close(pfd);
	return fd >= 0 ? fd : open_in_root(path, O_PATH | O_DIRECTORY);
}

/* create_file makes an empty file at path inside the rootfs (mknodat never follows a symlink). */
int create_file(const char *path)
{
	char parent[PATH_MAX], base[PATH_MAX], real[PATH_MAX];
	int fd = open_in_root(path, O_PATH);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	if (follow_dangling(path, real) < 0)
		return -1;
	split(real, parent, base);
	int pfd = mkdir_walk(parent, 0755);
	if (pfd < 0)
		return -1;
	if (mknodat(pfd, base, S_IFREG | 0644, 0) < 0) {
		int e = errno;
		close(pfd);
		if (e != EEXIST)
			return errno = e, -1;
		return open_in_root(real, O_PATH); /* made by someone else */
	}
	fd = open_made(pfd, base, O_PATH);
	close(pfd);
	return fd >= 0 ? fd : open_in_root(real, O_PATH);
}

const char *fdpath(int fd, char *buf)
{
	snprintf(buf, 64, "/proc/self/fd/%d", fd);
	return buf;
}

/* mount_id returns the id of the mount fd is on (statx STATX_MNT_ID), or 0 */
static uint64_t mount_id(int fd)
{
	/* struct statx by hand: musl's headers may lack it; stx_mnt_id is at byte 144 */
	unsigned char buf[256];
	uint64_t id;
	memset(buf, 0, sizeof(buf));
	if (syscall(SYS_statx, fd, "", AT_EMPTY_PATH, 0x1000 /* STATX_MNT_ID */, buf) < 0)
		return 0;
	memcpy(&id, buf + 144, sizeof(id));
	return id;
}

/*
 * only ever write into a real procfs (CVE-2019-16884), and into the /proc
 * mount itself, not a file bind-mounted over the path (CVE-2025-52881: a
 * host /proc/sys file mounted over a sysctl's path would take the write).
 */
static void check_proc_file(const char *path, int fd)
{
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)
		fail(0, "write %s: not on procfs", path);
	int proc = open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	uint64_t want = proc >= 0 ? mount_id(proc) : 0, got = mount_id(fd);
	if (proc >= 0)
		close(proc);
	if (!want || got != want)
		fail(0, "write %s: a mount over it hides the container's /proc (mount %llu, /proc is %llu)", path,
		     (unsigned long long)got, (unsigned long long)want);
}

void write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		fail(errno, "open %s", path);
	if (strncmp(path, "/proc/", 6) == 0)
		check_proc_file(path, fd);
	if (write(fd, data, len) != (ssize_t)len)
		fail(errno, "write %s", path);
	close(fd);
}
