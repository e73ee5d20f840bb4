package libcontainer

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// exeView opens the file the container's init is executed from.
//
// CVE-2019-5736: while the init runs this binary inside the container, the
// container can reach it through /proc/<pid>/exe and, once the init has
// exec'd, reopen it for writing. Executing a read-only view of the binary
// closes that: a detached, read-only bind mount of the one file costs two
// system calls and leaves no trace in any mount table. Where the kernel or
// our privileges refuse that, fall back to a sealed in-memory copy, which
// costs a copy of the binary per start.
func exeView() (*os.File, error) {
	fd, err := unix.OpenTree(unix.AT_FDCWD, "/proc/self/exe", unix.OPEN_TREE_CLONE|unix.OPEN_TREE_CLOEXEC)
	if err == nil {
		attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_RDONLY}
		if err = unix.MountSetattr(fd, "", unix.AT_EMPTY_PATH, &attr); err == nil {
			return os.NewFile(uintptr(fd), "casco-exe"), nil
		}
		unix.Close(fd)
	}
	return sealedCopy()
}

func sealedCopy() (*os.File, error) {
	fd, err := unix.MemfdCreate("casco-exe", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return nil, fmt.Errorf("protect casco binary: memfd_create: %w", err)
	}
	mem := os.NewFile(uintptr(fd), "casco-exe")
	self, err := os.Open("/proc/self/exe")
	if err != nil {
		mem.Close()
		return nil, fmt.Errorf("protect casco binary: %w", err)
	}
	defer self.Close()
	if _, err := io.Copy(mem, self); err != nil {
		mem.Close()
		return nil, fmt.Errorf("protect casco binary: copy: %w", err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(mem.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		mem.Close()
		return nil, fmt.Errorf("protect casco binary: seal: %w", err)
	}
	return mem, nil
}
