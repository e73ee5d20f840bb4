package cgroups

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// signalAll sends sig to each pid; processes that already exited (ESRCH)
// are not an error.
func signalAll(pids []int, sig unix.Signal) error {
	var errs []error
	for _, pid := range pids {
		if err := unix.Kill(pid, sig); err != nil && !errors.Is(err, unix.ESRCH) {
			errs = append(errs, fmt.Errorf("kill pid %d with %v: %w", pid, sig, err))
		}
	}
	return errors.Join(errs...)
}

// killFrozen is the race-free SIGKILL without cgroup.kill: while the
// cgroup is frozen nobody can fork a process we would miss; the SIGKILLs
// are delivered on thaw. Without a freezer it degrades to a plain loop.
func killFrozen(freeze, thaw func() error, pids func() ([]int, error)) error {
	frozen := freeze() == nil
	list, err := pids()
	if err == nil {
		err = signalAll(list, unix.SIGKILL)
	}
	if frozen {
		if terr := thaw(); terr != nil && err == nil {
			err = terr
		}
	}
	return err
}

func (m *fsManager) Kill(sig unix.Signal) error {
	// Hybrid: the processes are in the unified cgroup too, and its
	// cgroup.kill (5.14+) kills the whole tree atomically.
	if u := m.unified(); sig == unix.SIGKILL && u != "" && fileExists(u, "cgroup.kill") {
		if err := writeFile(u, "cgroup.kill", "1"); err == nil {
			return nil
		}
	}
	if sig == unix.SIGKILL {
		if _, ok := m.paths["freezer"]; ok {
			return killFrozen(m.Freeze, m.Thaw, m.Pids)
		}
	}
	pids, err := m.Pids()
	if err != nil {
		return err
	}
	return signalAll(pids, sig)
}
