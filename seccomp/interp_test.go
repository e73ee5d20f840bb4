package seccomp

import (
	"fmt"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// A classic-BPF interpreter for seccomp programs, to check the foreign
// architectures of a multi-arch filter (x86, x32) that this machine cannot
// easily run.

type seccompData struct {
	nr   int32
	arch uint32
	args [6]uint64
}

func (d *seccompData) word(off uint32) (uint32, error) {
	switch {
	case off == 0:
		return uint32(d.nr), nil
	case off == 4:
		return d.arch, nil
	case off >= 16 && off < 64 && off%4 == 0:
		a := d.args[(off-16)/8]
		if (off-16)%8 == 0 {
			return uint32(a), nil // little endian: low word first
		}
		return uint32(a >> 32), nil
	}
	return 0, fmt.Errorf("load at bad offset %d", off)
}

func runBPF(prog []byte, d seccompData) (uint32, error) {
	insns := decodeInsns(prog)
	var a, x uint32
	var mem [16]uint32
	for pc := 0; pc < len(insns); pc++ {
		in := insns[pc]
		var err error
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			a, err = d.word(in.K)
		case unix.BPF_LD | unix.BPF_MEM:
			a = mem[in.K]
		case unix.BPF_LDX | unix.BPF_MEM:
			x = mem[in.K]
		case unix.BPF_ST:
			mem[in.K] = a
		case unix.BPF_STX:
			mem[in.K] = x
		case unix.BPF_LD | unix.BPF_IMM:
			a = in.K
		case unix.BPF_LDX | unix.BPF_IMM:
			x = in.K
		case unix.BPF_MISC | unix.BPF_TAX:
			x = a
		case unix.BPF_MISC | unix.BPF_TXA:
			a = x
		case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
			a &= in.K
		case unix.BPF_ALU | unix.BPF_OR | unix.BPF_K:
			a |= in.K
		case unix.BPF_RET | unix.BPF_K:
			return in.K, nil
		case unix.BPF_RET | unix.BPF_A:
			return a, nil
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(in.K)
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K,
			unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K, unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K:
			var cond bool
			switch in.Code &^ (unix.BPF_JMP | unix.BPF_K) {
			case unix.BPF_JEQ:
				cond = a == in.K
			case unix.BPF_JGT:
				cond = a > in.K
			case unix.BPF_JGE:
				cond = a >= in.K
			case unix.BPF_JSET:
				cond = a&in.K != 0
			}
			if cond {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		default:
			return 0, fmt.Errorf("pc %d: unsupported instruction %#x", pc, in.Code)
		}
		if err != nil {
			return 0, fmt.Errorf("pc %d: %w", pc, err)
		}
	}
	return 0, fmt.Errorf("fell off the end of the program")
}

const (
	retAllow       = unix.SECCOMP_RET_ALLOW
	retKillThread  = unix.SECCOMP_RET_KILL_THREAD
	retKillProcess = unix.SECCOMP_RET_KILL_PROCESS
)

func retErrno(e unix.Errno) uint32 { return unix.SECCOMP_RET_ERRNO | uint32(e) }

func nrFor(t *testing.T, name string, arch libseccomp.ScmpArch) int32 {
	t.Helper()
	nr, err := libseccomp.GetSyscallFromNameByArch(name, arch)
	if err != nil || nr < 0 {
		t.Fatalf("%s on %s: %v (%d)", name, arch, err, nr)
	}
	return int32(nr)
}

// The podman/Docker arch set on x86_64: every ABI gets its own ENOSYS
// threshold, x32 is told apart from x86_64 by __X32_SYSCALL_BIT, and an
// architecture outside the filter is still killed by libseccomp's code.
func TestMultiArchStub(t *testing.T) {
	cfg := &specs.LinuxSeccomp{
		DefaultAction: specs.ActErrno,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read", "write", "getpid", "exit_group"}, Action: specs.ActAllow},
			{Names: []string{"mkdir"}, Action: specs.ActErrno, ErrnoRet: uptr(uint(unix.EXDEV))},
		},
	}
	f := mustCompile(t, cfg)
	amd64, x86, x32 := libseccomp.ArchAMD64, libseccomp.ArchX86, libseccomp.ArchX32
	type tc struct {
		arch libseccomp.ScmpArch
		name string
		want uint32
	}
	cases := []tc{
		{amd64, "getpid", retAllow},
		{amd64, "mkdir", retErrno(unix.EXDEV)},
		{amd64, "rmdir", retErrno(unix.EPERM)},
		{amd64, "openat2", retErrno(unix.ENOSYS)},
		{amd64, "clone3", retErrno(unix.ENOSYS)},
		{x86, "getpid", retAllow},
		{x86, "mkdir", retErrno(unix.EXDEV)},
		{x86, "rmdir", retErrno(unix.EPERM)},
		// exit_group is 252 on i386: older syscalls keep EPERM...
		{x86, "clone", retErrno(unix.EPERM)},
		// ...newer ones get ENOSYS.
		{x86, "clone3", retErrno(unix.ENOSYS)},
		{x86, "openat2", retErrno(unix.ENOSYS)},
		{x32, "getpid", retAllow},
		{x32, "mkdir", retErrno(unix.EXDEV)},
		{x32, "rmdir", retErrno(unix.EPERM)},
		{x32, "clone3", retErrno(unix.ENOSYS)},
	}
	audit := map[libseccomp.ScmpArch]uint32{amd64: unix.AUDIT_ARCH_X86_64, x86: unix.AUDIT_ARCH_I386, x32: unix.AUDIT_ARCH_X86_64}
	for _, c := range cases {
		nr := nrFor(t, c.name, c.arch)
		got, err := runBPF(f.Program, seccompData{nr: nr, arch: audit[c.arch]})
		if err != nil {
			t.Fatalf("%s %s: %v", c.arch, c.name, err)
		}
		if got != c.want {
			t.Errorf("%s %s (nr %#x): got %#x, want %#x", c.arch, c.name, nr, got, c.want)
		}
	}
	// An architecture the filter does not cover: libseccomp's bad-arch action.
	got, err := runBPF(f.Program, seccompData{nr: 1, arch: unix.AUDIT_ARCH_AARCH64})
	if err != nil || got != retKillThread {
		t.Errorf("aarch64: got %#x %v, want KILL_THREAD", got, err)
	}

	// Without x32 in the filter, x32 numbers are not x86_64 ones and must
	// not be let through by the stub either.
	cfg.Architectures = []specs.Arch{specs.ArchX86_64, specs.ArchX86}
	f = mustCompile(t, cfg)
	for _, name := range []string{"getpid", "clone3"} {
		got, err := runBPF(f.Program, seccompData{nr: nrFor(t, name, x32), arch: unix.AUDIT_ARCH_X86_64})
		if err != nil || got != retKillThread {
			t.Errorf("x32 %s without x32 in the filter: got %#x %v, want KILL_THREAD", name, got, err)
		}
	}
}

// The interpreter agrees with the kernel on a native program, including the
// arguments' 64-bit comparisons.
func TestInterpreterArgs(t *testing.T) {
	f := mustCompile(t, &specs.LinuxSeccomp{
		DefaultAction: specs.ActKillProcess,
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: personalityQuery, Op: specs.OpEqualTo}}},
			{Names: []string{"umask"}, Action: specs.ActErrno, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0o700, ValueTwo: 0o700, Op: specs.OpMaskedEqual}}},
			{Names: []string{"umask"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 0o700, ValueTwo: 0, Op: specs.OpMaskedEqual}}},
		},
	})
	for _, c := range []struct {
		nr   int32
		arg  uint64
		want uint32
	}{
		{unix.SYS_PERSONALITY, personalityQuery, retAllow},
		{unix.SYS_PERSONALITY, 0x1_ffffffff, retKillProcess},
		{unix.SYS_PERSONALITY, 0, retKillProcess},
		{unix.SYS_UMASK, 0o777, retErrno(unix.EPERM)},
		{unix.SYS_UMASK, 0o077, retAllow},
		{unix.SYS_UMASK, 0o377, retKillProcess},
		{unix.SYS_GETPID, 0, retKillProcess},
	} {
		got, err := runBPF(f.Program, seccompData{nr: c.nr, arch: unix.AUDIT_ARCH_X86_64, args: [6]uint64{c.arg}})
		if err != nil || got != c.want {
			t.Errorf("nr %d arg %#x: got %#x %v, want %#x", c.nr, c.arg, got, err, c.want)
		}
	}
}
