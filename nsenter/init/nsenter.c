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
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "copyup.h"
#include "mountattr.h"
#include "mountroot.h"
#include "nopivot.h"
#include "plan.h"

#ifndef PROC_SUPER_MAGIC
#define PROC_SUPER_MAGIC 0x9fa0
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif
#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif
#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#endif

extern char **environ;

/* Everything the interpreter carries from one operation to the next. */
struct init {
	int sync;            /* socket to the parent */
	int rootfd;          /* the container's rootfs, before pivot_root */
	char *rootfs;        /* its host path */
	char exe[PATH_MAX];  /* resolved user executable (OP_LOOKPATH) */
	int fifo;            /* our end of exec.fifo once `start` opened it */
	int procfd;          /* /proc/self/fd kept across a bare chroot, which has no /proc */
	int masktmpfs;       /* the read-only tmpfs every masked directory shows */
};

static struct init st = { .sync = -1, .rootfd = -1, .fifo = -1, .procfd = -1, .masktmpfs = -1 };

/* --trace: time spent and calls per op code, sent to the parent with READY */
static int tracing;
static uint64_t trace_ns[OP_MAX][2];

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* ---- talking to the parent ---------------------------------------------- */

static int send_msg(char type, const void *data, uint32_t len)
{
	/*
	 * One write(2) on the stream socket: a seccomp profile may refuse
	 * sendmsg/sendto to the container's process but never write. If even
	 * that fails, say so on stderr and exit: the parent sees EOF instead of
	 * waiting forever.
	 */
	char buf[5 + 8192];
	if (len > sizeof(buf) - 5)
		len = sizeof(buf) - 5;
	buf[0] = type;
	memcpy(buf + 1, &len, 4);
	if (len)
		memcpy(buf + 5, data, len);
	if (write(st.sync, buf, 5 + len) == (ssize_t)(5 + len))
		return 0;
	if (type != SYNC_ERROR) {
		dprintf(2, "casco-init: cannot report to the runtime: %s\n", strerror(errno));
		_exit(1);
	}
	return -1;
}

/* fail reports one line to the parent (and stderr once nobody listens) and exits. */
static void __attribute__((noreturn, format(printf, 2, 3))) fail(int err, const char *fmt, ...)
{
	char buf[4096];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	if (err) {
		/* errno text in Go's style: lower case first letter */
		int m = snprintf(buf + n, sizeof(buf) - n, ": %s", strerror(err));
		if (m > 2 && buf[n + 2] >= 'A' && buf[n + 2] <= 'Z')
			buf[n + 2] += 'a' - 'A';
		if (m > 0)
			n += m;
		if (n >= (int)sizeof(buf))
			n = sizeof(buf) - 1;
	}
	signal(SIGPIPE, SIG_IGN); /* `create` may be gone: the message is lost, not the exit status */
	/* a directory is not executable either: 126, as a shell says */
	int code = err == ENOENT ? 127 : (err == EACCES || err == EISDIR ? 126 : 1);
	if (st.fifo >= 0) {
		/*
		 * Past the handshake `start` (or `run`) reads the fifo to its end,
		 * and `create`, which held the sync socket, is gone: the line goes
		 * to the caller of `start` after an "E". The container's stderr
		 * gets it first, as runc's init writes it there: an engine's
		 * container log keeps it.
		 */
		static char out[1 + sizeof(buf)];
		out[0] = 'E';
		memcpy(out + 1, buf, n);
		out[n + 1] = '\n';
		(void)!write(2, out + 1, n + 1);
		(void)!write(st.fifo, out, n + 1);
		_exit(code);
	}
	/* one line for the user: the parent prints it, stderr only gets it when nobody listens */
	if (send_msg(SYNC_ERROR, buf, n) < 0 && n < (int)sizeof(buf) - 1) {
		buf[n++] = '\n';
		(void)!write(2, buf, n);
	}
	_exit(code);
}

static void read_full(int fd, void *buf, size_t n)
{
	char *p = buf;
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			_exit(1); /* the parent went away: nobody to report to */
		p += r;
		n -= r;
	}
}

static void wait_parent(void)
{
	char hdr[5];
	read_full(st.sync, hdr, 5);
	if (hdr[0] != SYNC_GO)
		_exit(1);
}

/* ---- the plan ----------------------------------------------------------- */

struct op {
	uint32_t code, nints, nstrs;
	uint64_t *ints;
	char **strs;
	uint32_t *lens;
};

struct cursor {
	char *p, *end;
};

static void *take(struct cursor *c, size_t n)
{
	char *p = c->p;
	if ((size_t)(c->end - c->p) < n)
		fail(0, "init: plan is truncated");
	c->p += n;
	return p;
}

static uint32_t take_u32(struct cursor *c)
{
	uint32_t v;
	memcpy(&v, take(c, 4), 4);
	return v;
}

static void next_op(struct cursor *c, struct op *op)
{
	static char *strs[4096];
	static uint32_t lens[4096];
	static uint64_t ints[4096];

	op->code = take_u32(c);
	op->nints = take_u32(c);
	op->nstrs = take_u32(c);
	if (op->nints > 4096 || op->nstrs > 4096)
		fail(0, "init: plan operation %u is too large", op->code);
	memcpy(ints, take(c, 8 * (size_t)op->nints), 8 * (size_t)op->nints);
	for (uint32_t i = 0; i < op->nstrs; i++) {
		lens[i] = take_u32(c);
		strs[i] = take(c, lens[i]);
		if (lens[i] == 0 || strs[i][lens[i] - 1] != '\0')
			fail(0, "init: plan string is not terminated");
	}
	op->ints = ints;
	op->strs = strs;
	op->lens = lens;
}

static void need(struct op *op, uint32_t nints, uint32_t nstrs)
{
	if (op->nints < nints || op->nstrs < nstrs)
		fail(0, "init: plan operation %u is missing arguments", op->code);
}

/* ---- paths inside the rootfs -------------------------------------------- */

/*
 * Every path inside the container is resolved with openat2(RESOLVE_IN_ROOT):
 * symlinks are followed as if the rootfs were "/", so none can lead out of
 * it (CVE-2021-30465). Mounts then go onto the verified fd, never a string.
 */
/*
 * A scoped lookup fails with EAGAIN when a rename or a mount anywhere on
 * the system raced one of its ".." steps (the kernel cannot prove the walk
 * stayed in the root), and with EXDEV if the result was moved out of the
 * root under it. Both are retried, a bounded number of times, as
 * path-resolution libraries do: a container renaming its own directories
 * must not make its own creation fail outright.
 */
#define OPENAT2_TRIES 64

static int open_in_root(const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd = -1;
	for (int i = 0; i < OPENAT2_TRIES; i++) {
		fd = syscall(SYS_openat2, st.rootfd, path, &how, sizeof(how));
		if (fd >= 0 || (errno != EAGAIN && errno != EXDEV))
			break;
	}
	return fd;
}

static void split(const char *path, char *parent, char *base)
{
	size_t n = strlen(path);
	while (n > 1 && path[n - 1] == '/')
		n--;
	const char *slash = memrchr(path, '/', n);
	if (!slash) {
		strcpy(parent, "/");
		memcpy(base, path, n);
		base[n] = 0;
		return;
	}
	size_t pl = slash - path;
	memcpy(parent, path, pl ? pl : 1);
	parent[pl ? pl : 1] = 0;
	memcpy(base, slash + 1, n - pl - 1);
	base[n - pl - 1] = 0;
}

/*
 * follow_dangling writes to out the path the kernel would reach through
 * path's dangling symlinks: the first missing component, when it is a
 * symlink, is replaced by its target (relative to its directory, or to the
 * rootfs when absolute), until the first missing component is no symlink.
 * So a destination reached through a symlink to nothing is made where the
 * symlink points, as runc's securejoin does. The result is only ever
 * opened with open_in_root: whatever a symlink says, it stays in the rootfs.
 */
static int follow_dangling(const char *path, char *out)
{
	char cur[PATH_MAX], next[PATH_MAX], target[PATH_MAX];
	if (strlen(path) >= PATH_MAX)
		return errno = ENAMETOOLONG, -1;
	strcpy(cur, path);
	for (int links = 0;;) {
		/* find the first prefix of cur that does not resolve */
		size_t end = 0, n = strlen(cur);
		for (;;) {
			while (end < n && cur[end] == '/')
				end++;
			if (end == n) { /* every component exists */
				strcpy(out, cur);
				return 0;
			}
			while (end < n && cur[end] != '/')
				end++;
			char save = cur[end];
			cur[end] = 0;
			int fd = open_in_root(cur, O_PATH);
			cur[end] = save;
			if (fd < 0)
				break;
			close(fd);
		}
		if (errno != ENOENT)
			return -1;
		/* the component ending at end is missing, or a symlink to nothing */
		size_t cstart = end;
		while (cstart > 0 && cur[cstart - 1] != '/')
			cstart--;
		char parent[PATH_MAX], base[PATH_MAX];
		memcpy(parent, cur, cstart);
		parent[cstart] = 0;
		if (!*parent)
			strcpy(parent, "/");
		memcpy(base, cur + cstart, end - cstart);
		base[end - cstart] = 0;
		int pfd = open_in_root(parent, O_PATH | O_DIRECTORY);
		if (pfd < 0)
			return -1;
		ssize_t tl = readlinkat(pfd, base, target, sizeof(target) - 1);
		close(pfd);
		if (tl < 0) { /* no symlink: the rest is made as written */
			strcpy(out, cur);
			return 0;
		}
		target[tl] = 0;
		if (++links > 40)
			return errno = ELOOP, -1;
		int w = target[0] == '/' ? snprintf(next, sizeof(next), "%s%s", target, cur + end)
		                         : snprintf(next, sizeof(next), "%s/%s%s", parent, target, cur + end);
		if (w < 0 || (size_t)w >= sizeof(next))
			return errno = ENAMETOOLONG, -1;
		strcpy(cur, next);
	}
}

static int mkdir_walk(const char *path, mode_t mode);

/*
 * open_made opens what was just made as base in the directory pfd (which
 * was resolved inside the rootfs): through pfd, not by its path again, so
 * a parent renamed meanwhile (by the container itself, racing its own
 * creation) does not lose it. base is a name just created, never "." or
 * "..", and is not followed if it was replaced by a symlink.
 */
static int open_made(int pfd, const char *base, int flags)
{
	return openat(pfd, base, flags | O_NOFOLLOW | O_CLOEXEC);
}

/* mkdir_all creates path (and its parents) inside the rootfs, returning an O_PATH fd. */
static int mkdir_all(const char *path, mode_t mode)
{
	char real[PATH_MAX];
	int fd = open_in_root(path, O_PATH | O_DIRECTORY);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	if (follow_dangling(path, real) < 0)
		return -1;
	return mkdir_walk(real, mode);
}

static int mkdir_walk(const char *path, mode_t mode)
{
	char parent[PATH_MAX], base[PATH_MAX];
	int fd = open_in_root(path, O_PATH | O_DIRECTORY);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	if (strlen(path) >= PATH_MAX)
		return errno = ENAMETOOLONG, -1;
	split(path, parent, base);
	int pfd = mkdir_walk(parent, mode);
	if (pfd < 0)
		return -1;
	if (mkdirat(pfd, base, mode) < 0) {
		int e = errno;
		close(pfd);
		if (e != EEXIST)
			return errno = e, -1;
		return open_in_root(path, O_PATH | O_DIRECTORY); /* made by someone else */
	}
	fd = open_made(pfd, base, O_PATH | O_DIRECTORY);
	close(pfd);
	return fd >= 0 ? fd : open_in_root(path, O_PATH | O_DIRECTORY);
}

/* create_file makes an empty file at path inside the rootfs (mknodat never follows a symlink). */
static int create_file(const char *path)
{
	char parent[PATH_MAX], base[PATH_MAX], real[PATH_MAX];
	int fd = open_in_root(path, O_PATH);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	if (follow_dangling(path, real) < 0)
		return -1;
	split(real, parent, base);
	int pfd = mkdir_walk(parent, 0755);
	if (pfd < 0)
		return -1;
	if (mknodat(pfd, base, S_IFREG | 0644, 0) < 0) {
		int e = errno;
		close(pfd);
		if (e != EEXIST)
			return errno = e, -1;
		return open_in_root(real, O_PATH); /* made by someone else */
	}
	fd = open_made(pfd, base, O_PATH);
	close(pfd);
	return fd >= 0 ? fd : open_in_root(real, O_PATH);
}

static const char *fdpath(int fd, char *buf)
{
	snprintf(buf, 64, "/proc/self/fd/%d", fd);
	return buf;
}

/* the flags a mount copied into a less privileged mount namespace has locked (MNT_LOCK_*) */
#define ATIME_ENUM (MS_NOATIME | MS_RELATIME | MS_STRICTATIME)
#define ATIME_FLAGS (ATIME_ENUM | MS_NODIRATIME)
#define LOCKABLE (MS_RDONLY | MS_NODEV | MS_NOEXEC | MS_NOSUID | ATIME_FLAGS)

/* mount_flags is the lockable flags of the mount fd is on, as mount(2) flags */
static unsigned long mount_flags(int fd)
{
	struct statvfs sv;
	unsigned long f = 0;
	if (fstatvfs(fd, &sv) < 0)
		return 0;
	if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
	if (sv.f_flag & ST_RDONLY) f |= MS_RDONLY;
	if (sv.f_flag & ST_NOATIME) f |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME) f |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME) f |= MS_RELATIME;
	/* strictatime is no flag of its own: the absence of the others */
	if (!(f & ATIME_ENUM))
		f |= MS_STRICTATIME;
	return f;
}

/*
 * bind_remount gives a new (bind) mount the flags set, without those the
 * options cleared (runc 1.2's semantics, unlike mount(8)'s): first exactly
 * set. Where the kernel refuses (EPERM: the source's flags are locked, as
 * for a mount copied into a user namespace), or where locked says the
 * source's flags are to be treated as locked, the source's lockable flags
 * are kept on top of set, unless the options clear one of them or ask for
 * another atime: that is an error, never a mount other than asked.
 */
static int bind_remount(const char *target, int fd, unsigned long set, unsigned long clr, int locked)
{
	unsigned long src = mount_flags(fd), flags = set;
	if ((clr & ATIME_FLAGS) && !(set & ATIME_FLAGS)) {
		/* a remount keeps the atime flags unless some are given: give the
		 * source's minus the cleared ones, relatime (the kernel's default)
		 * when none is left, strictatime for norelatime */
		flags |= src & ATIME_FLAGS & ~clr;
		if (!(flags & ATIME_ENUM))
			flags |= (clr & MS_RELATIME) ? MS_STRICTATIME : MS_RELATIME;
	}
	if (!locked) {
		if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | flags, NULL) == 0)
			return 0;
		if (errno != EPERM)
			return -1;
	}
	if ((src & clr & LOCKABLE) || ((set & ATIME_FLAGS) && (set & ATIME_FLAGS) != (src & ATIME_FLAGS)))
		return errno = EPERM, -1;
	return mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | flags | (src & LOCKABLE), NULL);
}

static int remount(const char *target, int fd, unsigned long flags)
{
	return bind_remount(target, fd, flags, 0, 0);
}

/* ---- operations --------------------------------------------------------- */

/*
 * Namespace files are all opened before the first setns: once the mount
 * namespace is joined, /proc/<pid>/ns of the target is out of sight.
 */
static int nsfds[64], nsfds_len, nsfds_next;

static void open_namespaces(char *plan, uint32_t len)
{
	struct cursor c = { plan, plan + len };
	struct op op;
	while (c.p < c.end) {
		next_op(&c, &op);
		if (op.code != OP_SETNS)
			continue;
		need(&op, 1, 1);
		if (nsfds_len == 64)
			fail(0, "init: too many namespaces to join");
		int fd = open(op.strs[0], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			fail(errno, "open namespace %s", op.strs[0]);
		nsfds[nsfds_len++] = fd;
	}
}

/*
 * A namespace that the joined user namespace does not own (the host's
 * network namespace, say) can be joined only with the privileges we have
 * before entering that user namespace. So the plan joins the other
 * namespaces first, with ints[1] = 1 when a user namespace follows; one
 * that refuses us (EPERM: it needs the user namespace's privileges, as an
 * unprivileged caller's may) is joined right after the user namespace, as
 * runc does since runc#4390.
 */
static struct deferred_ns {
	int fd;
	int flag;
	const char *path;
} deferred[64];
static int ndeferred;

static void join_deferred(void)
{
	for (int i = 0; i < ndeferred; i++) {
		if (setns(deferred[i].fd, deferred[i].flag) < 0)
			fail(errno, "setns %s", deferred[i].path);
		close(deferred[i].fd);
	}
	ndeferred = 0;
}

static void op_setns(struct op *op)
{
	need(op, 1, 1);
	int fd = nsfds[nsfds_next++];
	int flag = (int)op->ints[0];
	if (setns(fd, flag) < 0) {
		if (errno == EPERM && op->nints > 1 && op->ints[1] && ndeferred < 64) {
			deferred[ndeferred++] = (struct deferred_ns){ fd, flag, op->strs[0] };
			return;
		}
		fail(errno, "setns %s", op->strs[0]);
	}
	close(fd);
	if (flag == CLONE_NEWUSER) {
		/*
		 * Become the joined namespace's root, as runc's nsexec does: our
		 * host ids mean nothing in there, and files made with an unmapped
		 * fsuid fail with EOVERFLOW. setgroups may be denied in it: fine.
		 * run.oci.keep_original_groups (ints[2]) keeps the caller's groups.
		 */
		int keep_groups = op->nints > 2 && op->ints[2];
		if (!keep_groups && setgroups(0, NULL) < 0 && errno != EPERM)
			fail(errno, "setgroups in user namespace %s", op->strs[0]);
		if (setresgid(0, 0, 0) < 0)
			fail(errno, "setgid 0 in user namespace %s", op->strs[0]);
		if (setresuid(0, 0, 0) < 0)
			fail(errno, "setuid 0 in user namespace %s", op->strs[0]);
		join_deferred();
	}
}

static void op_unshare(struct op *op)
{
	need(op, 1, 0);
	if (unshare((int)op->ints[0]) < 0)
		fail(errno, "unshare 0x%llx", (unsigned long long)op->ints[0]);
}

/* mount_id returns the id of the mount fd is on (statx STATX_MNT_ID), or 0 */
static uint64_t mount_id(int fd)
{
	/* struct statx by hand: musl's headers may lack it; stx_mnt_id is at byte 144 */
	unsigned char buf[256];
	uint64_t id;
	memset(buf, 0, sizeof(buf));
	if (syscall(SYS_statx, fd, "", AT_EMPTY_PATH, 0x1000 /* STATX_MNT_ID */, buf) < 0)
		return 0;
	memcpy(&id, buf + 144, sizeof(id));
	return id;
}

/*
 * only ever write into a real procfs (CVE-2019-16884), and into the /proc
 * mount itself, not a file bind-mounted over the path (CVE-2025-52881: a
 * host /proc/sys file mounted over a sysctl's path would take the write).
 */
static void check_proc_file(const char *path, int fd)
{
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0 || sf.f_type != PROC_SUPER_MAGIC)
		fail(0, "write %s: not on procfs", path);
	int proc = open("/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	uint64_t want = proc >= 0 ? mount_id(proc) : 0, got = mount_id(fd);
	if (proc >= 0)
		close(proc);
	if (!want || got != want)
		fail(0, "write %s: a mount over it hides the container's /proc (mount %llu, /proc is %llu)", path,
		     (unsigned long long)got, (unsigned long long)want);
}

static void write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		fail(errno, "open %s", path);
	if (strncmp(path, "/proc/", 6) == 0)
		check_proc_file(path, fd);
	if (write(fd, data, len) != (ssize_t)len)
		fail(errno, "write %s", path);
	close(fd);
}

static void op_timens(struct op *op)
{
	need(op, 0, 1);
	if (unshare(CLONE_NEWTIME) < 0)
		fail(errno, "unshare time namespace");
	/* no offsets: the kernel refuses an empty write, and zero is its default */
	if (op->lens[0] > 1)
		write_file("/proc/self/timens_offsets", op->strs[0], op->lens[0] - 1);
	/* before ~6.3 exec does not move us into it: join it ourselves */
	int fd = open("/proc/self/ns/time_for_children", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWTIME) < 0)
		fail(errno, "enter time namespace");
	close(fd);
}

static void op_fork(void)
{
	/* joining a pid namespace takes effect for children only */
	int go[2];
	if (pipe2(go, O_CLOEXEC) < 0)
		fail(errno, "fork into pid namespace: pipe");
	pid_t pid = fork();
	if (pid < 0)
		fail(errno, "fork into pid namespace");
	if (pid > 0) {
		char buf[32];
		int n = snprintf(buf, sizeof(buf), "%d", pid);
		send_msg(SYNC_PID, buf, n);
		/* only now may the child talk: the parent must learn its pid first */
		(void)!write(go[1], "1", 1);
		_exit(0);
	}
	char c;
	close(go[1]);
	if (read(go[0], &c, 1) != 1)
		_exit(1);
	close(go[0]);
	/* the session main made is the parent's, who leads it: a new one */
	if (setsid() < 0)
		fail(errno, "fork into pid namespace: setsid");
}

/*
 * parent_propagation sets the propagation of the mount that holds the
 * rootfs, as runc does: pivot_root refuses a shared new root or parent, and
 * the rootfs bind must not become a peer of the host's copy. A slave root
 * (rslave, the default, or slave) keeps a slave parent, so the host's
 * mounts still reach the container (runc 1.5, runc#5200); any other is made
 * private. MS_SLAVE leaves a slave or private mount as it is, so an rslave
 * "/" keeps its master. STATX_ATTR_MOUNT_ROOT finds that mount without
 * parsing mountinfo.
 */
static void parent_propagation(const char *rootfs, unsigned long flag)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s", rootfs);
	for (;;) {
		int is_root = is_mount_root(p);
		if (is_root < 0)
			fail(errno, "statx %s", p);
		/* the mount that holds the rootfs (the rootfs itself when it is one):
		 * the rootfs bind made next is its child and takes its propagation */
		if (is_root || strcmp(p, "/") == 0) {
			if (mount(NULL, p, NULL, flag, NULL) < 0)
				fail(errno, "set propagation of %s", p);
			return;
		}
		char *slash = strrchr(p, '/');
		if (slash == p)
			p[1] = 0;
		else if (slash)
			*slash = 0;
		else
			return;
	}
}

static void op_rootfs(struct op *op)
{
	need(op, 2, 1);
	st.rootfs = op->strs[0];
	/* host mounts stay out of the container, and ours out of the host */
	if (mount(NULL, "/", NULL, (unsigned long)op->ints[0], NULL) < 0)
		fail(errno, "set propagation of /");
	parent_propagation(st.rootfs, (unsigned long)op->ints[1]);
	/* pivot_root wants the new root to be a mount point */
	if (mount(st.rootfs, st.rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		fail(errno, "bind rootfs %s", st.rootfs);
	st.rootfd = open(st.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (st.rootfd < 0)
		fail(errno, "open rootfs %s", st.rootfs);
}

static void mount_finish(const char *dst, unsigned long reflags, unsigned long prop, unsigned long clr, int locked);

/* ordinary_dir refuses a mount destination that is a symlink (or no directory): CVE-2019-19921 */
static void ordinary_dir(const char *dst, const char *type)
{
	struct stat sb;
	int fd = open_in_root(dst, O_PATH | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return;
		fail(errno, "mount %s on %s", type, dst);
	}
	if (fstat(fd, &sb) < 0)
		fail(errno, "mount %s on %s: stat", type, dst);
	if (!S_ISDIR(sb.st_mode))
		fail(0, "mount %s on %s: filesystem \"%s\" must be mounted on ordinary directory", type, dst, type);
	close(fd);
}

/* existing_mode is the mode of the directory at dst, or -1 when there is none yet. */
static int existing_mode(const char *dst)
{
	struct stat sb;
	int fd = open_in_root(dst, O_PATH | O_DIRECTORY);
	if (fd < 0)
		return -1;
	int mode = fstat(fd, &sb) == 0 ? (int)(sb.st_mode & 07777) : -1;
	close(fd);
	return mode;
}

/*
 * mount_point makes (or opens) the mount point dst for a bind of src: a
 * file for a file, a directory for anything else. kind MNT_AUTO asks the
 * source itself, at dirfd/path (a path seen in our mount namespace, or a
 * tree's fd with an empty path).
 */
static int mount_point(int kind, int dirfd, const char *path, const char *src, const char *dst)
{
	if (kind == MNT_AUTO) {
		struct stat sb;
		if (fstatat(dirfd, path, &sb, *path ? 0 : AT_EMPTY_PATH) < 0)
			fail(errno, "mount %s on %s: bind source", src, dst);
		kind = S_ISDIR(sb.st_mode) ? MNT_DIR : MNT_FILE;
	}
	int fd = kind == MNT_FILE ? create_file(dst) : mkdir_all(dst, 0755);
	if (fd < 0)
		fail(errno, "mount %s: create mount point %s", src, dst);
	return fd;
}

static void op_mount(struct op *op)
{
	char buf[64];
	need(op, 4, 4);
	unsigned long flags = op->ints[0], reflags = op->ints[2], prop = op->ints[3];
	unsigned long extra = op->nints > 4 ? op->ints[4] : 0;
	const char *src = op->strs[0], *dst = op->strs[1], *type = op->strs[2], *data = op->strs[3];
	if (extra & MOUNT_ORDINARY_DIR)
		ordinary_dir(dst, type);
	/*
	 * as runc: a tmpfs given no mode= takes the mode of the directory it
	 * covers, as a mount option, so mountinfo shows it (mode=710)
	 */
	int mode = (extra & MOUNT_INHERIT_MODE) ? existing_mode(dst) : -1;
	char *withmode = NULL;
	if (mode >= 0) {
		size_t n = strlen(data) + 16;
		withmode = malloc(n);
		if (!withmode)
			fail(ENOMEM, "mount %s on %s", type, dst);
		snprintf(withmode, n, "mode=%04o%s%s", mode, *data ? "," : "", data);
		data = withmode;
	}
	/* MNT_AUTO: made by an earlier mount of this container: it is there only in here */
	int fd = mount_point((int)op->ints[1], AT_FDCWD, src, src, dst);
	if (mount(src, fdpath(fd, buf), *type ? type : NULL, flags, *data ? data : NULL) < 0)
		fail(errno, "mount %s on %s", src, dst);
	close(fd);
	free(withmode);
	mount_finish(dst, reflags, prop, op->nints > 5 ? op->ints[5] : 0, 0);
}

/*
 * mount_finish remounts a new mount with its flags (without those clr
 * clears; locked: keep the source's, see bind_remount) and sets its
 * propagation.
 */
static void mount_finish(const char *dst, unsigned long reflags, unsigned long prop, unsigned long clr, int locked)
{
	char buf[64];
	if (!reflags && !clr && !prop)
		return;
	/* the fd still points under the new mount: reopen to reach its root */
	int fd = open_in_root(dst, O_PATH);
	if (fd < 0)
		fail(errno, "reopen mount %s", dst);
	if ((reflags || clr) && bind_remount(fdpath(fd, buf), fd, reflags, clr, locked) < 0)
		fail(errno, "remount %s (a flag of the source the options change may be locked)", dst);
	if (prop && mount(NULL, fdpath(fd, buf), NULL, prop, NULL) < 0)
		fail(errno, "set propagation of %s", dst);
	close(fd);
}

static void op_mknod(struct op *op)
{
	char parent[PATH_MAX], base[PATH_MAX];
	need(op, 4, 1);
	const char *path = op->strs[0];
	split(path, parent, base);
	int pfd = mkdir_all(parent, 0755);
	if (pfd < 0)
		fail(errno, "mknod %s: create %s", path, parent);
	if (mknodat(pfd, base, (mode_t)op->ints[0], (dev_t)op->ints[1]) < 0 && errno != EEXIST)
		fail(errno, "mknod %s", path);
	if (fchownat(pfd, base, (uid_t)op->ints[2], (gid_t)op->ints[3], AT_SYMLINK_NOFOLLOW) < 0)
		fail(errno, "chown %s", path);
	close(pfd);
}

static void op_binddev(struct op *op)
{
	char buf[64];
	need(op, 0, 2);
	int fd = create_file(op->strs[1]);
	if (fd < 0)
		fail(errno, "bind device %s: create %s", op->strs[0], op->strs[1]);
	if (mount(op->strs[0], fdpath(fd, buf), NULL, MS_BIND, NULL) < 0)
		fail(errno, "bind device %s on %s", op->strs[0], op->strs[1]);
	close(fd);
}

static void op_symlink(struct op *op)
{
	char parent[PATH_MAX], base[PATH_MAX];
	need(op, 0, 2);
	split(op->strs[1], parent, base);
	int pfd = mkdir_all(parent, 0755);
	if (pfd < 0)
		fail(errno, "symlink %s: create %s", op->strs[1], parent);
	if (symlinkat(op->strs[0], pfd, base) < 0 && errno != EEXIST)
		fail(errno, "symlink %s -> %s", op->strs[1], op->strs[0]);
	close(pfd);
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
static void op_hook(struct op *op)
{
	need(op, 6, 3);
	uint32_t nargs = op->ints[1], nenv = op->ints[2], index = op->ints[3];
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
		fail(errno, "error running %s hook #%u: pipe", kind, index);
	pid_t pid = fork();
	if (pid < 0)
		fail(errno, "error running %s hook #%u: fork", kind, index);
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
			fail(0, "error running %s hook #%u: hook ran past specified timeout of %d.0s", kind, index, timeout);
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
			fail(errno, "error running %s hook #%u: wait", kind, index);
	for (int i = 0; i < 2; i++)
		if (o[i].fd >= 0) {
			drain_hook(&o[i]);
			close(o[i].fd);
		}
	if (WIFSIGNALED(status))
		fail(0, "error running %s hook #%u: signal: %s, stdout: %s, stderr: %s", kind, index,
		     strsignal(WTERMSIG(status)), o[0].buf, o[1].buf);
	if (WEXITSTATUS(status) != 0)
		fail(0, "error running %s hook #%u: exit status %d, stdout: %s, stderr: %s", kind, index,
		     WEXITSTATUS(status), o[0].buf, o[1].buf);
	free(argv);
	free(envp);
}

/*
 * reopen_dev_null makes stdio that is the host's /dev/null the container's
 * /dev/null, as runc's init does: CRIU cannot checkpoint a file on a mount
 * the container does not have. Only the real null device, never whatever
 * the image put at /dev/null (CVE-2025-31133); without one, or without
 * /proc to reopen it through, stdio stays as it is.
 */
static void reopen_dev_null(void)
{
	char buf[64];
	struct stat sb;
	int nfd = -1, pfd = -1;
	for (int fd = 0; fd < 3; fd++) {
		/* most stdio is pipes or a pty: nothing to open then */
		if (fstat(fd, &sb) < 0 || !S_ISCHR(sb.st_mode) || sb.st_rdev != makedev(1, 3))
			continue;
		if (pfd < 0) {
			struct stat nb;
			pfd = open("/dev/null", O_PATH | O_CLOEXEC | O_NOFOLLOW);
			if (pfd < 0)
				return;
			if (fstat(pfd, &nb) < 0 || !S_ISCHR(nb.st_mode) || nb.st_rdev != makedev(1, 3))
				break;
			if ((nfd = open(fdpath(pfd, buf), O_RDWR | O_CLOEXEC)) < 0)
				break;
		}
		if (dup3(nfd, fd, 0) < 0)
			fail(errno, "reopen /dev/null as fd %d", fd);
	}
	if (nfd >= 0)
		close(nfd);
	if (pfd >= 0)
		close(pfd);
}

static void op_pivot_root(struct op *op)
{
	need(op, 1, 0);
	if (fchdir(st.rootfd) < 0)
		fail(errno, "chdir to rootfs %s", st.rootfs);
	if (op->ints[0]) {
		/* --no-pivot: for rootfs on ramfs, where pivot_root is refused */
		char what[PATH_MAX + 64];
		if (hide_kernel_fs(st.rootfs, what, sizeof(what)) < 0)
			fail(errno, "--no-pivot: %s", what);
		if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
			fail(errno, "move rootfs %s to /", st.rootfs);
		if (chroot(".") < 0)
			fail(errno, "chroot %s", st.rootfs);
	} else {
		int oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (oldroot < 0)
			fail(errno, "open old root");
		/* pivot_root(".", ".") stacks the old root on the new one: no put_old dir needed */
		if (syscall(SYS_pivot_root, ".", ".") < 0)
			fail(errno, "pivot_root %s", st.rootfs);
		/*
		 * Work on the old root itself, not on whatever "." is now: the
		 * rslave must reach the old root's mounts only (so our unmount
		 * stays ours) and leave the container's own propagation alone.
		 */
		if (fchdir(oldroot) < 0)
			fail(errno, "chdir to old root");
		if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
			fail(errno, "make old root slave");
		if (umount2(".", MNT_DETACH) < 0)
			fail(errno, "unmount old root");
		close(oldroot);
	}
	if (chdir("/") < 0)
		fail(errno, "chdir /");
	close(st.rootfd);
	st.rootfd = -1;
	reopen_dev_null();
}

static void op_propagation(struct op *op)
{
	need(op, 1, 0);
	if (mount(NULL, "/", NULL, (unsigned long)op->ints[0], NULL) < 0)
		fail(errno, "set rootfs propagation");
}

/* open_if_exists opens a path inside the container, or returns -1 when it isn't there. */
static int open_if_exists(const char *path, const char *what)
{
	int fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT)
		fail(errno, "%s %s", what, path);
	return fd;
}

/* op_mask hides a path: a verified /dev/null over files, an empty read-only tmpfs over directories. */
static void op_mask(struct op *op)
{
	char buf[64], nbuf[64];
	struct stat sb, nb;
	need(op, 0, 1);
	const char *path = op->strs[0];
	int fd = open_if_exists(path, "mask");
	if (fd < 0)
		return;
	if (fstat(fd, &sb) < 0)
		fail(errno, "mask %s: stat", path);
	if (S_ISDIR(sb.st_mode)) {
		/* as runc: every masked directory shows the same empty read-only tmpfs */
		if (st.masktmpfs < 0) {
			if (mount("tmpfs", fdpath(fd, buf), "tmpfs", MS_RDONLY, "size=0k") < 0)
				fail(errno, "mask %s", path);
			st.masktmpfs = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (st.masktmpfs < 0)
				fail(errno, "mask %s: reopen", path);
		} else {
			if (mount(fdpath(st.masktmpfs, nbuf), fdpath(fd, buf), NULL, MS_BIND, NULL) < 0)
				fail(errno, "mask %s", path);
			close(fd);
			fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
			if (fd < 0 || remount(fdpath(fd, buf), fd, MS_RDONLY) < 0)
				fail(errno, "mask %s: remount read-only", path);
		}
	} else {
		/* bind only the real /dev/null, never whatever the image put there (CVE-2025-31133) */
		int nfd = open("/dev/null", O_PATH | O_CLOEXEC | O_NOFOLLOW);
		if (nfd < 0 || fstat(nfd, &nb) < 0)
			fail(errno, "mask %s: open /dev/null", path);
		if (!S_ISCHR(nb.st_mode) || nb.st_rdev != makedev(1, 3))
			fail(0, "mask %s: /dev/null is not the null device", path);
		if (mount(fdpath(nfd, nbuf), fdpath(fd, buf), NULL, MS_BIND, NULL) < 0)
			fail(errno, "mask %s", path);
		close(nfd);
	}
	close(fd);
}

static void op_readonly(struct op *op)
{
	char buf[64];
	need(op, 0, 1);
	const char *path = op->strs[0];
	int fd = open_if_exists(path, "readonly path");
	if (fd < 0)
		return;
	if (mount(fdpath(fd, buf), fdpath(fd, buf), NULL, MS_BIND | MS_REC, NULL) < 0)
		fail(errno, "readonly path %s: bind", path);
	close(fd);
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0 || remount(fdpath(fd, buf), fd, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC) < 0)
		fail(errno, "readonly path %s: remount", path);
	close(fd);
}

/* op_remount_ro makes one mount read-only in place, keeping its other flags. */
static void op_remount_ro(struct op *op)
{
	char buf[64];
	need(op, 0, 1);
	int fd = open(op->strs[0], O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || mount(NULL, fdpath(fd, buf), NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | mount_flags(fd), NULL) < 0)
		fail(errno, "remount %s read-only", op->strs[0]);
	close(fd);
}

static void op_console(struct op *op)
{
	char name[64];
	need(op, 4, 0);
	int sock = (int)op->ints[0];
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		fail(errno, "console: open /dev/ptmx");
	int unlock = 0;
	if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
		fail(errno, "console: unlockpt");
	/* the slave comes from the master itself, not from a path the image controls (CVE-2025-52565) */
	int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
	if (slave < 0)
		fail(errno, "console: open pty peer");
	unsigned int n;
	if (ioctl(master, TIOCGPTN, &n) < 0)
		fail(errno, "console: ptsname");
	snprintf(name, sizeof(name), "/dev/pts/%u", n);
	if (op->ints[1] || op->ints[2]) {
		struct winsize ws = { .ws_row = op->ints[1], .ws_col = op->ints[2] };
		if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
			fail(errno, "console: set size");
	}
	/*
	 * The process's terminal is its own, as runc's fixStdioPermissions
	 * makes it: owned by the process's user, the group left as devpts
	 * gave it (gid=5, tty). An unmapped id, a read-only /dev: left alone.
	 */
	if (op->nints > 4 && fchown(slave, (uid_t)op->ints[4], -1) < 0 &&
	    errno != EINVAL && errno != EPERM && errno != EROFS)
		fail(errno, "console: chown %s", name);
	if (op->nints > 5 && op->ints[5]) {
		struct termios tio;
		if (tcgetattr(slave, &tio) < 0)
			fail(errno, "console: tcgetattr");
		tio.c_oflag &= ~ONLCR;
		if (tcsetattr(slave, TCSANOW, &tio) < 0)
			fail(errno, "console: clear onlcr");
	}
	/* runc's protocol: one message, the pty name as data, the master as SCM_RIGHTS */
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	struct iovec iov = { name, strlen(name) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &master, sizeof(int));
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
		fail(errno, "console: send pty master");
	close(master);
	close(sock);
	/* the pty becomes the process's controlling terminal (of the session
	 * main made) and stdio, and /dev/console */
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		fail(errno, "console: set controlling terminal");
	for (int i = 0; i < 3; i++)
		if (dup2(slave, i) < 0)
			fail(errno, "console: dup2");
	if (!op->ints[3]) { /* exec: the container's /dev/console stays its init's */
		if (slave > 2)
			close(slave);
		return;
	}
	char buf[64], sbuf[64];
	int cfd = open("/dev/console", O_PATH | O_CLOEXEC | O_NOFOLLOW);
	if (cfd < 0 && errno == ENOENT) {
		if (mknod("/dev/console", S_IFREG | 0600, 0) < 0 && errno != EEXIST)
			fail(errno, "console: create /dev/console");
		cfd = open("/dev/console", O_PATH | O_CLOEXEC | O_NOFOLLOW);
	}
	if (cfd < 0)
		fail(errno, "console: open /dev/console");
	if (mount(fdpath(slave, sbuf), fdpath(cfd, buf), NULL, MS_BIND, NULL) < 0)
		fail(errno, "console: bind %s on /dev/console", name);
	close(cfd);
	if (slave > 2)
		close(slave);
}

static void op_rlimit(struct op *op)
{
	need(op, 3, 1);
	struct rlimit rl = { .rlim_cur = op->ints[1], .rlim_max = op->ints[2] };
	if (setrlimit((int)op->ints[0], &rl) < 0)
		fail(errno, "setrlimit %s (soft %llu, hard %llu)", op->strs[0],
		     (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
}

static void op_chdir(struct op *op)
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
static void op_identity(struct op *op)
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
static void op_caps(struct op *op)
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
static void op_lookpath(struct op *op)
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

static void die_of_signals(void)
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

static void op_seccomp(struct op *op)
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
static void op_close_fds(struct op *op)
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

static void op_exec(struct op *op)
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

/* ---- runtime-spec 1.3 ------------------------------------------------------ */

/*
 * op_mount_attr applies recursive attributes (rro, rnosuid, ...) to the mount
 * at a destination and every mount below it, through mount_setattr(2) on
 * the fd of that mount, resolved inside the rootfs.
 */
static void op_mount_attr(struct op *op)
{
	need(op, 3, 1);
	const char *dst = op->strs[0];
	int fd = open_in_root(dst, O_PATH);
	if (fd < 0)
		fail(errno, "mount %s: reopen for recursive attributes", dst);
	if (set_mount_attr(fd, (int)op->ints[2], op->ints[0], op->ints[1], 0) < 0)
		fail(errno, "mount %s: set recursive attributes (mount_setattr 0x%llx/0x%llx)", dst,
		     (unsigned long long)op->ints[0], (unsigned long long)op->ints[1]);
	close(fd);
}

/* recv_fd takes the next descriptor the parent sends. */
static int recv_fd(const char *what)
{
	char c, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &c, 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	ssize_t n;
	do
		n = recvmsg(st.sync, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n != 1)
		fail(n < 0 ? errno : 0, "%s: receive its descriptor from the runtime", what);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS || cm->cmsg_len != CMSG_LEN(sizeof(int)))
		fail(0, "%s: the runtime sent no descriptor", what);
	int fd;
	memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	return fd;
}

/*
 * op_idmap_mount attaches a tree the parent made (idmapping needs
 * privileges over the host's filesystem that we lack in the container's
 * user namespace) onto the destination, resolved inside the rootfs. The
 * parent opens the source when we ask, in our mount namespace: as runc, a
 * source the config's earlier mounts made is found there.
 */
static void op_idmap_mount(struct op *op)
{
	need(op, 3, 2);
	const char *src = op->strs[0], *dst = op->strs[1];
	send_msg(SYNC_TREE, NULL, 0);
	int tree = recv_fd("bind mount source");
	int fd = mount_point((int)op->ints[0], tree, "", src, dst);
	if (move_tree(tree, fd) < 0)
		fail(errno, "idmapped mount %s on %s: move_mount", src, dst);
	close(fd);
	close(tree);
	mount_finish(dst, op->ints[1], op->ints[2], op->nints > 3 ? op->ints[3] : 0, op->nints > 4 ? (int)op->ints[4] : 0);
}

/*
 * op_tmpcopyup mounts a tmpfs over a directory of the image and copies the
 * directory's tree into it, through the fd of the directory it covers.
 */
static void op_tmpcopyup(struct op *op)
{
	char buf[64], where[NAME_MAX + 1];
	need(op, 3, 2);
	const char *dst = op->strs[0], *data = op->strs[1];
	int fd = mkdir_all(dst, 0755);
	if (fd < 0)
		fail(errno, "tmpcopyup %s: create mount point", dst);
	int old = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (old < 0)
		fail(errno, "tmpcopyup %s: open the image's directory", dst);
	if (mount("tmpfs", fdpath(fd, buf), "tmpfs", op->ints[0], *data ? data : NULL) < 0)
		fail(errno, "mount tmpfs on %s", dst);
	close(fd);
	int new = open_in_root(dst, O_RDONLY | O_DIRECTORY);
	if (new < 0)
		fail(errno, "tmpcopyup %s: open the new tmpfs", dst);
	if (copy_tree(old, new, where, sizeof(where)) < 0)
		fail(errno, "tmpcopyup %s: copy %s", dst, where);
	close(old);
	close(new);
	mount_finish(dst, op->ints[1], op->ints[2], 0, 0);
}

/* sched_setattr(2)'s argument (SCHED_ATTR_SIZE_VER0); musl has no declaration */
struct casco_sched_attr {
	uint32_t size, policy;
	uint64_t flags;
	int32_t nice;
	uint32_t priority;
	uint64_t runtime, deadline, period;
};

static void op_sched(struct op *op)
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

static void op_ioprio(struct op *op)
{
	need(op, 1, 0);
	if (syscall(SYS_ioprio_set, 1 /* IOPRIO_WHO_PROCESS */, 0, (int)op->ints[0]) < 0)
		fail(errno, "process.ioPriority: ioprio_set (class %d, priority %d)",
		     (int)(op->ints[0] >> 13), (int)(op->ints[0] & 7));
}

/* the affinity the kernel gave us, kept when execCPUAffinity.initial replaces it */
static uint64_t born_affinity[128];
static long born_affinity_len = -1;

static void op_cpu_affinity(struct op *op)
{
	need(op, 1, 0);
	uint32_t n = op->ints[0];
	need(op, 1 + n, 0);
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

static void op_mempolicy(struct op *op)
{
	need(op, 2, 0);
	uint64_t n = op->ints[1];
	need(op, 2 + n, 0);
	/* maxnode counts bits plus one: the kernel reads maxnode - 1 of them */
	if (syscall(SYS_set_mempolicy, (int)op->ints[0], n ? &op->ints[2] : NULL, n ? n * 64 + 1 : 0) < 0)
		fail(errno, "linux.memoryPolicy: set_mempolicy (mode 0x%llx)", (unsigned long long)op->ints[0]);
}

static void run(struct op *op)
{
	switch (op->code) {
	case OP_SETNS: op_setns(op); break;
	case OP_UNSHARE: op_unshare(op); break;
	case OP_TIMENS: op_timens(op); break;
	case OP_FORK: op_fork(); break;
	case OP_ROOTFS: op_rootfs(op); break;
	case OP_MOUNT: op_mount(op); break;
	case OP_MKNOD: op_mknod(op); break;
	case OP_BINDDEV: op_binddev(op); break;
	case OP_SYMLINK: op_symlink(op); break;
	case OP_SYNC_HOOKS: send_msg(SYNC_HOOKS, NULL, 0); wait_parent(); break;
	case OP_HOOK: op_hook(op); break;
	case OP_PIVOT_ROOT: op_pivot_root(op); break;
	case OP_PROPAGATION: op_propagation(op); break;
	case OP_MASK: op_mask(op); break;
	case OP_READONLY: op_readonly(op); break;
	case OP_REMOUNT_RO: op_remount_ro(op); break;
	case OP_SYSCTL:
		need(op, 0, 2);
		write_file(op->strs[0], op->strs[1], op->lens[1] - 1);
		break;
	case OP_HOSTNAME:
		need(op, 0, 1);
		if (sethostname(op->strs[0], op->lens[0] - 1) < 0)
			fail(errno, "sethostname %s", op->strs[0]);
		break;
	case OP_DOMAINNAME:
		need(op, 0, 1);
		if (setdomainname(op->strs[0], op->lens[0] - 1) < 0)
			fail(errno, "setdomainname %s", op->strs[0]);
		break;
	case OP_CONSOLE: op_console(op); break;
	case OP_RLIMIT: op_rlimit(op); break;
	case OP_CHDIR: op_chdir(op); break;
	case OP_IDENTITY: op_identity(op); break;
	case OP_CAPS: op_caps(op); break;
	case OP_MOUNT_ATTR: op_mount_attr(op); break;
	case OP_IDMAP_MOUNT: op_idmap_mount(op); break;
	case OP_TMPCOPYUP: op_tmpcopyup(op); break;
	case OP_SCHED: op_sched(op); break;
	case OP_IOPRIO: op_ioprio(op); break;
	case OP_CPU_AFFINITY: op_cpu_affinity(op); break;
	case OP_MEMPOLICY: op_mempolicy(op); break;
	case OP_PERSONALITY:
		need(op, 1, 0);
		if (personality((unsigned long)op->ints[0]) < 0)
			fail(errno, "linux.personality: personality(0x%llx)", (unsigned long long)op->ints[0]);
		break;
	case OP_CGROUP_JOIN:
		/* a thread moving itself skips the kernel's global threadgroup lock */
		for (uint32_t i = 0; i < op->nints; i++) {
			if (write((int)op->ints[i], "0", 1) != 1)
				fail(errno, "join cgroup (tasks fd %d)", (int)op->ints[i]);
			close((int)op->ints[i]);
		}
		break;
	case OP_UMASK: need(op, 1, 0); umask((mode_t)op->ints[0]); break;
	case OP_NO_NEW_PRIVS:
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			fail(errno, "set no_new_privs");
		break;
	case OP_APPARMOR: {
		char buf[4096];
		need(op, 0, 1);
		int n = snprintf(buf, sizeof(buf), "exec %s", op->strs[0]);
		write_file("/proc/self/attr/apparmor/exec", buf, n);
		break;
	}
	case OP_LOOKPATH: op_lookpath(op); break;
	case OP_READY:
		/* ready (and parked next) it holds nothing but stdio, its socket
		 * and the fifo's fd, as runc's init */
		if (st.masktmpfs >= 0) {
			close(st.masktmpfs);
			st.masktmpfs = -1;
		}
		if (tracing)
			send_msg(SYNC_TRACE, trace_ns, sizeof(trace_ns));
		send_msg(SYNC_READY, NULL, 0);
		break;
	case OP_TRACE: tracing = 1; break;
	case OP_CHROOT:
		need(op, 0, 1);
		/* without a mount namespace nothing mounts /proc inside: keep a way to the fifo */
		st.procfd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (chroot(op->strs[0]) < 0 || chdir("/") < 0)
			fail(errno, "chroot %s", op->strs[0]);
		break;
	case OP_WAIT_FIFO: op_wait_fifo(op); break;
	case OP_SECCOMP: op_seccomp(op); break;
	case OP_CLOSE_FDS: op_close_fds(op); break;
	case OP_EXEC: op_exec(op); break;
	case OP_KEYRING:
		need(op, 0, 1);
		/* a keyring of its own: the host's session keys stay out of reach */
		if (syscall(SYS_keyctl, 1 /* KEYCTL_JOIN_SESSION_KEYRING */, op->strs[0]) < 0 && errno != ENOSYS)
			fail(errno, "join session keyring %s", op->strs[0]);
		break;
	default: fail(0, "init: unknown plan operation %u", op->code);
	}
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
