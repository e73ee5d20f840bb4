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
		return err
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

// Pids lists the processes in the container's cgroup.
func (c *Container) Pids() ([]int, error) {
	m, err := c.cgroup()
	if err != nil {
		return nil, err
	}
	return m.Pids()
}
