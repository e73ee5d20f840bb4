/*
 * mountroot.c: is a path the root of a mount? statx(2) says so in
 * STATX_ATTR_MOUNT_ROOT, without parsing mountinfo. A file of its own
 * because <linux/stat.h>, which has struct statx, clashes with the libc's
 * <sys/stat.h> under musl (which has no statx wrapper either).
 */
#include <linux/fcntl.h>
#include <linux/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mountroot.h"

int is_mount_root(const char *path)
{
	struct statx sx;
	if (syscall(SYS_statx, AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) < 0)
		return -1;
	return (sx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (sx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}
