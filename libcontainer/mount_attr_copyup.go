package libcontainer

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/libcontainer/plan"
)

// mountAttr adds the recursive attributes of a mount, once it is in place.
func (p *planBuilder) mountAttr(m specs.Mount, e plan.MountExt) {
	if !e.Recursive {
		return
	}
	p.Add(plan.OpMountAttr, plan.Ints(e.AttrSet, e.AttrClr, 1), m.Destination)
}

// perMountFlags are the mount(2) flags a bind remount sets on one mount.
const perMountFlags = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC |
	unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME | unix.MS_STRICTATIME | unix.MS_NOSYMFOLLOW

// tmpcopyup mounts a tmpfs over the destination and copies the image's
// tree into it: written first, made read-only (when asked) after.
func (p *planBuilder) tmpcopyup(m specs.Mount, flags, prop uintptr, data string) {
	var remount uintptr
	if flags&unix.MS_RDONLY != 0 {
		remount = flags & perMountFlags
	}
	p.Add(plan.OpTmpcopyup, plan.Ints(uint64(flags&^unix.MS_RDONLY), uint64(remount), uint64(prop)), m.Destination, data)
}
