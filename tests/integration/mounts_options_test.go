package integration

// How a mount's destination and options reach the kernel, compared with
// runc 1.5: read from the container's mountinfo.

import (
	"os"
	"path/filepath"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestMountRelativeDestination: a relative destination ("tmp/mount-1")
// is taken as relative to "/", as runc has always taken it (with a
// warning; the runtime-spec wants it absolute), and so is a destination
// naming the rootfs as the host sees it.
func TestMountRelativeDestination(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	b.Spec.Mounts = append(b.Spec.Mounts,
		specs.Mount{Destination: "tmp/mount-1", Type: "tmpfs", Source: "tmpfs"},
		specs.Mount{Destination: "./tmp/mount-2", Type: "tmpfs", Source: "tmpfs"},
		specs.Mount{Destination: filepath.Join(b.Rootfs, "tmp/mount-3"), Type: "tmpfs", Source: "tmpfs"},
	)
	_, s := r.createStart(b)
	ms := mountsOf(t, s.Pid)
	for _, p := range []string{"/tmp/mount-1", "/tmp/mount-2", "/tmp/mount-3"} {
		if m, ok := topMount(ms, p); !ok || m.FSType != "tmpfs" {
			t.Errorf("%s: no tmpfs there: %v", p, m)
		}
	}
}

// TestTmpfsModeOption: a tmpfs mounted on an existing directory without
// mode= takes the directory's mode as a mount option, as runc 1.5 does:
// the mount shows mode=710 in its options, and its root has that mode.
func TestTmpfsModeOption(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	dir := filepath.Join(b.Rootfs, "covered")
	if err := os.Mkdir(dir, 0o710); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o710); err != nil {
		t.Fatal(err)
	}
	b.Spec.Mounts = append(b.Spec.Mounts,
		specs.Mount{Destination: "/covered", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "size=64k"}})
	_, s := r.createStart(b)
	m, ok := topMount(mountsOf(t, s.Pid), "/covered")
	if !ok || m.FSType != "tmpfs" {
		t.Fatalf("/covered is no tmpfs: %v", m)
	}
	if !m.has("mode=710") || !m.has("size=64k") {
		t.Errorf("/covered: want mode=710 and size=64k in the options: %v", m)
	}
	fi, err := os.Stat(inRoot(s.Pid, "/covered"))
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode() & (os.ModePerm | os.ModeSticky); got != 0o710 {
		t.Errorf("/covered: mode %v, want 0710", got)
	}
}
