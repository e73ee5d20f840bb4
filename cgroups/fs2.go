package cgroups

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// fs2Manager drives one cgroup2 directory (pure v2 hosts).
type fs2Manager struct {
	dir      string
	rootless bool
}

func newFs2(dir string, opts Options) *fs2Manager {
	return &fs2Manager{dir: dir, rootless: opts.Rootless}
}

var errV2NotYet = fmt.Errorf("cgroup v2: not implemented yet")

func (m *fs2Manager) Paths() map[string]string        { return map[string]string{"": m.dir} }
func (m *fs2Manager) Create() error                   { return errV2NotYet }
func (m *fs2Manager) Set(*specs.LinuxResources) error { return errV2NotYet }
func (m *fs2Manager) Add(int) error                   { return errV2NotYet }
func (m *fs2Manager) CloneFD() (int, error)           { return -1, errV2NotYet }
func (m *fs2Manager) Pids() ([]int, error)            { return nil, errV2NotYet }
func (m *fs2Manager) Freeze() error                   { return errV2NotYet }
func (m *fs2Manager) Thaw() error                     { return errV2NotYet }
func (m *fs2Manager) State() (bool, error)            { return false, errV2NotYet }
func (m *fs2Manager) Kill(unix.Signal) error          { return errV2NotYet }
func (m *fs2Manager) Destroy() error                  { return removeCgroup(m.dir) }
func (m *fs2Manager) Stats() (*Stats, error)          { return nil, errV2NotYet }
func (m *fs2Manager) OOMKillCount() (uint64, error)   { return 0, errV2NotYet }
