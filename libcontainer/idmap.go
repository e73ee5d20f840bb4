package libcontainer

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Idmapped bind mounts. Making a mount idmapped takes CAP_SYS_ADMIN in the
// user namespace of the filesystem (the host's), which the init, inside the
// container's user namespace, lacks. So the parent makes each one: a
// detached copy of the source (open_tree(OPEN_TREE_CLONE)), idmapped with
// mount_setattr(MOUNT_ATTR_IDMAP), sent to the init over the sync socket
// right after the plan; the init attaches it with move_mount(2) onto the
// destination it resolved inside the rootfs (opIdmapMount).

// idmapTree is one prepared idmapped bind: the fd of its detached tree.
type idmapTree struct {
	fd int
}

// idmapUserns finds the user namespace a mount's ids are mapped through:
// the container's own when the mount gives no mappings (or the same ones),
// otherwise a new one made for it. The returned fd is ours to close.
func idmapUserns(s *specs.Spec, m specs.Mount, initPid int) (int, error) {
	ownUserns := hasNamespace(s, specs.UserNamespace)
	if len(m.UIDMappings) == 0 || (ownUserns && reflect.DeepEqual(m.UIDMappings, s.Linux.UIDMappings) && reflect.DeepEqual(m.GIDMappings, s.Linux.GIDMappings)) {
		if !ownUserns {
			return -1, fmt.Errorf("idmap: no uidMappings/gidMappings on the mount and no user namespace to take them from")
		}
		path := nsPath(s, specs.UserNamespace)
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

// idmapTrees prepares the config's idmapped binds, in plan order.
func idmapTrees(b *Bundle, initPid int) (trees []idmapTree, err error) {
	s := b.Spec
	defer func() {
		if err != nil {
			closeTrees(trees)
			trees = nil
		}
	}()
	userns := hasNamespace(s, specs.UserNamespace)
	for i, m := range s.Mounts {
		if !userns && !hasIdmap(m.Options) && len(m.UIDMappings) == 0 && len(m.GIDMappings) == 0 {
			continue // the common case, without parsing the options
		}
		flags, _, _, _ := parseMountOptions(m.Options)
		e := mountExtOf(m)
		if !sendsTree(m, flags, e, userns, b.Path) {
			continue
		}
		var fd int
		if e.idmap {
			fd, err = idmapTreeOf(b, m, flags&unix.MS_REC != 0, e.idmapRecursive, initPid)
		} else {
			fd, err = bindTreeOf(b, m, flags&unix.MS_REC != 0)
		}
		if err != nil {
			return trees, fmt.Errorf("mounts[%d] (%s): %w", i, m.Destination, err)
		}
		trees = append(trees, idmapTree{fd: fd})
	}
	return trees, nil
}

func idmapTreeOf(b *Bundle, m specs.Mount, rbind, ridmap bool, initPid int) (int, error) {
	src := bindSource(b.Path, m)
	userns, err := idmapUserns(b.Spec, m, initPid)
	if err != nil {
		return -1, err
	}
	defer unix.Close(userns)
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
// init (the plan's opIdmapMount), the same answer for the plan and the
// trees: idmapped binds, and every bind of a container with a user
// namespace, whose root may not be able to reach the source.
// A source missing on the host is made by an earlier mount of the
// container (plan_rootfs.go): the init binds it by path.
func sendsTree(m specs.Mount, flags uintptr, e mountExt, userns bool, bundle string) bool {
	if !isBind(m, flags) {
		return false
	}
	if e.idmap {
		return true
	}
	if !userns || os.Geteuid() != 0 {
		// an unprivileged caller may not clone a tree of the host's mount
		// namespace; the init, root of a namespace that is the caller's
		// own, binds whatever the caller could reach, by path
		return false
	}
	_, err := os.Stat(bindSource(bundle, m))
	return err == nil
}

// bindTreeOf is a detached copy of a bind mount's source, opened by us.
func bindTreeOf(b *Bundle, m specs.Mount, rbind bool) (int, error) {
	src := bindSource(b.Path, m)
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

// sendTrees hands the trees to the init, one fd per message, in plan order.
func sendTrees(sync *os.File, trees []idmapTree) error {
	for _, t := range trees {
		if err := unix.Sendmsg(int(sync.Fd()), []byte{'F'}, unix.UnixRights(t.fd), nil, 0); err != nil {
			return fmt.Errorf("send idmapped mount to init: %w", err)
		}
	}
	return nil
}

func closeTrees(trees []idmapTree) {
	for _, t := range trees {
		unix.Close(t.fd)
	}
}
