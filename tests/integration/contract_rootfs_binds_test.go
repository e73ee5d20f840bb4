package integration

import (
	"fmt"
	"golang.org/x/sys/unix"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/casco-runtime/casco/tests/internal/harness"
)

// TestContractBindDanglingSymlink: a bind destination reached through a
// dangling symlink of the image (a middle component, or the last one) is
// created where the symlink points, resolved inside the rootfs as
// securejoin does for runc, never on the host: targets that would climb out
// of the rootfs (`../../..`) land inside it.
func TestContractBindDanglingSymlink(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	host := t.TempDir() // where an escape would land
	climb := strings.Repeat("../", 12)
	links := map[string]string{
		"/mid":     "/made/by/mid",                     // absolute, a middle component
		"/esc":     climb + host[1:] + "/esc",          // relative, climbing out
		"/trail":   "/../../../" + host[1:] + "/trail", // absolute, climbing out, the last component
		"/ftrail":  "../etc/ftrail-made",               // relative, a file bind's last component
		"/d/chain": "../chain2",                        // a dangling symlink to a dangling symlink
		"/chain2":  "/made/by/chain",
	}
	for l, target := range links {
		p := filepath.Join(b.Rootfs, l)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	src := t.TempDir()
	mustWrite(t, filepath.Join(src, "f"), "bound\n")
	bind := func(dst, source string) specs.Mount {
		return specs.Mount{Destination: dst, Type: "bind", Source: source, Options: []string{"bind", "ro"}}
	}
	b.Spec.Mounts = append(b.Spec.Mounts,
		bind("/mid/sub", src),
		bind("/esc/sub", src),
		bind("/trail", src),
		bind("/ftrail", filepath.Join(src, "f")),
		bind("/d/chain/x", src),
	)
	_, s := r.createStart(b)
	// where each destination lands, as the rootfs sees it
	want := map[string]string{
		"/mid/sub":   "/made/by/mid/sub",
		"/esc/sub":   host + "/esc/sub",
		"/trail":     host + "/trail",
		"/ftrail":    "/etc/ftrail-made",
		"/d/chain/x": "/made/by/chain/x",
	}
	ms := mountsOf(t, s.Pid)
	for dst, real := range want {
		if _, ok := topMount(ms, real); !ok {
			t.Errorf("%s: no mount at %s inside the container", dst, real)
		}
		file := filepath.Join(real, "f")
		if dst == "/ftrail" {
			file = real
		}
		if got := readFileString(inRoot(s.Pid, file)); got != "bound\n" {
			t.Errorf("%s: %s reads %q in the container, want the bind's file", dst, file, got)
		}
		if _, err := os.Lstat(filepath.Join(b.Rootfs, real)); err != nil {
			t.Errorf("%s: the mount point %s was not made in the rootfs: %v", dst, real, err)
		}
	}
	if ents, _ := os.ReadDir(host); len(ents) > 0 {
		t.Errorf("the runtime created %v on the host, outside the rootfs", ents)
	}
	for l, target := range links {
		if got, err := os.Readlink(filepath.Join(b.Rootfs, l)); err != nil || got != target {
			t.Errorf("symlink %s is now %q (%v), want it left pointing to %q", l, got, err, target)
		}
	}
}

// rootPropagation is the optional fields (shared:N, master:N, unbindable)
// of the mount at / in pid's mountinfo.
func rootPropagation(t *testing.T, pid int) map[string]string {
	t.Helper()
	return propagationOf(t, fmt.Sprintf("/proc/%d/mountinfo", pid), "/")
}

// propagationOf is the optional fields of the last mount at mountpoint in
// a mountinfo file: tag -> peer group ("" for unbindable).
func propagationOf(t *testing.T, mountinfo, mountpoint string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(mountinfo)
	if err != nil {
		t.Fatal(err)
	}
	var opt map[string]string
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) < 7 || harness.UnescapeMount(f[4]) != mountpoint {
			continue
		}
		opt = map[string]string{} // the last mount there is the one seen
		for _, o := range f[6:] {
			if o == "-" {
				break
			}
			k, v, _ := strings.Cut(o, ":")
			opt[k] = v
		}
	}
	return opt
}

// sharedBundle makes the bundle's directory a mount of its own in a peer
// group of the host (as / is on a systemd host), so that a slave root has
// a master to show. It returns the peer group.
func sharedBundle(t *testing.T, b *bundle) string {
	t.Helper()
	if err := unix.Mount(b.Dir, b.Dir, "", unix.MS_BIND, ""); err != nil {
		t.Fatalf("bind the bundle onto itself: %v", err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(b.Dir, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount the bundle: %v", err)
		}
	})
	if err := unix.Mount("", b.Dir, "", unix.MS_SHARED, ""); err != nil {
		t.Fatalf("make the bundle shared: %v", err)
	}
	return propagationOf(t, "/proc/self/mountinfo", b.Dir)["shared"]
}

// TestContractRootfsPropagation: linux.rootfsPropagation is what / shows
// in the container's mountinfo, with the rootfs on a shared mount of the
// host: a peer group of its own for (r)shared (never the host's: the
// container's mounts must not reach the host), the host's group as master
// for (r)slave, nothing for (r)private and for no value (the runtime-spec
// names no default; runc 1.5 leaves / private), unbindable for
// (r)unbindable.
func TestContractRootfsPropagation(t *testing.T) {
	t.Parallel()
	for _, prop := range []string{"", "shared", "rshared", "slave", "rslave", "private", "rprivate", "unbindable", "runbindable"} {
		t.Run("="+prop, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			b := newBundle(t, sleeper...)
			host := sharedBundle(t, b)
			b.Spec.Linux.RootfsPropagation = prop
			if prop == "runbindable" && knownRuncBug(t, "runbindable makes the rootfs's own bind fail (EINVAL)") {
				return
			}
			_, s := r.createStart(b)
			got := rootPropagation(t, s.Pid)
			t.Logf("rootfsPropagation %q: / has %v (the bundle's host peer group is %s)", prop, got, host)
			_, shared := got["shared"]
			_, unbindable := got["unbindable"]
			master, slave := got["master"]
			switch prop {
			case "shared", "rshared":
				if !shared && len(got) == 0 && knownRuncBug(t, "a shared root is left private (runc#1755, fixed in 1.2.7 and 1.3 by runc#4724)") {
					return
				}
				if !shared || slave || got["shared"] == host {
					t.Errorf("rootfsPropagation %s: / has %v, want a peer group of its own (the host's is %s)", prop, got, host)
				}
			case "rslave", "slave":
				if prop == "slave" && len(got) == 0 && knownRuncBug(t, "a non-recursive slave root is made private (runc#5192, fixed in 1.5 by runc#5200)") {
					return
				}
				if shared || master != host {
					t.Errorf("rootfsPropagation %q: / has %v, want a slave of the host's peer group %s", prop, got, host)
				}
			case "", "private", "rprivate":
				if len(got) != 0 {
					t.Errorf("rootfsPropagation %q: / has %v, want none", prop, got)
				}
			case "unbindable", "runbindable":
				if !unbindable && len(got) == 0 && knownRuncBug(t, "an unbindable root is left private (fixed in 1.2.7 and 1.3 by runc#4724)") {
					return
				}
				if !unbindable || shared || slave {
					t.Errorf("rootfsPropagation %s: / has %v, want unbindable", prop, got)
				}
			}
		})
	}
}

// TestContractNoPivotProc: with --no-pivot the host's /proc and /sys stay in
// the container's mount namespace under the moved rootfs, and the kernel
// lets a user namespace mount a fresh procfs (no masked paths) as long as a
// fully visible one exists there. runc detaches them (or covers them with a
// tmpfs) before MS_MOVE and chroot; the mount must fail with EPERM, as it
// does with pivot_root. A root container's own procfs mount (CAP_SYS_ADMIN,
// no user namespace) shows the container's pid namespace only.
func TestContractNoPivotProc(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"pivot", "no-pivot"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			var extra []string
			if mode == "no-pivot" {
				extra = []string{"--no-pivot"}
			}
			r := newRuntime(t)
			b := newBundle(t, "unshare", "-mrpf", "sh", "-c", "mount -t proc none /proc && echo mounted-bare-proc")
			b.Spec.Root.Readonly = false
			caps := b.Spec.Process.Capabilities
			caps.Bounding = append(caps.Bounding, "CAP_SETFCAP")
			caps.Permitted = append(caps.Permitted, "CAP_SETFCAP")
			caps.Effective = append(caps.Effective, "CAP_SETFCAP")
			_, res := r.runForeground(b, extra...)
			if res.Err != nil || res.Code == 0 || strings.Contains(res.Stdout, "mounted-bare-proc") ||
				!mentions(res.Stdout+res.Stderr, "permission denied") {
				t.Errorf("a user namespace in the container mounted a bare /proc: %s", res)
			}

			b = newBundle(t, "sh", "-c", "mkdir -p /tmp/p && mount -t proc proc /tmp/p && ls /tmp/p && cat /tmp/p/1/cmdline")
			b.Spec.Root.Readonly = false
			caps = b.Spec.Process.Capabilities
			caps.Bounding = append(caps.Bounding, "CAP_SYS_ADMIN")
			caps.Permitted = append(caps.Permitted, "CAP_SYS_ADMIN")
			caps.Effective = append(caps.Effective, "CAP_SYS_ADMIN")
			_, res = r.runForeground(b, extra...)
			if res.Err != nil || res.Code != 0 {
				t.Fatalf("a root container could not mount its own procfs: %s", res)
			}
			for _, f := range strings.Fields(res.Stdout) {
				if n, err := strconv.Atoi(f); err == nil && n > 100 {
					t.Errorf("the container's procfs shows pid %d: not its own pid namespace: %s", n, res)
				}
			}
			if !strings.Contains(res.Stdout, "cat\x00/tmp/p/1/cmdline") {
				t.Errorf("pid 1 of the container's procfs is not the container's process: %s", res)
			}
		})
	}
}

// TestContractBindLockedFlags: a bind mount's options against its source's
// flags (a tmpfs mounted ro,nosuid,nodev,noexec,noatime on the host), as
// runc 1.2 documents it (unlike mount(8)): no flag option keeps the
// source's flags; otherwise the bind gets exactly the flags given, the
// atime ones kept unless given or cleared, where the kernel allows it.
// Under a user namespace the source's flags are locked (the kernel's
// MNT_LOCK_* on the container's copy of the host's mounts): clearing one
// (rw, suid, dev, exec, atime) or asking for another atime fails the
// container; other options keep the locked flags on top.
func TestContractBindLockedFlags(t *testing.T) {
	t.Parallel()
	src := t.TempDir()
	_ = os.Chmod(filepath.Dir(src), 0o755)
	if err := unix.Mount("tmpfs", src, "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC|unix.MS_NOATIME, "mode=755"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(src, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount the source: %v", err)
		}
	})
	const all = "ro,nosuid,nodev,noexec,noatime"
	cases := []struct {
		opts             string
		unlocked, locked string // the bind's mount options, or "error"
		// runc 1.1, which ignores cleared flags and has no fallback for locked ones
		oldUnlocked, oldLocked string
	}{
		{"", all, all, "", ""},
		{"rw", "rw,noatime", "error", all, all},
		{"ro", "ro,noatime", all, "", "error"},
		{"nosuid", "rw,nosuid,noatime", all, "", "error"},
		{"suid", "rw,noatime", "error", all, all},
		{"dev", "rw,noatime", "error", all, all},
		{"exec", "rw,noatime", "error", all, all},
		// runc 1.2 to 1.5 keep noatime here (a TODO in their code): the
		// kernel keeps the atime flags of a remount given none
		{"atime", "rw,relatime", "error", all, all},
		{"relatime", "rw,relatime", "error", "", ""},
		{"noatime", "rw,noatime", all, "", "error"},
		{"strictatime", "rw", "error", "", ""},
		{"ro,nosuid,nodev,noexec", all, all, "", ""},
	}
	for _, userns := range []bool{false, true} {
		for _, c := range cases {
			name := fmt.Sprintf("userns=%v,%s", userns, c.opts)
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				if userns && strings.TrimSpace(readFileString("/proc/sys/user/max_user_namespaces")) == "0" {
					t.Skip("user namespaces are disabled (/proc/sys/user/max_user_namespaces is 0)")
				}
				r := newRuntime(t)
				b := newBundle(t, "cat", "/proc/self/mountinfo")
				want, old := c.unlocked, c.oldUnlocked
				if userns {
					b.addNamespace(specs.UserNamespace)
					b.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
					b.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
					want, old = c.locked, c.oldLocked
				}
				if err := os.Mkdir(filepath.Join(b.Rootfs, "src"), 0o755); err != nil {
					t.Fatal(err)
				}
				opts := []string{"bind"}
				if c.opts != "" {
					opts = append(opts, strings.Split(c.opts, ",")...)
				}
				b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/src", Type: "bind", Source: src, Options: opts})
				_, res := r.runForeground(b)
				got := "error"
				if res.Err == nil && res.Code == 0 {
					got = "missing"
					for _, l := range strings.Split(res.Stdout, "\n") {
						if f := strings.Fields(l); len(f) > 5 && f[4] == "/src" {
							got = f[5]
						}
					}
				}
				if got == want {
					return
				}
				if !userns && c.opts == "atime" && got == "rw,noatime" && !oldRunc() && knownRuncBug(t, "\"atime\" alone keeps the source's noatime (a TODO in runc 1.2-1.5's rootfs_linux.go)") {
					return
				}
				if old != "" && got == old && oldRunc() {
					t.Logf("%s: %s gives %s (runc 1.2's semantics: %s)", name, runtimeVersion(), got, want)
					return
				}
				t.Errorf("%s: the bind's options are %s, want %s: %s", name, got, want, res)
			})
		}
	}
}

// TestContractUsernsBindOtherOwner: a user-namespaced container binds a
// directory and a file (a pod's resolv.conf) below a 0700 directory of
// another host user, which neither the container's root nor its mapped
// ids can enter: the runtime reaches them before the container's root
// takes over, as runc does, and the container reads them.
func TestContractUsernsBindOtherOwner(t *testing.T) {
	t.Parallel()
	if strings.TrimSpace(readFileString("/proc/sys/user/max_user_namespaces")) == "0" {
		t.Skip("user namespaces are disabled (/proc/sys/user/max_user_namespaces is 0)")
	}
	private := t.TempDir()
	_ = os.Chmod(filepath.Dir(private), 0o755)
	vol := filepath.Join(private, "vol")
	if err := os.MkdirAll(vol, 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(vol, "marker"), "dir-reached\n")
	mustWrite(t, filepath.Join(private, "resolv.conf"), "nameserver 127.0.0.53\n")
	for _, p := range []string{private, vol, filepath.Join(vol, "marker"), filepath.Join(private, "resolv.conf")} {
		if err := os.Chown(p, 4242, 4242); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(private, 0o700); err != nil {
		t.Fatal(err)
	}
	r := newRuntime(t)
	b := newBundle(t, "cat", "/vol/marker", "/etc/resolv.conf")
	b.addNamespace(specs.UserNamespace)
	b.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	b.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	// the mount points exist: the rootfs belongs to the host's root
	if err := os.Mkdir(filepath.Join(b.Rootfs, "vol"), 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(b.Rootfs, "etc", "resolv.conf"), "")
	b.Spec.Mounts = append(b.Spec.Mounts,
		specs.Mount{Destination: "/vol", Type: "bind", Source: vol, Options: []string{"rbind", "ro"}},
		specs.Mount{Destination: "/etc/resolv.conf", Type: "bind", Source: filepath.Join(private, "resolv.conf"), Options: []string{"bind", "ro"}},
	)
	_, res := r.runForeground(b)
	if res.Err != nil || res.Code != 0 || res.Stdout != "dir-reached\nnameserver 127.0.0.53\n" {
		t.Errorf("the container did not read its binds: %s", res)
	}
}
