/*
 * process.c: the user process's set-up, after the mounts: its limits,
 * identity and capabilities, scheduling and memory policy, seccomp, the
 * executable's lookup and the exec itself.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "init.h"

void op_rlimit(struct op *op)
{
	need(op, 3, 1);
	struct rlimit rl = { .rlim_cur = op->ints[1], .rlim_max = op->ints[2] };
	if (setrlimit((int)op->ints[0], &rl) < 0)
		fail(errno, "setrlimit %s (soft %llu, hard %llu)", op->strs[0],
		     (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
}

void op_chdir(struct op *op)
{
	char cwd[PATH_MAX];
	need(op, 0, 1);
	if (chdir(op->strs[0]) < 0)
		fail(errno, "chdir to cwd (%s) set in config.json", op->strs[0]);
	/* a cwd outside the container root reads as unreachable (CVE-2024-21626) */
	if (!getcwd(cwd, sizeof(cwd)) || cwd[0] != '/')
		fail(0, "cwd %s is outside the container", op->strs[0]);
}

static int capset_all(uint64_t eff, uint64_t perm, uint64_t inh)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2] = {
		{ (uint32_t)eff, (uint32_t)perm, (uint32_t)inh },
		{ (uint32_t)(eff >> 32), (uint32_t)(perm >> 32), (uint32_t)(inh >> 32) },
	};
	return syscall(SYS_capset, &h, d);
}

/*
 * op_identity becomes the configured user, keeping every permitted
 * capability effective: a seccomp filter loaded next (without
 * no_new_privs) needs CAP_SYS_ADMIN. op_caps then sets the final sets.
 */
void op_identity(struct op *op)
{
	need(op, 4, 0);
	uid_t uid = op->ints[0];
	gid_t gid = op->ints[1];
	int set_groups = (int)op->ints[2];
	uint32_t ngroups = op->ints[3];
	need(op, 4 + ngroups + 1, 0);
	uint64_t bounding = op->ints[4 + ngroups];

	for (int c = 0; prctl(PR_CAPBSET_READ, c, 0, 0, 0) >= 0; c++)
		if (!(bounding & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			fail(errno, "drop capability %d from the bounding set", c);
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		fail(errno, "prctl keepcaps");
	if (set_groups) {
		gid_t *groups = calloc(ngroups + 1, sizeof(gid_t));
		for (uint32_t i = 0; i < ngroups; i++)
			groups[i] = op->ints[4 + i];
		if (setgroups(ngroups, groups) < 0)
			fail(errno, "setgroups");
		free(groups);
	}
	if (setresgid(gid, gid, gid) < 0)
		fail(errno, "setgid %u", gid);
	if (setresuid(uid, uid, uid) < 0)
		fail(errno, "setuid %u", uid);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		fail(errno, "prctl keepcaps");
	/* a uid change cleared the effective set: raise it again until op_caps */
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) < 0)
		fail(errno, "capget");
	if (capset_all(d[0].permitted | (uint64_t)d[1].permitted << 32,
		       d[0].permitted | (uint64_t)d[1].permitted << 32,
		       d[0].inheritable | (uint64_t)d[1].inheritable << 32) < 0)
		fail(errno, "capset");
}

/* op_caps sets the final effective, permitted, inheritable and ambient sets. */
void op_caps(struct op *op)
{
	need(op, 4, 0);
	uint64_t eff = op->ints[0], perm = op->ints[1], inh = op->ints[2], amb = op->ints[3];
	if (capset_all(eff, perm, inh) < 0)
		fail(errno, "capset");
	for (int c = 0; c < 64; c++)
		if ((amb & (1ULL << c)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
			fail(errno, "raise ambient capability %d", c);
}

/*
 * op_lookpath finds the executable as runc does (Go's exec.LookPath, with
 * its messages, which engines map to exit codes: Docker's 126 and 127): a
 * name with a slash is taken as it is, a bare name is looked up in PATH;
 * either must be a file with an exec bit. Whether the process may run it
 * is then for execve to say (a user with CAP_DAC_OVERRIDE may run a file
 * only others can execute, which access(2) would refuse).
 */
void op_lookpath(struct op *op)
{
	need(op, 0, 2);
	const char *path = op->strs[0], *name = op->strs[1];
	struct stat sb;
	if (strchr(name, '/')) {
		if (stat(name, &sb) < 0)
			fail(errno, "exec: \"%s\": stat %s", name, name);
		if (S_ISDIR(sb.st_mode))
			fail(EISDIR, "exec: \"%s\"", name);
		if (!(sb.st_mode & 0111))
			fail(EACCES, "exec: \"%s\"", name);
		snprintf(st.exe, sizeof(st.exe), "%s", name);
		return;
	}
	for (const char *p = path; ; ) {
		const char *colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);
		char cand[PATH_MAX];
		snprintf(cand, sizeof(cand), "%.*s/%s", (int)(n ? n : 1), n ? p : ".", name);
		if (stat(cand, &sb) == 0 && S_ISREG(sb.st_mode) && (sb.st_mode & 0111)) {
			snprintf(st.exe, sizeof(st.exe), "%s", cand);
			return;
		}
		if (!colon)
			break;
		p = colon + 1;
	}
	errno = ENOENT;
	fail(0, "exec: \"%s\": executable file not found in $PATH", name);
}

/*
 * Until it execs the user's process, the init dies of a signal as runc's
 * does: runc's is a Go program, whose runtime catches every signal and ends
 * the process on one it was not asked to handle. Ours, a pid namespace's
 * init with no handler, would have the kernel drop them (only SIGKILL
 * reaches such an init from outside), so `kill ID TERM` of a created
 * container, or SIGTERM through the pidfd create handed out, would do
 * nothing. The handlers go at execve, which resets caught signals.
 */
static void die_of(int sig)
{
	/* of the signal itself where the kernel lets us (no pid namespace of our own) */
	signal(sig, SIG_DFL);
	raise(sig);
	/* as a pid namespace's init the kernel ignores our own default action */
	_exit(128 + sig);
}

void die_of_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = die_of;
	sa.sa_flags = SA_NODEFER; /* raise() in the handler must not wait for it to return */
	for (int sig = 1; sig < _NSIG; sig++) {
		switch (sig) {
		case SIGKILL: case SIGSTOP: /* the kernel's own */
		case SIGCHLD: case SIGCONT: case SIGURG: case SIGWINCH: /* not fatal */
		case SIGTSTP: case SIGTTIN: case SIGTTOU:
			continue;
		}
		(void)sigaction(sig, &sa, NULL); /* the C library's own RT signals refuse: fine */
	}
}

void op_seccomp(struct op *op)
{
	need(op, 2, 1);
	/* the program sits in the plan unaligned; copy it into place */
	struct sock_filter *insns = malloc(op->lens[0]);
	memcpy(insns, op->strs[0], op->lens[0] - 1);
	struct sock_fprog prog = {
		.len = (unsigned short)((op->lens[0] - 1) / sizeof(struct sock_filter)),
		.filter = insns,
	};
	int fd = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned int)op->ints[0], &prog);
	if (fd < 0)
		fail(errno, "load seccomp filter");
	free(insns);
	if (op->ints[1]) {
		/*
		 * The parent takes the notify fd with pidfd_getfd and hands it to
		 * the agent: nothing but a write happens here under the filter.
		 */
		int32_t n = fd;
		send_msg(SYNC_SECCOMP, &n, sizeof(n));
		wait_parent();
		close(fd);
	}
}

/* op_close_fds marks every fd from the first on close-on-exec: no host fd reaches the user process. */
void op_close_fds(struct op *op)
{
	need(op, 1, 0);
	unsigned int first = (unsigned int)op->ints[0];
	if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	/* kernels before 5.11: walk our fd table */
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		fail(errno, "close inherited fds: open /proc/self/fd");
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name);
		if (e->d_name[0] != '.' && fd >= (int)first && fd != dirfd(d))
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	}
	closedir(d);
}

void op_exec(struct op *op)
{
	need(op, 2, 0);
	uint32_t nargs = op->ints[0], nenv = op->ints[1];
	if (op->nstrs < nargs + nenv || nargs == 0)
		fail(0, "init: exec plan is short");
	char **argv = calloc(nargs + 1, sizeof(char *)), **envp = calloc(nenv + 1, sizeof(char *));
	for (uint32_t i = 0; i < nargs; i++)
		argv[i] = op->strs[i];
	for (uint32_t i = 0; i < nenv; i++)
		envp[i] = op->strs[nargs + i];
	const char *exe = st.exe[0] ? st.exe : argv[0];
	execve(exe, argv, envp);
	int e = errno;
	fail(e, "exec %s", exe);
}

/* sched_setattr(2)'s argument (SCHED_ATTR_SIZE_VER0); musl has no declaration */
struct casco_sched_attr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
};

void op_sched(struct op *op)
{
	need(op, 7, 0);
	struct casco_sched_attr a = {
		.size = sizeof(a), .policy = op->ints[0], .flags = op->ints[1],
		.nice = (int32_t)op->ints[2], .priority = op->ints[3],
		.runtime = op->ints[4], .deadline = op->ints[5], .period = op->ints[6],
	};
	if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
		fail(errno, "process.scheduler: sched_setattr (policy %u, nice %d, priority %u)", a.policy, a.nice, a.priority);
}

void op_ioprio(struct op *op)
{
	need(op, 1, 0);
	if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, (int)op->ints[0]) < 0)
		fail(errno, "process.ioPriority: ioprio_set (class %d, priority %d)",
		     (int)(op->ints[0] >> 13), (int)(op->ints[0] & 7));
}

/* the affinity the kernel gave us, kept when execCPUAffinity.initial replaces it */
static uint64_t born_affinity[128];
static long born_affinity_len = -1;

void op_cpu_affinity(struct op *op)
{
	need(op, 1, 0);
	uint32_t n = op->ints[0];
	need(op, 1 + n, 0);
	if (n == 0 && op->nints > 1 && op->ints[1]) {
		/*
		 * Every CPU: the kernel keeps those of our cpuset. Not inheriting
		 * the runtime's own affinity is a courtesy (runc 1.5 only warns
		 * when it cannot): a refusal does not fail the container.
		 */
		uint64_t all[128];
		memset(all, 0xff, sizeof(all));
		(void)syscall(SYS_sched_setaffinity, 0, sizeof(all), all);
		return;
	}
	if (n == 0) { /* restore */
		if (born_affinity_len > 0 && syscall(SYS_sched_setaffinity, 0, born_affinity_len, born_affinity) < 0)
			fail(errno, "process.execCPUAffinity: restore the kernel's affinity");
		return;
	}
	if (born_affinity_len < 0)
		born_affinity_len = syscall(SYS_sched_getaffinity, 0, sizeof(born_affinity), born_affinity);
	if (syscall(SYS_sched_setaffinity, 0, (size_t)n * 8, &op->ints[1]) < 0)
		fail(errno, "process.execCPUAffinity: sched_setaffinity");
}

/*
 * op_report_affinity tells the parent (--debug) the CPU affinity the kernel
 * holds for us now, under the label the plan gave. Only a report: a
 * failing sched_getaffinity sends the label alone and the plan goes on.
 */
void op_report_affinity(struct op *op)
{
	need(op, 1, 0);
	unsigned char buf[1 + sizeof(born_affinity)];
	buf[0] = (unsigned char)op->ints[0];
	long n = syscall(SYS_sched_getaffinity, 0, sizeof(born_affinity), buf + 1);
	send_msg(SYNC_AFFINITY, buf, n > 0 ? 1 + n : 1);
}

void op_mempolicy(struct op *op)
{
	need(op, 2, 0);
	uint64_t n = op->ints[1];
	need(op, 2 + n, 0);
	/* maxnode counts bits plus one: the kernel reads maxnode - 1 of them */
	if (syscall(SYS_set_mempolicy, (int)op->ints[0], n ? &op->ints[2] : NULL, n ? n * 64 + 1 : 0) < 0)
		fail(errno, "linux.memoryPolicy: set_mempolicy (mode 0x%llx)", (unsigned long long)op->ints[0]);
}

void op_personality(struct op *op)
{
	need(op, 1, 0);
	if (personality((unsigned long)op->ints[0]) < 0)
		fail(errno, "linux.personality: personality(0x%llx)", (unsigned long long)op->ints[0]);
}

/* op_cgroup_join moves us into v1 cgroups: a thread moving itself skips the kernel's global threadgroup lock */
void op_cgroup_join(struct op *op)
{
	for (uint32_t i = 0; i < op->nints; i++) {
		if (write((int)op->ints[i], "0", 1) != 1)
			fail(errno, "join cgroup (tasks fd %d)", (int)op->ints[i]);
		close((int)op->ints[i]);
	}
}

void op_umask(struct op *op)
{
	need(op, 1, 0);
	umask((mode_t)op->ints[0]);
}

void op_no_new_privs(struct op *op)
{
	(void)op;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail(errno, "set no_new_privs");
}

void op_apparmor(struct op *op)
{
	char buf[4096];
	need(op, 0, 1);
	int n = snprintf(buf, sizeof(buf), "exec %s", op->strs[0]);
	write_file("/proc/self/attr/apparmor/exec", buf, n);
}

/* op_keyring gives the container a keyring of its own: the host's session keys stay out of reach */
void op_keyring(struct op *op)
{
	need(op, 0, 1);
	if (syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, op->strs[0]) < 0 && errno != ENOSYS)
		fail(errno, "join session keyring %s", op->strs[0]);
}
