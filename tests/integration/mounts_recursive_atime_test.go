package integration

// rbind with the recursive atime options (rrelatime, rnoatime,
// rstrictatime: mount_setattr(2) with AT_RECURSIVE): every submount of
// the bind ends with the asked atime, as runc 1.5 gives it. Read from the
// container's mountinfo, mount by mount.

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// atimeTree makes a host directory with three tmpfs submounts, one for
// each atime a mount can have, and one below another.
func atimeTree(t *testing.T) string {
	t.Helper()
	src := t.TempDir()
	_ = os.Chmod(src, 0o755)
	subs := []struct {
		dir   string
		flags uintptr
	}{
		{"noatime", unix.MS_NOATIME},
		{"strictatime", unix.MS_STRICTATIME},
		{"relatime", unix.MS_RELATIME},
		{"relatime/nested", unix.MS_NOATIME | unix.MS_NOSUID},
	}
	for _, s := range subs {
		dir := filepath.Join(src, s.dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := unix.Mount("tmpfs", dir, "tmpfs", s.flags, "mode=755"); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		if err := unix.Unmount(src, unix.MNT_DETACH); err != nil && err != unix.EINVAL {
			t.Errorf("unmount %s: %v", src, err)
		}
		for i := len(subs) - 1; i >= 0; i-- {
			if err := unix.Unmount(filepath.Join(src, subs[i].dir), unix.MNT_DETACH); err != nil {
				t.Errorf("unmount %s: %v", subs[i].dir, err)
			}
		}
	})
	return src
}

// atimeOf is the atime a mount's options say: strictatime shows as none.
func atimeOf(opts []string) string {
	for _, o := range opts {
		if o == "noatime" || o == "relatime" {
			return o
		}
	}
	return "strictatime"
}

// TestRbindRecursiveAtime: a tree of noatime, strictatime and relatime
// submounts bound with rbind and each recursive atime option; in a user
// namespace the container's copy has those flags locked and runc 1.5
// refuses the mount: so does casco.
func TestRbindRecursiveAtime(t *testing.T) {
	t.Parallel()
	for _, opt := range []string{"rrelatime", "rnoatime", "rstrictatime"} {
		for _, userns := range []bool{false, true} {
			opt, userns := opt, userns
			t.Run(fmt.Sprintf("%s,userns=%v", opt, userns), func(t *testing.T) {
				t.Parallel()
				if userns && readFileString("/proc/sys/user/max_user_namespaces") == "0\n" {
					t.Skip("user namespaces are disabled (/proc/sys/user/max_user_namespaces is 0)")
				}
				src := atimeTree(t)
				r := newRuntime(t)
				b := newBundle(t, "cat", "/proc/self/mountinfo")
				if userns {
					b.addNamespace(specs.UserNamespace)
					b.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
					b.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
				}
				if err := os.Mkdir(filepath.Join(b.Rootfs, "src"), 0o755); err != nil {
					t.Fatal(err)
				}
				b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/src", Type: "bind", Source: src, Options: []string{"rbind", opt}})
				_, res := r.runForeground(b)
				if userns {
					// the container's copy of the host's mounts has their
					// atimes locked: runc 1.5 fails the mount (EPERM)
					if res.Err != nil || res.Code == 0 || !mentions(res.Stderr, "/src", "operation not permitted") {
						t.Errorf("want the mount refused with EPERM, as runc 1.5 refuses it: %s", res)
					}
					return
				}
				if res.Err != nil || res.Code != 0 {
					t.Fatalf("run: %s", res)
				}
				path := filepath.Join(t.TempDir(), "mountinfo")
				mustWrite(t, path, res.Stdout)
				ms, err := readMountInfo(path)
				if err != nil {
					t.Fatal(err)
				}
				want := strings.TrimPrefix(opt, "r")
				var got []string
				for _, m := range ms {
					if m.MountPoint == "/src" || strings.HasPrefix(m.MountPoint, "/src/") {
						got = append(got, m.MountPoint+" "+strings.Join(m.MountOpts, ","))
						if a := atimeOf(m.MountOpts); a != want {
							t.Errorf("%s: %s, want %s: %v", m.MountPoint, a, want, m)
						}
					}
				}
				sort.Strings(got)
				if len(got) != 5 {
					t.Errorf("want the bind and its four submounts under /src, got %q", got)
				}
			})
		}
	}
}
