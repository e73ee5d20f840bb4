package cgroups

import (
	"errors"
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The few bpf(2) commands the cgroup v2 device filter needs, called
// directly: a library for them (cilium/ebpf) brought ELF, DWARF, BTF,
// compression and Go-source parsing into every casco command, ~2 MiB of
// binary that each start faults in (measured by tests/bench).

// An eBPF instruction, as struct bpf_insn: opcode, dst (low nibble) and
// src (high nibble) registers, offset, immediate.
type bpfInsn struct {
	code uint8
	regs uint8
	off  int16
	imm  int32
}

// The opcodes the device filter uses (class | operation | source).
const (
	opLdxMemW   = unix.BPF_LDX | unix.BPF_MEM | unix.BPF_W
	opMov32Reg  = unix.BPF_ALU | unix.BPF_MOV | unix.BPF_X
	opRsh32Imm  = unix.BPF_ALU | unix.BPF_RSH | unix.BPF_K
	opAnd32Imm  = unix.BPF_ALU | unix.BPF_AND | unix.BPF_K
	opMov64Imm  = unix.BPF_ALU64 | unix.BPF_MOV | unix.BPF_K
	opMov64Reg  = unix.BPF_ALU64 | unix.BPF_MOV | unix.BPF_X
	opAnd64Imm  = unix.BPF_ALU64 | unix.BPF_AND | unix.BPF_K
	opJeqImm    = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	opJneImm    = unix.BPF_JMP | unix.BPF_JNE | unix.BPF_K
	opExit      = unix.BPF_JMP | unix.BPF_EXIT
	bpfInsnSize = 8
)

// bpfAsm assembles a program whose jumps name labels; jump offsets are
// resolved by assemble, once every label is placed.
type bpfAsm struct {
	insns  []bpfInsn
	labels map[string]int
	jumps  map[int]string // instruction index -> target label
}

func newBPFAsm() *bpfAsm {
	return &bpfAsm{labels: map[string]int{}, jumps: map[int]string{}}
}

func (a *bpfAsm) emit(code uint8, dst, src uint8, off int16, imm int32) {
	a.insns = append(a.insns, bpfInsn{code: code, regs: dst&0xf | src<<4, off: off, imm: imm})
}

// label names the next instruction.
func (a *bpfAsm) label(name string) { a.labels[name] = len(a.insns) }

// jump emits a conditional jump (reg op imm) to label.
func (a *bpfAsm) jump(code uint8, reg uint8, imm int32, label string) {
	a.jumps[len(a.insns)] = label
	a.emit(code, reg, 0, 0, imm)
}

func (a *bpfAsm) assemble() ([]bpfInsn, error) {
	for i, name := range a.jumps {
		to, ok := a.labels[name]
		if !ok {
			return nil, fmt.Errorf("bpf: jump to undefined label %q", name)
		}
		off := to - (i + 1)
		if off < 0 || off > 0x7fff {
			return nil, fmt.Errorf("bpf: jump from %d to %q (%d) out of range", i, name, to)
		}
		a.insns[i].off = int16(off)
	}
	return a.insns, nil
}

func bpfCall(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	r, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}

// The leading part of union bpf_attr each command reads; the kernel
// treats the fields after a shorter size as zero.
type progLoadAttr struct {
	progType, insnCnt   uint32
	insns, license      uint64
	logLevel, logSize   uint32
	logBuf              uint64
	kernVersion, flags  uint32
	name                [16]byte
	ifindex, attachType uint32
}

type progAttachAttr struct {
	targetFd, progFd, attachType, attachFlags uint32
}

type progQueryAttr struct {
	targetFd, attachType, queryFlags, attachFlags uint32
	progIDs                                       uint64
	progCnt                                       uint32
	_                                             uint32
}

type progGetFdAttr struct {
	id, nextID, openFlags uint32
}

// loadProgram loads a BPF_PROG_TYPE_CGROUP_DEVICE program and returns its
// fd (close-on-exec, as every bpf fd). On a refusal it loads again with
// the verifier's log, so the error says why.
func loadProgram(name string, insns []bpfInsn, license string) (int, error) {
	lic := append([]byte(license), 0)
	attr := progLoadAttr{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(len(insns)),
		insns:    uint64(uintptr(unsafe.Pointer(&insns[0]))),
		license:  uint64(uintptr(unsafe.Pointer(&lic[0]))),
	}
	copy(attr.name[:len(attr.name)-1], name)
	fd, err := bpfCall(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	if err == nil || isPermission(err) {
		runtime.KeepAlive(insns)
		runtime.KeepAlive(lic)
		return fd, err
	}
	log := make([]byte, 64<<10)
	attr.logLevel, attr.logSize = 1, uint32(len(log))
	attr.logBuf = uint64(uintptr(unsafe.Pointer(&log[0])))
	if fd, err2 := bpfCall(unix.BPF_PROG_LOAD, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err2 == nil {
		return fd, nil // loaded the second time after all
	}
	runtime.KeepAlive(insns)
	runtime.KeepAlive(lic)
	return -1, fmt.Errorf("BPF_PROG_LOAD: %w: %s", err, unix.ByteSliceToString(log))
}

// attachedPrograms lists the ids of the device programs attached to the
// cgroup directory fd.
func attachedPrograms(cgroupFd int) ([]uint32, error) {
	ids := make([]uint32, 64)
	for {
		attr := progQueryAttr{targetFd: uint32(cgroupFd), attachType: unix.BPF_CGROUP_DEVICE,
			progIDs: uint64(uintptr(unsafe.Pointer(&ids[0]))), progCnt: uint32(len(ids))}
		_, err := bpfCall(unix.BPF_PROG_QUERY, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
		runtime.KeepAlive(ids)
		if errors.Is(err, unix.ENOSPC) && attr.progCnt > uint32(len(ids)) {
			ids = make([]uint32, attr.progCnt)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("BPF_PROG_QUERY: %w", err)
		}
		return ids[:attr.progCnt], nil
	}
}

func attachProgram(cgroupFd, progFd int, flags uint32) error {
	attr := progAttachAttr{targetFd: uint32(cgroupFd), progFd: uint32(progFd), attachType: unix.BPF_CGROUP_DEVICE, attachFlags: flags}
	if _, err := bpfCall(unix.BPF_PROG_ATTACH, unsafe.Pointer(&attr), unsafe.Sizeof(attr)); err != nil {
		return fmt.Errorf("BPF_PROG_ATTACH: %w", err)
	}
	return nil
}

func detachProgramFd(cgroupFd, progFd int) error {
	attr := progAttachAttr{targetFd: uint32(cgroupFd), progFd: uint32(progFd), attachType: unix.BPF_CGROUP_DEVICE}
	_, err := bpfCall(unix.BPF_PROG_DETACH, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
	return err
}

func programFdByID(id uint32) (int, error) {
	attr := progGetFdAttr{id: id}
	return bpfCall(unix.BPF_PROG_GET_FD_BY_ID, unsafe.Pointer(&attr), unsafe.Sizeof(attr))
}
