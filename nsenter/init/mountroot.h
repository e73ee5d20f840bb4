#ifndef CASCO_MOUNTROOT_H
#define CASCO_MOUNTROOT_H

/* 1 if path is the root of a mount, 0 if not, -1 with errno set on error */
int is_mount_root(const char *path);

#endif
