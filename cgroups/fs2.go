package cgroups

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/libcontainer/fault"
)

// fs2Manager drives one cgroup2 directory (pure v2 hosts).
type fs2Manager struct {
	dir       string
	rootless  bool
	pathGiven bool // linux.cgroupsPath was set (Options.pathGiven)
}

func newFs2(dir string, opts Options) *fs2Manager {
	return &fs2Manager{dir: dir, rootless: opts.Rootless, pathGiven: opts.pathGiven}
}

func (m *fs2Manager) Paths() map[string]string { return map[string]string{"": m.dir} }

func (m *fs2Manager) Create() error {
	existed, err := createV2(Root, m.dir)
	if err != nil && m.rootless && m.pathGiven && isPermission(err) {
		return errPathNotWritable(m.dir, err)
	}
	if err != nil {
		return fmt.Errorf("create cgroup %s: %w", m.dir, err)
	}
	if existed {
		return refuseBusy(m.dir)
	}
	return nil
}

func (m *fs2Manager) Add(pid int) error {
	if err := writeFile(m.dir, "cgroup.procs", strconv.Itoa(pid)); err != nil {
		return fmt.Errorf("add pid %d to cgroup %s: %w", pid, m.dir, err)
	}
	return nil
}

// CloneFD opens the directory for clone3(CLONE_INTO_CGROUP): the child is
// born inside the cgroup, which saves the cgroup.procs write and closes
// the window in which it could fork outside its limits.
// JoinFiles: cgroup v2 has no v1 hierarchies; CloneFD covers it.
func (m *fs2Manager) JoinFiles() ([]*os.File, error) { return nil, nil }

func (m *fs2Manager) CloneFD() (int, error) {
	fd, err := unix.Open(m.dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open cgroup %s: %w", m.dir, err)
	}
	return fd, nil
}

func (m *fs2Manager) Pids() ([]int, error) { return pidsRecursive(m.dir) }

// Set writes every requested resource. linux.resources.unified goes last
// so that it can override anything derived from the v1-shaped fields
// (runc's order). Settings that have no cgroup2 file — memory.kernel,
// kernelTCP, swappiness, disableOOMKiller, useHierarchy, blockIO leaf
// weights — are ignored as runc ignores them on v2.
func (m *fs2Manager) Set(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	steps := []func(string, *specs.LinuxResources) error{
		setCpusetV2, setMemoryV2, setCPUV2, setPidsV2, setIOV2, setHugetlbPagesV2, setRdmaV2, setNetworkV2,
	}
	for _, step := range steps {
		if err := step(m.dir, r); err != nil {
			return controllerHint(err)
		}
	}
	if needDevices(r) {
		if err := setDevicesV2(m.dir, r, m.rootless); err != nil {
			return err
		}
	}
	if len(r.Unified) > 0 {
		return setUnifiedV2(m.dir, r.Unified)
	}
	return nil
}

// controllerHint explains the usual cause of a missing control file: the
// controller is not enabled in the parent's cgroup.subtree_control.
func controllerHint(err error) error {
	var we *WriteError
	if errors.As(err, &we) && errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("%w (is its controller enabled in %s/cgroup.subtree_control?)", err, parentDir(we.Dir))
	}
	return err
}

func setCpusetV2(dir string, r *specs.LinuxResources) error {
	if !needCpuset(r) {
		return nil
	}
	return setCpusetV1(dir, r) // same file names and formats
}

func setPidsV2(dir string, r *specs.LinuxResources) error {
	if !needPids(r) {
		return nil
	}
	return setPidsV1(dir, r)
}

func setHugetlbPagesV2(dir string, r *specs.LinuxResources) error {
	if len(r.HugepageLimits) == 0 {
		return nil
	}
	return setHugetlbV2(dir, r)
}

func setRdmaV2(dir string, r *specs.LinuxResources) error {
	if !needRdma(r) {
		return nil
	}
	return setRdmaV1(dir, r) // rdma.max has the same format on v1 and v2
}

func setNetworkV2(dir string, r *specs.LinuxResources) error {
	if needNetCls(r) || needNetPrio(r) {
		return fmt.Errorf("linux.resources.network (classID, priorities) needs the cgroup v1 net_cls/net_prio controllers, which cgroup v2 does not have")
	}
	return nil
}

// Freeze writes cgroup.freeze and waits for cgroup.events to report
// "frozen 1": the write only starts freezing.
func (m *fs2Manager) Freeze() error { return m.setFrozen("1") }
func (m *fs2Manager) Thaw() error   { return m.setFrozen("0") }

func (m *fs2Manager) setFrozen(v string) error {
	if !fileExists(m.dir, "cgroup.freeze") {
		return fmt.Errorf("cgroup %s has no cgroup.freeze (kernel older than 5.2): cannot pause or resume", m.dir)
	}
	if err := writeFile(m.dir, "cgroup.freeze", v); err != nil {
		return err
	}
	want := uint64(0)
	if v == "1" {
		want = 1
	}
	delay := 50 * time.Microsecond
	deadline := time.Now().Add(freezeTimeout)
	for {
		ev, err := readKeyed(m.dir, "cgroup.events")
		if err == nil && v == "1" { // the fault build fails the read back here
			err = fault.Step("freeze", "state read back")
		}
		if err != nil {
			if v == "1" {
				// never leave it half done
				if terr := writeFile(m.dir, "cgroup.freeze", "0"); terr != nil {
					return fmt.Errorf("freeze %s: %w; and thawing it again: %v", m.dir, err, terr)
				}
				return fmt.Errorf("freeze %s: %w; thawed again", m.dir, err)
			}
			return err
		}
		if ev["frozen"] == want {
			return nil
		}
		if time.Now().After(deadline) {
			if v == "1" {
				_ = writeFile(m.dir, "cgroup.freeze", "0")
			}
			return fmt.Errorf("cgroup %s: frozen is not %d after %v", m.dir, want, freezeTimeout)
		}
		time.Sleep(delay)
		if delay < 10*time.Millisecond {
			delay *= 2
		}
	}
}

// State: paused when this cgroup was frozen (cgroup.freeze reads 1), even
// while cgroup.events says frozen 0: a task joining a frozen cgroup (an
// exec's process) clears that until the kernel has stopped it too, and the
// container stays paused meanwhile (resume must thaw it). A cgroup frozen
// through an ancestor has frozen 1 in cgroup.events.
func (m *fs2Manager) State() (bool, error) {
	if !fileExists(m.dir, "cgroup.freeze") {
		return false, nil
	}
	if s, err := readFile(m.dir, "cgroup.freeze"); err == nil && strings.TrimSpace(s) == "1" {
		return true, nil
	}
	ev, err := readKeyed(m.dir, "cgroup.events")
	if err != nil {
		if isNotExist(err) {
			return false, nil
		}
		return false, err
	}
	return ev["frozen"] == 1, nil
}

// Kill uses cgroup.kill (5.14+) for SIGKILL: the kernel kills the whole
// subtree at once, including processes forked meanwhile.
func (m *fs2Manager) Kill(sig unix.Signal) error {
	if sig == unix.SIGKILL {
		if fileExists(m.dir, "cgroup.kill") {
			return writeFile(m.dir, "cgroup.kill", "1")
		}
		if fileExists(m.dir, "cgroup.freeze") {
			return killFrozen(m.Freeze, m.Thaw, m.Pids)
		}
	}
	pids, err := m.Pids()
	if err != nil {
		return err
	}
	return signalAll(pids, sig)
}

func (m *fs2Manager) Destroy() error { return removeCgroup(m.dir, time.Now().Add(removeWait)) }
