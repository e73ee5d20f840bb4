package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/casco-runtime/casco/cgroups"
)

// The steps that create (and run), exec and restore share to start a
// container's process: the state directory, the cgroup, the process's
// place (cgroup and OOM score), the plan sent, and the caller told the
// pid. Each command takes them in its own order; none has a copy.

// stateDir is a container's state directory in the making, with what to
// take apart again if a later step fails.
type stateDir struct {
	dir  string
	lock *os.File
	undo []func()
}

// makeStateDir makes and locks <root>/<id>. The root must be one no one
// but the caller can write: whoever could would forge the state that
// later commands trust.
func makeStateDir(root, id string) (*stateDir, error) {
	if err := os.MkdirAll(root, 0700); err != nil {
		return nil, fmt.Errorf("state root %s: %w", root, err)
	}
	if err := checkRoot(root); err != nil {
		return nil, err
	}
	dir := filepath.Join(root, id)
	if err := os.Mkdir(dir, 0711); err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("container %q already exists", id)
		}
		return nil, fmt.Errorf("state dir %s: %w", dir, err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &stateDir{dir: dir, lock: lock}, nil
}

// onFailure has remove undo something made after the directory.
func (d *stateDir) onFailure(undo func()) {
	d.undo = append(d.undo, undo)
}

// remove takes apart what the failed command made, newest first, then
// the directory itself.
func (d *stateDir) remove() {
	for i := len(d.undo) - 1; i >= 0; i-- {
		d.undo[i]()
	}
	os.RemoveAll(d.dir)
	d.lock.Close()
}

// container is the Container whose state lives in the directory; it
// holds the directory's lock from now on.
func (d *stateDir) container(st *State) *Container {
	return &Container{Dir: d.dir, lock: d.lock, State: st}
}

// newState is the state of a container before its init exists.
func newState(id string, b *Bundle, systemd, rootless bool) *State {
	return &State{
		ID:          id,
		Bundle:      b.Path,
		Rootfs:      b.Rootfs,
		Annotations: b.Spec.Annotations,
		Systemd:     systemd,
		Rootless:    rootless,
	}
}

// makeCgroup records the state, then makes the container's cgroup with
// the config's limits. The state comes first, before anything exists that
// a killed command would leave behind: list shows the partial container
// and delete finds its cgroups (and so every process of it) from it. A
// pids limit of 0 is returned to be set once the init is in (deferPidsZero).
func (d *stateDir) makeCgroup(st *State, s *specs.Spec) (cgroups.Manager, *specs.LinuxResources, error) {
	mgr, err := cgroups.New(s.Linux.CgroupsPath, st.ID, cgroups.Options{Systemd: st.Systemd, Rootless: st.Rootless})
	if err != nil {
		return nil, nil, fmt.Errorf("cgroup: %w", err)
	}
	st.CgroupPaths = mgr.Paths()
	if err := saveState(d.dir, st); err != nil {
		return nil, nil, err
	}
	// as runc: a frozen cgroup would hold the init forever before it
	// reports; it is someone else's, refused before anything is made in it
	if paused, _ := mgr.State(); paused {
		return nil, nil, errors.New("cgroup: container's cgroup unexpectedly frozen")
	}
	if err := mgr.Create(); err != nil {
		return nil, nil, fmt.Errorf("cgroup: %w", err)
	}
	d.onFailure(func() { mgr.Destroy() })
	res, pidsLater := deferPidsZero(containerResources(s))
	if err := mgr.Set(res); err != nil {
		return nil, nil, fmt.Errorf("cgroup: %w", err)
	}
	return mgr, pidsLater, nil
}

// setPidsLater sets the pids limit of 0 that makeCgroup put off, once the
// container's processes are in their cgroup.
func setPidsLater(mgr cgroups.Manager, pidsLater *specs.LinuxResources) error {
	if pidsLater == nil {
		return nil
	}
	if err := mgr.Set(pidsLater); err != nil {
		return fmt.Errorf("cgroup: %w", err)
	}
	return nil
}

// placeProcess puts a just started casco-init where it belongs before it
// runs anything of the user's: into its cgroup, when the clone could not
// put it there, and at its OOM score. What it forks inherits both.
func placeProcess(pid int, sp *spawn, mgr cgroups.Manager, oomScoreAdj *int, tr *Trace) error {
	if sp.needAdd {
		if err := mgr.Add(pid); err != nil {
			return fmt.Errorf("cgroup: %w", err)
		}
		tr.Step("cgroup: move init")
	}
	if adj := oomScoreAdj; adj != nil {
		if err := writeProcFile(fmt.Sprintf("/proc/%d/oom_score_adj", pid), strconv.Itoa(*adj)); err != nil {
			return fmt.Errorf("process.oomScoreAdj %d: %w", *adj, err)
		}
	}
	return nil
}

// sendPlan hands casco-init its plan; it waits for it before doing anything.
func sendPlan(sp *spawn, p *planBuilder) error {
	if _, err := sp.sync.Write(p.Bytes()); err != nil {
		return fmt.Errorf("send plan to init: %w", err)
	}
	return nil
}

// announce tells the caller the new process: its pid in --pid-file, a
// pidfd over --pidfd-socket.
func announce(pidFile, pidfdSocket string, pid int) error {
	if pidFile != "" {
		if err := writePidFile(pidFile, pid); err != nil {
			return err
		}
	}
	if pidfdSocket != "" {
		if err := sendPidfd(pidfdSocket, pid); err != nil {
			return err
		}
	}
	return nil
}
