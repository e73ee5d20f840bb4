package seccomp

import (
	"encoding/binary"
	"fmt"
	"sort"

	"github.com/opencontainers/runtime-spec/specs-go"
	libseccomp "github.com/seccomp/libseccomp-golang"
	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"
)

// The ENOSYS stub.
//
// A profile written before a syscall existed cannot mention it, so with a
// deny-by-default profile a new syscall (clone3, openat2, faccessat2...) gets
// the default action, typically EPERM. libc takes EPERM as a real answer and
// does not fall back to the old syscall it would use on an old kernel. The
// right answer is ENOSYS, "this kernel does not have it".
//
// libseccomp cannot express "every syscall number above N", so a short BPF
// prologue goes in front of libseccomp's program. For every architecture
// (audit token) in the filter it checks the syscall number against the highest
// number the profile names for that architecture (among the names libseccomp
// knows) and returns ENOSYS above it. Everything else jumps to libseccomp's
// program unchanged. Syscalls the profile does not name but that are older
// than its newest one still get the default action.
//
// One audit token can carry several syscall tables: on x86_64, x32 syscalls
// are numbered from __X32_SYSCALL_BIT; on 32-bit ARM, the ARM private
// syscalls live at 0x0f0000. Each table is a section [lo, hi) with its own
// maximum; numbers outside every known section go to libseccomp, which applies
// its own bad-arch handling.

const bpfInsnSize = 8

// Offsets in struct seccomp_data.
const (
	seccompDataNr   = 0
	seccompDataArch = 4
)

const x32SyscallBit = 0x40000000

type section struct {
	arch libseccomp.ScmpArch
	lo   uint32
	hi   uint64 // exclusive; 1<<32 for "no upper bound"
}

// archToken and the syscall-number sections each libseccomp architecture
// occupies in its audit token.
func archSection(a libseccomp.ScmpArch) (token uint32, s section, ok bool) {
	s = section{arch: a, lo: 0, hi: 1 << 32}
	switch a {
	case libseccomp.ArchAMD64:
		s.hi = x32SyscallBit
		return unix.AUDIT_ARCH_X86_64, s, true
	case libseccomp.ArchX32:
		s.lo = x32SyscallBit
		return unix.AUDIT_ARCH_X86_64, s, true
	case libseccomp.ArchX86:
		return unix.AUDIT_ARCH_I386, s, true
	case libseccomp.ArchARM:
		s.hi = 0x0f0000
		return unix.AUDIT_ARCH_ARM, s, true
	case libseccomp.ArchARM64:
		return unix.AUDIT_ARCH_AARCH64, s, true
	case libseccomp.ArchMIPS:
		return unix.AUDIT_ARCH_MIPS, s, true
	case libseccomp.ArchMIPS64:
		return unix.AUDIT_ARCH_MIPS64, s, true
	case libseccomp.ArchMIPS64N32:
		return unix.AUDIT_ARCH_MIPS64N32, s, true
	case libseccomp.ArchMIPSEL:
		return unix.AUDIT_ARCH_MIPSEL, s, true
	case libseccomp.ArchMIPSEL64:
		return unix.AUDIT_ARCH_MIPSEL64, s, true
	case libseccomp.ArchMIPSEL64N32:
		return unix.AUDIT_ARCH_MIPSEL64N32, s, true
	case libseccomp.ArchPPC:
		return unix.AUDIT_ARCH_PPC, s, true
	case libseccomp.ArchPPC64:
		return unix.AUDIT_ARCH_PPC64, s, true
	case libseccomp.ArchPPC64LE:
		return unix.AUDIT_ARCH_PPC64LE, s, true
	case libseccomp.ArchS390:
		return unix.AUDIT_ARCH_S390, s, true
	case libseccomp.ArchS390X:
		return unix.AUDIT_ARCH_S390X, s, true
	case libseccomp.ArchPARISC:
		return unix.AUDIT_ARCH_PARISC, s, true
	case libseccomp.ArchPARISC64:
		return unix.AUDIT_ARCH_PARISC64, s, true
	case libseccomp.ArchRISCV64:
		return unix.AUDIT_ARCH_RISCV64, s, true
	case libseccomp.ArchLOONGARCH64:
		return unix.AUDIT_ARCH_LOONGARCH64, s, true
	case libseccomp.ArchM68K:
		return unix.AUDIT_ARCH_M68K, s, true
	case libseccomp.ArchSH:
		return unix.AUDIT_ARCH_SHEL, s, true
	case libseccomp.ArchSHEB:
		return unix.AUDIT_ARCH_SH, s, true
	}
	return 0, s, false
}

// needsENOSYSStub: a permissive default already lets new syscalls reach the
// kernel (TRACE counts as permissive: a tracer must cope with new syscalls
// itself), and a default of ENOSYS needs no help.
func needsENOSYSStub(cfg *specs.LinuxSeccomp) bool {
	switch cfg.DefaultAction {
	case specs.ActAllow, specs.ActLog, specs.ActTrace:
		return false
	case specs.ActErrno:
		if cfg.DefaultErrnoRet != nil && *cfg.DefaultErrnoRet == uint(unix.ENOSYS) {
			return false
		}
	}
	return true
}

type sectionMax struct {
	section
	max uint32
}

// enosysStub builds the prologue for the filter's architectures.
func enosysStub(archs []libseccomp.ScmpArch, calls []specs.LinuxSyscall) ([]byte, error) {
	byToken := map[uint32][]sectionMax{}
	var tokens []uint32
	for _, a := range archs {
		token, sec, ok := archSection(a)
		if !ok {
			logrus.Debugf("seccomp: no ENOSYS stub for architecture %s", a)
			continue
		}
		max, found := uint32(0), false
		for _, c := range calls {
			for _, name := range c.Names {
				nr, err := libseccomp.GetSyscallFromNameByArch(name, a)
				// Negative numbers are libseccomp's pseudo-syscalls
				// (the name does not exist on this architecture).
				if err != nil || nr < 0 {
					continue
				}
				n := uint32(nr)
				if n < sec.lo || uint64(n) >= sec.hi {
					continue
				}
				if !found || n > max {
					max, found = n, true
				}
			}
		}
		if !found {
			logrus.Debugf("seccomp: profile names no syscall for %s, no ENOSYS stub for it", a)
			continue
		}
		if _, seen := byToken[token]; !seen {
			tokens = append(tokens, token)
		}
		byToken[token] = append(byToken[token], sectionMax{sec, max})
	}

	var p asm
	for _, token := range tokens {
		secs := byToken[token]
		// Highest section first: "nr >= lo" then selects it.
		sort.Slice(secs, func(i, j int) bool { return secs[i].lo > secs[j].lo })
		next := p.newLabel()
		toProg := p.newLabel()
		p.stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, seccompDataArch)
		p.jump(unix.BPF_JEQ, token, noLabel, next)
		p.stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, seccompDataNr)
		for _, s := range secs {
			nextSec := p.newLabel()
			if s.lo > 0 {
				p.jump(unix.BPF_JGE, s.lo, noLabel, nextSec)
			}
			if s.hi < 1<<32 {
				p.jump(unix.BPF_JGE, uint32(s.hi), toProg, noLabel)
			}
			p.jump(unix.BPF_JGT, s.max, noLabel, toProg)
			p.stmt(unix.BPF_RET|unix.BPF_K, unix.SECCOMP_RET_ERRNO|uint32(unix.ENOSYS))
			p.mark(nextSec)
		}
		// Below every section, or not in a section: libseccomp decides.
		p.mark(toProg)
		p.jumpToEnd()
		p.mark(next)
	}
	if len(p.insns) == 0 {
		return nil, nil
	}
	return p.assemble()
}

// asm is a tiny classic-BPF assembler with forward labels.
type asm struct {
	insns  []unix.SockFilter
	fixups []fixup
	labels []int // label -> instruction index
	toEnd  []int // JA instructions that jump past the stub
}

type fixup struct {
	insn   int
	jt, jf int
}

const noLabel = -1

func (p *asm) newLabel() int {
	p.labels = append(p.labels, -1)
	return len(p.labels) - 1
}

func (p *asm) mark(l int) { p.labels[l] = len(p.insns) }

func (p *asm) stmt(code uint16, k uint32) {
	p.insns = append(p.insns, unix.SockFilter{Code: code, K: k})
}

// jump emits a conditional jump; noLabel means "next instruction".
func (p *asm) jump(op uint16, k uint32, jt, jf int) {
	p.fixups = append(p.fixups, fixup{insn: len(p.insns), jt: jt, jf: jf})
	p.insns = append(p.insns, unix.SockFilter{Code: unix.BPF_JMP | op | unix.BPF_K, K: k})
}

func (p *asm) jumpToEnd() {
	p.toEnd = append(p.toEnd, len(p.insns))
	p.insns = append(p.insns, unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JA})
}

func (p *asm) assemble() ([]byte, error) {
	off := func(from, label int) (uint8, error) {
		if label == noLabel {
			return 0, nil
		}
		to := p.labels[label]
		d := to - from - 1
		if to < 0 || d < 0 || d > 255 {
			return 0, fmt.Errorf("seccomp: internal error: ENOSYS stub jump from %d to %d", from, to)
		}
		return uint8(d), nil
	}
	for _, f := range p.fixups {
		var err error
		if p.insns[f.insn].Jt, err = off(f.insn, f.jt); err != nil {
			return nil, err
		}
		if p.insns[f.insn].Jf, err = off(f.insn, f.jf); err != nil {
			return nil, err
		}
	}
	for _, i := range p.toEnd {
		p.insns[i].K = uint32(len(p.insns) - i - 1)
	}
	return encodeInsns(p.insns), nil
}

func encodeInsns(insns []unix.SockFilter) []byte {
	b := make([]byte, 0, len(insns)*bpfInsnSize)
	for _, in := range insns {
		b = binary.NativeEndian.AppendUint16(b, in.Code)
		b = append(b, in.Jt, in.Jf)
		b = binary.NativeEndian.AppendUint32(b, in.K)
	}
	return b
}

func decodeInsns(b []byte) []unix.SockFilter {
	insns := make([]unix.SockFilter, len(b)/bpfInsnSize)
	for i := range insns {
		o := i * bpfInsnSize
		insns[i] = unix.SockFilter{
			Code: binary.NativeEndian.Uint16(b[o:]),
			Jt:   b[o+2],
			Jf:   b[o+3],
			K:    binary.NativeEndian.Uint32(b[o+4:]),
		}
	}
	return insns
}
