package libcontainer

import (
	"golang.org/x/sys/unix"
	"path/filepath"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"

	"github.com/casco-runtime/casco/libcontainer/plan"
	"github.com/casco-runtime/casco/seccomp"
)

// defaultPath is used to find the executable when the process has no PATH.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// initFds are the numbers of the init's inherited descriptors, after the
// preserved ones (which keep 3..3+N-1 for the user process).
type initFds struct {
	fifo     int // O_PATH of exec.fifo, -1 for none
	console  int // connected console socket, -1 for none
	preserve int // --preserve-fds
	// v1 tasks files the init writes "0" to, before anything else
	cgroupJoin []int
	// run.oci.hooks.stdout/stderr files for the hooks the init runs, -1 for none
	hookOut, hookErr int
}

// planBuilder builds the init's plan from a container's config: which
// operations, in what order, with what arguments. The codes and the wire
// format are the plan package's.
type planBuilder struct{ plan.Plan }

// planInput is everything the plan is built from.
type planInput struct {
	bundle      *Bundle
	ns          nsPlan
	cgroupPaths map[string]string
	noPivot     bool
	keyring     string // session keyring to join, "" for none (--no-new-keyring)
	trace       bool   // the init times its steps
	fds         initFds
	ownConsole  bool // casco reads the pty itself (foreground with a terminal)
	filter      *seccomp.Filter
	state       func(status string) *specs.State // as the runtime sees it
	innerState  func(status string) *specs.State // as the container sees it
}

// buildPlan decides, in order, every step of the container's init: the
// namespaces, the rootfs, the hooks, pivot_root, the process's identity,
// the handshake with `start`, and the exec.
func buildPlan(in *planInput) (*planBuilder, error) {
	s := in.bundle.Spec
	p := &planBuilder{}
	if in.trace {
		p.Add(plan.OpTrace, nil)
	}
	p.reportAffinity(affinityAtStart)
	p.cgroupJoin(in.fds.cgroupJoin)
	p.joinNamespaces(in.ns.joins, keepOriginalGroups(s))
	if in.ns.unshare != 0 {
		p.Add(plan.OpUnshare, plan.Ints(uint64(in.ns.unshare)))
	}
	if in.ns.fork {
		p.Add(plan.OpFork, nil)
	}
	if in.ns.time {
		p.Add(plan.OpTimens, nil, timensOffsets(s))
	}

	// without a mount namespace of its own the container shares the host's
	// mount table: nothing may be mounted, the process is only chrooted
	ownMounts := in.ns.has(specs.MountNamespace)
	if ownMounts {
		err := p.rootfs(&rootfsPlan{
			spec:        s,
			bundle:      in.bundle.Path,
			rootfs:      in.bundle.Rootfs,
			newUserns:   in.ns.has(specs.UserNamespace),
			cgroupns:    in.ns.has(specs.CgroupNamespace),
			cgroupPaths: in.cgroupPaths,
		})
		if err != nil {
			return nil, err
		}
	}
	if h := s.Hooks; h != nil && (len(h.Prestart) > 0 || len(h.CreateRuntime) > 0) {
		p.Add(plan.OpSyncHooks, nil)
	}
	if s.Hooks != nil {
		if err := p.hooks("createContainer", s.Hooks.CreateContainer, in.innerState(Creating), nil, in.fds); err != nil {
			return nil, err
		}
	}
	if !ownMounts {
		// the host's /dev/ptmx: the rootfs has no devpts of its own mounted
		p.console(s.Process, in.fds.console, false, in.ownConsole)
		p.Add(plan.OpChroot, nil, in.bundle.Rootfs)
		if in.keyring != "" {
			p.Add(plan.OpKeyring, nil, in.keyring)
		}
		p.names(s)
		if err := p.process(withoutExecAffinity(s), in); err != nil {
			return nil, err
		}
		return p, nil
	}
	noPivot := uint64(0)
	if in.noPivot {
		noPivot = 1
	}
	p.Add(plan.OpPivotRoot, plan.Ints(noPivot))
	if in.keyring != "" {
		p.Add(plan.OpKeyring, nil, in.keyring)
	}
	p.insideRoot(s, in)
	if err := p.process(withoutExecAffinity(s), in); err != nil {
		return nil, err
	}
	return p, nil
}

// joinNamespaces adds a setns for each namespace joined by path: the user
// namespace last. A namespace that the user namespace does not own (the
// host's network namespace in a pod with user namespaces) can be joined
// only with the privileges held before entering it; the init puts off any
// that refuses it until the user namespace is joined (op_setns).
// Joining the user namespace drops the supplementary groups unless
// keepGroups (run.oci.keep_original_groups) keeps the caller's.
func (p *planBuilder) joinNamespaces(joins []specs.LinuxNamespace, keepGroups bool) {
	user, ok := findNamespace(joins, specs.UserNamespace)
	later := uint64(0)
	if ok {
		later = 1
	}
	for _, ns := range joins {
		if ns.Type != specs.UserNamespace {
			p.Add(plan.OpSetns, plan.Ints(uint64(namespaceFlags[ns.Type]), later), ns.Path)
		}
	}
	if ok {
		keep := uint64(0)
		if keepGroups {
			keep = 1
		}
		p.Add(plan.OpSetns, plan.Ints(uint64(namespaceFlags[specs.UserNamespace]), 0, keep), user.Path)
	}
}

// insideRoot adds what happens in the new root: console, names, sysctls,
// masked and read-only paths, a read-only root, the root's propagation.
func (p *planBuilder) insideRoot(s *specs.Spec, in *planInput) {
	p.console(s.Process, in.fds.console, true, in.ownConsole)
	p.names(s)
	keys := make([]string, 0, len(s.Linux.Sysctl))
	for k := range s.Linux.Sysctl {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		p.Add(plan.OpSysctl, nil, "/proc/sys/"+strings.ReplaceAll(k, ".", "/"), s.Linux.Sysctl[k])
	}
	masked := map[string]bool{}
	for _, m := range s.Linux.MaskedPaths {
		if c := filepath.Clean(m); !masked[c] { // one mount per path, as runc
			masked[c] = true
			p.Add(plan.OpMask, nil, m)
		}
	}
	for _, r := range s.Linux.ReadonlyPaths {
		p.Add(plan.OpReadonly, nil, r)
	}
	if devReadonly(s) {
		p.Add(plan.OpRemountRO, nil, "/dev")
	}
	if s.Root.Readonly {
		p.Add(plan.OpRemountRO, nil, "/")
	}
	// last: runbindable would make every later bind (a masked path's
	// /dev/null, a read-only path onto itself) fail with EINVAL
	if rp := s.Linux.RootfsPropagation; rp != "" {
		f, _ := plan.PropagationFlag(rp) // checked by rootfs
		p.Add(plan.OpPropagation, plan.Ints(uint64(f)))
	}
}

// cgroupJoin has the init write "0" to each v1 tasks file: while it is one
// thread, before it unshares its cgroup namespace or forks.
func (p *planBuilder) cgroupJoin(fds []int) {
	if len(fds) == 0 {
		return
	}
	v := make([]uint64, len(fds))
	for i, fd := range fds {
		v[i] = uint64(fd)
	}
	p.Add(plan.OpCgroupJoin, v)
}

// withoutExecAffinity is s for the init: process.execCPUAffinity "is not
// applicable to the container's init process" (runtime-spec), and runc 1.5
// applies it to exec'd processes only.
func withoutExecAffinity(s *specs.Spec) *specs.Spec {
	if s.Process == nil || s.Process.ExecCPUAffinity == nil {
		return s
	}
	spec, proc := *s, *s.Process
	proc.ExecCPUAffinity = nil
	spec.Process = &proc
	return &spec
}

// names sets the host and domain name (validation made sure the container
// has a uts namespace of its own).
func (p *planBuilder) names(s *specs.Spec) {
	if s.Hostname != "" {
		p.Add(plan.OpHostname, nil, s.Hostname)
	}
	if s.Domainname != "" {
		p.Add(plan.OpDomainname, nil, s.Domainname)
	}
}

// process adds the user process's limits, identity, the wait for `start`
// and the exec. Seccomp goes as late as it can: before the identity change
// when it needs CAP_SYS_ADMIN (no no_new_privs), otherwise right before the
// startContainer hooks and the exec.
func (p *planBuilder) process(s *specs.Spec, in *planInput) error {
	proc := s.Process
	// marked close-on-exec early, before a seccomp filter could refuse close_range
	p.Add(plan.OpCloseFds, plan.Ints(uint64(3+in.fds.preserve)))
	for _, rl := range proc.Rlimits {
		p.Add(plan.OpRlimit, plan.Ints(uint64(rlimitNames[rl.Type]), rl.Soft, rl.Hard), rl.Type)
	}
	if err := p.scheduling(proc); err != nil {
		return err
	}
	// before a seccomp filter, which may allow neither (Docker's allows
	// set_mempolicy only with CAP_SYS_NICE)
	if err := p.personalityAndMemoryPolicy(s.Linux); err != nil {
		return err
	}
	// nothing after this changes it: the affinity the process is exec'd
	// with, read before a seccomp filter could refuse sched_getaffinity
	p.reportAffinity(affinityAtExec)
	p.Add(plan.OpChdir, nil, proc.Cwd)
	umask := uint64(0022)
	if proc.User.Umask != nil {
		umask = uint64(*proc.User.Umask)
	}
	p.Add(plan.OpUmask, plan.Ints(umask))
	caps, err := p.identity(s, &in.ns)
	if err != nil {
		return err
	}
	if in.filter != nil && !proc.NoNewPrivileges {
		// needs CAP_SYS_ADMIN, which the final capability sets may lack
		p.seccomp(in)
	}
	p.Add(plan.OpCaps, caps)
	if proc.NoNewPrivileges {
		p.Add(plan.OpNoNewPrivs, nil)
		if in.filter != nil && in.filter.Notify {
			// the agent gets the fd while the runtime still listens: before ready
			p.seccomp(in)
		}
	}
	if proc.ApparmorProfile != "" && apparmorEnabled() {
		p.Add(plan.OpAppArmor, nil, proc.ApparmorProfile)
	}
	path := defaultPath
	for _, e := range proc.Env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	p.Add(plan.OpLookPath, nil, path, proc.Args[0])
	p.Add(plan.OpReady, nil)
	if in.fds.fifo >= 0 {
		p.Add(plan.OpWaitFifo, plan.Ints(uint64(in.fds.fifo)))
	}
	// as runc: startContainer hooks run under the container's filter (they
	// are the container's, in its namespaces)
	if in.filter != nil && proc.NoNewPrivileges && !in.filter.Notify {
		p.seccomp(in)
	}
	if s.Hooks != nil {
		if err := p.hooks("startContainer", s.Hooks.StartContainer, in.innerState(Created), s.Process.Env, in.fds); err != nil {
			return err
		}
	}
	strs := append(append([]string{}, proc.Args...), proc.Env...)
	p.Add(plan.OpExec, plan.Ints(uint64(len(proc.Args)), uint64(len(proc.Env))), strs...)
	return p.Check() // the last operation of every plan, the init's and exec's

}

// console adds the pty set-up when the process has a terminal; only the
// container's init binds it over /dev/console. When casco itself reads the
// pty, ONLCR is cleared before the process runs, as runc's SaneTerminal does
// for its own reads: the process's \n reaches casco's stdout unchanged. A
// console socket's owner gets the pty as the kernel makes it.
func (p *planBuilder) console(proc *specs.Process, fd int, devConsole, sane bool) {
	if fd < 0 {
		return
	}
	var rows, cols, bind, clearONLCR uint64
	if cs := proc.ConsoleSize; cs != nil {
		rows, cols = uint64(cs.Height), uint64(cs.Width)
	}
	if devConsole {
		bind = 1
	}
	if sane {
		clearONLCR = 1
	}
	p.Add(plan.OpConsole, plan.Ints(uint64(fd), rows, cols, bind, uint64(proc.User.UID), clearONLCR))
}

func (p *planBuilder) seccomp(in *planInput) {
	notify := uint64(0)
	if in.filter.Notify {
		notify = 1
	}
	p.Add(plan.OpSeccomp, plan.Ints(uint64(in.filter.Flags), notify), string(in.filter.Program))
}

// identity adds the switch to the configured user and returns the final
// capability sets (effective, permitted, inheritable, ambient) for plan.OpCaps.
func (p *planBuilder) identity(s *specs.Spec, ns *nsPlan) ([]uint64, error) {
	proc := s.Process
	var sets [5]uint64
	if c := proc.Capabilities; c != nil {
		var unknown []string
		seen := map[string]bool{}
		for i, names := range [][]string{c.Bounding, c.Effective, c.Permitted, c.Inheritable, c.Ambient} {
			m, u := capMask(names)
			sets[i] = m
			for _, n := range u {
				if !seen[n] {
					seen[n] = true
					unknown = append(unknown, n)
				}
			}
		}
		if len(unknown) > 0 {
			// runc's words; runtime-spec 1.3 wants a warning, not a failure
			logrus.Warnf("ignoring unknown or unavailable capabilities: %v", unknown)
		}
	}
	// the kernel refuses ambient capabilities that are not permitted and inheritable
	// (EPERM): the process runs without them, and the caller is told as runc tells it
	if extra := sets[4] &^ (sets[2] & sets[3]); extra != 0 {
		for _, n := range CapNames() {
			if extra&(1<<capNumbers[n]) != 0 {
				logrus.Warnf("can't raise ambient capability %s: %v", n, unix.EPERM)
			}
		}
		sets[4] &^= extra
	}
	u := proc.User
	setGroups, err := canSetGroups(s, ns)
	if err != nil {
		return nil, err
	}
	v := plan.Ints(uint64(u.UID), uint64(u.GID), setGroups, uint64(len(u.AdditionalGids)))
	for _, g := range u.AdditionalGids {
		v = append(v, uint64(g))
	}
	p.Add(plan.OpIdentity, append(v, sets[0]))
	return sets[1:], nil
}
