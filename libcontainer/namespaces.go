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

// nsPlan is the container's namespaces, decided once from the config when
// the bundle is loaded and passed on from there: which namespaces it has,
// which are new and which joined by path, whether it makes a user
// namespace of its own and with which mappings, and how the init comes to
// be in each. The fast path lets the kernel create them in the clone
// itself; joining a user or pid namespace by path needs the init to setns
// first and fork, as the kernel only moves children into a pid namespace.
type nsPlan struct {
	list    []specs.LinuxNamespace              // as the config orders them
	paths   map[specs.LinuxNamespaceType]string // each namespace the container has: "" when new
	newUser bool                                // the container makes its own user namespace (perhaps in a holder)
	uidMaps []specs.LinuxIDMapping              // the new user namespace's mappings
	gidMaps []specs.LinuxIDMapping

	cloneFlags uintptr // created by clone(2) from the Go parent
	joins      []specs.LinuxNamespace
	unshare    uintptr // created by the init after joining (and after the cgroup move)
	fork       bool    // the init forks so that its child is in the pid namespace
	time       bool
}

// planNamespaces decides the namespaces of a container's config.
func planNamespaces(s *specs.Spec) (nsPlan, error) {
	p := readNamespaces(s)
	return p, p.split()
}

// readNamespaces reads what the config says of the container's
// namespaces; split then decides how the init gets them.
func readNamespaces(s *specs.Spec) nsPlan {
	p := newNSPlan(s.Linux.Namespaces)
	if p.newUser {
		p.uidMaps, p.gidMaps = s.Linux.UIDMappings, s.Linux.GIDMappings
	}
	return p
}

func newNSPlan(list []specs.LinuxNamespace) nsPlan {
	p := nsPlan{list: append([]specs.LinuxNamespace(nil), list...), paths: make(map[specs.LinuxNamespaceType]string, len(list))}
	for _, ns := range list {
		p.paths[ns.Type] = ns.Path
	}
	p.newUser = p.isNew(specs.UserNamespace)
	return p
}

// has reports whether the container has namespace t of its own, new or
// joined by path; without it, it shares casco's.
func (p *nsPlan) has(t specs.LinuxNamespaceType) bool {
	_, ok := p.paths[t]
	return ok
}

// isNew reports whether namespace t is made for the container.
func (p *nsPlan) isNew(t specs.LinuxNamespaceType) bool {
	path, ok := p.paths[t]
	return ok && path == ""
}

// joinsByPath reports whether the container joins any namespace by path.
func (p *nsPlan) joinsByPath() bool {
	for _, path := range p.paths {
		if path != "" {
			return true
		}
	}
	return false
}

// joinUserns has the init join the new user namespace at path, made for
// it in a holder (makeUsernsHolder), before split.
func (p *nsPlan) joinUserns(path string) {
	for i := range p.list {
		if p.list[i].Type == specs.UserNamespace {
			p.list[i].Path = path
		}
	}
	p.paths[specs.UserNamespace] = path
}

// split decides how the init comes to be in each namespace.
func (p *nsPlan) split() error {
	p.cloneFlags, p.joins, p.unshare, p.fork, p.time = 0, nil, 0, false, false
	slow := p.paths[specs.UserNamespace] != "" || p.paths[specs.PIDNamespace] != ""
	for _, ns := range p.list {
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
			return fmt.Errorf("creating a user namespace while joining a pid namespace by path is not supported")
		case slow:
			p.unshare |= flag
			if ns.Type == specs.PIDNamespace {
				p.fork = true
			}
		default:
			p.cloneFlags |= flag
		}
	}
	return nil
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
