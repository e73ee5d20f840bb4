package cgroups

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// WriteError reports a cgroup control file write the kernel rejected. Its
// message names the file (relative to the cgroup directory) and the value,
// e.g. `write "memory.max" = "-5": invalid argument`, because that is what a
// user needs to fix their config; Dir keeps the full location for logs.
type WriteError struct {
	Dir   string
	File  string
	Value string
	Err   error
}

func (e *WriteError) Error() string {
	return fmt.Sprintf("write %q = %q: %v", e.File, e.Value, e.Err)
}

func (e *WriteError) Unwrap() error { return e.Err }

// writeFile writes value to dir/file with one open and one write(2).
// cgroup control files act on each write(2) call, so the value must go in
// a single call; we deliberately bypass os.File to avoid the poller
// registration it attempts on every open (this is on the container start
// hot path). O_NOFOLLOW: cgroupfs never has symlinks, so one is an attack.
func writeFile(dir, file, value string) error {
	path := filepath.Join(dir, file)
	fd, err := openRetry(path, unix.O_WRONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW)
	if err != nil {
		return &WriteError{Dir: dir, File: file, Value: value, Err: err}
	}
	defer unix.Close(fd)
	buf := []byte(value)
	for {
		_, err = unix.Write(fd, buf)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return &WriteError{Dir: dir, File: file, Value: value, Err: err}
	}
	return nil
}

func openRetry(path string, flags int) (int, error) {
	for {
		fd, err := unix.Open(path, flags, 0)
		if err != unix.EINTR {
			return fd, err
		}
	}
}

// readFile reads a whole (small) control file. Errors name the path.
func readFile(dir, file string) (string, error) {
	path := filepath.Join(dir, file)
	fd, err := openRetry(path, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW)
	if err != nil {
		return "", fmt.Errorf("read %q: %w", path, err)
	}
	defer unix.Close(fd)
	var out bytes.Buffer
	buf := make([]byte, 4096)
	for {
		n, err := unix.Read(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("read %q: %w", path, err)
		}
		if n == 0 {
			break
		}
		out.Write(buf[:n])
	}
	return out.String(), nil
}

// readUint reads a file holding a single unsigned number; "max" maps to
// math.MaxUint64 as the kernel's notion of "no limit".
func readUint(dir, file string) (uint64, error) {
	s, err := readFile(dir, file)
	if err != nil {
		return 0, err
	}
	return parseUint(strings.TrimSpace(s), filepath.Join(dir, file))
}

func parseUint(s, what string) (uint64, error) {
	if s == "max" {
		return maxUint, nil
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		// Some v1 files report -1 (e.g. cfs_quota_us); clamp negatives to 0
		// like runc so stats never fail on them.
		if i, err2 := strconv.ParseInt(s, 10, 64); err2 == nil && i < 0 {
			return 0, nil
		}
		return 0, fmt.Errorf("parse %q from %s: %w", s, what, err)
	}
	return v, nil
}

const maxUint = ^uint64(0)

// fileExists reports whether dir/file exists; used to probe optional
// kernel features (memsw, cfs_burst, bfq) without parsing anything.
func fileExists(dir, file string) bool {
	return unix.Access(filepath.Join(dir, file), unix.F_OK) == nil
}

// isNotExist matches ENOENT wrapped anywhere in err.
func isNotExist(err error) bool { return errors.Is(err, unix.ENOENT) }
