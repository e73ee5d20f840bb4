package cgroups

import (
	"errors"
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

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

// ErrNoCgroup is what a rootless container without a cgroup of its own
// answers to anything that needs one (pause, ps, events, update, kill
// --all): runc refuses those too.
var ErrNoCgroup = errors.New("the container has no cgroup of its own: it was created rootless where its creator could not write the cgroup tree (on cgroup v2, delegate a subtree to the user)")

// Unmanaged is the manager of a rootless container that got no cgroup of
// its own: the container runs in its creator's cgroups, nothing is made,
// joined or removed, a limit is refused (rootlessLimitError), and
// anything that would read or change the cgroup gets ErrNoCgroup. exec
// uses it to start processes in such a container, as runc does.
func Unmanaged() Manager { return unmanaged{} }

type unmanaged struct {
	refused error // why the cgroup could not be made, when known
}

func (unmanaged) Create() error                  { return nil }
func (unmanaged) Add(int) error                  { return nil }
func (unmanaged) CloneFD() (int, error)          { return -1, nil }
func (unmanaged) JoinFiles() ([]*os.File, error) { return nil, nil }
func (unmanaged) Destroy() error                 { return nil }
func (unmanaged) Paths() map[string]string       { return map[string]string{} }
func (unmanaged) State() (bool, error)           { return false, nil }
func (unmanaged) Pids() ([]int, error)           { return nil, ErrNoCgroup }
func (unmanaged) Freeze() error                  { return ErrNoCgroup }
func (unmanaged) Thaw() error                    { return ErrNoCgroup }
func (unmanaged) Kill(unix.Signal) error         { return ErrNoCgroup }
func (unmanaged) OOMKillCount() (uint64, error)  { return 0, ErrNoCgroup }

// Stats of no cgroup are zero, as runc's `events --stats` prints them.
func (unmanaged) Stats() (*Stats, error) { return &Stats{Hugetlb: map[string]Hugetlb{}}, nil }

// Set refuses the first limit r asks for, as a rootless manager that was
// refused every hierarchy does; device rules are skipped (see above).
func (m unmanaged) Set(r *specs.LinuxResources) error {
	err := newFs(map[string]string{}, Options{Rootless: true}).Set(r)
	if err != nil && m.refused != nil {
		err = fmt.Errorf("%w: %v", err, m.refused)
	}
	return err
}

// rootlessV2 is a rootless caller's manager on cgroup v2. In a delegated
// subtree (a directory chowned to the user, as systemd's Delegate=yes
// does) the container gets its cgroup and limits as under root; where the
// tree refuses the mkdir it becomes unmanaged, as runc's fs2 driver runs
// the container in its creator's cgroup.
type rootlessV2 struct {
	Manager // the fs2 manager, or unmanaged once Create was refused
}

func (m *rootlessV2) Create() error {
	err := m.Manager.Create()
	if err != nil && isPermission(err) {
		m.Manager = unmanaged{refused: err}
		return nil
	}
	return err
}
