package cgroups

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// cgroup v2 has no devices files: access is decided by an eBPF program of
// type BPF_PROG_TYPE_CGROUP_DEVICE attached to the cgroup. The kernel
// calls it with struct bpf_cgroup_dev_ctx { u32 access_type; u32 major;
// u32 minor; }, access_type = access<<16 | type, and allows the operation
// when it returns 1.

const (
	bpfDevBlock = 1 // BPF_DEVCG_DEV_BLOCK
	bpfDevChar  = 2 // BPF_DEVCG_DEV_CHAR

	bpfAccMknod = 1 // BPF_DEVCG_ACC_MKNOD
	bpfAccRead  = 2 // BPF_DEVCG_ACC_READ
	bpfAccWrite = 4 // BPF_DEVCG_ACC_WRITE
)

func accessBits(s string) int32 {
	var b int32
	for _, c := range s {
		switch c {
		case 'm':
			b |= bpfAccMknod
		case 'r':
			b |= bpfAccRead
		case 'w':
			b |= bpfAccWrite
		}
	}
	return b
}

// deviceFilter compiles the rules into the program, with v1's meaning:
// rules apply in order, a later rule overrides an earlier one, and that
// per access bit (a "deny w" after an "allow rwm" still allows r and m);
// anything no rule allows is denied.
//
// The program walks the rules from last to first, keeping in R3 the
// requested access bits not decided yet. A matching allow rule clears its
// bits (all cleared: allow); a matching deny rule that covers any
// undecided bit denies. Falling off the start of the list denies.
func deviceFilter(rules []deviceRule) asm.Instructions {
	insts := asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 0, asm.Word), // access_type
		asm.Mov.Reg32(asm.R3, asm.R2),
		asm.RSh.Imm32(asm.R3, 16),                // R3 = requested access bits
		asm.And.Imm32(asm.R2, 0xffff),            // R2 = device type
		asm.LoadMem(asm.R4, asm.R1, 4, asm.Word), // major
		asm.LoadMem(asm.R5, asm.R1, 8, asm.Word), // minor
	}
	label := func(i int) string {
		if i < 0 {
			return "deny"
		}
		return fmt.Sprintf("rule%d", i)
	}
	for i := len(rules) - 1; i >= 0; i-- {
		r := rules[i]
		next := label(i - 1)
		var block asm.Instructions
		switch r.Type {
		case 'b':
			block = append(block, asm.JNE.Imm(asm.R2, bpfDevBlock, next))
		case 'c':
			block = append(block, asm.JNE.Imm(asm.R2, bpfDevChar, next))
		}
		if r.Major >= 0 {
			block = append(block, asm.JNE.Imm(asm.R4, int32(r.Major), next))
		}
		if r.Minor >= 0 {
			block = append(block, asm.JNE.Imm(asm.R5, int32(r.Minor), next))
		}
		bits := accessBits(r.Access)
		if r.Allow {
			block = append(block,
				asm.And.Imm(asm.R3, ^bits&7),
				asm.JEq.Imm(asm.R3, 0, "allow"))
		} else {
			block = append(block,
				asm.Mov.Reg(asm.R0, asm.R3),
				asm.And.Imm(asm.R0, bits),
				asm.JNE.Imm(asm.R0, 0, "deny"))
		}
		block[0] = block[0].WithSymbol(label(i))
		insts = append(insts, block...)
	}
	return append(insts,
		asm.Mov.Imm(asm.R0, 0).WithSymbol("deny"),
		asm.Return(),
		asm.Mov.Imm(asm.R0, 1).WithSymbol("allow"),
		asm.Return(),
	)
}

// setDevicesV2 loads the filter and attaches it to the cgroup, then
// detaches whatever device programs were attached before (from an earlier
// Set). The new program goes in first with BPF_F_ALLOW_MULTI, so during
// the swap both run and the stricter answer wins: there is never a
// moment without a filter.
func setDevicesV2(dir string, r *specs.LinuxResources, rootless bool) error {
	rules, err := parseDeviceRules(r.Devices)
	if err != nil {
		return err
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         "casco_devices",
		Type:         ebpf.CGroupDevice,
		License:      "Apache",
		Instructions: deviceFilter(rules),
	})
	if err != nil {
		if rootless && isPermission(err) {
			return nil // an unprivileged user cannot mknod or open devices it may not anyway
		}
		return fmt.Errorf("load device filter for %s: %w", dir, err)
	}
	defer prog.Close()

	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open cgroup %s: %w", dir, err)
	}
	defer unix.Close(fd)

	old, err := link.QueryPrograms(link.QueryOptions{Target: fd, Attach: ebpf.AttachCGroupDevice})
	if err != nil {
		return fmt.Errorf("query device programs of %s: %w", dir, err)
	}
	attach := link.RawAttachProgramOptions{Target: fd, Program: prog, Attach: ebpf.AttachCGroupDevice, Flags: unix.BPF_F_ALLOW_MULTI}
	if err := link.RawAttachProgram(attach); err != nil {
		// Somebody attached a program without ALLOW_MULTI (the kernel then
		// refuses multi): replace it, the only other way in.
		attach.Flags = 0
		if len(old.Programs) > 1 || link.RawAttachProgram(attach) != nil {
			return fmt.Errorf("attach device filter to %s: %w", dir, err)
		}
		return nil
	}
	var errs []error
	for _, p := range old.Programs {
		if err := detachProgram(fd, p.ID); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func detachProgram(cgroupFd int, id ebpf.ProgramID) error {
	p, err := ebpf.NewProgramFromID(id)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return fmt.Errorf("open old device program %d: %w", id, err)
	}
	defer p.Close()
	err = link.RawDetachProgram(link.RawDetachProgramOptions{Target: cgroupFd, Program: p, Attach: ebpf.AttachCGroupDevice})
	if err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("detach old device program %d: %w", id, err)
	}
	return nil
}
