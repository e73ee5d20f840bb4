package systemd

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/casco-runtime/casco/tests/internal/harness"
)

func limits() *specs.LinuxResources {
	return &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: i64(64 << 20)},
		Pids:    &specs.LinuxPids{Limit: i64(42)},
		CPU:     &specs.LinuxCPU{Shares: u64(512), Quota: i64(50000), Period: u64(100000), Cpus: "0"},
		BlockIO: &specs.LinuxBlockIO{Weight: u16(500)},
		// no systemd property: only the cgroup file, in a controller
		// systemd does not enable by itself
		HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "2MB", Limit: 4 << 20}},
	}
}

// deviceAllow is every DeviceAllow= line of the unit.
func deviceAllow(t *testing.T, unit string) []string {
	out, err := exec.Command("systemctl", "show", "-p", "DeviceAllow", unit).Output()
	if err != nil {
		t.Fatalf("systemctl show -p DeviceAllow %s: %v", unit, err)
	}
	var l []string
	for _, s := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if v, ok := strings.CutPrefix(s, "DeviceAllow="); ok && v != "" {
			l = append(l, v)
		}
	}
	return l
}

// TestUnitAndLimits: the container gets the transient scope
// <prefix>-<name>.scope in its slice, delegated, with every limit both as a
// unit property and in the cgroup files; update changes both; pause,
// ps and events work on it; systemd re-executing itself loses nothing;
// delete leaves no unit, no cgroup and no failed unit.
func TestUnitAndLimits(t *testing.T) {
	needGuest(t)
	id := newID(t)
	unit := "sdtest-" + id + ".scope"
	c := start(t, id, "system.slice:sdtest:"+id, unit, limits())

	dir := cgroupOf(t, c.pid)
	if want := "/sys/fs/cgroup/system.slice/" + unit; dir != want {
		t.Fatalf("container init is in %s, want %s", dir, want)
	}
	props := map[string]string{
		"ActiveState": "active", "Slice": "system.slice", "Delegate": "yes", "ControlGroup": "/system.slice/" + unit,
		"MemoryMax": itoa(64 << 20), "TasksMax": "42", "CPUQuotaPerSecUSec": "500ms", "CPUWeight": "20",
		"AllowedCPUs": "0", "IOWeight": "4950", "DevicePolicy": "strict",
	}
	files := map[string]string{
		"memory.max": itoa(64 << 20), "pids.max": "42", "cpu.max": "50000 100000", "cpu.weight": "20",
		"cpuset.cpus": "0", "io.weight": "default 4950", "hugetlb.2MB.max": itoa(4 << 20),
	}
	expect(t, unit, dir, props, files)
	devs := deviceAllow(t, unit)
	for _, want := range []string{"/dev/char/1:3 rwm", "/dev/char/1:9 rwm", "char-pts rwm"} {
		found := false
		for _, d := range devs {
			found = found || d == want
		}
		if !found {
			t.Errorf("DeviceAllow of %s lacks %q: %q", unit, want, devs)
		}
	}

	t.Run("update", func(t *testing.T) {
		mustRT(t, "update", "--memory", "128M", "--pids-limit", "50", "--cpu-quota", "20000", "--cpu-period", "100000",
			"--cpuset-cpus", "0-1", "--blkio-weight", "100", id)
		props = map[string]string{"MemoryMax": itoa(128 << 20), "TasksMax": "50", "CPUQuotaPerSecUSec": "200ms",
			"AllowedCPUs": "0-1", "IOWeight": "910"}
		files = map[string]string{"memory.max": itoa(128 << 20), "pids.max": "50", "cpu.max": "20000 100000",
			"cpuset.cpus": "0-1", "io.weight": "default 910", "hugetlb.2MB.max": itoa(4 << 20)}
		expect(t, unit, dir, props, files)
	})

	t.Run("daemon-reexec", func(t *testing.T) {
		for _, verb := range []string{"daemon-reload", "daemon-reexec"} {
			if out, err := exec.Command("systemctl", verb).CombinedOutput(); err != nil {
				t.Fatalf("systemctl %s: %v\n%s", verb, err, out)
			}
		}
		poll(t, "systemd back after daemon-reexec", func() bool {
			return exec.Command("systemctl", "show", "-p", "Version").Run() == nil
		})
		props["ActiveState"] = "active"
		expect(t, unit, dir, props, files)
		if !alive(c.pid) {
			t.Fatalf("container init %d died across daemon-reexec", c.pid)
		}
		if got := cgroupOf(t, c.pid); got != dir {
			t.Errorf("container init moved from %s to %s across daemon-reexec", dir, got)
		}
		if out := mustRT(t, "state", id); !strings.Contains(out, `"running"`) {
			t.Errorf("state after daemon-reexec: %s", out)
		}
		// the runtime still reaches systemd afterwards
		mustRT(t, "update", "--memory", "96M", id)
		expect(t, unit, dir, map[string]string{"MemoryMax": itoa(96 << 20)}, map[string]string{"memory.max": itoa(96 << 20)})
	})

	t.Run("pause", func(t *testing.T) {
		mustRT(t, "pause", id)
		if ev := readCg(t, dir, "cgroup.events"); !strings.Contains(ev, "frozen 1") {
			t.Errorf("paused, but cgroup.events = %q", ev)
		}
		if out := mustRT(t, "state", id); !strings.Contains(out, `"paused"`) {
			t.Errorf("state after pause: %s", out)
		}
		expect(t, unit, dir, map[string]string{"ActiveState": "active"}, nil)
		mustRT(t, "resume", id)
		if ev := readCg(t, dir, "cgroup.events"); !strings.Contains(ev, "frozen 0") {
			t.Errorf("resumed, but cgroup.events = %q", ev)
		}
	})

	t.Run("ps+events", func(t *testing.T) {
		var pids []int
		if err := json.Unmarshal([]byte(mustRT(t, "ps", "--format", "json", id)), &pids); err != nil {
			t.Fatal(err)
		}
		if len(pids) != 1 || pids[0] != c.pid {
			t.Errorf("ps = %v, want [%d]", pids, c.pid)
		}
		var ev harness.Event
		var st harness.Stats
		out := mustRT(t, "events", "--stats", id)
		if err := json.Unmarshal([]byte(out), &ev); err != nil {
			t.Fatalf("events --stats: %v: %s", err, out)
		}
		if err := json.Unmarshal(ev.Data, &st); err != nil {
			t.Fatalf("events --stats: data: %v: %s", err, out)
		}
		if st.Pids.Current != 1 || st.Pids.Limit != 50 || st.Memory.Usage.Usage == 0 || st.Memory.Usage.Limit != 96<<20 {
			t.Errorf("events --stats: %s", out)
		}
	})

	t.Run("delete", func(t *testing.T) {
		mustRT(t, "kill", id, "KILL")
		poll(t, "container stopped", func() bool {
			out, _ := rt(t, "state", id)
			return strings.Contains(out, `"stopped"`)
		})
		mustRT(t, "delete", id)
		noTrace(t, unit, dir)
	})
}

// noTrace: no unit (loaded, failed or otherwise), no cgroup directory.
func noTrace(t *testing.T, unit, dir string) {
	t.Helper()
	poll(t, unit+" unloaded", func() bool { return gone(unit) })
	if _, err := os.Stat(dir); err == nil {
		t.Errorf("cgroup %s is left after delete", dir)
	}
	out, _ := exec.Command("systemctl", "list-units", "--all", "--failed", "--plain", "--no-legend").Output()
	if strings.Contains(string(out), unit) {
		t.Errorf("failed unit left: %s", out)
	}
}

// TestForceDeleteRunning: delete --force of a running container stops the
// unit with it.
func TestForceDeleteRunning(t *testing.T) {
	needGuest(t)
	id := newID(t)
	unit := "sdtest-" + id + ".scope"
	c := start(t, id, "system.slice:sdtest:"+id, unit, nil)
	dir := cgroupOf(t, c.pid)
	mustRT(t, "delete", "--force", id)
	poll(t, "init gone", func() bool { return !alive(c.pid) })
	noTrace(t, unit, dir)
}

// TestExistingUnit: a container whose unit exists (another container's)
// fails to create with a clear error and leaves the other one alone.
func TestExistingUnit(t *testing.T) {
	needGuest(t)
	id := newID(t)
	unit := "sdtest-" + id + ".scope"
	a := start(t, id, "system.slice:sdtest:"+id, unit, nil)
	b := bundle(t, "system.slice:sdtest:"+id, nil)
	id2 := id + "b"
	t.Cleanup(func() { rt(t, "delete", "--force", id2) })
	out, err := rt(t, "create", "--bundle", b, id2)
	if err == nil {
		t.Fatalf("create of a second container in %s succeeded", unit)
	}
	if !strings.Contains(out, "already exists") || !strings.Contains(out, unit) {
		t.Errorf("error does not say the unit %s exists: %s", unit, out)
	}
	if _, err := rt(t, "state", id2); err == nil {
		t.Errorf("the failed container %s left state behind", id2)
	}
	if !alive(a.pid) {
		t.Errorf("the first container's init %d died", a.pid)
	}
	expect(t, unit, cgroupOf(t, a.pid), map[string]string{"ActiveState": "active"}, nil)
}

// TestOOMNoFailedUnit: an OOM kill puts the scope into the failed state;
// delete clears it.
func TestOOMNoFailedUnit(t *testing.T) {
	needGuest(t)
	id := newID(t)
	unit := "sdtest-" + id + ".scope"
	res := &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(16 << 20), Swap: i64(16 << 20)}}
	c := start(t, id, "system.slice:sdtest:"+id, unit, res, "sh", "-c", "dd if=/dev/zero of=/dev/shm/f bs=1M count=48; sleep 1000")
	dir := cgroupOf(t, c.pid)
	poll(t, "OOM kill in "+dir, func() bool {
		ev, _ := os.ReadFile(filepath.Join(dir, "memory.events"))
		for _, l := range strings.Split(string(ev), "\n") {
			if n, ok := strings.CutPrefix(l, "oom_kill "); ok && n != "0" {
				return true
			}
		}
		return !alive(c.pid)
	})
	mustRT(t, "delete", "--force", id)
	noTrace(t, unit, dir)
}

// TestNestedSlice: a dashed slice nests (a-b.slice in a.slice), and the
// scope lands in it.
func TestNestedSlice(t *testing.T) {
	needGuest(t)
	id := newID(t)
	unit := "sdtest-" + id + ".scope"
	c := start(t, id, "sdtest-nest.slice:sdtest:"+id, unit, &specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64(10)}})
	want := "/sys/fs/cgroup/sdtest.slice/sdtest-nest.slice/" + unit
	dir := cgroupOf(t, c.pid)
	if dir != want {
		t.Errorf("container init is in %s, want %s", dir, want)
	}
	expect(t, unit, dir, map[string]string{"Slice": "sdtest-nest.slice", "TasksMax": "10"}, map[string]string{"pids.max": "10"})
	mustRT(t, "delete", "--force", id)
	noTrace(t, unit, dir)
	sysctl("stop", "sdtest-nest.slice", "sdtest.slice")
}

// TestDefaultCgroupsPath: no cgroupsPath gives <runtime>-<id>.scope in
// system.slice.
func TestDefaultCgroupsPath(t *testing.T) {
	needGuest(t)
	id := newID(t)
	name := shortName()
	unit := name + "-" + id + ".scope"
	c := start(t, id, "", unit, nil)
	dir := cgroupOf(t, c.pid)
	if want := "/sys/fs/cgroup/system.slice/" + unit; dir != want {
		t.Errorf("container init is in %s, want %s", dir, want)
	}
	expect(t, unit, dir, map[string]string{"ActiveState": "active", "Delegate": "yes"}, nil)
	mustRT(t, "delete", "--force", id)
	noTrace(t, unit, dir)
}
