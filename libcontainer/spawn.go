package libcontainer

import (
	"fmt"
	"os"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/cgroups"
)

// spawn is the init process about to be started and the descriptors it
// inherits: the preserved fds first (3..3+N-1, where the user process
// expects them), then casco-init's sealed copy, the sync socket, the
// exec fifo, the console socket and the v1 cgroups' tasks files.
type spawn struct {
	path       string // casco-init's sealed copy, as the child sees it
	attr       *syscall.ProcAttr
	sync       *os.File // our end of the sync socket
	fds        initFds
	cgroupFD   int
	needAdd    bool       // the parent must move the child into its cgroups (mgr.Add)
	childEnds  []*os.File // closed once the child has them
	parentOnly []*os.File // closed when create returns
	trees      *treeMaker // bind sources the init asks for (create only)
}

func newSpawn(o *CreateOpts, s *specs.Spec, dir string, ns nsPlan, mgr cgroups.Manager) (_ *spawn, err error) {
	sp := &spawn{cgroupFD: -1, fds: initFds{fifo: -1, console: -1, hookOut: -1, hookErr: -1, preserve: o.PreserveFds}}
	defer func() {
		if err != nil {
			sp.closeChildEnds()
			sp.closeParentCopies()
		}
	}()
	// the child's fds from 3 on: the preserved ones keep their numbers (raw,
	// not wrapped in an *os.File, whose finalizer would close them)
	var extra []uintptr
	for i := 0; i < o.PreserveFds; i++ {
		extra = append(extra, uintptr(3+i))
	}
	inherit := func(f *os.File) int {
		extra = append(extra, f.Fd())
		sp.childEnds = append(sp.childEnds, f) // keeps f open until the child has it
		return 2 + len(extra)
	}

	exe, err := initExe()
	if err != nil {
		return nil, err
	}
	exeFd := inherit(exe)
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("sync socketpair: %w", err)
	}
	sp.sync = os.NewFile(uintptr(pair[0]), "sync")
	sp.parentOnly = append(sp.parentOnly, sp.sync)
	syncFd := inherit(os.NewFile(uintptr(pair[1]), "sync-child"))

	if dir != "" { // exec has no fifo: it runs at once
		fifo, err := unix.Open(dir+"/"+fifoName, unix.O_PATH|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, fmt.Errorf("open exec fifo: %w", err)
		}
		sp.fds.fifo = inherit(os.NewFile(uintptr(fifo), "exec.fifo"))
	}

	if s.Process.Terminal {
		console := o.Console
		if console == nil {
			if console, err = dialUnix(o.ConsoleSocket); err != nil {
				return nil, fmt.Errorf("console socket %s: %w", o.ConsoleSocket, err)
			}
		}
		sp.fds.console = inherit(console)
	} else if o.Console != nil {
		o.Console.Close()
	}
	if dir != "" && s.Hooks != nil && len(s.Hooks.CreateContainer)+len(s.Hooks.StartContainer) > 0 {
		out, err := openHooksOutput(s.Annotations)
		if err != nil {
			return nil, err
		}
		if out.stdout != nil {
			sp.fds.hookOut = inherit(out.stdout)
		}
		if out.stderr != nil {
			sp.fds.hookErr = inherit(out.stderr)
		}
	}
	attr := &syscall.SysProcAttr{Cloneflags: ns.cloneFlags}
	if ns.cloneFlags&unix.CLONE_NEWUSER != 0 {
		attr.UidMappings = idMaps(ns.uidMaps)
		attr.GidMappings = idMaps(ns.gidMaps)
		// An unprivileged caller may write gid_map only once setgroups is
		// denied in the new namespace (user_namespaces(7)); runc denies it
		// for a rootless caller too. Root keeps setgroups.
		deny := denySetgroups()
		attr.GidMappingsEnableSetgroups = !deny
		// become root of the new namespace before exec, or exec drops every capability
		// run.oci.keep_original_groups: the caller's groups go with it
		attr.Credential = &syscall.Credential{Uid: 0, Gid: 0, NoSetGroups: deny || keepOriginalGroups(s)}
	}
	if sp.cgroupFD, err = mgr.CloneFD(); err != nil {
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	// v1 hierarchies: the init joins them itself, first thing (see JoinFiles)
	files, err := mgr.JoinFiles()
	if err != nil {
		sp.needAdd = true
	}
	for _, f := range files {
		sp.fds.cgroupJoin = append(sp.fds.cgroupJoin, inherit(f))
	}
	if sp.cgroupFD < 0 && len(files) == 0 {
		sp.needAdd = true
	}
	if sp.cgroupFD >= 0 {
		// clone3(CLONE_INTO_CGROUP): born in its cgroup, no move afterwards
		attr.UseCgroupFD, attr.CgroupFD = true, sp.cgroupFD
		sp.parentOnly = append(sp.parentOnly, os.NewFile(uintptr(sp.cgroupFD), "cgroup"))
	}
	stdio, err := sp.stdio(o.Stdin, o.Stdout, o.Stderr)
	if err != nil {
		return nil, err
	}
	sp.path = fmt.Sprintf("/proc/self/fd/%d", exeFd)
	sp.attr = &syscall.ProcAttr{
		// the third number: how many fds we pass; the init closes the rest
		Env:   []string{fmt.Sprintf("_CASCO_INIT=%d,%d,%d", syncFd, exeFd, len(stdio)+len(extra))},
		Files: append(stdio, extra...),
		Sys:   attr,
	}
	return sp, nil
}

// addAfterStart has the parent move the child into its cgroup once it has
// exec'd the init, instead of cloning it there: a child cloned into a
// frozen cgroup (exec --ignore-paused) freezes before its exec, and
// ForkExec's parent (a vfork) waits for that exec, deaf to any signal but
// SIGKILL.
func (sp *spawn) addAfterStart() {
	if sp.attr.Sys.UseCgroupFD {
		sp.attr.Sys.UseCgroupFD = false
		sp.needAdd = true
	}
}

// stdio returns the child's fds 0-2; what the caller left nil is /dev/null.
func (sp *spawn) stdio(files ...*os.File) ([]uintptr, error) {
	fds := make([]uintptr, len(files))
	for i, f := range files {
		if f == nil {
			null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
			if err != nil {
				return nil, err
			}
			sp.childEnds = append(sp.childEnds, null)
			f = null
		}
		fds[i] = f.Fd()
	}
	return fds, nil
}

// start clones the child into its namespaces and execs the init. Not
// os/exec: os.StartProcess forks a throw-away child once per casco process
// to check that pidfds work, which the container's init never needs.
func (sp *spawn) start() (*Init, error) {
	defer sp.closeChildEnds()
	pid, err := syscall.ForkExec(sp.path, []string{"casco-init"}, sp.attr)
	if err != nil {
		if sp.attr.Sys.UidMappings != nil && (err == syscall.EINVAL || err == syscall.EPERM) {
			// Go writes the maps between clone and exec: that is what failed
			return nil, fmt.Errorf("linux.uidMappings/gidMappings: the kernel refused to write them: %w", err)
		}
		return nil, &os.PathError{Op: "fork/exec", Path: "casco-init", Err: err}
	}
	return &Init{Pid: pid, child: pid}, nil
}

func idMaps(m []specs.LinuxIDMapping) []syscall.SysProcIDMap {
	out := make([]syscall.SysProcIDMap, len(m))
	for i, x := range m {
		out[i] = syscall.SysProcIDMap{ContainerID: int(x.ContainerID), HostID: int(x.HostID), Size: int(x.Size)}
	}
	return out
}

// closeChildEnds drops our copies of what only the child needs.
func (sp *spawn) closeChildEnds() {
	for _, f := range sp.childEnds {
		f.Close()
	}
	sp.childEnds = nil
}

func (sp *spawn) closeParentCopies() {
	for _, f := range sp.parentOnly {
		f.Close()
	}
	sp.parentOnly = nil
}
