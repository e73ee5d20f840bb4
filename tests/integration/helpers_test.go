package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/casco-runtime/casco/tests/internal/harness"
)

// Package-wide settings, fixed by TestMain.
var (
	runtimeBin   string // absolute path of the runtime under test
	busyboxBin   string // static busybox copied into every rootfs
	topDir       string // /tmp/casco-test-*: TMPDIR of the whole run
	templateRoot string // busybox rootfs every bundle is cloned from
	templateSpec []byte // config.json written by `$RUNTIME spec`
	runTag       string // random per run: keeps ids and cgroups of concurrent runs apart
	idCounter    atomic.Int64
)

const defaultTimeout = 20 * time.Second

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(os.Stderr, "\n*** integration tests cannot run: "+format+" ***\n\n", a...)
		return 2
	}
	// every path a test makes (t.TempDir()) contains "casco-test"
	run, err := harness.Start("casco-test-", rootfsFiles)
	if err != nil {
		return fail("%v", err)
	}
	runtimeBin, busyboxBin, topDir, runTag, templateRoot = run.Runtime, run.Busybox, run.Dir, run.Tag, run.Rootfs
	if templateSpec, err = runtimeSpec(filepath.Join(topDir, "template-spec")); err != nil {
		os.RemoveAll(topDir)
		return fail("`%s spec` does not give a usable config.json: %v", runtimeBin, err)
	}
	fmt.Fprintf(os.Stderr, "integration: RUNTIME=%s busybox=%s dir=%s\n", runtimeBin, busyboxBin, topDir)

	code := m.Run()

	if leaks := leftovers(); len(leaks) > 0 {
		fmt.Fprintf(os.Stderr, "\n*** integration tests left things behind (kept %s for inspection):\n  %s\n", topDir, strings.Join(leaks, "\n  "))
		if code == 0 {
			code = 1
		}
		return code
	}
	os.RemoveAll(topDir)
	return code
}

// rootfsFiles are the files of the template rootfs every bundle is cloned from.
var rootfsFiles = map[string]string{
	"etc/passwd":      "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n",
	"etc/group":       "root:x:0:\nwheel:x:10:\nuucp:x:20:\nuser:x:1000:\nnogroup:x:65534:\n",
	"etc/hostname":    "template\n",
	"secret/password": "hunter2\n",
}

// runtimeSpec runs `$RUNTIME spec` in an empty directory and returns the
// config.json it wrote, after checking that it parses as a runtime spec.
func runtimeSpec(dir string) ([]byte, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	cmd := exec.Command(runtimeBin, "spec")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%v: %s", err, out)
	}
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	var s specs.Spec
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, err
	}
	if s.Process == nil || s.Root == nil || s.Linux == nil {
		return nil, errors.New("config.json lacks process, root or linux")
	}
	return data, nil
}

// ---------------------------------------------------------------------------
// Running the runtime

// result is one finished runtime invocation.
type result struct {
	Args       []string
	Stdout     string
	Stderr     string
	Code       int    // exit code; -1 if killed by a signal or not started
	Err        error  // non-nil when not started or timed out
	StdoutPath string // file that keeps receiving a detached container's stdout
	StderrPath string
}

func (r result) String() string {
	return fmt.Sprintf("`%s` exit %d (err %v)\nstdout: %q\nstderr: %q", strings.Join(r.Args, " "), r.Code, r.Err, r.Stdout, r.Stderr)
}

// runtime drives the runtime binary with one private --root.
type runtime struct {
	t    *testing.T
	root string
	dir  string // scratch directory for output files
	seq  atomic.Int64
}

func newRuntime(t *testing.T) *runtime {
	t.Helper()
	dir := t.TempDir()
	r := &runtime{t: t, root: filepath.Join(dir, "root"), dir: dir}
	if err := os.Mkdir(r.root, 0o700); err != nil {
		t.Fatal(err)
	}
	return r
}

type runOpts struct {
	timeout time.Duration
	dir     string   // working directory of the runtime process
	groups  []uint32 // supplementary groups of the runtime process, when set
}

// exec runs `$RUNTIME --root R args...` with stdin /dev/null and stdout and
// stderr going to files, so that a detached container that inherits them
// does not keep the call waiting.
func (r *runtime) exec(o runOpts, args ...string) result {
	if o.timeout == 0 {
		o.timeout = defaultTimeout
	}
	full := append([]string{"--root", r.root}, args...)
	res := result{Args: append([]string{filepath.Base(runtimeBin)}, full...), Code: -1}
	n := r.seq.Add(1)
	res.StdoutPath = filepath.Join(r.dir, fmt.Sprintf("out-%d-%s", n, safeName(args[0])))
	res.StderrPath = filepath.Join(r.dir, fmt.Sprintf("err-%d-%s", n, safeName(args[0])))
	stdout, err := os.Create(res.StdoutPath)
	if err != nil {
		res.Err = err
		return res
	}
	defer stdout.Close()
	stderr, err := os.Create(res.StderrPath)
	if err != nil {
		res.Err = err
		return res
	}
	defer stderr.Close()

	ctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, runtimeBin, full...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.Dir = o.dir
	if o.groups != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid()), Groups: o.groups}}
	}
	err = cmd.Run()
	if ctx.Err() != nil {
		err = fmt.Errorf("timed out after %v: %w", o.timeout, err)
	}
	res.Err = err
	if cmd.ProcessState != nil {
		res.Code = cmd.ProcessState.ExitCode()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.Code = -1
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) && ctx.Err() == nil {
			res.Err = nil // a non-zero exit is a result, not an error
		}
	}
	res.Stdout = readFileString(res.StdoutPath)
	res.Stderr = readFileString(res.StderrPath)
	return res
}

func (r *runtime) run(args ...string) result { return r.exec(runOpts{}, args...) }

// mustRun fails the test unless the command exits 0.
func (r *runtime) mustRun(args ...string) result {
	r.t.Helper()
	res := r.run(args...)
	if res.Err != nil || res.Code != 0 {
		r.t.Fatalf("runtime failed: %s", res)
	}
	return res
}

// mustFail fails the test unless the command exits non-zero (not killed,
// not timed out) and its stderr mentions one of the keywords
// (case-insensitive). It returns the result.
func (r *runtime) mustFail(keywords []string, args ...string) result {
	r.t.Helper()
	res := r.run(args...)
	if res.Err != nil || res.Code <= 0 {
		r.t.Fatalf("want a non-zero exit: %s", res)
	}
	if len(keywords) > 0 && !mentions(res.Stderr, keywords...) {
		r.t.Errorf("stderr should mention one of %q: %s", keywords, res)
	}
	return res
}

func mentions(s string, keywords ...string) bool {
	ls := strings.ToLower(s)
	for _, k := range keywords {
		if k != "" && strings.Contains(ls, strings.ToLower(k)) {
			return true
		}
	}
	return false
}

// state is the runtime's `state` output (runc's names and types).
type state struct {
	OCIVersion  string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

func (r *runtime) state(id string) (state, result) {
	res := r.run("state", id)
	var s state
	if res.Err == nil && res.Code == 0 {
		if err := json.Unmarshal([]byte(res.Stdout), &s); err != nil {
			res.Err = fmt.Errorf("state output is not JSON: %v", err)
		}
	}
	return s, res
}

func (r *runtime) mustState(id string) state {
	r.t.Helper()
	s, res := r.state(id)
	if res.Err != nil || res.Code != 0 {
		r.t.Fatalf("state %s: %s", id, res)
	}
	return s
}

// waitStatus polls `state` until the status is want.
func (r *runtime) waitStatus(id, want string) state {
	r.t.Helper()
	var last state
	var lastRes result
	ok := harness.Poll(hangGuard, func() bool {
		last, lastRes = r.state(id)
		return lastRes.Code == 0 && last.Status == want
	})
	if !ok {
		r.t.Fatalf("container %s never reached status %q; last state %+v, %s", id, want, last, lastRes)
	}
	return last
}

// entries lists the root directory (the runtime's state directories),
// without casco's cache of compiled seccomp filters, which is the
// runtime's, not a container's.
func (r *runtime) entries() []string {
	des, err := os.ReadDir(r.root)
	if err != nil && !os.IsNotExist(err) {
		r.t.Fatalf("reading root %s: %v", r.root, err)
	}
	var names []string
	for _, de := range des {
		if de.Name() != ".seccomp-cache" {
			names = append(names, de.Name())
		}
	}
	return names
}

// runtimeVersion is the first line of `$RUNTIME --version`.
var runtimeVersion = sync.OnceValue(func() string {
	out, _ := exec.Command(runtimeBin, "--version").Output()
	first, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(first)
})

// knownRuncBug reports whether the runtime is runc, which has the bug
// described, and logs it. The test then also accepts runc's behaviour; the
// spec's behaviour always passes. casco is never given this leniency.
// beyondRunc skips t for runc: the test holds casco to a defence runc does
// not have (what), part of casco's contract and not of runc's.
func beyondRunc(t *testing.T, what string) {
	t.Helper()
	if isRunc() {
		t.Skipf("%s: %s is casco's own defence, which runc does not make", runtimeVersion(), what)
	}
}

// holdsAll reports whether s holds every one of words (none: true).
func holdsAll(s string, words ...string) bool {
	for _, w := range words {
		if !strings.Contains(s, w) {
			return false
		}
	}
	return true
}

// cascoWords are the words a refusal must hold: casco names the field or
// flag; runc words it its own way, so for runc any refusal will do.
func cascoWords(t *testing.T, words ...string) []string {
	if isRunc() {
		t.Logf("%s: a refusal is enough, runc names the field its own way", runtimeVersion())
		return nil
	}
	return words
}

func knownRuncBug(t *testing.T, bug string) bool {
	if strings.HasPrefix(runtimeVersion(), "runc version ") {
		t.Logf("tolerating a known bug of %q: %s", runtimeVersion(), bug)
		return true
	}
	return false
}

// ---------------------------------------------------------------------------
// Bundles and containers

type bundle struct {
	Dir    string
	Rootfs string
	Spec   *specs.Spec
}

// newBundle makes a bundle with a fresh busybox rootfs and the runtime's
// default spec, with the process running args without a terminal.
func newBundle(t *testing.T, args ...string) *bundle {
	t.Helper()
	dir := t.TempDir()
	// t.TempDir's parent is created 0700; mapped users need to walk through.
	_ = os.Chmod(filepath.Dir(dir), 0o755)
	_ = os.Chmod(dir, 0o755)
	b := &bundle{Dir: dir, Rootfs: filepath.Join(dir, "rootfs"), Spec: new(specs.Spec)}
	if err := harness.CloneTree(templateRoot, b.Rootfs); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(templateSpec, b.Spec); err != nil {
		t.Fatal(err)
	}
	b.Spec.Root.Path = "rootfs"
	b.Spec.Process.Terminal = false
	if len(args) > 0 {
		b.Spec.Process.Args = args
	}
	return b
}

func (b *bundle) save(t *testing.T) {
	t.Helper()
	data, err := json.MarshalIndent(b.Spec, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.Dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// addNamespace adds a namespace to the spec unless it is already there.
func (b *bundle) addNamespace(typ specs.LinuxNamespaceType) {
	for _, ns := range b.Spec.Linux.Namespaces {
		if ns.Type == typ {
			return
		}
	}
	b.Spec.Linux.Namespaces = append(b.Spec.Linux.Namespaces, specs.LinuxNamespace{Type: typ})
}

// newID returns a container id unique to this test and this run.
func newID(t *testing.T) string {
	name := strings.ToLower(safeName(strings.TrimPrefix(t.Name(), "Test")))
	if len(name) > 32 {
		name = name[:32]
	}
	return fmt.Sprintf("ct-%s-%s-%d", runTag, name, idCounter.Add(1))
}

var unsafeChars = regexp.MustCompile(`[^a-zA-Z0-9]+`)

func safeName(s string) string {
	return strings.Trim(unsafeChars.ReplaceAllString(s, "-"), "-")
}

// container is one container created by a test; cleanup is registered on
// creation and runs even when the test fails.
type container struct {
	r      *runtime
	ID     string
	B      *bundle
	Create result // the create/run call: its StdoutPath receives the container's stdout
}

// trackCleanup makes sure the container id is gone when the test ends:
// delete --force, then a SIGKILL for any process we saw that survived it.
func (r *runtime) trackCleanup(id string) {
	t := r.t
	var seen []procIdentity
	t.Cleanup(func() {
		if s, res := r.state(id); res.Code == 0 && s.Pid > 0 {
			seen = append(seen, identify(s.Pid))
		}
		res := r.run("delete", "--force", id)
		if res.Code != 0 && !mentions(res.Stderr, "not exist", "no such") {
			t.Logf("cleanup: %s", res)
		}
		for _, p := range seen {
			if p.stillAlive() {
				t.Errorf("cleanup: container %s process %d survived delete --force; killing it", id, p.pid)
				syscall.Kill(p.pid, syscall.SIGKILL)
			}
		}
	})
}

// create runs `create` for the bundle (saving its config first) and fails
// the test if it does not succeed.
func (r *runtime) create(b *bundle, extra ...string) *container {
	r.t.Helper()
	c := &container{r: r, ID: newID(r.t), B: b}
	b.save(r.t)
	r.trackCleanup(c.ID)
	args := append([]string{"create", "--bundle", b.Dir}, extra...)
	c.Create = r.mustRun(append(args, c.ID)...)
	return c
}

// start runs `start` and waits until the user's process has been exec'd.
func (c *container) start() state {
	c.r.t.Helper()
	c.r.mustRun("start", c.ID)
	s := c.r.mustState(c.ID)
	if s.Pid > 0 {
		waitUserExec(c.r.t, s.Pid, c.B)
	}
	return s
}

// createStart creates and starts a container and returns its running state.
func (r *runtime) createStart(b *bundle) (*container, state) {
	r.t.Helper()
	c := r.create(b)
	return c, c.start()
}

// stdout is what the container has written to its stdout so far (detached
// containers without a terminal inherit the runtime's stdout file).
func (c *container) stdout() string { return readFileString(c.Create.StdoutPath) }

// waitOutput polls the container's stdout until it contains s.
func (c *container) waitOutput(s string) string {
	c.r.t.Helper()
	var out string
	if !harness.Poll(hangGuard, func() bool { out = c.stdout(); return strings.Contains(out, s) }) {
		c.r.t.Fatalf("container %s never printed %q; stdout %q", c.ID, s, out)
	}
	return out
}

// runForeground runs a container with `run` and returns the call's result
// (its Code is the container's exit code).
func (r *runtime) runForeground(b *bundle, extra ...string) (string, result) {
	r.t.Helper()
	id := newID(r.t)
	b.save(r.t)
	r.trackCleanup(id)
	args := append([]string{"run", "--bundle", b.Dir}, extra...)
	return id, r.run(append(args, id)...)
}

// ---------------------------------------------------------------------------
// What the kernel says

func readFileString(path string) string {
	data, _ := os.ReadFile(path)
	return string(data)
}

// hangGuard bounds a wait for something the kernel will report (a process
// exec'd, a handler installed, a status reached). It is no estimate of how
// long that takes: a wait ends as soon as the state is seen, and the guard
// only turns a real hang into a failure. On a loaded 2-core CI machine a
// container start can take seconds, so the guard is generous.
const hangGuard = 2 * time.Minute

// waitExec waits until process pid runs the argv want (the runtime's init
// has exec'd the user's program).
func waitExec(t *testing.T, pid int, want []string) {
	t.Helper()
	wantS := strings.Join(want, "\x00")
	if !harness.Poll(hangGuard, func() bool { return strings.Join(harness.Cmdline(pid), "\x00") == wantS }) {
		t.Fatalf("process %d never exec'd %q; cmdline now %q", pid, want, harness.Cmdline(pid))
	}
}

// waitUserExec waits until process pid runs the rootfs's busybox (every
// test program is a busybox applet): the runtime's init has exec'd it.
func waitUserExec(t *testing.T, pid int, b *bundle) {
	t.Helper()
	exe := fmt.Sprintf("/proc/%d/exe", pid)
	bb := filepath.Join(b.Rootfs, "bin", "busybox")
	if !harness.Poll(hangGuard, func() bool { return sameFile(exe, bb) }) {
		t.Fatalf("process %d never exec'd the container's busybox; cmdline %q", pid, harness.Cmdline(pid))
	}
}

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

// procStatus parses /proc/<pid>/status.
func procStatus(t *testing.T, pid int) map[string]string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatalf("reading status of %d: %v", pid, err)
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// procIdentity names a process by pid and start time, so that a recycled
// pid is never mistaken for it.
type procIdentity struct {
	pid   int
	start string
}

func identify(pid int) procIdentity { return procIdentity{pid, harness.ProcStart(pid)} }

func (p procIdentity) stillAlive() bool {
	return p.start != "" && harness.Alive(p.pid) && harness.ProcStart(p.pid) == p.start
}

// waitGone waits until the process has exited.
func waitGone(t *testing.T, p procIdentity) {
	t.Helper()
	if !harness.Poll(hangGuard, func() bool { return !p.stillAlive() }) {
		t.Fatalf("process %d is still alive", p.pid)
	}
}

// mountInfo is one line of /proc/<pid>/mountinfo.
type mountInfo struct {
	ID, Parent int
	MajMin     string
	Root       string
	MountPoint string
	MountOpts  []string
	FSType     string
	Source     string
	SuperOpts  []string
}

func (m mountInfo) has(opt string) bool {
	for _, o := range m.MountOpts {
		if o == opt {
			return true
		}
	}
	for _, o := range m.SuperOpts {
		if o == opt {
			return true
		}
	}
	return false
}

func (m mountInfo) String() string {
	return fmt.Sprintf("%s on %s type %s (%s | %s) root=%s", m.Source, m.MountPoint, m.FSType,
		strings.Join(m.MountOpts, ","), strings.Join(m.SuperOpts, ","), m.Root)
}

func readMountInfo(path string) ([]mountInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []mountInfo
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if sep < 6 || len(fields) < sep+3 {
			continue
		}
		var m mountInfo
		m.ID, _ = strconv.Atoi(fields[0])
		m.Parent, _ = strconv.Atoi(fields[1])
		m.MajMin = fields[2]
		m.Root = harness.UnescapeMount(fields[3])
		m.MountPoint = harness.UnescapeMount(fields[4])
		m.MountOpts = strings.Split(fields[5], ",")
		m.FSType = fields[sep+1]
		m.Source = harness.UnescapeMount(fields[sep+2])
		if len(fields) > sep+3 {
			m.SuperOpts = strings.Split(fields[sep+3], ",")
		}
		out = append(out, m)
	}
	return out, sc.Err()
}

func mountsOf(t *testing.T, pid int) []mountInfo {
	t.Helper()
	ms, err := readMountInfo(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatalf("mountinfo of %d: %v", pid, err)
	}
	return ms
}

// topMount is the mount that is visible at mountpoint (the last one mounted there).
func topMount(ms []mountInfo, mountpoint string) (mountInfo, bool) {
	var found mountInfo
	ok := false
	for _, m := range ms {
		if m.MountPoint == mountpoint {
			found, ok = m, true
		}
	}
	return found, ok
}

// hostMountsUnder lists the host's mounts (this process's mount namespace)
// at or below dir.
func hostMountsUnder(t *testing.T, dir string) []mountInfo {
	t.Helper()
	ms, err := readMountInfo("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	var out []mountInfo
	for _, m := range ms {
		if m.MountPoint == dir || strings.HasPrefix(m.MountPoint, dir+"/") {
			out = append(out, m)
		}
	}
	return out
}

// inRoot is the path of p inside the mount namespace and root of pid, as
// the kernel resolves it through /proc/<pid>/root.
func inRoot(pid int, p string) string {
	return filepath.Join(fmt.Sprintf("/proc/%d/root", pid), p)
}

// ---------------------------------------------------------------------------
// cgroups

// cgroupMounts maps each v1 controller (and "" for the v2 unified
// hierarchy) to where this process sees that hierarchy mounted.
func cgroupMounts(t *testing.T) map[string]string {
	t.Helper()
	ms, err := readMountInfo("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range ms {
		switch m.FSType {
		case "cgroup2":
			out[""] = m.MountPoint
		case "cgroup":
			for _, o := range m.SuperOpts {
				switch o {
				case "rw", "ro", "relatime", "noexec", "nosuid", "nodev", "clone_children", "xattr":
				default:
					out[o] = m.MountPoint
				}
			}
		}
	}
	return out
}

// procCgroups parses /proc/<pid>/cgroup into controller -> path ("" is v2).
// Co-mounted controllers ("cpu,cpuacct") get one entry per controller.
func procCgroups(pid int) (map[string]string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, c := range strings.Split(parts[1], ",") {
			out[c] = parts[2]
		}
	}
	return out, nil
}

// isCgroup2 reports whether /sys/fs/cgroup is a pure v2 hierarchy.
func isCgroup2() bool {
	var st syscall.Statfs_t
	return syscall.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == 0x63677270 // CGROUP2_SUPER_MAGIC
}

// cgroupCandidates lists every directory where a cgroup named name could
// have been made: below the root of each hierarchy and below this
// process's own cgroup in it.
func cgroupCandidates(t *testing.T, name string) []string {
	t.Helper()
	mounts := cgroupMounts(t)
	own, _ := procCgroups(os.Getpid())
	seen := map[string]bool{}
	var out []string
	for ctrl, mnt := range mounts {
		for _, p := range []string{filepath.Join(mnt, name), filepath.Join(mnt, own[ctrl], name)} {
			if !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// Leaks after the whole run

// leftovers finds what the run left on the host: processes in a cgroup of
// this run, mounts below topDir, cgroup directories of this run.
func leftovers() []string {
	return harness.Leftovers(topDir, "ct-"+runTag+"-", "casco-test-"+runTag)
}

// noLeftovers checks that nothing of container id survives: no state in
// root, no cgroup directory named cgName (if given), no process in such a
// cgroup, no host mount below the bundle.
func noLeftovers(t *testing.T, r *runtime, b *bundle, id, cgName string) {
	t.Helper()
	for _, e := range r.entries() {
		t.Errorf("root %s still holds %q", r.root, e)
	}
	if res := r.run("list", "-q"); strings.TrimSpace(res.Stdout) != "" {
		t.Errorf("list -q is not empty: %s", res)
	}
	dirs := []string{r.dir}
	if b != nil {
		dirs = append(dirs, b.Dir)
	}
	for _, d := range dirs {
		for _, m := range hostMountsUnder(t, d) {
			t.Errorf("host mount left behind: %s", m)
		}
	}
	if cgName != "" {
		for _, p := range cgroupCandidates(t, cgName) {
			if _, err := os.Stat(p); err == nil {
				t.Errorf("cgroup directory left behind: %s", p)
			}
		}
		procs, _ := os.ReadDir("/proc")
		for _, p := range procs {
			pid, err := strconv.Atoi(p.Name())
			if err != nil || !harness.Alive(pid) {
				continue
			}
			if cg, err := procCgroups(pid); err == nil {
				for _, path := range cg {
					if strings.Contains(path, cgName) {
						t.Errorf("process %d %q left in cgroup %s", pid, harness.Cmdline(pid), path)
						break
					}
				}
			}
		}
	}
}

// ---------------------------------------------------------------------------
// Small helpers

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func u32(v uint32) *uint32 { return &v }
func i64(v int64) *int64   { return &v }

func lines(s string) []string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
