package cgroups

import "fmt"

// A rootless caller (--rootless, or auto for a non-root user) usually may
// not write the host's cgroup tree: cgroup v1, or v2 without a delegated
// subtree. Create then skips every hierarchy it is refused, as runc does,
// and the container runs in its caller's cgroups. That is fine while the
// config asks for no limit; a limit that would have nowhere to go is an
// error naming it, never a silent drop.
//
// Devices are the exception, as in runc: the device cgroup cannot grant
// an unprivileged user anything, since the container's devices are binds
// of host nodes the user may already open, and mknod of a real device is
// refused in a user namespace whatever the cgroup says.

// rootlessLimitError is the one error for a limit with no cgroup to hold
// it. field names the linux.resources field the config set.
func rootlessLimitError(ctrl string) error {
	field, ok := limitField[ctrl]
	if !ok {
		field = ctrl
	}
	return fmt.Errorf("cannot set %s limit (linux.resources.%s): rootless container could not join or create its %s cgroup (no permission on the cgroup tree; on cgroup v2 delegate a subtree to the user)", ctrl, field, ctrl)
}

// limitField maps a controller to the linux.resources field that asks for it.
var limitField = map[string]string{
	"cpuset":   "cpu.cpus/mems",
	"cpu":      "cpu",
	"memory":   "memory",
	"pids":     "pids",
	"blkio":    "blockIO",
	"net_cls":  "network.classID",
	"net_prio": "network.priorities",
	"rdma":     "rdma",
	"hugetlb":  "hugepageLimits",
	"unified":  "unified",
}

// Unmanaged is the manager of a rootless container that got no cgroup of
// its own: every operation has nothing to do, and a limit is refused
// (rootlessLimitError). exec uses it to start processes in such a
// container, as runc does.
func Unmanaged() Manager { return newFs(map[string]string{}, Options{Rootless: true}) }
