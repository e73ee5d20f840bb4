package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/casco-runtime/casco/cgroups"
	"github.com/casco-runtime/casco/libcontainer/fault"
	"github.com/casco-runtime/casco/libcontainer/internal/intelrdt"
)

// forceLockWait bounds how long delete --force waits for another command's
// lock once the container's processes are dead. Every lock holder's wait
// on the container ends when those die; only a hook that never returns
// (run by a create) can hold it longer, and it must not keep the engine
// from removing the container.
const forceLockWait = 10 * time.Second

// ForceDelete is `delete --force`: it always makes progress. It kills the
// container's processes first, without the lock (a command holding it may
// be waiting on those very processes), then takes the lock to remove the
// state, and removes it anyway if the lock is still held after
// forceLockWait. A container that is gone by then is not an error.
func ForceDelete(root, id string) error {
	c, err := Open(root, id)
	if err != nil {
		return err
	}
	kill := func() {
		if c, err := Open(root, id); err == nil {
			c.killAndWait()
		}
	}
	c.killAndWait()
	if err := fault.Step("delete", "killed without the lock"); err != nil {
		return err
	}
	locked, err := load(root, id, func(dir string) (*os.File, error) {
		return lockDirWithin(dir, forceLockWait, kill)
	})
	switch {
	case err == nil:
		c = locked
	case errors.Is(err, ErrNotExist):
		return nil // its create cleaned up after the kill
	case errors.Is(err, errLockBusy):
		logrus.Warnf("delete %s: its lock is held by %s after %v: removing it anyway", id, lockHolder(filepath.Join(root, id)), forceLockWait)
		if c, err = Open(root, id); err != nil {
			return nil
		}
	default:
		return err
	}
	if err := fault.Step("delete", "locked"); err != nil {
		c.Unlock()
		return err
	}
	if err := c.killAndWait(); err != nil {
		c.Unlock()
		return err
	}
	return c.destroy()
}

// Delete removes a stopped (or created) container: its processes, cgroups
// and state. A running or paused one needs force, and is killed first.
func (c *Container) Delete(force bool) error {
	status := c.Status()
	if (status == Running || status == Paused || status == Creating) && !force {
		return fmt.Errorf("cannot delete container %s that is not stopped: %s", c.State.ID, status)
	}
	if err := c.killAndWait(); err != nil {
		return err
	}
	if err := fault.Step("delete", "killed"); err != nil {
		return err
	}
	return c.destroy()
}

// destroy removes cgroups and state, then runs the poststop hooks.
func (c *Container) destroy() error {
	var firstErr error
	if m, err := c.verifiedCgroup(); err == nil {
		if err := m.Destroy(); cgroups.IsStalled(err) {
			// no process is left; systemd stops the emptied unit and
			// removes its cgroup once it runs again (the stop is queued)
			logrus.Warnf("delete %s: %v; systemd removes the unit's cgroup when it runs again", c.State.ID, err)
		} else if err != nil {
			firstErr = fmt.Errorf("remove cgroup: %w", err)
		}
	}
	if s, err := c.Spec(); err == nil && s.Linux != nil && s.Linux.IntelRdt != nil {
		if err := intelrdt.Remove(s.Linux.IntelRdt, c.State.ID); err != nil && firstErr == nil {
			firstErr = fmt.Errorf("remove resctrl group: %w", err)
		}
	}
	if err := fault.Step("delete", "cgroup removed"); err != nil {
		return err
	}
	if err := os.RemoveAll(c.Dir); err != nil && firstErr == nil {
		firstErr = fmt.Errorf("remove state: %w", err)
	}
	if h := c.hooks(); h != nil {
		warnHooks("poststop", h.Poststop, c.hookState(Stopped))
	}
	c.Unlock()
	return firstErr
}
