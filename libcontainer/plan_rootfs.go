package libcontainer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/cgroups"
	"github.com/casco-runtime/casco/libcontainer/plan"
)

// rootfsPlan is what the rootfs part of the plan needs to know.
type rootfsPlan struct {
	spec        *specs.Spec
	bundle      string
	rootfs      string
	newUserns   bool // devices can't be made with mknod: bind the host's
	cgroupns    bool
	cgroupPaths map[string]string
}

// defaultDevices are the nodes every container gets, as with runc.
var defaultDevices = []specs.LinuxDevice{
	{Path: "/dev/null", Type: "c", Major: 1, Minor: 3},
	{Path: "/dev/zero", Type: "c", Major: 1, Minor: 5},
	{Path: "/dev/full", Type: "c", Major: 1, Minor: 7},
	{Path: "/dev/random", Type: "c", Major: 1, Minor: 8},
	{Path: "/dev/urandom", Type: "c", Major: 1, Minor: 9},
	{Path: "/dev/tty", Type: "c", Major: 5, Minor: 0},
}

var defaultSymlinks = [][2]string{
	{"/proc/self/fd", "/dev/fd"},
	{"/proc/self/fd/0", "/dev/stdin"},
	{"/proc/self/fd/1", "/dev/stdout"},
	{"/proc/self/fd/2", "/dev/stderr"},
}

// rootfs adds everything from the root bind mount to the last device node:
// the part of the plan that runs before pivot_root.
func (p *planBuilder) rootfs(r *rootfsPlan) error {
	rootProp := uintptr(unix.MS_SLAVE | unix.MS_REC)
	if rp := r.spec.Linux.RootfsPropagation; rp != "" {
		f, ok := plan.PropagationFlag(rp)
		if !ok {
			return fmt.Errorf("linux.rootfsPropagation: unknown propagation %q", rp)
		}
		// as runc: the configured propagation from the start (shared lets
		// rshared volumes reach the host), except unbindable, which would
		// forbid binding the rootfs onto itself; it comes after pivot_root
		if f&unix.MS_UNBINDABLE == 0 {
			rootProp = f
		}
	}
	// the mount holding the rootfs: the rootfs's bind takes its
	// propagation. With no rootfsPropagation the runtime-spec names no
	// default and runc 1.5 leaves / private: so does casco.
	parentProp := uintptr(unix.MS_PRIVATE)
	if r.spec.Linux.RootfsPropagation != "" && rootProp&unix.MS_SLAVE != 0 {
		parentProp = unix.MS_SLAVE
	}
	p.Add(plan.OpRootfs, plan.Ints(uint64(rootProp), uint64(parentProp)), r.rootfs)
	devBound := false
	for i, m := range r.spec.Mounts {
		if err := p.mount(r, m); err != nil {
			return fmt.Errorf("mounts[%d] (%s): %w", i, m.Destination, err)
		}
		if filepath.Clean(m.Destination) == "/dev" && m.Type != "tmpfs" && m.Type != "devtmpfs" {
			devBound = true
		}
	}
	if !devBound {
		if err := p.devices(r); err != nil {
			return err
		}
	}
	return nil
}

func (p *planBuilder) mount(r *rootfsPlan, m specs.Mount) error {
	flags, prop, data, err := plan.ParseMountOptions(m.Options)
	if err != nil {
		return err
	}
	ext := plan.MountExtOf(m)
	if plan.IsBind(m, flags) && flags&unix.MS_REC != 0 && flags&unix.MS_RDONLY != 0 && ext.AttrClr&unix.MOUNT_ATTR_RDONLY == 0 &&
		isKernelTree(bindSource(r.bundle, m)) {
		// "ro" on an rbind makes only the top read-only (runc, and
		// Kubernetes' RecursiveReadOnly: false, which sends rro for the
		// whole tree). Below a kernel tree such as the host's /sys that
		// would leave the host's cgroup mounts writable, which no author
		// of "ro" means: there the whole tree is made read-only.
		ext.Recursive = true
		ext.AttrSet |= unix.MOUNT_ATTR_RDONLY
	}
	defer p.mountAttr(m, ext)
	switch {
	case m.Type == "cgroup" || m.Type == "cgroup2":
		return p.cgroupMount(r, m, flags)
	case plan.IsBind(m, flags):
		src := bindSource(r.bundle, m)
		kind := plan.MountDir
		st, err := os.Stat(src)
		switch {
		case err == nil && !st.IsDir():
			kind = plan.MountFile
		case errors.Is(err, os.ErrNotExist) && (!ext.Idmap || underRootfs(src, r.rootfs)):
			// as runc, which looks in the container's mount namespace: the
			// source may be made by an earlier mount of this container
			kind = plan.MountAuto
		case err != nil:
			return fmt.Errorf("bind source: %w", err)
		}
		// MS_BIND ignores every other flag: those need a remount, which
		// also clears what the options turn off
		remount := flags &^ (unix.MS_BIND | unix.MS_REC | unix.MS_REMOUNT)
		cleared := plan.ClearedMountFlags(m.Options)
		// the parent sends the tree (idmap.go): idmapped, or in a user
		// namespace opened by the host's root, who reaches sources the
		// container's root may not (containerd's 0700 state dirs), as runc's
		// mount sources
		if sendsTree(m, flags, ext, r.newUserns, r.bundle, r.rootfs) {
			// a bind the container's root made from its copy of the host's
			// mounts would have the source's flags locked by the kernel;
			// the host's tree has not: the init keeps them all the same
			locked := uint64(0)
			if !ext.Idmap {
				locked = 1
			}
			p.Add(plan.OpIdmapMount, plan.Ints(uint64(kind), uint64(remount), uint64(prop), uint64(cleared), locked), src, m.Destination)
			return nil
		}
		p.Add(plan.OpMount, plan.Ints(uint64(unix.MS_BIND|flags&unix.MS_REC), uint64(kind), uint64(remount), uint64(prop), 0, uint64(cleared)), src, m.Destination, "", "")
	case ext.Tmpcopyup:
		p.tmpcopyup(m, flags, prop, data)
	default:
		var extra, reflags uintptr
		switch m.Type {
		case "proc", "sysfs":
			// never mounted through a symlink the image put there (CVE-2019-19921)
			extra |= plan.MountOrdinaryDir
		case "tmpfs":
			if !plan.HasOption(data, "mode") {
				extra |= plan.MountInheritMode
			}
			// as runc: rw first, so mount points (and /dev's nodes) can be
			// made in it; read-only after, /dev only once its nodes exist
			if flags&unix.MS_RDONLY != 0 {
				flags &^= unix.MS_RDONLY
				if filepath.Clean(m.Destination) != "/dev" {
					reflags = flags | unix.MS_RDONLY
				}
			}
		}
		p.Add(plan.OpMount, plan.Ints(uint64(flags), plan.MountDir, uint64(reflags), uint64(prop), uint64(extra)), m.Source, m.Destination, m.Type, data)
	}
	return nil
}

// devReadonly reports whether the config mounts /dev as a read-only tmpfs,
// which is remounted read-only once its nodes and the console exist.
func devReadonly(s *specs.Spec) bool {
	ro := false
	for _, m := range s.Mounts {
		if filepath.Clean(m.Destination) != "/dev" {
			continue
		}
		flags, _, _, err := plan.ParseMountOptions(m.Options)
		ro = err == nil && m.Type == "tmpfs" && flags&unix.MS_RDONLY != 0
	}
	return ro
}

// cgroupMount shows the container its own cgroups: a cgroup2 mount in a
// cgroup namespace on v2, otherwise binds of the container's cgroup
// directories (under a tmpfs on v1), read-only unless asked otherwise.
func (p *planBuilder) cgroupMount(r *rootfsPlan, m specs.Mount, flags uintptr) error {
	if unified, ok := r.cgroupPaths[""]; ok && len(r.cgroupPaths) == 1 {
		if r.cgroupns {
			p.Add(plan.OpMount, plan.Ints(uint64(flags), plan.MountDir, 0, 0), "cgroup2", m.Destination, "cgroup2", "")
			return nil
		}
		p.Add(plan.OpMount, plan.Ints(unix.MS_BIND, plan.MountDir, uint64(flags), 0), unified, m.Destination, "", "")
		return nil
	}
	p.Add(plan.OpMount, plan.Ints(uint64(flags&^unix.MS_RDONLY), plan.MountDir, 0, 0), "tmpfs", m.Destination, "tmpfs", "mode=755")
	names := make([]string, 0, len(r.cgroupPaths))
	for ctrl, dir := range r.cgroupPaths {
		if ctrl != "" { // the cgroup2 side of a hybrid host stays out, as with runc
			names = append(names, dir)
		}
	}
	sort.Strings(names)
	for _, dir := range names {
		rel := strings.TrimPrefix(dir, cgroups.Root+"/")
		name, _, _ := strings.Cut(rel, "/")
		p.Add(plan.OpMount, plan.Ints(unix.MS_BIND, plan.MountDir, uint64(flags|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC), 0), dir, filepath.Join(m.Destination, name), "", "")
	}
	if flags&unix.MS_RDONLY != 0 {
		// the tmpfs was writable for the mount points: now read-only as
		// asked, as runc does (CVE-2023-25809: no writable /sys/fs/cgroup)
		keep := flags & (unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC)
		p.Add(plan.OpMount, plan.Ints(uint64(unix.MS_REMOUNT|unix.MS_BIND|unix.MS_RDONLY|keep), plan.MountDir, 0, 0), "", m.Destination, "", "")
	}
	return nil
}

// devices adds the default device nodes, linux.devices and /dev's symlinks.
func (p *planBuilder) devices(r *rootfsPlan) error {
	devs := append([]specs.LinuxDevice(nil), defaultDevices...)
	for _, d := range r.spec.Linux.Devices {
		devs = append(devs, d)
	}
	for _, d := range devs {
		if err := p.device(r, d); err != nil {
			return err
		}
	}
	for _, l := range defaultSymlinks {
		p.Add(plan.OpSymlink, nil, l[0], l[1])
	}
	if _, err := os.Stat("/proc/kcore"); err == nil {
		p.Add(plan.OpSymlink, nil, "/proc/kcore", "/dev/core")
	}
	p.Add(plan.OpSymlink, nil, "pts/ptmx", "/dev/ptmx")
	return nil
}

func (p *planBuilder) device(r *rootfsPlan, d specs.LinuxDevice) error {
	if !filepath.IsAbs(d.Path) || !strings.HasPrefix(filepath.Clean(d.Path), "/dev/") {
		return fmt.Errorf("linux.devices: path %q must be under /dev", d.Path)
	}
	if r.newUserns || RunningInUserNS() {
		// mknod is not allowed in a user namespace (the container's, or
		// the one casco runs in, as under rootless podman): bind the host's node
		p.Add(plan.OpBindDev, nil, d.Path, d.Path)
		return nil
	}
	var typ uint32
	switch d.Type {
	case "c", "u":
		typ = unix.S_IFCHR
	case "b":
		typ = unix.S_IFBLK
	case "p":
		typ = unix.S_IFIFO
	default:
		return fmt.Errorf("linux.devices %s: unknown type %q", d.Path, d.Type)
	}
	mode := uint32(0666)
	if d.FileMode != nil {
		mode = uint32(*d.FileMode) & 07777
	}
	var uid, gid uint32
	if d.UID != nil {
		uid = *d.UID
	}
	if d.GID != nil {
		gid = *d.GID
	}
	dev := unix.Mkdev(uint32(d.Major), uint32(d.Minor))
	p.Add(plan.OpMknod, plan.Ints(uint64(typ|mode), dev, uint64(uid), uint64(gid)), d.Path)
	return nil
}

// isKernelTree reports whether a bind source is a tree of the kernel's
// own state (sysfs, procfs, a cgroup hierarchy), whose writable submounts
// would let a container change the host. The source is the config's host
// path, not the container's.
func isKernelTree(src string) bool {
	var fs unix.Statfs_t
	if unix.Statfs(src, &fs) != nil {
		return false
	}
	switch fs.Type {
	case unix.SYSFS_MAGIC, unix.PROC_SUPER_MAGIC, unix.CGROUP_SUPER_MAGIC, unix.CGROUP2_SUPER_MAGIC:
		return true
	}
	return false
}
