package libcontainer

import (
	"fmt"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/casco-runtime/casco/libcontainer/internal/intelrdt"
	"github.com/casco-runtime/casco/libcontainer/plan"
)

// validateSpec checks what the runtime relies on before anything is created,
// so that a bad config fails with a message naming the field.
func validateSpec(s *specs.Spec) error {
	if s.Root == nil || s.Root.Path == "" {
		return fmt.Errorf("root.path is not set")
	}
	if s.Process == nil {
		return fmt.Errorf("process is not set")
	}
	if len(s.Process.Args) == 0 {
		return fmt.Errorf("process.args must not be empty")
	}
	if s.Process.Cwd == "" || !filepath.IsAbs(s.Process.Cwd) {
		return fmt.Errorf("process.cwd %q must be an absolute path", s.Process.Cwd)
	}
	if s.Linux == nil {
		return fmt.Errorf("linux section is not set")
	}
	seen := map[specs.LinuxNamespaceType]bool{}
	for i, ns := range s.Linux.Namespaces {
		if _, ok := namespaceFlags[ns.Type]; !ok {
			return fmt.Errorf("linux.namespaces[%d]: unknown namespace type %q", i, ns.Type)
		}
		if seen[ns.Type] {
			return fmt.Errorf("linux.namespaces[%d]: namespace %q listed twice", i, ns.Type)
		}
		seen[ns.Type] = true
	}
	if (len(s.Linux.UIDMappings) > 0 || len(s.Linux.GIDMappings) > 0) && !seen[specs.UserNamespace] {
		return fmt.Errorf("linux.uidMappings/gidMappings need a user namespace")
	}
	if seen[specs.UserNamespace] && nsPath(s, specs.UserNamespace) == "" && (len(s.Linux.UIDMappings) == 0 || len(s.Linux.GIDMappings) == 0) {
		return fmt.Errorf("a new user namespace needs linux.uidMappings and linux.gidMappings")
	}
	if (s.Hostname != "" || s.Domainname != "") && !seen[specs.UTSNamespace] {
		return fmt.Errorf("hostname and domainname need a uts namespace: setting them would rename the host")
	}
	for i, m := range s.Mounts {
		if !filepath.IsAbs(m.Destination) {
			return fmt.Errorf("mounts[%d]: destination %q is not absolute", i, m.Destination)
		}
		if err := plan.CheckMountKind(m); err != nil {
			return fmt.Errorf("mounts[%d] (%s): %w", i, m.Destination, err)
		}
	}
	for key := range s.Linux.Sysctl {
		if err := checkSysctl(s, key); err != nil {
			return fmt.Errorf("linux.sysctl %q: %w", key, err)
		}
	}
	if s.Process.Terminal && s.Process.ConsoleSize != nil && (s.Process.ConsoleSize.Height > 0xffff || s.Process.ConsoleSize.Width > 0xffff) {
		return fmt.Errorf("process.consoleSize is too large")
	}
	for i, rl := range s.Process.Rlimits {
		if _, ok := rlimitNames[rl.Type]; !ok {
			return fmt.Errorf("process.rlimits[%d]: unknown rlimit %q", i, rl.Type)
		}
		if rl.Soft > rl.Hard {
			return fmt.Errorf("process.rlimits[%d] (%s): soft limit %d is above hard limit %d", i, rl.Type, rl.Soft, rl.Hard)
		}
	}
	if err := validateScheduling(s.Process); err != nil {
		return err
	}
	if err := checkDeadlineCpuset(s); err != nil {
		return err
	}
	if err := (&planBuilder{}).personalityAndMemoryPolicy(s.Linux); err != nil {
		return err
	}
	if err := validateNetDevices(s); err != nil {
		return err
	}
	if err := validateSelinux(s); err != nil {
		return err
	}
	if r := s.Linux.IntelRdt; r != nil {
		if err := intelrdt.Validate(r); err != nil {
			return err
		}
	}
	if err := validateAnnotations(s); err != nil {
		return err
	}
	// unknown capability names are no error: a warning when the plan is built
	return validateInput(s)
}

// checkDeadlineCpuset refuses SCHED_DEADLINE in a cpuset: the kernel lets
// a task become SCHED_DEADLINE only when its affinity spans its whole root
// domain, and refuses it with EPERM at the last step. runc words the refusal
// this way; casco says it before anything is made.
func checkDeadlineCpuset(s *specs.Spec) error {
	sc, r := s.Process.Scheduler, s.Linux.Resources
	if sc == nil || sc.Policy != specs.SchedDeadline || r == nil || r.CPU == nil || r.CPU.Cpus == "" {
		return nil
	}
	return fmt.Errorf("process.scheduler: process scheduler can't be used together with AllowedCPUs (linux.resources.cpu.cpus %q)", r.CPU.Cpus)
}

// checkSysctl refuses a sysctl whose namespace is the host's: writing it
// would change the host.
func checkSysctl(s *specs.Spec, key string) error {
	if strings.ContainsAny(key, "/") || strings.Contains(key, "..") {
		return fmt.Errorf("invalid name")
	}
	own := func(t specs.LinuxNamespaceType) bool { return hasNamespace(s, t) }
	switch {
	case strings.HasPrefix(key, "kernel.msg"), strings.HasPrefix(key, "kernel.sem"), strings.HasPrefix(key, "kernel.shm"), strings.HasPrefix(key, "fs.mqueue."):
		if !own(specs.IPCNamespace) {
			return fmt.Errorf("needs an ipc namespace")
		}
	case strings.HasPrefix(key, "net."):
		if !own(specs.NetworkNamespace) {
			return fmt.Errorf("needs a network namespace")
		}
	case key == "kernel.hostname", key == "kernel.domainname":
		if !own(specs.UTSNamespace) {
			return fmt.Errorf("needs a uts namespace")
		}
	default:
		return fmt.Errorf("not namespaced: it would change the host")
	}
	return nil
}
