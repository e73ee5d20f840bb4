package cgroups

import (
	"errors"
	"fmt"

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
func deviceFilter(rules []deviceRule) ([]bpfInsn, error) {
	const r0, r1, r2, r3, r4, r5 = 0, 1, 2, 3, 4, 5
	a := newBPFAsm()
	a.emit(opLdxMemW, r2, r1, 0, 0) // access_type
	a.emit(opMov32Reg, r3, r2, 0, 0)
	a.emit(opRsh32Imm, r3, 0, 0, 16)     // R3 = requested access bits
	a.emit(opAnd32Imm, r2, 0, 0, 0xffff) // R2 = device type
	a.emit(opLdxMemW, r4, r1, 4, 0)      // major
	a.emit(opLdxMemW, r5, r1, 8, 0)      // minor
	label := func(i int) string {
		if i < 0 {
			return "deny"
		}
		return fmt.Sprintf("rule%d", i)
	}
	for i := len(rules) - 1; i >= 0; i-- {
		r := rules[i]
		next := label(i - 1)
		a.label(label(i))
		switch r.Type {
		case 'b':
			a.jump(opJneImm, r2, bpfDevBlock, next)
		case 'c':
			a.jump(opJneImm, r2, bpfDevChar, next)
		}
		if r.Major >= 0 {
			a.jump(opJneImm, r4, int32(r.Major), next)
		}
		if r.Minor >= 0 {
			a.jump(opJneImm, r5, int32(r.Minor), next)
		}
		bits := accessBits(r.Access)
		if r.Allow {
			a.emit(opAnd64Imm, r3, 0, 0, ^bits&7)
			a.jump(opJeqImm, r3, 0, "allow")
		} else {
			a.emit(opMov64Reg, r0, r3, 0, 0)
			a.emit(opAnd64Imm, r0, 0, 0, bits)
			a.jump(opJneImm, r0, 0, "deny")
		}
	}
	a.label("deny")
	a.emit(opMov64Imm, r0, 0, 0, 0)
	a.emit(opExit, 0, 0, 0, 0)
	a.label("allow")
	a.emit(opMov64Imm, r0, 0, 0, 1)
	a.emit(opExit, 0, 0, 0, 0)
	return a.assemble()
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
	insns, err := deviceFilter(rules)
	if err != nil {
		return err
	}
	prog, err := loadProgram("casco_devices", insns, "Apache")
	if err != nil {
		if rootless && isPermission(err) {
			return nil // an unprivileged user cannot mknod or open devices it may not anyway
		}
		return fmt.Errorf("load device filter for %s: %w", dir, err)
	}
	defer unix.Close(prog)

	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open cgroup %s: %w", dir, err)
	}
	defer unix.Close(fd)

	old, err := attachedPrograms(fd)
	if err != nil {
		return fmt.Errorf("query device programs of %s: %w", dir, err)
	}
	if err := attachProgram(fd, prog, unix.BPF_F_ALLOW_MULTI); err != nil {
		// Somebody attached a program without ALLOW_MULTI (the kernel then
		// refuses multi): replace it, the only other way in.
		if len(old) > 1 || attachProgram(fd, prog, 0) != nil {
			return fmt.Errorf("attach device filter to %s: %w", dir, err)
		}
		return nil
	}
	var errs []error
	for _, id := range old {
		if err := detachProgram(fd, id); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func detachProgram(cgroupFd int, id uint32) error {
	p, err := programFdByID(id)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return fmt.Errorf("open old device program %d: %w", id, err)
	}
	defer unix.Close(p)
	if err := detachProgramFd(cgroupFd, p); err != nil && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("detach old device program %d: %w", id, err)
	}
	return nil
}
