package libcontainer

import (
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Start releases a created container's init: it opens the exec fifo, which
// the init is blocked on, and reads the byte the init writes before exec.
func (c *Container) Start(tr *Trace) error {
	switch status := c.Status(); status {
	case Created:
	case Stopped:
		return fmt.Errorf("cannot start a container that has stopped")
	default:
		return fmt.Errorf("cannot start an already %s container", status)
	}
	fifo := filepath.Join(c.Dir, fifoName)
	// non-blocking open: if the init died, a blocking one would wait forever
	fd, err := unix.Open(fifo, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open exec fifo: %w", err)
	}
	defer unix.Close(fd)
	for {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, 100)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("wait on exec fifo: %w", err)
		}
		if n > 0 {
			break
		}
		if !c.State.alive() {
			return fmt.Errorf("container init exited before start")
		}
	}
	var b [1]byte
	if n, err := unix.Read(fd, b[:]); n != 1 {
		return fmt.Errorf("read exec fifo: got %d bytes: %v", n, err)
	}
	if err := os.Remove(fifo); err != nil {
		return fmt.Errorf("remove exec fifo: %w", err)
	}
	tr.Step("start: init released")
	if h := c.State.Config.Hooks; h != nil {
		warnHooks("poststart", h.Poststart, c.hookState(Running))
	}
	return nil
}
