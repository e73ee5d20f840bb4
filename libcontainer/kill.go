package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/cgroups"
)

// ErrNotRunning is returned when signalling a container whose init is gone.
var ErrNotRunning = errors.New("container not running")

// Signal sends sig to the container's init, or with all to every process
// in its cgroup.
func (c *Container) Signal(sig unix.Signal, all bool) error {
	if sig == unix.SIGKILL {
		// a frozen process never gets to die: thaw it once killed, as runc
		defer c.thawIfPaused()
	}
	if all {
		m, err := c.trustedCgroup()
		if errors.Is(err, cgroups.ErrNoCgroup) {
			return fmt.Errorf("kill --all %s: cannot find every process: %w", c.State.ID, err)
		}
		if err != nil {
			return err
		}
		return m.Kill(sig)
	}
	if sig == unix.SIGKILL && !c.ownPidNamespace() {
		// as runc: the init's death takes nobody with it in a shared pid
		// namespace, so SIGKILL goes to every process of the cgroup, also
		// when the init is already gone and others are left
		killed, err := c.killCgroup()
		if killed || err != nil {
			return err
		}
	}
	if !c.State.alive() {
		return ErrNotRunning
	}
	if err := c.verifyPaths(); err != nil {
		return err // a forged pid: the kernel has it outside the container's cgroups
	}
	// a pidfd pins the process: the pid can't be recycled between check and kill
	pidfd, err := unix.PidfdOpen(c.State.Pid, 0)
	if err != nil {
		return fmt.Errorf("signal init %d: %w", c.State.Pid, err)
	}
	defer unix.Close(pidfd)
	if !c.State.alive() {
		return ErrNotRunning
	}
	if err := unix.PidfdSendSignal(pidfd, sig, nil, 0); err != nil {
		return fmt.Errorf("signal init %d: %w", c.State.Pid, err)
	}
	return nil
}

// killCgroupTimeout bounds the wait for a killed cgroup to empty: SIGKILL
// ends a process once it leaves the kernel, which a process stuck in an
// uninterruptible wait (a hung NFS server, a FUSE daemon that went away)
// may never do.
const killCgroupTimeout = 10 * time.Second

// killCgroup kills every process of the container's cgroup, once the cgroup
// is proven to be the container's, and waits until the kernel lists none
// there: a kill that reports success has killed. It reports false, with no
// error, when there is nothing to kill through: no cgroup (rootless, as
// runc signals the init alone) or an empty one.
func (c *Container) killCgroup() (bool, error) {
	m, err := c.trustedCgroup()
	if errors.Is(err, cgroups.ErrNoCgroup) {
		return false, nil
	}
	if err != nil {
		if !c.State.alive() {
			return false, nil // no init either: "container not running"
		}
		// never the init alone with success while the rest lives on
		return false, fmt.Errorf("kill %s: cannot kill every process of the container: %w", c.State.ID, err)
	}
	pids, err := m.Pids()
	if err != nil || len(pids) == 0 {
		return false, nil
	}
	if err := m.Kill(unix.SIGKILL); err != nil {
		return true, fmt.Errorf("kill %s: %w", c.State.ID, err)
	}
	thawIfPaused(m) // a frozen process dies only once thawed
	return true, waitCgroupEmpty(c.State.ID, m, killCgroupTimeout)
}

// waitCgroupEmpty waits until m lists no process that can still run,
// sending SIGKILL again to whatever it still lists and can run (a fork that
// raced the first kill).
func waitCgroupEmpty(id string, m cgroups.Manager, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	delay := time.Millisecond
	for {
		pids, err := m.Pids()
		if err != nil {
			return fmt.Errorf("kill %s: list the processes left: %w", id, err)
		}
		left := canRun(pids)
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kill %s: %d process(es) still in the container's cgroup %v after SIGKILL: %s", id, len(left), timeout, describePids(left))
		}
		time.Sleep(delay)
		if delay < 50*time.Millisecond {
			delay *= 2
		} else {
			killListed(m, left)
		}
	}
}

// canRun keeps the processes of pids that may still run code of their
// own. A process is past that once each of its threads is a zombie or has
// begun to exit (PF_EXITING): exit never returns to user space. A v1
// hierarchy still lists such a process in cgroup.procs until its exit has
// taken it out of its cgroups, which comes after it has closed its files
// and left its namespaces: a FUSE or NFS server that is slow to answer
// the flush of a file it closes, or a mount namespace it is the last to
// leave, can hold it there for long, and it is dead all the same. A
// process that has not begun to exit (blocked in a system call, frozen)
// still counts, as does one whose threads cannot be read.
func canRun(pids []int) []int {
	var left []int
	for _, pid := range pids {
		if !pastExit(pid) {
			left = append(left, pid)
		}
	}
	return left
}

// pastExit reports whether every thread of pid is a zombie or exiting, or
// the process is gone.
func pastExit(pid int) bool {
	dir := "/proc/" + strconv.Itoa(pid) + "/task"
	tids, err := os.ReadDir(dir)
	if err != nil {
		return errors.Is(err, os.ErrNotExist) // gone: reaped
	}
	for _, t := range tids {
		st, err := readStatFile(dir + "/" + t.Name() + "/stat")
		if errors.Is(err, os.ErrNotExist) {
			continue // this thread is gone
		}
		if err != nil || !(st.zombie() || st.exiting()) {
			return false
		}
	}
	return true
}

// describePids names each process as the kernel sees it, "pid (command)
// state", so that the one a kill could not end tells why: D is blocked in
// the kernel, t stopped by a tracer, a frozen one reads D too.
func describePids(pids []int) string {
	var b strings.Builder
	for i, pid := range pids {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d", pid)
		if st, err := readProcStat(pid); err == nil {
			// the container names its processes: no control character of
			// its choosing reaches the error line
			fmt.Fprintf(&b, " (%s) %c", strings.Map(printable, st.comm), st.state)
		}
	}
	return b.String()
}

func printable(r rune) rune {
	if unicode.IsPrint(r) {
		return r
	}
	return '?'
}

// killListed sends SIGKILL to the processes of pids that m still lists. A
// pid listed a while ago may belong, by now, to a process outside the
// container: each pidfd pins whichever process has the pid when it is
// opened, and is signalled only if m lists that pid after the opening.
func killListed(m cgroups.Manager, pids []int) {
	fds := map[int]int{}
	defer func() {
		for _, fd := range fds {
			unix.Close(fd)
		}
	}()
	for _, pid := range pids {
		if fd, err := unix.PidfdOpen(pid, 0); err == nil {
			fds[pid] = fd
		}
	}
	now, err := m.Pids()
	if err != nil {
		return
	}
	for _, pid := range now {
		if fd, ok := fds[pid]; ok {
			_ = unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0)
		}
	}
}

// verifiedCgroup is the container's cgroup manager once the kernel agrees
// that its paths are the container's (see verifyPaths): the one to
// signal through.
func (c *Container) verifiedCgroup() (cgroups.Manager, error) {
	m, err := c.cgroup()
	if err != nil {
		return nil, err
	}
	if err := c.verifyPaths(); err != nil {
		return nil, err
	}
	return m, nil
}

// verifyPaths checks the state's cgroup paths against the kernel
// (cgroups.Verify): they must hold the live init, if there is one.
//
// An init that has begun to exit can no longer vouch for them: on a
// cgroup v1 hierarchy the kernel lists an exiting process in the root
// cgroup ("/"). Another command killed it (a contending delete --force, a
// kill): its exit is waited for, bounded, and the paths are then checked
// as for any stopped container, whose init is gone.
func (c *Container) verifyPaths() error {
	pid := 0
	if c.State.alive() && !c.State.Rootless {
		pid = c.State.Pid
	}
	err := cgroups.Verify(pid, c.State.CgroupPaths)
	// the flag is checked after the kernel's answer: a process that began
	// to exit in between has it set by now
	if err != nil && pid > 0 && c.State.initExiting() {
		if werr := c.waitInitGone(); werr != nil {
			return werr
		}
		err = cgroups.Verify(0, c.State.CgroupPaths)
	}
	if err != nil {
		return fmt.Errorf("container %q: %w", c.State.ID, err)
	}
	return nil
}

// initExitWait bounds the wait for a killed init to be gone. Its exit
// ends only when every other process of its pid namespace has died.
const initExitWait = 10 * time.Second

// waitInitGone waits until the container's init, which is exiting, is a
// zombie or reaped.
func (c *Container) waitInitGone() error {
	fd, err := unix.PidfdOpen(c.State.Pid, 0)
	if err != nil {
		return nil // already reaped
	}
	defer unix.Close(fd)
	if !c.State.alive() {
		return nil // a zombie, or the pid is another process's by now
	}
	return c.waitExit(fd)
}

// waitExit waits, up to initExitWait, until the init (pidfd fd) has
// exited.
func (c *Container) waitExit(fd int) error {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	deadline := time.Now().Add(initExitWait)
	for time.Now().Before(deadline) {
		if n, _ := unix.Poll(pfd, 100); n > 0 {
			return nil
		}
	}
	if a := cgroups.FrozenAncestor(c.State.CgroupPaths); a != "" {
		// not ours to thaw: it may hold more than this container
		return fmt.Errorf("init %d did not die after SIGKILL: cgroup %s above the container is frozen (freezer.self_freezing), and frozen tasks cannot die; thaw it", c.State.Pid, a)
	}
	return fmt.Errorf("init %d did not die within %v of SIGKILL", c.State.Pid, initExitWait)
}

// trustedCgroup is the container's cgroup manager once it is safe to
// signal every process in it (see checkCgroup).
func (c *Container) trustedCgroup() (cgroups.Manager, error) {
	m, err := c.verifiedCgroup()
	if err != nil {
		return nil, err
	}
	if err := c.checkMembers(m); err != nil {
		return nil, err
	}
	return m, nil
}

// checkMembers refuses a cgroup holding a process the container cannot
// have: one outside its pid namespace, or one older than its init.
func (c *Container) checkMembers(m cgroups.Manager) error {
	if err := c.checkPidNamespace(m); err != nil {
		return err
	}
	return c.checkNoElders(m)
}

// checkNoElders refuses a cgroup that holds a process started before the
// container's init. Every process of a container is the init's or came
// after it (exec), so a forged cgroup_paths that points at a host cgroup
// is caught here even once the init is gone and cannot vouch for it.
func (c *Container) checkNoElders(m cgroups.Manager) error {
	if c.State.PidStart == 0 {
		return nil // a partial state: no init was ever recorded
	}
	pids, _ := m.Pids()
	for _, pid := range pids {
		if start, _, err := processStart(pid); err == nil && start < c.State.PidStart {
			return fmt.Errorf("container %q: its cgroup holds process %d, which is older than the container: refusing to signal through it", c.State.ID, pid)
		}
	}
	return nil
}

func (c *Container) thawIfPaused() {
	if m, err := c.cgroup(); err == nil {
		thawIfPaused(m)
	}
}

// thawIfPaused thaws a frozen cgroup: its processes can't die otherwise.
func thawIfPaused(m cgroups.Manager) {
	if paused, _ := m.State(); paused {
		m.Thaw()
	}
}

// killAndWait kills every process of the container and waits until the
// init is gone.
func (c *Container) killAndWait() error {
	// a state.json that does not match the kernel: signal nothing, and
	// keep the state (delete fails), so the real container is not orphaned
	if err := c.verifyPaths(); err != nil {
		return err
	}
	m, err := c.cgroup()
	if err != nil {
		m = nil // no cgroup to kill in or thaw: the init alone
	} else {
		// thawed before its members are checked: an exec that joined the
		// paused cgroup but had not yet entered the container's pid
		// namespace would stay frozen outside it, and checkMembers would
		// take the exec's own process for a stranger's
		thawIfPaused(m)
		if err := c.checkMembers(m); err != nil {
			return err
		}
	}
	if m != nil && !c.ownPidNamespace() {
		// without a pid namespace of its own, the init's death doesn't end the rest
		m.Kill(unix.SIGKILL)
	}
	pidfd := -1
	if c.State.alive() {
		if fd, err := unix.PidfdOpen(c.State.Pid, 0); err == nil { // else: already gone
			defer unix.Close(fd)
			// checked again with the pidfd held: the pid can't be recycled now
			if c.State.alive() {
				if err := unix.PidfdSendSignal(fd, unix.SIGKILL, nil, 0); err != nil && err != unix.ESRCH {
					return fmt.Errorf("kill init %d: %w", c.State.Pid, err)
				}
				pidfd = fd
			}
		}
	}
	if m != nil {
		thawIfPaused(m)
	}
	if pidfd < 0 {
		return nil
	}
	return c.waitExit(pidfd)
}

// ownPidNamespace reports whether the container's init is the init of a pid
// namespace of its own, whose death ends every other process in it.
// checkPidNamespace refuses to signal through a cgroup that holds a
// process outside the container's own pid namespace. cgroups.Verify
// cannot tell a forged cgroup path that is an ancestor of the container's
// real cgroup (it holds the init too) from the real one; the pid namespace
// can: every process of the container is in the init's.
func (c *Container) checkPidNamespace(m cgroups.Manager) error {
	if !c.ownPidNamespace() || !c.State.alive() {
		return nil
	}
	want, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", c.State.Pid))
	if err != nil {
		return fmt.Errorf("container %q: pid namespace of init %d: %w", c.State.ID, c.State.Pid, err)
	}
	foreign := func() int {
		pids, _ := m.Pids()
		for _, pid := range pids {
			if got, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid)); err == nil && got != want {
				return pid
			}
		}
		return 0
	}
	// an exec being set up is in the cgroup before it forks into the pid
	// namespace: give such a process time to get there (bounded; a loaded
	// machine may take a while to schedule it)
	deadline := time.Now().Add(foreignWait)
	for {
		pid := foreign()
		if pid == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("container %q: its cgroup holds process %d of another pid namespace: refusing to signal through it", c.State.ID, pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// foreignWait bounds the wait for an exec being set up to leave the host's
// pid namespace for the container's.
const foreignWait = 5 * time.Second

func (c *Container) ownPidNamespace() bool {
	pid, ok := findNamespace(c.namespaces(), specs.PIDNamespace)
	return ok && pid.Path == ""
}
