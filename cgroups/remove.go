package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// removeWait bounds how long removing a container's cgroups retries EBUSY:
// the kernel releases a cgroup only after its last exiting task is
// reaped, which can trail the process's death (by seconds on a loaded
// machine). The wait ends as soon as the rmdir succeeds.
const removeWait = 10 * time.Second

// removeCgroup rmdirs dir and any sub-cgroups below it (deepest first).
// Only rmdir is used: a cgroup directory's control files go with it, and
// regular files are never removed. A missing dir is success, so Destroy
// works after a create that crashed half-way. EBUSY is retried until
// deadline (see removeWait).
func removeCgroup(dir string, deadline time.Time) error {
	delay := 100 * time.Microsecond
	for {
		err := removeTree(dir)
		if err == nil || !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
			if err != nil {
				return fmt.Errorf("remove cgroup %s: %w", dir, err)
			}
			return nil
		}
		time.Sleep(delay)
		if delay < 20*time.Millisecond {
			delay *= 2
		}
	}
}

func removeTree(dir string) error {
	err := unix.Rmdir(dir)
	if err == nil || errors.Is(err, unix.ENOENT) {
		return nil
	}
	if !errors.Is(err, unix.EBUSY) && !errors.Is(err, unix.ENOTEMPTY) && !errors.Is(err, unix.EEXIST) {
		return err
	}
	// Maybe it has sub-cgroups (made by a nested runtime or systemd inside
	// the container): remove them and try again.
	ents, rerr := os.ReadDir(dir)
	if rerr != nil {
		if os.IsNotExist(rerr) {
			return nil
		}
		return err
	}
	for _, e := range ents {
		if e.IsDir() {
			if err := removeTree(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	if err := unix.Rmdir(dir); err != nil && !errors.Is(err, unix.ENOENT) {
		return err
	}
	return nil
}
