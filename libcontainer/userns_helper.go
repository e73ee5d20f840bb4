package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Several id ranges for an unprivileged caller. The kernel lets a caller
// without CAP_SETUID over its own namespace write one map line only: its
// own uid (gid) to one id. Anything more (the subordinate ranges of
// /etc/subuid, /etc/subgid) is written by the setuid helpers newuidmap and
// newgidmap (Debian's uidmap), which check those files. They need a live
// pid whose namespace is waiting for its maps, which Go's clone cannot
// give them (it writes the maps itself between clone and exec). So casco
// makes the namespace first, in a holder process (casco-init parked on
// its stdin), has the helpers map it, and the container's init joins it
// by path and creates the other namespaces in it (planNamespaces' "slow"
// path), as for any user namespace joined by path.

// usernsHolder keeps a mapped user namespace alive until the init has
// joined it.
type usernsHolder struct {
	pid  int
	hold *os.File // the holder's stdin: closing it ends the holder
}

// needsIDMapHelper: casco creates the user namespace and its maps are
// more than the caller may write itself.
func needsIDMapHelper(s *specs.Spec) bool {
	if !hasNamespace(s, specs.UserNamespace) || nsPath(s, specs.UserNamespace) != "" || os.Geteuid() == 0 {
		return false
	}
	return !ownIDOnly(s.Linux.UIDMappings, os.Geteuid()) || !ownIDOnly(s.Linux.GIDMappings, os.Getegid())
}

func ownIDOnly(m []specs.LinuxIDMapping, id int) bool {
	return len(m) == 1 && m[0].Size == 1 && int(m[0].HostID) == id
}

// mapUsernsWithHelpers makes the container's user namespace through
// newuidmap/newgidmap when needsIDMapHelper says so, and points the spec's
// user namespace at it. The caller releases the holder once the init runs.
func mapUsernsWithHelpers(s *specs.Spec) (*usernsHolder, error) {
	if !needsIDMapHelper(s) {
		return nil, nil
	}
	h, err := startHolder()
	if err != nil {
		return nil, err
	}
	if err := runIDMapHelper("newuidmap", "linux.uidMappings", h.pid, s.Linux.UIDMappings); err != nil {
		h.release()
		return nil, err
	}
	if err := runIDMapHelper("newgidmap", "linux.gidMappings", h.pid, s.Linux.GIDMappings); err != nil {
		h.release()
		return nil, err
	}
	for i, n := range s.Linux.Namespaces {
		if n.Type == specs.UserNamespace {
			s.Linux.Namespaces[i].Path = "/proc/" + strconv.Itoa(h.pid) + "/ns/user"
		}
	}
	return h, nil
}

// startHolder starts casco-init in a new, unmapped user namespace, parked
// until its stdin closes; it dies with us (Pdeathsig).
func startHolder() (*usernsHolder, error) {
	exe, err := initExe()
	if err != nil {
		return nil, err
	}
	defer exe.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	pid, err := syscall.ForkExec("/proc/self/fd/1", []string{"casco-init"}, &syscall.ProcAttr{
		Env:   []string{"_CASCO_HOLD=1"},
		Files: []uintptr{r.Fd(), exe.Fd()},
		Sys:   &syscall.SysProcAttr{Cloneflags: unix.CLONE_NEWUSER, Pdeathsig: syscall.SIGKILL},
	})
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("user namespace for newuidmap/newgidmap: %w", err)
	}
	return &usernsHolder{pid: pid, hold: w}, nil
}

// runIDMapHelper runs newuidmap or newgidmap on the holder; its own words
// (which range /etc/subuid does not grant, ...) go into the error.
func runIDMapHelper(helper, field string, pid int, m []specs.LinuxIDMapping) error {
	args := []string{strconv.Itoa(pid)}
	for _, x := range m {
		args = append(args, strconv.FormatUint(uint64(x.ContainerID), 10), strconv.FormatUint(uint64(x.HostID), 10), strconv.FormatUint(uint64(x.Size), 10))
	}
	path, err := exec.LookPath(helper)
	if err != nil {
		return fmt.Errorf("%s: %d range(s) need %s to map them as an unprivileged user (Debian package uidmap): %w", field, len(m), helper, err)
	}
	out, err := exec.Command(path, args...).CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		var ee *exec.ExitError
		if errors.As(err, &ee) && msg != "" {
			return fmt.Errorf("%s: %s %s failed: %s (are the ranges in /etc/sub%s for uid %d?)", field, helper, strings.Join(args, " "), msg, helper[3:6], os.Getuid())
		}
		return fmt.Errorf("%s: %s %s: %w", field, helper, strings.Join(args, " "), err)
	}
	return nil
}

// release ends the holder: the namespace lives on in the init.
func (h *usernsHolder) release() {
	if h == nil {
		return
	}
	h.hold.Close()
	var ws syscall.WaitStatus
	for {
		if _, err := syscall.Wait4(h.pid, &ws, 0, nil); err != syscall.EINTR {
			return
		}
	}
}
