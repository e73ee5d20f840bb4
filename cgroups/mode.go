package cgroups

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Mode is the cgroup layout of the host.
type Mode int

const (
	// Legacy: only v1 hierarchies under /sys/fs/cgroup/<controller>.
	Legacy Mode = iota + 1
	// Hybrid: v1 hierarchies plus a cgroup2 mount at /sys/fs/cgroup/unified
	// (which may own controllers such as hugetlb on some kernels).
	Hybrid
	// Unified: /sys/fs/cgroup itself is cgroup2 (most hosts today).
	Unified
)

func (m Mode) String() string {
	switch m {
	case Legacy:
		return "v1"
	case Hybrid:
		return "hybrid"
	case Unified:
		return "v2"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

const (
	// Root is where every hierarchy is looked for. Fixed rather than
	// discovered: parsing /proc/self/mountinfo costs far more than the whole
	// cgroup setup and is measured on the container start path.
	Root        = "/sys/fs/cgroup"
	unifiedRoot = Root + "/unified"
)

// DetectMode tells the host's cgroup layout with one or two statfs(2)
// calls. It keeps no cache: callers that need it repeatedly keep the Mode.
func DetectMode() (Mode, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(Root, &st); err != nil {
		return 0, fmt.Errorf("statfs %q: %w", Root, err)
	}
	switch st.Type {
	case unix.CGROUP2_SUPER_MAGIC:
		return Unified, nil
	case unix.TMPFS_MAGIC, unix.SYSFS_MAGIC:
		// v1 layout: a tmpfs holding one mount per hierarchy.
	default:
		return 0, fmt.Errorf("%s is neither a cgroup2 mount nor a tmpfs of v1 hierarchies (fs magic %#x)", Root, st.Type)
	}
	if err := unix.Statfs(unifiedRoot, &st); err == nil && st.Type == unix.CGROUP2_SUPER_MAGIC {
		return Hybrid, nil
	}
	return Legacy, nil
}
