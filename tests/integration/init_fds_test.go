package integration

// What a container's processes hold open, read from /proc/<pid>/fd: the
// parked init of a created container holds its stdio, its sockets and the
// exec fifo, nothing of the host or the rootfs (runc's own fd-leak check
// in tests/integration/create.bats), and the user's process holds its
// stdio only.

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// parkedFdOK is what runc's fd-leak check allows a parked init. The Go
// runtime of runc's init adds its own (its procfs handles, its binary,
// cgroup v1 CPU files Go 1.25 reads): allowed for runc only.
var (
	parkedFdOK = regexp.MustCompile(`^(/dev/null|/dev/pts/[0-9]+|anon_inode:\[.+\]|socket:\[[0-9]+\]|pipe:\[[0-9]+\]|.*/exec\.fifo)$`)
	runcFdOK   = regexp.MustCompile(`^(/|/proc|(/proc)?/1/task/1/fd|/runc|/memfd:runc_cloned:/proc/self/exe \(deleted\)|.*/cpu\.cfs_(quota|period)_us)$`)
)

// fdTargets reads every fd of pid: number -> what it points to.
func fdTargets(t *testing.T, pid int) map[string]string {
	t.Helper()
	dir := filepath.Join("/proc", strconv.Itoa(pid), "fd")
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	out := map[string]string{}
	for _, e := range ents {
		if l, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil {
			out[e.Name()] = l
		}
	}
	return out
}

// TestInitHoldsNoStrayFds: every fd of a created container's parked init,
// and of its user process once started, with masked paths (the tmpfs
// every masked directory shows was held open), a terminal, a user
// namespace and an idmapped mount (trees sent by the parent).
func TestInitHoldsNoStrayFds(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// set changes the bundle and gives extra create args and what to
		// do once create returned
		set func(t *testing.T, b *bundle) ([]string, func())
	}{
		{"default", func(*testing.T, *bundle) ([]string, func()) { return nil, nil }},
		{"masked-readonly", func(_ *testing.T, b *bundle) ([]string, func()) {
			b.Spec.Linux.MaskedPaths = append(b.Spec.Linux.MaskedPaths, "/proc/acpi", "/proc/kcore", "/sys/firmware", "/proc/scsi")
			b.Spec.Linux.ReadonlyPaths = append(b.Spec.Linux.ReadonlyPaths, "/proc/sys", "/proc/bus")
			return nil, nil
		}},
		{"terminal", func(t *testing.T, b *bundle) ([]string, func()) {
			b.Spec.Process.Terminal = true
			sock, msgs := listenConsole(t)
			return []string{"--console-socket", sock}, func() {
				msg := <-msgs
				t.Cleanup(func() {
					for _, fd := range msg.fds {
						syscall.Close(fd)
					}
				})
			}
		}},
		{"userns", func(t *testing.T, b *bundle) ([]string, func()) {
			if readFileString("/proc/sys/user/max_user_namespaces") == "0\n" {
				t.Skip("user namespaces are disabled (/proc/sys/user/max_user_namespaces is 0)")
			}
			b.addNamespace(specs.UserNamespace)
			b.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
			b.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
			src := t.TempDir()
			_ = os.Chmod(src, 0o755)
			b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Source: src, Destination: "/tmp", Type: "bind", Options: []string{"rbind"}})
			return nil, nil
		}},
		{"idmapped-mount", func(t *testing.T, b *bundle) ([]string, func()) {
			src := idmapSource(t)
			skipUnlessIdmappable(t, src)
			m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
			b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Source: src, Destination: "/tmp", Type: "bind", Options: []string{"rbind", "idmap"}, UIDMappings: m, GIDMappings: m})
			return nil, nil
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			b := newBundle(t, sleeper...)
			b.Spec.Linux.MaskedPaths = []string{"/proc/acpi", "/proc/kcore", "/sys/firmware"}
			extra, after := tc.set(t, b)
			c := r.create(b, extra...)
			if after != nil {
				after()
			}
			pid := r.mustState(c.ID).Pid
			for fd, target := range fdTargets(t, pid) {
				if fd == "0" || fd == "1" || fd == "2" {
					continue // the caller's stdio, whatever it is
				}
				if !parkedFdOK.MatchString(target) && !(isRunc() && runcFdOK.MatchString(target)) {
					t.Errorf("the parked init holds fd %s -> %s", fd, target)
				}
			}
			s := c.start()
			waitUserExec(t, s.Pid, b)
			for fd, target := range fdTargets(t, s.Pid) {
				if fd != "0" && fd != "1" && fd != "2" {
					t.Errorf("the user's process holds fd %s -> %s beyond its stdio", fd, target)
				}
			}
		})
	}
}
