package libcontainer

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/libcontainer/plan"
)

// linux.personality and linux.memoryPolicy: both are inherited across
// execve, so the init (and an exec'd process) sets them just before it.

var personalities = map[specs.LinuxPersonalityDomain]uint64{
	specs.PerLinux: 0x0000, specs.PerLinux32: 0x0008, // PER_LINUX, PER_LINUX32
}

// personality adds personality(2); runtime-spec defines no flags yet.
func (p *planBuilder) personality(per *specs.LinuxPersonality) error {
	if per == nil {
		return nil
	}
	v, ok := personalities[per.Domain]
	if !ok {
		return fmt.Errorf("linux.personality.domain: unknown domain %q", per.Domain)
	}
	if len(per.Flags) > 0 {
		return fmt.Errorf("linux.personality.flags %q: no flags are defined", per.Flags)
	}
	p.Add(plan.OpPersonality, plan.Ints(v))
	return nil
}

// mempolicyMode is one memory policy mode and the first kernel that has it.
type mempolicyMode struct {
	mode         uint64
	major, minor int
	nodes        int // 0: no nodes allowed, 1: nodes needed, 2: either
}

var mempolicyModes = map[specs.MemoryPolicyModeType]mempolicyMode{
	specs.MpolDefault:            {0, 2, 6, 0},
	specs.MpolPreferred:          {1, 2, 6, 2}, // no nodes: local allocation
	specs.MpolBind:               {2, 2, 6, 1},
	specs.MpolInterleave:         {3, 2, 6, 1},
	specs.MpolLocal:              {4, 3, 8, 0},
	specs.MpolPreferredMany:      {5, 5, 15, 1},
	specs.MpolWeightedInterleave: {6, 6, 9, 1},
}

var mempolicyFlags = map[specs.MemoryPolicyFlagType]mempolicyMode{
	specs.MpolFStaticNodes:   {1 << 15, 2, 6, 0},
	specs.MpolFRelativeNodes: {1 << 14, 2, 6, 0},
	specs.MpolFNumaBalancing: {1 << 13, 5, 12, 0},
}

// kernelAtLeast compares the running kernel's release with major.minor.
func kernelAtLeast(major, minor int) bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	rel := unix.ByteSliceToString(u.Release[:])
	a, rest, _ := strings.Cut(rel, ".")
	b, _, _ := strings.Cut(rest, ".")
	b = strings.TrimRightFunc(b, func(r rune) bool { return r < '0' || r > '9' })
	ma, _ := strconv.Atoi(a)
	mi, _ := strconv.Atoi(b)
	return ma > major || (ma == major && mi >= minor)
}

// memoryPolicy adds set_mempolicy(2) with the mode, flags and node mask.
func (p *planBuilder) memoryPolicy(mp *specs.LinuxMemoryPolicy) error {
	if mp == nil {
		return nil
	}
	m, ok := mempolicyModes[mp.Mode]
	if !ok {
		return fmt.Errorf("linux.memoryPolicy.mode: invalid memory policy mode %q", mp.Mode)
	}
	if !kernelAtLeast(m.major, m.minor) {
		return fmt.Errorf("linux.memoryPolicy.mode: %s needs Linux %d.%d or later", mp.Mode, m.major, m.minor)
	}
	mode := m.mode
	for _, f := range mp.Flags {
		fl, ok := mempolicyFlags[f]
		if !ok {
			return fmt.Errorf("linux.memoryPolicy.flags: invalid memory policy flag %q", f)
		}
		if !kernelAtLeast(fl.major, fl.minor) {
			return fmt.Errorf("linux.memoryPolicy.flags: %s needs Linux %d.%d or later", f, fl.major, fl.minor)
		}
		mode |= fl.mode
	}
	if mode&(1<<15) != 0 && mode&(1<<14) != 0 {
		return fmt.Errorf("linux.memoryPolicy.flags: invalid memory policy flags: MPOL_F_STATIC_NODES and MPOL_F_RELATIVE_NODES exclude each other")
	}
	var mask []uint64
	if mp.Nodes != "" {
		var err error
		if mask, err = parseCPUList(mp.Nodes); err != nil {
			return fmt.Errorf("linux.memoryPolicy.nodes: invalid memory policy node %w", err)
		}
		if m.nodes == 0 {
			// the kernel's refusal, in runc's words, before the kernel is asked
			return fmt.Errorf("linux.memoryPolicy.nodes: %s mode requires 0 nodes but got %d", mp.Mode, countBits(mask))
		}
	} else if m.nodes == 1 {
		return fmt.Errorf("linux.memoryPolicy.nodes: invalid memory policy nodes: %s needs nodes", mp.Mode)
	}
	p.Add(plan.OpMempolicy, append(plan.Ints(mode, uint64(len(mask))), mask...))
	return nil
}

// countBits counts the nodes (or CPUs) a mask holds.
func countBits(mask []uint64) int {
	n := 0
	for _, w := range mask {
		n += bits.OnesCount64(w)
	}
	return n
}

// personalityAndMemoryPolicy adds what linux.* sets on the process itself.
func (p *planBuilder) personalityAndMemoryPolicy(l *specs.Linux) error {
	if l == nil {
		return nil
	}
	if err := p.memoryPolicy(l.MemoryPolicy); err != nil {
		return err
	}
	return p.personality(l.Personality)
}

// memoryPolicyFeatures lists the modes and flags this kernel takes.
func memoryPolicyFeatures() (modes, flags []string) {
	for name, m := range mempolicyModes {
		if kernelAtLeast(m.major, m.minor) {
			modes = append(modes, string(name))
		}
	}
	for name, f := range mempolicyFlags {
		if kernelAtLeast(f.major, f.minor) {
			flags = append(flags, string(name))
		}
	}
	return modes, flags
}
