// Package plan is the Go half of the contract with casco-init (the C init
// in nsenter/init): the operations' codes and their wire format, the sync
// bytes the init and its parent exchange, and the mount option tables the
// plan's mount operations are made from. nsenter/init/plan.h is the other
// half; TestContractMatchesInitHeader holds the two equal. Which operations
// a container's init carries out is decided by libcontainer.
package plan

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// Op codes of the plan, the same as nsenter/init/plan.h (held equal by
// TestContractMatchesInitHeader).
const (
	OpSetns = iota + 1
	OpUnshare
	OpTimens
	OpFork
	OpMount
	OpRootfs
	OpMknod
	OpBindDev
	OpSymlink
	OpSyncHooks
	OpHook
	OpPivotRoot
	OpPropagation
	OpMask
	OpReadonly
	OpRemountRO
	OpSysctl
	OpHostname
	OpDomainname
	OpConsole
	OpRlimit
	OpChdir
	OpIdentity
	OpUmask
	OpNoNewPrivs
	OpAppArmor
	OpLookPath
	OpReady
	OpWaitFifo
	OpSeccomp
	OpCloseFds
	OpExec
	OpKeyring
	OpTrace
	OpChroot
	OpCaps
	OpCgroupJoin
	OpMountAttr
	OpIdmapMount
	OpTmpcopyup
	OpIOPrio
	OpSched
	OpCPUAffinity
	OpPersonality
	OpMempolicy
	OpReportAffinity
	OpMax
)

// OpNames name the operations in --trace output.
var OpNames = map[int]string{
	OpSetns: "setns", OpUnshare: "unshare", OpTimens: "time namespace", OpFork: "fork into pid ns",
	OpMount: "mounts", OpRootfs: "bind rootfs", OpMknod: "device nodes", OpBindDev: "device binds",
	OpSymlink: "symlinks", OpSyncHooks: "wait for runtime hooks", OpHook: "container hooks",
	OpPivotRoot: "pivot_root", OpPropagation: "propagation", OpMask: "masked paths",
	OpReadonly: "read-only paths", OpRemountRO: "read-only remounts", OpSysctl: "sysctls",
	OpHostname: "hostname", OpDomainname: "domainname", OpConsole: "console", OpRlimit: "rlimits",
	OpChdir: "chdir", OpIdentity: "user", OpUmask: "umask", OpNoNewPrivs: "no_new_privs",
	OpAppArmor: "apparmor", OpLookPath: "exec path lookup", OpSeccomp: "seccomp load",
	OpCloseFds: "close fds", OpKeyring: "session keyring", OpChroot: "chroot", OpCaps: "capabilities", OpCgroupJoin: "join v1 cgroups",
	OpMountAttr: "recursive mount attributes", OpIdmapMount: "idmapped mounts", OpTmpcopyup: "tmpcopyup",
	OpIOPrio: "io priority", OpSched: "scheduler", OpCPUAffinity: "cpu affinity", OpPersonality: "personality",
	OpMempolicy: "memory policy", OpReportAffinity: "report cpu affinity",
}

// Mount kinds: what the init creates at a mount's destination.
const (
	MountDir  = 0
	MountFile = 1
	MountAuto = 2 // the init stats the source: an earlier mount made it
)

// What else the init does around a mount (OpMount's fifth integer).
const (
	MountInheritMode = 1 // tmpfs without mode=: keep the covered directory's mode
	MountOrdinaryDir = 2 // proc, sysfs: refuse a symlink or non-directory destination
)

// Sync message types between the init and its parent.
const (
	SyncError    = 'E'
	SyncHooks    = 'H'
	SyncReady    = 'R'
	SyncPid      = 'P'
	SyncTrace    = 'T'
	SyncSeccomp  = 'S'
	SyncTree     = 'M'
	SyncAffinity = 'A'
	SyncGo       = 'G'
)

// Plan is the list of operations the container's init carries out, encoded
// as nsenter reads it. The Go side makes every decision; the plan only says
// what to do.
type Plan struct {
	buf []byte
	nul string // the first string given with a NUL byte: C would read it cut short
}

// Add appends one operation with its integer and string arguments.
func (p *Plan) Add(op uint32, ints []uint64, strs ...string) {
	p.buf = binary.NativeEndian.AppendUint32(p.buf, op)
	p.buf = binary.NativeEndian.AppendUint32(p.buf, uint32(len(ints)))
	p.buf = binary.NativeEndian.AppendUint32(p.buf, uint32(len(strs)))
	for _, v := range ints {
		p.buf = binary.NativeEndian.AppendUint64(p.buf, v)
	}
	for _, s := range strs {
		// the seccomp program is binary and read by its length; every other
		// string is a C string to the init
		if p.nul == "" && op != OpSeccomp && strings.IndexByte(s, 0) >= 0 {
			p.nul = s
		}
		p.buf = binary.NativeEndian.AppendUint32(p.buf, uint32(len(s)+1))
		p.buf = append(p.buf, s...)
		p.buf = append(p.buf, 0)
	}
}

// Check refuses a plan that carries a string with a NUL byte: the C init
// would act on the part before it (a path "/etc/x\x00/../../dev/x" passes
// Go's checks as /dev/x and is made as /etc/x). Found by FuzzConfig.
func (p *Plan) Check() error {
	if p.nul != "" {
		return fmt.Errorf("%q: NUL byte in a config string", p.nul)
	}
	return nil
}

// Ints is a shorthand for building an operation's integer arguments.
func Ints(v ...uint64) []uint64 { return v }

// Bytes returns the plan framed with its length, ready to send.
func (p *Plan) Bytes() []byte {
	out := binary.NativeEndian.AppendUint32(make([]byte, 0, len(p.buf)+4), uint32(len(p.buf)))
	return append(out, p.buf...)
}
