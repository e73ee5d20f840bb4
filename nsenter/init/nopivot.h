#ifndef CASCO_NOPIVOT_H
#define CASCO_NOPIVOT_H

#include <stddef.h>

/*
 * hide_kernel_fs detaches (or covers with a tmpfs) every full procfs and
 * sysfs mount outside rootfs in the current mount namespace. 0 on success;
 * -1 with errno set and the failing step written to what on error.
 */
int hide_kernel_fs(const char *rootfs, char *what, size_t whatlen);

#endif
