package systemd

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/casco-runtime/casco/tests/internal/harness"
)

// The runtime is given this bound on systemd through the environment
// (casco's --systemd-timeout; runc has none and ignores it).
const stallTimeout = "10s"

// stallGuard is how long a command may take while systemd or the bus is
// stalled before it counts as hung: the runtime's own bound and then
// some, for emulation on a loaded host.
const stallGuard = 30 * time.Second

// rtWithin runs the runtime like rt, killing it after guard; hung says it
// had to be killed.
func rtWithin(t *testing.T, guard time.Duration, args ...string) (out string, hung bool, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	f, err := os.CreateTemp("", "rt-out-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	cmd := exec.CommandContext(ctx, runtimeBin, append([]string{"--root", stateRoot, "--systemd-cgroup"}, args...)...)
	cmd.Stdout, cmd.Stderr = f, f
	start := time.Now()
	err = cmd.Run()
	hung = ctx.Err() != nil
	data, _ := os.ReadFile(f.Name())
	t.Logf("%s %s: %v after %.1fs: %s", shortName(), strings.Join(args, " "), err, time.Since(start).Seconds(), strings.TrimSpace(string(data)))
	return strings.TrimSpace(string(data)), hung, err
}

// stopDBus stops dbus-daemon with SIGSTOP until the returned resume runs
// (also at cleanup), once the kernel reports it stopped.
func stopDBus(t *testing.T) (resume func()) {
	t.Helper()
	out, err := exec.Command("systemctl", "show", "-p", "MainPID", "--value", "dbus.service").Output()
	pid, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil || pid <= 1 {
		t.Fatalf("dbus-daemon's pid: %v %q", err, out)
	}
	resumed := false
	resume = func() {
		if !resumed {
			resumed = true
			exec.Command("kill", "-CONT", strconv.Itoa(pid)).Run()
		}
	}
	t.Cleanup(resume)
	if err := exec.Command("kill", "-STOP", strconv.Itoa(pid)).Run(); err != nil {
		t.Fatalf("SIGSTOP dbus-daemon %d: %v", pid, err)
	}
	poll(t, "dbus-daemon stopped", func() bool { return harness.ProcState(pid) == "T" })
	return resume
}

// freezeSystemd freezes PID 1 (its cgroup, init.scope: PID 1 ignores
// SIGSTOP) until the returned thaw runs (also at cleanup), once the
// kernel reports the cgroup frozen.
func freezeSystemd(t *testing.T) (thaw func()) {
	t.Helper()
	dir := "/sys/fs/cgroup/init.scope"
	if data, err := os.ReadFile("/proc/1/cgroup"); err != nil || strings.TrimSpace(string(data)) != "0::/init.scope" {
		t.Fatalf("PID 1 is not in /init.scope: %q %v", data, err)
	}
	thawed := false
	thaw = func() {
		if !thawed {
			thawed = true
			os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte("0"), 0)
		}
	}
	t.Cleanup(thaw)
	if err := os.WriteFile(filepath.Join(dir, "cgroup.freeze"), []byte("1"), 0); err != nil {
		t.Fatalf("freeze %s: %v", dir, err)
	}
	poll(t, "init.scope frozen", func() bool { return strings.Contains(readCg(t, dir, "cgroup.events"), "frozen 1") })
	return thaw
}

// stalledCreate creates container id while systemd or the bus is stalled.
// It must end within stallGuard; if it fails, with one line naming
// systemd or D-Bus, and leaving no state, process or cgroup.
func stalledCreate(t *testing.T, id, unit string) (created bool) {
	t.Helper()
	b := bundle(t, "system.slice:sdtest:"+id, nil)
	t.Cleanup(func() { rt(t, "delete", "--force", id) })
	out, hung, err := rtWithin(t, stallGuard, "create", "--bundle", b, id)
	if hung {
		t.Errorf("create hung while systemd was stalled: killed after %v", stallGuard)
	}
	if err == nil {
		return true
	}
	if !hung {
		lines := strings.Split(out, "\n")
		last := lines[len(lines)-1]
		if !strings.Contains(last, "systemd") && !strings.Contains(last, "D-Bus") {
			t.Errorf("create's error does not name systemd or D-Bus: %q", out)
		}
	}
	if _, err := os.Lstat(filepath.Join(stateRoot, id)); err == nil {
		t.Errorf("failed create left its state dir %s", filepath.Join(stateRoot, id))
	}
	if pids := harness.Processes(func(pid int) bool { return strings.Contains(harness.Cgroups(pid), "/"+unit) }); len(pids) > 0 {
		t.Errorf("failed create left processes in %s: %v", unit, pids)
	}
	if _, err := os.Stat("/sys/fs/cgroup/system.slice/" + unit); err == nil {
		t.Errorf("failed create left cgroup /sys/fs/cgroup/system.slice/%s", unit)
	}
	return false
}

// existingWorks: state, kill and delete --force of a running container
// work while systemd or the bus is stalled, and its processes are gone
// from the kernel.
func existingWorks(t *testing.T, c *ctr, dir string) {
	t.Helper()
	if out, hung, err := rtWithin(t, stallGuard, "state", c.id); err != nil || !strings.Contains(out, `"running"`) {
		t.Errorf("state while stalled (hung %v): %v: %s", hung, err, out)
	}
	if _, hung, err := rtWithin(t, stallGuard, "kill", c.id, "KILL"); err != nil {
		t.Errorf("kill while stalled (hung %v): %v", hung, err)
	}
	// dead: a zombie is enough, its reaper (PID 1) may be the stalled one
	poll(t, "init killed", func() bool { st := harness.ProcState(c.pid); return st == "" || st == "Z" })
	if _, hung, err := rtWithin(t, stallGuard, "delete", "--force", c.id); err != nil {
		t.Errorf("delete --force while stalled (hung %v): %v", hung, err)
	}
	if _, err := os.Lstat(filepath.Join(stateRoot, c.id)); err == nil {
		t.Errorf("delete --force left the state dir")
	}
	// the cgroup itself is systemd's to remove once it runs again
	// (noTrace checks that); the kernel must hold no process in it now
	if ev, err := os.ReadFile(filepath.Join(dir, "cgroup.events")); err == nil && !strings.Contains(string(ev), "populated 0") {
		t.Errorf("delete --force left processes in %s: %s", dir, ev)
	}
}

// TestDBusStalled: with dbus-daemon stopped, create of a new container
// ends in time (it may succeed: systemd answers root on its own socket),
// an existing container can be inspected, killed and deleted, and once
// the bus runs again no unit or cgroup of either is left.
func TestDBusStalled(t *testing.T) {
	needGuest(t)
	t.Setenv("CASCO_SYSTEMD_TIMEOUT", stallTimeout)
	idA := newID(t)
	a := start(t, idA, "system.slice:sdtest:"+idA, "sdtest-"+idA+".scope", nil)
	dirA := cgroupOf(t, a.pid)
	idB := newID(t)
	unitB := "sdtest-" + idB + ".scope"

	resume := stopDBus(t)
	created := stalledCreate(t, idB, unitB)
	if created {
		// made through systemd's own socket: it is a real unit
		if _, hung, err := rtWithin(t, stallGuard, "start", idB); err != nil {
			t.Errorf("start while the bus is stopped (hung %v): %v", hung, err)
		}
	}
	existingWorks(t, a, dirA)
	if created {
		if _, hung, err := rtWithin(t, stallGuard, "delete", "--force", idB); err != nil {
			t.Errorf("delete --force of the new container (hung %v): %v", hung, err)
		}
	}
	resume()
	noTrace(t, a.unit, dirA)
	noTrace(t, unitB, "/sys/fs/cgroup/system.slice/"+unitB)
}

// TestSystemdStalled: with PID 1 frozen (systemd answers nobody), create
// fails in time naming systemd and leaves nothing; an existing container
// can be inspected, killed and deleted; once systemd runs again no unit
// or cgroup of either is left.
func TestSystemdStalled(t *testing.T) {
	needGuest(t)
	t.Setenv("CASCO_SYSTEMD_TIMEOUT", stallTimeout)
	idA := newID(t)
	a := start(t, idA, "system.slice:sdtest:"+idA, "sdtest-"+idA+".scope", nil)
	dirA := cgroupOf(t, a.pid)
	idB := newID(t)
	unitB := "sdtest-" + idB + ".scope"

	thaw := freezeSystemd(t)
	if stalledCreate(t, idB, unitB) {
		t.Errorf("create succeeded while systemd was frozen")
	}
	existingWorks(t, a, dirA)
	thaw()
	noTrace(t, a.unit, dirA)
	noTrace(t, unitB, "/sys/fs/cgroup/system.slice/"+unitB)
}
