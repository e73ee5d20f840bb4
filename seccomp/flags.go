package seccomp

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// FlagTsync is the runtime-spec name of SECCOMP_FILTER_FLAG_TSYNC (the spec
// package has no constant for it).
const FlagTsync specs.LinuxSeccompFlag = "SECCOMP_FILTER_FLAG_TSYNC"

// knownFlags maps the spec's flag names to the seccomp(2) bits. The loader
// passes these bits to the kernel itself, so a flag is usable whenever the
// kernel has it, whatever libseccomp version compiled the program.
var knownFlags = map[specs.LinuxSeccompFlag]uint{
	FlagTsync:                              unix.SECCOMP_FILTER_FLAG_TSYNC,
	specs.LinuxSeccompFlagLog:              unix.SECCOMP_FILTER_FLAG_LOG,
	specs.LinuxSeccompFlagSpecAllow:        unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW,
	specs.LinuxSeccompFlagWaitKillableRecv: unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
}

// filterFlags computes the seccomp(2) flags for a profile and whether it uses
// SCMP_ACT_NOTIFY.
func filterFlags(cfg *specs.LinuxSeccomp) (uint, bool, error) {
	notify := false
	for _, s := range cfg.Syscalls {
		if s.Action == specs.ActNotify {
			notify = true
		}
	}
	var flags uint
	if cfg.Flags == nil && kernelHasFlag(unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW) {
		// No flags given, not even an empty list: as runc (1.1 and later),
		// the filter does not also force the kernel's speculative store
		// bypass mitigation on the container.
		flags |= unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW
	}
	for i, name := range cfg.Flags {
		bit, ok := knownFlags[name]
		if !ok {
			return 0, false, fmt.Errorf("seccomp: flags[%d]: unknown flag %q", i, name)
		}
		if !kernelHasFlag(bit) {
			return 0, false, fmt.Errorf("seccomp: flags[%d]: %s is not supported by this kernel", i, name)
		}
		if bit == unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV && !notify {
			// The kernel refuses it without a listener; like libseccomp,
			// only pass it when there is one.
			continue
		}
		flags |= bit
	}
	if notify {
		flags |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
		// TSYNC and NEW_LISTENER together need TSYNC_ESRCH (Linux 5.7),
		// otherwise the kernel could not say which thread failed.
		if flags&unix.SECCOMP_FILTER_FLAG_TSYNC != 0 {
			if !kernelHasFlag(unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH) {
				return 0, false, errors.New("seccomp: SECCOMP_FILTER_FLAG_TSYNC with SCMP_ACT_NOTIFY needs SECCOMP_FILTER_FLAG_TSYNC_ESRCH, not supported by this kernel")
			}
			flags |= unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH
		}
	}
	return flags, notify, nil
}

// FlagNames names the SECCOMP_FILTER_FLAG_* bits of flags, for logs:
// "SPEC_ALLOW|LOG", "none" for 0.
func FlagNames(flags uint) string {
	var names []string
	for _, f := range []struct {
		bit  uint
		name string
	}{
		{unix.SECCOMP_FILTER_FLAG_TSYNC, "TSYNC"},
		{unix.SECCOMP_FILTER_FLAG_LOG, "LOG"},
		{unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW, "SPEC_ALLOW"},
		{unix.SECCOMP_FILTER_FLAG_NEW_LISTENER, "NEW_LISTENER"},
		{unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH, "TSYNC_ESRCH"},
		{unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, "WAIT_KILLABLE_RECV"},
	} {
		if flags&f.bit != 0 {
			names = append(names, f.name)
			flags &^= f.bit
		}
	}
	if flags != 0 {
		names = append(names, fmt.Sprintf("%#x", flags))
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, "|")
}

var (
	flagProbeOnce sync.Once
	flagProbe     map[uint]bool
)

// kernelHasFlag reports whether seccomp(2) knows a filter flag. The kernel
// validates the flags before it reads the program, so a NULL program fails
// with EFAULT for known flags and EINVAL for unknown ones; nothing is loaded.
func kernelHasFlag(bit uint) bool {
	flagProbeOnce.Do(func() {
		flagProbe = map[uint]bool{}
		for _, b := range []uint{
			unix.SECCOMP_FILTER_FLAG_TSYNC,
			unix.SECCOMP_FILTER_FLAG_LOG,
			unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW,
			unix.SECCOMP_FILTER_FLAG_NEW_LISTENER,
			unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH,
			unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
		} {
			probe := b
			switch b {
			case unix.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV:
				probe |= unix.SECCOMP_FILTER_FLAG_NEW_LISTENER
			case unix.SECCOMP_FILTER_FLAG_TSYNC_ESRCH:
				probe |= unix.SECCOMP_FILTER_FLAG_TSYNC
			}
			_, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(probe), 0)
			flagProbe[b] = errno == unix.EFAULT
		}
	})
	return flagProbe[bit]
}

var kernelRet = map[specs.LinuxSeccompAction]uint32{
	specs.ActKill:        unix.SECCOMP_RET_KILL_THREAD,
	specs.ActKillThread:  unix.SECCOMP_RET_KILL_THREAD,
	specs.ActKillProcess: unix.SECCOMP_RET_KILL_PROCESS,
	specs.ActTrap:        unix.SECCOMP_RET_TRAP,
	specs.ActErrno:       unix.SECCOMP_RET_ERRNO,
	specs.ActTrace:       unix.SECCOMP_RET_TRACE,
	specs.ActAllow:       unix.SECCOMP_RET_ALLOW,
	specs.ActLog:         unix.SECCOMP_RET_LOG,
	specs.ActNotify:      unix.SECCOMP_RET_USER_NOTIF,
}

var actionAvail sync.Map // SECCOMP_RET_* -> bool

// checkKernelAction fails for an action the running kernel does not have
// (SECCOMP_GET_ACTION_AVAIL), with a clearer message than libseccomp's.
func checkKernelAction(act specs.LinuxSeccompAction) error {
	ret, ok := kernelRet[act]
	if !ok {
		return nil
	}
	if v, ok := actionAvail.Load(ret); ok {
		if !v.(bool) {
			return fmt.Errorf("%s is not supported by this kernel", act)
		}
		return nil
	}
	r := ret
	_, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_GET_ACTION_AVAIL, 0, uintptr(unsafe.Pointer(&r)))
	// EPERM and friends (we run under a filter that hides seccomp(2)):
	// leave the verdict to libseccomp.
	avail := errno != unix.EOPNOTSUPP
	actionAvail.Store(ret, avail)
	if !avail {
		return fmt.Errorf("%s is not supported by this kernel", act)
	}
	return nil
}
