package cgroups

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func i64p(v int64) *int64   { return &v }
func u64p(v uint64) *uint64 { return &v }
func boolp(v bool) *bool    { return &v }
func u16p(v uint16) *uint16 { return &v }

func TestDetectMode(t *testing.T) {
	m := mode(t)
	t.Logf("cgroup mode: %v", m)
}

func TestCreateSetReadBack(t *testing.T) {
	m := newCreated(t)
	md := mode(t)
	paths := m.Paths()
	for k, d := range paths {
		if !exists(d) {
			t.Errorf("%q dir %s not created", k, d)
		}
	}
	limit := int64(64 << 20)
	r := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: &limit, Reservation: i64p(32 << 20)},
		CPU: &specs.LinuxCPU{Shares: u64p(512), Quota: i64p(50000), Period: u64p(100000),
			Cpus: "0", Mems: "0"},
		Pids:    &specs.LinuxPids{Limit: i64p(42)},
		Devices: DeviceRules(nil),
	}
	swapOK := md != Unified && fileExists(paths["memory"], v1MemSwap) || md == Unified && fileExists(paths[""], "memory.swap.max")
	if swapOK {
		r.Memory.Swap = i64p(96 << 20)
	}
	if err := m.Set(r); err != nil {
		t.Fatal(err)
	}
	if md == Unified {
		d := paths[""]
		wantFile(t, d, "memory.max", "67108864")
		wantFile(t, d, "memory.low", "33554432")
		if swapOK {
			wantFile(t, d, "memory.swap.max", "33554432") // swap - limit
		}
		wantFile(t, d, "cpu.weight", "20") // 1 + (510*9999)/262142
		wantFile(t, d, "cpu.max", "50000 100000")
		wantFile(t, d, "pids.max", "42")
		wantFile(t, d, "cpuset.cpus", "0")
		wantFile(t, d, "cpuset.mems", "0")
		return
	}
	wantFile(t, paths["memory"], "memory.limit_in_bytes", "67108864")
	wantFile(t, paths["memory"], "memory.soft_limit_in_bytes", "33554432")
	if swapOK {
		wantFile(t, paths["memory"], "memory.memsw.limit_in_bytes", "100663296")
	}
	wantFile(t, paths["cpu"], "cpu.shares", "512")
	wantFile(t, paths["cpu"], "cpu.cfs_quota_us", "50000")
	wantFile(t, paths["cpu"], "cpu.cfs_period_us", "100000")
	wantFile(t, paths["pids"], "pids.max", "42")
	wantFile(t, paths["cpuset"], "cpuset.cpus", "0")
	wantFile(t, paths["cpuset"], "cpuset.mems", "0")
	list := readTrim(t, paths["devices"], "devices.list")
	for _, want := range []string{"c 1:3 rwm", "c 136:* rwm", "c *:* m", "b *:* m"} {
		if !strings.Contains(list, want) {
			t.Errorf("devices.list lacks %q:\n%s", want, list)
		}
	}
	if strings.Contains(list, "a *:* rwm") {
		t.Errorf("devices.list still allows everything:\n%s", list)
	}
}

// Nil and zero fields must leave the kernel's defaults alone; a pids limit
// of 0 is no "unset": it is pids.max 1, as runc 1.5 writes it.
func TestSetLeavesUnsetAlone(t *testing.T) {
	m := newCreated(t)
	md := mode(t)
	r := &specs.LinuxResources{
		Memory: &specs.LinuxMemory{Limit: i64p(0)},
		CPU:    &specs.LinuxCPU{Shares: u64p(0)},
		Pids:   &specs.LinuxPids{},
	}
	if err := m.Set(r); err != nil {
		t.Fatal(err)
	}
	p := m.Paths()
	if md == Unified {
		wantFile(t, p[""], "memory.max", "max")
		wantFile(t, p[""], "pids.max", "max")
		wantFile(t, p[""], "cpu.weight", "100")
		return
	}
	wantFile(t, p["pids"], "pids.max", "max")
	wantFile(t, p["cpu"], "cpu.shares", "1024")
	if err := m.Set(&specs.LinuxResources{Pids: &specs.LinuxPids{Limit: i64p(0)}}); err != nil {
		t.Fatal(err)
	}
	wantFile(t, p["pids"], "pids.max", "1")
}

func TestSetErrorNamesFileAndValue(t *testing.T) {
	m := newCreated(t)
	err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64p(-5)}})
	file := "memory.limit_in_bytes"
	if mode(t) == Unified {
		file = "memory.max"
	}
	want := `write "` + file + `" = "-5": invalid argument`
	if err == nil || err.Error() != want {
		t.Fatalf("got error %v, want %q", err, want)
	}
	var we *WriteError
	if !errors.As(err, &we) || !errors.Is(err, unix.EINVAL) {
		t.Fatalf("error %#v is not a *WriteError wrapping EINVAL", err)
	}
}

func TestAddPidsFreezeThawKill(t *testing.T) {
	m := newCreated(t)
	cmd := startSleep(t)
	pid := cmd.Process.Pid
	if err := m.Add(pid); err != nil {
		t.Fatal(err)
	}
	inCgroup(t, pid, m)
	pids, err := m.Pids()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(pids, pid) {
		t.Fatalf("Pids() = %v, want it to contain %d", pids, pid)
	}

	if err := m.Freeze(); err != nil {
		t.Fatal(err)
	}
	if paused, err := m.State(); err != nil || !paused {
		t.Fatalf("State after Freeze = %v, %v", paused, err)
	}
	if mode(t) == Unified {
		if !strings.Contains(readTrim(t, m.Paths()[""], "cgroup.events"), "frozen 1") {
			t.Error("cgroup.events does not say frozen 1")
		}
	} else {
		wantFile(t, m.Paths()["freezer"], "freezer.state", "FROZEN")
	}
	if err := m.Thaw(); err != nil {
		t.Fatal(err)
	}
	if paused, err := m.State(); err != nil || paused {
		t.Fatalf("State after Thaw = %v, %v", paused, err)
	}

	if err := m.Kill(unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitExit(t, cmd)
	if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != unix.SIGKILL {
		t.Errorf("sleep ended with %v, want killed by SIGKILL", cmd.ProcessState)
	}
}

func TestKillOtherSignal(t *testing.T) {
	m := newCreated(t)
	cmd := startSleep(t)
	if err := m.Add(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	if err := m.Kill(unix.SIGTERM); err != nil {
		t.Fatal(err)
	}
	waitExit(t, cmd)
	if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != unix.SIGTERM {
		t.Errorf("sleep ended with %v, want SIGTERM", cmd.ProcessState)
	}
}

func TestCreateRefusesBusyCgroup(t *testing.T) {
	m := newCreated(t)
	cmd := startSleep(t)
	if err := m.Add(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	m2, err := Load(m.Paths())
	if err != nil {
		t.Fatal(err)
	}
	err = m2.Create()
	if err == nil || !strings.Contains(err.Error(), "is not empty: 1 process(es) found") {
		t.Fatalf("Create on a busy cgroup: got %v", err)
	}
	// An existing but empty cgroup may be joined.
	_ = cmd.Process.Kill()
	waitExit(t, cmd)
	if err := m2.Create(); err != nil {
		t.Fatalf("Create on an existing empty cgroup: %v", err)
	}
}

func TestDestroyRemovesEverything(t *testing.T) {
	m := newCreated(t)
	// A sub-cgroup, as a nested runtime in the container would make.
	for _, d := range m.Paths() {
		if err := os.Mkdir(filepath.Join(d, "nested"), 0o755); err != nil && !os.IsExist(err) {
			t.Fatal(err)
		}
	}
	if err := m.Destroy(); err != nil {
		t.Fatal(err)
	}
	for k, d := range m.Paths() {
		if exists(d) {
			t.Errorf("%q dir %s still exists after Destroy", k, d)
		}
	}
	// Idempotent, and fine when nothing was ever created.
	if err := m.Destroy(); err != nil {
		t.Fatalf("second Destroy: %v", err)
	}
	m2, err := New(testPath(t), "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m2.Destroy(); err != nil {
		t.Fatalf("Destroy of never-created cgroup: %v", err)
	}
}

func TestLoadRoundTrip(t *testing.T) {
	m := newCreated(t)
	m2, err := Load(m.Paths())
	if err != nil {
		t.Fatal(err)
	}
	if a, b := m.Paths(), m2.Paths(); len(a) != len(b) {
		t.Fatalf("Load changed paths: %v vs %v", a, b)
	}
	for k, v := range m.Paths() {
		if m2.Paths()[k] != v {
			t.Errorf("Load: path %q = %q, want %q", k, m2.Paths()[k], v)
		}
	}
	cmd := startSleep(t)
	if err := m2.Add(cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	pids, err := m.Pids()
	if err != nil || !slices.Contains(pids, cmd.Process.Pid) {
		t.Fatalf("pid added via loaded manager not seen: %v %v", pids, err)
	}
	for _, bad := range []map[string]string{nil, {"memory": "/etc"}, {"memory": "/sys/fs/cgroup/memory/../../../etc"}} {
		if _, err := Load(bad); err == nil {
			t.Errorf("Load(%v) accepted", bad)
		}
	}
}

func TestCloneFD(t *testing.T) {
	m := newCreated(t)
	fd, err := m.CloneFD()
	if err != nil {
		t.Fatal(err)
	}
	if mode(t) == Legacy {
		if fd != -1 {
			t.Fatalf("CloneFD on %v = %d, want -1", mode(t), fd)
		}
		return
	}
	defer unix.Close(fd)
	if mode(t) == Hybrid {
		return // the cgroup2 side only: TestJoinFiles checks the whole placement
	}
	h := startHelper(t, "sleep", &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: fd})
	inCgroup(t, h.cmd.Process.Pid, m)
}

// TestJoinFiles: a process born into the cgroup2 side (CloneFD) that writes
// "0" to every file of JoinFiles is in every cgroup of the container.
func TestJoinFiles(t *testing.T) {
	m := newCreated(t)
	files, err := m.JoinFiles()
	if err != nil {
		t.Fatal(err)
	}
	if mode(t) == Unified {
		if files != nil {
			t.Fatalf("JoinFiles on v2 = %d files, want none", len(files))
		}
		return
	}
	attr := &syscall.SysProcAttr{}
	if fd, err := m.CloneFD(); err != nil {
		t.Fatal(err)
	} else if fd >= 0 {
		defer unix.Close(fd)
		attr.UseCgroupFD, attr.CgroupFD = true, fd
	}
	script := ""
	for i := range files {
		// dash takes single-digit fds only after >&: reach higher ones by name
		script += fmt.Sprintf("echo 0 > /proc/self/fd/%d || exit 1; ", 3+i)
	}
	cmd := exec.Command("/bin/sh", "-c", script+"exec sleep 30")
	cmd.ExtraFiles = files
	cmd.SysProcAttr = attr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for _, f := range files {
		f.Close()
	}
	deadline := time.Now().Add(waitLimit)
	for {
		data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", cmd.Process.Pid))
		if strings.TrimSpace(string(data)) == "sleep" || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	inCgroup(t, cmd.Process.Pid, m)
}

// The device rules must really stop a process in the cgroup from opening
// a device that is not allowed, while allowed ones still open.
func TestDevicesEnforced(t *testing.T) {
	m := newCreated(t)
	if !exists("/dev/kmsg") {
		t.Skip("no /dev/kmsg to test a denied device with")
	}
	if err := m.Set(&specs.LinuxResources{Devices: DeviceRules(nil)}); err != nil {
		t.Fatal(err)
	}
	h := startHelper(t, "open:/dev/kmsg,/dev/null", nil)
	if err := m.Add(h.cmd.Process.Pid); err != nil {
		t.Fatal(err)
	}
	h.stdin.Write([]byte("go\n"))
	waitExit(t, h.cmd)
	out := h.out.String()
	if !strings.Contains(out, "/dev/kmsg:r operation not permitted") {
		t.Errorf("opening /dev/kmsg was not denied:\n%s", out)
	}
	if !strings.Contains(out, "/dev/null:r ok") {
		t.Errorf("opening /dev/null was denied:\n%s", out)
	}
}

// TestFreezerStateWhileTaskJoins: a v1 freezer cgroup that was frozen and
// then got a new task (an exec's process) reads FREEZING until the kernel
// has stopped that task too; it is paused all the same, so resume can thaw
// it. The files stand in for the kernel's: its FREEZING lasts only until
// the scheduler runs the new task, too short to catch on purpose.
func TestFreezerStateWhileTaskJoins(t *testing.T) {
	for _, tc := range []struct {
		state, self string
		paused      bool
	}{
		{"FROZEN", "1", true},
		{"FREEZING", "1", true},
		{"FROZEN", "0", true}, // frozen through an ancestor
		{"FREEZING", "0", false},
		{"THAWED", "0", false},
	} {
		dir := t.TempDir()
		for f, v := range map[string]string{"freezer.state": tc.state, "freezer.self_freezing": tc.self} {
			if err := os.WriteFile(filepath.Join(dir, f), []byte(v+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		m := newFs(map[string]string{"freezer": dir}, Options{})
		if paused, err := m.State(); err != nil || paused != tc.paused {
			t.Errorf("state %s, self_freezing %s: State() = %v, %v; want %v", tc.state, tc.self, paused, err, tc.paused)
		}
	}
}
