package libcontainer

import (
	"fmt"
	"os"
)

// Delete removes a stopped (or created) container: its processes, cgroups
// and state. A running or paused one needs force, and is killed first.
func (c *Container) Delete(force bool) error {
	status := c.Status()
	if (status == Running || status == Paused) && !force {
		return fmt.Errorf("cannot delete container %s that is not stopped: %s", c.State.ID, status)
	}
	if err := c.killAndWait(); err != nil {
		return err
	}
	return c.destroy()
}

// destroy removes cgroups and state, then runs the poststop hooks.
func (c *Container) destroy() error {
	var firstErr error
	if m, err := c.cgroup(); err == nil {
		if err := m.Destroy(); err != nil {
			firstErr = fmt.Errorf("remove cgroup: %w", err)
		}
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
