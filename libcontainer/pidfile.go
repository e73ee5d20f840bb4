package libcontainer

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// writePidFile writes pid to path the way an engine can trust even when
// the directory is writable by someone else: a temporary file with an
// unpredictable name, created with O_EXCL|O_NOFOLLOW (a planted symlink or
// file makes the open fail instead of redirecting root's write), then
// renamed over path. rename(2) replaces a symlink at path, never follows it.
func writePidFile(path string, pid int) error {
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("pid file %q: %w", path, err)
	}
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return fmt.Errorf("pid file %s: %w", abs, err)
	}
	dir, base := filepath.Split(abs)
	tmp := filepath.Join(dir, "."+base+"."+hex.EncodeToString(rnd[:]))
	fd, err := unix.Open(tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0644)
	if err != nil {
		return fmt.Errorf("pid file %s: %w", abs, err)
	}
	f := os.NewFile(uintptr(fd), tmp)
	_, err = f.WriteString(strconv.Itoa(pid))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, abs)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("pid file %s: %w", abs, err)
	}
	return nil
}
