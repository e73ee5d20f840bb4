// Package security attacks the runtime as a hostile container would: one
// test per class of runc CVE, plus the runtime's own guarantees under
// faults and concurrency. Every test checks what the kernel says (/proc,
// mountinfo, cgroup files, file contents on the host), not what the
// runtime says.
//
// The harness is small: the busybox rootfs, the run directory and the
// /proc readers are tests/internal/harness's, shared with the other
// suites; a spec built here, one private --root per test, and a hang guard
// on every wait.
package security

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/casco-runtime/casco/tests/internal/harness"
)

var (
	runtimeBin   string // the runtime under test (RUNTIME, or ../../casco)
	topDir       string // /tmp/casco-sec-*: everything a run makes
	templateRoot string // the busybox rootfs every bundle is cloned from
	tag          string // per run: keeps IDs and cgroups of concurrent runs apart
	seq          atomic.Int64
)

// hangGuard bounds every wait: a wait that reaches it is a failure (a hang).
const hangGuard = 60 * time.Second

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	fail := func(format string, a ...any) int {
		fmt.Fprintf(os.Stderr, "security tests cannot run: "+format+"\n", a...)
		return 2
	}
	run, err := harness.Start("casco-sec-", rootfsFiles)
	if err != nil {
		return fail("%v", err)
	}
	runtimeBin, topDir, tag, templateRoot = run.Runtime, run.Dir, run.Tag, run.Rootfs
	fmt.Fprintf(os.Stderr, "security: RUNTIME=%s dir=%s\n", runtimeBin, topDir)
	code := m.Run()
	if leaks := leftovers(); len(leaks) > 0 {
		fmt.Fprintf(os.Stderr, "security tests left things behind (kept %s):\n  %s\n", topDir, strings.Join(leaks, "\n  "))
		return 1
	}
	os.RemoveAll(topDir)
	return code
}

// rootfsFiles are the template rootfs's files: users, and a secret the
// container's masks and binds must keep hidden.
var rootfsFiles = map[string]string{
	"etc/passwd":      "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n",
	"etc/group":       "root:x:0:\nuser:x:1000:\n",
	"secret/password": "hunter2\n",
}

// ---------------------------------------------------------------------------
// Bundles

type bundle struct {
	Dir, Rootfs string
	Spec        *specs.Spec
}

// newBundle clones the template rootfs (busybox hard-linked) and builds a
// spec like `runc spec`'s, running args.
func newBundle(t testing.TB, args ...string) *bundle {
	t.Helper()
	dir, err := os.MkdirTemp(topDir, "bundle-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	b := &bundle{Dir: dir, Rootfs: filepath.Join(dir, "rootfs"), Spec: defaultSpec(args)}
	if err := harness.CloneTree(templateRoot, b.Rootfs); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return b
}

func defaultSpec(args []string) *specs.Spec {
	caps := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"}
	return &specs.Spec{
		Version: specs.Version,
		Root:    &specs.Root{Path: "rootfs"},
		Process: &specs.Process{
			Args: args, Cwd: "/", Env: []string{"PATH=/bin"},
			Capabilities: &specs.LinuxCapabilities{Bounding: caps, Permitted: caps, Effective: caps},
		},
		Hostname: "sec",
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc"},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "mode=755", "size=65536k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
		},
		Linux: &specs.Linux{
			MaskedPaths:   []string{"/proc/kcore", "/proc/keys", "/sys/firmware"},
			ReadonlyPaths: []string{"/proc/sys", "/proc/sysrq-trigger"},
			Resources:     &specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}},
			Namespaces: []specs.LinuxNamespace{
				{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace}, {Type: specs.IPCNamespace},
				{Type: specs.UTSNamespace}, {Type: specs.MountNamespace},
			},
		},
	}
}

func (b *bundle) save(t testing.TB) {
	t.Helper()
	data, err := json.MarshalIndent(b.Spec, "", "\t")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.Dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// write puts a file into the rootfs (parents made).
func (b *bundle) write(t testing.TB, rel, content string) {
	t.Helper()
	p := filepath.Join(b.Rootfs, rel)
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// replace swaps a rootfs path for a symlink to target.
func (b *bundle) symlink(t testing.TB, rel, target string) {
	t.Helper()
	p := filepath.Join(b.Rootfs, rel)
	os.RemoveAll(p)
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.Symlink(target, p); err != nil {
		t.Fatal(err)
	}
}

// ---------------------------------------------------------------------------
// Driving the runtime

// rt is the runtime with one private --root.
type rt struct {
	t     testing.TB
	bin   string
	root  string
	guard time.Duration // bound of one call (hangGuard unless set)
}

func newRT(t testing.TB) *rt {
	t.Helper()
	root, err := os.MkdirTemp(topDir, "root-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(root, 0o700)
	r := &rt{t: t, bin: runtimeBin, root: root}
	t.Cleanup(func() { os.RemoveAll(root) })
	return r
}

type res struct {
	args           []string
	stdout, stderr string
	code           int // -1: killed or not started
	err            error
}

func (r res) ok() bool { return r.err == nil && r.code == 0 }
func (r res) String() string {
	return fmt.Sprintf("`%s` exit %d (%v)\nstdout: %q\nstderr: %q", strings.Join(r.args, " "), r.code, r.err, r.stdout, r.stderr)
}

// run runs the runtime with stdio on files, so that a detached container
// holding them does not keep the call waiting; it is bounded by hangGuard.
func (r *rt) run(args ...string) res {
	return r.runWith(nil, args...)
}

func (r *rt) runWith(setup func(*exec.Cmd), args ...string) res {
	full := append([]string{"--root", r.root}, args...)
	out := res{args: append([]string{filepath.Base(r.bin)}, full...), code: -1}
	n := seq.Add(1)
	stdout, _ := os.Create(filepath.Join(r.root, fmt.Sprintf("../out-%s-%d", filepath.Base(r.root), n)))
	stderr, _ := os.Create(filepath.Join(r.root, fmt.Sprintf("../err-%s-%d", filepath.Base(r.root), n)))
	defer func() {
		stdout.Close()
		stderr.Close()
		os.Remove(stdout.Name())
		os.Remove(stderr.Name())
	}()
	guard := r.guard
	if guard == 0 {
		guard = hangGuard
	}
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.bin, full...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if setup != nil {
		setup(cmd)
	}
	err := cmd.Run()
	if ctx.Err() != nil {
		out.err = fmt.Errorf("hung: killed after %v", guard)
	} else if _, isExit := err.(*exec.ExitError); err != nil && !isExit {
		out.err = err
	}
	if cmd.ProcessState != nil && out.err == nil {
		out.code = cmd.ProcessState.ExitCode()
	}
	o, _ := os.ReadFile(stdout.Name())
	e, _ := os.ReadFile(stderr.Name())
	out.stdout, out.stderr = string(o), string(e)
	return out
}

func (r *rt) must(args ...string) res {
	r.t.Helper()
	out := r.run(args...)
	if !out.ok() {
		r.t.Fatalf("runtime failed: %s", out)
	}
	return out
}

// newID is unique per run and test; cgroups get the same name.
func newID(prefix string) string {
	return fmt.Sprintf("sec-%s-%s-%d", tag, prefix, seq.Add(1))
}

// create makes container id from b and returns its init's host pid; the
// container is deleted (--force) when the test ends.
func (r *rt) create(b *bundle, id string, extra ...string) (int, res) {
	r.t.Helper()
	b.Spec.Linux.CgroupsPath = "/" + id
	b.save(r.t)
	r.t.Cleanup(func() { r.run("delete", "--force", id) })
	args := append([]string{"create", "--bundle", b.Dir}, extra...)
	out := r.run(append(args, id)...)
	if !out.ok() {
		return 0, out
	}
	return r.pid(id), out
}

func (r *rt) mustCreate(b *bundle, id string, extra ...string) int {
	r.t.Helper()
	pid, out := r.create(b, id, extra...)
	if pid == 0 {
		r.t.Fatalf("create %s: %s", id, out)
	}
	return pid
}

type ociState struct {
	Pid    int    `json:"pid"`
	Status string `json:"status"`
}

func (r *rt) state(id string) (ociState, res) {
	var s ociState
	out := r.run("state", id)
	if out.ok() {
		if err := json.Unmarshal([]byte(out.stdout), &s); err != nil {
			out.err = err
		}
	}
	return s, out
}

func (r *rt) pid(id string) int {
	r.t.Helper()
	s, out := r.state(id)
	if !out.ok() || s.Pid <= 0 {
		r.t.Fatalf("state %s: %s", id, out)
	}
	return s.Pid
}

// ---------------------------------------------------------------------------
// What the kernel says

func waitFile(t testing.TB, path string) string {
	t.Helper()
	var data []byte
	if !harness.Poll(hangGuard, func() bool {
		var err error
		data, err = os.ReadFile(path)
		return err == nil && len(data) > 0
	}) {
		t.Fatalf("%s never appeared", path)
	}
	return strings.TrimSpace(string(data))
}

// status returns one field of /proc/<pid>/status.
func status(pid int, key string) string {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && k == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

type mount struct {
	Point, FSType, Source, Opts string // Opts: per-mount and super options
}

func mounts(path string) []mount {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []mount
	for _, line := range strings.Split(string(data), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 6 || len(g) < 3 {
			continue
		}
		out = append(out, mount{Point: harness.UnescapeMount(f[4]), FSType: g[0], Source: g[1], Opts: f[5] + "," + g[2]})
	}
	return out
}

func (m mount) ro() bool {
	return strings.HasPrefix(m.Opts, "ro,") || m.Opts == "ro"
}

// leftovers: what the whole run left on the host (processes in a cgroup of
// this run, mounts below topDir, cgroup directories of this run).
func leftovers() []string {
	return harness.Leftovers(topDir, "sec-"+tag+"-")
}
