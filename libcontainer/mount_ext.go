package libcontainer

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// recAttr is one recursive mount option: MOUNT_ATTR_* bits mount_setattr(2)
// sets or clears, with AT_RECURSIVE, on a mount and every mount below it.
type recAttr struct {
	clear bool
	attr  uint64
	atime bool // one value of the MOUNT_ATTR__ATIME field, not a bit
}

var recursiveAttrs = map[string]recAttr{
	"rro": {false, unix.MOUNT_ATTR_RDONLY, false}, "rrw": {true, unix.MOUNT_ATTR_RDONLY, false},
	"rnosuid": {false, unix.MOUNT_ATTR_NOSUID, false}, "rsuid": {true, unix.MOUNT_ATTR_NOSUID, false},
	"rnodev": {false, unix.MOUNT_ATTR_NODEV, false}, "rdev": {true, unix.MOUNT_ATTR_NODEV, false},
	"rnoexec": {false, unix.MOUNT_ATTR_NOEXEC, false}, "rexec": {true, unix.MOUNT_ATTR_NOEXEC, false},
	"rnodiratime": {false, unix.MOUNT_ATTR_NODIRATIME, false}, "rdiratime": {true, unix.MOUNT_ATTR_NODIRATIME, false},
	"rnosymfollow": {false, unix.MOUNT_ATTR_NOSYMFOLLOW, false}, "rsymfollow": {true, unix.MOUNT_ATTR_NOSYMFOLLOW, false},
	// atime is an enum in a 3-bit field: each of these picks one value.
	// Turning noatime or strictatime off means the kernel's default, relatime.
	"rnoatime": {atime: true, attr: unix.MOUNT_ATTR_NOATIME}, "rstrictatime": {atime: true, attr: unix.MOUNT_ATTR_STRICTATIME},
	"rrelatime": {atime: true, attr: unix.MOUNT_ATTR_RELATIME}, "ratime": {atime: true, attr: unix.MOUNT_ATTR_RELATIME},
	"rnorelatime": {atime: true, attr: unix.MOUNT_ATTR_RELATIME}, "rnostrictatime": {atime: true, attr: unix.MOUNT_ATTR_RELATIME},
}

// mountExt is what a mount asks for beyond mount(2): recursive attributes,
// a copy-up of the destination into a tmpfs, an idmapped bind.
type mountExt struct {
	attrSet, attrClr uint64
	recursive        bool // some recursive attribute was given
	tmpcopyup        bool
	idmap            bool // idmap or ridmap
	idmapRecursive   bool // ridmap: every mount of an rbind, not only its top
}

// extOptions are the mount options that are neither mount(2) flags nor
// propagation, and that casco carries out itself; true once implemented.
var extOptions = map[string]bool{"tmpcopyup": true, "idmap": true, "ridmap": true}

func isExtOption(o string) bool {
	_, rec := recursiveAttrs[o]
	_, ext := extOptions[o]
	return rec || ext
}

// mountExtOf is what a mount asks for beyond mount(2). Mappings without
// the idmap or ridmap option idmap the bind all the same (non-recursively),
// as runc does: the spec only says the option SHOULD be there, and
// containerd 2.x leaves it out on a user-namespaced pod's mounts.
func mountExtOf(m specs.Mount) mountExt {
	e := parseMountExt(m.Options)
	if len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0 {
		e.idmap = true
	}
	return e
}

// parseMountExt picks the options parseMountOptions leaves to casco, later
// options overriding earlier ones as with mount(8).
func parseMountExt(opts []string) mountExt {
	var e mountExt
	for _, o := range opts {
		if o == "" || (o[0] != 'r' && o[0] != 't' && o[0] != 'i') {
			continue // the common case: no map lookups on the start path
		}
		if a, ok := recursiveAttrs[o]; ok {
			e.recursive = true
			switch {
			case a.atime:
				e.attrSet = e.attrSet&^unix.MOUNT_ATTR__ATIME | a.attr
				e.attrClr |= unix.MOUNT_ATTR__ATIME
			case a.clear:
				e.attrClr |= a.attr
				e.attrSet &^= a.attr
			default:
				e.attrSet |= a.attr
				e.attrClr &^= a.attr
			}
			continue
		}
		switch o {
		case "tmpcopyup":
			e.tmpcopyup = true
		case "idmap":
			e.idmap = true
		case "ridmap":
			e.idmap, e.idmapRecursive = true, true
		}
	}
	return e
}

// hasIdmap says whether a mount asks for an idmapped bind, cheaply.
func hasIdmap(opts []string) bool {
	for _, o := range opts {
		if o == "idmap" || o == "ridmap" {
			return true
		}
	}
	return false
}

// isBind says whether a mount is a bind mount, by type or by option.
func isBind(m specs.Mount, flags uintptr) bool {
	return flags&unix.MS_BIND != 0 || m.Type == "bind"
}

// checkMountKind refuses an option no mount of this kind can take: the
// kernel would ignore it silently (filesystem options on a bind, which has
// no filesystem of its own) or casco has nothing to do with it.
func checkMountKind(m specs.Mount) error {
	flags, _, data, err := parseMountOptions(m.Options)
	if err != nil {
		return err
	}
	e := mountExtOf(m)
	bind := isBind(m, flags)
	switch {
	case bind && data != "":
		return fmt.Errorf("option %q: a bind mount takes no filesystem options (only mount flags, propagation and recursive attributes)", data)
	case e.tmpcopyup && m.Type != "tmpfs":
		return fmt.Errorf("option \"tmpcopyup\" needs a tmpfs mount, not %q", m.Type)
	case e.idmap && !bind:
		return fmt.Errorf("idmap (option or uidMappings/gidMappings): only bind mounts can be idmapped")
	case len(m.UIDMappings) > 0 != (len(m.GIDMappings) > 0):
		return fmt.Errorf("uidMappings and gidMappings must be given together")
	}
	return nil
}

// mountAttr adds the recursive attributes of a mount, once it is in place.
func (p *plan) mountAttr(m specs.Mount, e mountExt) {
	if !e.recursive {
		return
	}
	p.add(opMountAttr, ints(e.attrSet, e.attrClr, 1), m.Destination)
}

// perMountFlags are the mount(2) flags a bind remount sets on one mount.
const perMountFlags = unix.MS_RDONLY | unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC |
	unix.MS_NOATIME | unix.MS_NODIRATIME | unix.MS_RELATIME | unix.MS_STRICTATIME | unix.MS_NOSYMFOLLOW

// tmpcopyup mounts a tmpfs over the destination and copies the image's
// tree into it: written first, made read-only (when asked) after.
func (p *plan) tmpcopyup(m specs.Mount, flags, prop uintptr, data string) {
	var remount uintptr
	if flags&unix.MS_RDONLY != 0 {
		remount = flags & perMountFlags
	}
	p.add(opTmpcopyup, ints(uint64(flags&^unix.MS_RDONLY), uint64(remount), uint64(prop)), m.Destination, data)
}
