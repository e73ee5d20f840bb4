package plan

import (
	"fmt"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

type mountFlag struct {
	clear bool
	flag  uintptr
}

var mountFlags = map[string]mountFlag{
	"async": {true, unix.MS_SYNCHRONOUS}, "atime": {true, unix.MS_NOATIME}, "bind": {false, unix.MS_BIND},
	"defaults": {false, 0}, "dev": {true, unix.MS_NODEV}, "diratime": {true, unix.MS_NODIRATIME},
	"dirsync": {false, unix.MS_DIRSYNC}, "exec": {true, unix.MS_NOEXEC}, "iversion": {false, unix.MS_I_VERSION},
	"lazytime": {false, unix.MS_LAZYTIME}, "loud": {true, unix.MS_SILENT}, "mand": {false, unix.MS_MANDLOCK},
	"noatime": {false, unix.MS_NOATIME}, "nodev": {false, unix.MS_NODEV}, "nodiratime": {false, unix.MS_NODIRATIME},
	"noexec": {false, unix.MS_NOEXEC}, "noiversion": {true, unix.MS_I_VERSION}, "nolazytime": {true, unix.MS_LAZYTIME},
	"nomand": {true, unix.MS_MANDLOCK}, "norelatime": {true, unix.MS_RELATIME}, "nostrictatime": {true, unix.MS_STRICTATIME},
	"nosuid": {false, unix.MS_NOSUID}, "nosymfollow": {false, unix.MS_NOSYMFOLLOW}, "rbind": {false, unix.MS_BIND | unix.MS_REC},
	"relatime": {false, unix.MS_RELATIME}, "remount": {false, unix.MS_REMOUNT}, "ro": {false, unix.MS_RDONLY},
	"rw": {true, unix.MS_RDONLY}, "silent": {false, unix.MS_SILENT}, "strictatime": {false, unix.MS_STRICTATIME},
	"suid": {true, unix.MS_NOSUID}, "symfollow": {true, unix.MS_NOSYMFOLLOW}, "sync": {false, unix.MS_SYNCHRONOUS},
}

var propagationFlags = map[string]uintptr{
	"private": unix.MS_PRIVATE, "rprivate": unix.MS_PRIVATE | unix.MS_REC,
	"shared": unix.MS_SHARED, "rshared": unix.MS_SHARED | unix.MS_REC,
	"slave": unix.MS_SLAVE, "rslave": unix.MS_SLAVE | unix.MS_REC,
	"unbindable": unix.MS_UNBINDABLE, "runbindable": unix.MS_UNBINDABLE | unix.MS_REC,
}

// ParseMountOptions splits mount options into mount(2) flags, propagation
// flags and the filesystem-specific data string.
func ParseMountOptions(opts []string) (flags, propagation uintptr, data string, err error) {
	var extra []string
	for _, o := range opts {
		if f, ok := mountFlags[o]; ok {
			if f.clear {
				flags &^= f.flag
			} else {
				flags |= f.flag
			}
			continue
		}
		if p, ok := propagationFlags[o]; ok {
			propagation |= p
			continue
		}
		switch {
		case isExtOption(o):
			// carried out by casco itself (MountExt)
		case strings.HasPrefix(o, "X-mount."), strings.HasPrefix(o, "x-"):
			// userspace-only options: nothing for the kernel
		default:
			extra = append(extra, o)
		}
	}
	return flags, propagation, strings.Join(extra, ","), nil
}

// ClearedMountFlags are the flags the options explicitly turn off ("rw",
// "suid", "dev", "exec", "atime"...), the last word winning. A bind mount
// that clears a flag its source has is remounted without it (or refused
// where the kernel locks it), as runc 1.2 does; a bind with no options
// keeps its source's flags.
func ClearedMountFlags(opts []string) uintptr {
	var cleared uintptr
	for _, o := range opts {
		if f, ok := mountFlags[o]; ok {
			if f.clear {
				cleared |= f.flag
			} else {
				cleared &^= f.flag
			}
		}
	}
	return cleared
}

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

// MountExt is what a mount asks for beyond mount(2): recursive attributes,
// a copy-up of the destination into a tmpfs, an idmapped bind.
type MountExt struct {
	AttrSet, AttrClr uint64
	Recursive        bool // some recursive attribute was given
	Tmpcopyup        bool
	Idmap            bool // idmap or ridmap
	IdmapRecursive   bool // ridmap: every mount of an rbind, not only its top
}

// extOptions are the mount options that are neither mount(2) flags nor
// propagation, and that casco carries out itself; true once implemented.
var extOptions = map[string]bool{"tmpcopyup": true, "idmap": true, "ridmap": true}

func isExtOption(o string) bool {
	_, rec := recursiveAttrs[o]
	_, ext := extOptions[o]
	return rec || ext
}

// MountExtOf is what a mount asks for beyond mount(2). Mappings without
// the idmap or ridmap option idmap the bind all the same (non-recursively),
// as runc does: the spec only says the option SHOULD be there, and
// containerd 2.x leaves it out on a user-namespaced pod's mounts.
func MountExtOf(m specs.Mount) MountExt {
	e := ParseMountExt(m.Options)
	if len(m.UIDMappings) > 0 || len(m.GIDMappings) > 0 {
		e.Idmap = true
	}
	return e
}

// ParseMountExt picks the options ParseMountOptions leaves to casco, later
// options overriding earlier ones as with mount(8).
func ParseMountExt(opts []string) MountExt {
	var e MountExt
	for _, o := range opts {
		if o == "" || (o[0] != 'r' && o[0] != 't' && o[0] != 'i') {
			continue // the common case: no map lookups on the start path
		}
		if a, ok := recursiveAttrs[o]; ok {
			e.Recursive = true
			switch {
			case a.atime:
				e.AttrSet = e.AttrSet&^unix.MOUNT_ATTR__ATIME | a.attr
				e.AttrClr |= unix.MOUNT_ATTR__ATIME
			case a.clear:
				e.AttrClr |= a.attr
				e.AttrSet &^= a.attr
			default:
				e.AttrSet |= a.attr
				e.AttrClr &^= a.attr
			}
			continue
		}
		switch o {
		case "tmpcopyup":
			e.Tmpcopyup = true
		case "idmap":
			e.Idmap = true
		case "ridmap":
			e.Idmap, e.IdmapRecursive = true, true
		}
	}
	return e
}

// HasIdmap says whether a mount asks for an idmapped bind, cheaply.
func HasIdmap(opts []string) bool {
	for _, o := range opts {
		if o == "idmap" || o == "ridmap" {
			return true
		}
	}
	return false
}

// IsBind says whether a mount is a bind mount, by type or by option.
func IsBind(m specs.Mount, flags uintptr) bool {
	return flags&unix.MS_BIND != 0 || m.Type == "bind"
}

// CheckMountKind refuses an option no mount of this kind can take: the
// kernel would ignore it silently (filesystem options on a bind, which has
// no filesystem of its own) or casco has nothing to do with it.
func CheckMountKind(m specs.Mount) error {
	flags, _, data, err := ParseMountOptions(m.Options)
	if err != nil {
		return err
	}
	e := MountExtOf(m)
	bind := IsBind(m, flags)
	switch {
	case bind && data != "":
		return fmt.Errorf("option %q: a bind mount takes no filesystem options (only mount flags, propagation and recursive attributes)", data)
	case e.Tmpcopyup && m.Type != "tmpfs":
		return fmt.Errorf("option \"tmpcopyup\" needs a tmpfs mount, not %q", m.Type)
	case e.Idmap && !bind:
		return fmt.Errorf("idmap (option or uidMappings/gidMappings): only bind mounts can be idmapped")
	case len(m.UIDMappings) > 0 != (len(m.GIDMappings) > 0):
		return fmt.Errorf("uidMappings and gidMappings must be given together")
	}
	return nil
}

// HasOption reports whether a mount data string sets key (key=value).
func HasOption(data, key string) bool {
	for _, o := range strings.Split(data, ",") {
		if k, _, _ := strings.Cut(o, "="); k == key {
			return true
		}
	}
	return false
}

// PropagationFlag is the mount propagation a rootfsPropagation or mount
// option names, if it names one.
func PropagationFlag(name string) (uintptr, bool) {
	f, ok := propagationFlags[name]
	return f, ok
}

// ClearsFlag reports whether a mount option turns a flag off (rw, suid, dev...).
func ClearsFlag(o string) bool {
	return mountFlags[o].clear
}

// OptionNames lists every mount option casco carries out: the mount(2)
// flags and propagations, and with mountSetattr (a kernel with
// mount_setattr(2)) the recursive attributes and the options casco
// implements itself. These are the tables ParseMountOptions reads.
func OptionNames(mountSetattr bool) []string {
	var opts []string
	for o := range mountFlags {
		opts = append(opts, o)
	}
	for o := range propagationFlags {
		opts = append(opts, o)
	}
	if mountSetattr {
		for o := range recursiveAttrs {
			opts = append(opts, o)
		}
		for o, done := range extOptions {
			if done {
				opts = append(opts, o)
			}
		}
	}
	sort.Strings(opts)
	return opts
}
