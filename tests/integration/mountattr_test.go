package integration

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// hostSubmount mounts a small tmpfs at dir/sub in the test's own mount
// namespace, so that an rbind of dir has a submount; unmounted at cleanup.
func hostSubmount(t *testing.T, dir string) string {
	t.Helper()
	sub := filepath.Join(dir, "sub")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", sub, "tmpfs", 0, "size=64k"); err != nil {
		t.Fatalf("mount tmpfs on %s: %v", sub, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(sub, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", sub, err)
		}
	})
	mustWrite(t, filepath.Join(sub, "f"), "sub\n")
	return sub
}

// TestRecursiveMountAttributes: rro, rnosuid, rnodev, rnoexec, rnoatime and
// rnosymfollow on an rbind reach the bind and every submount below it, as
// the kernel's per-mount flags in mountinfo say; a later rrw wins over an
// earlier rro; a tmpfs takes them too.
func TestRecursiveMountAttributes(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	host := t.TempDir()
	hostSubmount(t, host)
	mustWrite(t, filepath.Join(host, "top"), "top\n")
	b := newBundle(t, "sh", "-c", `touch /data/new 2>/dev/null; echo top-write=$?; touch /data/sub/new 2>/dev/null; echo sub-write=$?; touch /rw/sub/new; echo rw-write=$?; echo ready; exec sleep 1000`)
	b.Spec.Mounts = append(b.Spec.Mounts,
		specs.Mount{Destination: "/data", Type: "bind", Source: host,
			Options: []string{"rbind", "rro", "rnosuid", "rnodev", "rnoexec", "rnoatime", "rnosymfollow"}},
		specs.Mount{Destination: "/rw", Type: "bind", Source: host, Options: []string{"rbind", "rro", "rrw"}},
		specs.Mount{Destination: "/scratch", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m", "rro"}},
	)
	c, s := r.createStart(b)
	out := c.waitOutput("ready")
	waitExec(t, s.Pid, sleeper)
	ms := mountsOf(t, s.Pid)
	for _, mp := range []string{"/data", "/data/sub"} {
		m, ok := topMount(ms, mp)
		if !ok {
			t.Errorf("no mount at %s", mp)
			continue
		}
		for _, want := range []string{"ro", "nosuid", "nodev", "noexec", "noatime", "nosymfollow"} {
			if !contains(m.MountOpts, want) {
				t.Errorf("%s: per-mount options %v lack %q", mp, m.MountOpts, want)
			}
		}
	}
	for _, mp := range []string{"/rw", "/rw/sub"} {
		if m, ok := topMount(ms, mp); !ok || !contains(m.MountOpts, "rw") {
			t.Errorf("%s: want rw (rrw after rro), got %v (found %v)", mp, m.MountOpts, ok)
		}
	}
	if m, ok := topMount(ms, "/scratch"); !ok || !contains(m.MountOpts, "ro") {
		if !ok || !knownRuncBug(t, "runc 1.5 applies the recursive attributes to binds only: rro on a tmpfs is ignored") {
			t.Errorf("/scratch: tmpfs with rro: want ro, got %v", m.MountOpts)
		}
	}
	for _, want := range []string{"top-write=1", "sub-write=1", "rw-write=0"} {
		if !strings.Contains(out, want) {
			t.Errorf("container output lacks %q: %q", want, out)
		}
	}
}

// TestMountOptionForKind: a filesystem option on a bind mount (which has no
// filesystem of its own: the kernel would ignore it) and tmpcopyup on a
// bind are refused with one line naming the mount and the option, and
// leave nothing behind.
func TestMountOptionForKind(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		m    specs.Mount
		want string
	}{
		{"bind-data", specs.Mount{Destination: "/data", Type: "bind", Source: "/tmp", Options: []string{"rbind", "size=1m"}}, "size=1m"},
		{"bind-typo", specs.Mount{Destination: "/data", Type: "none", Source: "/tmp", Options: []string{"bind", "rdonly"}}, "rdonly"},
		{"tmpcopyup-bind", specs.Mount{Destination: "/data", Type: "bind", Source: "/tmp", Options: []string{"rbind", "tmpcopyup"}}, "tmpcopyup"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRuntime(t)
			b := newBundle(t, "true")
			b.Spec.Mounts = append(b.Spec.Mounts, tc.m)
			id, res := r.runForeground(b)
			if res.Code == 0 {
				if knownRuncBug(t, "runc passes unknown words on a bind mount to the kernel as data") {
					return
				}
				t.Fatalf("want a refusal: %s", res)
			}
			// quoted as the error quotes it: the container id holds the test's name
			if !holdsAll(res.Stderr, cascoWords(t, `"`+tc.want+`"`, "/data")...) {
				t.Errorf("stderr should name the mount /data and the option %q: %s", tc.want, res)
			}
			noLeftovers(t, r, b, id, "")
		})
	}
}
