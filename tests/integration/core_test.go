package integration

import (
	"fmt"
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// TestTimeNamespace: a time namespace with linux.timeOffsets shifts the
// container's boottime and monotonic clocks, as the kernel reports them.
func TestTimeNamespace(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/self/ns/time"); err != nil {
		t.Skip("kernel has no time namespaces")
	}
	r := newRuntime(t)
	if f := r.run("features"); !strings.Contains(f.Stdout, `"time"`) {
		t.Skipf("%s does not list time namespaces in its features", runtimeBin)
	}
	b := newBundle(t, sleeper...)
	b.addNamespace(specs.TimeNamespace)
	b.Spec.Linux.TimeOffsets = map[string]specs.LinuxTimeOffset{
		"boottime":  {Secs: 864000},
		"monotonic": {Secs: 1000, Nanosecs: 5},
	}
	_, s := r.createStart(b)
	if host, ctr := nsLink(t, os.Getpid(), "time"), nsLink(t, s.Pid, "time"); host == ctr {
		t.Fatalf("container shares the host's time namespace %s", ctr)
	}
	offs := readFileString(fmt.Sprintf("/proc/%d/timens_offsets", s.Pid))
	for _, want := range []string{"monotonic           1000          5", "boottime          864000          0"} {
		if !strings.Contains(strings.Join(strings.Fields(offs), " "), strings.Join(strings.Fields(want), " ")) {
			t.Errorf("timens_offsets = %q, want a line %q", offs, want)
		}
	}
}

// TestNoPivot: --no-pivot (move + chroot) gives the same rootfs.
func TestNoPivot(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, "cat", "/etc/hostname-marker")
	if err := os.WriteFile(b.Rootfs+"/etc/hostname-marker", []byte("inside-the-rootfs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, res := r.runForeground(b, "--no-pivot")
	if res.Code != 0 || strings.TrimSpace(res.Stdout) != "inside-the-rootfs" {
		t.Errorf("run --no-pivot: %s", res)
	}
}

// TestBinaryProtected (CVE-2019-5736): the parked init's executable, which
// the container can reach through /proc/<pid>/exe, cannot be written: it is
// a sealed memfd (casco: a copy of casco-init) or a read-only bind mount
// (runc: of its own binary).
func TestBinaryProtected(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	c := r.create(b)
	s := r.mustState(c.ID)
	exe := fmt.Sprintf("/proc/%d/exe", s.Pid)
	f, err := os.Open(exe)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var sv unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &sv); err != nil {
		t.Fatal(err)
	}
	ro := sv.Flags&unix.ST_RDONLY != 0
	sealed := false
	if seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0); err == nil && seals&unix.F_SEAL_WRITE != 0 {
		sealed = true
	}
	if !ro && !sealed {
		t.Errorf("the init's executable is neither on a read-only mount nor a sealed memfd")
	}
	if w, err := os.OpenFile(exe, os.O_WRONLY, 0); err == nil {
		w.Close()
		t.Errorf("opened the init's executable for writing")
	}
}
