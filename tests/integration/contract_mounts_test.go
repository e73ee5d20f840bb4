package integration

import (
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestContractReadonlyDev: a read-only /dev tmpfs is made read-only after
// its mount points and nodes exist, as runc does: the container runs, its
// devpts is mounted, and the kernel refuses writes to /dev.
func TestContractReadonlyDev(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	for i, m := range b.Spec.Mounts {
		if m.Destination == "/dev" {
			b.Spec.Mounts[i].Options = append(m.Options, "ro")
		}
	}
	_, s := r.createStart(b)
	ms := mountsOf(t, s.Pid)
	dev, ok := topMount(ms, "/dev")
	if !ok || dev.FSType != "tmpfs" || !contains(dev.MountOpts, "ro") {
		t.Errorf("/dev should be a read-only tmpfs: %v", dev)
	}
	if pts, ok := topMount(ms, "/dev/pts"); !ok || pts.FSType != "devpts" {
		t.Errorf("/dev/pts is not mounted: %v", pts)
	}
	if fi, err := os.Stat(inRoot(s.Pid, "/dev/null")); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		t.Errorf("/dev/null missing under a read-only /dev: %v", err)
	}
}

// TestContractProcSymlink: /proc or /sys in the image being a symlink is
// refused (CVE-2019-19921): `must be mounted on ordinary directory`.
func TestContractProcSymlink(t *testing.T) {
	t.Parallel()
	for _, dir := range []string{"proc", "sys"} {
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			b := newBundle(t, "true")
			real := filepath.Join(b.Rootfs, "real"+dir)
			if err := os.Rename(filepath.Join(b.Rootfs, dir), real); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("real"+dir, filepath.Join(b.Rootfs, dir)); err != nil {
				t.Fatal(err)
			}
			id := newID(t)
			b.save(t)
			r.trackCleanup(id)
			res := r.run("run", "--bundle", b.Dir, id)
			if res.Err != nil || res.Code <= 0 || !mentions(res.Stderr, "must be mounted on ordinary directory") {
				t.Errorf("a symlinked /%s must be refused: %s", dir, res)
			}
			if ms := hostMountsUnder(t, b.Dir); len(ms) > 0 {
				t.Errorf("mounts left on the host: %v", ms)
			}
		})
	}
}

// TestContractMaskedPaths: a masked path listed twice is masked once, and
// every masked directory shows the same empty read-only tmpfs.
func TestContractMaskedPaths(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	for _, d := range []string{"m1", "m2"} {
		if err := os.MkdirAll(filepath.Join(b.Rootfs, d, "inside"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b.Spec.Linux.MaskedPaths = []string{"/m1", "/m2", "/m1", "/proc/keys", "/proc/keys"}
	_, s := r.createStart(b)
	ms := mountsOf(t, s.Pid)
	count := map[string]int{}
	devs := map[string]bool{}
	for _, m := range ms {
		count[m.MountPoint]++
		if m.MountPoint == "/m1" || m.MountPoint == "/m2" {
			devs[m.MajMin] = true
			if m.FSType != "tmpfs" || !(contains(m.MountOpts, "ro") || contains(m.SuperOpts, "ro")) {
				t.Errorf("masked %s is not a read-only tmpfs: %v", m.MountPoint, m)
			}
		}
	}
	for _, p := range []string{"/m1", "/m2", "/proc/keys"} {
		if count[p] == 2 && p != "/m2" && oldRunc() {
			t.Logf("%s masks a path listed twice twice", runtimeVersion())
			continue
		}
		if count[p] != 1 {
			t.Errorf("%s is mounted %d times, want once", p, count[p])
		}
	}
	if _, err := os.Stat(inRoot(s.Pid, "/m1/inside")); err == nil {
		t.Errorf("/m1's content shows through its mask")
	}
	if len(devs) != 1 {
		if oldRunc() {
			t.Logf("%s gives each masked directory its own tmpfs: %v", runtimeVersion(), devs)
		} else {
			t.Errorf("masked directories should share one tmpfs, got devices %v", devs)
		}
	}
}

// TestContractTmpfsMode: a tmpfs given no mode= keeps the mode of the
// directory it covers (runc's "mode inherit"); over a new directory it has
// tmpfs's own 1777; an explicit mode= is what the root of the mount gets.
func TestContractTmpfsMode(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	for _, d := range []string{"inherit", "explicit"} {
		if err := os.Mkdir(filepath.Join(b.Rootfs, d), 0o750); err != nil {
			t.Fatal(err)
		}
		os.Chmod(filepath.Join(b.Rootfs, d), 0o750)
	}
	b.Spec.Mounts = append(b.Spec.Mounts,
		specs.Mount{Destination: "/inherit", Type: "tmpfs", Source: "tmpfs"},
		specs.Mount{Destination: "/explicit", Type: "tmpfs", Source: "tmpfs", Options: []string{"mode=0711"}},
		specs.Mount{Destination: "/fresh", Type: "tmpfs", Source: "tmpfs"},
	)
	_, s := r.createStart(b)
	want := map[string]os.FileMode{"/inherit": 0o750, "/explicit": 0o711, "/fresh": 0o777 | os.ModeSticky}
	for p, w := range want {
		fi, err := os.Stat(inRoot(s.Pid, p))
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		got := fi.Mode() & (os.ModePerm | os.ModeSticky)
		if got == w {
			continue
		}
		if p == "/explicit" && oldRunc() && got == 0o750 {
			t.Logf("%s chmods an explicit mode= tmpfs back to the covered directory's mode (fixed in runc 1.2)", runtimeVersion())
			continue
		}
		t.Errorf("%s: mode %v, want %v", p, got, w)
	}
	if m, ok := topMount(mountsOf(t, s.Pid), "/inherit"); !ok || m.FSType != "tmpfs" {
		t.Errorf("/inherit is no tmpfs: %v", m)
	}
}

// TestContractMountSourceFromEarlierMount: a bind mount whose source is a
// path that only an earlier mount of the container makes exist (inside the
// rootfs, in the container's mount namespace) is mounted, as with runc.
func TestContractMountSourceFromEarlierMount(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	host := t.TempDir()
	if err := os.MkdirAll(filepath.Join(host, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(host, "sub", "f"), "from-earlier-mount\n")
	b.Spec.Mounts = append(b.Spec.Mounts,
		specs.Mount{Destination: "/a", Type: "bind", Source: host, Options: []string{"rbind", "ro"}},
		specs.Mount{Destination: "/b", Type: "bind", Source: filepath.Join(b.Rootfs, "a", "sub"), Options: []string{"rbind", "ro"}},
		specs.Mount{Destination: "/c", Type: "bind", Source: filepath.Join(b.Rootfs, "a", "sub", "f"), Options: []string{"bind", "ro"}},
	)
	_, s := r.createStart(b)
	for _, p := range []string{"/b/f", "/c"} {
		if got := readFileString(inRoot(s.Pid, p)); got != "from-earlier-mount\n" {
			t.Errorf("%s reads %q, want the file the earlier mount brought", p, got)
		}
	}
}
