/*
 * The plan: the list of plain operations the Go parent decided on and the
 * container's init carries out before it execs the user process.
 *
 * Wire format (native endian), one record per operation:
 *   u32 op, u32 nints, u32 nstrs, u64 ints[nints],
 *   then nstrs times: u32 len, len bytes (the Go side ends every string
 *   with a NUL that len counts, so strings can be used in place).
 * The plan itself is preceded by its total length as a u32.
 *
 * libcontainer/plan/plan.go holds the same values; TestContractMatchesInitHeader
 * (libcontainer/plan/contract_test.go) fails when the two differ.
 */
#ifndef CASCO_PLAN_H
#define CASCO_PLAN_H

enum casco_op {
	OP_SETNS = 1,        /* ints: nstype            strs: path */
	OP_UNSHARE,          /* ints: flags */
	OP_TIMENS,           /* strs: timens_offsets content */
	OP_FORK,             /* after joining a pid namespace: continue in a child */
	OP_MOUNT,            /* ints: flags, kind, remount_flags, propagation  strs: src, dst (in rootfs), fstype, data */
	OP_ROOTFS,           /* ints: root propagation, the rootfs parent's  strs: rootfs path (bind it onto itself, open it) */
	OP_MKNOD,            /* ints: mode, dev, uid, gid  strs: path in rootfs */
	OP_BINDDEV,          /* strs: host device path, path in rootfs */
	OP_SYMLINK,          /* strs: target, path in rootfs */
	OP_SYNC_HOOKS,       /* tell the parent to run prestart/createRuntime hooks and wait */
	OP_HOOK,             /* ints: timeout, nargs, nenv  strs: kind, path, args..., env..., state */
	OP_PIVOT_ROOT,       /* ints: no_pivot */
	OP_PROPAGATION,      /* ints: flags (applied to / after pivot_root) */
	OP_MASK,             /* strs: path */
	OP_READONLY,         /* strs: path */
	OP_REMOUNT_RO,       /* strs: mount point (after pivot_root) */
	OP_SYSCTL,           /* strs: /proc/sys path, value */
	OP_HOSTNAME,         /* strs: name */
	OP_DOMAINNAME,       /* strs: name */
	OP_CONSOLE,          /* ints: socket fd, rows, cols, bind /dev/console */
	OP_RLIMIT,           /* ints: resource, soft, hard */
	OP_CHDIR,            /* strs: dir */
	OP_IDENTITY,         /* ints: uid, gid, set_groups, ngroups, groups..., bounding */
	OP_UMASK,            /* ints: mask */
	OP_NO_NEW_PRIVS,
	OP_APPARMOR,         /* strs: profile */
	OP_LOOKPATH,         /* strs: PATH, argv0 */
	OP_READY,            /* tell the parent we are parked */
	OP_WAIT_FIFO,        /* ints: fd of the exec fifo (O_PATH) */
	OP_SECCOMP,          /* ints: flags, notify (hand the fd to the parent)  strs: program */
	OP_CLOSE_FDS,        /* ints: first fd to close on exec */
	OP_EXEC,             /* ints: nargs, nenv  strs: args..., env... */
	OP_KEYRING,          /* strs: session keyring name */
	OP_TRACE,            /* time every operation; the totals go to the parent with READY */
	OP_CHROOT,           /* strs: rootfs (no mount namespace: nothing is mounted) */
	OP_CAPS,             /* ints: effective, permitted, inheritable, ambient */
	OP_CGROUP_JOIN,      /* ints: fds of v1 "tasks" files to write "0" to */
	/* mount attributes, idmapped and tmpcopyup mounts; the process's scheduling,
	 * I/O priority, CPU affinity, personality and memory policy */
	OP_MOUNT_ATTR,       /* ints: attr_set, attr_clr, recursive  strs: mount point in rootfs */
	OP_IDMAP_MOUNT,      /* ints: kind  strs: source (for errors), mount point in rootfs; the idmapped tree's fd follows the plan on the sync socket */
	OP_TMPCOPYUP,        /* strs: mount point in rootfs (a fresh tmpfs) */
	OP_IOPRIO,           /* ints: ioprio value (class << 13 | level) */
	OP_SCHED,            /* ints: policy, flags, nice, priority, runtime, deadline, period */
	OP_CPU_AFFINITY,     /* ints: nwords, mask words...; nwords 0: back to the affinity we were born with, or (0, 1) every CPU */
	OP_PERSONALITY,      /* ints: persona */
	OP_MEMPOLICY,        /* ints: mode (with flags), maxnode, mask words... */
	OP_REPORT_AFFINITY,  /* ints: when (a label the parent gave): send SYNC_AFFINITY */
	OP_MAX
};

/* mount kinds: what to create at the destination before mounting */
enum casco_mount_kind {
	MNT_DIR = 0,
	MNT_FILE = 1,
	MNT_AUTO = 2, /* a bind source only the container's mount namespace has: stat it there */
};

/* OP_MOUNT ints[4], optional: what else the init does around the mount */
#define MOUNT_INHERIT_MODE 1 /* tmpfs without mode=: keep the mode of the directory it covers */
#define MOUNT_ORDINARY_DIR 2 /* proc, sysfs: refuse a destination that is a symlink or no directory */

/* sync messages from init to parent: one type byte, u32 length, payload */
#define SYNC_ERROR 'E'
#define SYNC_HOOKS 'H'
#define SYNC_READY 'R'
#define SYNC_PID   'P'
#define SYNC_TRACE 'T'  /* u64 nanoseconds and count per op code */
#define SYNC_SECCOMP 'S' /* i32 notify fd number: the parent fetches it with pidfd_getfd */
#define SYNC_TREE  'M'  /* the next bind's tree, which the parent opens in our mount namespace */
#define SYNC_AFFINITY 'A' /* u8 label, then the CPU mask sched_getaffinity returned (none if it failed) */
/* from parent to init */
#define SYNC_GO    'G'

#endif
