package seccomp

// The kernel is the judge: a helper process (this test binary, re-executed
// with helperEnv set) loads a compiled Program with seccomp(2), exactly as the
// C init does, then either makes raw syscalls and reports their results, or
// execs a command.
//
// After the filter is loaded the helper only makes raw syscalls on its locked
// thread (no allocation, no scheduling), so a deny-by-default profile only
// has to allow what the report needs: write and exit_group (harness()).

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	"github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

const helperEnv = "CASCO_SECCOMP_TEST_HELPER"

type probe struct {
	Nr      uintptr
	Args    [6]uint64
	PathArg int // index of the argument replaced by a pointer to Path; -1 for none
	Path    string
}

type helperReq struct {
	Program []byte
	Flags   uint
	Probes  []probe
	// Exec, when set, is execve'd right after the filter is loaded.
	Exec []string
	// NotifyErrno: the profile uses NOTIFY; a listener thread answers every
	// notification with this errno.
	NotifyErrno int
}

type result struct {
	Ret   uintptr
	Errno syscall.Errno
}

func TestMain(m *testing.M) {
	if p := os.Getenv(helperEnv); p != "" {
		runHelper(p)
		os.Exit(100) // not reached
	}
	os.Exit(m.Run())
}

func helperDie(msg string, errno syscall.Errno) {
	os.Stderr.WriteString("helper: " + msg + ": " + errno.Error() + "\n")
	os.Exit(99)
}

func runHelper(reqPath string) {
	data, err := os.ReadFile(reqPath)
	if err != nil {
		helperDie("read request", syscall.EIO)
	}
	var req helperReq
	if err := json.Unmarshal(data, &req); err != nil {
		helperDie("decode request", syscall.EINVAL)
	}
	// Everything that allocates is done before the filter is loaded.
	args := make([][6]uintptr, len(req.Probes))
	var keep [][]byte
	for i, p := range req.Probes {
		for j, a := range p.Args {
			args[i][j] = uintptr(a)
		}
		if p.PathArg >= 0 {
			b := append([]byte(p.Path), 0)
			keep = append(keep, b)
			args[i][p.PathArg] = uintptr(unsafe.Pointer(&b[0]))
		}
	}
	var argv0 *byte
	var argv, envp []*byte
	if len(req.Exec) > 0 {
		argv0, _ = syscall.BytePtrFromString(req.Exec[0])
		argv, _ = syscall.SlicePtrFromStrings(req.Exec)
		envp, _ = syscall.SlicePtrFromStrings([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"})
	}
	results := make([]result, len(req.Probes))
	out := make([]byte, 0, 64*len(req.Probes)+16)

	insns := decodeInsns(req.Program)
	fprog := unix.SockFprog{Len: uint16(len(insns)), Filter: &insns[0]}

	listenerFd := make(chan int, 1)
	if req.NotifyErrno != 0 {
		go notifyListener((<-chan int)(listenerFd), req.NotifyErrno)
	}

	runtime.LockOSThread()
	if os.Geteuid() != 0 {
		// Without CAP_SYS_ADMIN the kernel requires no_new_privs.
		if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
			helperDie("prctl(PR_SET_NO_NEW_PRIVS)", err.(syscall.Errno))
		}
	}
	fd, _, errno := syscall.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(req.Flags), uintptr(unsafe.Pointer(&fprog)))
	if errno != 0 {
		helperDie("seccomp(SECCOMP_SET_MODE_FILTER)", errno)
	}
	if req.NotifyErrno != 0 {
		listenerFd <- int(fd)
	}
	if argv0 != nil {
		_, _, errno := syscall.RawSyscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(argv0)), uintptr(unsafe.Pointer(&argv[0])), uintptr(unsafe.Pointer(&envp[0])))
		syscall.RawSyscall(unix.SYS_EXIT_GROUP, 128+uintptr(errno), 0, 0)
	}
	for i := range req.Probes {
		a := &args[i]
		r, _, e := syscall.RawSyscall6(req.Probes[i].Nr, a[0], a[1], a[2], a[3], a[4], a[5])
		results[i] = result{r, e}
	}
	for _, r := range results {
		out = strconv.AppendUint(out, uint64(r.Ret), 10)
		out = append(out, ' ')
		out = strconv.AppendUint(out, uint64(r.Errno), 10)
		out = append(out, '\n')
	}
	syscall.RawSyscall(unix.SYS_WRITE, 1, uintptr(unsafe.Pointer(&out[0])), uintptr(len(out)))
	syscall.RawSyscall(unix.SYS_EXIT_GROUP, 0, 0, 0)
	_ = keep
}

// notifyListener runs on an unfiltered thread and answers every notification
// with errno.
func notifyListener(fdc <-chan int, errno int) {
	runtime.LockOSThread()
	fd := libseccomp.ScmpFd(<-fdc)
	for {
		req, err := libseccomp.NotifReceive(fd)
		if err != nil {
			return
		}
		_ = libseccomp.NotifRespond(fd, &libseccomp.ScmpNotifResp{ID: req.ID, Error: int32(errno)})
	}
}

// startHelper runs the helper and returns its stdout, stderr and exit state.
func startHelper(t *testing.T, req helperReq) (stdout, stderr string, state *os.ProcessState) {
	t.Helper()
	data, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	reqPath := filepath.Join(t.TempDir(), "req.json")
	if err := os.WriteFile(reqPath, data, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+reqPath, "GODEBUG=asyncpreemptoff=1")
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	err = cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("helper: %v", err)
	}
	return so.String(), se.String(), cmd.ProcessState
}

// runProbes loads f in a helper and makes the probes' syscalls.
func runProbes(t *testing.T, f *Filter, probes ...probe) []result {
	t.Helper()
	return runProbesNotify(t, f, 0, probes...)
}

func runProbesNotify(t *testing.T, f *Filter, notifyErrno int, probes ...probe) []result {
	t.Helper()
	so, se, st := startHelper(t, helperReq{Program: f.Program, Flags: f.Flags, Probes: probes, NotifyErrno: notifyErrno})
	if !st.Success() {
		t.Fatalf("helper failed: %v\nstderr: %s", st, se)
	}
	lines := strings.Split(strings.TrimSpace(so), "\n")
	if len(lines) != len(probes) {
		t.Fatalf("helper reported %d results for %d probes: %q (stderr %s)", len(lines), len(probes), so, se)
	}
	res := make([]result, len(lines))
	for i, l := range lines {
		var r, e uint64
		f := strings.Fields(l)
		r, _ = strconv.ParseUint(f[0], 10, 64)
		e, _ = strconv.ParseUint(f[1], 10, 64)
		res[i] = result{uintptr(r), syscall.Errno(e)}
	}
	return res
}

// runExec loads f in a helper that then execs argv.
func runExec(t *testing.T, f *Filter, argv ...string) (string, string, *os.ProcessState) {
	t.Helper()
	return startHelper(t, helperReq{Program: f.Program, Flags: f.Flags, Exec: argv})
}

func sys(nr uintptr, args ...uint64) probe {
	p := probe{Nr: nr, PathArg: -1}
	copy(p.Args[:], args)
	return p
}

func sysPath(nr uintptr, path string, args ...uint64) probe {
	p := probe{Nr: nr, PathArg: 0, Path: path}
	copy(p.Args[1:], args)
	return p
}

// harness is what the helper needs after loading a deny-by-default filter.
func harness() specs.LinuxSyscall {
	return specs.LinuxSyscall{Names: []string{
		"write", "exit_group", "exit", "rt_sigreturn",
		// The Go runtime's own calls on the helper's thread: a preemption
		// (sysmon asks for one when a loaded machine leaves the helper
		// running >10 ms) hands the P to another thread (futex wake, or
		// clone for a new one, which inherits the filter and sets itself
		// up); a failing futex wake is fatal to the runtime.
		"futex", "sched_yield", "nanosleep", "clock_nanosleep", "mmap", "munmap", "madvise",
		"rt_sigprocmask", "rt_sigaction", "sigaltstack", "gettid", "clone", "tgkill",
		"epoll_pwait", "epoll_wait",
	}, Action: specs.ActAllow}
}

func uptr(v uint) *uint { return &v }

func mustCompile(t *testing.T, cfg *specs.LinuxSeccomp) *Filter {
	t.Helper()
	f, err := Compile(cfg)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return f
}
