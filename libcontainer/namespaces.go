package libcontainer

import (
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

var namespaceFlags = map[specs.LinuxNamespaceType]uintptr{
	specs.PIDNamespace:     unix.CLONE_NEWPID,
	specs.NetworkNamespace: unix.CLONE_NEWNET,
	specs.MountNamespace:   unix.CLONE_NEWNS,
	specs.IPCNamespace:     unix.CLONE_NEWIPC,
	specs.UTSNamespace:     unix.CLONE_NEWUTS,
	specs.UserNamespace:    unix.CLONE_NEWUSER,
	specs.CgroupNamespace:  unix.CLONE_NEWCGROUP,
	specs.TimeNamespace:    unix.CLONE_NEWTIME,
}

// nsProcName is the name of each namespace under /proc/<pid>/ns.
var nsProcName = map[specs.LinuxNamespaceType]string{
	specs.PIDNamespace:     "pid",
	specs.NetworkNamespace: "net",
	specs.MountNamespace:   "mnt",
	specs.IPCNamespace:     "ipc",
	specs.UTSNamespace:     "uts",
	specs.UserNamespace:    "user",
	specs.CgroupNamespace:  "cgroup",
	specs.TimeNamespace:    "time",
}

func hasNamespace(s *specs.Spec, t specs.LinuxNamespaceType) bool {
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == t {
			return true
		}
	}
	return false
}

func nsPath(s *specs.Spec, t specs.LinuxNamespaceType) string {
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == t {
			return ns.Path
		}
	}
	return ""
}

// nsPlan says how the init gets its namespaces. The fast path lets the
// kernel create them in the clone itself; joining a user or pid namespace by
// path needs the init to setns first and fork, as the kernel only moves
// children into a pid namespace.
type nsPlan struct {
	cloneFlags uintptr // created by clone(2) from the Go parent
	joins      []specs.LinuxNamespace
	unshare    uintptr // created by the init after joining (and after the cgroup move)
	fork       bool    // the init forks so that its child is in the pid namespace
	time       bool
}

func planNamespaces(s *specs.Spec) (nsPlan, error) {
	var p nsPlan
	slow := nsPath(s, specs.UserNamespace) != "" || nsPath(s, specs.PIDNamespace) != ""
	for _, ns := range s.Linux.Namespaces {
		flag := namespaceFlags[ns.Type]
		switch {
		case ns.Path != "":
			p.joins = append(p.joins, ns)
			if ns.Type == specs.PIDNamespace {
				p.fork = true
			}
		case ns.Type == specs.TimeNamespace:
			// clone(2) can't take CLONE_NEWTIME, and offsets must be written before anyone enters
			p.time = true
		case ns.Type == specs.CgroupNamespace:
			// the namespace's root is the cgroup at unshare time: after the parent moved us
			p.unshare |= flag
		case slow && ns.Type == specs.UserNamespace:
			return p, fmt.Errorf("creating a user namespace while joining a pid namespace by path is not supported")
		case slow:
			p.unshare |= flag
			if ns.Type == specs.PIDNamespace {
				p.fork = true
			}
		default:
			p.cloneFlags |= flag
		}
	}
	return p, nil
}

// timensOffsets renders linux.timeOffsets (and run.oci.timens_offset) as
// /proc/self/timens_offsets wants them.
func timensOffsets(s *specs.Spec) string {
	var b strings.Builder
	offs := timeOffsets(s)
	for _, clock := range []string{"monotonic", "boottime"} {
		if off, ok := offs[clock]; ok {
			b.WriteString(clock + " " + strconv.FormatInt(off.Secs, 10) + " " + strconv.FormatUint(uint64(off.Nanosecs), 10) + "\n")
		}
	}
	return b.String()
}

func findNamespace(list []specs.LinuxNamespace, t specs.LinuxNamespaceType) (specs.LinuxNamespace, bool) {
	for _, ns := range list {
		if ns.Type == t {
			return ns, true
		}
	}
	return specs.LinuxNamespace{}, false
}
