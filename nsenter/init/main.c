/*
 * casco-init: the container's init, a small static C program (musl).
 *
 * "Go decides, nsenter executes." The Go parent validates the spec and
 * compiles it into a plan of plain operations (see plan.h); it starts this
 * program, embedded in casco and executed from a sealed in-memory copy, with
 * _CASCO_INIT set, already cloned into the new namespaces. It reads the plan
 * from the sync socket, carries it out operation by operation and execs the
 * user process: no Go runtime and no glibc start-up in the container's init.
 * On failure it sends one line naming the step, the path and the errno back
 * to the parent and exits.
 *
 * No judgement lives here: every decision (which mounts, in which order, which
 * flags, which capabilities) was made by the Go side, where it is tested.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "init.h"

struct init st = { .sync = -1, .rootfd = -1, .fifo = -1, .procfd = -1, .masktmpfs = -1 };

/* --trace: time spent and calls per op code, sent to the parent with READY */
static int tracing;
static uint64_t trace_ns[OP_MAX][2];

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* op_wait_fifo parks the init until `start` opens exec.fifo. */
static void op_wait_fifo(struct op *op)
{
	char buf[64];
	need(op, 1, 0);
	/*
	 * Never dumpable while parked: we hold the host's exec.fifo, which
	 * another process of the container's user would reach through
	 * /proc/<us>/fd. Our own /proc/self/fd needs no dumpable flag: the
	 * kernel lets a process into its own fds whatever it is.
	 */
	/* blocks until `start` opens the fifo for reading */
	int fd;
	if (st.procfd >= 0) {
		snprintf(buf, sizeof(buf), "%d", (int)op->ints[0]);
		fd = openat(st.procfd, buf, O_WRONLY | O_CLOEXEC);
		close(st.procfd);
		st.procfd = -1;
	} else {
		fd = open(fdpath((int)op->ints[0], buf), O_WRONLY | O_CLOEXEC);
	}
	if (fd < 0)
		fail(errno, "open exec fifo");
	if (write(fd, "0", 1) != 1)
		fail(errno, "write exec fifo");
	/* fd stays open, close-on-exec: `start` reads EOF when the user process is exec'd */
	st.fifo = fd;
	close((int)op->ints[0]);
}

/* op_ready tells the parent the container is set up and parked at the fifo. */
static void op_ready(struct op *op)
{
	(void)op;
	/* ready (and parked next) it holds nothing but stdio, its socket
	 * and the fifo's fd, as runc's init */
	if (st.masktmpfs >= 0) {
		close(st.masktmpfs);
		st.masktmpfs = -1;
	}
	if (tracing)
		send_msg(SYNC_TRACE, trace_ns, sizeof(trace_ns));
	send_msg(SYNC_READY, NULL, 0);
}

static void op_trace(struct op *op)
{
	(void)op;
	tracing = 1;
}

/* what each op code of plan.h does: an operation per file of its subject */
static void (*const ops[OP_MAX])(struct op *) = {
	/* namespaces.c */
	[OP_SETNS] = op_setns,
	[OP_UNSHARE] = op_unshare,
	[OP_TIMENS] = op_timens,
	[OP_FORK] = op_fork,
	[OP_HOSTNAME] = op_hostname,
	[OP_DOMAINNAME] = op_domainname,
	[OP_SYSCTL] = op_sysctl,
	/* rootfs.c */
	[OP_ROOTFS] = op_rootfs,
	[OP_PIVOT_ROOT] = op_pivot_root,
	[OP_PROPAGATION] = op_propagation,
	[OP_CHROOT] = op_chroot,
	/* mounts.c */
	[OP_MOUNT] = op_mount,
	[OP_MKNOD] = op_mknod,
	[OP_BINDDEV] = op_binddev,
	[OP_SYMLINK] = op_symlink,
	[OP_MOUNT_ATTR] = op_mount_attr,
	[OP_IDMAP_MOUNT] = op_idmap_mount,
	[OP_TMPCOPYUP] = op_tmpcopyup,
	[OP_MASK] = op_mask,
	[OP_READONLY] = op_readonly,
	[OP_REMOUNT_RO] = op_remount_ro,
	/* hooks.c */
	[OP_SYNC_HOOKS] = op_sync_hooks,
	[OP_HOOK] = op_hook,
	/* console.c */
	[OP_CONSOLE] = op_console,
	/* process.c */
	[OP_RLIMIT] = op_rlimit,
	[OP_CHDIR] = op_chdir,
	[OP_IDENTITY] = op_identity,
	[OP_CAPS] = op_caps,
	[OP_UMASK] = op_umask,
	[OP_NO_NEW_PRIVS] = op_no_new_privs,
	[OP_APPARMOR] = op_apparmor,
	[OP_KEYRING] = op_keyring,
	[OP_CGROUP_JOIN] = op_cgroup_join,
	[OP_SCHED] = op_sched,
	[OP_IOPRIO] = op_ioprio,
	[OP_CPU_AFFINITY] = op_cpu_affinity,
	[OP_MEMPOLICY] = op_mempolicy,
	[OP_REPORT_AFFINITY] = op_report_affinity,
	[OP_PERSONALITY] = op_personality,
	[OP_LOOKPATH] = op_lookpath,
	[OP_SECCOMP] = op_seccomp,
	[OP_CLOSE_FDS] = op_close_fds,
	[OP_EXEC] = op_exec,
	/* here: the handshake with the parent and `start` */
	[OP_TRACE] = op_trace,
	[OP_READY] = op_ready,
	[OP_WAIT_FIFO] = op_wait_fifo,
};

static void run(struct op *op)
{
	if (op->code >= OP_MAX || !ops[op->code])
		fail(0, "init: unknown plan operation %u", op->code);
	ops[op->code](op);
}

/*
 * casco-init is started by casco only, with _CASCO_INIT=<sync fd>,<exe fd>,
 * already cloned into the container's new namespaces.
 */
int main(void)
{
	const char *env = getenv("_CASCO_INIT");
	int exefd = -1, nfds = 0;
	if (getenv("_CASCO_HOLD")) {
		/* casco made us in a new user namespace to keep it until our stdin closes */
		char c;
		while (read(0, &c, 1) < 0 && errno == EINTR)
			;
		return 0;
	}
	if (!env || sscanf(env, "%d,%d,%d", &st.sync, &exefd, &nfds) < 1) {
		static const char msg[] = "casco-init: the container init of casco; not to be run by hand\n";
		(void)!write(2, msg, sizeof(msg) - 1);
		return 2;
	}
	/*
	 * Every fd above the ones casco handed us is one its caller leaked
	 * without close-on-exec (a host directory on fd 240, say): none may
	 * reach the container (CVE-2024-21626).
	 */
	if (nfds > 0 && syscall(SYS_close_range, nfds, ~0U, 0) < 0)
		for (int fd = nfds; fd < 1024; fd++)
			close(fd);
	/* the sealed copy we were executed from has done its job: it must not reach the container */
	if (exefd >= 0)
		close(exefd);
	die_of_signals();
	/* nobody in the container may ptrace us or read our fds while we hold host files */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	umask(0);
	/* a session of its own, as runc gives every container process: the
	 * caller's session (and terminal) stays out, and CRIU can dump the
	 * container, which it does only with whole sessions */
	if (setsid() < 0)
		fail(errno, "init: setsid");

	uint32_t len;
	read_full(st.sync, &len, 4);
	char *plan = malloc(len);
	if (!plan)
		fail(ENOMEM, "init: plan of %u bytes", len);
	read_full(st.sync, plan, len);

	open_namespaces(plan, len);
	struct cursor c = { plan, plan + len };
	struct op op;
	while (c.p < c.end) {
		next_op(&c, &op);
		uint64_t t0 = tracing ? now_ns() : 0;
		run(&op);
		if (tracing && op.code < OP_MAX) {
			trace_ns[op.code][0] += now_ns() - t0;
			trace_ns[op.code][1]++;
		}
	}
	fail(0, "init: the plan ended without exec");
}
