package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/tests/internal/harness"
)

// idmapSource makes a host directory with a root-owned file a, a file b
// owned by 1000:1000 and a tmpfs submount sub holding a root-owned f.
func idmapSource(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	_ = os.Chmod(dir, 0o755)
	mustWrite(t, filepath.Join(dir, "a"), "a\n")
	mustWrite(t, filepath.Join(dir, "b"), "b\n")
	if err := os.Chown(filepath.Join(dir, "b"), 1000, 1000); err != nil {
		t.Fatal(err)
	}
	hostSubmount(t, dir)
	return dir
}

func ownerOf(t *testing.T, path string) string {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Errorf("stat %s: %v", path, err)
		return ""
	}
	return strconv.FormatUint(uint64(st.Uid), 10) + ":" + strconv.FormatUint(uint64(st.Gid), 10)
}

// skipUnlessIdmappable asks the kernel itself whether the filesystem of
// dir can be idmapped (open_tree + mount_setattr(MOUNT_ATTR_IDMAP) with a
// user namespace of a helper process), and skips with the reason if not.
func skipUnlessIdmappable(t *testing.T, dir string) {
	t.Helper()
	holder := exec.Command("unshare", "--user", "--map-root-user", "sleep", "1000")
	if err := holder.Start(); err != nil {
		t.Skipf("cannot make a user namespace to probe idmapped mounts (unshare --user): %v", err)
	}
	defer func() {
		holder.Process.Kill()
		holder.Wait()
	}()
	path := fmt.Sprintf("/proc/%d/ns/user", holder.Process.Pid)
	self, _ := os.Readlink("/proc/self/ns/user")
	if !harness.Poll(hangGuard, func() bool {
		l, err := os.Readlink(path)
		return err == nil && l != self && strings.Join(harness.Cmdline(holder.Process.Pid), " ") == "sleep 1000"
	}) {
		t.Fatalf("unshare --user never entered a user namespace of its own")
	}
	userns, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(userns)
	tree, err := unix.OpenTree(unix.AT_FDCWD, dir, unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err != nil {
		t.Fatalf("open_tree %s: %v", dir, err)
	}
	defer unix.Close(tree)
	err = unix.MountSetattr(tree, "", unix.AT_EMPTY_PATH, &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns)})
	if err == unix.EINVAL || err == unix.ENOSYS {
		var st unix.Statfs_t
		unix.Statfs(dir, &st)
		t.Skipf("the kernel cannot idmap the filesystem of %s (magic %#x): mount_setattr: %v", dir, st.Type, err)
	}
	if err != nil {
		t.Fatalf("probing idmapped mounts on %s: %v", dir, err)
	}
}

// TestIdmapMounts: idmap, ridmap and per-mount mappings, in a container
// with a user namespace. The kernel's mountinfo marks exactly the idmapped
// mounts, the container sees the host's owners through its own mappings
// (or the mount's), and a file it creates lands on the host with the
// owner the idmapping says.
func TestIdmapMounts(t *testing.T) {
	t.Parallel()
	if strings.TrimSpace(readFileString("/proc/sys/user/max_user_namespaces")) == "0" {
		t.Skip("user namespaces are disabled (/proc/sys/user/max_user_namespaces is 0)")
	}
	if isRunc() {
		// RUNC-CONTRACT.md: a non-recursive bind of a source with submounts
		t.Skipf("%s: the non-recursive idmapped bind /custom of a source with a submount fails: open_tree(OPEN_TREE_CLONE) in the container's mount namespace, where the submount is locked, gives EINVAL", runtimeVersion())
	}
	r := newRuntime(t)
	src := idmapSource(t)
	skipUnlessIdmappable(t, src)
	skipUnlessIdmappable(t, filepath.Join(src, "sub"))
	b := newBundle(t, "sh", "-c", `for f in /idm/a /idm/b /idm/sub/f /ridm/sub/f /plain/a /custom/a /custom/b /mapped/a /mapped/sub/f; do echo "$f=$(stat -c %u:%g $f)"; done; touch /idm/new; echo touch=$?; echo ready; exec sleep 1000`)
	b.addNamespace(specs.UserNamespace)
	b.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	b.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	for _, d := range []string{"idm", "ridm", "plain", "custom", "mapped"} {
		// host root owns the rootfs: the container's root can't make these
		if err := os.Mkdir(filepath.Join(b.Rootfs, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	mountMap := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100500, Size: 2000}}
	b.Spec.Mounts = append(b.Spec.Mounts,
		specs.Mount{Destination: "/idm", Type: "bind", Source: src, Options: []string{"rbind", "idmap"}},
		specs.Mount{Destination: "/ridm", Type: "bind", Source: src, Options: []string{"rbind", "ridmap"}},
		specs.Mount{Destination: "/plain", Type: "bind", Source: src, Options: []string{"rbind"}},
		specs.Mount{Destination: "/custom", Type: "bind", Source: src, Options: []string{"bind", "idmap"}, UIDMappings: mountMap, GIDMappings: mountMap},
		// mappings without the option, as containerd 2.x sends a
		// user-namespaced pod's mounts: idmapped (the top mount), as runc
		specs.Mount{Destination: "/mapped", Type: "bind", Source: src, Options: []string{"rbind"}, UIDMappings: mountMap, GIDMappings: mountMap},
	)
	c, s := r.createStart(b)
	out := c.waitOutput("ready")
	waitExec(t, s.Pid, sleeper)
	want := map[string]string{
		"/idm/a": "0:0", "/idm/b": "1000:1000", // the container's own mappings
		"/idm/sub/f":    "65534:65534", // idmap is the top mount only
		"/ridm/sub/f":   "0:0",         // ridmap reaches the submount
		"/plain/a":      "65534:65534", // no idmap: host root is nobody inside
		"/custom/a":     "500:500",     // disk 0 -> host 100500 -> 500 inside
		"/custom/b":     "1500:1500",
		"/mapped/a":     "500:500",
		"/mapped/sub/f": "65534:65534",
		"touch":         "0",
	}
	got := map[string]string{}
	for _, l := range lines(out) {
		if k, v, ok := strings.Cut(l, "="); ok {
			got[k] = v
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("inside the container %s = %q, want %q", k, got[k], v)
		}
	}
	// container root (host 100000) wrote through the idmapped mount as disk uid 0
	if o := ownerOf(t, filepath.Join(src, "new")); o != "0:0" {
		t.Errorf("file created through /idm is owned by %s on the host, want 0:0", o)
	}
	ms := mountsOf(t, s.Pid)
	for mp, idmapped := range map[string]bool{"/idm": true, "/idm/sub": false, "/ridm": true, "/ridm/sub": true, "/plain": false, "/plain/sub": false, "/custom": true, "/mapped": true, "/mapped/sub": false} {
		m, ok := topMount(ms, mp)
		if !ok {
			t.Errorf("no mount at %s", mp)
			continue
		}
		if contains(m.MountOpts, "idmapped") != idmapped {
			t.Errorf("%s: per-mount options %v, idmapped should be %v", mp, m.MountOpts, idmapped)
		}
	}
}

// TestIdmapMountNoUserns: without a user namespace, an idmapped mount
// takes its mappings from the mount; without them it is refused, naming
// the mount, and nothing is left behind.
func TestIdmapMountNoUserns(t *testing.T) {
	t.Parallel()
	src := idmapSource(t)
	t.Run("mount-mappings", func(t *testing.T) {
		skipUnlessIdmappable(t, src)
		r := newRuntime(t)
		b := newBundle(t, sleeper...)
		m := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 2000, Size: 1100}}
		b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/custom", Type: "bind", Source: src, Options: []string{"rbind", "idmap"}, UIDMappings: m, GIDMappings: m})
		_, s := r.createStart(b)
		for f, want := range map[string]string{"a": "2000:2000", "b": "3000:3000"} {
			if o := ownerOf(t, inRoot(s.Pid, "/custom/"+f)); o != want {
				t.Errorf("/custom/%s is owned by %s through the container's root, want %s", f, o, want)
			}
		}
	})
	t.Run("no-mappings", func(t *testing.T) {
		r := newRuntime(t)
		b := newBundle(t, "true")
		b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/custom", Type: "bind", Source: src, Options: []string{"rbind", "idmap"}})
		id, res := r.runForeground(b)
		if res.Code == 0 || !holdsAll(res.Stderr, cascoWords(t, "/custom", "idmap")...) {
			t.Errorf("want a refusal naming /custom and idmap: %s", res)
		}
		noLeftovers(t, r, b, id, "")
	})
}
