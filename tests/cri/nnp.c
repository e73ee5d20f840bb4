/* Stand-in for Kubernetes' nonewprivs test image: installed setuid root,
 * it prints the effective uid it runs with, 0 unless no_new_privs kept the
 * caller's. */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	printf("Effective uid: %d\n", (int)geteuid());
	return 0;
}
