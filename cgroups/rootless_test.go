package cgroups

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// TestUnmanaged: a rootless container without a cgroup refuses each limit
// by its linux.resources field, lets device rules pass (they are binds of
// nodes the user may open), and answers ErrNoCgroup to what needs a cgroup.
func TestUnmanaged(t *testing.T) {
	m := Unmanaged()
	lim := int64(1 << 26)
	pids := int64(10)
	for field, r := range map[string]*specs.LinuxResources{
		"linux.resources.memory":        {Memory: &specs.LinuxMemory{Limit: &lim}},
		"linux.resources.pids":          {Pids: &specs.LinuxPids{Limit: &pids}},
		"linux.resources.unified":       {Unified: map[string]string{"memory.high": "1M"}},
		"linux.resources.cpu.cpus/mems": {CPU: &specs.LinuxCPU{Cpus: "0"}},
	} {
		err := m.Set(r)
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("Set(%s): %v, want an error naming it", field, err)
		}
	}
	if err := m.Set(&specs.LinuxResources{Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}}}); err != nil {
		t.Errorf("Set(devices only): %v", err)
	}
	if err := m.Set(nil); err != nil {
		t.Errorf("Set(nil): %v", err)
	}
	if _, err := m.Pids(); !errors.Is(err, ErrNoCgroup) {
		t.Errorf("Pids: %v", err)
	}
	if err := m.Freeze(); !errors.Is(err, ErrNoCgroup) {
		t.Errorf("Freeze: %v", err)
	}
	if err := m.Kill(unix.SIGTERM); !errors.Is(err, ErrNoCgroup) {
		t.Errorf("Kill: %v", err)
	}
	if fd, err := m.CloneFD(); fd != -1 || err != nil {
		t.Errorf("CloneFD: %d, %v", fd, err)
	}
	if len(m.Paths()) != 0 || m.Paths() == nil {
		t.Errorf("Paths: %v, want empty", m.Paths())
	}
	if s, err := m.Stats(); err != nil || s == nil {
		t.Errorf("Stats: %v, %v", s, err)
	}
}

// failingCreate stands for an fs2 manager whose Create fails with err.
type failingCreate struct {
	unmanaged
	err error
}

func (f failingCreate) Create() error { return f.err }

// TestRootlessV2Refused: a rootless v2 manager whose mkdir is refused
// becomes unmanaged (no paths, a limit refused naming the mkdir); any
// other error stays an error.
func TestRootlessV2Refused(t *testing.T) {
	m := &rootlessV2{failingCreate{err: fmt.Errorf("create cgroup /sys/fs/cgroup/x: mkdir: %w", unix.EACCES)}}
	if err := m.Create(); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if len(m.Paths()) != 0 {
		t.Errorf("Paths: %v", m.Paths())
	}
	lim := int64(1 << 26)
	err := m.Set(&specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &lim}})
	if err == nil || !strings.Contains(err.Error(), "linux.resources.memory") || !strings.Contains(err.Error(), "/sys/fs/cgroup/x") {
		t.Errorf("Set: %v", err)
	}
	busy := &rootlessV2{failingCreate{err: errors.New("cgroup /x has processes")}}
	if err := busy.Create(); err == nil {
		t.Errorf("Create: a non-permission error was swallowed")
	}
}
