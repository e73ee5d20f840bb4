package integration

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// imageTree fills dir (a directory of the image) with what tmpcopyup must
// carry over: owners, modes (setuid included), an xattr, a subdirectory,
// symlinks (one pointing out of the rootfs, never to be followed) and a FIFO.
func imageTree(t *testing.T, dir string) {
	t.Helper()
	data := make([]byte, 100<<10)
	rand.Read(data)
	mk := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	mk(os.MkdirAll(filepath.Join(dir, "d"), 0o755))
	mk(os.WriteFile(filepath.Join(dir, "f"), data, 0o644))
	mk(os.WriteFile(filepath.Join(dir, "d", "g"), []byte("g\n"), 0o644))
	mk(os.WriteFile(filepath.Join(dir, "suid"), []byte("s\n"), 0o644))
	mk(os.Chmod(filepath.Join(dir, "suid"), 0o4755))
	mk(os.Chmod(filepath.Join(dir, "f"), 0o640))
	mk(os.Chown(filepath.Join(dir, "f"), 1000, 1001))
	mk(os.Chmod(filepath.Join(dir, "d"), 0o710))
	mk(os.Chown(filepath.Join(dir, "d"), 2, 3))
	mk(os.Symlink("f", filepath.Join(dir, "rel")))
	mk(os.Symlink("/../../../../../etc", filepath.Join(dir, "escape")))
	mk(unix.Mkfifo(filepath.Join(dir, "p"), 0o600))
	if err := unix.Setxattr(filepath.Join(dir, "f"), "user.casco", []byte("xattr-value"), 0); err != nil {
		t.Logf("no user xattrs on the test's filesystem (%v): xattrs not checked", err)
	}
}

// sameTree compares two trees entry by entry: type, mode, owner, size,
// mtime, content, link target, xattrs.
func sameTree(t *testing.T, want, got string) {
	t.Helper()
	n := 0
	filepath.Walk(want, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			t.Errorf("walk %s: %v", path, err)
			return nil
		}
		rel, _ := filepath.Rel(want, path)
		if rel == "." {
			return nil
		}
		n++
		other := filepath.Join(got, rel)
		var a, b syscall.Stat_t
		if err := syscall.Lstat(path, &a); err != nil {
			t.Errorf("%s: %v", rel, err)
			return nil
		}
		if err := syscall.Lstat(other, &b); err != nil {
			t.Errorf("%s not copied: %v", rel, err)
			return nil
		}
		if a.Mode != b.Mode || a.Uid != b.Uid || a.Gid != b.Gid || (a.Mode&syscall.S_IFMT != syscall.S_IFDIR && a.Size != b.Size) || a.Mtim != b.Mtim {
			t.Errorf("%s: copy has mode %o owner %d:%d size %d mtime %v; image %o %d:%d %d %v", rel, b.Mode, b.Uid, b.Gid, b.Size, b.Mtim, a.Mode, a.Uid, a.Gid, a.Size, a.Mtim)
		}
		switch a.Mode & syscall.S_IFMT {
		case syscall.S_IFREG:
			x, _ := os.ReadFile(path)
			y, err := os.ReadFile(other)
			if err != nil || !bytes.Equal(x, y) {
				t.Errorf("%s: content differs (%d bytes copied of %d, %v)", rel, len(y), len(x), err)
			}
			xa := make([]byte, 256)
			if n, err := unix.Lgetxattr(path, "user.casco", xa); err == nil {
				ya := make([]byte, 256)
				m, err := unix.Lgetxattr(other, "user.casco", ya)
				if err != nil || string(ya[:m]) != string(xa[:n]) {
					t.Errorf("%s: xattr user.casco = %q (%v), want %q", rel, ya[:max(m, 0)], err, xa[:n])
				}
			}
		case syscall.S_IFLNK:
			x, _ := os.Readlink(path)
			y, _ := os.Readlink(other)
			if x != y {
				t.Errorf("%s: link to %q, want %q", rel, y, x)
			}
		}
		return nil
	})
	if n < 7 {
		t.Errorf("only %d entries in the image tree", n)
	}
}

// TestTmpcopyup: a tmpfs with tmpcopyup over a directory of the image holds
// a copy of that directory's tree, byte for byte with owners, modes, times,
// xattrs and links, read from the tmpfs the kernel says is mounted there;
// with ro, the copy is made before the tmpfs turns read-only.
func TestTmpcopyup(t *testing.T) {
	t.Parallel()
	if isRunc() {
		// runc 1.1 and 1.5: "tmpcopyup: failed to copy /data ...: lchown .../p: no such file or directory"
		t.Skipf("%s cannot copy up a FIFO (it skips making the node, then fails to chown it)", runtimeVersion())
	}
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	imageTree(t, filepath.Join(b.Rootfs, "data"))
	imageTree(t, filepath.Join(b.Rootfs, "rodata"))
	b.Spec.Mounts = append(b.Spec.Mounts,
		specs.Mount{Destination: "/data", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup", "size=10m", "mode=755"}},
		specs.Mount{Destination: "/rodata", Type: "tmpfs", Source: "tmpfs", Options: []string{"tmpcopyup", "ro", "nosuid"}},
	)
	_, s := r.createStart(b)
	ms := mountsOf(t, s.Pid)
	for _, d := range []string{"/data", "/rodata"} {
		m, ok := topMount(ms, d)
		if !ok || m.FSType != "tmpfs" {
			t.Fatalf("%s: want a tmpfs mounted, got %v (found %v)", d, m, ok)
		}
		sameTree(t, filepath.Join(b.Rootfs, d), inRoot(s.Pid, d))
	}
	if m, _ := topMount(ms, "/rodata"); !contains(m.MountOpts, "ro") || !contains(m.MountOpts, "nosuid") {
		t.Errorf("/rodata: per-mount options %v, want ro and nosuid", m.MountOpts)
	}
}
