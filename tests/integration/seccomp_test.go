package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/casco-runtime/casco/tests/internal/harness"
)

// Seccomp with real containers. Every verdict is read from inside the
// container: busybox applets print the errno text of the syscall they were
// refused, a small static Go program (testdata/seccompagent, "probe" mode)
// prints the errno name of syscalls no applet makes (openat2, clone3...), and
// the same program as a notify agent records what the runtime handed it.
//
// The root stays writable in these bundles: with the default read-only root,
// busybox's mkdir would fail with EROFS whatever the filter does.

// seccompHelper builds testdata/seccompagent once per run (static, so it runs
// in the busybox rootfs) and returns its path.
var seccompHelper = sync.OnceValues(func() (string, error) {
	// a prebuilt one, where there is no Go toolchain (the v2 guest)
	if p := os.Getenv("SECCOMPAGENT"); p != "" {
		return p, nil
	}
	out := filepath.Join(topDir, "seccompagent")
	// `go test` puts its own toolchain first in PATH
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go"
	}
	cmd := exec.Command(goBin, "build", "-o", out, "./testdata/seccompagent")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./testdata/seccompagent: %v\n%s", err, msg)
	}
	return out, nil
})

func mustSeccompHelper(t *testing.T) string {
	t.Helper()
	p, err := seccompHelper()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// seccompBundle is a busybox bundle with a writable root and the profile.
func seccompBundle(t *testing.T, sc *specs.LinuxSeccomp, args ...string) *bundle {
	t.Helper()
	b := newBundle(t, args...)
	b.Spec.Root.Readonly = false
	b.Spec.Linux.Seccomp = sc
	return b
}

// addProbe puts the static probe at /bin/probe in the rootfs.
func (b *bundle) addProbe(t *testing.T) {
	t.Helper()
	helper := mustSeccompHelper(t)
	dst := filepath.Join(b.Rootfs, "bin", "probe")
	if err := os.Link(helper, dst); err != nil {
		if err := harness.CopyFile(helper, dst, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func errnoRet(e syscall.Errno) *uint { v := uint(e); return &v }

// isRunc: the runtime under test is runc (for its documented gaps).
func isRunc() bool { return strings.HasPrefix(runtimeVersion(), "runc version ") }

// probeResults parses the probe's "call RESULT" lines.
func probeResults(out string) map[string]string {
	m := map[string]string{}
	for _, l := range lines(out) {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), " "); ok {
			m[k] = v
		}
	}
	return m
}

// wantProbe checks the probe's verdict on each call.
func wantProbe(t *testing.T, res result, want map[string]string) {
	t.Helper()
	got := probeResults(res.Stdout)
	for call, w := range want {
		if got[call] != w {
			t.Errorf("probe %s: got %q, want %q\n%s", call, got[call], w, res)
		}
	}
}

// seccompRun runs the bundle in the foreground (`run`), which must remove
// the container when its process exits. A runtime that hangs is killed
// after 8s (these containers take well under a second). Processes and
// cgroups of the container that survive `run` fail the test and are
// removed here, so that they do not disturb the rest of the run.
func seccompRun(t *testing.T, r *runtime, b *bundle) (string, result) {
	t.Helper()
	id := newID(t)
	return id, seccompRunID(t, r, b, id)
}

func seccompRunID(t *testing.T, r *runtime, b *bundle, id string) result {
	t.Helper()
	b.save(t)
	r.trackCleanup(id)
	res := r.exec(runOpts{timeout: defaultTimeout}, "run", "--bundle", b.Dir, id)
	if res.Err != nil {
		t.Errorf("run did not finish: %s", res)
	}
	killContainerLeftovers(t, id)
	return res
}

// killContainerLeftovers fails the test for, SIGKILLs and removes the
// processes and cgroups left of container id (casco's /casco/<id>, runc's
// /<id>).
func killContainerLeftovers(t *testing.T, id string) {
	t.Helper()
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || !harness.Alive(pid) {
			continue
		}
		if cg, err := procCgroups(pid); err == nil {
			for _, path := range cg {
				if strings.HasSuffix(path, "/"+id) {
					t.Errorf("killing process %d %q left in cgroup %s", pid, harness.Cmdline(pid), path)
					syscall.Kill(pid, syscall.SIGKILL)
					break
				}
			}
		}
	}
	for _, name := range []string{filepath.Join("casco", id), id} {
		for _, dir := range cgroupCandidates(t, name) {
			if _, err := os.Stat(dir); err != nil {
				continue
			}
			t.Errorf("removing cgroup %s left behind", dir)
			harness.Poll(defaultTimeout, func() bool { err := syscall.Rmdir(dir); return err == nil || err == syscall.ENOENT })
		}
	}
}

// runCode runs the bundle in the foreground and fails unless the
// container's exit code is want.
func runCode(t *testing.T, r *runtime, b *bundle, want int) result {
	t.Helper()
	_, res := seccompRun(t, r, b)
	if res.Err != nil || res.Code != want {
		t.Fatalf("want the container to exit %d: %s", want, res)
	}
	return res
}

func noDir(t *testing.T, b *bundle, p string) {
	t.Helper()
	if _, err := os.Lstat(filepath.Join(b.Rootfs, p)); err == nil {
		t.Errorf("%s was created in the rootfs although the filter refused it", p)
	}
}

const (
	// strerror texts as busybox (glibc) prints them
	txtENOSYS = "Function not implemented"
	txtEPERM  = "Operation not permitted"
	txtEROFS  = "Read-only file system"
	txtEDQUOT = "Disk quota exceeded"
	txtEAFNO  = "Address family not supported by protocol"
)

// mkdirRule is mkdir and mkdirat (libc may use either) with one action.
func mkdirRule(act specs.LinuxSeccompAction, ret *uint) specs.LinuxSyscall {
	return specs.LinuxSyscall{Names: []string{"mkdir", "mkdirat"}, Action: act, ErrnoRet: ret}
}

// TestSeccompErrno: SCMP_ACT_ERRNO returns the errnoRet asked for, EPERM
// without one, and "success" for errnoRet 0 (the syscall is not made).
func TestSeccompErrno(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		ret  *uint
		code int
		text string
	}{
		{"enosys-38", errnoRet(syscall.ENOSYS), 1, txtENOSYS},
		{"default-eperm", nil, 1, txtEPERM},
		{"erofs", errnoRet(syscall.EROFS), 1, txtEROFS},
		{"zero-fakes-success", errnoRet(0), 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			b := seccompBundle(t, &specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow,
				Syscalls:      []specs.LinuxSyscall{mkdirRule(specs.ActErrno, tc.ret)},
			}, "mkdir", "/tmp/x")
			res := runCode(t, r, b, tc.code)
			if tc.text != "" && !strings.Contains(res.Stderr, "/tmp/x': "+tc.text) {
				t.Errorf("busybox mkdir should print %q: %s", tc.text, res)
			}
			noDir(t, b, "tmp/x")
		})
	}
	// The filter refuses only what it names: the same container makes
	// files, and mkdir's error stops nothing else.
	t.Run("only-mkdir", func(t *testing.T) {
		t.Parallel()
		r := newRuntime(t)
		b := seccompBundle(t, &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Syscalls:      []specs.LinuxSyscall{mkdirRule(specs.ActErrno, errnoRet(syscall.ENOSYS))},
		}, "sh", "-c", "mkdir /tmp/x; echo mkdir=$?; touch /tmp/f && echo touch=$?; rmdir /tmp/d && echo rmdir=$?")
		if err := os.Mkdir(filepath.Join(b.Rootfs, "tmp", "d"), 0o755); err != nil {
			t.Fatal(err)
		}
		res := runCode(t, r, b, 0)
		if want := "mkdir=1\ntouch=0\nrmdir=0\n"; res.Stdout != want {
			t.Errorf("stdout %q, want %q: %s", res.Stdout, want, res)
		}
		if !strings.Contains(res.Stderr, txtENOSYS) {
			t.Errorf("mkdir should print %q: %s", txtENOSYS, res)
		}
	})
}

// TestSeccompKill: the KILL actions end the process with SIGSYS, which
// `run` reports as 128+31.
func TestSeccompKill(t *testing.T) {
	t.Parallel()
	const sigsysCode = 128 + int(syscall.SIGSYS)
	for _, act := range []specs.LinuxSeccompAction{specs.ActKill, specs.ActKillThread, specs.ActKillProcess} {
		t.Run(string(act), func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			// exec: mkdir runs as the container's process itself, not a child
			b := seccompBundle(t, &specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow,
				Syscalls:      []specs.LinuxSyscall{mkdirRule(act, nil)},
			}, "sh", "-c", "echo before; exec mkdir /tmp/x; echo after")
			res := runCode(t, r, b, sigsysCode)
			if res.Stdout != "before\n" {
				t.Errorf("stdout %q, want only %q: %s", res.Stdout, "before\n", res)
			}
			noDir(t, b, "tmp/x")
		})
	}
	// KILL_PROCESS takes down every thread: the probe is a Go program with
	// several threads, and the one that calls sysinfo is not the only one.
	t.Run("KILL_PROCESS-multithreaded", func(t *testing.T) {
		t.Parallel()
		r := newRuntime(t)
		b := seccompBundle(t, &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			Syscalls:      []specs.LinuxSyscall{{Names: []string{"sysinfo"}, Action: specs.ActKillProcess}},
		}, "/bin/probe", "getpid", "sysinfo", "getpid")
		b.addProbe(t)
		res := runCode(t, r, b, sigsysCode)
		if res.Stdout != "getpid OK\n" {
			t.Errorf("stdout %q, want only %q: %s", res.Stdout, "getpid OK\n", res)
		}
	})
}

// TestSeccompArgs: argument conditions select the calls they name and no
// others: EQ on one argument, and EQ with MASKED_EQ on two (ANDed).
func TestSeccompArgs(t *testing.T) {
	t.Parallel()
	const (
		afUnix, afInet = 1, 2
		sockDgram      = 2
		perLinux32     = 8
	)
	r := newRuntime(t)
	b := seccompBundle(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"socket"}, Action: specs.ActErrno, ErrnoRet: errnoRet(syscall.EAFNOSUPPORT),
				Args: []specs.LinuxSeccompArg{{Index: 0, Value: afInet, Op: specs.OpEqualTo}}},
			{Names: []string{"socket"}, Action: specs.ActErrno, ErrnoRet: errnoRet(syscall.EPROTONOSUPPORT),
				Args: []specs.LinuxSeccompArg{
					{Index: 0, Value: afUnix, Op: specs.OpEqualTo},
					{Index: 1, Value: 0xf, ValueTwo: sockDgram, Op: specs.OpMaskedEqual}, // the type without SOCK_CLOEXEC/NONBLOCK
				}},
			{Names: []string{"personality"}, Action: specs.ActErrno,
				Args: []specs.LinuxSeccompArg{{Index: 0, Value: perLinux32, Op: specs.OpEqualTo}}},
		},
	}, "sh", "-c", `nc -w 1 127.0.0.1 9 </dev/null; echo "nc=$?"
linux32 true; echo "linux32=$?"
linux64 true; echo "linux64=$?"
probe socket=1,1,0 socket=1,5,0 socket=1,2,0 socket=1,0x80002,0 socket=2,1,0 socket=2,2,0 personality=0xffffffff personality=8 personality=0`)
	b.addProbe(t)
	res := runCode(t, r, b, 0)
	for _, l := range []string{"nc=1", "linux32=1", "linux64=0"} {
		if !slices.Contains(lines(res.Stdout), l) {
			t.Errorf("stdout should have %q: %s", l, res)
		}
	}
	if !strings.Contains(res.Stderr, "socket: "+txtEAFNO) {
		t.Errorf("nc should fail in socket(AF_INET) with %q: %s", txtEAFNO, res)
	}
	if !strings.Contains(res.Stderr, txtEPERM) {
		t.Errorf("linux32 should fail in personality with %q: %s", txtEPERM, res)
	}
	wantProbe(t, res, map[string]string{
		"socket=1,1,0":           "OK",              // AF_UNIX stream
		"socket=1,5,0":           "OK",              // AF_UNIX seqpacket
		"socket=1,2,0":           "EPROTONOSUPPORT", // AF_UNIX dgram
		"socket=1,0x80002,0":     "EPROTONOSUPPORT", // dgram|SOCK_CLOEXEC: the mask
		"socket=2,1,0":           "EAFNOSUPPORT",    // AF_INET
		"socket=2,2,0":           "EAFNOSUPPORT",
		"personality=0xffffffff": "OK", // the query
		"personality=8":          "EPERM",
		"personality=0":          "OK",
	})
}

// classicSyscalls is an allow-list for busybox and the Go probe made only of
// syscalls older than rseq (334 on x86_64, the newest one named). It leaves
// out mkdir/mkdirat and sysinfo, which then get the default action.
var classicSyscalls = []string{
	"read", "write", "open", "close", "stat", "fstat", "lstat", "newfstatat", "statx", "poll", "ppoll",
	"lseek", "mmap", "mprotect", "munmap", "brk", "rt_sigaction", "rt_sigprocmask", "rt_sigreturn",
	"rt_sigsuspend", "rt_sigtimedwait", "ioctl", "pread64", "pwrite64", "readv", "writev", "access",
	"faccessat", "pipe", "pipe2", "select", "pselect6", "sched_yield", "mremap", "madvise", "mincore",
	"dup", "dup2", "dup3", "nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres",
	"gettimeofday", "time", "times", "getpid", "getppid", "gettid", "clone", "fork", "vfork", "execve",
	"exit", "exit_group", "wait4", "waitid", "kill", "tgkill", "tkill", "uname", "fcntl", "flock",
	"fsync", "fdatasync", "ftruncate", "getdents", "getdents64", "getcwd", "chdir", "fchdir", "rename",
	"renameat", "unlink", "unlinkat", "rmdir", "link", "linkat", "symlink", "symlinkat", "readlink",
	"readlinkat", "chmod", "fchmod", "fchmodat", "chown", "fchown", "lchown", "fchownat", "umask",
	"utimensat", "getrlimit", "setrlimit", "prlimit64", "getrusage", "getuid", "getgid", "geteuid",
	"getegid", "getgroups", "getresuid", "getresgid", "setpgid", "getpgrp", "getpgid", "getsid",
	"setsid", "sigaltstack", "arch_prctl", "prctl", "futex", "set_tid_address", "set_robust_list",
	"get_robust_list", "sched_getaffinity", "getrandom", "openat", "sendfile", "statfs", "fstatfs",
	"epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait", "eventfd2",
	"capget", "getpriority", "alarm", "setitimer", "getitimer", "membarrier", "rseq",
}

// TestSeccompENOSYS: with an allow-list and a deny default, a syscall newer
// than every syscall the profile names gets ENOSYS (so libc falls back to
// the old one), an old one it does not name gets the default errno.
func TestSeccompENOSYS(t *testing.T) {
	t.Parallel()
	script := "probe getpid sysinfo openat2 faccessat2 clone3 fchmodat2; mkdir /tmp/x; echo mkdir=$?; ls /bin/probe && echo ls=$?"
	x86 := []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32} // what engines write
	cases := []struct {
		name   string
		archs  []specs.Arch
		extra  []string // allowed on top of classicSyscalls
		defRet *uint
		probe  map[string]string
		text   string // mkdir's error
	}{
		{
			name: "eperm-default", archs: x86, probe: map[string]string{
				"getpid": "OK", "sysinfo": "EPERM",
				"openat2": "ENOSYS", "faccessat2": "ENOSYS", "clone3": "ENOSYS", "fchmodat2": "ENOSYS",
			},
			text: txtEPERM,
		},
		{
			name: "defaultErrnoRet-edquot", archs: x86, defRet: errnoRet(syscall.EDQUOT), probe: map[string]string{
				"getpid": "OK", "sysinfo": "EDQUOT",
				"openat2": "ENOSYS", "faccessat2": "ENOSYS", "clone3": "ENOSYS", "fchmodat2": "ENOSYS",
			},
			text: txtEDQUOT,
		},
		{
			// Naming faccessat2 (439) moves the line: clone3 (435) and
			// openat2 (437) are now older than a named syscall and get the
			// default; fchmodat2 (452) is still newer than all of them.
			name: "newest-named-faccessat2", archs: x86, extra: []string{"faccessat2"}, probe: map[string]string{
				"getpid": "OK", "sysinfo": "EPERM",
				"openat2": "EPERM", "faccessat2": "OK", "clone3": "EPERM", "fchmodat2": "ENOSYS",
			},
			text: txtEPERM,
		},
		{
			// No architectures: the filter is for the native one, and so
			// is the stub.
			name: "native-architecture-only", probe: map[string]string{
				"getpid": "OK", "sysinfo": "EPERM",
				"openat2": "ENOSYS", "faccessat2": "ENOSYS", "clone3": "ENOSYS", "fchmodat2": "ENOSYS",
			},
			text: txtEPERM,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.archs == nil && oldRunc() {
				t.Skip("runc 1.1 adds its ENOSYS stub only for the architectures the profile lists (patchbpf findLastSyscalls)")
			}
			r := newRuntime(t)
			b := seccompBundle(t, &specs.LinuxSeccomp{
				DefaultAction:   specs.ActErrno,
				DefaultErrnoRet: tc.defRet,
				Architectures:   tc.archs,
				Syscalls: []specs.LinuxSyscall{
					{Names: append(slices.Clone(classicSyscalls), tc.extra...), Action: specs.ActAllow},
				},
			}, "sh", "-c", script)
			b.addProbe(t)
			res := runCode(t, r, b, 0)
			wantProbe(t, res, tc.probe)
			for _, l := range []string{"mkdir=1", "/bin/probe", "ls=0"} {
				if !slices.Contains(lines(res.Stdout), l) {
					t.Errorf("stdout should have %q: %s", l, res)
				}
			}
			if !strings.Contains(res.Stderr, "/tmp/x': "+tc.text) {
				t.Errorf("mkdir should print %q: %s", tc.text, res)
			}
			noDir(t, b, "tmp/x")
		})
	}
}

// TestSeccompFlags: SECCOMP_FILTER_FLAG_TSYNC and _LOG are accepted and
// the filter they come with is in force.
func TestSeccompFlags(t *testing.T) {
	t.Parallel()
	for _, flags := range [][]specs.LinuxSeccompFlag{
		{"SECCOMP_FILTER_FLAG_TSYNC"},
		{specs.LinuxSeccompFlagLog},
		{"SECCOMP_FILTER_FLAG_TSYNC", specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow},
	} {
		var names []string
		for _, f := range flags {
			names = append(names, strings.TrimPrefix(string(f), "SECCOMP_FILTER_FLAG_"))
		}
		t.Run(strings.Join(names, "+"), func(t *testing.T) {
			t.Parallel()
			if oldRunc() {
				t.Skip("runc 1.1 has no linux.seccomp.flags (\"seccomp flags are not yet supported by runc\")")
			}
			r := newRuntime(t)
			b := seccompBundle(t, &specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow,
				Flags:         flags,
				Syscalls:      []specs.LinuxSyscall{mkdirRule(specs.ActErrno, errnoRet(syscall.EROFS))},
			}, "sh", "-c", "grep '^Seccomp:' /proc/self/status; mkdir /tmp/x; echo mkdir=$?")
			res := runCode(t, r, b, 0)
			if want := "Seccomp:\t2\nmkdir=1\n"; res.Stdout != want {
				t.Errorf("stdout %q, want %q: %s", res.Stdout, want, res)
			}
			if !strings.Contains(res.Stderr, txtEROFS) {
				t.Errorf("mkdir should print %q: %s", txtEROFS, res)
			}
		})
	}
}

// runtimeSetupSyscalls are what a runtime's init uses to build the
// container and a container's process (busybox sh) does not need. A
// profile that refuses them must still give a working container: the
// filter has to be loaded after the init is done with them.
var runtimeSetupSyscalls = []string{
	"mount", "umount2", "pivot_root", "chroot", "sethostname", "setdomainname", "unshare", "setns",
	"mknod", "mknodat", "symlink", "symlinkat", "mkdir", "mkdirat", "umask", "setrlimit", "prlimit64",
	"open_tree", "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr", "openat2",
	"close_range", "keyctl", "chdir", "fchdir",
	// a container with no business on sockets; a runtime that reports to
	// its parent over a socket after loading the filter must use write(2)
	"sendmsg", "sendto", "sendmmsg",
}

// identitySyscalls change the process's credentials. Without no_new_privs
// the filter can only be loaded while the init still holds CAP_SYS_ADMIN,
// that is before these, so only the noNewPrivileges profile refuses them.
var identitySyscalls = []string{
	"setgroups", "setresuid", "setresgid", "setuid", "setgid", "setreuid", "setregid",
	"setfsuid", "setfsgid", "capset", "prctl",
}

// TestSeccompNoNewPrivileges: a restrictive profile works with and without
// noNewPrivileges, for a non-root user (the init changes identity), and is
// in force in the container's process.
func TestSeccompNoNewPrivileges(t *testing.T) {
	t.Parallel()
	for _, nnp := range []bool{false, true} {
		t.Run(fmt.Sprintf("noNewPrivileges=%v", nnp), func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			deny := slices.Clone(runtimeSetupSyscalls)
			if nnp {
				deny = append(deny, identitySyscalls...)
			} else if knownRuncBug(t, "without noNewPrivileges runc (1.1 to 1.5) changes directory (finalizeNamespace: chdir) after loading the filter") {
				deny = slices.DeleteFunc(deny, func(s string) bool { return s == "chdir" || s == "fchdir" })
			}
			b := seccompBundle(t, &specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow,
				Syscalls:      []specs.LinuxSyscall{{Names: deny, Action: specs.ActErrno}},
			}, "sh", "-c", `grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status; id -u; id -G
mkdir /tmp/x; echo mkdir=$?
ln -s x /tmp/l; echo ln=$?`)
			b.Spec.Process.NoNewPrivileges = nnp
			b.Spec.Process.User = specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{20}}
			b.Spec.Process.Cwd = "/tmp"
			b.Spec.Hostname = "seccomp"
			b.addNamespace(specs.UTSNamespace)
			// user 1000 may make both in /tmp (mode 1777): only the filter refuses them
			res := runCode(t, r, b, 0)
			nnpWant := "0"
			if nnp {
				nnpWant = "1"
			}
			want := fmt.Sprintf("NoNewPrivs:\t%s\nSeccomp:\t2\n1000\n1000 20\nmkdir=1\nln=1\n", nnpWant)
			if res.Stdout != want {
				t.Errorf("stdout %q, want %q: %s", res.Stdout, want, res)
			}
			noDir(t, b, "tmp/x")
			noDir(t, b, "tmp/l")
		})
	}
}

// ---------------------------------------------------------------------------
// The notify agent

// agentReport is testdata/seccompagent's report file.
type agentReport struct {
	Message       string `json:"message"`
	Fds           int    `json:"fds"`
	FdIsListener  bool   `json:"fdIsListener"`
	Notifications []struct {
		Pid   uint32    `json:"pid"`
		Nr    int32     `json:"nr"`
		Args  [6]uint64 `json:"args"`
		Path  string    `json:"path"`
		Errno int       `json:"errno"`
		Sent  bool      `json:"sent"`
	} `json:"notifications"`
	Errors []string `json:"errors"`
	Done   bool     `json:"done"`
}

type seccompAgent struct {
	Socket, Out string
	cmd         *exec.Cmd
	exited      chan struct{}
}

// startAgent runs the notify agent (answering every notification with
// errno) and waits until it listens. It is killed when the test ends.
// extra are more agent flags (-want-id, -want-metadata).
func startAgent(t *testing.T, errno syscall.Errno, extra ...string) *seccompAgent {
	t.Helper()
	helper := mustSeccompHelper(t)
	dir := t.TempDir()
	a := &seccompAgent{Socket: filepath.Join(dir, "agent.sock"), Out: filepath.Join(dir, "report.json"), exited: make(chan struct{})}
	a.cmd = exec.Command(helper, append([]string{"agent", "-socket", a.Socket, "-out", a.Out, "-errno", fmt.Sprint(int(errno))}, extra...)...)
	stderr, err := os.Create(filepath.Join(dir, "agent.stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()
	a.cmd.Stderr = stderr
	stdout, err := a.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- line
		a.cmd.Wait()
		close(a.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-a.exited:
		default:
			a.cmd.Process.Kill() // our own child, by its pid
			<-a.exited
		}
	})
	select {
	case line := <-ready:
		if strings.TrimSpace(line) != "ready" {
			t.Fatalf("seccomp agent did not start: %q, stderr %q", line, readFileString(stderr.Name()))
		}
	case <-time.After(defaultTimeout):
		t.Fatalf("seccomp agent did not start within %v", defaultTimeout)
	}
	return a
}

// report waits for the agent to finish (the container's filter is gone)
// and returns what it saw.
func (a *seccompAgent) report(t *testing.T) agentReport {
	t.Helper()
	select {
	case <-a.exited:
	case <-time.After(defaultTimeout):
		t.Errorf("seccomp agent still running %v after the container exited (no POLLHUP on the notify fd?)", defaultTimeout)
	}
	return a.snapshot(t)
}

// snapshot is what the agent has seen so far.
func (a *seccompAgent) snapshot(t *testing.T) agentReport {
	t.Helper()
	var rep agentReport
	data, err := os.ReadFile(a.Out)
	if err != nil {
		t.Fatalf("agent report: %v", err)
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("agent report %s: %v", data, err)
	}
	return rep
}

// TestSeccompNotify: SCMP_ACT_NOTIFY hands the agent the container process
// state and the notify fd in one SCM_RIGHTS message, and the agent's answer
// is what the container's syscall returns.
func TestSeccompNotify(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		nnp       bool
		notify    []string
		refusable string // the runtime may refuse the profile with an error naming this
	}{
		{"noNewPrivileges=true", true, []string{"mkdir", "mkdirat"}, ""},
		{"noNewPrivileges=false", false, []string{"mkdir", "mkdirat"}, ""},
		// The container never calls sendmsg. A runtime that passes the fd
		// on with sendmsg under the filter would wait forever for an agent
		// that does not have the fd yet: it must do it another way (runc:
		// pidfd_getfd from the parent) or refuse the profile, as runc and
		// casco refuse SCMP_ACT_NOTIFY on write.
		{"notify-sendmsg-too", true, []string{"sendmsg", "mkdir", "mkdirat"}, "sendmsg"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			const metadata = "casco-test=notify;mkdir=EROFS"
			id := newID(t)
			agent := startAgent(t, syscall.EROFS, "-want-id", id, "-want-metadata", metadata)
			b := seccompBundle(t, &specs.LinuxSeccomp{
				DefaultAction:    specs.ActAllow,
				ListenerPath:     agent.Socket,
				ListenerMetadata: metadata,
				Syscalls:         []specs.LinuxSyscall{{Names: tc.notify, Action: specs.ActNotify}},
			}, "mkdir", "/tmp/x")
			b.Spec.Process.NoNewPrivileges = tc.nnp
			b.Spec.Annotations = map[string]string{"seccomp.test/key": "v"}
			res := seccompRunID(t, r, b, id)
			if tc.refusable != "" && res.Err == nil && res.Code > 0 &&
				mentions(res.Stderr, "syscalls[0]") && mentions(res.Stderr, tc.refusable) && len(lines(res.Stderr)) == 1 {
				t.Logf("the runtime refuses the profile, which is fine: %s", strings.TrimSpace(res.Stderr))
				return
			}
			if res.Err != nil || res.Code != 1 || !strings.Contains(res.Stderr, "/tmp/x': "+txtEROFS) {
				t.Errorf("mkdir should fail with the agent's %q (exit 1): %s", txtEROFS, res)
			}
			noDir(t, b, "tmp/x")
			rep := agent.report(t)
			for _, e := range rep.Errors {
				t.Errorf("agent: %s", e)
			}
			t.Logf("message: %s", rep.Message)
			if rep.Fds != 1 || !rep.FdIsListener {
				t.Errorf("want exactly one fd, a seccomp listener: got %d fds, listener %v", rep.Fds, rep.FdIsListener)
			}
			var msg specs.ContainerProcessState
			if err := json.Unmarshal([]byte(rep.Message), &msg); err != nil {
				t.Fatalf("the message is not a container process state: %v: %q", err, rep.Message)
			}
			if msg.Version == "" || msg.State.Version == "" {
				t.Errorf("ociVersion missing: %q / state %q", msg.Version, msg.State.Version)
			}
			if !slices.Equal(msg.Fds, []string{specs.SeccompFdName}) {
				t.Errorf("fds %q, want [%q]", msg.Fds, specs.SeccompFdName)
			}
			if msg.Pid <= 0 || msg.State.Pid != msg.Pid {
				t.Errorf("pid %d, state.pid %d: want the container process's pid in both", msg.Pid, msg.State.Pid)
			}
			if msg.Metadata != metadata {
				t.Errorf("metadata %q, want %q", msg.Metadata, metadata)
			}
			if msg.State.ID != id || msg.State.Bundle != b.Dir || msg.State.Annotations["seccomp.test/key"] != "v" {
				t.Errorf("state id %q bundle %q annotations %v; want %q %q with the config's annotations",
					msg.State.ID, msg.State.Bundle, msg.State.Annotations, id, b.Dir)
			}
			if msg.State.Status != specs.StateCreating && msg.State.Status != specs.StateCreated {
				t.Errorf("state status %q, want creating (or created)", msg.State.Status)
			}
			if len(rep.Notifications) != 1 {
				t.Fatalf("want one notification (the mkdir), got %+v", rep.Notifications)
			}
			n := rep.Notifications[0]
			if n.Path != "/tmp/x" || !n.Sent || n.Errno != int(syscall.EROFS) {
				t.Errorf("notification %+v: want the mkdir of /tmp/x, answered", n)
			}
			if int(n.Pid) != msg.Pid {
				t.Errorf("the mkdir came from pid %d, the message says the container process is %d", n.Pid, msg.Pid)
			}
		})
	}
	// runtime-spec: "If the SCMP_ACT_NOTIFY action is not used this value
	// [listenerPath] is ignored": the runtime neither needs an agent there
	// nor sends one anything.
	t.Run("listenerPath-ignored-without-notify", func(t *testing.T) {
		t.Parallel()
		r := newRuntime(t)
		b := seccompBundle(t, &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			ListenerPath:  filepath.Join(t.TempDir(), "nobody-listens.sock"),
			Syscalls:      []specs.LinuxSyscall{mkdirRule(specs.ActErrno, errnoRet(syscall.EROFS))},
		}, "mkdir", "/tmp/x")
		res := runCode(t, r, b, 1)
		if !strings.Contains(res.Stderr, txtEROFS) {
			t.Errorf("mkdir should print %q: %s", txtEROFS, res)
		}
	})
	t.Run("agent-gets-nothing-without-notify", func(t *testing.T) {
		t.Parallel()
		r := newRuntime(t)
		agent := startAgent(t, syscall.EROFS)
		b := seccompBundle(t, &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			ListenerPath:  agent.Socket,
			Syscalls:      []specs.LinuxSyscall{mkdirRule(specs.ActErrno, errnoRet(syscall.EROFS))},
		}, "mkdir", "/tmp/x")
		res := runCode(t, r, b, 1)
		if !strings.Contains(res.Stderr, txtEROFS) {
			t.Errorf("mkdir should print %q: %s", txtEROFS, res)
		}
		if rep := agent.snapshot(t); rep.Message != "" || rep.Fds != 0 {
			t.Errorf("without SCMP_ACT_NOTIFY the agent got a message %q with %d fd(s) (a listener: %v)", rep.Message, rep.Fds, rep.FdIsListener)
		}
	})
}

// ---------------------------------------------------------------------------
// podman's profile

const podmanSeccompProfile = "/usr/share/containers/seccomp.json"

// engineSeccomp is the containers/common (podman) and moby profile format:
// runtime-spec's plus archMap and per-rule includes/excludes.
type engineSeccomp struct {
	DefaultAction   specs.LinuxSeccompAction `json:"defaultAction"`
	DefaultErrnoRet *uint                    `json:"defaultErrnoRet"`
	ArchMap         []struct {
		Arch    specs.Arch   `json:"architecture"`
		SubArch []specs.Arch `json:"subArchitectures"`
	} `json:"archMap"`
	Syscalls []struct {
		specs.LinuxSyscall
		Includes engineSeccompFilter `json:"includes"`
		Excludes engineSeccompFilter `json:"excludes"`
	} `json:"syscalls"`
}

type engineSeccompFilter struct {
	Arches []string `json:"arches"` // Go names: amd64, arm64...
	Caps   []string `json:"caps"`
}

// podmanSeccomp converts podman's profile as podman does for an x86_64
// container whose bounding set is caps: a rule is kept when the
// architecture and all its included caps match and no excluded one does.
func podmanSeccomp(t *testing.T, caps []string) *specs.LinuxSeccomp {
	t.Helper()
	data, err := os.ReadFile(podmanSeccompProfile)
	if err != nil {
		t.Fatalf("podman's seccomp profile: %v (apt-get install golang-github-containers-common; `make test` does)", err)
	}
	var p engineSeccomp
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatalf("%s: %v", podmanSeccompProfile, err)
	}
	sc := &specs.LinuxSeccomp{DefaultAction: p.DefaultAction, DefaultErrnoRet: p.DefaultErrnoRet}
	for _, m := range p.ArchMap {
		if m.Arch == specs.ArchX86_64 {
			sc.Architectures = append([]specs.Arch{m.Arch}, m.SubArch...)
		}
	}
	const arch = "amd64"
	for _, s := range p.Syscalls {
		if len(s.Includes.Arches) > 0 && !slices.Contains(s.Includes.Arches, arch) || slices.Contains(s.Excludes.Arches, arch) {
			continue
		}
		keep := true
		for _, c := range s.Includes.Caps {
			keep = keep && slices.Contains(caps, c)
		}
		for _, c := range s.Excludes.Caps {
			keep = keep && !slices.Contains(caps, c)
		}
		if keep {
			sc.Syscalls = append(sc.Syscalls, s.LinuxSyscall)
		}
	}
	return sc
}

// TestSeccompPodmanProfile: the profile podman ships loads and an ordinary
// busybox workload runs under it, without and with noNewPrivileges (podman
// runs without by default).
func TestSeccompPodmanProfile(t *testing.T) {
	t.Parallel()
	if goruntime.GOARCH != "amd64" {
		t.Skip("the profile conversion is written for x86_64")
	}
	for _, nnp := range []bool{false, true} {
		t.Run(fmt.Sprintf("noNewPrivileges=%v", nnp), func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			b := seccompBundle(t, nil, "sh", "-c", `set -e
echo hello
mkdir /tmp/d && cd /tmp/d
echo data > f; cat f | tr a-z A-Z; ln -s f l; chmod 600 f; rm f l
ls / | grep -c '^proc$'
ps -o pid,comm | grep -c '^ *1 sh$'
sh -c 'exit 3' || echo child=$?
(sleep 0) & wait
probe personality=0xffffffff personality=0x40000 clone3 openat2
`)
			b.Spec.Process.NoNewPrivileges = nnp
			b.Spec.Linux.Seccomp = podmanSeccomp(t, b.Spec.Process.Capabilities.Bounding)
			t.Logf("podman profile: %d rules for caps %v", len(b.Spec.Linux.Seccomp.Syscalls), b.Spec.Process.Capabilities.Bounding)
			b.addProbe(t)
			res := runCode(t, r, b, 0)
			want := "hello\nDATA\n1\n1\nchild=3\n"
			if !strings.HasPrefix(res.Stdout, want) {
				t.Errorf("stdout %q, want it to start with %q: %s", res.Stdout, want, res)
			}
			wantProbe(t, res, map[string]string{
				"personality=0xffffffff": "OK",
				"personality=0x40000":    "ENOSYS", // ADDR_NO_RANDOMIZE: not allowed, the default errno
				"clone3":                 "EINVAL", // allowed: reaches the kernel
				"openat2":                "OK",
			})
		})
	}
}

// ---------------------------------------------------------------------------
// Bad profiles

// TestSeccompBadProfiles: create refuses an invalid profile with one error
// line that names the rule, and leaves nothing behind.
func TestSeccompBadProfiles(t *testing.T) {
	t.Parallel()
	ok := specs.LinuxSyscall{Names: []string{"getpid"}, Action: specs.ActAllow}
	cases := []struct {
		name     string
		sc       specs.LinuxSeccomp
		keywords []string // all of them must be on the error line
		runcAlt  []string // runc names the value, not the rule
		valid    bool     // the profile itself compiles
		runc     string   // "skip: why" (runc 1.1 lacks the feature) or "accepts: why" (a known bug of runc's)
	}{
		{
			name: "unknown-action",
			sc: specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
				{Names: []string{"mkdir"}, Action: "SCMP_ACT_FOO"}}},
			keywords: []string{"syscalls[0]", "SCMP_ACT_FOO"},
			runcAlt:  []string{"SCMP_ACT_FOO"},
		},
		{
			name: "unknown-operator",
			sc: specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{ok,
				{Names: []string{"socket"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 2, Op: "SCMP_CMP_FOO"}}}}},
			keywords: []string{"syscalls[1]", "SCMP_CMP_FOO"},
			runcAlt:  []string{"SCMP_CMP_FOO"},
		},
		{
			name: "errnoRet-with-allow",
			sc: specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{ok,
				{Names: []string{"mkdir"}, Action: specs.ActAllow, ErrnoRet: errnoRet(syscall.EPERM)}}},
			keywords: []string{"syscalls[1]", "errnoRet"},
			runcAlt:  []string{"errnoRet", "ErrnoRet"},
			runc:     "accepts: runc (1.1 to 1.5) ignores errnoRet on SCMP_ACT_ALLOW (runtime-spec: the runtime MUST print an error and fail)",
		},
		{
			name:     "unknown-default-action",
			sc:       specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_BAR", Syscalls: []specs.LinuxSyscall{ok}},
			keywords: []string{"defaultAction", "SCMP_ACT_BAR"},
			runcAlt:  []string{"SCMP_ACT_BAR"},
		},
		{
			name:     "unknown-flag",
			sc:       specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_FOO"}},
			keywords: []string{"flags[0]", "SECCOMP_FILTER_FLAG_FOO"},
			runcAlt:  []string{"SECCOMP_FILTER_FLAG_FOO"},
			runc:     "skip: runc 1.1 has no linux.seccomp.flags",
		},
		{
			// The runtime's own writes after the filter would wait for an
			// agent that cannot have the fd yet (runc refuses it too).
			name: "notify-write",
			sc: specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/nonexistent/casco-test-agent.sock",
				Syscalls: []specs.LinuxSyscall{{Names: []string{"write"}, Action: specs.ActNotify}}},
			keywords: []string{"syscalls[0]", "write"},
			runcAlt:  []string{"write"},
		},
		{
			// A notify profile whose agent is not there: "If sending to this
			// socket fails, the runtime MUST generate an error."
			name: "listener-not-listening",
			sc: specs.LinuxSeccomp{DefaultAction: specs.ActAllow, ListenerPath: "/nonexistent/casco-test-agent.sock",
				Syscalls: []specs.LinuxSyscall{mkdirRule(specs.ActNotify, nil)}},
			keywords: []string{"/nonexistent/casco-test-agent.sock"},
			valid:    true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			runcHow, runcWhy, _ := strings.Cut(tc.runc, ": ")
			if runcHow == "skip" && oldRunc() {
				t.Skip(runcWhy)
			}
			r := newRuntime(t)
			sc := tc.sc
			b := seccompBundle(t, &sc, sleeper...)
			id := newID(t)
			cg := "casco-test-" + id
			b.Spec.Linux.CgroupsPath = cg
			b.save(t)
			r.trackCleanup(id)
			res := r.run("create", "--bundle", b.Dir, id)
			if res.Err == nil && res.Code == 0 && runcHow == "accepts" && knownRuncBug(t, runcWhy) {
				return // trackCleanup removes the container
			}
			if res.Err != nil || res.Code <= 0 {
				t.Fatalf("create should refuse the profile: %s", res)
			}
			errLines := lines(res.Stderr)
			t.Logf("stderr: %s", strings.TrimSpace(res.Stderr))
			keywords := tc.keywords
			if tc.runcAlt != nil && isRunc() && knownRuncBug(t, "runc does not say which seccomp rule is wrong") {
				keywords = nil
				if !mentions(res.Stderr, tc.runcAlt...) {
					t.Errorf("stderr should mention one of %q: %s", tc.runcAlt, res)
				}
			}
			if len(errLines) != 1 {
				t.Errorf("want one error line, got %d: %s", len(errLines), res)
			}
			for _, k := range keywords {
				if !strings.Contains(res.Stderr, k) {
					t.Errorf("the error should name %q: %s", k, res)
				}
			}
			if strings.TrimSpace(res.Stdout) != "" {
				t.Errorf("a failed create printed to stdout: %q", res.Stdout)
			}
			// The runtime-wide cache of compiled filters may exist; it must
			// not hold a program for the profile that failed.
			cache := filepath.Join(r.root, ".seccomp-cache")
			if des, err := os.ReadDir(cache); err == nil {
				for _, de := range des {
					if !tc.valid {
						t.Errorf("a failed compile left %s in the filter cache", de.Name())
					}
					os.Remove(filepath.Join(cache, de.Name()))
				}
				os.Remove(cache)
			}
			noLeftovers(t, r, b, id, cg)
		})
	}
}
