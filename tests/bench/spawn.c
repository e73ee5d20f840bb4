/*
 * spawn: the benchmark driver's launcher. `spawn CMD ARGS...` runs CMD,
 * waits for it and writes to fd 3 one line:
 *
 *     <wall ns> <ru_maxrss KiB> <ru_utime us> <ru_stime us>
 *
 * wall: from just before the spawn to the reaped exit (CLOCK_MONOTONIC).
 * Why not the driver's own fork: a child that Go vforks (CLONE_VM) shares
 * the driver's memory until its execve, and the kernel records that
 * memory's high-water mark as the child's ru_maxrss, so a runtime smaller
 * than the driver would report the driver's size. This static program is
 * a few hundred KiB resident, below any runtime's peak. Its exit status
 * is CMD's (128+signal when CMD was killed).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: spawn CMD [ARG...] (result line to fd 3)\n");
		return 2;
	}
	if (fcntl(3, F_SETFD, FD_CLOEXEC) < 0) {
		fprintf(stderr, "spawn: fd 3: %s\n", strerror(errno));
		return 2;
	}
	pid_t pid;
	long long t0 = now_ns();
	int err = posix_spawn(&pid, argv[1], NULL, NULL, argv + 1, environ);
	if (err != 0) {
		fprintf(stderr, "spawn: %s: %s\n", argv[1], strerror(err));
		return 127;
	}
	int status;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR) {
			fprintf(stderr, "spawn: wait4: %s\n", strerror(errno));
			return 2;
		}
	}
	long long wall = now_ns() - t0;
	dprintf(3, "%lld %ld %lld %lld\n", wall, ru.ru_maxrss,
		(long long)ru.ru_utime.tv_sec * 1000000 + ru.ru_utime.tv_usec,
		(long long)ru.ru_stime.tv_sec * 1000000 + ru.ru_stime.tv_usec);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}
