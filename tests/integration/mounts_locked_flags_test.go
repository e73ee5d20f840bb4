package integration

// Bind options over a FUSE source, whose mount flags (nodev, noatime,
// nosuid, noexec) the kernel locks in a user namespace's copy: what the
// bind ends with, as runc 1.5 answers (libcontainer/rootfs_linux.go: the
// options exactly when the kernel takes them; on EPERM the source's
// lockable flags kept on top, unless the options clear one or ask for
// another atime: an error). Read from the container's mountinfo.

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// fuseSource mounts a fuse-overlayfs with the given flags on a new
// directory, or skips saying why it can't.
func fuseSource(t *testing.T, flags string) string {
	t.Helper()
	bin, err := exec.LookPath("fuse-overlayfs")
	if err != nil {
		t.Skip("no fuse-overlayfs for a FUSE mount (apt-get install fuse-overlayfs)")
	}
	if _, err := os.Stat("/dev/fuse"); err != nil {
		t.Skipf("no /dev/fuse: %v", err)
	}
	// not t.TempDir(): the test's name would put commas in the options
	dir, err := os.MkdirTemp("", "casco-fuse-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	_ = os.Chmod(dir, 0o755)
	for _, d := range []string{"lower", "upper", "work", "mnt"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mustWrite(t, filepath.Join(dir, "lower", "f"), "fuse\n")
	mnt := filepath.Join(dir, "mnt")
	opts := fmt.Sprintf("lowerdir=%s/lower,upperdir=%s/upper,workdir=%s/work", dir, dir, dir)
	if flags != "" {
		opts += "," + flags
	}
	if out, err := exec.Command(bin, "-o", opts, mnt).CombinedOutput(); err != nil {
		t.Fatalf("fuse-overlayfs: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(mnt, unix.MNT_DETACH); err != nil {
			t.Errorf("unmount the FUSE source: %v", err)
		}
	})
	return mnt
}

// TestBindOptionsOverFuse: a FUSE mount as made by default (nodev,
// noatime) and with nosuid,nodev,noexec,noatime, bound with each option
// with and without a user namespace: the table is runc 1.5.3's answers.
func TestBindOptionsOverFuse(t *testing.T) {
	t.Parallel()
	type want struct{ plain, userns string } // the bind's mount options, or "error"
	sources := []struct {
		flags string
		cases map[string]want
	}{
		{"", map[string]want{
			"":         {"rw,nodev,noatime", "rw,nodev,noatime"},
			"ro":       {"ro,noatime", "ro,nodev,noatime"},
			"nosuid":   {"rw,nosuid,noatime", "rw,nosuid,nodev,noatime"},
			"dev":      {"rw,noatime", "error"},
			"relatime": {"rw,relatime", "error"},
			"noexec":   {"rw,noexec,noatime", "rw,nodev,noexec,noatime"},
		}},
		{"nosuid,nodev,noexec,noatime", map[string]want{
			"":      {"rw,nosuid,nodev,noexec,noatime", "rw,nosuid,nodev,noexec,noatime"},
			"ro":    {"ro,noatime", "ro,nosuid,nodev,noexec,noatime"},
			"exec":  {"rw,noatime", "error"},
			"suid":  {"rw,noatime", "error"},
			"nodev": {"rw,nodev,noatime", "rw,nosuid,nodev,noexec,noatime"},
			"rw":    {"rw,noatime", "rw,nosuid,nodev,noexec,noatime"},
			"rbind": {"rw,nosuid,nodev,noexec,noatime", "rw,nosuid,nodev,noexec,noatime"},
			// a filesystem option: no bind takes it
			"nouser": {"error", "error"},
		}},
	}
	for _, s := range sources {
		for opts, w := range s.cases {
			for _, userns := range []bool{false, true} {
				name := fmt.Sprintf("source=%s,opts=%s,userns=%v", s.flags, opts, userns)
				s, opts, w, userns := s, opts, w, userns
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					if userns && readFileString("/proc/sys/user/max_user_namespaces") == "0\n" {
						t.Skip("user namespaces are disabled (/proc/sys/user/max_user_namespaces is 0)")
					}
					src := fuseSource(t, s.flags)
					r := newRuntime(t)
					b := newBundle(t, "cat", "/proc/self/mountinfo")
					want := w.plain
					if userns {
						b.addNamespace(specs.UserNamespace)
						b.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
						b.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
						want = w.userns
					}
					if err := os.Mkdir(filepath.Join(b.Rootfs, "src"), 0o755); err != nil {
						t.Fatal(err)
					}
					mo := []string{"bind"}
					if opts != "" {
						mo = append(mo, strings.Split(opts, ",")...)
					}
					b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/src", Type: "bind", Source: src, Options: mo})
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
					if got != want {
						t.Errorf("the bind's options are %s, want %s: %s", got, want, res)
					}
				})
			}
		}
	}
}
