/*
 * nopivot.c: what --no-pivot must do before MS_MOVE and chroot. Without
 * pivot_root the host's mounts stay in the container's mount namespace,
 * under the moved rootfs, out of sight but not gone. The kernel lets a user
 * namespace mount a procfs or sysfs only if a fully visible one (no locked
 * mounts over parts of it) exists in the mount namespace
 * (mount_too_revealing): the host's /proc is one, so a process of the
 * container could unshare a user and pid namespace and mount a procfs
 * without the masked paths. As runc does (msMoveRoot), every full procfs
 * and sysfs mount outside the rootfs is detached, or covered by a tmpfs
 * where it cannot be (a user namespace's locked mounts).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "nopivot.h"

/* unescape undoes mountinfo's octal escapes (\040 for a space) in place */
static void unescape(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') << 6 | (r[2] - '0') << 3 | (r[3] - '0'));
			r += 3;
			continue;
		}
		*w++ = *r;
	}
	*w = 0;
}

/* kernel_fs_mountpoint returns the mountpoint of a mountinfo line that is a full procfs or sysfs mount, or NULL */
static char *kernel_fs_mountpoint(char *line)
{
	char *sep = strstr(line, " - ");
	if (!sep)
		return NULL;
	*sep = 0;
	char *fstype = sep + 3, *sp = strchr(fstype, ' ');
	if (sp)
		*sp = 0;
	if (strcmp(fstype, "proc") != 0 && strcmp(fstype, "sysfs") != 0)
		return NULL;
	/* id parent major:minor root mountpoint ... */
	char *f[5], *save = NULL, *tok = strtok_r(line, " ", &save);
	for (int i = 0; i < 5; i++, tok = strtok_r(NULL, " ", &save)) {
		if (!tok)
			return NULL;
		f[i] = tok;
	}
	if (strcmp(f[3], "/") != 0) /* a bind of a part of it is not full */
		return NULL;
	unescape(f[4]);
	return f[4];
}

static int under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	return strncmp(path, dir, n) == 0 && (path[n] == 0 || path[n] == '/');
}

int hide_kernel_fs(const char *rootfs, char *what, size_t whatlen)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f) {
		snprintf(what, whatlen, "open /proc/self/mountinfo");
		return -1;
	}
	/* collected first: each unmount changes the file */
	char **paths = NULL, *line = NULL;
	size_t n = 0, cap = 0, len = 0;
	while (getline(&line, &len, f) > 0) {
		line[strcspn(line, "\n")] = 0;
		char *p = kernel_fs_mountpoint(line);
		if (!p || under(p, rootfs))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			char **np = realloc(paths, cap * sizeof(*paths));
			if (!np)
				abort();
			paths = np;
		}
		if (!(paths[n++] = strdup(p)))
			abort();
	}
	free(line);
	fclose(f);
	int ret = 0;
	for (size_t i = 0; i < n && ret == 0; i++) {
		const char *p = paths[i];
		/* the unmount must not reach the host */
		if (mount(NULL, p, NULL, MS_SLAVE | MS_REC, NULL) < 0) {
			if (errno == ENOENT) /* below one already detached */
				continue;
			snprintf(what, whatlen, "make %s slave", p);
			ret = -1;
			break;
		}
		if (umount2(p, MNT_DETACH) == 0)
			continue;
		if (errno != EINVAL && errno != EPERM) {
			snprintf(what, whatlen, "detach %s", p);
			ret = -1;
			break;
		}
		if (mount("tmpfs", p, "tmpfs", 0, NULL) < 0) {
			snprintf(what, whatlen, "cover %s with a tmpfs", p);
			ret = -1;
		}
	}
	int e = errno;
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	errno = e;
	return ret;
}
