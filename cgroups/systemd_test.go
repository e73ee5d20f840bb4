package cgroups

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func TestSystemdNotRunning(t *testing.T) {
	if systemdRunning() {
		t.Skip("systemd is running here; this checks the error without it")
	}
	_, err := New("system.slice:casco:x", "x", Options{Systemd: true})
	want := "systemd cgroup driver: systemd is not running (no /run/systemd/system)"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
}

func TestSystemdUnitNames(t *testing.T) {
	for _, c := range []struct {
		path, id      string
		rootless      bool
		slice, unit   string
		expandedSlice string
	}{
		{"", "c1", false, "system.slice", "casco-c1.scope", "/system.slice"},
		{"", "c1", true, "user.slice", "casco-c1.scope", "/user.slice"},
		{"machine-pods.slice:crio:abc", "x", false, "machine-pods.slice", "crio-abc.scope", "/machine.slice/machine-pods.slice"},
		{"a-b-c.slice::n", "x", false, "a-b-c.slice", "n.scope", "/a.slice/a-b.slice/a-b-c.slice"},
		{"-.slice:p:k.slice", "x", false, "-.slice", "k.slice", "/"},
	} {
		slice, unit, err := SystemdUnit(c.path, c.id, c.rootless)
		if err != nil || slice != c.slice || unit != c.unit {
			t.Errorf("SystemdUnit(%q) = %q %q %v, want %q %q", c.path, slice, unit, err, c.slice, c.unit)
			continue
		}
		if p, err := ExpandSlice(slice); err != nil || p != c.expandedSlice {
			t.Errorf("ExpandSlice(%q) = %q, %v, want %q", slice, p, err, c.expandedSlice)
		}
	}
	for _, bad := range []string{"a:b", "system.slice:x:", "system.slice:x:a/b"} {
		if _, _, err := SystemdUnit(bad, "x", false); err == nil {
			t.Errorf("SystemdUnit(%q) accepted", bad)
		}
	}
	for _, bad := range []string{"foo", "a--b.slice", "a/b.slice", ".slice"} {
		if _, err := ExpandSlice(bad); err == nil {
			t.Errorf("ExpandSlice(%q) accepted", bad)
		}
	}
}

func TestSystemdProperties(t *testing.T) {
	r := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: i64p(1 << 30)},
		CPU:    &specs.LinuxCPU{Shares: u64p(1024), Quota: i64p(50000), Period: u64p(100000)},
		Pids:   &specs.LinuxPids{Limit: i64p(-1)},
	}
	got := map[string]interface{}{}
	for _, p := range systemdProperties(r, true) {
		got[p.Name] = p.Value.Value()
	}
	want := map[string]interface{}{
		"MemoryMax": uint64(1 << 30), "CPUWeight": uint64(39), "CPUQuotaPerSecUSec": uint64(500000),
		"CPUQuotaPeriodUSec": uint64(100000), "TasksMax": ^uint64(0),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("property %s = %v, want %v", k, got[k], v)
		}
	}
}
