package systemd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoSystemdHost: where systemd is not PID 1 (run on the host that runs
// the suite, outside the guest), --systemd-cgroup fails create with one
// clear line, a non-zero exit, and leaves no state and no cgroup behind.
func TestNoSystemdHost(t *testing.T) {
	if runtimeBin == "" {
		t.Skip("RUNTIME is not set (tests/systemd/run.sh runs this on the host)")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if fi, err := os.Stat("/run/systemd/system"); err == nil && fi.IsDir() {
		t.Skip("systemd is PID 1 here: this checks the error without it")
	}
	id := newID(t)
	b := bundle(t, "", nil)
	t.Cleanup(func() { rt(t, "delete", "--force", id) })
	out, err := rt(t, "create", "--bundle", b, id)
	if err == nil {
		t.Fatalf("create with --systemd-cgroup and no systemd succeeded: %s", out)
	}
	t.Logf("error: %s", out)
	if lines := strings.Split(out, "\n"); len(lines) != 1 || !strings.Contains(strings.ToLower(out), "systemd") {
		t.Errorf("want one line naming systemd, got %q", out)
	}
	if _, err := rt(t, "state", id); err == nil {
		t.Errorf("state of the failed container %s exists", id)
	}
	if ents, _ := os.ReadDir(stateRoot); len(ents) != 0 {
		t.Errorf("state dir %s not empty: %v", stateRoot, ents)
	}
	matches, _ := filepath.Glob("/sys/fs/cgroup/*/system.slice/*" + id + "*")
	m2, _ := filepath.Glob("/sys/fs/cgroup/system.slice/*" + id + "*")
	if left := append(matches, m2...); len(left) > 0 {
		t.Errorf("cgroups left: %v", left)
	}
}
