package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/cgroups"
	"github.com/casco-runtime/casco/libcontainer/fault"
	"github.com/casco-runtime/casco/libcontainer/plan"
	"github.com/casco-runtime/casco/seccomp"
)

// ExecOpts are the inputs of `exec`.
type ExecOpts struct {
	Process       *specs.Process
	PidFile       string
	ConsoleSocket string
	Console       *os.File
	PidfdSocket   string
	PreserveFds   int
	IgnorePaused  bool
	SubCgroups    []string // exec --cgroup: [ctrl[,ctrl]:]path below the container's cgroup
	Stdin         *os.File
	Stdout        *os.File
	Stderr        *os.File
	// Abort: as CreateOpts.Abort.
	Abort *os.File
	// BeforeRun, when set, is called once the process exists and before it
	// may run anything of the user's (foreground exec readies its signal
	// forwarding there).
	BeforeRun func()
}

// Exec starts another process in a running container: it joins every
// namespace and the cgroup of the container's init, and gets its own
// identity, capabilities, rlimits and the container's seccomp filter. It
// returns once the process runs.
func (c *Container) Exec(o *ExecOpts) (*Init, error) {
	status := c.Status()
	switch {
	case status == Stopped:
		return nil, errors.New("cannot exec in a stopped container")
	case status == Paused && !o.IgnorePaused:
		return nil, errors.New("cannot exec in a paused container (use --ignore-paused to override)")
	}
	if o.Process.Terminal && o.ConsoleSocket == "" && o.Console == nil {
		return nil, errors.New("process.terminal is true: a --console-socket is needed")
	}
	if err := validateProcess(o.Process); err != nil {
		return nil, err
	}
	if err := checkPreserveFds(o.PreserveFds); err != nil {
		return nil, err
	}
	config, err := c.Spec()
	if err != nil {
		return nil, err
	}
	spec := *config
	spec.Process = o.Process
	// HOME as the container's passwd says, seen through the init's root
	addHome(spec.Process, fmt.Sprintf("/proc/%d/root", c.State.Pid))
	spec.Hooks = nil
	ns := c.execNamespaces(config)
	logrus.Debugf("exec %v in container %s: joining the namespaces of init %d", o.Process.Args, c.State.ID, c.State.Pid)

	mgr, err := c.execCgroup(o.SubCgroups)
	if err != nil {
		return nil, err
	}
	filter, err := containerSeccomp(&spec, seccompCacheDir(c.Dir))
	if err != nil {
		return nil, err
	}
	if err := c.connectListener(&spec, filter); err != nil {
		return nil, err
	}
	defer c.closeListener()
	sp, err := newSpawn(&CreateOpts{
		ConsoleSocket: o.ConsoleSocket, Console: o.Console, PreserveFds: o.PreserveFds,
		Stdin: o.Stdin, Stdout: o.Stdout, Stderr: o.Stderr,
	}, &spec, "", nsPlan{}, mgr)
	if err != nil {
		return nil, err
	}
	if status == Paused {
		sp.addAfterStart()
	}
	defer sp.closeParentCopies()
	proc, err := sp.start()
	if err != nil {
		return nil, fmt.Errorf("start exec process: %w", err)
	}
	logrus.Debugf("exec: process %d started", proc.Pid)
	fail := func(err error) (*Init, error) {
		// not proc.kill: a process in a paused container (--ignore-paused)
		// would keep us waiting until someone resumes it
		proc.abandon()
		return nil, err
	}
	if err := fault.Step("exec", "process started"); err != nil {
		return fail(err)
	}
	adj := o.Process.OOMScoreAdj // the process's own score, or the container's
	if adj == nil {
		adj = config.Process.OOMScoreAdj
	}
	if err := placeProcess(proc.Pid, sp, mgr, adj, nil); err != nil {
		return fail(err)
	}
	p, err := c.execPlan(&spec, &ns, sp, filter, o.Console != nil)
	if err != nil {
		return fail(err)
	}
	if o.BeforeRun != nil {
		o.BeforeRun()
	}
	if err := sendPlan(sp, p); err != nil {
		return fail(err)
	}
	if err := fault.Step("exec", "plan sent"); err != nil {
		return fail(err)
	}
	if err := c.followInit(sp, proc, nil, o.Abort); err != nil {
		return fail(err)
	}
	if err := waitExeced(sp); err != nil {
		return fail(err)
	}
	if err := fault.Step("exec", "process ready"); err != nil {
		return fail(err)
	}
	logrus.Debugf("exec: process %d running %s", proc.Pid, o.Process.Args[0])
	if err := announce(o.PidFile, o.PidfdSocket, proc.Pid); err != nil {
		return fail(err)
	}
	return proc, nil
}

// execCgroup is the cgroup an exec'd process joins: the container's, or
// one below it (exec --cgroup).
func (c *Container) execCgroup(subCgroups []string) (cgroups.Manager, error) {
	mgr, err := c.cgroup()
	if c.noCgroup() {
		mgr, err = cgroups.Unmanaged(), nil // a rootless container without a cgroup of its own
	}
	if err != nil {
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	if len(subCgroups) == 0 {
		return mgr, nil
	}
	paths, err := subCgroupPaths(c.State.CgroupPaths, subCgroups)
	if err != nil {
		return nil, err
	}
	if mgr, err = cgroups.Load(paths); err != nil {
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	return mgr, nil
}

// execPlan is an exec'd process's plan: its cpu affinity, the init's
// namespaces joined, its v1 cgroups, console, and the process itself.
func (c *Container) execPlan(spec *specs.Spec, ns *nsPlan, sp *spawn, filter *seccomp.Filter, ownConsole bool) (*planBuilder, error) {
	p := &planBuilder{}
	if err := p.cpuAffinityInitial(spec.Process.ExecCPUAffinity); err != nil {
		return nil, err
	}
	p.reportAffinity(affinityAtStart)
	p.joinNamespaces(ns.joins, keepOriginalGroups(spec))
	if ns.fork {
		p.Add(plan.OpFork, nil)
	}
	// the v1 hierarchies after the fork: a container at its pids limit
	// takes a process moved in (the kernel counts forks only), as runc's
	// exec, which moves its process in once it is made. We opened the
	// tasks files: the namespaces joined do not matter to the kernel
	p.cgroupJoin(sp.fds.cgroupJoin)
	// ns: the joins are already in p; process reads the user namespace's setgroups from them
	in := &planInput{bundle: &Bundle{Spec: spec}, ns: *ns, fds: sp.fds, filter: filter, state: c.hookState, innerState: c.hookState}
	p.console(spec.Process, sp.fds.console, false, ownConsole)
	if err := p.process(spec, in); err != nil {
		return nil, err
	}
	return p, nil
}

// waitExeced waits until the process has called execve: the sync socket is
// close-on-exec, so EOF means the exec happened, and an error message means
// execve itself failed (a directory, a bad interpreter, a file the user may
// not run). `exec` then fails with the cause instead of handing a dead
// process's 126/127 to the caller as if the process had run.
func waitExeced(sp *spawn) error {
	for {
		msg, err := plan.ReadSync(sp.sync)
		if err != nil {
			return nil // EOF: exec'd (or died, which the caller's wait reports)
		}
		if msg.Type == plan.SyncError {
			return errors.New(string(msg.Data))
		}
	}
}

// execNamespaces joins every namespace of the container's init (the plan
// orders them: joinNamespaces); the pid namespace takes a fork to enter.
func (c *Container) execNamespaces(config *specs.Spec) nsPlan {
	var joins []specs.LinuxNamespace
	for _, n := range config.Linux.Namespaces {
		path := "/proc/" + strconv.Itoa(c.State.Pid) + "/ns/" + nsProcName[n.Type]
		joins = append(joins, specs.LinuxNamespace{Type: n.Type, Path: path})
	}
	ns := newNSPlan(joins)
	ns.split() // joined by path, each: nothing to refuse
	return ns
}

func validateProcess(p *specs.Process) error {
	if field := findNUL(reflect.ValueOf(p), "process"); field != "" {
		return fmt.Errorf("%s contains a NUL byte", field)
	}
	if len(p.Args) == 0 {
		return errors.New("process.args must not be empty")
	}
	if p.Cwd == "" || p.Cwd[0] != '/' {
		return fmt.Errorf("process.cwd %q must be an absolute path", p.Cwd)
	}
	if err := checkCwd(p.Cwd); err != nil {
		return err
	}
	for i, rl := range p.Rlimits {
		if _, ok := rlimitNames[rl.Type]; !ok {
			return fmt.Errorf("process.rlimits[%d]: unknown rlimit %q", i, rl.Type)
		}
	}
	if err := checkSelinux(p.SelinuxLabel, ""); err != nil {
		return err
	}
	return validateScheduling(p)
}

// sendPidfd hands a pidfd of the new process to the caller's socket.
func sendPidfd(path string, pid int) error {
	conn, err := dialUnix(path)
	if err != nil {
		return fmt.Errorf("pidfd socket %s: %w", path, err)
	}
	defer conn.Close()
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	defer unix.Close(fd)
	return unix.Sendmsg(int(conn.Fd()), []byte("pidfd"), unix.UnixRights(fd), nil, 0)
}
