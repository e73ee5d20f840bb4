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
func needsIDMapHelper(ns *nsPlan) bool {
	if !ns.newUser || os.Geteuid() == 0 {
		return false
	}
	return !ownIDOnly(ns.uidMaps, os.Geteuid()) || !ownIDOnly(ns.gidMaps, os.Getegid())
}

func ownIDOnly(m []specs.LinuxIDMapping, id int) bool {
	return len(m) == 1 && m[0].Size == 1 && int(m[0].HostID) == id
}

// joinsOthersByPath: the container makes its own user namespace and joins
// some other namespace by path. That namespace may not belong to the new
// user namespace (a CNI plugin's network namespace belongs to the host's):
// it can be joined only with the privileges held before entering the new
// one. runc joins the namespaces given by path before it creates its own;
// casco makes the user namespace in a holder, and the init joins them all
// by path, the user namespace last (joinNamespaces).
func joinsOthersByPath(ns *nsPlan) bool {
	return ns.newUser && ns.joinsByPath()
}

// makeUsernsHolder makes the container's user namespace in a holder when
// the maps need newuidmap/newgidmap (needsIDMapHelper) or the container
// joins other namespaces by path (joinsOthersByPath), maps it, and points
// the spec's user namespace and ns at it. The caller releases the holder
// once the init runs.
func makeUsernsHolder(s *specs.Spec, ns *nsPlan) (*usernsHolder, error) {
	helpers := needsIDMapHelper(ns)
	if !helpers && !joinsOthersByPath(ns) {
		return nil, nil
	}
	h, err := startHolder()
	if err != nil {
		return nil, err
	}
	if helpers {
		err = runIDMapHelper("newuidmap", "linux.uidMappings", h.pid, ns.uidMaps)
		if err == nil {
			err = runIDMapHelper("newgidmap", "linux.gidMappings", h.pid, ns.gidMaps)
		}
	} else {
		err = writeIDMaps(h.pid, ns)
	}
	if err != nil {
		h.release()
		return nil, err
	}
	path := "/proc/" + strconv.Itoa(h.pid) + "/ns/user"
	for i, n := range s.Linux.Namespaces {
		if n.Type == specs.UserNamespace {
			s.Linux.Namespaces[i].Path = path // as the state records the config
		}
	}
	ns.joinUserns(path)
	return h, nil
}

// writeIDMaps writes the holder's maps as Go's clone would: setgroups
// denied first where the caller may not keep it (denySetgroups).
func writeIDMaps(pid int, ns *nsPlan) error {
	dir := "/proc/" + strconv.Itoa(pid) + "/"
	if denySetgroups() {
		if err := os.WriteFile(dir+"setgroups", []byte("deny"), 0); err != nil {
			return fmt.Errorf("deny setgroups in the new user namespace: %w", err)
		}
	}
	for _, m := range []struct {
		file, field string
		maps        []specs.LinuxIDMapping
	}{{"uid_map", "linux.uidMappings", ns.uidMaps}, {"gid_map", "linux.gidMappings", ns.gidMaps}} {
		var b strings.Builder
		for _, x := range m.maps {
			fmt.Fprintf(&b, "%d %d %d\n", x.ContainerID, x.HostID, x.Size)
		}
		if err := os.WriteFile(dir+m.file, []byte(b.String()), 0); err != nil {
			return fmt.Errorf("%s: write %s: %w", m.field, m.file, err)
		}
	}
	return nil
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
		return nil, fmt.Errorf("make the container's user namespace: %w", err)
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
