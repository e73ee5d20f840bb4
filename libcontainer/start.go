package libcontainer

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/libcontainer/fault"
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
	if err := fault.Step("start", "fifo opened"); err != nil {
		return err
	}
	// The init writes one byte, runs the startContainer hooks and execs; its
	// end of the fifo is close-on-exec, so EOF means the user process runs.
	// A failing init writes "E" and its error line before it exits.
	var got []byte
	for {
		var b [4096]byte
		n, err := unix.Read(fd, b[:])
		switch {
		case n > 0:
			got = append(got, b[:n]...)
			if len(got) > 1<<16 {
				return fmt.Errorf("read exec fifo: more than %d bytes", 1<<16)
			}
			continue
		case n == 0 && len(got) > 0:
			if err := os.Remove(fifo); err != nil {
				return fmt.Errorf("remove exec fifo: %w", err)
			}
			if err := initFailure(got); err != nil {
				// run deletes the container next: let the init finish dying
				c.waitInitGone()
				return err
			}
		case err == unix.EAGAIN || err == unix.EINTR || n == 0:
			// nothing yet (n == 0: the init has not opened its end yet);
			// a short-lived process may already be gone, so read first and
			// only blame a dead init when there is nothing to read
			data, err := waitReadable(fd)
			if err != nil {
				return err
			}
			// once the byte came, a hang-up is the exec: only a silent init is suspect
			if !data && len(got) == 0 && !c.State.alive() {
				return fmt.Errorf("container init exited before start")
			}
			continue
		default:
			return fmt.Errorf("read exec fifo: %w", err)
		}
		break
	}
	tr.Step("start: init released")
	if err := fault.Step("start", "init released"); err != nil {
		return err
	}
	if h := c.hooks(); h != nil {
		warnHooks("poststart", h.Poststart, c.hookState(Running))
	}
	return nil
}

// initFailure reads what the init wrote on the exec fifo after its
// handshake byte: nothing when it exec'd, "E" and its error line (the
// execve's or a startContainer hook's) when it failed.
func initFailure(got []byte) error {
	i := bytes.IndexByte(got, 'E')
	if i < 0 {
		return nil
	}
	if msg := strings.TrimSpace(string(got[i+1:])); msg != "" {
		return errors.New(msg)
	}
	return errors.New("container process failed to start")
}

// waitReadable waits up to 100ms for fd to have data; it reports whether
// there is some to read.
func waitReadable(fd int) (bool, error) {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	n, err := unix.Poll(pfd, 100)
	if err != nil && err != unix.EINTR {
		return false, fmt.Errorf("wait on exec fifo: %w", err)
	}
	return n > 0 && pfd[0].Revents&unix.POLLIN != 0, nil
}
