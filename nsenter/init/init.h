/*
 * init.h: what the files of casco-init share: the interpreter's state, an
 * operation of the plan, and the helpers every operation uses. Each file
 * holds one subject; main.c dispatches the plan's operations to them.
 */
#ifndef CASCO_INIT_H
#define CASCO_INIT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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

extern struct init st;

/* one operation of the plan; its strings end in the NUL their length counts */
struct op {
	uint32_t code, nints, nstrs;
	uint64_t *ints;
	char **strs;
	uint32_t *lens;
};

/* what is left of the plan to read */
struct cursor {
	char *p, *end;
};

/* plan.c: reading the plan */
void next_op(struct cursor *c, struct op *op);
void need(struct op *op, uint32_t nints, uint32_t nstrs);

/* sync.c: talking to the parent */
int send_msg(char type, const void *data, uint32_t len);
void __attribute__((noreturn, format(printf, 2, 3))) fail(int err, const char *fmt, ...);
void read_full(int fd, void *buf, size_t n);
void wait_parent(void);
int recv_fd(const char *what);

/* paths.c: paths inside the rootfs, files in /proc */
int open_in_root(const char *path, int flags);
void split(const char *path, char *parent, char *base);
int mkdir_all(const char *path, mode_t mode);
int create_file(const char *path);
const char *fdpath(int fd, char *buf);
void write_file(const char *path, const char *data, size_t len);

/* main.c */
uint64_t now_ns(void);

/* namespaces.c: read every namespace file before the first setns */
void open_namespaces(char *plan, uint32_t len);

/* process.c: until the exec, a signal ends the init as it would runc's */
void die_of_signals(void);

/* the operations, one per op code of plan.h (main.c's table) */
void op_setns(struct op *op);
void op_unshare(struct op *op);
void op_timens(struct op *op);
void op_fork(struct op *op);
void op_hostname(struct op *op);
void op_domainname(struct op *op);
void op_sysctl(struct op *op);

void op_rootfs(struct op *op);
void op_pivot_root(struct op *op);
void op_propagation(struct op *op);
void op_chroot(struct op *op);

void op_mount(struct op *op);
void op_mknod(struct op *op);
void op_binddev(struct op *op);
void op_symlink(struct op *op);
void op_mount_attr(struct op *op);
void op_idmap_mount(struct op *op);
void op_tmpcopyup(struct op *op);
void op_mask(struct op *op);
void op_readonly(struct op *op);
void op_remount_ro(struct op *op);

void op_sync_hooks(struct op *op);
void op_hook(struct op *op);

void op_console(struct op *op);

void op_rlimit(struct op *op);
void op_chdir(struct op *op);
void op_identity(struct op *op);
void op_caps(struct op *op);
void op_lookpath(struct op *op);
void op_seccomp(struct op *op);
void op_close_fds(struct op *op);
void op_exec(struct op *op);
void op_sched(struct op *op);
void op_ioprio(struct op *op);
void op_cpu_affinity(struct op *op);
void op_mempolicy(struct op *op);
void op_report_affinity(struct op *op);
void op_personality(struct op *op);
void op_cgroup_join(struct op *op);
void op_umask(struct op *op);
void op_no_new_privs(struct op *op);
void op_apparmor(struct op *op);
void op_keyring(struct op *op);

#endif
