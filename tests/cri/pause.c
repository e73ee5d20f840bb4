/* The pod sandbox's process, a stand-in for Kubernetes' pause: it holds
 * the pod's namespaces, reaps the zombies of a shared PID namespace and
 * exits 0 on SIGINT/SIGTERM. Built static so the image holds one file. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void quit(int sig) { (void)sig; _exit(0); }

static void reap(int sig)
{
	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

int main(void)
{
	struct sigaction q = { .sa_handler = quit }, r = { .sa_handler = reap, .sa_flags = SA_NOCLDSTOP | SA_RESTART };

	if (sigaction(SIGINT, &q, NULL) || sigaction(SIGTERM, &q, NULL) || sigaction(SIGCHLD, &r, NULL))
		return 1;
	for (;;)
		pause();
}
