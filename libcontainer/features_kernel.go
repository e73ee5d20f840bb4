package libcontainer

import (
	"errors"
	"sort"
	"unsafe"

	"github.com/opencontainers/runtime-spec/specs-go/features"
	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/libcontainer/plan"
)

// Probes of what the running kernel can do, for `features` and for the
// refusal of a config that needs what it lacks. Each costs one failing
// system call and runs only when asked: never on the start path of a
// config that does not use the feature.

// haveMountSetattr: mount_setattr(2) (Linux 5.12). With a bad fd the
// syscall answers EBADF when it exists, ENOSYS when it does not.
func haveMountSetattr() bool {
	var attr unix.MountAttr
	_, _, errno := unix.Syscall6(unix.SYS_MOUNT_SETATTR, uintptr(^uint32(0)), uintptr(unsafe.Pointer(&[1]byte{})),
		unix.AT_EMPTY_PATH, uintptr(unsafe.Pointer(&attr)), unsafe.Sizeof(attr), 0)
	return !errors.Is(errno, unix.ENOSYS)
}

// mountOptionNames lists every mount option casco carries out on this
// kernel: the same tables the option parser reads.
func mountOptionNames() []string {
	return plan.OptionNames(haveMountSetattr())
}

func boolPtr(b bool) *bool { return &b }

// memoryPolicyFeature lists the memory policy modes and flags this kernel takes.
func memoryPolicyFeature() *features.MemoryPolicy {
	modes, flags := memoryPolicyFeatures()
	sort.Strings(modes)
	sort.Strings(flags)
	return &features.MemoryPolicy{Modes: modes, Flags: flags}
}
