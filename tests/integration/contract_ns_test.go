package integration

import (
	"fmt"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// usernsBundle is a bundle whose container has its own user namespace,
// root mapped to 100000.
func usernsBundle(t *testing.T, args ...string) *bundle {
	b := newBundle(t, args...)
	b.addNamespace(specs.UserNamespace)
	b.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	b.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	return b
}

// TestContractJoinUserns: a second container joins the first's user,
// network, ipc and uts namespaces by path (a Kubernetes pod with user
// namespaces: the sandbox's namespaces, each container its own pid and
// mount namespaces), also through a bind-mounted namespace file.
func TestContractJoinUserns(t *testing.T) {
	t.Parallel()
	if strings.TrimSpace(readFileString("/proc/sys/user/max_user_namespaces")) == "0" {
		t.Skip("user namespaces are disabled (/proc/sys/user/max_user_namespaces is 0)")
	}
	r := newRuntime(t)
	_, first := r.createStart(usernsBundle(t, sleeper...))
	// a bind-mounted nsfd, as engines pin a pod's namespaces
	pinned := t.TempDir() + "/netns"
	mustWrite(t, pinned, "")
	if err := syscall.Mount(fmt.Sprintf("/proc/%d/ns/net", first.Pid), pinned, "", syscall.MS_BIND, ""); err != nil {
		t.Fatalf("pin the network namespace: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(pinned, syscall.MNT_DETACH) })

	b := newBundle(t, sleeper...)
	b.Spec.Hostname = ""
	// the joined namespace's own mappings: runc 1.1 wants them repeated
	b.Spec.Linux.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	b.Spec.Linux.GIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	b.Spec.Linux.Namespaces = []specs.LinuxNamespace{
		{Type: specs.PIDNamespace}, {Type: specs.MountNamespace},
		{Type: specs.UserNamespace, Path: fmt.Sprintf("/proc/%d/ns/user", first.Pid)},
		{Type: specs.NetworkNamespace, Path: pinned},
		{Type: specs.IPCNamespace, Path: fmt.Sprintf("/proc/%d/ns/ipc", first.Pid)},
		{Type: specs.UTSNamespace, Path: fmt.Sprintf("/proc/%d/ns/uts", first.Pid)},
	}
	c2, second := r.createStart(b)
	for _, ns := range []string{"user", "net", "ipc", "uts"} {
		if a, b := nsLink(t, first.Pid, ns), nsLink(t, second.Pid, ns); a != b {
			t.Errorf("%s namespace: second container %s, want the first's %s", ns, b, a)
		}
	}
	for _, ns := range []string{"pid", "mnt"} {
		if a, b := nsLink(t, first.Pid, ns), nsLink(t, second.Pid, ns); a == b {
			t.Errorf("%s namespace shared without a path", ns)
		}
	}
	if uid := strings.Fields(procStatus(t, second.Pid)["Uid"]); len(uid) == 0 || uid[0] != "100000" {
		t.Errorf("the second container's root is host uid %q, want 100000 (the joined namespace's mapping)", uid)
	}
	// exec into it lands in the same namespaces, as the same root
	res := r.mustRun("exec", c2.ID, "sh", "-c", "readlink /proc/self/ns/user; cat /proc/self/uid_map")
	if f := strings.Fields(res.Stdout); len(f) != 4 || f[0] != nsLink(t, first.Pid, "user") || strings.Join(f[1:], " ") != "0 100000 65536" {
		t.Errorf("exec into the joining container: %q, want the first's user namespace and its map", res.Stdout)
	}
}
