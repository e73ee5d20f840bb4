package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/libcontainer/plan"
)

// Idmapped bind mounts. Making a mount idmapped takes CAP_SYS_ADMIN in the
// user namespace of the filesystem (the host's), which the init, inside the
// container's user namespace, lacks. So the parent makes each one: a
// detached copy of the source (open_tree(OPEN_TREE_CLONE)), idmapped with
// mount_setattr(MOUNT_ATTR_IDMAP), sent to the init over the sync socket
// right after the plan; the init attaches it with move_mount(2) onto the
// destination it resolved inside the rootfs (plan.OpIdmapMount).

// idmapTree is one prepared idmapped bind: the fd of its detached tree.
type idmapTree struct {
	fd int
}

// idmapUserns finds the user namespace a mount's ids are mapped through:
// the container's own when the mount gives no mappings (or the same ones),
// otherwise a new one made for it. The returned fd is ours to close.
func idmapUserns(s *specs.Spec, ns *nsPlan, m specs.Mount, initPid int) (int, error) {
	ownUserns := ns.has(specs.UserNamespace)
	if len(m.UIDMappings) == 0 || (ownUserns && reflect.DeepEqual(m.UIDMappings, s.Linux.UIDMappings) && reflect.DeepEqual(m.GIDMappings, s.Linux.GIDMappings)) {
		if !ownUserns {
			return -1, fmt.Errorf("idmap: no uidMappings/gidMappings on the mount and no user namespace to take them from")
		}
		path := ns.paths[specs.UserNamespace]
		if path == "" {
			path = "/proc/" + strconv.Itoa(initPid) + "/ns/user"
		}
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return -1, fmt.Errorf("idmap: open user namespace %s: %w", path, err)
		}
		return fd, nil
	}
	return newUserns(m.UIDMappings, m.GIDMappings)
}

// newUserns makes a user namespace with the given mappings: casco-init,
// started into a new one, holds it until its stdin closes.
func newUserns(uids, gids []specs.LinuxIDMapping) (int, error) {
	exe, err := initExe()
	if err != nil {
		return -1, err
	}
	defer exe.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return -1, err
	}
	defer r.Close()
	defer w.Close()
	pid, err := syscall.ForkExec("/proc/self/fd/1", []string{"casco-init"}, &syscall.ProcAttr{
		Env:   []string{"_CASCO_HOLD=1"},
		Files: []uintptr{r.Fd(), exe.Fd()},
		Sys: &syscall.SysProcAttr{
			Cloneflags:  unix.CLONE_NEWUSER,
			UidMappings: idMaps(uids),
			GidMappings: idMaps(gids),
			Pdeathsig:   syscall.SIGKILL,
		},
	})
	if err != nil {
		return -1, fmt.Errorf("idmap: user namespace for the mount's mappings: %w", err)
	}
	fd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/ns/user", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	w.Close() // the holder exits: the namespace lives on through fd
	var ws syscall.WaitStatus
	for {
		if _, werr := syscall.Wait4(pid, &ws, 0, nil); werr != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return -1, fmt.Errorf("idmap: open user namespace of %d: %w", pid, err)
	}
	return fd, nil
}

// treeMaker opens the trees of the binds the plan attaches with
// OpIdmapMount, one each time the init asks (SyncTree), in plan order.
// It opens each source in the init's mount namespace as the init has it
// then, with our (the host's root's) credentials, as runc's mount source
// thread: a source that the config's earlier mounts made, or changed
// (a path under the rootfs bound over), is the container's, not the host's.
type treeMaker struct {
	b      *Bundle
	ns     *nsPlan
	mounts []specs.Mount // the binds sendsTree picks, in plan order
}

func newTreeMaker(b *Bundle, ns *nsPlan) *treeMaker {
	tm := &treeMaker{b: b, ns: ns}
	userns := ns.has(specs.UserNamespace)
	for _, m := range b.Spec.Mounts {
		if !userns && !plan.HasIdmap(m.Options) && len(m.UIDMappings) == 0 && len(m.GIDMappings) == 0 {
			continue // the common case, without parsing the options
		}
		flags, _, _, _ := plan.ParseMountOptions(m.Options)
		if sendsTree(m, flags, plan.MountExtOf(m), userns, b.Path, b.Rootfs) {
			tm.mounts = append(tm.mounts, m)
		}
	}
	return tm
}

// send opens the next tree in the mount namespace of initPid and sends it
// to the init over sync.
func (tm *treeMaker) send(sync *os.File, initPid int) error {
	if len(tm.mounts) == 0 {
		return fmt.Errorf("init asked for a bind mount source the config does not have")
	}
	m := tm.mounts[0]
	tm.mounts = tm.mounts[1:]
	fd, err := tm.open(m, initPid)
	if err != nil {
		return fmt.Errorf("mount %s: %w", m.Destination, err)
	}
	defer unix.Close(fd)
	if err := unix.Sendmsg(int(sync.Fd()), []byte{'F'}, unix.UnixRights(fd), nil, 0); err != nil {
		return fmt.Errorf("send mount %s to init: %w", m.Destination, err)
	}
	return nil
}

func (tm *treeMaker) open(m specs.Mount, initPid int) (int, error) {
	flags, _, _, _ := plan.ParseMountOptions(m.Options)
	e := plan.MountExtOf(m)
	rbind := flags&unix.MS_REC != 0
	src := bindSource(tm.b.Path, m)
	open := func() (int, error) { return bindTreeOf(src, rbind) }
	if e.Idmap {
		userns, err := idmapUserns(tm.b.Spec, tm.ns, m, initPid)
		if err != nil {
			return -1, err
		}
		defer unix.Close(userns)
		open = func() (int, error) { return idmapTreeOf(src, rbind, e.IdmapRecursive, userns) }
	}
	fd, err := inMountNamespace(initPid, open)
	if err != nil && !underRootfs(src, tm.b.Rootfs) && (errors.Is(err, unix.EINVAL) || errors.Is(err, errJoinMountNS)) {
		// a bind that is not recursive, of a source with submounts: in
		// the container's copy of the host's mounts (a user namespace's)
		// they are locked, and the kernel refuses to clone the source
		// alone (runc fails there); or a caller the kernel does not let
		// into that namespace. A source outside the rootfs is the same
		// in ours, which the config means
		return open()
	}
	return fd, err
}

// errJoinMountNS marks a failure to enter the init's mount namespace.
var errJoinMountNS = errors.New("join the container's mount namespace")

// inMountNamespace runs open on a thread of its own that joined pid's
// mount namespace (nothing else of it), and returns what open returns. The
// thread is never unlocked: it ends with its goroutine, so no other
// goroutine runs in that namespace.
func inMountNamespace(pid int, open func() (int, error)) (int, error) {
	type result struct {
		fd  int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		ch <- func() result {
			// setns(CLONE_NEWNS) refuses a thread sharing its fs with others
			if err := unix.Unshare(unix.CLONE_FS); err != nil {
				return result{-1, fmt.Errorf("%w: unshare(CLONE_FS): %w", errJoinMountNS, err)}
			}
			path := "/proc/" + strconv.Itoa(pid) + "/ns/mnt"
			ns, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
			if err != nil {
				return result{-1, fmt.Errorf("%w: open %s: %w", errJoinMountNS, path, err)}
			}
			defer unix.Close(ns)
			if err := unix.Setns(ns, unix.CLONE_NEWNS); err != nil {
				return result{-1, fmt.Errorf("%w: %w", errJoinMountNS, err)}
			}
			fd, err := open()
			return result{fd, err}
		}()
	}()
	r := <-ch
	return r.fd, r.err
}

func idmapTreeOf(src string, rbind, ridmap bool, userns int) (int, error) {
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	if rbind || ridmap {
		flags |= unix.AT_RECURSIVE
	}
	tree, err := unix.OpenTree(unix.AT_FDCWD, src, flags)
	if err != nil {
		return -1, fmt.Errorf("idmap: open_tree %s: %w", src, err)
	}
	setFlags := uint(unix.AT_EMPTY_PATH)
	if ridmap {
		setFlags |= unix.AT_RECURSIVE
	}
	attr := &unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns)}
	if err := unix.MountSetattr(tree, "", setFlags, attr); err != nil {
		unix.Close(tree)
		return -1, fmt.Errorf("idmap: mount_setattr(MOUNT_ATTR_IDMAP) on %s: %w (the filesystem may not support idmapped mounts)", src, err)
	}
	return tree, nil
}

// sendsTree tells which bind mounts the parent opens and sends to the
// init (the plan's plan.OpIdmapMount), the same answer for the plan and the
// trees: idmapped binds, and every bind of a container with a user
// namespace, whose root may not be able to reach the source, that the
// host has or the rootfs may have.
// Any other source missing on the host is made by an earlier mount of the
// container (plan_rootfs.go): the init binds it by path.
func sendsTree(m specs.Mount, flags uintptr, e plan.MountExt, userns bool, bundle, rootfs string) bool {
	if !plan.IsBind(m, flags) {
		return false
	}
	if e.Idmap {
		return true
	}
	if !userns || os.Geteuid() != 0 {
		// an unprivileged caller may not clone a tree of the host's mount
		// namespace; the init, root of a namespace that is the caller's
		// own, binds whatever the caller could reach, by path
		return false
	}
	src := bindSource(bundle, m)
	if underRootfs(src, rootfs) {
		return true
	}
	_, err := os.Stat(src)
	return err == nil
}

// underRootfs reports whether a bind source names a path in the rootfs:
// one that earlier mounts of the container may make or cover.
func underRootfs(src, rootfs string) bool {
	rel, err := filepath.Rel(rootfs, filepath.Clean(src))
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// bindTreeOf is a detached copy of a bind mount's source, opened by us.
func bindTreeOf(src string, rbind bool) (int, error) {
	flags := uint(unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC)
	if rbind {
		flags |= unix.AT_RECURSIVE
	}
	tree, err := unix.OpenTree(unix.AT_FDCWD, src, flags)
	if err != nil {
		return -1, fmt.Errorf("bind: open_tree %s: %w", src, err)
	}
	return tree, nil
}

// bindSource is a bind's source on the host: relative to the bundle unless absolute.
func bindSource(bundle string, m specs.Mount) string {
	if filepath.IsAbs(m.Source) {
		return m.Source
	}
	return filepath.Join(bundle, m.Source)
}
