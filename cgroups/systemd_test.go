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
	props, err := systemdProperties(r, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range props {
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

func TestSystemdQuotaUnlimited(t *testing.T) {
	for _, c := range []struct {
		quota  int64
		period uint64
		want   uint64
	}{{-1, 100000, ^uint64(0)}, {0, 50000, ^uint64(0)}, {12345, 100000, 130000}, {200000, 100000, 2000000}} {
		p := cpuQuotaProperties(c.quota, c.period)
		if len(p) == 0 || p[0].Name != "CPUQuotaPerSecUSec" || p[0].Value.Value() != c.want {
			t.Errorf("quota %d period %d: %v, want CPUQuotaPerSecUSec=%d", c.quota, c.period, p, c.want)
		}
	}
	if p := cpuQuotaProperties(0, 0); p != nil {
		t.Errorf("no quota, no period: %v", p)
	}
}

func TestSystemdCpusetBitmask(t *testing.T) {
	for in, want := range map[string][]byte{"0": {1}, "0-2,7": {0x87}, "8": {0, 1}, "1,9-10": {2, 6}} {
		got, err := listToBitmask(in)
		if err != nil || string(got) != string(want) {
			t.Errorf("listToBitmask(%q) = %v, %v, want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "a", "3-1", "1-"} {
		if _, err := listToBitmask(bad); err == nil {
			t.Errorf("listToBitmask(%q) accepted", bad)
		}
	}
}

func TestSystemdDeviceProperties(t *testing.T) {
	props := func(rules []specs.LinuxDeviceCgroup) (string, []deviceAllow) {
		t.Helper()
		p, err := deviceProperties(rules)
		if err != nil {
			t.Fatal(err)
		}
		policy, allow := "", []deviceAllow(nil)
		for _, q := range p {
			switch q.Name {
			case "DevicePolicy":
				policy = q.Value.Value().(string)
			case "DeviceAllow":
				allow = append(allow, q.Value.Value().([]deviceAllow)...)
			}
		}
		return policy, allow
	}
	// runc's default spec: deny all, then the defaults
	policy, allow := props(DeviceRules([]specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}))
	if policy != "strict" {
		t.Errorf("policy %q, want strict", policy)
	}
	have := map[deviceAllow]bool{}
	for _, a := range allow {
		have[a] = true
	}
	for _, w := range []deviceAllow{{"/dev/char/1:3", "rwm"}, {"/dev/char/5:2", "rwm"}, {"char-*", "m"}, {"block-*", "m"}, {"char-pts", "rwm"}} {
		if !have[w] {
			t.Errorf("DeviceAllow lacks %v: %v", w, allow)
		}
	}
	// a deny after an allow takes its access away
	_, allow = props([]specs.LinuxDeviceCgroup{
		{Allow: true, Type: "c", Major: ptr(1), Minor: ptr(3), Access: "rwm"},
		{Allow: false, Type: "c", Major: ptr(1), Minor: ptr(3), Access: "w"},
	})
	if len(allow) != 1 || allow[0] != (deviceAllow{"/dev/char/1:3", "rm"}) {
		t.Errorf("allow then deny w: %v, want [/dev/char/1:3 rm]", allow)
	}
	// allow-all: systemd cannot express the denials that follow; no policy
	policy, allow = props([]specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}, {Allow: false, Type: "c", Major: ptr(1), Minor: ptr(3), Access: "rwm"}})
	if policy != "auto" || len(allow) != 0 {
		t.Errorf("allow all: policy %q allow %v, want auto and none", policy, allow)
	}
}
