package libcontainer

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/libcontainer/plan"
)

func TestValidateID(t *testing.T) {
	for _, id := range []string{"a", "web-1", "x_y.z", "A+B"} {
		if err := ValidateID(id); err != nil {
			t.Errorf("ValidateID(%q) = %v", id, err)
		}
	}
	for _, id := range []string{"", ".", "..", "../x", "a/b", "a b", strings.Repeat("x", 1025), "a\x00b"} {
		if err := ValidateID(id); err == nil {
			t.Errorf("ValidateID(%q) accepted", id)
		}
	}
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]unix.Signal{
		"KILL": unix.SIGKILL, "SIGKILL": unix.SIGKILL, "9": unix.SIGKILL, "term": unix.SIGTERM,
		"SIGRTMIN": 34, "RTMIN+2": 36, "SIGRTMAX-1": 63, "usr1": unix.SIGUSR1, "0": 0,
	} {
		got, err := ParseSignal(in)
		if err != nil || got != want {
			t.Errorf("ParseSignal(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"FOO", "SIGFOO", "65", "-1", ""} {
		if _, err := ParseSignal(in); err == nil {
			t.Errorf("ParseSignal(%q) accepted", in)
		}
	}
}

func TestParseMountOptions(t *testing.T) {
	flags, prop, data, err := plan.ParseMountOptions([]string{"rbind", "ro", "nosuid", "rslave", "size=1m", "mode=700", "rw", "ro"})
	if err != nil {
		t.Fatal(err)
	}
	if flags != unix.MS_BIND|unix.MS_REC|unix.MS_RDONLY|unix.MS_NOSUID {
		t.Errorf("flags = %#x", flags)
	}
	if prop != unix.MS_SLAVE|unix.MS_REC {
		t.Errorf("propagation = %#x", prop)
	}
	if data != "size=1m,mode=700" {
		t.Errorf("data = %q", data)
	}
	// casco's own options (mount_attr_copyup.go) are never mount data
	if _, _, data, _ := plan.ParseMountOptions([]string{"idmap", "rro", "tmpcopyup"}); data != "" {
		t.Errorf("casco's own options passed as data %q", data)
	}
}

func TestValidateSpec(t *testing.T) {
	cases := map[string]func(s *specs.Spec){
		"process.args": func(s *specs.Spec) { s.Process.Args = nil },
		"process.cwd":  func(s *specs.Spec) { s.Process.Cwd = "rel" },
		"unknown namespace type": func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "foo"})
		},
		"listed twice": func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "pid"})
		},
		"not absolute":          func(s *specs.Spec) { s.Mounts[0].Destination = "proc" },
		"unknown rlimit":        func(s *specs.Spec) { s.Process.Rlimits[0].Type = "RLIMIT_FOO" },
		"would change the host": func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"vm.swappiness": "1"} },
		"needs a network": func(s *specs.Spec) {
			s.Linux.Namespaces = s.Linux.Namespaces[:1]
			s.Hostname = ""
			s.Linux.Sysctl = map[string]string{"net.ipv4.ip_forward": "1"}
		},
		"uidMappings/gidMappings": func(s *specs.Spec) { s.Linux.UIDMappings = []specs.LinuxIDMapping{{Size: 1}} },
		"needs linux.uidMappings": func(s *specs.Spec) {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: "user"})
		},
		"soft limit":           func(s *specs.Spec) { s.Process.Rlimits[0].Soft = 2048 },
		"need a uts namespace": func(s *specs.Spec) { s.Linux.Namespaces = s.Linux.Namespaces[:1] },
	}
	for want, mutate := range cases {
		s := DefaultSpec()
		mutate(s)
		err := validateSpec(s)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: validateSpec = %v", want, err)
		}
	}
	if err := validateSpec(DefaultSpec()); err != nil {
		t.Errorf("default spec: %v", err)
	}
	// runtime-spec 1.3: an unknown capability is a warning, never a failure
	s := DefaultSpec()
	s.Process.Capabilities.Bounding = append(s.Process.Capabilities.Bounding, "CAP_FROM_THE_FUTURE")
	if err := validateSpec(s); err != nil {
		t.Errorf("unknown capability: %v", err)
	}
}

func TestPlanNamespaces(t *testing.T) {
	s := DefaultSpec()
	s.Linux.Namespaces = []specs.LinuxNamespace{{Type: "pid"}, {Type: "mount"}, {Type: "network", Path: "/var/run/netns/x"}, {Type: "cgroup"}, {Type: "time"}}
	ns, err := planNamespaces(s)
	if err != nil {
		t.Fatal(err)
	}
	if ns.cloneFlags != unix.CLONE_NEWPID|unix.CLONE_NEWNS {
		t.Errorf("clone flags = %#x", ns.cloneFlags)
	}
	if ns.unshare != unix.CLONE_NEWCGROUP || !ns.time || ns.fork || len(ns.joins) != 1 {
		t.Errorf("plan = %+v", ns)
	}
	s.Linux.Namespaces = []specs.LinuxNamespace{{Type: "pid", Path: "/proc/1/ns/pid"}, {Type: "mount"}, {Type: "ipc"}}
	if ns, err = planNamespaces(s); err != nil || !ns.fork || ns.cloneFlags != 0 || ns.unshare != unix.CLONE_NEWNS|unix.CLONE_NEWIPC {
		t.Errorf("joining a pid namespace: %+v, %v", ns, err)
	}
}
