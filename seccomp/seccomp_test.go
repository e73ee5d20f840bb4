package seccomp

import (
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
	"golang.org/x/sys/unix"
)

const personalityQuery = 0xffffffff

func TestErrnoRuleDeniesMkdir(t *testing.T) {
	dir := t.TempDir()
	f := mustCompile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno, ErrnoRet: uptr(uint(unix.EXDEV))},
			{Names: []string{"rmdir"}, Action: specs.ActErrno}, // errnoRet defaults to EPERM
		},
	})
	res := runProbes(t, f,
		sysPath(unix.SYS_MKDIR, filepath.Join(dir, "a"), 0o755),
		sys(unix.SYS_GETPID),
		sysPath(unix.SYS_RMDIR, dir),
	)
	if res[0].Errno != unix.EXDEV {
		t.Errorf("mkdir: got errno %v, want EXDEV", res[0].Errno)
	}
	if res[1].Errno != 0 || res[1].Ret == 0 {
		t.Errorf("getpid: got %+v, want success", res[1])
	}
	if res[2].Errno != unix.EPERM {
		t.Errorf("rmdir: got errno %v, want EPERM", res[2].Errno)
	}
}

func TestDenyByDefaultAllowList(t *testing.T) {
	dir := t.TempDir()
	f := mustCompile(t, &specs.LinuxSeccomp{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: uptr(uint(unix.EACCES)),
		Syscalls: []specs.LinuxSyscall{
			harness(),
			{Names: []string{"getpid", "mkdir"}, Action: specs.ActAllow},
		},
	})
	res := runProbes(t, f,
		sys(unix.SYS_GETPID),
		sysPath(unix.SYS_MKDIR, filepath.Join(dir, "ok"), 0o755),
		sysPath(unix.SYS_RMDIR, filepath.Join(dir, "ok")),
		sys(unix.SYS_GETPPID),
	)
	if res[0].Errno != 0 || res[1].Errno != 0 {
		t.Errorf("allowed syscalls failed: getpid %+v, mkdir %+v", res[0], res[1])
	}
	if res[2].Errno != unix.EACCES || res[3].Errno != unix.EACCES {
		t.Errorf("unlisted syscalls: rmdir %v, getppid %v, want EACCES", res[2].Errno, res[3].Errno)
	}
}

// An old-style profile (nothing newer than exit_group) must answer ENOSYS to
// syscalls newer than all it names, so that libc falls back, but keep the
// default errno for older syscalls it does not name.
func TestENOSYSForNewerSyscalls(t *testing.T) {
	for _, def := range []specs.LinuxSeccompAction{specs.ActErrno, specs.ActKillProcess} {
		t.Run(string(def), func(t *testing.T) {
			cfg := &specs.LinuxSeccomp{
				DefaultAction: def,
				Syscalls: []specs.LinuxSyscall{
					harness(),
					{Names: []string{"getpid"}, Action: specs.ActAllow},
				},
			}
			if def == specs.ActKillProcess {
				// Every syscall we probe must come back: deny the
				// old ones explicitly.
				cfg.Syscalls = append(cfg.Syscalls, specs.LinuxSyscall{Names: []string{"getppid", "mkdir"}, Action: specs.ActErrno})
			}
			f := mustCompile(t, cfg)
			res := runProbes(t, f,
				sys(unix.SYS_CLONE3, 0, 0),
				sys(unix.SYS_OPENAT2, atFdcwd, 0, 0, 0),
				sys(unix.SYS_FACCESSAT2, atFdcwd, 0, 0, 0),
				sys(unix.SYS_GETPPID),
				sys(unix.SYS_GETPID),
			)
			for i, name := range []string{"clone3", "openat2", "faccessat2"} {
				if res[i].Errno != unix.ENOSYS {
					t.Errorf("%s: got errno %v, want ENOSYS", name, res[i].Errno)
				}
			}
			if res[3].Errno != unix.EPERM {
				t.Errorf("getppid (older, unlisted): got %v, want EPERM", res[3].Errno)
			}
			if res[4].Errno != 0 {
				t.Errorf("getpid: %v", res[4].Errno)
			}
		})
	}
}

// A profile that names a new syscall gets no ENOSYS for it, nor for anything
// older: the profile knows about them and decides.
func TestNoENOSYSBelowNewestNamed(t *testing.T) {
	f := mustCompile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Syscalls: []specs.LinuxSyscall{
			harness(),
			{Names: []string{"faccessat2"}, Action: specs.ActErrno, ErrnoRet: uptr(uint(unix.EXDEV))},
		},
	})
	res := runProbes(t, f,
		sys(unix.SYS_CLONE3, 0, 0),
		sys(unix.SYS_FACCESSAT2, atFdcwd, 0, 0, 0),
		sys(unix.SYS_FCHMODAT2, atFdcwd, 0, 0, 0),
	)
	if res[0].Errno != unix.EPERM {
		t.Errorf("clone3 (older than faccessat2): got %v, want EPERM", res[0].Errno)
	}
	if res[1].Errno != unix.EXDEV {
		t.Errorf("faccessat2: got %v, want EXDEV", res[1].Errno)
	}
	if res[2].Errno != unix.ENOSYS {
		t.Errorf("fchmodat2 (newer): got %v, want ENOSYS", res[2].Errno)
	}
}

func TestPermissiveDefaultHasNoStub(t *testing.T) {
	for _, tc := range []struct {
		cfg  *specs.LinuxSeccomp
		stub bool
	}{
		{&specs.LinuxSeccomp{DefaultAction: specs.ActAllow}, false},
		{&specs.LinuxSeccomp{DefaultAction: specs.ActLog}, false},
		{&specs.LinuxSeccomp{DefaultAction: specs.ActTrace}, false},
		{&specs.LinuxSeccomp{DefaultAction: specs.ActErrno, DefaultErrnoRet: uptr(uint(unix.ENOSYS))}, false},
		{&specs.LinuxSeccomp{DefaultAction: specs.ActErrno}, true},
		{&specs.LinuxSeccomp{DefaultAction: specs.ActKill}, true},
	} {
		if got := needsENOSYSStub(tc.cfg); got != tc.stub {
			t.Errorf("%s errnoRet %v: stub %v, want %v", tc.cfg.DefaultAction, tc.cfg.DefaultErrnoRet, got, tc.stub)
		}
	}
}

// personality is the classic: allow only a few personas, like the
// Docker/podman profiles, with one rule per value.
func TestArgsPersonality(t *testing.T) {
	var calls []specs.LinuxSyscall
	calls = append(calls, harness())
	for _, v := range []uint64{0, 8, 0x20000, 0x20008, personalityQuery} {
		calls = append(calls, specs.LinuxSyscall{
			Names: []string{"personality"}, Action: specs.ActAllow,
			Args: []specs.LinuxSeccompArg{{Index: 0, Value: v, Op: specs.OpEqualTo}},
		})
	}
	f := mustCompile(t, &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: calls})
	res := runProbes(t, f,
		sys(unix.SYS_PERSONALITY, personalityQuery),
		sys(unix.SYS_PERSONALITY, 0x0040000 /* ADDR_NO_RANDOMIZE */),
		sys(unix.SYS_PERSONALITY, 0),
	)
	if res[0].Errno != 0 {
		t.Errorf("personality(0xffffffff): %v, want allowed", res[0].Errno)
	}
	if res[1].Errno != unix.EPERM {
		t.Errorf("personality(ADDR_NO_RANDOMIZE): %v, want EPERM", res[1].Errno)
	}
	if res[2].Errno != 0 {
		t.Errorf("personality(0): %v, want allowed", res[2].Errno)
	}
}

func TestArgsSocketDomain(t *testing.T) {
	f := mustCompile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{
			Names: []string{"socket"}, Action: specs.ActErrno, ErrnoRet: uptr(uint(unix.EAFNOSUPPORT)),
			Args: []specs.LinuxSeccompArg{{Index: 0, Value: unix.AF_INET, Op: specs.OpEqualTo}},
		}},
	})
	res := runProbes(t, f,
		sys(unix.SYS_SOCKET, unix.AF_UNIX, unix.SOCK_STREAM, 0),
		sys(unix.SYS_SOCKET, unix.AF_INET, unix.SOCK_STREAM, 0),
		sys(unix.SYS_SOCKET, unix.AF_INET6, unix.SOCK_STREAM, 0),
	)
	if res[0].Errno != 0 {
		t.Errorf("socket(AF_UNIX): %v", res[0].Errno)
	}
	if res[1].Errno != unix.EAFNOSUPPORT {
		t.Errorf("socket(AF_INET): %v, want EAFNOSUPPORT", res[1].Errno)
	}
	if res[2].Errno == unix.EAFNOSUPPORT {
		t.Errorf("socket(AF_INET6) denied, only AF_INET should be")
	}
}

// Conditions on different arguments of one rule are ANDed.
func TestArgsAnd(t *testing.T) {
	f := mustCompile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{
			Names: []string{"socket"}, Action: specs.ActErrno, ErrnoRet: uptr(uint(unix.EPROTONOSUPPORT)),
			Args: []specs.LinuxSeccompArg{
				{Index: 0, Value: unix.AF_UNIX, Op: specs.OpEqualTo},
				{Index: 1, Value: unix.SOCK_DGRAM, Op: specs.OpEqualTo},
			},
		}},
	})
	res := runProbes(t, f,
		sys(unix.SYS_SOCKET, unix.AF_UNIX, unix.SOCK_STREAM, 0),
		sys(unix.SYS_SOCKET, unix.AF_UNIX, unix.SOCK_DGRAM, 0),
	)
	if res[0].Errno != 0 || res[1].Errno != unix.EPROTONOSUPPORT {
		t.Errorf("stream %v (want ok), dgram %v (want EPROTONOSUPPORT)", res[0].Errno, res[1].Errno)
	}
}

// Every operator, on umask's argument (umask never fails by itself).
func TestOperators(t *testing.T) {
	type check struct {
		arg    uint64
		denied bool
	}
	for _, tc := range []struct {
		arg    specs.LinuxSeccompArg
		checks []check
	}{
		{specs.LinuxSeccompArg{Value: 0o22, Op: specs.OpEqualTo}, []check{{0o22, true}, {0o23, false}}},
		{specs.LinuxSeccompArg{Value: 0o22, Op: specs.OpNotEqual}, []check{{0o22, false}, {0o23, true}}},
		{specs.LinuxSeccompArg{Value: 0o22, Op: specs.OpLessThan}, []check{{0o21, true}, {0o22, false}}},
		{specs.LinuxSeccompArg{Value: 0o22, Op: specs.OpLessEqual}, []check{{0o22, true}, {0o23, false}}},
		{specs.LinuxSeccompArg{Value: 0o22, Op: specs.OpGreaterThan}, []check{{0o23, true}, {0o22, false}}},
		{specs.LinuxSeccompArg{Value: 0o22, Op: specs.OpGreaterEqual}, []check{{0o22, true}, {0o21, false}}},
		// (arg & 0o700) == 0o700: denied whenever the owner bits are all set.
		{specs.LinuxSeccompArg{Value: 0o700, ValueTwo: 0o700, Op: specs.OpMaskedEqual}, []check{{0o777, true}, {0o700, true}, {0o677, false}, {0o077, false}}},
	} {
		t.Run(string(tc.arg.Op), func(t *testing.T) {
			f := mustCompile(t, &specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow,
				Syscalls: []specs.LinuxSyscall{{
					Names: []string{"umask"}, Action: specs.ActErrno, ErrnoRet: uptr(uint(unix.EXDEV)),
					Args: []specs.LinuxSeccompArg{tc.arg},
				}},
			})
			var probes []probe
			for _, c := range tc.checks {
				probes = append(probes, sys(unix.SYS_UMASK, c.arg))
			}
			for i, r := range runProbes(t, f, probes...) {
				if denied := r.Errno == unix.EXDEV; denied != tc.checks[i].denied {
					t.Errorf("umask(%#o): errno %v, denied=%v want %v", tc.checks[i].arg, r.Errno, denied, tc.checks[i].denied)
				}
			}
		})
	}
}

// Two conditions on the same argument cannot be one libseccomp rule; like
// runc they become one rule each, i.e. they are ORed.
func TestArgsSameIndexAreORed(t *testing.T) {
	f := mustCompile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{{
			Names: []string{"umask"}, Action: specs.ActErrno, ErrnoRet: uptr(uint(unix.EXDEV)),
			Args: []specs.LinuxSeccompArg{
				{Index: 0, Value: 0o11, Op: specs.OpEqualTo},
				{Index: 0, Value: 0o22, Op: specs.OpEqualTo},
			},
		}},
	})
	res := runProbes(t, f, sys(unix.SYS_UMASK, 0o11), sys(unix.SYS_UMASK, 0o22), sys(unix.SYS_UMASK, 0o33))
	if res[0].Errno != unix.EXDEV || res[1].Errno != unix.EXDEV || res[2].Errno != 0 {
		t.Errorf("got %v %v %v, want EXDEV EXDEV ok", res[0].Errno, res[1].Errno, res[2].Errno)
	}
}

func TestKillProcess(t *testing.T) {
	f := mustCompile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"getppid"}, Action: specs.ActKillProcess}},
	})
	_, se, st := startHelper(t, helperReq{Program: f.Program, Flags: f.Flags, Probes: []probe{sys(unix.SYS_GETPPID)}})
	ws := st.Sys().(syscall.WaitStatus)
	if !ws.Signaled() || ws.Signal() != syscall.SIGSYS {
		t.Fatalf("helper: %v, want killed by SIGSYS (stderr %s)", st, se)
	}
}

// SCMP_ACT_KILL is KILL_THREAD; for the single-threaded process a container
// runs it kills the process. Exec a real mkdir under the filter.
func TestKillThread(t *testing.T) {
	for _, act := range []specs.LinuxSeccompAction{specs.ActKill, specs.ActKillThread} {
		t.Run(string(act), func(t *testing.T) {
			dir := t.TempDir()
			f := mustCompile(t, &specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow,
				Syscalls:      []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: act}},
			})
			_, se, st := runExec(t, f, "/bin/mkdir", filepath.Join(dir, "x"))
			ws := st.Sys().(syscall.WaitStatus)
			if !ws.Signaled() || ws.Signal() != syscall.SIGSYS {
				t.Fatalf("mkdir: %v, want killed by SIGSYS (stderr %s)", st, se)
			}
		})
	}
}

func TestTrap(t *testing.T) {
	f := mustCompile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActTrap}},
	})
	_, se, st := runExec(t, f, "/bin/mkdir", filepath.Join(t.TempDir(), "x"))
	ws := st.Sys().(syscall.WaitStatus)
	// mkdir does not handle SIGSYS: the default disposition kills it.
	if !ws.Signaled() || ws.Signal() != syscall.SIGSYS {
		t.Fatalf("mkdir: %v, want SIGSYS (stderr %s)", st, se)
	}
}

// Without a tracer, SECCOMP_RET_TRACE makes the syscall fail with ENOSYS;
// LOG allows it.
func TestTraceAndLog(t *testing.T) {
	dir := t.TempDir()
	f := mustCompile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Syscalls: []specs.LinuxSyscall{
			harness(),
			{Names: []string{"getppid"}, Action: specs.ActTrace, ErrnoRet: uptr(42)},
			{Names: []string{"mkdir"}, Action: specs.ActLog},
		},
	})
	res := runProbes(t, f, sys(unix.SYS_GETPPID), sysPath(unix.SYS_MKDIR, filepath.Join(dir, "x"), 0o700))
	if res[0].Errno != unix.ENOSYS {
		t.Errorf("traced getppid without tracer: %v, want ENOSYS", res[0].Errno)
	}
	if res[1].Errno != 0 {
		t.Errorf("logged mkdir: %v, want allowed", res[1].Errno)
	}
}

func TestNotify(t *testing.T) {
	f := mustCompile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Flags:         []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagWaitKillableRecv},
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActNotify}},
	})
	if !f.Notify {
		t.Fatal("Notify not set")
	}
	want := uint(unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)
	if f.Flags != want {
		t.Fatalf("Flags %#x, want %#x", f.Flags, want)
	}
	res := runProbesNotify(t, f, int(unix.EXDEV), sysPath(unix.SYS_MKDIR, filepath.Join(t.TempDir(), "x"), 0o700), sys(unix.SYS_GETPID))
	if res[0].Errno != unix.EXDEV {
		t.Errorf("notified mkdir: %v, want the listener's EXDEV", res[0].Errno)
	}
	if res[1].Errno != 0 {
		t.Errorf("getpid: %v", res[1].Errno)
	}
}

func TestFlags(t *testing.T) {
	all := []specs.LinuxSeccompFlag{FlagTsync, specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow, specs.LinuxSeccompFlagWaitKillableRecv}
	f := mustCompile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Flags:         all,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActErrno}},
	})
	// WAIT_KILLABLE_RECV only goes with a listener.
	want := uint(unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_LOG | unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW)
	if f.Flags != want || f.Notify {
		t.Fatalf("Flags %#x notify %v, want %#x false", f.Flags, f.Notify, want)
	}
	// The kernel accepts them (allow-by-default: TSYNC reaches the Go
	// runtime's threads too).
	res := runProbes(t, f, sysPath(unix.SYS_MKDIR, filepath.Join(t.TempDir(), "x"), 0o700))
	if res[0].Errno != unix.EPERM {
		t.Errorf("mkdir: %v, want EPERM", res[0].Errno)
	}

	// TSYNC with a listener needs TSYNC_ESRCH.
	f = mustCompile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Flags:         all,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"mkdir"}, Action: specs.ActNotify}},
	})
	want = uint(unix.SECCOMP_FILTER_FLAG_TSYNC | unix.SECCOMP_FILTER_FLAG_LOG | unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW |
		unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV | unix.SECCOMP_FILTER_FLAG_NEW_LISTENER | unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH)
	if f.Flags != want {
		t.Fatalf("notify Flags %#x, want %#x", f.Flags, want)
	}
	res = runProbesNotify(t, f, int(unix.EROFS), sysPath(unix.SYS_MKDIR, filepath.Join(t.TempDir(), "x"), 0o700))
	if res[0].Errno != unix.EROFS {
		t.Errorf("notified mkdir: %v, want EROFS", res[0].Errno)
	}
}

func TestUnknownSyscallSkipped(t *testing.T) {
	hook := logtest.NewGlobal()
	defer hook.Reset()
	level := logrus.GetLevel()
	logrus.SetLevel(logrus.DebugLevel)
	defer logrus.SetLevel(level)
	f := mustCompile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"no_such_syscall_casco", "mkdir"}, Action: specs.ActErrno},
		},
	})
	logged := false
	for _, e := range hook.AllEntries() {
		logged = logged || (e.Level == logrus.DebugLevel && strings.Contains(e.Message, `unknown syscall "no_such_syscall_casco" ignored`))
	}
	if !logged {
		t.Errorf("no debug line for the unknown syscall: %v", hook.AllEntries())
	}
	res := runProbes(t, f, sysPath(unix.SYS_MKDIR, filepath.Join(t.TempDir(), "x"), 0o700))
	if res[0].Errno != unix.EPERM {
		t.Errorf("mkdir after an unknown name: %v, want EPERM", res[0].Errno)
	}
}

func TestBadProfiles(t *testing.T) {
	ok := specs.LinuxSyscall{Names: []string{"getpid"}, Action: specs.ActAllow}
	for _, tc := range []struct {
		name string
		cfg  *specs.LinuxSeccomp
		want string
	}{
		{"unknown action", &specs.LinuxSeccomp{DefaultAction: specs.ActErrno, Syscalls: []specs.LinuxSyscall{ok, ok, ok,
			{Names: []string{"mkdir"}, Action: "SCMP_ACT_FOO"}}},
			`seccomp: syscalls[3] ("mkdir"): unknown action "SCMP_ACT_FOO"`},
		{"unknown default action", &specs.LinuxSeccomp{DefaultAction: "SCMP_ACT_BAR"},
			`seccomp: defaultAction: unknown action "SCMP_ACT_BAR"`},
		{"empty default action", &specs.LinuxSeccomp{},
			`seccomp: defaultAction: unknown action ""`},
		{"bad operator", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"socket"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 1, Op: "SCMP_CMP_XX"}}}}},
			`seccomp: syscalls[0] ("socket"): args[0]: unknown operator "SCMP_CMP_XX"`},
		{"errnoRet with kill", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{ok,
			{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActKill, ErrnoRet: uptr(1)}}},
			`seccomp: syscalls[1] ("mkdir", "mkdirat"): errnoRet is only valid with SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not SCMP_ACT_KILL`},
		{"errnoRet with default allow", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, DefaultErrnoRet: uptr(1)},
			`seccomp: defaultAction: errnoRet is only valid with SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not SCMP_ACT_ALLOW`},
		{"arg index", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"socket"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 6, Value: 1, Op: specs.OpEqualTo}}}}},
			`seccomp: syscalls[0] ("socket"): args[0]: index 6 out of range (0-5)`},
		{"errnoRet range", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"socket"}, Action: specs.ActErrno, ErrnoRet: uptr(70000)}}},
			`seccomp: syscalls[0] ("socket"): errnoRet 70000 out of range (0-65535)`},
		{"notify default", &specs.LinuxSeccomp{DefaultAction: specs.ActNotify},
			`seccomp: defaultAction: SCMP_ACT_NOTIFY cannot be used as the default action`},
		{"notify write", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"write"}, Action: specs.ActNotify}}},
			`seccomp: syscalls[0] ("write"): SCMP_ACT_NOTIFY cannot be used for the write syscall`},
		{"unknown arch", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchX86_64, "SCMP_ARCH_VAX"}},
			`seccomp: architectures[1]: unknown architecture "SCMP_ARCH_VAX"`},
		{"other endianness", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Architectures: []specs.Arch{specs.ArchS390X}},
			`seccomp: architectures[0]: cannot add "SCMP_ARCH_S390X" to the filter for amd64 (libseccomp ` + LibseccompVersion() + `): its byte order differs from the native architecture's`},
		{"unknown flag", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_FOO"}},
			`seccomp: flags[0]: unknown flag "SECCOMP_FILTER_FLAG_FOO"`},
		{"long name list", &specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Syscalls: []specs.LinuxSyscall{
			{Names: []string{"a", "b", "c", "d", "e"}, Action: "x"}}},
			`seccomp: syscalls[0] ("a", "b", "c", ... 5 names): unknown action "x"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "other endianness" && runtime.GOARCH != "amd64" {
				t.Skip("written for amd64")
			}
			_, err := Compile(tc.cfg)
			if err == nil {
				t.Fatalf("no error, want %q", tc.want)
			}
			if err.Error() != tc.want {
				t.Fatalf("error\n got %q\nwant %q", err, tc.want)
			}
			if strings.Count(err.Error(), "seccomp:") != 1 {
				t.Errorf("error repeats its prefix: %q", err)
			}
		})
	}
}

var atFdcwd = func() uint64 { v := int64(unix.AT_FDCWD); return uint64(v) }()
