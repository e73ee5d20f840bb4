package cgroups

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// These run only where systemd is PID 1 on cgroup v2 (the guest of
// tests/systemd/run.sh); elsewhere they skip with the reason.

func needSystemdV2(t *testing.T) {
	t.Helper()
	requireRoot(t)
	if !systemdRunning() {
		t.Skip("systemd is not PID 1 here (tests/systemd/run.sh runs this in a guest where it is)")
	}
	if mode(t) != Unified {
		t.Skip("not a pure cgroup v2 host")
	}
}

// unitProps reads scope properties from systemd itself.
func unitProps(t *testing.T, unit string) map[string]interface{} {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), DefaultSystemdTimeout)
	defer cancel()
	c, err := sddbus.NewWithContext(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p, err := c.GetUnitTypePropertiesContext(ctx, unit, "Scope")
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.GetUnitPropertiesContext(ctx, unit)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range u {
		p[k] = v
	}
	return p
}

// TestSystemdScopeLive: Add starts <prefix>-<name>.scope, delegated, with
// the limits as properties and in the files; Set updates both; Destroy
// stops the unit and removes the cgroup.
func TestSystemdScopeLive(t *testing.T) {
	needSystemdV2(t)
	name := fmt.Sprintf("live%d", os.Getpid())
	unit := "cascotest-" + name + ".scope"
	m, err := New("system.slice:cascotest:"+name, name, Options{Systemd: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Destroy() })
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	r := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{Limit: i64p(64 << 20), Reservation: i64p(8 << 20)},
		CPU:     &specs.LinuxCPU{Shares: u64p(512), Quota: i64p(25000), Period: u64p(100000), Cpus: "0"},
		Pids:    &specs.LinuxPids{Limit: i64p(42)},
		BlockIO: &specs.LinuxBlockIO{Weight: u16p(500)},
		Devices: DeviceRules(nil),
	}
	if err := m.Set(r); err != nil {
		t.Fatal(err)
	}
	sleep := startSleep(t)
	if err := m.Add(sleep.Process.Pid); err != nil {
		t.Fatal(err)
	}
	dir := m.Paths()[""]
	if want := Root + "/system.slice/" + unit; dir != want {
		t.Fatalf("cgroup %s, want %s", dir, want)
	}
	inCgroup(t, sleep.Process.Pid, m)
	p := unitProps(t, unit)
	want := map[string]interface{}{
		"Delegate": true, "Slice": "system.slice", "ActiveState": "active",
		"MemoryMax": uint64(64 << 20), "MemoryLow": uint64(8 << 20), "TasksMax": uint64(42),
		"CPUQuotaPerSecUSec": uint64(250000), "CPUWeight": uint64(20), "IOWeight": uint64(4950),
		"DevicePolicy": "strict",
	}
	for k, v := range want {
		if fmt.Sprint(p[k]) != fmt.Sprint(v) {
			t.Errorf("unit %s: %s = %v, want %v", unit, k, p[k], v)
		}
	}
	// systemd pads the CPU mask to whole words
	if mask, _ := p["AllowedCPUs"].([]byte); len(mask) == 0 || mask[0] != 1 || strings.Trim(string(mask[1:]), "\x00") != "" {
		t.Errorf("unit %s: AllowedCPUs = %v, want CPU 0 only", unit, p["AllowedCPUs"])
	}
	wantFile(t, dir, "memory.max", "67108864")
	wantFile(t, dir, "cpu.max", "25000 100000")
	wantFile(t, dir, "pids.max", "42")
	// systemd enables only the controllers it knows down to the unit;
	// the driver enables the rest (hugetlb here) as the fs driver does.
	ctrls := readTrim(t, dir, "cgroup.controllers")
	for _, c := range strings.Fields(readTrim(t, Root, "cgroup.subtree_control")) {
		if !slices.Contains(strings.Fields(ctrls), c) {
			t.Errorf("controller %s not enabled for %s (%q)", c, dir, ctrls)
		}
	}

	if err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64p(-1)}, CPU: &specs.LinuxCPU{Quota: i64p(-1), Period: u64p(100000)}}); err != nil {
		t.Fatal(err)
	}
	p = unitProps(t, unit)
	if p["MemoryMax"] != ^uint64(0) || p["CPUQuotaPerSecUSec"] != ^uint64(0) {
		t.Errorf("after update to unlimited: MemoryMax=%v CPUQuotaPerSecUSec=%v, want infinity", p["MemoryMax"], p["CPUQuotaPerSecUSec"])
	}
	wantFile(t, dir, "memory.max", "max")
	wantFile(t, dir, "cpu.max", "max 100000")

	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	waitExit(t, sleep) // stopping the scope kills what is in it
	deadline := time.Now().Add(30 * time.Second)
	for exists(dir) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if exists(dir) {
		t.Errorf("%s left after Destroy", dir)
	}
	if s := unitProps(t, unit)["LoadState"]; s != "not-found" {
		t.Errorf("unit %s after Destroy: LoadState %v, want not-found", unit, s)
	}
	// Destroy of a unit that is gone is fine (delete after the container exited)
	if err := m.Destroy(); err != nil {
		t.Errorf("second Destroy: %v", err)
	}
}

// TestSystemdUnitExistsLive: a second container for a live unit fails
// clearly, naming the unit.
func TestSystemdUnitExistsLive(t *testing.T) {
	needSystemdV2(t)
	name := fmt.Sprintf("dup%d", os.Getpid())
	var ms []Manager
	for i := 0; i < 2; i++ {
		m, err := New("system.slice:cascotest:"+name, name, Options{Systemd: true})
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	t.Cleanup(func() { ms[0].Destroy() })
	a, b := startSleep(t), startSleep(t)
	if err := ms[0].Add(a.Process.Pid); err != nil {
		t.Fatal(err)
	}
	err := ms[1].Add(b.Process.Pid)
	if err == nil || !strings.Contains(err.Error(), "cascotest-"+name+".scope: the unit already exists") {
		t.Errorf("second Add: %v, want the unit-exists error", err)
	}
}

// TestSystemdUserLive: the rootless path. Run as an unprivileged user
// whose `systemd --user` runs (run.sh's user suite): the scope is made by
// the user's manager in its user.slice, delegated, and the limits the
// user may set (the controllers systemd delegates to users) land.
func TestSystemdUserLive(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("the user instance is for non-root callers (tests/systemd/run.sh runs this as a user)")
	}
	if !systemdRunning() {
		t.Skip("systemd is not PID 1 here")
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Skip("no DBUS_SESSION_BUS_ADDRESS: no user bus to reach `systemd --user`")
	}
	name := fmt.Sprintf("user%d", os.Getpid())
	m, err := New("", name, Options{Systemd: true, Rootless: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Destroy() })
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	if err := m.Set(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64p(20)}, Memory: &specs.LinuxMemory{Limit: i64p(64 << 20)}}); err != nil {
		t.Fatal(err)
	}
	sleep := startSleep(t)
	if err := m.Add(sleep.Process.Pid); err != nil {
		t.Fatal(err)
	}
	dir := m.Paths()[""]
	want := fmt.Sprintf("%s/user.slice/user-%d.slice/user@%d.service/user.slice/casco-%s.scope", Root, os.Getuid(), os.Getuid(), name)
	if dir != want {
		t.Errorf("cgroup %s, want %s", dir, want)
	}
	inCgroup(t, sleep.Process.Pid, m)
	wantFile(t, dir, "pids.max", "20")
	wantFile(t, dir, "memory.max", "67108864")
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	waitExit(t, sleep)
	deadline := time.Now().Add(30 * time.Second)
	for exists(dir) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if exists(dir) {
		t.Errorf("%s left after Destroy", dir)
	}
}
