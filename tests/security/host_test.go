package security

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/tests/internal/harness"
)

// The device cgroup: with every device denied in linux.resources.devices,
// a node listed in linux.devices is created but not usable, and a node the
// container makes itself (CAP_MKNOD) is not usable either. Checked by the
// kernel's answer to the open, and in the v1 devices.list.
func TestDeviceCgroup(t *testing.T) {
	r := newRT(t)
	b := newBundle(t, "sh", "-c", `
		echo x > /dev/kmsg 2>/dev/null && echo kmsg-written >> /tmp/out
		mknod /tmp/mem c 1 1 && head -c1 /tmp/mem >/dev/null 2>&1 && echo mem-read >> /tmp/out
		echo done >> /tmp/out; sleep 1000`)
	b.Spec.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/kmsg", Type: "c", Major: 1, Minor: 11}}
	b.Spec.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}
	caps := append(b.Spec.Process.Capabilities.Bounding, "CAP_MKNOD")
	b.Spec.Process.Capabilities = &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps}
	id := newID("devices")
	r.mustCreate(b, id)
	r.must("start", id)
	out := waitFileWith(t, filepath.Join(b.Rootfs, "tmp/out"), "done")
	for _, bad := range []string{"kmsg-written", "mem-read"} {
		if strings.Contains(out, bad) {
			t.Errorf("the container could %s: the device cgroup allowed it", bad)
		}
	}
	if data, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/devices", id, "devices.list")); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if line == "a *:* rwm" || strings.HasPrefix(line, "c 1:11 ") || strings.HasPrefix(line, "c 1:1 ") {
				t.Errorf("devices.list allows %q", line)
			}
		}
	}
}

func waitFileWith(t testing.TB, path, want string) string {
	t.Helper()
	var data []byte
	if !harness.Poll(hangGuard, func() bool {
		data, _ = os.ReadFile(path)
		return strings.Contains(string(data), want)
	}) {
		t.Fatalf("%s never held %q: %q", path, want, data)
	}
	return string(data)
}

// CVE-2025-52881: the runtime's procfs writes (linux.sysctl) must reach the
// container's own procfs file, not what a mount put over it: a host file
// bound over the sysctl's path, or another procfs file of the container.
func TestCVE_2025_52881_ProcfsWriteRedirect(t *testing.T) {
	const key, path = "net.ipv4.tcp_keepalive_time", "/proc/sys/net/ipv4/tcp_keepalive_time"
	t.Run("host-file", func(t *testing.T) {
		r := newRT(t)
		b := newBundle(t, "sleep", "1000")
		host := filepath.Join(b.Dir, "host-file")
		os.WriteFile(host, []byte("host\n"), 0o644)
		b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: path, Type: "bind", Source: host, Options: []string{"bind"}})
		b.Spec.Linux.Sysctl = map[string]string{key: "300"}
		pid, out := r.create(b, newID("sysctl"))
		if data, _ := os.ReadFile(host); string(data) != "host\n" {
			t.Errorf("the sysctl write landed on the host file: %q", data)
		}
		if pid == 0 {
			t.Logf("create refused: %s", strings.TrimSpace(out.stderr))
		}
	})
	t.Run("other-procfs-file", func(t *testing.T) {
		r := newRT(t)
		b := newBundle(t, "sleep", "1000")
		other := "/proc/sys/net/ipv4/tcp_keepalive_intvl"
		b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: path, Type: "bind", Source: other, Options: []string{"bind"}})
		b.Spec.Linux.Sysctl = map[string]string{key: "300"}
		pid, out := r.create(b, newID("sysctl"))
		if pid == 0 {
			t.Logf("create refused: %s", strings.TrimSpace(out.stderr))
			return
		}
		// read the real file through the container's net namespace
		got, err := exec.Command("nsenter", "-t", fmt.Sprint(pid), "-n", "cat", other).Output()
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(string(got)) == "300" {
			t.Errorf("the write for %s landed on %s (a bind over the sysctl's path)", key, other)
		}
	})
}

// A container holding a FIFO, a huge file or a symlink where the runtime
// reads (/etc/passwd, for HOME): create and exec finish (the hang guard
// fails the test otherwise), and a symlink never makes the runtime read a
// host file.
func TestHostileRootfsFiles(t *testing.T) {
	hostPasswd := filepath.Join(topDir, "host-passwd")
	os.WriteFile(hostPasswd, []byte("root:x:0:0:root:/HOSTLEAK:/bin/sh\nuser:x:1000:1000::/HOSTLEAK:/bin/sh\n"), 0o644)
	prepare := map[string]func(t *testing.T, b *bundle){
		"fifo": func(t *testing.T, b *bundle) {
			p := filepath.Join(b.Rootfs, "etc/passwd")
			os.Remove(p)
			if err := unix.Mkfifo(p, 0o644); err != nil {
				t.Fatal(err)
			}
		},
		"huge": func(t *testing.T, b *bundle) {
			f, err := os.OpenFile(filepath.Join(b.Rootfs, "etc/passwd"), os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Truncate(8 << 30) // sparse: 8 GiB of NULs, no line
			f.Close()
		},
		"symlink-to-host": func(t *testing.T, b *bundle) { b.symlink(t, "etc/passwd", hostPasswd) },
		"symlink-relative": func(t *testing.T, b *bundle) {
			b.symlink(t, "etc/passwd", "../../../../../../../../.."+hostPasswd)
		},
	}
	for name, mutate := range prepare {
		for _, uid := range []uint32{0, 1000} {
			t.Run(fmt.Sprintf("%s-uid%d", name, uid), func(t *testing.T) {
				r := newRT(t)
				b := newBundle(t, "sh", "-c", `echo "$HOME" > /tmp/home; sleep 1000`)
				b.Spec.Process.User = specs.User{UID: uid, GID: uid}
				os.Chmod(filepath.Join(b.Rootfs, "tmp"), 0o1777)
				mutate(t, b)
				id := newID("hostile")
				pid, out := r.create(b, id)
				if out.err != nil {
					t.Fatalf("create: %s", out)
				}
				if pid == 0 {
					t.Logf("create refused: %s", strings.TrimSpace(out.stderr))
					return
				}
				r.must("start", id)
				if home := waitFile(t, filepath.Join(b.Rootfs, "tmp/home")); strings.Contains(home, "HOSTLEAK") {
					t.Errorf("HOME came from a host file: %q", home)
				}
				ex := r.run("exec", "--user", fmt.Sprintf("%d:%d", uid, uid), id, "sh", "-c", `echo "$HOME"`)
				if ex.err != nil {
					t.Fatalf("exec: %s", ex)
				}
				if strings.Contains(ex.stdout, "HOSTLEAK") {
					t.Errorf("exec's HOME came from a host file: %q", ex.stdout)
				}
				for _, cmd := range [][]string{{"state", id}, {"kill", id, "KILL"}, {"delete", "--force", id}} {
					if o := r.run(cmd...); o.err != nil {
						t.Errorf("%s: %s", cmd[0], o)
					}
				}
			})
		}
	}
	// the container makes its own passwd a FIFO while it runs; exec reads it
	t.Run("fifo-made-by-running-container", func(t *testing.T) {
		r := newRT(t)
		b := newBundle(t, "sh", "-c", `rm /etc/passwd; mkfifo /etc/passwd; echo ready > /tmp/ready; sleep 1000`)
		id := newID("fifolive")
		r.mustCreate(b, id)
		r.must("start", id)
		waitFile(t, filepath.Join(b.Rootfs, "tmp/ready"))
		if ex := r.run("exec", "--user", "1000:1000", id, "true"); ex.err != nil {
			t.Errorf("exec: %s", ex)
		}
		for _, cmd := range [][]string{{"state", id}, {"delete", "--force", id}} {
			if o := r.run(cmd...); !o.ok() {
				t.Errorf("%s: %s", cmd[0], o)
			}
		}
	})
}

// State tampering: a state.json rewritten to point at a host process (its
// pid and start time, its cgroup) must not make kill or delete signal it.
// The host process is a sleep in a cgroup of its own; it must survive.
func TestStateTampering(t *testing.T) {
	victim := func(t *testing.T) (*exec.Cmd, string) {
		cmd := exec.Command("sleep", "1000")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
		cg := filepath.Join("/sys/fs/cgroup/pids", newID("victim"))
		if err := os.Mkdir(cg, 0o755); err == nil {
			os.WriteFile(filepath.Join(cg, "cgroup.procs"), []byte(fmt.Sprint(cmd.Process.Pid)), 0)
			t.Cleanup(func() {
				os.WriteFile("/sys/fs/cgroup/pids/cgroup.procs", []byte(fmt.Sprint(cmd.Process.Pid)), 0)
				os.Remove(cg)
			})
		}
		return cmd, cg
	}
	tamper := func(t *testing.T, r *rt, id string, edit func(map[string]any)) {
		p := filepath.Join(r.root, id, "state.json")
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		// the real state back, then the container's delete: a casco that
		// refuses the forged state leaves the container to be deleted here
		orig := data
		t.Cleanup(func() {
			os.WriteFile(p, orig, 0o600)
			if o := r.run("delete", "--force", id); !o.ok() {
				t.Errorf("delete of the restored state: %s", o)
			}
		})
		var st map[string]any
		json.Unmarshal(data, &st)
		edit(st)
		data, _ = json.Marshal(st)
		os.WriteFile(p, data, 0o600)
	}
	attack := func(t *testing.T, r *rt, id string, cmd *exec.Cmd) {
		start := harness.ProcStart(cmd.Process.Pid)
		for _, args := range [][]string{{"kill", id, "KILL"}, {"kill", "--all", id, "KILL"}, {"delete", "--force", id}} {
			r.run(args...)
			if harness.ProcStart(cmd.Process.Pid) != start {
				t.Fatalf("`%s` killed the host process %d", strings.Join(args, " "), cmd.Process.Pid)
			}
		}
	}
	t.Run("pid-only", func(t *testing.T) {
		// the forged pid is not in the container's cgroup: nothing may signal it
		// the pid and start time of a host process, the container's own
		// cgroups: the kernel says the pid is not in them
		r := newRT(t)
		cmd, _ := victim(t)
		b := newBundle(t, "sleep", "1000")
		id := newID("tamper")
		r.mustCreate(b, id)
		r.must("start", id)
		tamper(t, r, id, func(st map[string]any) {
			var s uint64
			fmt.Sscan(harness.ProcStart(cmd.Process.Pid), &s)
			st["init_process_pid"] = cmd.Process.Pid
			st["init_process_start"] = s
		})
		attack(t, r, id, cmd)
	})
	t.Run("cgroup-only", func(t *testing.T) {
		// the forged cgroup holds a process older than the container
		r := newRT(t)
		cmd, cg := victim(t)
		b := newBundle(t, "sleep", "1000")
		id := newID("tamper")
		r.mustCreate(b, id)
		r.must("start", id)
		tamper(t, r, id, func(st map[string]any) {
			paths, _ := st["cgroup_paths"].(map[string]any)
			for k := range paths {
				paths[k] = cg
			}
		})
		attack(t, r, id, cmd)
	})
	t.Run("root-owned-by-another-user", func(t *testing.T) {
		r := newRT(t)
		cmd, _ := victim(t)
		// another user's root holding a state it forged: never trusted by root
		id := newID("forged")
		os.MkdirAll(filepath.Join(r.root, id), 0o711)
		var s uint64
		fmt.Sscan(harness.ProcStart(cmd.Process.Pid), &s)
		data, _ := json.Marshal(map[string]any{"id": id, "init_process_pid": cmd.Process.Pid, "init_process_start": s, "config": map[string]any{}})
		os.WriteFile(filepath.Join(r.root, id, "state.json"), data, 0o600)
		filepath.Walk(r.root, func(p string, _ os.FileInfo, _ error) error { return os.Chown(p, 65534, 65534) })
		attack(t, r, id, cmd)
	})
}
