package libcontainer

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// waitSync waits until the init has something to say (or has gone), or
// the caller is told to stop through abort: the init is the container's,
// and may never answer.
func waitSync(sync, abort *os.File) error {
	if abort == nil {
		return nil
	}
	// raw fds through SyscallConn: (*os.File).Fd would make the pipe blocking
	var afd uintptr
	rc, err := abort.SyscallConn()
	if err == nil {
		err = rc.Control(func(fd uintptr) { afd = fd })
	}
	if err != nil {
		return fmt.Errorf("abort pipe: %w", err)
	}
	fds := []unix.PollFd{
		{Fd: int32(sync.Fd()), Events: unix.POLLIN},
		{Fd: int32(afd), Events: unix.POLLIN},
	}
	for {
		_, err := unix.Poll(fds, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("wait for the container's init: %w", err)
		}
		if fds[1].Revents != 0 {
			var b [1]byte
			unix.Read(int(afd), b[:])
			return fmt.Errorf("interrupted by %s while waiting for the container's init", unix.SignalName(unix.Signal(b[0])))
		}
		return nil
	}
}
