#ifndef CASCO_COPYUP_H
#define CASCO_COPYUP_H

#include <stddef.h>

/*
 * copy_tree copies the contents of directory src into directory dst, both
 * open file descriptors: files, directories, symlinks and special files
 * with their owners, modes, timestamps and extended attributes. Every
 * entry is opened relative to its parent's fd without following symlinks,
 * so nothing outside src is ever read. On failure it returns -1 with errno
 * set and the name of the entry that failed in where.
 */
int copy_tree(int src, int dst, char *where, size_t wlen);

#endif
