package libcontainer

import "fmt"

// Pause freezes every process of a running or created container (as
// runc: a created one reads paused, and resume returns it to created).
func (c *Container) Pause() error {
	if status := c.Status(); status != Running && status != Created {
		return fmt.Errorf("container %s is %s, not running", c.State.ID, status)
	}
	m, err := c.cgroup()
	if err != nil {
		return fmt.Errorf("pause %s: cannot freeze it: %w", c.State.ID, err)
	}
	return m.Freeze()
}

// Resume thaws a paused container.
func (c *Container) Resume() error {
	if status := c.Status(); status != Paused {
		return fmt.Errorf("container %s is %s, not paused", c.State.ID, status)
	}
	m, err := c.cgroup()
	if err != nil {
		return err
	}
	return m.Thaw()
}

// Pids lists the processes in the container's cgroup. Without a cgroup
// (rootless) there is no list to trust, and ps fails as runc's does.
func (c *Container) Pids() ([]int, error) {
	m, err := c.cgroup()
	if err != nil {
		return nil, fmt.Errorf("ps %s: cannot list its processes: %w", c.State.ID, err)
	}
	return m.Pids()
}
