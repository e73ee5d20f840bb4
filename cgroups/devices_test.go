package cgroups

import (
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func devRule(allow bool, typ string, major, minor int64, access string) specs.LinuxDeviceCgroup {
	d := specs.LinuxDeviceCgroup{Allow: allow, Type: typ, Access: access}
	if major >= 0 {
		d.Major = &major
	}
	if minor >= 0 {
		d.Minor = &minor
	}
	return d
}

// deviceCases pin down the rule semantics (later rules override earlier
// ones, per access bit, default deny) against the kernel itself: the same
// table runs through v1 devices.allow/deny and through the eBPF filter.
var deviceCases = []struct {
	name  string
	rules []specs.LinuxDeviceCgroup
	want  map[string]string // "path:mode" -> "ok" or errno text
}{
	{
		"allow-list",
		[]specs.LinuxDeviceCgroup{devRule(true, "c", 1, 3, "rwm"), devRule(true, "c", 1, 5, "r")},
		map[string]string{"/dev/null:rw": "ok", "/dev/zero:r": "ok", "/dev/zero:w": "operation not permitted", "/dev/full:r": "operation not permitted"},
	},
	{
		"allow-all-then-deny-write",
		[]specs.LinuxDeviceCgroup{devRule(true, "a", -1, -1, "rwm"), devRule(false, "c", 1, 7, "w")},
		map[string]string{"/dev/full:r": "ok", "/dev/full:w": "operation not permitted", "/dev/zero:w": "ok"},
	},
	{
		"bits-from-two-rules",
		[]specs.LinuxDeviceCgroup{devRule(true, "c", 1, 5, "r"), devRule(true, "c", 1, 5, "w")},
		map[string]string{"/dev/zero:rw": "ok", "/dev/null:r": "operation not permitted"},
	},
	{
		"deny-all-resets",
		[]specs.LinuxDeviceCgroup{devRule(true, "c", -1, -1, "rwm"), devRule(false, "a", -1, -1, "rwm"), devRule(true, "c", 1, 3, "r")},
		map[string]string{"/dev/null:r": "ok", "/dev/null:w": "operation not permitted", "/dev/zero:r": "operation not permitted"},
	},
}

func checkOpens(t *testing.T, m Manager, want map[string]string) {
	t.Helper()
	var list []string
	for k := range want {
		list = append(list, k)
	}
	h := startHelper(t, "open:"+strings.Join(list, ","), nil)
	if err := m.Add(h.cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	h.stdin.Write([]byte("go\n"))
	waitExit(t, h.cmd)
	out := h.out.String()
	for k, v := range want {
		if !strings.Contains(out, k+" "+v+"\n") {
			t.Errorf("want %q %s, got:\n%s", k, v, out)
		}
	}
}

// TestDeviceRuleSemantics runs through whatever this host enforces with:
// devices.allow/deny on v1 and hybrid, the eBPF program on v2.
func TestDeviceRuleSemantics(t *testing.T) {
	for _, c := range deviceCases {
		t.Run(c.name, func(t *testing.T) {
			m := newCreated(t)
			if err := m.Set(&specs.LinuxResources{Devices: c.rules}); err != nil {
				t.Fatal(err)
			}
			checkOpens(t, m, c.want)
		})
	}
}

// TestDeviceFilterEBPF runs the eBPF filter even on a hybrid host, by
// attaching it to the container's cgroup in the unified hierarchy.
func TestDeviceFilterEBPF(t *testing.T) {
	requireRoot(t)
	if mode(t) == Unified {
		t.Skip("covered by TestDeviceRuleSemantics on v2")
	}
	if mode(t) != Hybrid {
		t.Skip("no cgroup2 hierarchy on this host to attach an eBPF filter to")
	}
	for _, c := range deviceCases {
		t.Run(c.name, func(t *testing.T) {
			m := newCreated(t)
			u := m.Paths()[""]
			if err := setDevicesV2(u, &specs.LinuxResources{Devices: c.rules}, false); err != nil {
				t.Fatal(err)
			}
			checkOpens(t, m, c.want)
		})
	}
}

// Setting devices twice must replace the filter, not stack a second one
// on top (which would keep the old denials).
func TestDeviceFilterReplace(t *testing.T) {
	requireRoot(t)
	m := newCreated(t)
	dir := m.Paths()[""]
	if dir == "" {
		t.Skip("no cgroup2 directory (pure v1 host)")
	}
	set := func(rules []specs.LinuxDeviceCgroup) {
		if err := setDevicesV2(dir, &specs.LinuxResources{Devices: rules}, false); err != nil {
			t.Fatal(err)
		}
	}
	set([]specs.LinuxDeviceCgroup{devRule(true, "c", 1, 3, "rwm")})
	set([]specs.LinuxDeviceCgroup{devRule(true, "c", 1, 5, "rwm")})
	checkOpens(t, m, map[string]string{"/dev/zero:r": "ok", "/dev/null:r": "operation not permitted"})
	if _, err := os.Stat("/dev/null"); err != nil {
		t.Fatal(err)
	}
}

// The emulation that lets an unchanged device list skip its rewrite must
// agree with the kernel: after Set, devices.list has to equal it.
func TestDeviceEmulationMatchesKernelV1(t *testing.T) {
	m := newCreated(t)
	dir, ok := m.Paths()["devices"]
	if !ok {
		t.Skip("no v1 devices controller on this host")
	}
	sets := [][]specs.LinuxDeviceCgroup{DeviceRules(nil), DeviceRules([]specs.LinuxDeviceCgroup{devRule(false, "c", 1, 3, "w")})}
	for _, c := range deviceCases {
		sets = append(sets, c.rules)
	}
	for i, rules := range sets {
		if err := m.Set(&specs.LinuxResources{Devices: rules}); err != nil {
			t.Fatal(err)
		}
		parsed, _ := parseDeviceRules(rules)
		st := emulateV1(parsed)
		list := readTrim(t, dir, "devices.list")
		if !st.equalsList(list) && !(st.defaultAllow && len(st.exceptions) > 0) {
			t.Errorf("set %d: emulation %+v does not match devices.list:\n%s", i, st, list)
		}
	}
	// Unchanged rules: skipped, and the list stays right.
	if err := m.Set(&specs.LinuxResources{Devices: DeviceRules(nil)}); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(&specs.LinuxResources{Devices: DeviceRules(nil)}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(readTrim(t, dir, "devices.list"), "c 1:3 rwm") {
		t.Error("default rules lost after a repeated Set")
	}
}

// equalsList reports whether devices.list shows exactly this state (never
// for an allow-by-default state with exceptions, which the list hides).
func (s v1DeviceState) equalsList(list string) bool {
	got := parseV1List(list)
	if got == nil || got.defaultAllow != s.defaultAllow {
		return false
	}
	if s.defaultAllow {
		return len(s.exceptions) == 0
	}
	if len(got.exceptions) != len(s.exceptions) {
		return false
	}
	for k, v := range s.exceptions {
		if got.exceptions[k] != v {
			return false
		}
	}
	return true
}

// TestV1Transition: between two deny-by-default states only the difference
// is written, access taken away before access given; a change of default,
// or a start the list cannot show (allow by default), begins with a reset.
func TestV1Transition(t *testing.T) {
	state := func(allow bool, rules ...specs.LinuxDeviceCgroup) v1DeviceState {
		parsed, err := parseDeviceRules(append([]specs.LinuxDeviceCgroup{{Allow: allow, Access: "rwm"}}, rules...))
		if err != nil {
			t.Fatal(err)
		}
		return emulateV1(parsed)
	}
	lines := func(rules []deviceRule) string {
		var out []string
		for _, r := range rules {
			verb := "deny"
			if r.Allow {
				verb = "allow"
			}
			out = append(out, verb+" "+r.v1Line())
		}
		return strings.Join(out, "; ")
	}
	from := state(false, devRule(true, "c", 1, 3, "rwm"), devRule(true, "c", 1, 5, "rwm"), devRule(true, "b", 8, -1, "r"))
	to := state(false, devRule(true, "c", 1, 3, "rw"), devRule(true, "c", 1, 8, "rwm"), devRule(true, "b", 8, -1, "r"))
	cases := []struct {
		name string
		from *v1DeviceState
		to   v1DeviceState
		want string
	}{
		{"unchanged", &from, from, ""},
		{"whitelist", &from, to, "deny c 1:3 m; deny c 1:5 rwm; allow c 1:8 rwm"},
		{"unknown", nil, to, "deny a *:* rwm; allow b 8:* r; allow c 1:3 rw; allow c 1:8 rwm"},
		{"to-allow", &from, state(true, devRule(false, "c", 1, 3, "w")), "allow a *:* rwm; deny c 1:3 w"},
		{"from-allow", &v1DeviceState{defaultAllow: true, exceptions: map[deviceKey]int32{}}, state(true), "allow a *:* rwm"},
	}
	for _, c := range cases {
		if got := lines(v1Transition(c.from, c.to)); got != c.want {
			t.Errorf("%s: writes %q, want %q", c.name, got, c.want)
		}
	}
}
