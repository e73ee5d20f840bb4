package cgroups

import (
	"errors"
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

const (
	v1MemLimit = "memory.limit_in_bytes"
	v1MemSwap  = "memory.memsw.limit_in_bytes"
)

func i64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func needMemory(r *specs.LinuxResources) bool {
	m := r.Memory
	if m == nil {
		return false
	}
	return i64(m.Limit) != 0 || i64(m.Reservation) != 0 || i64(m.Swap) != 0 ||
		i64(m.KernelTCP) != 0 || m.Swappiness != nil ||
		(m.DisableOOMKiller != nil && *m.DisableOOMKiller) ||
		(m.UseHierarchy != nil && *m.UseHierarchy)
}

// setMemoryV1 writes the v1 memory controller. linux.resources.memory.kernel
// is ignored, as runc does: the kernel dropped kmem limits (5.16+).
func setMemoryV1(dir string, r *specs.LinuxResources) error {
	m := r.Memory
	if err := checkBeforeUpdate(dir, "memory.usage_in_bytes", m); err != nil {
		return err
	}
	if err := setMemoryAndSwapV1(dir, i64(m.Limit), i64(m.Swap)); err != nil {
		return err
	}
	if v := i64(m.Reservation); v != 0 {
		if err := writeFile(dir, "memory.soft_limit_in_bytes", strconv.FormatInt(v, 10)); err != nil {
			return err
		}
	}
	if v := i64(m.KernelTCP); v != 0 {
		if err := writeFile(dir, "memory.kmem.tcp.limit_in_bytes", strconv.FormatInt(v, 10)); err != nil {
			return err
		}
	}
	if m.Swappiness != nil {
		if *m.Swappiness > 100 {
			return fmt.Errorf("invalid memory.swappiness %d: must be 0-100", *m.Swappiness)
		}
		if err := writeFile(dir, "memory.swappiness", strconv.FormatUint(*m.Swappiness, 10)); err != nil {
			return err
		}
	}
	if m.UseHierarchy != nil && *m.UseHierarchy {
		if err := writeFile(dir, "memory.use_hierarchy", "1"); err != nil {
			return err
		}
	}
	if m.DisableOOMKiller != nil && *m.DisableOOMKiller {
		if err := writeFile(dir, "memory.oom_control", "1"); err != nil {
			return err
		}
	}
	return nil
}

// setMemoryAndSwapV1 orders the two writes so that an update never passes
// through a state the kernel refuses (memsw must stay >= limit): raising
// swap goes first, lowering goes last — runc's rule.
func setMemoryAndSwapV1(dir string, limit, swap int64) error {
	hasSwap := fileExists(dir, v1MemSwap)
	// "memory: -1" alone means "unlimited", which for v1 needs memsw too.
	if limit == -1 && swap == 0 && hasSwap {
		swap = -1
	}
	if swap != 0 && !hasSwap {
		return fmt.Errorf("memory.swap %d requested, but swap accounting is disabled (no %s)", swap, v1MemSwap)
	}
	writeLimit := func() error {
		if limit == 0 {
			return nil
		}
		return writeFile(dir, v1MemLimit, strconv.FormatInt(limit, 10))
	}
	writeSwap := func() error {
		if swap == 0 {
			return nil
		}
		return writeFile(dir, v1MemSwap, strconv.FormatInt(swap, 10))
	}
	if limit != 0 && swap != 0 {
		cur, err := readUint(dir, v1MemLimit)
		if err != nil {
			return err
		}
		if swap == -1 || cur < uint64(swap) {
			if err := writeSwap(); err != nil {
				return err
			}
			return writeLimit()
		}
	}
	if err := writeLimit(); err != nil {
		return err
	}
	return writeSwap()
}

// checkBeforeUpdate implements memory.checkBeforeUpdate: refuse a new
// limit below current usage instead of letting the kernel reclaim or OOM.
func checkBeforeUpdate(dir, usageFile string, m *specs.LinuxMemory) error {
	if m.CheckBeforeUpdate == nil || !*m.CheckBeforeUpdate || i64(m.Limit) <= 0 {
		return nil
	}
	usage, err := readUint(dir, usageFile)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil
		}
		return err
	}
	if uint64(*m.Limit) < usage {
		return fmt.Errorf("memory limit %d is below current usage %d (checkBeforeUpdate)", *m.Limit, usage)
	}
	return nil
}
