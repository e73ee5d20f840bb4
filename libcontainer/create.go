package libcontainer

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/cgroups"
	"github.com/casco-runtime/casco/libcontainer/fault"
	"github.com/casco-runtime/casco/libcontainer/internal/intelrdt"
	"github.com/casco-runtime/casco/libcontainer/plan"
	"github.com/casco-runtime/casco/seccomp"
)

// CreateOpts are the inputs of `create` (and of the create half of `run`).
type CreateOpts struct {
	Root          string
	ID            string
	Bundle        string
	PidFile       string
	PidfdSocket   string   // unix socket that gets a pidfd of the init (runc 1.2's --pidfd-socket)
	ConsoleSocket string   // path of the engine's console socket
	Console       *os.File // an already connected console socket (foreground run -t)
	NoPivot       bool
	NoNewKeyring  bool
	PreserveFds   int
	Systemd       bool
	Rootless      bool
	Stdin         *os.File
	Stdout        *os.File
	Stderr        *os.File
	Trace         *Trace
	// Abort, when set, becomes readable when the caller is told to stop
	// (SIGTERM, SIGINT, SIGHUP): a wait on the init then ends, and
	// everything made is removed.
	Abort *os.File
}

// Init is the container's init process as its creator sees it.
type Init struct {
	Pid    int                 // the init (or exec'd process), as the host sees it
	child  int                 // our child: Pid, or the intermediate that forked into a pid namespace
	status *syscall.WaitStatus // the child's, once reaped
}

// Create makes the container: state directory, cgroups, the init parked in
// its namespaces before exec. On failure everything made is removed again.
func Create(o *CreateOpts) (c *Container, _ *Init, err error) {
	tr := o.Trace
	cfg, err := loadCreateConfig(o)
	if err != nil {
		return nil, nil, err
	}
	defer cfg.holder.release()
	tr.Step("parse bundle")

	d, err := makeStateDir(o.Root, o.ID)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			d.remove()
		}
	}()
	if err := fault.Step("create", "state dir"); err != nil {
		return nil, nil, err
	}
	if err := d.makeExecFifo(); err != nil {
		return nil, nil, err
	}
	tr.Step("state dir")

	c = d.container(newState(o.ID, cfg.bundle, o.Systemd, o.Rootless))
	mgr, pidsLater, err := d.makeCgroup(c.State, cfg.spec)
	if err != nil {
		return nil, nil, err
	}
	if err := fault.Step("create", "cgroup made"); err != nil {
		return nil, nil, err
	}
	tr.Step("cgroup")

	sp, filter, err := c.prepareInit(o, cfg, mgr)
	if err != nil {
		return nil, nil, err
	}
	defer c.closeListener()
	defer sp.closeParentCopies()
	init, err := c.startInit(d, sp, mgr, cfg.spec.Process.OOMScoreAdj, tr)
	if err != nil {
		return nil, nil, err
	}
	p, err := c.initPlan(o, cfg, sp, filter)
	if err != nil {
		return nil, nil, err
	}
	tr.Step("build plan")
	if err := c.attachDevices(d, cfg, init.Pid); err != nil {
		return nil, nil, err
	}
	if err := sendPlan(sp, p); err != nil {
		return nil, nil, err
	}
	tr.Step("send plan")
	if err := fault.Step("create", "plan sent"); err != nil {
		return nil, nil, err
	}
	if err := c.followInit(sp, init, tr, o.Abort); err != nil {
		return nil, nil, err
	}
	if err := fault.Step("create", "init ready"); err != nil {
		return nil, nil, err
	}
	if err := setPidsLater(mgr, pidsLater); err != nil {
		return nil, nil, err
	}
	if err := c.recordCreated(init.Pid); err != nil {
		return nil, nil, err
	}
	if err := announce(o.PidFile, o.PidfdSocket, init.Pid); err != nil {
		return nil, nil, err
	}
	if err := sendPidfdReceiver(cfg.spec, init.Pid); err != nil {
		return nil, nil, err
	}
	tr.Step("save state")
	return c, init, nil
}

// createConfig is the bundle as create uses it: checked, with its
// namespaces decided and the user namespace's holder, if it needs one.
type createConfig struct {
	bundle *Bundle
	spec   *specs.Spec
	ns     nsPlan
	holder *usernsHolder // released once the init has joined the namespace
}

// loadCreateConfig checks create's options and loads and checks the
// bundle's config.
func loadCreateConfig(o *CreateOpts) (_ *createConfig, err error) {
	if err := ValidateID(o.ID); err != nil {
		return nil, err
	}
	if err := checkPreserveFds(o.PreserveFds); err != nil {
		return nil, err
	}
	b, err := LoadBundle(o.Bundle)
	if err != nil {
		return nil, err
	}
	s := b.Spec
	config := filepath.Join(b.Path, "config.json")
	ns := readNamespaces(s)
	bindSysWhereRefused(s, &ns) // before a helper's namespace is joined by path
	holder, err := makeUsernsHolder(s, &ns)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", config, err)
	}
	defer func() {
		if err != nil {
			holder.release()
		}
	}()
	if err := ns.split(); err != nil {
		return nil, fmt.Errorf("%s: %w", config, err)
	}
	if s.Process.Terminal && o.ConsoleSocket == "" && o.Console == nil {
		return nil, errors.New("process.terminal is true: a --console-socket is needed")
	}
	return &createConfig{bundle: b, spec: s, ns: ns, holder: holder}, nil
}

// makeExecFifo makes the FIFO the parked init waits on until `start`.
func (d *stateDir) makeExecFifo() error {
	fifo := filepath.Join(d.dir, fifoName)
	if err := unix.Mkfifo(fifo, 0622); err != nil {
		return fmt.Errorf("mkfifo %s: %w", fifo, err)
	}
	// whatever the umask: the init may open it as a non-root user
	if err := os.Chmod(fifo, 0622); err != nil {
		return fmt.Errorf("chmod %s: %w", fifo, err)
	}
	return fault.Step("create", "exec fifo")
}

// prepareInit compiles the seccomp filter, connects its agent and opens
// what the init inherits. The caller closes the listener and the parent's
// copies once the init is ready.
func (c *Container) prepareInit(o *CreateOpts, cfg *createConfig, mgr cgroups.Manager) (*spawn, *seccomp.Filter, error) {
	tr := o.Trace
	filter, err := containerSeccomp(cfg.spec, seccompCacheDir(c.Dir))
	if err != nil {
		return nil, nil, err
	}
	if filter != nil {
		tr.Step("seccomp compile")
	}
	if err := c.connectListener(cfg.spec, filter); err != nil {
		return nil, nil, err
	}
	sp, err := newSpawn(o, cfg.spec, c.Dir, cfg.ns, mgr)
	if err != nil {
		c.closeListener()
		return nil, nil, err
	}
	tr.Step("prepare fds")
	if err := fault.Step("create", "fds prepared"); err != nil {
		sp.closeChildEnds()
		sp.closeParentCopies()
		c.closeListener()
		return nil, nil, err
	}
	return sp, filter, nil
}

// startInit starts the container's init, parked until its plan arrives,
// and puts it in its cgroup at its OOM score; a failed create kills it.
func (c *Container) startInit(d *stateDir, sp *spawn, mgr cgroups.Manager, oomScoreAdj *int, tr *Trace) (*Init, error) {
	init, err := sp.start()
	if err != nil {
		return nil, fmt.Errorf("start init: %w", err)
	}
	d.onFailure(init.kill)
	if err := fault.Step("create", "init started"); err != nil {
		return nil, err
	}
	tr.Step("clone init")
	if err := placeProcess(init.Pid, sp, mgr, oomScoreAdj, tr); err != nil {
		return nil, err
	}
	c.State.Pid = init.Pid
	c.State.CgroupPaths = mgr.Paths()
	return init, nil
}

// initPlan records the config in the state and builds the init's plan
// from it.
func (c *Container) initPlan(o *CreateOpts, cfg *createConfig, sp *spawn, filter *seccomp.Filter) (*planBuilder, error) {
	s := cfg.spec
	if err := c.setSpec(s); err != nil {
		return nil, err
	}
	// after the config is recorded: exec computes HOME for its own user
	addHome(s.Process, cfg.bundle.Rootfs)
	p, err := buildPlan(&planInput{
		bundle:      cfg.bundle,
		ns:          cfg.ns,
		cgroupPaths: c.State.CgroupPaths,
		noPivot:     o.NoPivot,
		keyring:     sessionKeyring(o),
		trace:       o.Trace.enabled(),
		fds:         sp.fds,
		ownConsole:  o.Console != nil,
		filter:      filter,
		state:       c.hookState,
		innerState:  func(status string) *specs.State { return containerView(c.hookState(status), &cfg.ns) },
	})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(cfg.bundle.Path, "config.json"), err)
	}
	if cfg.ns.has(specs.MountNamespace) {
		sp.trees = newTreeMaker(cfg.bundle, &cfg.ns)
	}
	return p, nil
}

// attachDevices gives the parked init what the host attaches from outside:
// the config's network devices and its Intel RDT group.
func (c *Container) attachDevices(d *stateDir, cfg *createConfig, pid int) error {
	if err := moveNetDevices(cfg.spec, &cfg.ns, pid); err != nil {
		return err
	}
	if r := cfg.spec.Linux.IntelRdt; r != nil {
		d.onFailure(func() { intelrdt.Remove(r, c.State.ID) })
		if err := intelrdt.Apply(r, c.State.ID, pid); err != nil {
			return err
		}
	}
	return nil
}

// recordCreated saves the state of the created container, its init ready.
func (c *Container) recordCreated(pid int) error {
	start, _, err := processStart(pid)
	if err != nil {
		return fmt.Errorf("init process %d: %w", pid, err)
	}
	c.State.PidStart = start
	c.State.Created = time.Now().UTC()
	if err := saveState(c.Dir, c.State); err != nil {
		return err
	}
	return fault.Step("create", "state saved")
}

// followInit answers the init until it reports ready (parked before exec)
// or fails. The init's hooks checkpoint is where prestart and createRuntime
// hooks run: namespaces and mounts exist, pivot_root has not happened.
func (c *Container) followInit(sp *spawn, init *Init, tr *Trace, abort *os.File) error {
	for {
		if err := waitSync(sp.sync, abort); err != nil {
			return err
		}
		msg, err := plan.ReadSync(sp.sync)
		if err != nil {
			return init.exitError(err)
		}
		switch msg.Type {
		case plan.SyncError:
			init.reap()
			return errors.New(string(msg.Data))
		case plan.SyncPid:
			pid, err := strconv.Atoi(string(msg.Data))
			if err != nil {
				return fmt.Errorf("init sent a bad pid %q", msg.Data)
			}
			init.reap() // the intermediate that joined the pid namespace
			if c.State.Pid == init.Pid {
				c.State.Pid = pid // the container's own init, not an exec'd process
			}
			init.Pid = pid
		case plan.SyncHooks:
			tr.Step("init: rootfs ready")
			h := c.hooks()
			state := c.hookState(Creating)
			if err := runHooks("prestart", h.Prestart, state); err != nil {
				return err
			}
			if err := runHooks("createRuntime", h.CreateRuntime, state); err != nil {
				return err
			}
			tr.Step("createRuntime hooks")
			if err := plan.WriteSync(sp.sync, plan.SyncGo); err != nil {
				return init.exitError(err)
			}
		case plan.SyncSeccomp:
			if err := c.handOverNotifyFd(init.Pid, msg.Data); err != nil {
				return err
			}
			if err := plan.WriteSync(sp.sync, plan.SyncGo); err != nil {
				return init.exitError(err)
			}
		case plan.SyncTree:
			if sp.trees == nil {
				return errors.New("init asked for a bind mount source without a mount namespace of its own")
			}
			if err := sp.trees.send(sp.sync, init.Pid); err != nil {
				return fmt.Errorf("%s: %w", filepath.Join(c.State.Bundle, "config.json"), err)
			}
		case plan.SyncAffinity:
			who := "exec"
			if init.Pid == c.State.Pid {
				who = "init"
			}
			logAffinity(who, init.Pid, msg.Data)
		case plan.SyncTrace:
			tr.initSteps(msg.Data)
		case plan.SyncReady:
			tr.Step("init: ready")
			return nil
		default:
			return fmt.Errorf("init sent unknown message %q", msg.Type)
		}
	}
}

// exitError explains why the init stopped talking.
func (in *Init) exitError(cause error) error {
	if ws, err := in.reap(); err == nil && (ws.Signaled() || ws.ExitStatus() != 0) {
		return fmt.Errorf("container init exited before it was ready: %s", describeExit(ws))
	}
	return fmt.Errorf("container init stopped talking: %w", cause)
}

func describeExit(ws syscall.WaitStatus) string {
	if ws.Signaled() {
		return "signal: " + ws.Signal().String()
	}
	return fmt.Sprintf("exit status %d", ws.ExitStatus())
}

// reap waits for our child to exit, once.
func (in *Init) reap() (syscall.WaitStatus, error) {
	if in.status != nil {
		return *in.status, nil
	}
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(in.child, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return 0, err
		}
		in.status = &ws
		return ws, nil
	}
}

// kill ends the init (and with it its pid namespace) and reaps our child.
// A reaped child's pid may belong to another process by now: it is left
// alone. Init is not safe for concurrent use: one goroutine waits.
func (in *Init) kill() {
	if in.status != nil && in.child == in.Pid {
		return
	}
	unix.Kill(in.Pid, unix.SIGKILL)
	if in.status == nil {
		unix.Kill(in.child, unix.SIGKILL)
		in.reap()
	}
}

// abandon kills the process without waiting for it: one that joined a
// frozen cgroup dies only once the cgroup is thawed, and our exit leaves
// the reaping to the subreaper.
func (in *Init) abandon() {
	unix.Kill(in.Pid, unix.SIGKILL)
	if in.status == nil && in.child != in.Pid {
		unix.Kill(in.child, unix.SIGKILL)
	}
}

// Wait waits for the container's init to exit and returns its wait status.
func (in *Init) Wait() (syscall.WaitStatus, error) {
	if in.child == in.Pid {
		return in.reap()
	}
	// the init is our grandchild (pid namespace joined by path): we are its subreaper
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(in.Pid, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		return ws, err
	}
}

func writeProcFile(path, value string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	var sf unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &sf); err != nil || sf.Type != unix.PROC_SUPER_MAGIC {
		return fmt.Errorf("%s is not on procfs", path)
	}
	_, err = f.WriteString(value)
	return err
}

// handOverNotifyFd takes the seccomp notify fd out of the init with
// pidfd_getfd and sends it to the agent at listenerPath, with the state, in
// one SCM_RIGHTS message as the runtime-spec says.
func (c *Container) handOverNotifyFd(pid int, data []byte) error {
	s, err := c.Spec()
	if err != nil {
		return err
	}
	sc := s.Linux.Seccomp
	if len(data) != 4 || sc == nil || sc.ListenerPath == "" {
		return fmt.Errorf("seccomp notify: no listenerPath for the notify fd")
	}
	pidfd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return fmt.Errorf("seccomp notify: pidfd_open %d: %w", pid, err)
	}
	defer unix.Close(pidfd)
	fd, err := unix.PidfdGetfd(pidfd, int(int32(binary.NativeEndian.Uint32(data))), 0)
	if err != nil {
		return fmt.Errorf("seccomp notify: pidfd_getfd: %w", err)
	}
	defer unix.Close(fd)
	msg, err := json.Marshal(specs.ContainerProcessState{
		Version:  specs.Version,
		Fds:      []string{specs.SeccompFdName},
		Pid:      pid,
		Metadata: sc.ListenerMetadata,
		State:    *c.hookState(Creating),
	})
	if err != nil {
		return err
	}
	conn := c.listener
	if conn == nil {
		return fmt.Errorf("seccomp listener %s: not connected", sc.ListenerPath)
	}
	if err := unix.Sendmsg(int(conn.Fd()), msg, unix.UnixRights(fd), nil, 0); err != nil {
		return fmt.Errorf("seccomp listener %s: send: %w", sc.ListenerPath, err)
	}
	return nil
}

func dialUnix(path string) (*os.File, error) {
	conn, err := net.Dial("unix", path)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.(*net.UnixConn).File()
}

// containerResources is linux.resources with the device allow-list every
// container needs. Devices listed in linux.devices are created, not
// allowed: as with runc, only linux.resources.devices and the default list
// decide what the container may open (mknod is allowed for every node by
// the default list, so creating them needs no rule of its own).
func containerResources(s *specs.Spec) *specs.LinuxResources {
	var r specs.LinuxResources
	if s.Linux.Resources != nil {
		r = *s.Linux.Resources
	}
	r.Devices = cgroups.DeviceRules(r.Devices)
	return &r
}

// containerView is the state as hooks in the container's namespaces see
// it: the runtime-spec wants the init's pid as the container sees it.
func containerView(st *specs.State, ns *nsPlan) *specs.State {
	if ns.isNew(specs.PIDNamespace) {
		st.Pid = 1
	}
	return st
}

// seccompCacheDir is where compiled filters are kept: beside the containers'
// state dirs, owned by root and private.
func seccompCacheDir(containerDir string) string {
	return filepath.Join(filepath.Dir(containerDir), ".seccomp-cache")
}

func sessionKeyring(o *CreateOpts) string {
	if o.NoNewKeyring {
		return ""
	}
	return "_ses." + o.ID
}

// connectListener connects to the seccomp agent before anything is started,
// so an agent that isn't there fails the create early and cleanly.
func (c *Container) connectListener(s *specs.Spec, f *seccomp.Filter) error {
	sc := s.Linux.Seccomp
	if f == nil || !f.Notify {
		return nil
	}
	if sc.ListenerPath == "" {
		return errors.New("seccomp: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath")
	}
	conn, err := dialUnix(sc.ListenerPath)
	if err != nil {
		// runc's words, which engines and their users know
		return fmt.Errorf("linux.seccomp.listenerPath: failed to connect with seccomp agent specified in the seccomp profile: %w", err)
	}
	c.listener = conn
	return nil
}

func (c *Container) closeListener() {
	if c.listener != nil {
		c.listener.Close()
		c.listener = nil
	}
}

// deferPidsZero takes a pids limit of 0 out of r and returns it to be set
// once the init is in its cgroup: 0 is written as pids.max 1 (as runc), which
// would refuse the set-up's forks (a user namespace's holder) in the cgroup.
func deferPidsZero(r *specs.LinuxResources) (now, later *specs.LinuxResources) {
	if r.Pids == nil || r.Pids.Limit == nil || *r.Pids.Limit != 0 {
		return r, nil
	}
	zero := *r.Pids
	now = &specs.LinuxResources{}
	*now = *r
	now.Pids = nil
	return now, &specs.LinuxResources{Pids: &zero}
}
