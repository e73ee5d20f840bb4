/*
 * mountattr.c: mount_setattr(2) and move_mount(2) on file descriptors, never
 * on paths: the mount changed is the one the caller verified and pinned.
 */
#include <fcntl.h>
#include <linux/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mountattr.h"

#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

int set_mount_attr(int fd, int recursive, uint64_t set, uint64_t clr, uint64_t propagation)
{
	struct mount_attr attr = {
		.attr_set = set,
		.attr_clr = clr,
		.propagation = propagation,
	};
	unsigned int flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
	return syscall(SYS_mount_setattr, fd, "", flags, &attr, sizeof(attr));
}

int move_tree(int tree, int fd)
{
	return syscall(SYS_move_mount, tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}
