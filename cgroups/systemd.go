package cgroups

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path"
	"strings"
	"time"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	godbus "github.com/godbus/dbus/v5"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// The systemd driver asks systemd, over D-Bus, to create a transient
// scope unit for the container ("<prefix>-<name>.scope" in the given
// slice) with Delegate=yes, then manages the cgroup files below it like
// the fs drivers do. systemd owns the unit's lifetime: Destroy stops it.
//
// A scope cannot exist without a process, so the unit is started by the
// first Add(pid); Set before that is remembered and applied then, and
// CloneFD returns -1 (the cgroup does not exist yet).

const systemdTimeout = 30 * time.Second

// systemdRunning is sd_booted(3): systemd creates /run/systemd/system
// early at boot when it runs as PID 1.
func systemdRunning() bool {
	var st unix.Stat_t
	return unix.Lstat("/run/systemd/system", &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFDIR
}

type systemdManager struct {
	unit    string
	slice   string
	user    bool    // talk to the user's systemd instance (rootless)
	inner   Manager // *fsManager or *fs2Manager on the unit's directories
	started bool
	pending *specs.LinuxResources
}

// SystemdUnit splits "slice:prefix:name" into the slice and the unit
// name, with runc's defaults: an empty slice is system.slice (user.slice
// for rootless), the unit is "<prefix>-<name>.scope", or the name itself
// when it is a ".slice".
func SystemdUnit(cgroupsPath, id string, rootless bool) (slice, unit string, err error) {
	prefix, name := "casco", id
	if cgroupsPath != "" {
		parts := strings.Split(cgroupsPath, ":")
		if len(parts) != 3 {
			return "", "", fmt.Errorf("systemd cgroup driver: cgroupsPath %q is not \"slice:prefix:name\"", cgroupsPath)
		}
		slice, prefix, name = parts[0], parts[1], parts[2]
	}
	if slice == "" {
		slice = "system.slice"
		if rootless {
			slice = "user.slice"
		}
	}
	if name == "" || strings.ContainsAny(name, "/\x00") || strings.ContainsAny(prefix, "/\x00") {
		return "", "", fmt.Errorf("systemd cgroup driver: invalid unit name in %q", cgroupsPath)
	}
	switch {
	case strings.HasSuffix(name, ".slice"):
		unit = name
	case prefix == "":
		unit = name + ".scope"
	default:
		unit = prefix + "-" + name + ".scope"
	}
	return slice, unit, nil
}

// ExpandSlice turns a slice name into its cgroup path the way systemd
// nests them: "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice".
func ExpandSlice(slice string) (string, error) {
	const suffix = ".slice"
	name, ok := strings.CutSuffix(slice, suffix)
	if !ok || name == "" || strings.Contains(slice, "/") {
		return "", fmt.Errorf("invalid systemd slice name %q", slice)
	}
	if name == "-" {
		return "/", nil
	}
	var p, prefix string
	for _, c := range strings.Split(name, "-") {
		if c == "" {
			return "", fmt.Errorf("invalid systemd slice name %q", slice)
		}
		p += "/" + prefix + c + suffix
		prefix += c + "-"
	}
	return p, nil
}

func newSystemd(cgroupsPath, id string, opts Options) (Manager, error) {
	if !systemdRunning() {
		return nil, errors.New("systemd cgroup driver: systemd is not running (no /run/systemd/system)")
	}
	slice, unit, err := SystemdUnit(cgroupsPath, id, opts.Rootless)
	if err != nil {
		return nil, err
	}
	base, err := ExpandSlice(slice)
	if err != nil {
		return nil, err
	}
	if opts.Rootless {
		// The user's systemd nests its slices in user@UID.service.
		own, err := readOwnCgroups("self")
		if err != nil {
			return nil, err
		}
		svc := fmt.Sprintf("user@%d.service", os.Getuid())
		p := own[""]
		i := strings.Index(p, "/"+svc)
		if i < 0 {
			return nil, fmt.Errorf("systemd cgroup driver (rootless): not running under %s (own cgroup %q)", svc, p)
		}
		base = path.Join(p[:i+1+len(svc)], base)
	}
	inner := path.Join(base, unit)
	mode, err := DetectMode()
	if err != nil {
		return nil, err
	}
	m := &systemdManager{unit: unit, slice: slice, user: opts.Rootless}
	if mode == Unified {
		m.inner = newFs2(Root+inner, opts)
	} else {
		paths, err := v1Paths(mode, inner, "", nil)
		if err != nil {
			return nil, err
		}
		m.inner = newFs(paths, opts)
	}
	return m, nil
}

func (m *systemdManager) connect(ctx context.Context) (*sddbus.Conn, error) {
	var c *sddbus.Conn
	var err error
	if m.user {
		c, err = sddbus.NewUserConnectionContext(ctx)
	} else {
		c, err = sddbus.NewWithContext(ctx)
	}
	if err != nil {
		return nil, fmt.Errorf("systemd cgroup driver: connect to systemd over D-Bus: %w", err)
	}
	return c, nil
}

// Create only checks that the cgroup is not in use: the unit is started
// with the first process (Add).
func (m *systemdManager) Create() error {
	for _, d := range m.inner.Paths() {
		if err := refuseBusy(d); err != nil {
			return err
		}
	}
	return nil
}

func (m *systemdManager) Add(pid int) error {
	if !m.started {
		if err := m.start(pid); err != nil {
			return err
		}
		m.started = true
		// systemd makes directories only for the controllers it manages;
		// create the rest (v1) and put the process there too.
		if fm, ok := m.inner.(*fsManager); ok {
			if err := fm.mkdirs(); err != nil {
				return err
			}
		}
		if err := m.inner.Add(pid); err != nil {
			return err
		}
		if r := m.pending; r != nil {
			m.pending = nil
			return m.inner.Set(r)
		}
		return nil
	}
	return m.inner.Add(pid)
}

func (m *systemdManager) start(pid int) error {
	ctx, cancel := context.WithTimeout(context.Background(), systemdTimeout)
	defer cancel()
	c, err := m.connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	props := []sddbus.Property{
		sddbus.PropDescription("casco container " + m.unit),
		sddbus.PropPids(uint32(pid)),
		{Name: "Delegate", Value: godbus.MakeVariant(true)},
		{Name: "DefaultDependencies", Value: godbus.MakeVariant(false)},
		{Name: "MemoryAccounting", Value: godbus.MakeVariant(true)},
		{Name: "CPUAccounting", Value: godbus.MakeVariant(true)},
		{Name: "TasksAccounting", Value: godbus.MakeVariant(true)},
	}
	if strings.HasSuffix(m.unit, ".scope") {
		props = append(props, sddbus.PropSlice(m.slice))
	}
	if m.pending != nil {
		props = append(props, systemdProperties(m.pending, m.isV2())...)
	}
	done := make(chan string, 1)
	if _, err := c.StartTransientUnitContext(ctx, m.unit, "replace", props, done); err != nil {
		return fmt.Errorf("systemd cgroup driver: start unit %s: %w", m.unit, err)
	}
	select {
	case res := <-done:
		if res != "done" {
			return fmt.Errorf("systemd cgroup driver: start unit %s: job %s", m.unit, res)
		}
	case <-ctx.Done():
		return fmt.Errorf("systemd cgroup driver: start unit %s: %w", m.unit, ctx.Err())
	}
	return nil
}

func (m *systemdManager) isV2() bool {
	_, ok := m.inner.(*fs2Manager)
	return ok
}

// systemdProperties mirrors the main limits into unit properties, so a
// later `systemctl daemon-reload` re-applies them instead of resetting
// the cgroup files to systemd's idea of the unit.
func systemdProperties(r *specs.LinuxResources, v2 bool) []sddbus.Property {
	var p []sddbus.Property
	add := func(name string, v interface{}) {
		p = append(p, sddbus.Property{Name: name, Value: godbus.MakeVariant(v)})
	}
	limit := func(v int64) uint64 {
		if v < 0 {
			return math.MaxUint64 // systemd's "infinity"
		}
		return uint64(v)
	}
	if r.Memory != nil && i64(r.Memory.Limit) != 0 {
		if v2 {
			add("MemoryMax", limit(*r.Memory.Limit))
		} else {
			add("MemoryLimit", limit(*r.Memory.Limit))
		}
	}
	if r.CPU != nil {
		if s := u64(r.CPU.Shares); s != 0 {
			if v2 {
				add("CPUWeight", SharesToWeight(s))
			} else {
				add("CPUShares", s)
			}
		}
		if q, per := i64(r.CPU.Quota), u64(r.CPU.Period); q > 0 {
			if per == 0 {
				per = 100000
			}
			// systemd counts CPU time per second; round up to its 10ms unit.
			perSec := uint64(q) * 1000000 / per
			if perSec%10000 != 0 {
				perSec = (perSec/10000 + 1) * 10000
			}
			add("CPUQuotaPerSecUSec", perSec)
			add("CPUQuotaPeriodUSec", per)
		}
	}
	if needPids(r) {
		add("TasksMax", limit(*r.Pids.Limit))
	}
	return p
}

func (m *systemdManager) Set(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	if !m.started {
		m.pending = r
		return nil
	}
	if props := systemdProperties(r, m.isV2()); len(props) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), systemdTimeout)
		defer cancel()
		c, err := m.connect(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.SetUnitPropertiesContext(ctx, m.unit, true, props...); err != nil {
			return fmt.Errorf("systemd cgroup driver: set properties of %s: %w", m.unit, err)
		}
	}
	return m.inner.Set(r)
}

// Destroy stops the unit (a missing unit is fine) and removes whatever
// directories are left, such as v1 hierarchies systemd does not manage.
func (m *systemdManager) Destroy() error {
	ctx, cancel := context.WithTimeout(context.Background(), systemdTimeout)
	defer cancel()
	if c, err := m.connect(ctx); err == nil {
		done := make(chan string, 1)
		_, err := c.StopUnitContext(ctx, m.unit, "replace", done)
		if err == nil {
			select {
			case <-done:
			case <-ctx.Done():
			}
		}
		c.Close()
		var derr godbus.Error
		if err != nil && !(errors.As(err, &derr) && strings.HasSuffix(derr.Name, ".NoSuchUnit")) {
			return fmt.Errorf("systemd cgroup driver: stop unit %s: %w", m.unit, err)
		}
	}
	return m.inner.Destroy()
}

// loadSystemd wraps a loaded manager in the systemd driver when its
// cgroup is a systemd scope or slice and systemd runs, so that Destroy
// stops the unit instead of pulling the directory from under systemd.
func loadSystemd(paths map[string]string, inner Manager) Manager {
	if !systemdRunning() {
		return inner
	}
	dir := paths[""]
	if dir == "" {
		dir = paths["name=systemd"]
	}
	unit := path.Base(dir)
	if !strings.HasSuffix(unit, ".scope") && !strings.HasSuffix(unit, ".slice") {
		return inner
	}
	return &systemdManager{
		unit:    unit,
		slice:   path.Base(path.Dir(dir)),
		user:    strings.Contains(dir, "/user@"),
		inner:   inner,
		started: true,
	}
}

func (m *systemdManager) CloneFD() (int, error)          { return -1, nil }
func (m *systemdManager) JoinFiles() ([]*os.File, error) { return nil, nil }
func (m *systemdManager) Pids() ([]int, error)           { return m.inner.Pids() }
func (m *systemdManager) Freeze() error                  { return m.inner.Freeze() }
func (m *systemdManager) Thaw() error                    { return m.inner.Thaw() }
func (m *systemdManager) State() (bool, error)           { return m.inner.State() }
func (m *systemdManager) Kill(sig unix.Signal) error     { return m.inner.Kill(sig) }
func (m *systemdManager) Paths() map[string]string       { return m.inner.Paths() }
func (m *systemdManager) Stats() (*Stats, error)         { return m.inner.Stats() }
func (m *systemdManager) OOMKillCount() (uint64, error)  { return m.inner.OOMKillCount() }

// Unit is the systemd unit name, for the runtime's state and messages.
func (m *systemdManager) Unit() string { return m.unit }
