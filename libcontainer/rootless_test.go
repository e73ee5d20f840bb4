package libcontainer

import (
	"os"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestCanSetGroups: supplementary groups go to setgroups where the user
// namespace allows it and must be mapped; a namespace joined as
// /proc/PID/ns/user answers from /proc/PID/setgroups.
func TestCanSetGroups(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("as root: a non-root caller's namespaces deny setgroups")
	}
	s := &specs.Spec{
		Process: &specs.Process{User: specs.User{AdditionalGids: []uint32{5, 9}}},
		Linux: &specs.Linux{
			Namespaces:  []specs.LinuxNamespace{{Type: specs.UserNamespace}},
			GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 10}},
		},
	}
	ns, err := planNamespaces(s)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := canSetGroups(s, &ns); v != 1 || err != nil {
		t.Errorf("mapped gids: %d, %v", v, err)
	}
	s.Process.User.AdditionalGids = []uint32{5, 10}
	if _, err := canSetGroups(s, &ns); err == nil || !strings.Contains(err.Error(), "gid 10 is not mapped") {
		t.Errorf("unmapped gid 10: %v", err)
	}
	// joined by path: the kernel's answer for that namespace (ours: allow)
	s.Process.User.AdditionalGids = []uint32{5}
	s.Linux.GIDMappings = nil
	join := newNSPlan([]specs.LinuxNamespace{{Type: specs.UserNamespace, Path: "/proc/self/ns/user"}})
	if err := join.split(); err != nil {
		t.Fatal(err)
	}
	if !setgroupsAllowed(&join) {
		t.Errorf("setgroupsAllowed(/proc/self/ns/user) = false, /proc/self/setgroups says allow")
	}
}
