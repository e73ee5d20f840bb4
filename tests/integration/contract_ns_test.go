package integration

import (
	"fmt"
	"os"
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

// TestContractJoinExternalUserns: a container joins a user namespace that
// only a bind-mounted nsfd keeps alive (the container that made it is
// deleted, the config has no mappings: they come from the namespace), and
// a network namespace that user namespace does not own (the host's). The
// runtime must join the network namespace while it still has the host's
// privileges, before the user namespace (runc#4390). A new sysfs needs the
// network namespace's owner, so /sys is bound from the host, as runc's
// own test does.
func TestContractJoinExternalUserns(t *testing.T) {
	t.Parallel()
	if strings.TrimSpace(readFileString("/proc/sys/user/max_user_namespaces")) == "0" {
		t.Skip("user namespaces are disabled (/proc/sys/user/max_user_namespaces is 0)")
	}
	if runcBefore12(t, "joining a user namespace without repeating its mappings") {
		return
	}
	r := newRuntime(t)
	first, s := r.createStart(usernsBundle(t, sleeper...))
	dir := t.TempDir()
	userns, netns := dir+"/userns", dir+"/netns"
	for _, p := range [][2]string{{fmt.Sprintf("/proc/%d/ns/user", s.Pid), userns}, {"/proc/self/ns/net", netns}} {
		mustWrite(t, p[1], "")
		if err := syscall.Mount(p[0], p[1], "", syscall.MS_BIND, ""); err != nil {
			t.Fatalf("pin %s: %v", p[0], err)
		}
		t.Cleanup(func() { syscall.Unmount(p[1], syscall.MNT_DETACH) })
	}
	r.mustRun("delete", "--force", first.ID)

	b := newBundle(t, sleeper...)
	b.Spec.Linux.UIDMappings, b.Spec.Linux.GIDMappings = nil, nil
	b.Spec.Linux.Namespaces = []specs.LinuxNamespace{
		{Type: specs.PIDNamespace}, {Type: specs.MountNamespace}, {Type: specs.IPCNamespace}, {Type: specs.UTSNamespace},
		{Type: specs.UserNamespace, Path: userns},
		{Type: specs.NetworkNamespace, Path: netns},
	}
	bindHostSys(b)
	c, s2 := r.createStart(b)
	var st syscall.Stat_t
	if err := syscall.Stat(userns, &st); err != nil {
		t.Fatal(err)
	}
	if got, want := nsLink(t, s2.Pid, "user"), fmt.Sprintf("user:[%d]", st.Ino); got != want {
		t.Errorf("user namespace %s, want the pinned %s", got, want)
	}
	if got, want := nsLink(t, s2.Pid, "net"), nsLink(t, os.Getpid(), "net"); got != want {
		t.Errorf("network namespace %s, want the host's %s", got, want)
	}
	res := r.mustRun("exec", c.ID, "cat", "/proc/self/uid_map")
	if f := strings.Fields(res.Stdout); strings.Join(f, " ") != "0 100000 65536" {
		t.Errorf("uid_map in the container: %q, want the joined namespace's 0 100000 65536", res.Stdout)
	}
	if uid := strings.Fields(procStatus(t, s2.Pid)["Uid"]); len(uid) == 0 || uid[0] != "100000" {
		t.Errorf("the container's root is host uid %q, want 100000", uid)
	}
}

// TestContractNewUsernsJoinNetns: a container with a user namespace of its
// own joins a network namespace made outside it (owned by the host's user
// namespace, as `ip netns add` makes them for a CNI plugin). runc joins
// the namespaces given by path before it creates the new ones.
func TestContractNewUsernsJoinNetns(t *testing.T) {
	t.Parallel()
	if strings.TrimSpace(readFileString("/proc/sys/user/max_user_namespaces")) == "0" {
		t.Skip("user namespaces are disabled (/proc/sys/user/max_user_namespaces is 0)")
	}
	netns := t.TempDir() + "/netns"
	mustWrite(t, netns, "")
	if err := syscall.Mount("/proc/self/ns/net", netns, "", syscall.MS_BIND, ""); err != nil {
		t.Fatalf("pin the host's network namespace: %v", err)
	}
	t.Cleanup(func() { syscall.Unmount(netns, syscall.MNT_DETACH) })
	r := newRuntime(t)
	b := usernsBundle(t, sleeper...)
	b.addNamespace(specs.NetworkNamespace)
	for i, ns := range b.Spec.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace {
			b.Spec.Linux.Namespaces[i].Path = netns
		}
	}
	bindHostSys(b)
	_, s := r.createStart(b)
	if got, want := nsLink(t, s.Pid, "net"), nsLink(t, os.Getpid(), "net"); got != want {
		t.Errorf("network namespace %s, want the host's %s", got, want)
	}
	if got, host := nsLink(t, s.Pid, "user"), nsLink(t, os.Getpid(), "user"); got == host {
		t.Errorf("no user namespace of its own: %s", got)
	}
	if m := strings.Fields(readFileString(fmt.Sprintf("/proc/%d/uid_map", s.Pid))); strings.Join(m, " ") != "0 100000 65536" {
		t.Errorf("uid_map %q, want 0 100000 65536", m)
	}
}

// bindHostSys turns the config's sysfs mount into a read-only bind of the
// host's /sys: a new sysfs needs privileges over the network namespace's
// owner, which a container joining a namespace it does not own lacks (as
// runc's own test does it).
func bindHostSys(b *bundle) {
	for i, m := range b.Spec.Mounts {
		if m.Type == "sysfs" {
			b.Spec.Mounts[i] = specs.Mount{Destination: m.Destination, Type: "bind", Source: "/sys", Options: []string{"rbind", "nosuid", "noexec", "nodev", "ro"}}
		}
	}
}
