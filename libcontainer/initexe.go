package libcontainer

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/nsenter"
)

// initExe returns the file the container's init is executed from: a sealed
// in-memory copy of casco-init (~100 KB, a copy costs microseconds).
//
// CVE-2019-5736: an init executed from a file on the host would let the
// container reach that file through /proc/<pid>/exe and, once the init has
// exec'd, reopen it for writing. A memfd sealed against writes and resizes
// is nobody's file: there is nothing to overwrite. And since the init is not
// casco itself, the host's casco binary is never the exe of anything in the
// container.
func initExe() (*os.File, error) {
	image, err := nsenter.Init()
	if err != nil {
		return nil, err
	}
	fd, err := memfdExec("casco-init")
	if err != nil {
		return nil, fmt.Errorf("container init: memfd_create: %w", err)
	}
	mem := os.NewFile(uintptr(fd), "casco-init")
	if _, err := mem.Write(image); err != nil {
		mem.Close()
		return nil, fmt.Errorf("container init: write memfd: %w", err)
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(mem.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		mem.Close()
		return nil, fmt.Errorf("container init: seal memfd: %w", err)
	}
	return mem, nil
}

// memfdExec creates a sealable memfd that may be executed. Kernels since
// 6.3 want that said (MFD_EXEC), and with vm.memfd_noexec=1 seal memfds
// that don't say it against exec; older kernels refuse the flag (EINVAL).
// vm.memfd_noexec=2 forbids executable memfds altogether (EACCES).
func memfdExec(name string) (int, error) {
	flags := unix.MFD_CLOEXEC | unix.MFD_ALLOW_SEALING
	fd, err := unix.MemfdCreate(name, flags|unix.MFD_EXEC)
	if err == unix.EINVAL {
		fd, err = unix.MemfdCreate(name, flags)
	}
	if err == unix.EACCES {
		return -1, fmt.Errorf("%w (vm.memfd_noexec=2 forbids executable memfds)", err)
	}
	return fd, err
}
