package main

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/containerd/console"
	"golang.org/x/sys/unix"
)

// terminal is the pty of a foreground `run` with process.terminal: casco is
// its own console socket, puts the caller's terminal in raw mode and copies
// between the two.
type terminal struct {
	ours    *os.File // our end of the console socketpair
	master  console.Console
	current console.Console // the caller's terminal, when stdin is one
	out     sync.WaitGroup
}

// newTerminal returns the terminal and the socket end the container's
// process gets as its console socket.
func newTerminal() (*terminal, *os.File, error) {
	pair, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("console socketpair: %w", err)
	}
	t := &terminal{ours: os.NewFile(uintptr(pair[0]), "console")}
	return t, os.NewFile(uintptr(pair[1]), "console-child"), nil
}

// attach receives the pty master and starts copying.
func (t *terminal) attach() error {
	master, err := recvFd(t.ours)
	if err != nil {
		return fmt.Errorf("receive pty master: %w", err)
	}
	if t.master, err = console.ConsoleFromFile(master); err != nil {
		return err
	}
	if c, err := console.ConsoleFromFile(os.Stdin); err == nil {
		t.current = c
		if err := c.SetRaw(); err != nil {
			return err
		}
		// the container's pty leaves \n alone (its ONLCR is cleared, as
		// runc's): raw mode turned our output processing off, so turn it
		// back on for lines to start at the left edge of the caller's screen
		if t, err := unix.IoctlGetTermios(int(os.Stdin.Fd()), unix.TCGETS); err == nil {
			t.Oflag |= unix.OPOST | unix.ONLCR
			unix.IoctlSetTermios(int(os.Stdin.Fd()), unix.TCSETS, t)
		}
		t.resize()
	}
	go io.Copy(t.master, os.Stdin)
	t.out.Add(1)
	go func() {
		defer t.out.Done()
		io.Copy(os.Stdout, t.master)
	}()
	return nil
}

func (t *terminal) resize() {
	if t.current != nil && t.master != nil {
		t.master.ResizeFrom(t.current)
	}
}

// drain lets the last output of the exited process reach our stdout.
func (t *terminal) drain() {
	if t.master != nil {
		t.out.Wait()
	}
}

func (t *terminal) close() {
	if t.current != nil {
		t.current.Reset()
	}
	if t.master != nil {
		t.master.Close()
	}
	t.ours.Close()
}

// recvFd receives one fd sent with SCM_RIGHTS (runc's console protocol).
func recvFd(sock *os.File) (*os.File, error) {
	name := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(int(sock.Fd()), name, oob, 0)
	if err != nil {
		return nil, err
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("expected one control message: %v", err)
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, fmt.Errorf("expected one fd: %v", err)
	}
	return os.NewFile(uintptr(fds[0]), string(name[:n])), nil
}
