package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/casco-runtime/casco/tests/internal/harness"
)

// The errors an engine shows its user are the runtime's last words: these
// tests hold casco to runc 1.5's words for the failures engines and scripts
// match on, and check that nothing of the refused container is left.

// execENOENT is what runc says when the execve of the process fails with
// ENOENT: the path and the errno.
const execENOENT = "exec /run.sh: no such file or directory"

// badInterpreter makes the process /run.sh, a script whose interpreter
// does not exist: the lookup of /run.sh succeeds, only the execve fails,
// after the start handshake.
func badInterpreter(t *testing.T, b *bundle) {
	t.Helper()
	mustWrite(t, filepath.Join(b.Rootfs, "run.sh"), "#!/nonexistent\necho unreachable\n")
	if err := os.Chmod(filepath.Join(b.Rootfs, "run.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	b.Spec.Process.Args = []string{"/run.sh"}
}

// mustRefuseInRuncWords runs the bundle in the foreground and wants it
// refused with want on stderr, and nothing of it left.
func mustRefuseInRuncWords(t *testing.T, b *bundle, want string) {
	t.Helper()
	r := newRuntime(t)
	id, res := r.runForeground(b)
	if res.Code == 0 || !strings.Contains(res.Stderr, want) {
		t.Errorf("want a refusal with %q: %s", want, res)
	}
	noLeftovers(t, r, b, id, id)
}

// firstLine is the first non-empty line of s.
func firstLine(s string) string {
	for _, l := range lines(s) {
		if strings.TrimSpace(l) != "" {
			return l
		}
	}
	return ""
}

// TestRuncWordsExecFailureRun: `run` of a process whose execve fails puts
// the execve's path and errno on the caller's first stderr line and, for
// casco, in --log too; the container is gone.
func TestRuncWordsExecFailureRun(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t)
	badInterpreter(t, b)
	id := newID(t)
	b.save(t)
	r.trackCleanup(id)
	logFile := filepath.Join(r.dir, "run.log")
	res := r.run("--log", logFile, "run", "--bundle", b.Dir, id)
	if res.Err != nil || res.Code == 0 {
		t.Fatalf("want a failure: %s", res)
	}
	// runc's line comes from its init, on the container's stderr, which
	// is the caller's: the first line is that and nothing else
	if first := firstLine(res.Stderr); first != execENOENT {
		t.Errorf("first stderr line %q, want %q: %s", first, execENOENT, res)
	}
	if mentions(res.Stderr, "failed to start") {
		t.Errorf("stderr blames the container's stderr instead of giving the error: %s", res)
	}
	// runc's init writes the line on the container's stderr only
	if log := readFileString(logFile); !isRunc() && !strings.Contains(log, execENOENT) {
		t.Errorf("--log lacks %q: %q", execENOENT, log)
	}
	noLeftovers(t, r, b, id, id)
}

// TestRuncWordsExecFailureStart: `start` of a created container whose
// execve fails exits non-zero with the execve's error on its own stderr.
// runc's init can only write it on the container's stderr (here: create's
// stderr file), which is all runc's caller gets.
func TestRuncWordsExecFailureStart(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t)
	badInterpreter(t, b)
	c := r.create(b)
	pid := r.mustState(c.ID).Pid
	p := identify(pid)
	res := r.run("start", c.ID)
	switch {
	case isRunc():
		if !strings.Contains(res.Stderr, execENOENT) && !harness.Poll(hangGuard, func() bool {
			return strings.Contains(readFileString(c.Create.StderrPath), execENOENT)
		}) {
			t.Errorf("%q on neither start's nor the container's stderr: %s", execENOENT, res)
		}
	case res.Code == 0 || !strings.Contains(firstLine(res.Stderr), execENOENT):
		t.Errorf("start: want a failure whose first line has %q: %s", execENOENT, res)
	}
	waitGone(t, p)
	if s := r.waitStatus(c.ID, "stopped"); s.Status != "stopped" {
		t.Errorf("after the failed exec the container is %s", s.Status)
	}
	r.mustRun("delete", c.ID)
	noLeftovers(t, r, b, c.ID, c.ID)
}

// TestRuncWordsExecFailureTerminal: with a terminal, the execve's error
// still reaches the caller of `start` (runc's reaches the terminal only).
func TestRuncWordsExecFailureTerminal(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t)
	badInterpreter(t, b)
	b.Spec.Process.Terminal = true
	sock, ch := listenConsole(t)
	c := r.create(b, "--console-socket", sock)
	msg := awaitConsole(t, ch)
	if len(msg.fds) != 1 {
		t.Fatalf("console socket: %d fds, want 1", len(msg.fds))
	}
	master := os.NewFile(uintptr(msg.fds[0]), "pty-master")
	defer master.Close()
	res := r.run("start", c.ID)
	if isRunc() {
		if out := readPty(t, master, defaultTimeout); !strings.Contains(res.Stderr+out, execENOENT) {
			t.Errorf("%q on neither start's stderr nor the terminal (%q): %s", execENOENT, out, res)
		}
	} else if res.Code == 0 || !strings.Contains(firstLine(res.Stderr), execENOENT) {
		t.Errorf("start: want a failure whose first line has %q: %s", execENOENT, res)
	}
	r.waitStatus(c.ID, "stopped")
	r.mustRun("delete", c.ID)
	noLeftovers(t, r, b, c.ID, c.ID)
}

// TestRuncWordsStartContainerHook: a failing startContainer hook fails the
// container with runc's words, the hook's index and its own stderr, also
// when the container's seccomp filter is what makes it fail.
func TestRuncWordsStartContainerHook(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		set  func(b *bundle)
		want []string
	}{
		"exit-status": {func(b *bundle) {
			b.Spec.Hooks = &specs.Hooks{StartContainer: []specs.Hook{
				{Path: "/bin/true"},
				{Path: "/bin/cat", Args: []string{"cat", "/nosuchfile"}},
			}}
		}, []string{"error running startContainer hook #1", "cat: can't open '/nosuchfile'"}},
		"seccomp-denied": {func(b *bundle) {
			b.Spec.Process.NoNewPrivileges = true
			b.Spec.Linux.Seccomp = &specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow,
				Syscalls:      []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno}},
			}
			b.Spec.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/mkdir", Args: []string{"mkdir", "/made-by-hook"}}}}
		}, []string{"error running startContainer hook #0", "mkdir: can't create directory '/made-by-hook'"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			b := newBundle(t, "true")
			tc.set(b)
			id, res := r.runForeground(b)
			if res.Code == 0 {
				t.Fatalf("want a failure: %s", res)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.Stderr, w) {
					t.Errorf("stderr lacks %q: %s", w, res)
				}
			}
			if mentions(res.Stderr, "failed to start") {
				t.Errorf("stderr blames the container's stderr instead of giving the error: %s", res)
			}
			if _, err := os.Stat(filepath.Join(b.Rootfs, "made-by-hook")); err == nil {
				t.Errorf("the hook's mkdir got through the filter")
			}
			noLeftovers(t, r, b, id, id)
		})
	}
}

// TestRuncWordsSeccompAgentAbsent: a notify filter whose listenerPath has
// nobody listening is refused in runc's words.
func TestRuncWordsSeccompAgentAbsent(t *testing.T) {
	t.Parallel()
	b := newBundle(t, "true")
	b.Spec.Process.NoNewPrivileges = true
	b.Spec.Linux.Seccomp = &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		ListenerPath:  filepath.Join(t.TempDir(), "nobody.sock"),
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActNotify}},
	}
	mustRefuseInRuncWords(t, b, "failed to connect with seccomp agent")
}

// TestRuncWordsAmbientNotInheritable: an ambient capability that is not
// also inheritable cannot be raised: the process runs without it, and the
// caller is warned in runc's words. The kernel's CapAmb is the proof.
func TestRuncWordsAmbientNotInheritable(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, "grep", "CapAmb", "/proc/self/status")
	caps := b.Spec.Process.Capabilities
	caps.Inheritable = []string{"CAP_KILL"}
	caps.Ambient = []string{"CAP_KILL", "CAP_CHOWN"}
	for _, set := range []*[]string{&caps.Bounding, &caps.Effective, &caps.Permitted} {
		*set = append(*set, "CAP_KILL", "CAP_CHOWN")
	}
	id, res := r.runForeground(b)
	if res.Code != 0 {
		t.Fatalf("want the process to run: %s", res)
	}
	if !strings.Contains(res.Stderr, "can't raise ambient capability CAP_CHOWN: ") {
		t.Errorf("no warning in runc's words: %s", res)
	}
	// CAP_KILL is 5: 1<<5
	if got := strings.TrimSpace(res.Stdout); got != "CapAmb:\t0000000000000020" {
		t.Errorf("the process's ambient set: %q, want only CAP_KILL", got)
	}
	noLeftovers(t, r, b, id, id)
}

// TestRuncWordsMemoryPolicy: memoryPolicy errors in runc's words; casco
// names the field in the same line.
func TestRuncWordsMemoryPolicy(t *testing.T) {
	t.Parallel()
	if isRunc() && runcOlderThan(4) {
		t.Skipf("%s has no linux.memoryPolicy", runtimeVersion())
	}
	for name, tc := range map[string]struct {
		mp   specs.LinuxMemoryPolicy
		want string
	}{
		"empty":          {specs.LinuxMemoryPolicy{}, "invalid memory policy"},
		"unknown-mode":   {specs.LinuxMemoryPolicy{Mode: "INTERLEAVE", Nodes: "0"}, "invalid memory policy"},
		"missing-mode":   {specs.LinuxMemoryPolicy{Nodes: "0-7"}, "invalid memory policy mode"},
		"unknown-flag":   {specs.LinuxMemoryPolicy{Mode: specs.MpolPreferred, Nodes: "0", Flags: []specs.MemoryPolicyFlagType{specs.MpolFRelativeNodes, "badflag"}}, "invalid memory policy flag"},
		"default-nodes":  {specs.LinuxMemoryPolicy{Mode: specs.MpolDefault, Nodes: "0-7"}, "mode requires 0 nodes but got 8"},
		"node-too-large": {specs.LinuxMemoryPolicy{Mode: specs.MpolBind, Nodes: "0-9876543210"}, "invalid memory policy node"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			b := newBundle(t, "true")
			mp := tc.mp
			b.Spec.Linux.MemoryPolicy = &mp
			id, res := r.runForeground(b)
			line := ""
			for _, l := range lines(res.Stderr) {
				if strings.Contains(l, tc.want) {
					line = l
				}
			}
			switch {
			case res.Code == 0 || line == "":
				t.Errorf("want a refusal with %q: %s", tc.want, res)
			case !isRunc() && !strings.Contains(line, "linux.memoryPolicy"):
				t.Errorf("the line does not name the field: %q", line)
			}
			noLeftovers(t, r, b, id, id)
		})
	}
}

// TestRuncWordsDeadlineCpuset: SCHED_DEADLINE with a cpuset can never
// work (the kernel wants the task's affinity to span its root domain):
// refused in runc's words.
func TestRuncWordsDeadlineCpuset(t *testing.T) {
	t.Parallel()
	if isRunc() && oldRunc() {
		t.Skipf("%s has no process.scheduler", runtimeVersion())
	}
	b := newBundle(t, "true")
	b.Spec.Linux.Resources.CPU = &specs.LinuxCPU{Cpus: "0"}
	b.Spec.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedDeadline, Nice: 19, Runtime: 42000, Deadline: 1000000, Period: 1000000}
	mustRefuseInRuncWords(t, b, "process scheduler can't be used together with AllowedCPUs")
}

// TestRuncWordsUnifiedOnV1: where runc refuses linux.resources.unified (any
// cgroup v1 host) and casco cannot write the key to a hybrid's cgroup2
// half either, the refusal leads with runc's words.
func TestRuncWordsUnifiedOnV1(t *testing.T) {
	t.Parallel()
	if _, ok := cgroupMounts(t)["memory"]; !ok {
		t.Skip("memory is a cgroup2 controller here: runc and casco both write memory.max")
	}
	b := newBundle(t, "true")
	b.Spec.Linux.Resources.Unified = map[string]string{"memory.max": "104857600"}
	mustRefuseInRuncWords(t, b, "invalid configuration: cannot use unified on cgroup v1")
}

// TestRuncWordsCheckpointParentPath: checkpoint --pre-dump with a
// --parent-path that is absolute or no directory under the image path is
// refused naming --parent-path before CRIU is asked (so it holds on hosts
// where CRIU cannot dump); the container keeps running.
func TestRuncWordsCheckpointParentPath(t *testing.T) {
	t.Parallel()
	if isRunc() && oldRunc() {
		t.Skipf("%s leaves --parent-path to CRIU", runtimeVersion())
	}
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	c, s := r.createStart(b)
	images := t.TempDir()
	for _, parent := range []string{"../no-such-pre-dump", "/abs/parent"} {
		res := r.run("checkpoint", "--pre-dump", "--image-path", images, "--parent-path", parent, c.ID)
		if res.Code == 0 || !strings.Contains(res.Stderr, "--parent-path") {
			t.Errorf("--parent-path %s: want a refusal naming --parent-path: %s", parent, res)
		}
	}
	if !harness.Alive(s.Pid) {
		t.Errorf("the container's init %d died of a refused checkpoint", s.Pid)
	}
	if st := r.mustState(c.ID); st.Status != "running" {
		t.Errorf("after the refusal the container is %s", st.Status)
	}
}
