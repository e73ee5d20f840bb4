// Package seccomp turns the runtime-spec seccomp section into a ready-to-load
// classic BPF program.
//
// casco follows "Go decides, nsenter executes": all the judgement (parsing the
// profile, resolving syscall names per architecture, generating the filter)
// happens here, in the Go parent, with libseccomp. The container's init is a
// small C interpreter that only calls
//
//	seccomp(SECCOMP_SET_MODE_FILTER, Filter.Flags, &(struct sock_fprog){len, Program})
//
// right before execve. No libseccomp call happens in the container.
//
// Whatever the loader does between seccomp(2) and execve runs under the
// filter: keep it to execve itself (and, with Notify, passing the listener fd
// on, which returns from seccomp(2) close-on-exec). no_new_privs is not part
// of the filter; the init sets it or not from process.noNewPrivileges, and
// without it loading needs CAP_SYS_ADMIN, so load before dropping caps.
package seccomp

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// Filter is a compiled seccomp profile.
type Filter struct {
	// Program is the raw struct sock_filter array (8 bytes per
	// instruction, native endian), ready for seccomp(2).
	Program []byte
	// Flags are the SECCOMP_FILTER_FLAG_* bits to pass to seccomp(2).
	// NEW_LISTENER is set when Notify is true.
	Flags uint
	// Notify is true when the profile uses SCMP_ACT_NOTIFY: the loader
	// gets a listener fd back from seccomp(2) and must hand it on.
	Notify bool
}

// Len is the number of BPF instructions in the program.
func (f *Filter) Len() int { return len(f.Program) / bpfInsnSize }

// maxInsns is the kernel's BPF_MAXINSNS.
const maxInsns = 4096

// Compile turns a runtime-spec seccomp section into a BPF program.
func Compile(cfg *specs.LinuxSeccomp) (*Filter, error) {
	if cfg == nil {
		return nil, errors.New("seccomp: no seccomp configuration")
	}
	flags, notify, err := filterFlags(cfg)
	if err != nil {
		return nil, err
	}
	prog, err := compileProgram(cfg)
	if err != nil {
		return nil, err
	}
	return &Filter{Program: prog, Flags: flags, Notify: notify}, nil
}

// compileProgram is the expensive part of Compile: libseccomp generation,
// BPF export and the ENOSYS stub. Its output depends only on the profile, the
// libseccomp version and the architecture, which is what the cache keys on.
func compileProgram(cfg *specs.LinuxSeccomp) ([]byte, error) {
	defAct, err := action(cfg.DefaultAction, cfg.DefaultErrnoRet)
	if err != nil {
		return nil, fmt.Errorf("seccomp: defaultAction: %w", err)
	}
	if cfg.DefaultAction == specs.ActNotify {
		return nil, errors.New("seccomp: defaultAction: SCMP_ACT_NOTIFY cannot be used as the default action")
	}
	if err := checkKernelAction(cfg.DefaultAction); err != nil {
		return nil, fmt.Errorf("seccomp: defaultAction: %w", err)
	}

	filter, err := libseccomp.NewFilter(defAct)
	if err != nil {
		return nil, fmt.Errorf("seccomp: creating filter: %w", err)
	}
	defer filter.Release()

	archs, err := filterArchs(filter, cfg.Architectures)
	if err != nil {
		return nil, err
	}
	// The init decides about no_new_privs, not the filter.
	if err := filter.SetNoNewPrivsBit(false); err != nil {
		return nil, fmt.Errorf("seccomp: unsetting no_new_privs: %w", err)
	}
	// The binary tree is worth it for long profiles; libseccomp <= 2.5.4
	// misbehaves with it on empty ones (runc uses the same threshold).
	if len(cfg.Syscalls) > 32 {
		if err := filter.SetOptimize(2); err != nil {
			logrus.Debugf("seccomp: binary tree optimization not available: %v", err)
		}
	}

	for i := range cfg.Syscalls {
		if err := addRule(filter, i, &cfg.Syscalls[i], defAct); err != nil {
			return nil, err
		}
	}

	prog, err := exportBPF(filter)
	if err != nil {
		return nil, err
	}

	if needsENOSYSStub(cfg) {
		stub, err := enosysStub(archs, cfg.Syscalls)
		if err != nil {
			return nil, err
		}
		prog = append(stub, prog...)
	}
	if n := len(prog) / bpfInsnSize; n > maxInsns {
		return nil, fmt.Errorf("seccomp: filter has %d BPF instructions, the kernel allows %d", n, maxInsns)
	}
	return prog, nil
}

// ruleName names a syscalls[] entry in error messages.
func ruleName(i int, names []string) string {
	var q []string
	for j, n := range names {
		if j == 3 {
			q = append(q, fmt.Sprintf("... %d names", len(names)))
			break
		}
		q = append(q, fmt.Sprintf("%q", n))
	}
	return fmt.Sprintf("syscalls[%d] (%s)", i, strings.Join(q, ", "))
}

func addRule(filter *libseccomp.ScmpFilter, i int, call *specs.LinuxSyscall, defAct libseccomp.ScmpAction) error {
	ruleErr := func(format string, a ...any) error {
		return fmt.Errorf("seccomp: %s: %s", ruleName(i, call.Names), fmt.Sprintf(format, a...))
	}
	if len(call.Names) == 0 {
		logrus.Debugf("seccomp: syscalls[%d] has no names, ignored", i)
		return nil
	}
	act, err := action(call.Action, call.ErrnoRet)
	if err != nil {
		return ruleErr("%v", err)
	}
	if call.Action == specs.ActNotify {
		for _, n := range call.Names {
			// The runtime writes to its sync pipe after the filter is
			// loaded; notifying write would deadlock it (runc refuses too).
			if n == "write" {
				return ruleErr("SCMP_ACT_NOTIFY cannot be used for the write syscall")
			}
		}
	}
	if err := checkKernelAction(call.Action); err != nil {
		return ruleErr("%v", err)
	}
	conds, err := conditions(call.Args)
	if err != nil {
		return ruleErr("%v", err)
	}
	// libseccomp refuses rules whose action is the default one; they are
	// no-ops anyway.
	if act == defAct {
		return nil
	}

	for _, name := range call.Names {
		nr, err := libseccomp.GetSyscallFromName(name)
		if err != nil {
			logrus.Debugf("seccomp: unknown syscall %q ignored (libseccomp %s)", name, libVersion())
			continue
		}
		if err := addSyscallRule(filter, nr, act, conds); err != nil {
			return ruleErr("adding rule for %q: %v", name, err)
		}
	}
	return nil
}

func addSyscallRule(filter *libseccomp.ScmpFilter, nr libseccomp.ScmpSyscall, act libseccomp.ScmpAction, conds []libseccomp.ScmpCondition) error {
	if len(conds) == 0 {
		return filter.AddRule(nr, act)
	}
	// libseccomp ANDs the conditions of one rule but cannot compare the
	// same argument twice in a rule. Like runc, a profile that does gets
	// one rule per condition (that is, the conditions are ORed).
	seen := map[uint]bool{}
	dup := false
	for _, c := range conds {
		if seen[c.Argument] {
			dup = true
		}
		seen[c.Argument] = true
	}
	if !dup {
		return filter.AddRuleConditional(nr, act, conds)
	}
	for _, c := range conds {
		if err := filter.AddRuleConditional(nr, act, []libseccomp.ScmpCondition{c}); err != nil {
			return err
		}
	}
	return nil
}

var operators = map[specs.LinuxSeccompOperator]libseccomp.ScmpCompareOp{
	specs.OpNotEqual:     libseccomp.CompareNotEqual,
	specs.OpLessThan:     libseccomp.CompareLess,
	specs.OpLessEqual:    libseccomp.CompareLessOrEqual,
	specs.OpEqualTo:      libseccomp.CompareEqual,
	specs.OpGreaterEqual: libseccomp.CompareGreaterEqual,
	specs.OpGreaterThan:  libseccomp.CompareGreater,
	specs.OpMaskedEqual:  libseccomp.CompareMaskedEqual,
}

func conditions(args []specs.LinuxSeccompArg) ([]libseccomp.ScmpCondition, error) {
	if len(args) > 6 {
		return nil, fmt.Errorf("%d argument conditions, at most 6 are possible", len(args))
	}
	var conds []libseccomp.ScmpCondition
	for j, a := range args {
		if a.Index > 5 {
			return nil, fmt.Errorf("args[%d]: index %d out of range (0-5)", j, a.Index)
		}
		op, ok := operators[a.Op]
		if !ok {
			return nil, fmt.Errorf("args[%d]: unknown operator %q", j, a.Op)
		}
		var c libseccomp.ScmpCondition
		var err error
		if op == libseccomp.CompareMaskedEqual {
			// value is the mask, valueTwo the datum: (arg & value) == valueTwo.
			c, err = libseccomp.MakeCondition(a.Index, op, a.Value, a.ValueTwo)
		} else {
			c, err = libseccomp.MakeCondition(a.Index, op, a.Value)
		}
		if err != nil {
			return nil, fmt.Errorf("args[%d]: %w", j, err)
		}
		conds = append(conds, c)
	}
	return conds, nil
}

// action converts a spec action and its optional errnoRet.
func action(act specs.LinuxSeccompAction, errnoRet *uint) (libseccomp.ScmpAction, error) {
	retCode := func(a libseccomp.ScmpAction) (libseccomp.ScmpAction, error) {
		if errnoRet == nil {
			return a.SetReturnCode(int16(unix.EPERM)), nil
		}
		if *errnoRet > 0xffff {
			return libseccomp.ActInvalid, fmt.Errorf("errnoRet %d out of range (0-65535)", *errnoRet)
		}
		return a.SetReturnCode(int16(uint16(*errnoRet))), nil
	}
	switch act {
	case specs.ActErrno:
		return retCode(libseccomp.ActErrno)
	case specs.ActTrace:
		return retCode(libseccomp.ActTrace)
	}
	if errnoRet != nil {
		if _, known := simpleActions[act]; known {
			return libseccomp.ActInvalid, fmt.Errorf("errnoRet is only valid with SCMP_ACT_ERRNO and SCMP_ACT_TRACE, not %s", act)
		}
	}
	a, ok := simpleActions[act]
	if !ok {
		return libseccomp.ActInvalid, fmt.Errorf("unknown action %q", act)
	}
	return a, nil
}

var simpleActions = map[specs.LinuxSeccompAction]libseccomp.ScmpAction{
	// SCMP_ACT_KILL is libseccomp's historical name for KILL_THREAD.
	specs.ActKill:        libseccomp.ActKillThread,
	specs.ActKillThread:  libseccomp.ActKillThread,
	specs.ActKillProcess: libseccomp.ActKillProcess,
	specs.ActTrap:        libseccomp.ActTrap,
	specs.ActAllow:       libseccomp.ActAllow,
	specs.ActLog:         libseccomp.ActLog,
	specs.ActNotify:      libseccomp.ActNotify,
}

// filterArchs adds the profile's architectures to the filter and returns all
// the architectures the filter covers (the native one first).
func filterArchs(filter *libseccomp.ScmpFilter, names []specs.Arch) ([]libseccomp.ScmpArch, error) {
	native, err := libseccomp.GetNativeArch()
	if err != nil {
		return nil, fmt.Errorf("seccomp: native architecture: %w", err)
	}
	archs := []libseccomp.ScmpArch{native}
	for i, name := range names {
		a, ok := archByName[name]
		if !ok {
			return nil, fmt.Errorf("seccomp: architectures[%d]: unknown architecture %q", i, name)
		}
		if err := filter.AddArch(a); err != nil {
			if errors.Is(err, unix.EEXIST) || a == native {
				continue
			}
			present, _ := filter.IsArchPresent(a)
			if present {
				continue
			}
			if errors.Is(err, unix.EDOM) {
				// libseccomp cannot mix endiannesses in one filter.
				err = errors.New("its byte order differs from the native architecture's")
			}
			return nil, fmt.Errorf("seccomp: architectures[%d]: cannot add %q to the filter for %s (libseccomp %s): %w", i, name, native, libVersion(), err)
		}
		dupl := false
		for _, b := range archs {
			dupl = dupl || a == b
		}
		if !dupl {
			archs = append(archs, a)
		}
	}
	return archs, nil
}

var archByName = map[specs.Arch]libseccomp.ScmpArch{
	specs.ArchX86:         libseccomp.ArchX86,
	specs.ArchX86_64:      libseccomp.ArchAMD64,
	specs.ArchX32:         libseccomp.ArchX32,
	specs.ArchARM:         libseccomp.ArchARM,
	specs.ArchAARCH64:     libseccomp.ArchARM64,
	specs.ArchMIPS:        libseccomp.ArchMIPS,
	specs.ArchMIPS64:      libseccomp.ArchMIPS64,
	specs.ArchMIPS64N32:   libseccomp.ArchMIPS64N32,
	specs.ArchMIPSEL:      libseccomp.ArchMIPSEL,
	specs.ArchMIPSEL64:    libseccomp.ArchMIPSEL64,
	specs.ArchMIPSEL64N32: libseccomp.ArchMIPSEL64N32,
	specs.ArchPPC:         libseccomp.ArchPPC,
	specs.ArchPPC64:       libseccomp.ArchPPC64,
	specs.ArchPPC64LE:     libseccomp.ArchPPC64LE,
	specs.ArchS390:        libseccomp.ArchS390,
	specs.ArchS390X:       libseccomp.ArchS390X,
	specs.ArchPARISC:      libseccomp.ArchPARISC,
	specs.ArchPARISC64:    libseccomp.ArchPARISC64,
	specs.ArchRISCV64:     libseccomp.ArchRISCV64,
	specs.ArchLOONGARCH64: libseccomp.ArchLOONGARCH64,
	specs.ArchM68K:        libseccomp.ArchM68K,
	specs.ArchSH:          libseccomp.ArchSH,
	specs.ArchSHEB:        libseccomp.ArchSHEB,
}

// exportBPF has libseccomp write the program into a memfd and reads it back
// (seccomp_export_bpf_mem needs libseccomp 2.6).
func exportBPF(filter *libseccomp.ScmpFilter) ([]byte, error) {
	fd, err := unix.MemfdCreate("casco-seccomp", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("seccomp: memfd_create: %w", err)
	}
	f := os.NewFile(uintptr(fd), "casco-seccomp")
	defer f.Close()
	if err := filter.ExportBPF(f); err != nil {
		return nil, fmt.Errorf("seccomp: exporting BPF: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("seccomp: reading BPF: %w", err)
	}
	prog, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("seccomp: reading BPF: %w", err)
	}
	if len(prog) == 0 || len(prog)%bpfInsnSize != 0 {
		return nil, fmt.Errorf("seccomp: libseccomp exported %d bytes, not a BPF program", len(prog))
	}
	return prog, nil
}

func libVersion() string {
	maj, min, mic := libseccomp.GetLibraryVersion()
	return fmt.Sprintf("%d.%d.%d", maj, min, mic)
}

// UnknownSyscall is the first syscall name in the profile that libseccomp
// does not know ("" for none): Compile skips such a rule, as runc does,
// and a caller that wants it refused asks here first.
func UnknownSyscall(cfg *specs.LinuxSeccomp) string {
	if cfg == nil {
		return ""
	}
	for _, call := range cfg.Syscalls {
		for _, name := range call.Names {
			if _, err := libseccomp.GetSyscallFromName(name); err != nil {
				return name
			}
		}
	}
	return ""
}

// Raw makes a Filter of a BPF program compiled elsewhere (crun's
// run.oci.seccomp_bpf_data), in place of a profile: cfg, when given,
// contributes only its flags. The program must be whole instructions,
// at least one and at most the kernel's BPF_MAXINSNS; the kernel checks
// the rest when it loads it.
func Raw(program []byte, cfg *specs.LinuxSeccomp) (*Filter, error) {
	if len(program) == 0 || len(program)%bpfInsnSize != 0 {
		return nil, fmt.Errorf("seccomp: a BPF program of %d bytes is not whole %d-byte instructions", len(program), bpfInsnSize)
	}
	if n := len(program) / bpfInsnSize; n > maxInsns {
		return nil, fmt.Errorf("seccomp: a BPF program of %d instructions is over the kernel's %d", n, maxInsns)
	}
	var flags uint
	if cfg != nil {
		var err error
		if flags, _, err = filterFlags(&specs.LinuxSeccomp{Flags: cfg.Flags}); err != nil {
			return nil, err
		}
	}
	return &Filter{Program: program, Flags: flags}, nil
}
