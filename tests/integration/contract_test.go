package integration

// runc's contract in the corners: what a program written against
// runc trips over. Each test runs against runc and casco; where runc 1.1
// (Debian's) predates the behaviour the runtime-spec or runc 1.2+ has, the
// test says so and skips for that runc only. RUNC-CONTRACT.md has the list.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/containerd/console"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/casco-runtime/casco/tests/internal/harness"
)

// runcBefore12 skips the test, saying why, when the runtime is a runc
// older than 1.2, which lacks the behaviour the test checks.
func runcBefore12(t *testing.T, what string) bool {
	if !oldRunc() {
		return false
	}
	t.Skipf("%s: %s came before runc 1.2", runtimeVersion(), what)
	return true
}

// oldRunc reports whether the runtime is a runc older than 1.2.
func oldRunc() bool { return runcOlderThan(2) }

// runcOlderThan reports whether the runtime is a runc older than 1.minor.
func runcOlderThan(want int) bool {
	m := regexp.MustCompile(`^runc version (\d+)\.(\d+)`).FindStringSubmatch(runtimeVersion())
	if m == nil {
		return false
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return major == 1 && minor < want
}

// TestContractExecFailures: every failure of `exec` itself exits 255, as
// runc's, so an engine can tell it from the process's own status; a missing
// binary is named with the errno's words.
func TestContractExecFailures(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	c, _ := r.createStart(b)
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"exec", c.ID, "/nonexist"}, []string{"/nonexist: no such file or directory"}},
		{[]string{"exec", c.ID, "nonexist"}, []string{"executable file not found"}},
		{[]string{"exec", c.ID, "/etc"}, []string{"/etc", "is a directory"}},
		{[]string{"exec", "no-such-container", "true"}, []string{"does not exist"}},
	}
	for _, tc := range cases {
		res := r.run(tc.args...)
		if res.Err != nil || res.Code != 255 {
			t.Errorf("want exit 255: %s", res)
		}
		for _, w := range tc.want {
			if !mentions(res.Stderr, w) {
				t.Errorf("stderr should say %q: %s", w, res)
			}
		}
	}
	// paused: refused with 255 unless --ignore-paused
	r.mustRun("pause", c.ID)
	res := r.run("exec", c.ID, "true")
	if res.Err != nil || res.Code != 255 || !mentions(res.Stderr, "paused") {
		t.Errorf("exec into a paused container: want exit 255 naming the pause: %s", res)
	}
	r.mustRun("resume", c.ID)
	// the process's own status still comes through
	if res := r.run("exec", c.ID, "sh", "-c", "exit 3"); res.Code != 3 {
		t.Errorf("exec of `exit 3`: %s", res)
	}
}

// TestContractExecDacOverride: whether a file may be executed is for
// execve to decide: root's CAP_DAC_OVERRIDE runs a file only others may
// execute, as uid 1000 with the capability does.
func TestContractExecDacOverride(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	// busybox picks its applet from argv[0]: a copy named echo, mode 0601,
	// owned by uid 1000, who has no exec bit of its own
	b := newBundle(t, "/dac/echo", "ran")
	bin := filepath.Join(b.Rootfs, "dac", "echo")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := harness.CopyFile(busyboxBin, bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(bin, 1000, 1000); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(bin, 0o601); err != nil {
		t.Fatal(err)
	}
	b.Spec.Process.User = specs.User{UID: 1000, GID: 1000}
	caps := []string{"CAP_DAC_OVERRIDE"}
	b.Spec.Process.Capabilities = &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps}
	_, res := r.runForeground(b)
	if res.Err != nil || res.Code != 0 || strings.TrimSpace(res.Stdout) != "ran" {
		t.Errorf("uid 1000 with CAP_DAC_OVERRIDE should run a file executable by others only: %s", res)
	}
}

// TestContractEnv: a variable given twice reaches the process once, with
// the last value in the place of the last (runc 1.5's order); an empty HOME is filled from the container's passwd like
// a missing one. What the kernel holds is /proc/self/environ.
func TestContractEnv(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, "cat", "/proc/self/environ")
	b.Spec.Process.Env = []string{"PATH=/bin", "A=1", "B=x", "A=2", "HOME="}
	_, res := r.runForeground(b)
	if res.Err != nil || res.Code != 0 {
		t.Fatalf("run: %s", res)
	}
	got := strings.Split(strings.TrimRight(res.Stdout, "\x00"), "\x00")
	want := []string{"PATH=/bin", "B=x", "A=2", "HOME=/root"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("environ = %q, want %q", got, want)
	}
}

// ptyStdin runs the runtime with a pty as its stdin and controlling
// terminal (runc's foreground terminal needs one) and a pipe as stdout.
func ptyStdin(t *testing.T, r *runtime, args ...string) result {
	t.Helper()
	master, slavePath, err := console.NewPty()
	if err != nil {
		t.Fatalf("pty: %v", err)
	}
	defer master.Close()
	slave, err := os.OpenFile(slavePath, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer slave.Close()
	ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, runtimeBin, append([]string{"--root", r.root}, args...)...)
	var out, errb strings.Builder
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, &out, &errb
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	// whatever the runtime echoes to its terminal must not fill the pty
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, err := master.Read(buf); err != nil {
				return
			}
		}
	}()
	res := result{Args: cmd.Args, Code: -1}
	res.Err = cmd.Run()
	if cmd.ProcessState != nil {
		res.Code = cmd.ProcessState.ExitCode()
		if _, ok := res.Err.(*exec.ExitError); ok {
			res.Err = nil
		}
	}
	res.Stdout, res.Stderr = out.String(), errb.String()
	return res
}

// TestContractTerminal: with the runtime reading the container's pty
// itself (foreground run and exec with a terminal), the process's \n
// reaches the runtime's stdout as \n (ONLCR cleared, as runc's
// SaneTerminal does), and the pty belongs to the process's user and the
// tty group.
func TestContractTerminal(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, "sh", "-c", `printf 'x\ny\n'; stat -c %u:%g "$(tty)"`)
	b.Spec.Process.Terminal = true
	b.Spec.Process.User = specs.User{UID: 1000, GID: 1000}
	id := newID(t)
	b.save(t)
	r.trackCleanup(id)
	res := ptyStdin(t, r, "run", "--bundle", b.Dir, id)
	if res.Err != nil || res.Code != 0 {
		t.Fatalf("run -t: %s", res)
	}
	out := strings.TrimLeft(res.Stdout, "\x00") // runc writes a NUL first
	if want := "x\ny\n1000:5\n"; out != want {
		t.Errorf("run with a terminal printed %q, want %q", out, want)
	}

	// exec -t into a running container
	b2 := newBundle(t, sleeper...)
	b2.Spec.Process.User = specs.User{UID: 1000, GID: 1000}
	c, _ := r.createStart(b2)
	res = ptyStdin(t, r, "exec", "-t", c.ID, "sh", "-c", `printf 'x\ny\n'; stat -c %u:%g "$(tty)"`)
	if res.Err != nil || res.Code != 0 {
		t.Fatalf("exec -t: %s", res)
	}
	if out, want := strings.TrimLeft(res.Stdout, "\x00"), "x\ny\n1000:5\n"; out != want {
		t.Errorf("exec with a terminal printed %q, want %q", out, want)
	}
}

// TestContractConsoleOwner: with a console socket, the pty the process
// gets (its fd 0, as the kernel shows it) is owned by process.user.
func TestContractConsoleOwner(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	b.Spec.Process.Terminal = true
	b.Spec.Process.User = specs.User{UID: 1000, GID: 1000}
	sock, msgs := listenConsole(t)
	c := r.create(b, "--console-socket", sock)
	msg := <-msgs
	for _, fd := range msg.fds {
		defer syscall.Close(fd)
	}
	s := c.start()
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join("/proc", strconv.Itoa(s.Pid), "fd", "0"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != 1000 || st.Gid != 5 {
		t.Errorf("the container's pty is owned by %d:%d, want 1000:5 (process.user, tty group)", st.Uid, st.Gid)
	}

	// exec -t with its own console socket
	sock2, msgs2 := listenConsole(t)
	pidFile := filepath.Join(r.dir, "exec.pid")
	r.mustRun("exec", "-d", "-t", "--console-socket", sock2, "--pid-file", pidFile, "--user", "1000:1000", c.ID, "sleep", "300")
	msg = <-msgs2
	for _, fd := range msg.fds {
		defer syscall.Close(fd)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(readFileString(pidFile)))
	if err := syscall.Stat(filepath.Join("/proc", strconv.Itoa(pid), "fd", "0"), &st); err != nil {
		t.Fatal(err)
	}
	if st.Uid != 1000 || st.Gid != 5 {
		t.Errorf("the exec'd process's pty is owned by %d:%d, want 1000:5", st.Uid, st.Gid)
	}
}

// TestContractHookErrors: a failing hook is reported as runc reports it,
// `error running <kind> hook #<index>:`, with what the hook wrote.
func TestContractHookErrors(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"prestart", "createRuntime", "createContainer"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			b := newBundle(t, sleeper...)
			ok := specs.Hook{Path: "/bin/true"}
			bad := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "echo hook-says-no >&2; exit 7"}}
			b.Spec.Hooks = &specs.Hooks{}
			switch kind {
			case "prestart":
				b.Spec.Hooks.Prestart = []specs.Hook{ok, bad}
			case "createRuntime":
				b.Spec.Hooks.CreateRuntime = []specs.Hook{ok, bad}
			case "createContainer":
				b.Spec.Hooks.CreateContainer = []specs.Hook{ok, bad}
			}
			id := newID(t)
			b.save(t)
			r.trackCleanup(id)
			res := r.run("create", "--bundle", b.Dir, id)
			if res.Err != nil || res.Code <= 0 {
				t.Fatalf("create with a failing hook: %s", res)
			}
			want := "error running " + kind + " hook #1:"
			if !mentions(res.Stderr, want) {
				// runc 1.1 leaves the kind out; runc 1.2 and casco name it
				if oldRunc() && mentions(res.Stderr, "error running hook #1:") {
					t.Logf("%s leaves the hook kind out of the message (runc 1.2 names it)", runtimeVersion())
				} else {
					t.Errorf("stderr should say %q: %s", want, res)
				}
			}
			for _, w := range []string{"exit status 7", "hook-says-no"} {
				if !mentions(res.Stderr, w) {
					t.Errorf("stderr should say %q: %s", w, res)
				}
			}
		})
	}
}

// TestContractHookErrorShape: a hook the runtime runs itself (prestart)
// and one the container's init runs (createContainer) fail in the same
// words, however the hook ends: an exit status with its output, a signal,
// its timeout.
func TestContractHookErrorShape(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		script  string
		timeout int
		want    string
	}{
		{"exit", "printf to-stdout; printf to-stderr >&2; exit 7", 0, "exit status 7, stdout: to-stdout, stderr: to-stderr"},
		{"signal", "kill -TERM $$", 0, "signal: terminated, stdout: , stderr:"},
		{"timeout", "exec sleep 600", 1, "hook ran past specified timeout of 1.0s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			said := map[string]string{}
			for _, kind := range []string{"prestart", "createContainer"} {
				r := newRuntime(t)
				b := newBundle(t, sleeper...)
				h := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", tc.script}}
				if tc.timeout > 0 {
					h.Timeout = &tc.timeout
				}
				b.Spec.Hooks = &specs.Hooks{}
				if kind == "prestart" {
					b.Spec.Hooks.Prestart = []specs.Hook{h}
				} else {
					b.Spec.Hooks.CreateContainer = []specs.Hook{h}
				}
				id := newID(t)
				b.save(t)
				r.trackCleanup(id)
				res := r.run("create", "--bundle", b.Dir, id)
				if res.Err != nil || res.Code <= 0 {
					t.Fatalf("create with a failing %s hook: %s", kind, res)
				}
				prefix := "error running " + kind + " hook #0: "
				at := strings.Index(res.Stderr, prefix)
				if at < 0 {
					t.Fatalf("stderr should say %q: %s", prefix, res)
				}
				said[kind] = res.Stderr[at+len(prefix):]
				if !strings.HasPrefix(said[kind], tc.want) {
					t.Errorf("a failing %s hook: stderr should go on with %q: %s", kind, tc.want, res)
				}
			}
			if said["prestart"] != said["createContainer"] {
				t.Errorf("the runtime and the init tell a failing hook differently:\nprestart:        %q\ncreateContainer: %q",
					said["prestart"], said["createContainer"])
			}
		})
	}
}

// TestContractHookContext: hooks run as runc runs them: argv[0] from
// args (not path), the runtime hooks in the bundle, createContainer in
// the container's mount namespace with the rootfs as working directory
// (relative paths land in the container's root); without an environment of
// their own, startContainer hooks get the process's, createContainer hooks
// none (runc 1.5's init sets the process's environment after them).
func TestContractHookContext(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	b.Spec.Process.Env = append(b.Spec.Process.Env, "CONTRACT_VAR=from-process")
	out := hookDir(t, b) // the same path inside and outside: the root is read-only
	b.Spec.Hooks = &specs.Hooks{
		// argv[0] "-sh", not the path: a host whose /bin/sh is busybox (the
		// v2 guest) picks its applet from argv[0], and "-sh" (a login
		// shell) is one every shell takes. createContainer runs before
		// pivot_root, so its /bin/sh is the host's too.
		CreateRuntime: []specs.Hook{{Path: "/bin/sh", Args: []string{"-sh", "-c", `echo "$0" > ` + out + `/rt-argv0; pwd > ` + out + `/rt-cwd`}}},
		CreateContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"-sh", "-c",
			`echo "$0" > cc-argv0; pwd -P > cc-cwd; readlink /proc/self/ns/mnt > cc-mnt; echo "$CONTRACT_VAR" > cc-env`}}},
		StartContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", `echo "$CONTRACT_VAR" > ` + out + `/sc-env`}}},
	}
	_, s := r.createStart(b)
	root, _ := filepath.EvalSymlinks(b.Rootfs)
	bundleDir, _ := filepath.EvalSymlinks(b.Dir)
	checks := []struct{ file, want string }{
		{filepath.Join(out, "rt-argv0"), "-sh"},
		{filepath.Join(out, "rt-cwd"), bundleDir},
		{filepath.Join(b.Rootfs, "cc-argv0"), "-sh"},
		{filepath.Join(b.Rootfs, "cc-cwd"), root},
		{filepath.Join(b.Rootfs, "cc-mnt"), nsLink(t, s.Pid, "mnt")},
		{filepath.Join(b.Rootfs, "cc-env"), ""},
		{filepath.Join(out, "sc-env"), "from-process"},
	}
	for _, ck := range checks {
		if got := strings.TrimSpace(readFileString(ck.file)); got != ck.want {
			t.Errorf("%s: hook wrote %q, want %q", filepath.Base(ck.file), got, ck.want)
		}
	}
}

// TestContractCLI: `list` with a --root that does not exist fails; `-h`
// answers for every subcommand of runc but checkpoint and restore (whose
// flags checkpoint_test.go exercises).
func TestContractCLI(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	for _, cmd := range []string{"create", "delete", "events", "exec", "kill", "list", "pause", "ps",
		"resume", "run", "spec", "start", "state", "update", "features"} {
		res := r.run(cmd, "-h")
		if res.Err != nil || res.Code != 0 || !mentions(res.Stdout, "usage") {
			t.Errorf("%s -h: %s", cmd, res)
		}
	}
	t.Run("list-missing-root", func(t *testing.T) {
		if runcBefore12(t, "failing `list` on a missing --root") {
			return
		}
		missing := filepath.Join(t.TempDir(), "no-such-root")
		cmd := exec.Command(runtimeBin, "--root", missing, "list")
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Errorf("list with a missing --root succeeded: %q", out)
		}
		if _, err := os.Stat(missing); err == nil {
			t.Errorf("list created the missing root %s", missing)
		}
	})
}

// TestContractSpecCgroupns: the default config has no cgroup namespace
// (runc's); appending one, as engines do, gives the container its own.
func TestContractSpecCgroupns(t *testing.T) {
	t.Parallel()
	var s specs.Spec
	b := newBundle(t, sleeper...)
	if err := json.Unmarshal(templateSpec, &s); err != nil {
		t.Fatal(err)
	}
	for _, n := range s.Linux.Namespaces {
		if n.Type == specs.CgroupNamespace {
			t.Errorf("`spec` lists a cgroup namespace; runc's default has none")
		}
	}
	b.Spec.Linux.Namespaces = append(b.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.CgroupNamespace})
	r := newRuntime(t)
	_, st := r.createStart(b)
	if nsLink(t, os.Getpid(), "cgroup") == nsLink(t, st.Pid, "cgroup") {
		t.Errorf("the appended cgroup namespace was not made")
	}
}

// TestContractDebug: --debug logs the runtime's steps at debug level, in
// text on stderr and in JSON to --log, for run, create and exec.
func TestContractDebug(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, "true")
	b.save(t)
	id := newID(t)
	r.trackCleanup(id)
	res := r.run("--debug", "run", "--bundle", b.Dir, id)
	if res.Code != 0 || !strings.Contains(res.Stderr, "level=debug") {
		t.Errorf("--debug run logs no level=debug line on stderr: %s", res)
	}
	log := filepath.Join(t.TempDir(), "log.json")
	b2 := newBundle(t, sleeper...)
	c := r.create(b2)
	// create again under --log, json
	b3 := newBundle(t, sleeper...)
	b3.save(t)
	id3 := newID(t)
	r.trackCleanup(id3)
	r.mustRun("--debug", "--log", log, "--log-format", "json", "create", "--bundle", b3.Dir, id3)
	if !strings.Contains(readFileString(log), `"level":"debug"`) {
		t.Errorf("--debug --log-format json create logged no debug entry: %q", readFileString(log))
	}
	c.start()
	res = r.run("--debug", "exec", c.ID, "true")
	if res.Code != 0 || !strings.Contains(res.Stderr, "level=debug") {
		t.Errorf("--debug exec logs no level=debug line on stderr: %s", res)
	}
}

// TestContractUnknownCapability: a capability name the runtime does not
// know is logged as a warning and ignored (runtime-spec 1.3: "SHOULD NOT
// fail"; runc does the same), the known ones are granted as asked.
func TestContractUnknownCapability(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, "grep", "CapBnd", "/proc/self/status")
	c := b.Spec.Process.Capabilities
	c.Bounding = append(c.Bounding, "CAP_FROM_THE_FUTURE")
	c.Effective = append(c.Effective, "CAP_FROM_THE_FUTURE")
	_, res := r.runForeground(b)
	if res.Err != nil || res.Code != 0 {
		t.Fatalf("an unknown capability must not fail the container: %s", res)
	}
	if !mentions(res.Stderr, "CAP_FROM_THE_FUTURE") {
		t.Errorf("no warning names the unknown capability: %s", res)
	}
	f := strings.Fields(res.Stdout)
	if len(f) != 2 {
		t.Fatalf("status line %q", res.Stdout)
	}
	got, _ := strconv.ParseUint(f[1], 16, 64)
	var want uint64
	for _, n := range b.Spec.Process.Capabilities.Bounding {
		if n != "CAP_FROM_THE_FUTURE" {
			want |= capMask(t, []string{n})
		}
	}
	if got != want {
		t.Errorf("CapBnd = %#x, want %#x (the known capabilities asked for)", got, want)
	}
}

// TestContractTimensNoOffsets: a time namespace without timeOffsets is
// made (no empty write to timens_offsets), with zero offsets.
func TestContractTimensNoOffsets(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/ns/time"); err != nil {
		t.Skip("kernel has no time namespaces")
	}
	if runcBefore12(t, "time namespaces") {
		return
	}
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	b.addNamespace(specs.TimeNamespace)
	_, s := r.createStart(b)
	if host, ctr := nsLink(t, os.Getpid(), "time"), nsLink(t, s.Pid, "time"); host == ctr {
		t.Fatalf("container shares the host's time namespace %s", ctr)
	}
	offs := strings.Join(strings.Fields(readFileString(fmt.Sprintf("/proc/%d/timens_offsets", s.Pid))), " ")
	if offs != "monotonic 0 0 boottime 0 0" {
		t.Errorf("timens_offsets = %q, want zero offsets", offs)
	}
}

// TestContractSeccompStartHook: with noNewPrivileges, runc loads the
// container's filter before the startContainer hooks run: they are the
// container's and run under its filter.
func TestContractSeccompStartHook(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	dir := hookDir(t, b)
	b.Spec.Process.NoNewPrivileges = true
	b.Spec.Linux.Seccomp = &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Syscalls:      []specs.LinuxSyscall{{Names: []string{"mkdir", "mkdirat"}, Action: specs.ActErrno}},
	}
	b.Spec.Hooks = &specs.Hooks{StartContainer: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c",
		"mkdir " + dir + "/made-by-hook || echo denied > " + dir + "/denied"}}}}
	r.createStart(b)
	if _, err := os.Stat(filepath.Join(dir, "made-by-hook")); err == nil {
		t.Errorf("the startContainer hook ran outside the container's seccomp filter (its mkdir worked)")
	}
	if readFileString(filepath.Join(dir, "denied")) != "denied\n" {
		t.Errorf("the startContainer hook did not run or was not denied")
	}
}

// TestContractExecCgroup: `exec --cgroup` puts the process into an existing
// sub-cgroup of the container's (in every hierarchy, or in the named
// controllers'), and refuses, with runc's words, a path that leaves the
// container's cgroup, one that does not exist, or an unknown controller.
func TestContractExecCgroup(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	c, s := r.createStart(b)
	mounts := cgroupMounts(t)
	data := readFileString(fmt.Sprintf("/proc/%d/cgroup", s.Pid))
	var want []string
	for _, line := range lines(data) {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 || parts[2] == "/" {
			want = append(want, line)
			continue
		}
		ctrl := strings.Split(parts[1], ",")[0]
		mnt, ok := mounts[strings.TrimPrefix(ctrl, "name=")]
		if !ok {
			mnt, ok = mounts[ctrl]
		}
		if !ok {
			want = append(want, line)
			continue
		}
		// the sub-cgroup the exec'd process must land in; delete removes it
		dir := filepath.Join(mnt, parts[2])
		if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
			t.Fatalf("make sub-cgroup in %s: %v", mnt, err)
		}
		// a v1 cpuset cgroup takes no process before it has cpus and mems
		// (on v2 the sub-cgroup has no cpuset files of its own to fill)
		for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
			if v := readFileString(filepath.Join(dir, f)); v != "" && ctrl == "cpuset" {
				mustWrite(t, filepath.Join(dir, "sub", f), v)
			}
		}
		want = append(want, line+"/sub")
	}
	res := r.mustRun("exec", "--cgroup", "sub", c.ID, "cat", "/proc/self/cgroup")
	if got := lines(res.Stdout); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("exec --cgroup sub: /proc/self/cgroup\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	res = r.mustRun("exec", "--cgroup", "/", c.ID, "cat", "/proc/self/cgroup")
	if got, init := strings.TrimSpace(res.Stdout), strings.TrimSpace(data); got != init {
		t.Errorf("exec --cgroup /: /proc/self/cgroup\n%s\nwant the init's\n%s", got, init)
	}
	for _, tc := range []struct{ arg, want string }{
		{"..", "bad sub cgroup path"},
		{"sub/../../x", "bad sub cgroup path"},
		{"nonexistent", "no such file or directory"},
		{"whaaat:/", "unknown controller"},
	} {
		res := r.run("exec", "--cgroup", tc.arg, c.ID, "true")
		if tc.want == "bad sub cgroup path" && oldRunc() && mentions(res.Stderr, "is not a sub cgroup path") {
			t.Logf("%s words it %q", runtimeVersion(), strings.TrimSpace(res.Stderr))
			tc.want = "is not a sub cgroup path"
		}
		if res.Err != nil || res.Code != 255 || !mentions(res.Stderr, tc.want) {
			t.Errorf("exec --cgroup %s: want exit 255 and %q: %s", tc.arg, tc.want, res)
		}
	}
}

// TestContractFrozenCgroup: a container given a cgroup that exists and is
// frozen is refused at once by run and by create, as runc does (`container's
// cgroup unexpectedly frozen`), instead of hanging with its init frozen;
// the cgroup, which the caller made, stays.
func TestContractFrozenCgroup(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, "true")
	id := newID(t)
	cg := "casco-test-" + id
	b.Spec.Linux.CgroupsPath = "/" + cg
	mounts := cgroupMounts(t)
	var freezeFile, frozen, thawed string
	if mnt, ok := mounts["freezer"]; ok {
		freezeFile, frozen, thawed = filepath.Join(mnt, cg, "freezer.state"), "FROZEN", "THAWED"
	} else if mnt, ok := mounts[""]; ok && isCgroup2() {
		freezeFile, frozen, thawed = filepath.Join(mnt, cg, "cgroup.freeze"), "1", "0"
	} else {
		t.Skip("no freezer: neither a v1 freezer hierarchy nor cgroup v2")
	}
	if err := os.Mkdir(filepath.Dir(freezeFile), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		os.WriteFile(freezeFile, []byte(thawed), 0o644)
		os.Remove(filepath.Dir(freezeFile))
	})
	mustWrite(t, freezeFile, frozen)
	b.save(t)
	for _, cmd := range []string{"run", "create"} {
		id := newID(t)
		r.trackCleanup(id)
		res := r.exec(runOpts{timeout: hangGuard}, cmd, "--bundle", b.Dir, id)
		if res.Err != nil || res.Code <= 0 || !strings.Contains(res.Stderr, "container's cgroup unexpectedly frozen") {
			t.Errorf("%s in a frozen cgroup must be refused in runc's words: %s", cmd, res)
		}
		noLeftovers(t, r, b, id, "")
		// the cgroup is the caller's: refused, not removed
		if got := strings.TrimSpace(readFileString(freezeFile)); got != frozen {
			t.Errorf("after the refused %s the pre-existing cgroup's freezer says %q, want %q", cmd, got, frozen)
		}
	}
}

// TestContractExecCapAmbient: `exec --cap` never makes a capability
// inheritable (CVE-2022-29162), and makes it ambient only where the config
// gives inheritable capabilities (runc 1.2's exec), so an exec'd process
// keeps across its own execve only what the config made inheritable. Read
// from /proc/<pid>/status of exec'd processes, with and without --cap.
func TestContractExecCapAmbient(t *testing.T) {
	t.Parallel()
	base := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	plus := func(c ...string) []string { return append(append([]string{}, base...), c...) }
	cases := []struct {
		name       string
		caps       specs.LinuxCapabilities
		cap        []string // exec --cap
		inh, amb   []string // what the exec'd process must have
		needRunc12 bool
	}{
		{name: "no-inheritable", caps: specs.LinuxCapabilities{Bounding: plus("CAP_SYS_ADMIN"), Effective: base, Permitted: base},
			cap: []string{"CAP_SYS_ADMIN"}},
		{name: "no-inheritable-no-cap", caps: specs.LinuxCapabilities{Bounding: base, Effective: base, Permitted: base}},
		{name: "inheritable-no-cap", caps: specs.LinuxCapabilities{Bounding: plus("CAP_NET_RAW", "CAP_SYS_ADMIN"),
			Effective: plus("CAP_NET_RAW"), Permitted: plus("CAP_NET_RAW"),
			Inheritable: []string{"CAP_NET_RAW", "CAP_SYS_ADMIN"}, Ambient: []string{"CAP_NET_RAW"}},
			inh: []string{"CAP_NET_RAW", "CAP_SYS_ADMIN"}, amb: []string{"CAP_NET_RAW"}},
		{name: "inheritable-cap", caps: specs.LinuxCapabilities{Bounding: plus("CAP_NET_RAW", "CAP_SYS_ADMIN"),
			Effective: plus("CAP_NET_RAW"), Permitted: plus("CAP_NET_RAW"),
			Inheritable: []string{"CAP_NET_RAW", "CAP_SYS_ADMIN"}, Ambient: []string{"CAP_NET_RAW"}},
			cap: []string{"CAP_SYS_ADMIN"},
			inh: []string{"CAP_NET_RAW", "CAP_SYS_ADMIN"}, amb: []string{"CAP_NET_RAW", "CAP_SYS_ADMIN"}, needRunc12: true},
		{name: "inheritable-cap-not-inheritable", caps: specs.LinuxCapabilities{Bounding: plus("CAP_NET_RAW"),
			Effective: plus("CAP_NET_RAW"), Permitted: plus("CAP_NET_RAW"),
			Inheritable: []string{"CAP_NET_RAW"}, Ambient: []string{"CAP_NET_RAW"}},
			cap: []string{"CAP_SYS_ADMIN"},
			inh: []string{"CAP_NET_RAW"}, amb: []string{"CAP_NET_RAW"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.needRunc12 && runcBefore12(t, "exec --cap adding to the ambient set") {
				return
			}
			r := newRuntime(t)
			b := newBundle(t, sleeper...)
			caps := tc.caps
			b.Spec.Process.Capabilities = &caps
			c, _ := r.createStart(b)
			pidFile := filepath.Join(r.dir, "exec-"+tc.name+".pid")
			args := []string{"exec", "--detach", "--pid-file", pidFile}
			for _, n := range tc.cap {
				args = append(args, "--cap", n)
			}
			r.mustRun(append(args, c.ID, "sleep", "300")...)
			pid, err := strconv.Atoi(strings.TrimSpace(readFileString(pidFile)))
			if err != nil {
				t.Fatalf("pid file: %v", err)
			}
			got := statusCaps(t, pid)
			if want := capMask(t, tc.inh); got["CapInh"] != want {
				t.Errorf("CapInh = %016x, want %016x", got["CapInh"], want)
			}
			if want := capMask(t, tc.amb); got["CapAmb"] != want {
				t.Errorf("CapAmb = %016x, want %016x", got["CapAmb"], want)
			}
			for _, n := range tc.cap {
				if m := capMask(t, []string{n}); got["CapPrm"]&m == 0 || got["CapEff"]&m == 0 || got["CapBnd"]&m == 0 {
					t.Errorf("--cap %s missing from the permitted, effective or bounding set: %v", n, got)
				}
			}
		})
	}
}
