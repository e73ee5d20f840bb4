package security

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/casco-runtime/casco/tests/internal/harness"
)

// leakFd is the fd number a careless caller leaves open (no close-on-exec)
// when it calls the runtime: a directory of the host.
const leakFd = 40

// withLeakedDir runs the runtime with a host directory open on fd 40.
func withLeakedDir(t testing.TB, dir string) func(*exec.Cmd) {
	f, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return func(cmd *exec.Cmd) {
		cmd.ExtraFiles = make([]*os.File, leakFd-2)
		cmd.ExtraFiles[leakFd-3] = f
	}
}

// holdsHostDir reports an fd or the cwd of pid that is the host directory.
func holdsHostDir(pid int, dir string) string {
	for fd, target := range fdsOf(pid) {
		if target == dir {
			return "fd " + fd
		}
	}
	if cwd, _ := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); cwd == dir {
		return "cwd"
	}
	return ""
}

// CVE-2024-21626: a host directory the runtime's caller left open must
// reach neither the init (parked or running) nor an exec'd process, and a
// cwd of /proc/self/fd/N must not put a process into it. Checked in
// /proc/<pid>/fd and /proc/<pid>/cwd.
func TestCVE_2024_21626_LeakedFdsAndCwd(t *testing.T) {
	hostDir := filepath.Join(topDir, "host-secret-dir")
	os.MkdirAll(hostDir, 0o755)
	os.WriteFile(filepath.Join(hostDir, "secret"), []byte("host\n"), 0o644)

	t.Run("init", func(t *testing.T) {
		r := newRT(t)
		b := newBundle(t, "sleep", "1000")
		id := newID("fdinit")
		b.Spec.Linux.CgroupsPath = "/" + id
		b.save(t)
		t.Cleanup(func() { r.run("delete", "--force", id) })
		if out := r.runWith(withLeakedDir(t, hostDir), "create", "--bundle", b.Dir, id); !out.ok() {
			t.Fatalf("create: %s", out)
		}
		pid := r.pid(id)
		if what := holdsHostDir(pid, hostDir); what != "" {
			t.Errorf("the parked init holds the host directory (%s)", what)
		}
		r.must("start", id)
		if !harness.Poll(hangGuard, func() bool { return strings.Contains(strings.Join(harness.Cmdline(pid), " "), "sleep") }) {
			t.Fatalf("init never exec'd sleep")
		}
		if what := holdsHostDir(pid, hostDir); what != "" {
			t.Errorf("the container's process holds the host directory (%s)", what)
		}
	})
	t.Run("init-cwd", func(t *testing.T) {
		r := newRT(t)
		b := newBundle(t, "sleep", "1000")
		b.Spec.Process.Cwd = fmt.Sprintf("/proc/self/fd/%d", leakFd)
		id := newID("cwdinit")
		b.Spec.Linux.CgroupsPath = "/" + id
		b.save(t)
		t.Cleanup(func() { r.run("delete", "--force", id) })
		out := r.runWith(withLeakedDir(t, hostDir), "create", "--bundle", b.Dir, id)
		if !out.ok() {
			t.Logf("create refused: %s", strings.TrimSpace(out.stderr))
			return
		}
		if what := holdsHostDir(r.pid(id), hostDir); what != "" {
			t.Errorf("the init holds the host directory (%s)", what)
		}
	})
	t.Run("exec", func(t *testing.T) {
		r := newRT(t)
		b := newBundle(t, "sleep", "1000")
		id := newID("fdexec")
		r.mustCreate(b, id)
		r.must("start", id)
		pidFile := filepath.Join(b.Dir, "exec.pid")
		out := r.runWith(withLeakedDir(t, hostDir), "exec", "-d", "--pid-file", pidFile, id, "sleep", "999")
		if !out.ok() {
			t.Fatalf("exec: %s", out)
		}
		if what := holdsHostDir(pidFromFile(t, pidFile), hostDir); what != "" {
			t.Errorf("the exec'd process holds the host directory (%s)", what)
		}
	})
	t.Run("exec-cwd", func(t *testing.T) {
		r := newRT(t)
		b := newBundle(t, "sleep", "1000")
		id := newID("cwdexec")
		r.mustCreate(b, id)
		r.must("start", id)
		pidFile := filepath.Join(b.Dir, "exec.pid")
		out := r.runWith(withLeakedDir(t, hostDir), "exec", "-d", "--pid-file", pidFile, "--cwd", fmt.Sprintf("/proc/self/fd/%d", leakFd), id, "sleep", "999")
		if !out.ok() {
			t.Logf("exec refused: %s", strings.TrimSpace(out.stderr))
			return
		}
		if what := holdsHostDir(pidFromFile(t, pidFile), hostDir); what != "" {
			t.Errorf("the exec'd process holds the host directory (%s)", what)
		}
	})
}

// capBits parses a Cap* line of /proc/<pid>/status.
func capBits(pid int, key string) uint64 {
	v, _ := strconv.ParseUint(status(pid, key), 16, 64)
	return v
}

// CVE-2022-29162: `exec --cap` adds to the bounding, effective and
// permitted sets, never to the inheritable or ambient ones (which would
// survive an exec of a file with inheritable file caps).
func TestCVE_2022_29162_ExecCapNotInheritable(t *testing.T) {
	r := newRT(t)
	b := newBundle(t, "sleep", "1000")
	id := newID("cap")
	r.mustCreate(b, id)
	r.must("start", id)
	pidFile := filepath.Join(b.Dir, "exec.pid")
	r.must("exec", "-d", "--pid-file", pidFile, "--cap", "CAP_SYS_ADMIN", "--cap", "CAP_NET_ADMIN", id, "sleep", "999")
	pid := pidFromFile(t, pidFile)
	const sysAdmin, netAdmin = 1 << 21, 1 << 12
	if eff := capBits(pid, "CapEff"); eff&sysAdmin == 0 || eff&netAdmin == 0 {
		t.Fatalf("--cap was not applied: CapEff %#x", eff)
	}
	if inh := capBits(pid, "CapInh"); inh != 0 {
		t.Errorf("exec --cap left inheritable capabilities: CapInh %#x", inh)
	}
	if amb := capBits(pid, "CapAmb"); amb != 0 {
		t.Errorf("exec --cap left ambient capabilities: CapAmb %#x", amb)
	}
}

// CVE-2023-25809 (and "ro on an rbind of /sys"): a container must not be
// able to write the host's cgroups through /sys/fs/cgroup. Every mount at or
// under /sys in the container's mountinfo is read-only.
func TestCVE_2023_25809_SysFsCgroupReadOnly(t *testing.T) {
	cases := map[string]func(s *specs.Spec){
		"sysfs-ro-cgroup-mount": func(s *specs.Spec) {
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "ro"}})
		},
		"userns-cgroupns": func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace}, specs.LinuxNamespace{Type: specs.CgroupNamespace})
			s.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 65536}}
			s.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 0, Size: 65536}}
			s.Mounts = append(s.Mounts, specs.Mount{Destination: "/sys/fs/cgroup", Type: "cgroup", Source: "cgroup", Options: []string{"nosuid", "noexec", "nodev", "ro"}})
		},
		"rbind-host-sys-ro": func(s *specs.Spec) {
			for i, m := range s.Mounts {
				if m.Destination == "/sys" {
					s.Mounts[i] = specs.Mount{Destination: "/sys", Type: "bind", Source: "/sys", Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}}
				}
			}
		},
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			r := newRT(t)
			b := newBundle(t, "sleep", "1000")
			mutate(b.Spec)
			id := newID("sysro")
			pid, out := r.create(b, id)
			if pid == 0 {
				t.Logf("create refused: %s", strings.TrimSpace(out.stderr))
				return
			}
			n := 0
			for _, m := range mounts(fmt.Sprintf("/proc/%d/mountinfo", pid)) {
				if m.Point == "/sys" || strings.HasPrefix(m.Point, "/sys/") {
					n++
					if !m.ro() {
						t.Errorf("%s (%s) is writable in the container: %s", m.Point, m.FSType, m.Opts)
					}
				}
			}
			if n == 0 {
				t.Fatalf("no mount at /sys in the container")
			}
		})
	}
}
