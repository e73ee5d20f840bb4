/*
 * mountattr.h: the new mount API (mount_setattr, open_tree, move_mount) for
 * any operation of casco-init that needs it. Its own file because
 * <linux/mount.h>, which has struct mount_attr, clashes with the libc's
 * <sys/mount.h>.
 */
#ifndef CASCO_MOUNTATTR_H
#define CASCO_MOUNTATTR_H

#include <stdint.h>

/* MOUNT_ATTR_* values, as in <linux/mount.h> */
#define CASCO_MOUNT_ATTR_RDONLY 0x00000001
#define CASCO_MOUNT_ATTR_NOSUID 0x00000002
#define CASCO_MOUNT_ATTR_NODEV  0x00000004
#define CASCO_MOUNT_ATTR_NOEXEC 0x00000008

/*
 * set_mount_attr changes the attributes of the mount fd is on (an O_PATH fd
 * of the mount's root), and of every mount below it when recursive: the
 * bits of clr are cleared, then those of set are set. propagation is an
 * MS_* propagation type or 0. Returns -1 with errno set on failure.
 */
int set_mount_attr(int fd, int recursive, uint64_t set, uint64_t clr, uint64_t propagation);

/* move_tree attaches the detached mount tree (from open_tree) onto the directory or file fd. */
int move_tree(int tree, int fd);

#endif
