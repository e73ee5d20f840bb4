package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

const tmpfsMagic = 0x01021994

// rootfsScript tries writes the config forbids, prints each exit status,
// then becomes `sleep 1000` so that the host can inspect the container.
const rootfsScript = `
touch /x 2>/dev/null; echo rootfs-write=$?
echo casco 2>/dev/null >/proc/sys/kernel/hostname; echo procsys-write=$?
touch /data/new 2>/dev/null; echo bind-write=$?
touch /scratch/new 2>/dev/null; echo scratch-write=$?
for f in /proc/kcore /proc/keys /proc/timer_list; do [ -e $f ] && echo "masked:$f=$(cat $f | wc -c)"; done
echo secret-entries=$(ls -A /secret | wc -l)
echo ready
exec sleep 1000
`

// TestRootfs checks one container's mounts, masks, read-only paths and
// devices through the kernel: /proc/<pid>/mountinfo, and stat through
// /proc/<pid>/root.
func TestRootfs(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, "sh", "-c", rootfsScript)
	hostData := filepath.Join(t.TempDir(), "hostdata")
	mustWrite(t, filepath.Join(hostData, "hello"), "hello from the host\n")
	b.Spec.Mounts = append(b.Spec.Mounts,
		specs.Mount{Destination: "/data", Type: "bind", Source: hostData, Options: []string{"rbind", "ro", "nosuid"}},
		specs.Mount{Destination: "/scratch", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m", "mode=700", "nodev"}},
	)
	b.Spec.Linux.MaskedPaths = append(b.Spec.Linux.MaskedPaths, "/secret")
	fileMode := os.FileMode(0o640)
	b.Spec.Linux.Devices = []specs.LinuxDevice{
		{Path: "/dev/casco0", Type: "c", Major: 1, Minor: 5, FileMode: &fileMode, UID: u32(1000), GID: u32(1001)},
	}
	c, s := r.createStart(b)
	out := c.waitOutput("ready")
	waitExec(t, s.Pid, sleeper)
	results := map[string]string{}
	for _, l := range lines(out) {
		if k, v, ok := strings.Cut(l, "="); ok {
			results[k] = v
		}
	}
	ms := mountsOf(t, s.Pid)
	logMounts := func() {
		for _, m := range ms {
			t.Logf("  %s", m)
		}
	}

	t.Run("mounts-of-config", func(t *testing.T) {
		for _, m := range b.Spec.Mounts {
			if m.Type == "cgroup" {
				continue // checked below: the runtime may build it from several mounts
			}
			mi, ok := topMount(ms, m.Destination)
			if !ok {
				t.Errorf("no mount at %s (config: %+v)", m.Destination, m)
				continue
			}
			checkMount(t, s.Pid, m, mi)
		}
		var cg []mountInfo
		for _, m := range ms {
			if (m.FSType == "cgroup" || m.FSType == "cgroup2") && strings.HasPrefix(m.MountPoint, "/sys/fs/cgroup") {
				cg = append(cg, m)
				if !m.has("ro") {
					t.Errorf("cgroup mount is not read-only: %s", m)
				}
			}
		}
		if len(cg) == 0 {
			t.Errorf("no cgroup filesystem under /sys/fs/cgroup")
		}
		if t.Failed() {
			logMounts()
		}
	})

	t.Run("readonly-root", func(t *testing.T) {
		if root, ok := topMount(ms, "/"); !ok || !root.has("ro") {
			t.Errorf("root mount is not read-only: %+v", root)
		}
		if results["rootfs-write"] == "0" || results["rootfs-write"] == "" {
			t.Errorf("touch /x inside a read-only root: exit %q", results["rootfs-write"])
		}
		if _, err := os.Lstat(filepath.Join(b.Rootfs, "x")); err == nil {
			t.Errorf("touch /x created %s on the host", filepath.Join(b.Rootfs, "x"))
		}
	})

	t.Run("masked-paths", func(t *testing.T) {
		// Masked files read as empty inside, and at least one of them has
		// content on the host, so that the mask is what empties it.
		maskedSeen := false
		for _, f := range []string{"/proc/kcore", "/proc/keys", "/proc/timer_list"} {
			v, ok := results["masked:"+f]
			if !ok {
				continue
			}
			if v != "0" {
				t.Errorf("reading masked %s inside gave %s bytes, want 0", f, v)
			}
			// one byte is enough: /proc/kcore can report the whole address space
			if hasContent(f) {
				maskedSeen = true
			}
		}
		if !maskedSeen {
			t.Errorf("none of /proc/kcore, /proc/keys, /proc/timer_list exists inside with content on the host: the mask is untested (output %q)", out)
		}
		if results["secret-entries"] != "0" {
			t.Errorf("masked /secret lists %q entries inside, want 0", results["secret-entries"])
		}
		for _, p := range b.Spec.Linux.MaskedPaths {
			fi, err := os.Lstat(inRoot(s.Pid, p))
			if os.IsNotExist(err) {
				continue // nothing to mask
			}
			if err != nil {
				t.Errorf("masked %s: %v", p, err)
				continue
			}
			if fi.IsDir() {
				var st syscall.Statfs_t
				if err := syscall.Statfs(inRoot(s.Pid, p), &st); err != nil || st.Type != tmpfsMagic {
					t.Errorf("masked directory %s is not a tmpfs (statfs type %x, %v)", p, st.Type, err)
				}
				if des, err := os.ReadDir(inRoot(s.Pid, p)); err != nil || len(des) != 0 {
					t.Errorf("masked directory %s has %d entries (%v)", p, len(des), err)
				}
				if mi, ok := topMount(ms, p); !ok || !mi.has("ro") {
					t.Errorf("masked directory %s is not a read-only mount: %+v", p, mi)
				}
				continue
			}
			if maj, min, ok := charDev(fi); !ok || maj != 1 || min != 3 {
				t.Errorf("masked file %s is %v (dev %d:%d), want the null device 1:3", p, fi.Mode(), maj, min)
			}
		}
		// The rootfs's own file is untouched under the mask.
		if got := readFileString(filepath.Join(b.Rootfs, "secret", "password")); got != "hunter2\n" {
			t.Errorf("masking changed the rootfs file: %q", got)
		}
	})

	t.Run("readonly-paths", func(t *testing.T) {
		if results["procsys-write"] == "0" || results["procsys-write"] == "" {
			t.Errorf("writing /proc/sys/kernel/hostname inside: exit %q, want failure", results["procsys-write"])
		}
		for _, p := range b.Spec.Linux.ReadonlyPaths {
			if _, err := os.Lstat(inRoot(s.Pid, p)); os.IsNotExist(err) {
				continue
			}
			if mi, ok := topMount(ms, p); !ok || !mi.has("ro") {
				t.Errorf("readonly path %s is not a read-only mount: %+v", p, mi)
			}
		}
	})

	t.Run("bind-ro-nosuid", func(t *testing.T) {
		mi, ok := topMount(ms, "/data")
		if !ok {
			t.Fatalf("no mount at /data")
		}
		for _, o := range []string{"ro", "nosuid"} {
			if !contains(mi.MountOpts, o) {
				t.Errorf("/data mount options %q lack %s", mi.MountOpts, o)
			}
		}
		if !strings.HasSuffix(mi.Root, "/hostdata") {
			t.Errorf("/data is not a bind of hostdata: root %q", mi.Root)
		}
		if got := readFileString(inRoot(s.Pid, "/data/hello")); got != "hello from the host\n" {
			t.Errorf("/data/hello inside = %q", got)
		}
		if results["bind-write"] == "0" || results["bind-write"] == "" {
			t.Errorf("touch /data/new inside a ro bind: exit %q, want failure", results["bind-write"])
		}
		if _, err := os.Lstat(filepath.Join(hostData, "new")); err == nil {
			t.Errorf("write through the ro bind reached the host")
		}
	})

	t.Run("tmpfs-size-mode", func(t *testing.T) {
		mi, ok := topMount(ms, "/scratch")
		if !ok || mi.FSType != "tmpfs" {
			t.Fatalf("no tmpfs at /scratch: %+v", mi)
		}
		for _, o := range []string{"size=1024k", "mode=700"} {
			if !contains(mi.SuperOpts, o) {
				t.Errorf("/scratch options %q lack %s", mi.SuperOpts, o)
			}
		}
		if !contains(mi.MountOpts, "nodev") {
			t.Errorf("/scratch mount options %q lack nodev", mi.MountOpts)
		}
		if fi, err := os.Stat(inRoot(s.Pid, "/scratch")); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("/scratch mode = %v, %v; want 0700", fi.Mode(), err)
		}
		if results["scratch-write"] != "0" {
			t.Errorf("writing to /scratch: exit %q", results["scratch-write"])
		}
	})

	t.Run("default-devices", func(t *testing.T) {
		for name, dev := range map[string][2]uint32{
			"null": {1, 3}, "zero": {1, 5}, "full": {1, 7}, "random": {1, 8}, "urandom": {1, 9}, "tty": {5, 0},
		} {
			fi, err := os.Stat(inRoot(s.Pid, "/dev/"+name))
			if err != nil {
				t.Errorf("/dev/%s: %v", name, err)
				continue
			}
			maj, min, ok := charDev(fi)
			if !ok || maj != dev[0] || min != dev[1] {
				t.Errorf("/dev/%s is %v %d:%d, want char %d:%d", name, fi.Mode(), maj, min, dev[0], dev[1])
			}
			if fi.Mode().Perm() != 0o666 {
				t.Errorf("/dev/%s mode %v, want 0666", name, fi.Mode().Perm())
			}
		}
		for name, target := range map[string]string{
			"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2",
		} {
			if got, err := os.Readlink(inRoot(s.Pid, "/dev/"+name)); err != nil || got != target {
				t.Errorf("/dev/%s -> %q (%v), want a symlink to %s", name, got, err, target)
			}
		}
		// /dev/ptmx: a symlink to pts/ptmx or a bind of the devpts ptmx.
		if l, err := os.Readlink(inRoot(s.Pid, "/dev/ptmx")); err == nil {
			if l != "pts/ptmx" && l != "/dev/pts/ptmx" {
				t.Errorf("/dev/ptmx -> %q, want pts/ptmx", l)
			}
		} else if fi, err := os.Stat(inRoot(s.Pid, "/dev/ptmx")); err != nil {
			t.Errorf("/dev/ptmx: %v", err)
		} else if maj, min, ok := charDev(fi); !ok || maj != 5 || min != 2 {
			t.Errorf("/dev/ptmx is %v %d:%d", fi.Mode(), maj, min)
		}
		if mi, ok := topMount(ms, "/dev/pts"); !ok || mi.FSType != "devpts" {
			t.Errorf("/dev/pts is not a devpts: %+v", mi)
		}
	})

	t.Run("linux-devices", func(t *testing.T) {
		fi, err := os.Stat(inRoot(s.Pid, "/dev/casco0"))
		if err != nil {
			t.Fatalf("/dev/casco0: %v", err)
		}
		maj, min, ok := charDev(fi)
		if !ok || maj != 1 || min != 5 || fi.Mode().Perm() != 0o640 {
			t.Errorf("/dev/casco0 is %v %d:%d, want char 1:5 mode 0640", fi.Mode(), maj, min)
		}
		if st := fi.Sys().(*syscall.Stat_t); st.Uid != 1000 || st.Gid != 1001 {
			t.Errorf("/dev/casco0 owned by %d:%d, want 1000:1001", st.Uid, st.Gid)
		}
		if _, err := os.Lstat(filepath.Join(b.Rootfs, "dev", "casco0")); err == nil {
			t.Errorf("/dev/casco0 was made in the rootfs on the host, not in the container's /dev tmpfs")
		}
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func charDev(fi os.FileInfo) (major, minor uint32, ok bool) {
	if fi.Mode()&os.ModeCharDevice == 0 {
		return 0, 0, false
	}
	rdev := fi.Sys().(*syscall.Stat_t).Rdev
	major = uint32((rdev>>8)&0xfff) | uint32((rdev>>32)&^0xfff)
	minor = uint32(rdev&0xff) | uint32((rdev>>12)&^0xff)
	return major, minor, true
}

// checkMount compares one config mount with the kernel's mountinfo entry:
// filesystem type (or bind source), per-mount flags, and the data options
// the kernel echoes back (mode=, size=, gid=, ptmxmode=) in its own spelling.
func checkMount(t *testing.T, pid int, m specs.Mount, mi mountInfo) {
	t.Helper()
	bind := contains(m.Options, "bind") || contains(m.Options, "rbind") || m.Type == "bind"
	if bind {
		if !strings.HasSuffix(mi.Root, filepath.Base(m.Source)) {
			t.Errorf("%s: bind root %q, want a bind of %s", m.Destination, mi.Root, m.Source)
		}
	} else if mi.FSType != m.Type {
		t.Errorf("%s: type %s, want %s", m.Destination, mi.FSType, m.Type)
	}
	for _, o := range m.Options {
		switch {
		case o == "ro" || o == "nosuid" || o == "nodev" || o == "noexec" || o == "relatime" || o == "noatime":
			if !contains(mi.MountOpts, o) {
				t.Errorf("%s: mount options %q lack %s", m.Destination, mi.MountOpts, o)
			}
		case o == "strictatime":
			if contains(mi.MountOpts, "relatime") || contains(mi.MountOpts, "noatime") {
				t.Errorf("%s: strictatime, but mount options are %q", m.Destination, mi.MountOpts)
			}
		case strings.HasPrefix(o, "mode=") || strings.HasPrefix(o, "ptmxmode="):
			k, v, _ := strings.Cut(o, "=")
			n, err := strconv.ParseUint(v, 8, 32)
			if err != nil {
				t.Fatalf("bad option %q", o)
			}
			want := fmt.Sprintf("%s=%o", k, n)
			if m.Type == "tmpfs" && k == "mode" {
				// The kernel does not echo tmpfs's default mode (1777): ask stat.
				fi, err := os.Stat(inRoot(pid, m.Destination))
				if err != nil {
					t.Errorf("%s: %v", m.Destination, err)
				} else if got := uint64(fi.Mode().Perm()) | map[bool]uint64{true: 0o1000}[fi.Mode()&os.ModeSticky != 0]; got != n {
					t.Errorf("%s: mode %o, want %o", m.Destination, got, n)
				}
			} else if !contains(mi.SuperOpts, want) {
				t.Errorf("%s: options %q lack %s", m.Destination, mi.SuperOpts, want)
			}
		case strings.HasPrefix(o, "size=") && m.Type == "tmpfs":
			if want := "size=" + kernelSize(t, strings.TrimPrefix(o, "size=")); !contains(mi.SuperOpts, want) {
				t.Errorf("%s: options %q lack %s", m.Destination, mi.SuperOpts, want)
			}
		case strings.HasPrefix(o, "gid=") || strings.HasPrefix(o, "uid="):
			if !contains(mi.SuperOpts, o) {
				t.Errorf("%s: options %q lack %s", m.Destination, mi.SuperOpts, o)
			}
		}
	}
	if !contains(m.Options, "ro") && !contains(mi.MountOpts, "rw") {
		t.Errorf("%s: read-only without ro in the config: %q", m.Destination, mi.MountOpts)
	}
}

// kernelSize renders a tmpfs size option the way mountinfo shows it (KiB).
func kernelSize(t *testing.T, v string) string {
	mult := uint64(1)
	switch {
	case strings.HasSuffix(v, "k"):
		mult, v = 1<<10, strings.TrimSuffix(v, "k")
	case strings.HasSuffix(v, "m"):
		mult, v = 1<<20, strings.TrimSuffix(v, "m")
	case strings.HasSuffix(v, "g"):
		mult, v = 1<<30, strings.TrimSuffix(v, "g")
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		t.Fatalf("bad size %q", v)
	}
	return fmt.Sprintf("%dk", n*mult/1024)
}

// TestRootfsWritable: with root.readonly false the root is writable.
func TestRootfsWritable(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, "sh", "-c", "echo made > /made-inside")
	b.Spec.Root.Readonly = false
	if _, res := r.runForeground(b); res.Code != 0 {
		t.Fatalf("writing to a writable root: %s", res)
	}
	if got := readFileString(filepath.Join(b.Rootfs, "made-inside")); got != "made\n" {
		t.Errorf("file written inside = %q on the host", got)
	}
}

// TestSymlinkEscape: a mount destination that is a symlink pointing out of
// the rootfs must not create or mount anything outside the rootfs. Either
// the runtime refuses the container or it resolves the symlink inside the
// rootfs (runc mounts at <rootfs>/<target>).
func TestSymlinkEscape(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	outside := t.TempDir()
	target := filepath.Join(outside, "escape-target")   // must never appear
	target2 := filepath.Join(outside, "escape-target2") // same, for a tmpfs
	if err := os.Symlink("/../../.."+target, filepath.Join(b.Rootfs, "escape")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../../../.."+target2, filepath.Join(b.Rootfs, "escape2")); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "src")
	mustWrite(t, filepath.Join(src, "marker"), "marker\n")
	b.Spec.Mounts = append(b.Spec.Mounts,
		specs.Mount{Destination: "/escape", Type: "bind", Source: src, Options: []string{"rbind"}},
		specs.Mount{Destination: "/escape2/sub", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m"}},
	)
	id := newID(t)
	b.save(t)
	r.trackCleanup(id)
	res := r.run("create", "--bundle", b.Dir, id)

	for _, p := range []string{target, target2} {
		if _, err := os.Lstat(p); err == nil {
			t.Errorf("the runtime created %s outside the rootfs", p)
		}
	}
	for _, m := range hostMountsUnder(t, outside) {
		t.Errorf("the runtime mounted on the host outside the rootfs: %s", m)
	}
	if res.Code != 0 {
		t.Logf("the runtime refused the escaping mount (fine): %s", res)
		noLeftovers(t, r, b, id, "")
		return
	}
	s := r.mustState(id)
	ms := mountsOf(t, s.Pid)
	mi, ok := topMount(ms, target)
	if !ok {
		for _, m := range ms {
			t.Logf("  %s", m)
		}
		t.Fatalf("no mount at %s inside the container: where did /escape go?", target)
	}
	if !strings.HasSuffix(mi.Root, "/src") {
		t.Errorf("mount at %s inside is %s, want the bind of src", target, mi)
	}
	if got := readFileString(inRoot(s.Pid, filepath.Join(target, "marker"))); got != "marker\n" {
		t.Errorf("marker inside at %s = %q", target, got)
	}
	if _, ok := topMount(ms, filepath.Join(target2, "sub")); !ok {
		t.Errorf("no tmpfs at %s/sub inside the container", target2)
	}
}

// hasContent reports whether reading f yields at least one byte.
func hasContent(f string) bool {
	fh, err := os.Open(f)
	if err != nil {
		return false
	}
	defer fh.Close()
	var b [1]byte
	n, _ := fh.Read(b[:])
	return n == 1
}
