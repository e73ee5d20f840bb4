package seccomp

// Debian's libseccomp.a is built against glibc with _FORTIFY_SOURCE, so it
// calls glibc's __fprintf_chk. When casco is linked with musl (`make`),
// which has no fortified variants, this stands in for it; with glibc the
// C library's own is used.

/*
#if !defined(__GLIBC__)
#include <stdarg.h>
#include <stdio.h>

int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vfprintf(f, fmt, ap);
	va_end(ap);
	return r;
}
#endif
*/
import "C"
