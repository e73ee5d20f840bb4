package cgroups

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// blockDevice finds a block device's "major:minor" to throttle, or skips.
func blockDevice(t *testing.T) (int64, int64) {
	t.Helper()
	if maj, min, ok := findBlockDevice(); ok {
		return maj, min
	}
	// The v2 guest has no disk, but can load loop (its README says so).
	if err := exec.Command("modprobe", "loop").Run(); err == nil {
		if maj, min, ok := findBlockDevice(); ok {
			return maj, min
		}
	}
	t.Skip("no block device in /sys/block to throttle")
	return 0, 0
}

func findBlockDevice() (int64, int64, bool) {
	for _, name := range []string{"vda", "sda", "nvme0n1", "loop0"} {
		data, err := os.ReadFile("/sys/block/" + name + "/dev")
		if err != nil {
			continue
		}
		var maj, min int64
		if _, err := fmtSscanDev(strings.TrimSpace(string(data)), &maj, &min); err == nil {
			return maj, min, true
		}
	}
	return 0, 0, false
}

func TestSetMoreCPUAndMemory(t *testing.T) {
	m := newCreated(t)
	p := m.Paths()
	r := &specs.LinuxResources{
		CPU:    &specs.LinuxCPU{Quota: i64p(20000), Period: u64p(100000), Burst: u64p(10000), Idle: i64p(0)},
		Memory: &specs.LinuxMemory{Reservation: i64p(-1)},
		Pids:   &specs.LinuxPids{Limit: i64p(-1)},
	}
	if mode(t) != Unified {
		r.Memory.Swappiness = u64p(10)
		r.Memory.DisableOOMKiller = boolp(true)
		r.Memory.KernelTCP = i64p(16 << 20)
	}
	if err := m.Set(r); err != nil {
		t.Fatal(err)
	}
	if mode(t) == Unified {
		wantFile(t, p[""], "cpu.max", "20000 100000")
		wantFile(t, p[""], "cpu.max.burst", "10000")
		wantFile(t, p[""], "cpu.idle", "0")
		wantFile(t, p[""], "memory.low", "max")
		wantFile(t, p[""], "pids.max", "max")
		return
	}
	wantFile(t, p["cpu"], "cpu.cfs_burst_us", "10000")
	wantFile(t, p["cpu"], "cpu.idle", "0")
	wantFile(t, p["memory"], "memory.swappiness", "10")
	wantFile(t, p["memory"], "memory.kmem.tcp.limit_in_bytes", "16777216")
	if oc, _ := readKeyed(p["memory"], "memory.oom_control"); oc["oom_kill_disable"] != 1 {
		t.Errorf("memory.oom_control = %v, want oom_kill_disable 1", oc)
	}
	wantFile(t, p["pids"], "pids.max", "max")
	if err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Swappiness: u64p(101)}}); err == nil {
		t.Error("swappiness 101 accepted")
	}
}

// Raising and lowering memory with swap must each succeed: the kernel
// insists on memsw >= limit at every step.
func TestMemorySwapUpdates(t *testing.T) {
	m := newCreated(t)
	p := m.Paths()
	if !fileExists(p["memory"], v1MemSwap) && !fileExists(p[""], "memory.swap.max") {
		t.Skip("no swap accounting on this host")
	}
	for _, c := range []struct{ limit, swap int64 }{{64 << 20, 128 << 20}, {32 << 20, 48 << 20}, {256 << 20, 512 << 20}, {-1, 0}} {
		if err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64p(c.limit), Swap: i64p(c.swap)}}); err != nil {
			t.Fatalf("limit %d swap %d: %v", c.limit, c.swap, err)
		}
	}
	if mode(t) == Unified {
		wantFile(t, p[""], "memory.max", "max")
		wantFile(t, p[""], "memory.swap.max", "max")
	} else {
		wantFile(t, p["memory"], v1MemLimit, "9223372036854771712")
		wantFile(t, p["memory"], v1MemSwap, "9223372036854771712")
	}
	// Swap below the limit is a config error, caught before any write on v2.
	err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64p(64 << 20), Swap: i64p(32 << 20)}})
	if err == nil {
		t.Error("swap < limit accepted")
	}
}

func TestCheckBeforeUpdate(t *testing.T) {
	m := newCreated(t)
	h := startHelper(t, "alloc:8:hold", nil)
	if err := m.Add(h.cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	h.stdin.Write([]byte("go\n"))
	h.waitOutput(t, "allocated 8")
	err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64p(4 << 20), CheckBeforeUpdate: boolp(true)}})
	if err == nil || !strings.Contains(err.Error(), "below current usage") {
		t.Fatalf("got %v, want a below-current-usage error", err)
	}
}

func TestBlockIO(t *testing.T) {
	m := newCreated(t)
	maj, min := blockDevice(t)
	dev := specs.LinuxBlockIODevice{Major: maj, Minor: min}
	r := &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{
		ThrottleReadBpsDevice:   []specs.LinuxThrottleDevice{{LinuxBlockIODevice: dev, Rate: 1 << 20}},
		ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: dev, Rate: 100}},
	}}
	if err := m.Set(r); err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(strings.Join([]string{itoa(maj), ":", itoa(min)}, ""))
	if mode(t) == Unified {
		got := readTrim(t, m.Paths()[""], "io.max")
		if !strings.Contains(got, key+" rbps=1048576 wbps=max riops=max wiops=100") {
			t.Errorf("io.max = %q", got)
		}
	} else {
		wantFile(t, m.Paths()["blkio"], "blkio.throttle.read_bps_device", key+" 1048576")
		wantFile(t, m.Paths()["blkio"], "blkio.throttle.write_iops_device", key+" 100")
	}
	// A weight needs BFQ (v1) or the io.weight file (v2); skip cleanly if absent.
	d := m.Paths()["blkio"]
	if mode(t) == Unified {
		d = m.Paths()[""]
	}
	if !fileExists(d, "io.weight") && !fileExists(d, "io.bfq.weight") && !fileExists(d, "blkio.bfq.weight") && !fileExists(d, "blkio.weight") {
		t.Log("no io/blkio weight file on this kernel; weight not tested")
		return
	}
	if err := m.Set(&specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: u16p(500)}}); err != nil {
		t.Fatal(err)
	}
}

func TestHugepageLimits(t *testing.T) {
	m := newCreated(t)
	sizes := hugePageSizes()
	if len(sizes) == 0 {
		t.Skip("no huge page sizes on this host")
	}
	dir, suffix := m.Paths()["hugetlb"], ".limit_in_bytes"
	if dir == "" {
		dir, suffix = m.Paths()[""], ".max"
	}
	if dir == "" || !fileExists(dir, "hugetlb."+sizes[0]+suffix) {
		t.Skip("hugetlb controller not available for this cgroup")
	}
	// 0 is a real limit ("no huge pages"), not "unset".
	limits := []specs.LinuxHugepageLimit{{Pagesize: sizes[0], Limit: 0}}
	if err := m.Set(&specs.LinuxResources{HugepageLimits: limits}); err != nil {
		t.Fatal(err)
	}
	wantFile(t, dir, "hugetlb."+sizes[0]+suffix, "0")
	if err := m.Set(&specs.LinuxResources{HugepageLimits: []specs.LinuxHugepageLimit{{Pagesize: "../x"}}}); err == nil {
		t.Error("bad page size accepted")
	}
}

func TestUnifiedValidation(t *testing.T) {
	m := newCreated(t)
	for _, key := range []string{"../memory.max", "a/b", "nodot", ".max", ""} {
		err := m.Set(&specs.LinuxResources{Unified: map[string]string{key: "1"}})
		if err == nil {
			t.Errorf("unified key %q accepted", key)
		}
	}
	// membership is no resource; the pid is above any pid_max, so a
	// regression moves no process
	for _, key := range []string{"cgroup.procs", "cgroup.threads"} {
		err := m.Set(&specs.LinuxResources{Unified: map[string]string{key: "4194304"}})
		if err == nil || !strings.Contains(err.Error(), "moves processes") {
			t.Errorf("unified key %q: %v, want a refusal", key, err)
		}
	}
	switch mode(t) {
	case Legacy:
		err := m.Set(&specs.LinuxResources{Unified: map[string]string{"memory.high": "1"}})
		if err == nil || !strings.Contains(err.Error(), "invalid configuration: cannot use unified on cgroup v1") {
			t.Errorf("unified on pure v1: %v, want runc's invalid configuration error", err)
		}
	case Hybrid:
		// The unified hierarchy here does not own memory.
		err := m.Set(&specs.LinuxResources{Unified: map[string]string{"memory.high": "1"}})
		if err == nil || !strings.Contains(err.Error(), "not enabled") {
			t.Errorf("memory.high on hybrid: %v", err)
		}
	case Unified:
		if err := m.Set(&specs.LinuxResources{Unified: map[string]string{"memory.high": "104857600", "pids.max": "7"}}); err != nil {
			t.Fatal(err)
		}
		wantFile(t, m.Paths()[""], "memory.high", "104857600")
		wantFile(t, m.Paths()[""], "pids.max", "7")
	}
}

func TestNetworkNeedsV1Controllers(t *testing.T) {
	m := newCreated(t)
	err := m.Set(&specs.LinuxResources{Network: &specs.LinuxNetwork{ClassID: new(uint32)}})
	if _, ok := m.Paths()["net_cls"]; ok {
		if err != nil {
			t.Fatal(err)
		}
		wantFile(t, m.Paths()["net_cls"], "net_cls.classid", "0")
		return
	}
	if err == nil || !strings.Contains(err.Error(), "net_cls") {
		t.Fatalf("network classID without net_cls: got %v", err)
	}
}

func TestBadDeviceRule(t *testing.T) {
	m := newCreated(t)
	for _, d := range []specs.LinuxDeviceCgroup{{Allow: true, Type: "x"}} {
		if err := m.Set(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{d}}); err == nil {
			t.Errorf("device rule %+v accepted", d)
		}
	}
}

// TestDeviceAccessLetters: as runc, letters other than r, w and m are no
// access and are dropped ("rwa" is "rw"); a rule left with none is a no-op
// unless it is a wildcard, which sets the default whatever its access.
func TestDeviceAccessLetters(t *testing.T) {
	for in, want := range map[string]string{"rwa": "rw", "mwr": "rwm", "rwx": "rw", "m": "m"} {
		r, err := parseDeviceRule(specs.LinuxDeviceCgroup{Type: "c", Major: ptr(1), Minor: ptr(3), Access: in})
		if err != nil || r.Access != want {
			t.Errorf("access %q: got %q, %v; want %q", in, r.Access, err, want)
		}
	}
	rules, err := parseDeviceRules([]specs.LinuxDeviceCgroup{{Type: "c", Access: "a"}, {Type: "a", Access: "a"}})
	if err != nil || len(rules) != 1 || rules[0].Type != 'a' || rules[0].Access != "rwm" {
		t.Errorf("rules with no access letter: got %+v, %v; want only the wildcard, rwm", rules, err)
	}
}

// TestUnifiedOnPureV1: a manager with no unified hierarchy (a pure v1 host,
// which neither a hybrid host nor the guests are) refuses
// linux.resources.unified in runc's words, before writing anything.
func TestUnifiedOnPureV1(t *testing.T) {
	dir := t.TempDir()
	m := newFs(map[string]string{"pids": dir}, Options{})
	err := m.setUnified(&specs.LinuxResources{Unified: map[string]string{"pids.max": "7"}})
	if err == nil || err.Error() != "invalid configuration: cannot use unified on cgroup v1" {
		t.Errorf("unified on pure v1: %v, want runc's invalid configuration error", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("files written on refusal: %v", ents)
	}
}
