package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

var nsFiles = map[specs.LinuxNamespaceType]string{
	specs.PIDNamespace:     "pid",
	specs.NetworkNamespace: "net",
	specs.MountNamespace:   "mnt",
	specs.IPCNamespace:     "ipc",
	specs.UTSNamespace:     "uts",
	specs.CgroupNamespace:  "cgroup",
	specs.UserNamespace:    "user",
}

func nsLink(t *testing.T, pid int, ns string) string {
	t.Helper()
	l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", pid, ns))
	if err != nil {
		t.Fatalf("reading ns/%s of %d: %v", ns, pid, err)
	}
	return l
}

// TestNamespaces: the init of a container lives in new pid, net, mnt, ipc,
// uts and cgroup namespaces, and shares the user namespace when the config
// has none.
func TestNamespaces(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	b.addNamespace(specs.CgroupNamespace)
	_, s := r.createStart(b)
	self := os.Getpid()
	for _, ns := range []string{"pid", "net", "mnt", "ipc", "uts", "cgroup"} {
		if host, ctr := nsLink(t, self, ns), nsLink(t, s.Pid, ns); host == ctr {
			t.Errorf("container shares the host's %s namespace (%s)", ns, ctr)
		}
	}
	if host, ctr := nsLink(t, self, "user"), nsLink(t, s.Pid, "user"); host != ctr {
		t.Errorf("container has its own user namespace %s without asking for one (host %s)", ctr, host)
	}
	// The kernel's pid of the init inside its namespace is 1.
	if nspid := strings.Fields(procStatus(t, s.Pid)["NSpid"]); len(nspid) != 2 || nspid[1] != "1" {
		t.Errorf("NSpid of the container init = %q, want [%d 1]", nspid, s.Pid)
	}
	// Nothing but loopback in the new network namespace.
	devs := readFileString(fmt.Sprintf("/proc/%d/net/dev", s.Pid))
	for _, l := range lines(devs)[2:] {
		if name, _, _ := strings.Cut(strings.TrimSpace(l), ":"); name != "lo" {
			t.Errorf("new network namespace has interface %q", name)
		}
	}
}

// TestNamespacesShared: a namespace left out of the config is the host's.
func TestNamespacesShared(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	var kept []specs.LinuxNamespace
	for _, ns := range b.Spec.Linux.Namespaces {
		if ns.Type == specs.PIDNamespace || ns.Type == specs.MountNamespace {
			kept = append(kept, ns)
		}
	}
	b.Spec.Linux.Namespaces = kept
	b.Spec.Hostname = "" // no uts namespace: no hostname
	_, s := r.createStart(b)
	self := os.Getpid()
	for _, ns := range []string{"net", "ipc", "uts"} {
		if host, ctr := nsLink(t, self, ns), nsLink(t, s.Pid, ns); host != ctr {
			t.Errorf("%s namespace: container %s, host %s: want shared", ns, ctr, host)
		}
	}
	for _, ns := range []string{"pid", "mnt"} {
		if host, ctr := nsLink(t, self, ns), nsLink(t, s.Pid, ns); host == ctr {
			t.Errorf("container shares the host's %s namespace", ns)
		}
	}
}

// TestNamespacePath: a namespace with a path is joined, not created.
func TestNamespacePath(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	_, first := r.createStart(newBundle(t, sleeper...))
	b := newBundle(t, sleeper...)
	for i, ns := range b.Spec.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace || ns.Type == specs.IPCNamespace {
			b.Spec.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/%s", first.Pid, nsFiles[ns.Type])
		}
	}
	_, second := r.createStart(b)
	for _, ns := range []string{"net", "ipc"} {
		if a, b := nsLink(t, first.Pid, ns), nsLink(t, second.Pid, ns); a != b {
			t.Errorf("%s namespace: second container %s, want the first's %s", ns, b, a)
		}
	}
	for _, ns := range []string{"pid", "mnt", "uts"} {
		if a, b := nsLink(t, first.Pid, ns), nsLink(t, second.Pid, ns); a == b {
			t.Errorf("%s namespace shared between containers without a path", ns)
		}
	}
}

// TestUserNamespace: with a user namespace and mappings, the kernel's
// uid_map and gid_map hold the mappings and ids are translated.
func TestUserNamespace(t *testing.T) {
	t.Parallel()
	if strings.TrimSpace(readFileString("/proc/sys/user/max_user_namespaces")) == "0" {
		t.Skip("user namespaces are disabled (/proc/sys/user/max_user_namespaces is 0)")
	}
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	b.addNamespace(specs.UserNamespace)
	b.addNamespace(specs.CgroupNamespace)
	b.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	b.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	_, s := r.createStart(b)
	for _, f := range []string{"uid_map", "gid_map"} {
		got := strings.Fields(readFileString(fmt.Sprintf("/proc/%d/%s", s.Pid, f)))
		if strings.Join(got, " ") != "0 100000 65536" {
			t.Errorf("/proc/%d/%s = %q, want 0 100000 65536", s.Pid, f, got)
		}
	}
	if host, ctr := nsLink(t, os.Getpid(), "user"), nsLink(t, s.Pid, "user"); host == ctr {
		t.Errorf("container shares the host's user namespace")
	}
	st := procStatus(t, s.Pid)
	if uid := strings.Fields(st["Uid"]); len(uid) == 0 || uid[0] != "100000" {
		t.Errorf("host view of container root's uid = %q, want 100000", st["Uid"])
	}
	if gid := strings.Fields(st["Gid"]); len(gid) == 0 || gid[0] != "100000" {
		t.Errorf("host view of container root's gid = %q, want 100000", st["Gid"])
	}
	for _, ns := range []string{"pid", "net", "mnt", "ipc", "uts", "cgroup"} {
		if host, ctr := nsLink(t, os.Getpid(), ns), nsLink(t, s.Pid, ns); host == ctr {
			t.Errorf("container shares the host's %s namespace", ns)
		}
	}
}

// TestJoinUserNamespaceByPath: a container that joins another's user
// namespace by path (as containerd's user-namespaced pods do: it pins the
// namespace and hands it to the runtime) runs as that namespace's root and
// creates its mount points there (/dev/pts in its own /dev tmpfs).
func TestJoinUserNamespaceByPath(t *testing.T) {
	t.Parallel()
	if strings.TrimSpace(readFileString("/proc/sys/user/max_user_namespaces")) == "0" {
		t.Skip("user namespaces are disabled (/proc/sys/user/max_user_namespaces is 0)")
	}
	maps := []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	r := newRuntime(t)
	a := newBundle(t, sleeper...)
	a.addNamespace(specs.UserNamespace)
	a.Spec.Linux.UIDMappings, a.Spec.Linux.GIDMappings = maps, maps
	_, first := r.createStart(a)

	b := newBundle(t, sleeper...)
	b.Spec.Linux.Namespaces = append(b.Spec.Linux.Namespaces, specs.LinuxNamespace{
		Type: specs.UserNamespace, Path: fmt.Sprintf("/proc/%d/ns/user", first.Pid)})
	b.Spec.Linux.UIDMappings, b.Spec.Linux.GIDMappings = maps, maps
	if !hasMount(b.Spec, "/dev/pts") {
		t.Fatal("the template bundle has no /dev/pts mount: the test would not create a mount point in /dev")
	}
	_, second := r.createStart(b)
	if x, y := nsLink(t, first.Pid, "user"), nsLink(t, second.Pid, "user"); x != y {
		t.Errorf("user namespace %s, want the first container's %s", y, x)
	}
	st := procStatus(t, second.Pid)
	if uid := strings.Fields(st["Uid"]); len(uid) == 0 || uid[0] != "100000" {
		t.Errorf("host view of the joined container's uid = %q, want 100000 (root of the namespace)", st["Uid"])
	}
}

func hasMount(s *specs.Spec, dst string) bool {
	for _, m := range s.Mounts {
		if m.Destination == dst {
			return true
		}
	}
	return false
}

// TestUsernsBindSourceUnreachable: a container with a user namespace binds
// a source below a directory only the host's root can enter (containerd's
// 0700 state dirs: /dev/shm, /etc/resolv.conf of a pod); the runtime opens
// it as the host's root, as runc's mount sources, and the container sees it.
func TestUsernsBindSourceUnreachable(t *testing.T) {
	t.Parallel()
	if strings.TrimSpace(readFileString("/proc/sys/user/max_user_namespaces")) == "0" {
		t.Skip("user namespaces are disabled (/proc/sys/user/max_user_namespaces is 0)")
	}
	private := t.TempDir()
	if err := os.Chmod(private, 0o700); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(private, "vol")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "marker"), []byte("reached\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := newRuntime(t)
	b := newBundle(t, "cat", "/vol/marker")
	b.addNamespace(specs.UserNamespace)
	b.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	b.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	// the mount point exists: the rootfs belongs to the host's root
	if err := os.Mkdir(filepath.Join(b.Rootfs, "vol"), 0o755); err != nil {
		t.Fatal(err)
	}
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/vol", Type: "bind", Source: src, Options: []string{"rbind", "ro"}})
	_, res := r.runForeground(b)
	if res.Err != nil || res.Code != 0 || strings.TrimSpace(res.Stdout) != "reached" {
		t.Errorf("the container did not read the bind: %s", res)
	}
}
