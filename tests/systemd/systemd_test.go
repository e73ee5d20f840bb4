// Package systemd checks a runtime's systemd cgroup driver (--systemd-cgroup)
// against a real systemd (PID 1) on cgroup v2: the unit it creates, the
// unit properties systemd reports (`systemctl show`) and the limits the
// kernel's cgroup files hold, through create, update, pause, a restart of
// systemd, OOM and delete. It runs inside the guest of run.sh, once with
// RUNTIME=casco and once with RUNTIME=runc; elsewhere every test skips
// with the reason.
package systemd

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/casco-runtime/casco/tests/internal/harness"
)

// hangGuard bounds every wait on the kernel or systemd: generous, since
// the guest runs under software emulation on a loaded machine.
const hangGuard = 90 * time.Second

var (
	runtimeBin = os.Getenv("RUNTIME")
	busybox    = envOr("BUSYBOX", "/bin/busybox")
	stateRoot  string
)

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func TestMain(m *testing.M) {
	if runtimeBin != "" {
		dir, err := os.MkdirTemp("", "sdtest-state-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		stateRoot = dir
		defer os.RemoveAll(dir)
	}
	code := m.Run()
	if stateRoot != "" {
		os.RemoveAll(stateRoot)
	}
	os.Exit(code)
}

// needGuest skips unless systemd is PID 1 on a pure cgroup v2 hierarchy
// and a runtime is given: the only place these tests mean something.
func needGuest(t *testing.T) {
	t.Helper()
	if runtimeBin == "" {
		t.Skip("RUNTIME is not set (tests/systemd/run.sh runs these in the systemd guest)")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if fi, err := os.Stat("/run/systemd/system"); err != nil || !fi.IsDir() {
		t.Skip("systemd is not PID 1 here (tests/systemd/run.sh boots a guest where it is)")
	}
	if _, err := os.Stat("/sys/fs/cgroup/cgroup.controllers"); err != nil {
		t.Skip("not a pure cgroup v2 host")
	}
}

// idSeq numbers the containers of this process.
var idSeq atomic.Int64

// newID is unique per test and runtime (both run in the same guest).
func newID(t *testing.T) string {
	return fmt.Sprintf("sd%s%d-%d", shortName()[:1], os.Getpid()%10000, idSeq.Add(1))
}

// shortName is the runtime's name, its default unit prefix.
func shortName() string { return filepath.Base(runtimeBin) }

// rt runs the runtime with --systemd-cgroup and a private --root. Its
// output goes to a file, not a pipe: a container's process inherits the
// runtime's stdio and would hold a pipe open for as long as it lives.
func rt(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	out, err := os.CreateTemp("", "rt-out-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(out.Name())
	defer out.Close()
	cmd := exec.CommandContext(ctx, runtimeBin, append([]string{"--root", stateRoot, "--systemd-cgroup"}, args...)...)
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	err = cmd.Run()
	if os.Getenv("SDTEST_TRACE") != "" {
		fmt.Fprintf(os.Stderr, "sdtest: %s %s: %v (%.2fs)\n", filepath.Base(runtimeBin), strings.Join(args, " "), err, time.Since(start).Seconds())
	}
	data, rerr := os.ReadFile(out.Name())
	if rerr != nil {
		t.Fatal(rerr)
	}
	return strings.TrimSpace(string(data)), err
}

func mustRT(t *testing.T, args ...string) string {
	t.Helper()
	out, err := rt(t, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(runtimeBin), strings.Join(args, " "), err, out)
	}
	return out
}

// bundle writes a busybox bundle whose process sleeps, with cgroupsPath
// and resources from the caller.
func bundle(t *testing.T, cgroupsPath string, res *specs.LinuxResources, args ...string) string {
	t.Helper()
	return bundleFrom(t, []string{"spec"}, cgroupsPath, res, args...)
}

// bundleFrom is bundle with the config.json of `RUNTIME specArgs...`.
func bundleFrom(t *testing.T, specArgs []string, cgroupsPath string, res *specs.LinuxResources, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "rootfs")
	if err := harness.BuildRootfs(root, busybox, nil); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(runtimeBin, specArgs...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s spec: %v\n%s", runtimeBin, err, out)
	}
	var s specs.Spec
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	if len(args) == 0 {
		args = []string{"sleep", "1000"}
	}
	s.Process.Args = args
	s.Process.Terminal = false
	s.Root.Readonly = false
	s.Linux.CgroupsPath = cgroupsPath
	if res != nil {
		res.Devices = s.Linux.Resources.Devices
		s.Linux.Resources = res
	}
	if data, err = json.MarshalIndent(&s, "", " "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

type ctr struct {
	id, unit string
	pid      int
}

// start creates and starts a container and registers its forced delete.
func start(t *testing.T, id, cgroupsPath, unit string, res *specs.LinuxResources, args ...string) *ctr {
	t.Helper()
	b := bundle(t, cgroupsPath, res, args...)
	t.Cleanup(func() { rt(t, "delete", "--force", id) })
	mustRT(t, "create", "--bundle", b, id)
	mustRT(t, "start", id)
	var st struct {
		Pid    int    `json:"pid"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal([]byte(mustRT(t, "state", id)), &st); err != nil {
		t.Fatal(err)
	}
	return &ctr{id: id, unit: unit, pid: st.Pid}
}

// show returns unit properties as `systemctl show` prints them.
func show(t *testing.T, unit string, props ...string) map[string]string {
	t.Helper()
	args := []string{"show", unit}
	for _, p := range props {
		args = append(args, "-p", p)
	}
	out, err := exec.Command("systemctl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("systemctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	m := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if k, v, ok := strings.Cut(l, "="); ok {
			m[k] = v
		}
	}
	return m
}

// cgroupOf is the cgroup v2 directory of pid, from /proc/<pid>/cgroup.
func cgroupOf(t *testing.T, pid int) string {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	p, ok := strings.CutPrefix(strings.TrimSpace(string(data)), "0::")
	if !ok {
		t.Fatalf("/proc/%d/cgroup is not cgroup v2: %q", pid, data)
	}
	return filepath.Join("/sys/fs/cgroup", p)
}

func readCg(t *testing.T, dir, file string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Errorf("%v", err)
	}
	return strings.TrimSpace(string(data))
}

// expect compares systemctl show properties and cgroup files with wants.
func expect(t *testing.T, unit, dir string, props, files map[string]string) {
	t.Helper()
	var names []string
	for k := range props {
		names = append(names, k)
	}
	got := show(t, unit, names...)
	for k, want := range props {
		if got[k] != want {
			t.Errorf("systemctl show %s: %s=%q, want %q", unit, k, got[k], want)
		}
	}
	for f, want := range files {
		if g := readCg(t, dir, f); g != want {
			t.Errorf("%s/%s = %q, want %q", dir, f, g, want)
		}
	}
}

// poll waits for cond, never longer than hangGuard.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !harness.Poll(hangGuard, cond) {
		t.Fatalf("timed out waiting for %s", what)
	}
}

func gone(unit string) bool {
	out, _ := exec.Command("systemctl", "show", "-p", "LoadState", "-p", "ActiveState", unit).Output()
	return strings.Contains(string(out), "LoadState=not-found")
}

func i64(v int64) *int64    { return &v }
func u64(v uint64) *uint64  { return &v }
func u16(v uint16) *uint16  { return &v }
func itoa(v int64) string   { return strconv.FormatInt(v, 10) }
func alive(pid int) bool    { return exec.Command("kill", "-0", strconv.Itoa(pid)).Run() == nil }
func sysctl(args ...string) { exec.Command("systemctl", args...).Run() }
