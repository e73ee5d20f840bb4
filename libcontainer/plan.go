package libcontainer

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// Op codes of the plan, the same as nsenter/init/plan.h (held equal by
// TestPlanContractMatchesInitHeader).
const (
	opSetns = iota + 1
	opUnshare
	opTimens
	opFork
	opMount
	opRootfs
	opMknod
	opBindDev
	opSymlink
	opSyncHooks
	opHook
	opPivotRoot
	opPropagation
	opMask
	opReadonly
	opRemountRO
	opSysctl
	opHostname
	opDomainname
	opConsole
	opRlimit
	opChdir
	opIdentity
	opUmask
	opNoNewPrivs
	opAppArmor
	opLookPath
	opReady
	opWaitFifo
	opSeccomp
	opCloseFds
	opExec
	opKeyring
	opTrace
	opChroot
	opCaps
	opCgroupJoin
	// runtime-spec 1.3
	opMountAttr
	opIdmapMount
	opTmpcopyup
	opIOPrio
	opSched
	opCPUAffinity
	opPersonality
	opMempolicy
	opMax
)

// opNames name the operations in --trace output.
var opNames = map[int]string{
	opSetns: "setns", opUnshare: "unshare", opTimens: "time namespace", opFork: "fork into pid ns",
	opMount: "mounts", opRootfs: "bind rootfs", opMknod: "device nodes", opBindDev: "device binds",
	opSymlink: "symlinks", opSyncHooks: "wait for runtime hooks", opHook: "container hooks",
	opPivotRoot: "pivot_root", opPropagation: "propagation", opMask: "masked paths",
	opReadonly: "read-only paths", opRemountRO: "read-only remounts", opSysctl: "sysctls",
	opHostname: "hostname", opDomainname: "domainname", opConsole: "console", opRlimit: "rlimits",
	opChdir: "chdir", opIdentity: "user", opUmask: "umask", opNoNewPrivs: "no_new_privs",
	opAppArmor: "apparmor", opLookPath: "exec path lookup", opSeccomp: "seccomp load",
	opCloseFds: "close fds", opKeyring: "session keyring", opChroot: "chroot", opCaps: "capabilities", opCgroupJoin: "join v1 cgroups",
	opMountAttr: "recursive mount attributes", opIdmapMount: "idmapped mounts", opTmpcopyup: "tmpcopyup",
	opIOPrio: "io priority", opSched: "scheduler", opCPUAffinity: "cpu affinity", opPersonality: "personality",
	opMempolicy: "memory policy",
}

// Mount kinds: what the init creates at a mount's destination.
const (
	mountDir  = 0
	mountFile = 1
	mountAuto = 2 // the init stats the source: an earlier mount made it
)

// What else the init does around a mount (opMount's fifth integer).
const (
	mountInheritMode = 1 // tmpfs without mode=: keep the covered directory's mode
	mountOrdinaryDir = 2 // proc, sysfs: refuse a symlink or non-directory destination
)

// Sync message types between the init and its parent.
const (
	syncError   = 'E'
	syncHooks   = 'H'
	syncReady   = 'R'
	syncPid     = 'P'
	syncTrace   = 'T'
	syncSeccomp = 'S'
	syncTree    = 'M'
	syncGo      = 'G'
)

// plan is the list of operations the container's init carries out, encoded
// as nsenter reads it. The Go side makes every decision; the plan only says
// what to do.
type plan struct {
	buf []byte
	nul string // the first string given with a NUL byte: C would read it cut short
}

// add appends one operation with its integer and string arguments.
func (p *plan) add(op uint32, ints []uint64, strs ...string) {
	p.buf = binary.NativeEndian.AppendUint32(p.buf, op)
	p.buf = binary.NativeEndian.AppendUint32(p.buf, uint32(len(ints)))
	p.buf = binary.NativeEndian.AppendUint32(p.buf, uint32(len(strs)))
	for _, v := range ints {
		p.buf = binary.NativeEndian.AppendUint64(p.buf, v)
	}
	for _, s := range strs {
		// the seccomp program is binary and read by its length; every other
		// string is a C string to the init
		if p.nul == "" && op != opSeccomp && strings.IndexByte(s, 0) >= 0 {
			p.nul = s
		}
		p.buf = binary.NativeEndian.AppendUint32(p.buf, uint32(len(s)+1))
		p.buf = append(p.buf, s...)
		p.buf = append(p.buf, 0)
	}
}

// check refuses a plan that carries a string with a NUL byte: the C init
// would act on the part before it (a path "/etc/x\x00/../../dev/x" passes
// Go's checks as /dev/x and is made as /etc/x). Found by FuzzConfig.
func (p *plan) check() error {
	if p.nul != "" {
		return fmt.Errorf("%q: NUL byte in a config string", p.nul)
	}
	return nil
}

// ints is a shorthand for building an operation's integer arguments.
func ints(v ...uint64) []uint64 { return v }

// bytes returns the plan framed with its length, ready to send.
func (p *plan) bytes() []byte {
	out := binary.NativeEndian.AppendUint32(make([]byte, 0, len(p.buf)+4), uint32(len(p.buf)))
	return append(out, p.buf...)
}
