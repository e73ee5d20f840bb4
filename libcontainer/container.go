package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/casco-runtime/casco/cgroups"
)

// ErrNotExist is returned for a container ID with no state directory.
var ErrNotExist = errors.New("container does not exist")

// Container is a container as found in the state root, locked for the
// duration of one command.
type Container struct {
	Dir      string
	State    *State
	lock     *os.File
	listener *os.File // the seccomp agent's socket, connected before the init starts
	spec     *specs.Spec
}

// Spec is the container's config, decoded on first use.
func (c *Container) Spec() (*specs.Spec, error) {
	if c.spec == nil {
		var s specs.Spec
		if err := json.Unmarshal(c.State.Config, &s); err != nil {
			return nil, fmt.Errorf("container %q: config in state.json: %w", c.State.ID, err)
		}
		if s.Linux == nil {
			s.Linux = &specs.Linux{}
		}
		if s.Process == nil {
			s.Process = &specs.Process{}
		}
		c.spec = &s
	}
	return c.spec, nil
}

// setSpec records s as the container's config, for state.json.
func (c *Container) setSpec(s *specs.Spec) error {
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	c.State.Config, c.spec = data, s
	return nil
}

// hooks decodes only the config's hooks.
func (c *Container) hooks() *specs.Hooks {
	if c.spec != nil {
		return c.spec.Hooks
	}
	var part struct {
		Hooks *specs.Hooks `json:"hooks"`
	}
	json.Unmarshal(c.State.Config, &part)
	return part.Hooks
}

// namespaces decodes only the config's linux.namespaces.
func (c *Container) namespaces() []specs.LinuxNamespace {
	if c.spec != nil {
		return c.spec.Linux.Namespaces
	}
	var part struct {
		Linux struct {
			Namespaces []specs.LinuxNamespace `json:"namespaces"`
		} `json:"linux"`
	}
	json.Unmarshal(c.State.Config, &part)
	return part.Linux.Namespaces
}

// Open reads container id under root without taking its lock: state.json
// is replaced atomically, so a reader sees a whole old or new state and
// never waits for another command. The commands that only look (state,
// list, ps, events) or act on the kernel's processes directly (kill, exec)
// use it.
func Open(root, id string) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	if err := checkRoot(root); err != nil {
		return nil, err
	}
	dir := filepath.Join(root, id)
	st, err := loadState(dir, id)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("container %q: %w", id, ErrNotExist)
		}
		return nil, fmt.Errorf("container %q: %w", id, err)
	}
	return &Container{Dir: dir, State: st}, nil
}

// Load finds and locks container id under root, for a command that changes
// it. Unlock it when done.
func Load(root, id string) (*Container, error) {
	return load(root, id, lockDir)
}

func load(root, id string, lock func(string) (*os.File, error)) (*Container, error) {
	if err := ValidateID(id); err != nil {
		return nil, err
	}
	if err := checkRoot(root); err != nil {
		return nil, err
	}
	dir := filepath.Join(root, id)
	f, err := lock(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("container %q: %w", id, ErrNotExist)
		}
		return nil, fmt.Errorf("container %q: %w", id, err)
	}
	st, err := loadState(dir, id)
	if err != nil {
		f.Close()
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("container %q: %w", id, ErrNotExist)
		}
		return nil, fmt.Errorf("container %q: %w", id, err)
	}
	return &Container{Dir: dir, State: st, lock: f}, nil
}

// Unlock releases the container's lock.
func (c *Container) Unlock() {
	if c.lock != nil {
		c.lock.Close()
		c.lock = nil
	}
}

// Status computes the status from the kernel: is the init the process we
// started, is it still parked on the exec fifo, is its cgroup frozen.
func (c *Container) Status() string {
	if c.State.partial() {
		// a create still running, or one that was killed half way
		if lockBusy(c.Dir) {
			return Creating
		}
		return Stopped
	}
	if !c.State.alive() {
		return Stopped
	}
	status := Running
	if _, err := os.Lstat(filepath.Join(c.Dir, fifoName)); err == nil {
		status = Created
	}
	if m, err := c.cgroup(); err == nil {
		if paused, err := m.State(); err == nil && paused {
			return Paused // created or running: resume says which
		}
	}
	return status
}

// cgroup loads the container's cgroup manager from its recorded paths. A
// rootless container that got no cgroup of its own has none to load:
// cgroups.ErrNoCgroup says so plainly.
func (c *Container) cgroup() (cgroups.Manager, error) {
	if c.noCgroup() {
		return nil, cgroups.ErrNoCgroup
	}
	return cgroups.Load(c.State.CgroupPaths)
}

// noCgroup: the container was created rootless where its creator could
// not write the cgroup tree, and runs in its creator's cgroups.
func (c *Container) noCgroup() bool {
	return c.State.Rootless && len(c.State.CgroupPaths) == 0
}

// OCIState is the container's state as runc prints it.
func (c *Container) OCIState() OCIState {
	status := c.Status()
	pid := c.State.Pid
	if status == Stopped || status == Creating {
		pid = 0
	}
	return OCIState{
		Version:     specs.Version,
		ID:          c.State.ID,
		Pid:         pid,
		Status:      status,
		Bundle:      c.State.Bundle,
		Rootfs:      c.State.Rootfs,
		Created:     c.State.Created,
		Annotations: c.State.Annotations,
		Owner:       c.State.Owner,
	}
}

// hookState is the state handed to hooks on stdin.
func (c *Container) hookState(status string) *specs.State {
	return &specs.State{
		Version:     specs.Version,
		ID:          c.State.ID,
		Status:      specs.ContainerState(status),
		Pid:         c.State.Pid,
		Bundle:      c.State.Bundle,
		Annotations: c.State.Annotations,
	}
}

// List returns the state of every container under root, sorted by ID.
func List(root string) ([]OCIState, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var out []OCIState
	for _, e := range entries {
		if !e.IsDir() || e.Name()[0] == '.' {
			continue // .seccomp-cache and the like
		}
		c, err := Open(root, e.Name())
		if err != nil {
			continue // removed right now, or not a container
		}
		out = append(out, c.OCIState())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}
