package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestCgroupResources: the container's init is in a cgroup, in every
// hierarchy, whose limit files hold linux.resources; delete removes them.
func TestCgroupResources(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	id := newID(t)
	cg := "casco-test-" + id
	b.Spec.Linux.CgroupsPath = cg
	mem := int64(64 << 20)
	shares := uint64(512)
	b.Spec.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &mem}
	b.Spec.Linux.Resources.Pids = &specs.LinuxPids{Limit: i64(42)}
	b.Spec.Linux.Resources.CPU = &specs.LinuxCPU{Quota: i64(50000), Period: func() *uint64 { p := uint64(100000); return &p }(), Shares: &shares}
	r.trackCleanup(id)
	b.save(t)
	c := &container{r: r, ID: id, B: b, Create: r.mustRun("create", "--bundle", b.Dir, id)}
	s := c.start()

	cgs, err := procCgroups(s.Pid)
	if err != nil {
		t.Fatal(err)
	}
	mounts := cgroupMounts(t)
	file := func(ctrl, name string) string {
		t.Helper()
		mnt, ok := mounts[ctrl]
		if !ok {
			t.Fatalf("no %q cgroup hierarchy mounted", ctrl)
		}
		path, ok := cgs[ctrl]
		if !ok {
			t.Fatalf("container init has no %q cgroup: %v", ctrl, cgs)
		}
		if filepath.Base(path) != cg {
			t.Errorf("container's %s cgroup is %s, want one named %s (cgroupsPath)", ctrl, path, cg)
		}
		return filepath.Join(mnt, path, name)
	}
	read := func(ctrl, name string) string {
		t.Helper()
		data, err := os.ReadFile(file(ctrl, name))
		if err != nil {
			t.Errorf("%v", err)
		}
		return strings.TrimSpace(string(data))
	}

	var dirs []string
	if isCgroup2() {
		for k, want := range map[string]string{
			"memory.max": strconv.FormatInt(mem, 10),
			"pids.max":   "42",
			"cpu.max":    "50000 100000",
		} {
			if got := read("", k); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
		if procs := read("", "cgroup.procs"); !containsLine(procs, strconv.Itoa(s.Pid)) {
			t.Errorf("cgroup.procs %q lacks the init %d", procs, s.Pid)
		}
		dirs = append(dirs, filepath.Dir(file("", "x")))
	} else {
		for _, c := range []struct{ ctrl, file, want string }{
			{"memory", "memory.limit_in_bytes", strconv.FormatInt(mem, 10)},
			{"pids", "pids.max", "42"},
			{"cpu", "cpu.cfs_quota_us", "50000"},
			{"cpu", "cpu.cfs_period_us", "100000"},
			{"cpu", "cpu.shares", "512"},
		} {
			if got := read(c.ctrl, c.file); got != c.want {
				t.Errorf("%s = %q, want %q", c.file, got, c.want)
			}
		}
		for _, ctrl := range []string{"memory", "pids", "cpu", "devices", "freezer"} {
			if procs := read(ctrl, "cgroup.procs"); !containsLine(procs, strconv.Itoa(s.Pid)) {
				t.Errorf("%s cgroup.procs %q lacks the init %d", ctrl, procs, s.Pid)
			}
			dirs = append(dirs, filepath.Dir(file(ctrl, "x")))
		}
		// The device cgroup is an allow-list: not "a *:* rwm", and the
		// default devices are in it.
		devs := read("devices", "devices.list")
		if containsLine(devs, "a *:* rwm") {
			t.Errorf("devices.list allows every device: %q", devs)
		}
		for _, d := range []string{"c 1:3 rwm", "c 1:5 rwm", "c 1:9 rwm", "c 5:0 rwm"} {
			if !containsLine(devs, d) {
				t.Errorf("devices.list lacks %q: %q", d, devs)
			}
		}
	}

	r.mustRun("delete", "--force", c.ID)
	for _, d := range dirs {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("cgroup %s still exists after delete", d)
		}
	}
	noLeftovers(t, r, b, c.ID, cg)
}

func containsLine(s, line string) bool {
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) == line {
			return true
		}
	}
	return false
}

// TestCgroupMemoryLimitEnforced: the kernel enforces the memory limit: a
// process that allocates past it is killed.
func TestCgroupMemoryLimitEnforced(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	// tmpfs pages are charged to the cgroup: writing 64 MiB to /dev/shm
	// with a 16 MiB limit (and no swap) must fail or be OOM-killed.
	b := newBundle(t, "sh", "-c", "dd if=/dev/zero of=/dev/shm/fill bs=1M count=64 2>/dev/null && echo filled")
	mem := int64(16 << 20)
	b.Spec.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &mem, Swap: &mem}
	_, res := r.runForeground(b)
	if res.Code == 0 && strings.Contains(res.Stdout, "filled") {
		t.Errorf("wrote 64 MiB to tmpfs under a 16 MiB memory limit: %s", res)
	}
}
