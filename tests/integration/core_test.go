package integration

import (
	"fmt"
	"os"
	"os/exec"
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

// TestBinaryProtected (CVE-2019-5736): the container can reach the parked
// init's executable through /proc/<pid>/exe. The attack keeps an O_PATH
// handle on it and, once the init has exec'd the user process (no more
// ETXTBSY), reopens it for writing. That write must fail: the executable is
// a sealed memfd (casco: a copy of casco-init) or sits on a read-only bind
// mount (runc: of its own binary).
func TestBinaryProtected(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	c := r.create(b)
	s := r.mustState(c.ID)
	fd, err := unix.Open(fmt.Sprintf("/proc/%d/exe", s.Pid), unix.O_PATH|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	c.start()
	w, err := os.OpenFile(fmt.Sprintf("/proc/self/fd/%d", fd), os.O_WRONLY, 0)
	if err != nil {
		return // refused outright (EROFS on a read-only mount)
	}
	defer w.Close()
	if n, err := w.Write([]byte("#!/bin/sh\n")); err == nil {
		t.Errorf("wrote %d bytes into the init's executable after the container started", n)
	}
}

// TestInitMemfdNoexec: kernels since 6.3 can forbid executing memfds that
// were not created executable (vm.memfd_noexec=1, per pid namespace); the
// runtime must still start containers there.
func TestInitMemfdNoexec(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/proc/sys/vm/memfd_noexec"); err != nil {
		t.Skip("kernel has no vm.memfd_noexec (before 6.3)")
	}
	r := newRuntime(t)
	b := newBundle(t, "echo", "started")
	id := newID(t)
	b.save(t)
	r.trackCleanup(id)
	// a pid namespace of our own, where the setting applies to casco alone
	script := `echo 1 > /proc/sys/vm/memfd_noexec && exec "$@"`
	cmd := exec.Command("unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", script, "sh",
		runtimeBin, "--root", r.root, "run", "--bundle", b.Dir, id)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "started") {
		t.Errorf("run with vm.memfd_noexec=1: %v, output %q", err, out)
	}
}
