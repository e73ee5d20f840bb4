package security

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// CVE-2019-16884, CVE-2019-19921, CVE-2023-27561: an image whose /proc,
// /sys or a mount's destination is a symlink (absolute or relative, aimed
// at a host directory) must not get that filesystem mounted outside its
// root. Checked from the kernel: the container's /proc is procfs and its
// /sys sysfs (resolved inside its root), and a bind's marker file shows
// where the image's symlink points inside the root.
func TestCVE_2019_16884_SymlinkedMountTargets(t *testing.T) {
	host := func(name string) string {
		d := filepath.Join(topDir, "escape-"+name)
		os.MkdirAll(d, 0o755)
		return d
	}
	src := filepath.Join(topDir, "volume-src")
	os.MkdirAll(src, 0o755)
	os.WriteFile(filepath.Join(src, "marker"), []byte("volume\n"), 0o644)

	cases := []struct {
		name, path string
		target     func() string // the symlink's target
		magic      int64         // want this fs at path (0: want the volume's marker)
	}{
		{"proc-absolute", "proc", func() string { return host("proc-abs") }, unix.PROC_SUPER_MAGIC},
		{"proc-relative", "proc", func() string { return "../../../../../../../.." + host("proc-rel") }, unix.PROC_SUPER_MAGIC},
		{"sys-absolute", "sys", func() string { return host("sys-abs") }, unix.SYSFS_MAGIC},
		{"sys-relative", "sys", func() string { return "../../../../../../../.." + host("sys-rel") }, unix.SYSFS_MAGIC},
		{"volume-absolute", "data", func() string { return host("vol-abs") }, 0},
		{"volume-relative", "data", func() string { return "../../../../../../../.." + host("vol-rel") }, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRT(t)
			b := newBundle(t, "sleep", "1000")
			target := tc.target()
			b.symlink(t, tc.path, target)
			// the same path inside the root: resolved there, the mount succeeds
			os.MkdirAll(filepath.Join(b.Rootfs, filepath.Join(topDir, filepath.Base(target))), 0o755)
			b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/data", Type: "bind", Source: src, Options: []string{"bind"}})
			pid, out := r.create(b, newID("symlink"))
			if pid == 0 {
				// refusing is safe too, if it says why and touches nothing outside
				t.Logf("create refused: %s", strings.TrimSpace(out.stderr))
			} else if tc.magic != 0 {
				if got := fsMagic(t, pid, tc.path); got != tc.magic {
					t.Errorf("/%s in the container is fs %#x, want %#x: the mount went elsewhere (outside the root?)", tc.path, got, tc.magic)
				}
			} else if data, err := readIn(t, pid, "/data/marker"); err != nil || data != "volume\n" {
				t.Errorf("/data/marker in the container: %q, %v: the bind went elsewhere (outside the root?)", data, err)
			}
			// nothing lands on the host directory the symlink names
			hostDir := filepath.Join(topDir, filepath.Base(target))
			if ents, _ := os.ReadDir(hostDir); len(ents) > 0 {
				t.Errorf("host directory %s was written: %d entries", hostDir, len(ents))
			}
		})
	}
}

// CVE-2025-31133: the masked paths are hidden with a bind of /dev/null;
// an image whose /dev/null is a symlink (to a file it wants exposed, or to a
// procfs file it wants writable) or a plain file must not get that bound
// over the masked path. Either create refuses, or the masked path is the
// real null device (1:3), checked with fstat from the host.
func TestCVE_2025_31133_MaskWithFakeDevNull(t *testing.T) {
	for _, kind := range []string{"symlink-file", "symlink-procfs", "regular-file"} {
		t.Run(kind, func(t *testing.T) {
			r := newRT(t)
			b := newBundle(t, "sleep", "1000")
			// /dev from the image (no tmpfs), so the image decides what /dev/null is
			var ms []specs.Mount
			for _, m := range b.Spec.Mounts {
				if m.Destination != "/dev" && m.Destination != "/dev/pts" {
					ms = append(ms, m)
				}
			}
			b.Spec.Mounts = ms
			b.write(t, "exposed", "EXPOSED\n")
			switch kind {
			case "symlink-file":
				b.symlink(t, "dev/null", "/exposed")
			case "symlink-procfs":
				b.symlink(t, "dev/null", "/proc/sys/kernel/hostname")
			case "regular-file":
				b.write(t, "dev/null", "EXPOSED\n")
			}
			b.Spec.Linux.MaskedPaths = []string{"/secret/password", "/proc/kcore"}
			b.Spec.Linux.ReadonlyPaths = nil
			pid, out := r.create(b, newID("mask"))
			if pid == 0 {
				if !strings.Contains(out.stderr, "null") {
					t.Errorf("create refused without naming /dev/null: %s", out)
				}
				return
			}
			for _, p := range []string{"/secret/password", "/proc/kcore"} {
				st, err := statIn(t, pid, p)
				if err != nil {
					t.Fatalf("stat %s: %v", p, err)
				}
				if !isNullDev(st) {
					data, _ := readIn(t, pid, p)
					t.Errorf("masked %s is mode %o rdev %d:%d (content %.20q), not the null device", p, st.Mode, unix.Major(st.Rdev), unix.Minor(st.Rdev), data)
				}
			}
		})
	}
}

// CVE-2025-52565: /dev/console (and the ptmx the init opens) replaced by
// symlinks in an image with a terminal: the pty must not be bound over the
// symlink's target, and the process's stdio must be the pty whose master
// the engine got.
func TestCVE_2025_52565_ConsoleSymlinks(t *testing.T) {
	cases := map[string]func(b *bundle){
		"console-to-file":   func(b *bundle) { b.symlink(t, "dev/console", "/secret/password") },
		"console-to-procfs": func(b *bundle) { b.symlink(t, "dev/console", "/proc/sys/kernel/hostname") },
		"pts-dir-elsewhere": func(b *bundle) {
			os.MkdirAll(filepath.Join(b.Rootfs, "ptsdir"), 0o755)
			b.symlink(t, "dev/pts", "/ptsdir")
		},
		"ptmx-to-file": func(b *bundle) { b.symlink(t, "dev/ptmx", "/secret/password") },
		"console-relative-up": func(b *bundle) {
			b.symlink(t, "dev/console", "../../../../../../../../"+filepath.Join(topDir, "console-target"))
		},
	}
	os.WriteFile(filepath.Join(topDir, "console-target"), []byte("host file\n"), 0o644)
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			r := newRT(t)
			cs := newConsoleServer(t)
			b := newBundle(t, "sleep", "1000")
			var ms []specs.Mount
			for _, m := range b.Spec.Mounts {
				if m.Destination != "/dev" {
					ms = append(ms, m)
				}
			}
			b.Spec.Mounts = ms
			b.Spec.Process.Terminal = true
			os.MkdirAll(filepath.Join(b.Rootfs, "dev/pts"), 0o755)
			mutate(b)
			pid, out := r.create(b, newID("console"), "--console-socket", cs.Path)
			if host, _ := os.ReadFile(filepath.Join(topDir, "console-target")); string(host) != "host file\n" {
				t.Errorf("host file behind a relative symlink changed: %q", host)
			}
			if pid == 0 {
				t.Logf("create refused: %s", strings.TrimSpace(out.stderr))
				return
			}
			st, err := statIn(t, pid, "/secret/password")
			if err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
				t.Errorf("/secret/password is no longer the image's file (mode %o, %v): the pty was bound over a symlink's target", st.Mode, err)
			}
			if st, err := statIn(t, pid, "/proc/sys/kernel/hostname"); err == nil && st.Mode&unix.S_IFMT == unix.S_IFCHR {
				t.Errorf("the pty was bound over /proc/sys/kernel/hostname")
			}
			var fst unix.Stat_t
			if err := unix.Stat("/proc/"+itoa(pid)+"/fd/0", &fst); err != nil || fst.Mode&unix.S_IFMT != unix.S_IFCHR || unix.Major(fst.Rdev) != 136 {
				t.Errorf("the init's stdin is not a pty slave (mode %o, dev %d:%d, %v)", fst.Mode, unix.Major(fst.Rdev), unix.Minor(fst.Rdev), err)
			}
		})
	}
}
