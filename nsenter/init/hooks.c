/*
 * hooks.c: the hooks the init runs itself, in the container's namespaces
 * (createContainer, startContainer), and the pause while the parent runs
 * its own (prestart, createRuntime). A failure is told in the words of
 * casco's own hook runner (hookwords.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hookwords.h"
#include "init.h"

/* op_sync_hooks has the parent run the prestart and createRuntime hooks, and waits. */
void op_sync_hooks(struct op *op)
{
	(void)op;
	send_msg(SYNC_HOOKS, NULL, 0);
	wait_parent();
}

/* hook_output is what a hook wrote to stdout or stderr: the first 1 KiB, for the error message. */
struct hook_output {
	int fd;
	char buf[1024];
	size_t len;
};

/* drain_hook reads what is there without blocking; it returns 0 at EOF. */
static int drain_hook(struct hook_output *o)
{
	char tmp[4096];
	for (;;) {
		ssize_t n = read(o->fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 && errno == EAGAIN;
		size_t keep = sizeof(o->buf) - 1 - o->len;
		if ((size_t)n < keep)
			keep = n;
		memcpy(o->buf + o->len, tmp, keep);
		o->len += keep;
	}
}

/*
 * op_hook runs a createContainer or startContainer hook with the state on
 * its stdin, as runc does: argv as given, the process's environment when the
 * hook has none, the rootfs as its working directory before pivot_root (the
 * process's cwd after), its output kept for the error message (or sent to
 * the run.oci.hooks.stdout/stderr files the plan passes). A hook that
 * leaves a daemon holding its output open can't keep us waiting: once the
 * hook itself is gone, only what is already written is read.
 */
void op_hook(struct op *op)
{
	need(op, 6, 3);
	uint32_t nargs = op->ints[1], nenv = op->ints[2];
	int index = (int)op->ints[3];
	/* run.oci.hooks.stdout/stderr: a file for the output (fd + 1), 0 for a pipe */
	int to_out = (int)op->ints[4] - 1, to_err = (int)op->ints[5] - 1;
	if (op->nstrs < 3 + nargs + nenv)
		fail(0, "init: hook plan is short");
	const char *kind = op->strs[0], *path = op->strs[1], *state = op->strs[op->nstrs - 1];
	char **argv = calloc(nargs + 1, sizeof(char *)), **envp = calloc(nenv + 1, sizeof(char *));
	for (uint32_t i = 0; i < nargs; i++)
		argv[i] = op->strs[2 + i];
	for (uint32_t i = 0; i < nenv; i++)
		envp[i] = op->strs[2 + nargs + i];
	int in[2], out[2], err[2];
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(err, O_CLOEXEC | O_NONBLOCK) < 0)
		fail(errno, HOOK_FAILED "pipe", kind, index);
	pid_t pid = fork();
	if (pid < 0)
		fail(errno, HOOK_FAILED "fork", kind, index);
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(to_out >= 0 ? to_out : out[1], 1);
		dup2(to_err >= 0 ? to_err : err[1], 2);
		/* blocking ends for the hook: O_NONBLOCK is on the open file, shared */
		if (to_out < 0)
			fcntl(1, F_SETFL, 0);
		if (to_err < 0)
			fcntl(2, F_SETFL, 0);
		if (st.rootfd >= 0 && fchdir(st.rootfd) < 0)
			_exit(126);
		/* the hook gets the state on stdin, none of our descriptors */
		syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
		execve(path, argv, envp);
		dprintf(2, "exec %s: %s", path, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	/* the write end went to the child: set O_NONBLOCK again on our read ends */
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	/* a hook that ignores its stdin must not kill us; and SIG_IGN would
	 * outlive execve, into later hooks and the user process: restore it */
	void (*pipe_was)(int) = signal(SIGPIPE, SIG_IGN);
	(void)!write(in[1], state, op->lens[op->nstrs - 1] - 1);
	close(in[1]);
	signal(SIGPIPE, pipe_was);

	struct hook_output o[2] = { { .fd = out[0] }, { .fd = err[0] } };
	int timeout = (int)op->ints[0], status;
	int pfd = syscall(SYS_pidfd_open, pid, 0);
	uint64_t deadline = now_ns() + (uint64_t)timeout * 1000000000ULL;
	for (int open_fds = 2; pfd >= 0;) {
		struct pollfd p[3] = { { .fd = pfd, .events = POLLIN }, { .fd = o[0].fd, .events = POLLIN }, { .fd = o[1].fd, .events = POLLIN } };
		int wait_ms = -1;
		if (timeout > 0) {
			uint64_t now = now_ns();
			wait_ms = now >= deadline ? 0 : (int)((deadline - now) / 1000000) + 1;
		}
		int n = poll(p, open_fds ? 3 : 1, wait_ms);
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			fail(0, HOOK_FAILED HOOK_TIMEOUT, kind, index, (double)timeout);
		}
		for (int i = 0; i < 2; i++)
			if (o[i].fd >= 0 && (p[i + 1].revents & (POLLIN | POLLHUP)) && !drain_hook(&o[i])) {
				close(o[i].fd);
				o[i].fd = -1;
				open_fds--;
			}
		if (p[0].revents & POLLIN)
			break;
	}
	if (pfd >= 0)
		close(pfd);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			fail(errno, HOOK_FAILED "wait", kind, index);
	for (int i = 0; i < 2; i++)
		if (o[i].fd >= 0) {
			drain_hook(&o[i]);
			close(o[i].fd);
		}
	if (WIFSIGNALED(status)) {
		/* the signal's name in lower case, as Go's runner writes it */
		char name[64];
		snprintf(name, sizeof(name), "%s", strsignal(WTERMSIG(status)));
		if (name[0] >= 'A' && name[0] <= 'Z')
			name[0] += 'a' - 'A';
		fail(0, HOOK_FAILED HOOK_SIGNALED "%s" HOOK_OUTPUT, kind, index, name,
		     WCOREDUMP(status) ? HOOK_CORE_DUMPED : "", o[0].buf, o[1].buf);
	}
	if (WEXITSTATUS(status) != 0)
		fail(0, HOOK_FAILED HOOK_EXITED HOOK_OUTPUT, kind, index, WEXITSTATUS(status), o[0].buf, o[1].buf);
	free(argv);
	free(envp);
}
