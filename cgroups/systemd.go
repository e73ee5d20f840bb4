package cgroups

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	godbus "github.com/godbus/dbus/v5"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/libcontainer/duration"
)

// The systemd driver asks systemd, over D-Bus, to create a transient
// scope unit for the container ("<prefix>-<name>.scope" in the given
// slice) with Delegate=yes, then manages the cgroup files below it like
// the fs drivers do. systemd owns the unit's lifetime: Destroy stops it.
//
// A scope cannot exist without a process, so the unit is started by the
// first Add(pid); Set before that is remembered and applied then, and
// CloneFD returns -1 (the cgroup does not exist yet).

// DefaultSystemdTimeout bounds each exchange with systemd: connecting
// and one request with the job it queues. TimeoutEnv overrides it (casco's
// --systemd-timeout sets it), as a Go duration ("20s") or in seconds.
const (
	DefaultSystemdTimeout = 30 * time.Second
	TimeoutEnv            = "CASCO_SYSTEMD_TIMEOUT"
)

// systemdTimeout is TimeoutEnv's value, or the default when it is unset
// or not a positive duration (main refuses a bad --systemd-timeout).
func systemdTimeout() time.Duration {
	if d, err := duration.Parse(os.Getenv(TimeoutEnv)); err == nil {
		return d
	}
	return DefaultSystemdTimeout
}

// errStalled is what a call that systemd did not answer in time
// returns; every later call of the same manager returns it at once, so
// that cleaning up after a stall does not wait for systemd again.
type errStalled struct {
	timeout time.Duration
	cause   error
}

func (e *errStalled) Error() string {
	return fmt.Sprintf("systemd did not answer over D-Bus within %v (is systemd or dbus-daemon stalled? --systemd-timeout sets the bound): %v", e.timeout, e.cause)
}

func (e *errStalled) Unwrap() error { return e.cause }

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
	timeout time.Duration
	stalled error // the first *errStalled: systemd is not answering
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
		// The user's systemd nests its slices in its own cgroup
		// (/user.slice/user-UID.slice/user@UID.service), wherever the
		// caller itself runs (a login session, a service).
		mcg, err := userManagerCgroup()
		if err != nil {
			return nil, err
		}
		base = path.Join(mcg, base)
	}
	inner := path.Join(base, unit)
	mode, err := DetectMode()
	if err != nil {
		return nil, err
	}
	m := &systemdManager{unit: unit, slice: slice, user: opts.Rootless, timeout: systemdTimeout()}
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

// userManagerCgroup asks the user's systemd instance for its own cgroup.
func userManagerCgroup() (string, error) {
	timeout := systemdTimeout()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c, closeConn, err := dial(ctx, sddbus.NewUserConnectionContext)
	if errors.Is(err, context.DeadlineExceeded) {
		err = &errStalled{timeout, err}
	}
	if err != nil {
		return "", fmt.Errorf("systemd cgroup driver (rootless): connect to the user's systemd (DBUS_SESSION_BUS_ADDRESS=%q): %w", os.Getenv("DBUS_SESSION_BUS_ADDRESS"), err)
	}
	defer closeConn()
	v, err := c.GetManagerProperty("ControlGroup")
	if err != nil {
		return "", fmt.Errorf("systemd cgroup driver (rootless): the user manager's ControlGroup: %w", err)
	}
	cg, err := strconv.Unquote(v)
	if err != nil || !strings.HasPrefix(cg, "/") {
		return "", fmt.Errorf("systemd cgroup driver (rootless): the user manager's ControlGroup is %s", v)
	}
	return cg, nil
}

// dial makes a connection with newConn, bounded by ctx. The connection
// has a lifetime of its own (ended by the returned close), so that a
// request that ran out of time can still queue its undo on it; a
// handshake still blocked when ctx ends is ended by closing its socket.
func dial(ctx context.Context, newConn func(context.Context) (*sddbus.Conn, error)) (*sddbus.Conn, func(), error) {
	life, end := context.WithCancel(context.Background())
	type result struct {
		c   *sddbus.Conn
		err error
	}
	done := make(chan result, 1)
	go func() {
		c, err := newConn(life)
		done <- result{c, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			end()
			return nil, nil, r.err
		}
		return r.c, func() { r.c.Close(); end() }, nil
	case <-ctx.Done():
		end() // closes the socket under the handshake: the goroutine returns
		return nil, nil, ctx.Err()
	}
}

// connect reaches systemd within ctx. As root the system bus comes first
// (as runc); when dbus-daemon does not answer within a third of the time
// left (stopped, gone, swamped), systemd's own socket /run/systemd/private
// is tried with the rest: systemd answers root there without dbus-daemon,
// as it does for systemctl.
func (m *systemdManager) connect(ctx context.Context) (*sddbus.Conn, func(), error) {
	if m.user {
		return dial(ctx, sddbus.NewUserConnectionContext)
	}
	busWait := m.timeout / 3
	if dl, ok := ctx.Deadline(); ok {
		busWait = time.Until(dl) / 3
	}
	busCtx, cancel := context.WithTimeout(ctx, busWait)
	defer cancel()
	c, closeConn, err := dial(busCtx, sddbus.NewSystemConnectionContext)
	if err == nil || os.Geteuid() != 0 {
		return c, closeConn, err
	}
	c, closeConn, perr := dial(ctx, sddbus.NewSystemdConnectionContext)
	if perr != nil {
		return nil, nil, fmt.Errorf("system bus: %v; systemd's socket /run/systemd/private: %w", err, perr)
	}
	return c, closeConn, nil
}

// call runs f on a fresh connection to systemd, all within m.timeout. A
// connection that systemd closes under it (daemon-reexec, a restart of
// the bus) is retried once on a new one, as runc does. When the time runs
// out, systemd is taken to be stalled: this call and every later one
// return an *errStalled.
func (m *systemdManager) call(f func(context.Context, *sddbus.Conn) error) error {
	if m.stalled != nil {
		return m.stalled
	}
	ctx, cancel := context.WithTimeout(context.Background(), m.timeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		c, closeConn, err := m.connect(ctx)
		if err == nil {
			err = f(ctx, c)
			closeConn()
		} else {
			err = fmt.Errorf("systemd cgroup driver: connect to systemd over D-Bus: %w", err)
		}
		if err != nil && ctx.Err() != nil {
			m.stalled = &errStalled{m.timeout, err}
			return m.stalled
		}
		if err == nil || attempt > 0 || !errors.Is(err, godbus.ErrClosed) {
			return err
		}
	}
}

// queueUndo asks systemd to stop the unit and forget it, without waiting
// for the answers, on a connection whose own request ran out of time: the
// bus delivers them after that request, whenever systemd gets to it, so
// that a stalled start leaves no unit once systemd runs again.
func (m *systemdManager) queueUndo(c *sddbus.Conn) {
	send := func(req func(context.Context)) {
		// the request is written before the short wait for its answer
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		req(ctx)
	}
	send(func(ctx context.Context) { c.StopUnitContext(ctx, m.unit, "replace", nil) })
	send(func(ctx context.Context) { c.ResetFailedUnitContext(ctx, m.unit) })
}

// waitJob waits for the result of a unit job systemd queued.
func waitJob(ctx context.Context, done <-chan string, what string) error {
	select {
	case res := <-done:
		if res != "done" {
			return fmt.Errorf("%s: job %s", what, res)
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
}

// Create only checks that the cgroup is not in use: the unit is started
// with the first process (Add). A unit's cgroup with processes in it is a
// live unit: say so before systemd would.
func (m *systemdManager) Create() error {
	for _, d := range m.inner.Paths() {
		if err := refuseBusy(d); err != nil {
			return fmt.Errorf("systemd cgroup driver: unit %s already exists (another container, or one not deleted: `systemctl status %s`): %w", m.unit, m.unit, err)
		}
	}
	return nil
}

func (m *systemdManager) Add(pid int) error {
	if m.started {
		return m.inner.Add(pid)
	}
	if err := m.start(pid); err != nil {
		return err
	}
	m.started = true
	switch fm := m.inner.(type) {
	case *fsManager:
		// systemd makes directories only for the controllers it manages;
		// create the rest (v1) and put the process there too.
		if err := fm.mkdirs(); err != nil {
			return err
		}
	case *fs2Manager:
		// systemd enables in the parent slices only the controllers it
		// knows (not hugetlb, rdma, misc): enable every available one
		// down to the unit, as the fs driver (and runc) do.
		if _, err := createV2(Root, fm.dir); err != nil {
			return fmt.Errorf("systemd cgroup driver: %w", err)
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

func (m *systemdManager) start(pid int) error {
	props := []sddbus.Property{
		sddbus.PropDescription("casco container " + m.unit),
		newProp("PIDs", []uint32{uint32(pid)}),
		newProp("DefaultDependencies", false),
		newProp("MemoryAccounting", true),
		newProp("CPUAccounting", true),
		newProp("IOAccounting", true),
		newProp("TasksAccounting", true),
	}
	if strings.HasSuffix(m.unit, ".slice") {
		// a slice's parent is in its name; Wants= keeps the given one up
		props = append(props, sddbus.PropWants(m.slice))
	} else {
		props = append(props, sddbus.PropSlice(m.slice), newProp("Delegate", true))
	}
	if m.pending != nil {
		rp, err := systemdProperties(m.pending, m.isV2())
		if err != nil {
			return fmt.Errorf("systemd cgroup driver: %w", err)
		}
		props = append(props, rp...)
	}
	what := "systemd cgroup driver: start unit " + m.unit
	return m.call(func(ctx context.Context, c *sddbus.Conn) error {
		done := make(chan string, 1)
		_, err := c.StartTransientUnitContext(ctx, m.unit, "replace", props, done)
		if isDBusError(err, "UnitExists") {
			// A unit that failed or stopped but is still loaded is a
			// leftover systemd keeps for inspection: clear it and retry.
			// A live one belongs to someone else.
			state, serr := c.GetUnitPropertyContext(ctx, m.unit, "ActiveState")
			if serr != nil || !(state.Value.Value() == "failed" || state.Value.Value() == "inactive") {
				return fmt.Errorf("%s: the unit already exists (another container, or one not deleted: `systemctl status %s`)", what, m.unit)
			}
			if err := c.ResetFailedUnitContext(ctx, m.unit); err != nil && !isDBusError(err, "NoSuchUnit") {
				return fmt.Errorf("%s: reset the failed leftover: %w", what, err)
			}
			_, err = c.StartTransientUnitContext(ctx, m.unit, "replace", props, done)
		}
		if err == nil {
			err = waitJob(ctx, done, what)
		} else {
			err = fmt.Errorf("%s: %w", what, err)
		}
		if ctx.Err() != nil {
			// systemd may still act on the start once it runs again:
			// stop and forget the unit right behind it
			m.queueUndo(c)
		}
		return err
	})
}

// isDBusError reports whether err is the D-Bus error
// org.freedesktop.systemd1.<name>.
func isDBusError(err error, name string) bool {
	var derr godbus.Error
	return errors.As(err, &derr) && derr.Name == "org.freedesktop.systemd1."+name
}

func (m *systemdManager) isV2() bool {
	_, ok := m.inner.(*fs2Manager)
	return ok
}

// Set gives systemd the unit properties of r, then writes r to the cgroup
// files (which also covers what has no property). systemd applies device
// properties by replacing its device program, which denies every device
// for a moment: a running container is frozen across that, as runc does.
func (m *systemdManager) Set(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	if !m.started {
		m.pending = r
		return nil
	}
	props, err := systemdProperties(r, m.isV2())
	if err != nil {
		return fmt.Errorf("systemd cgroup driver: %w", err)
	}
	if len(props) > 0 {
		if len(r.Devices) > 0 {
			if frozen, err := m.inner.State(); err == nil && !frozen {
				if err := m.inner.Freeze(); err == nil {
					defer m.inner.Thaw()
				}
			}
		}
		err := m.call(func(ctx context.Context, c *sddbus.Conn) error {
			return c.SetUnitPropertiesContext(ctx, m.unit, true, props...)
		})
		if err != nil {
			return fmt.Errorf("systemd cgroup driver: set properties of %s: %w", m.unit, err)
		}
	}
	return m.inner.Set(r)
}

// Destroy stops the unit (a missing unit is fine), clears a failed state
// systemd would keep it in (an OOM kill, a non-zero exit), and removes
// whatever directories are left, such as v1 hierarchies systemd does not
// manage. When systemd does not answer in time the stop is left queued
// on the bus, the directories systemd does not watch are removed, and
// the error says so (IsStalled): the kernel holds no process of the
// container any more, and systemd stops the emptied unit and removes its
// cgroup when it runs again.
func (m *systemdManager) Destroy() error {
	what := "systemd cgroup driver: stop unit " + m.unit
	err := m.call(func(ctx context.Context, c *sddbus.Conn) error {
		done := make(chan string, 1)
		_, err := c.StopUnitContext(ctx, m.unit, "replace", done)
		if err == nil {
			err = waitJob(ctx, done, what)
		} else if isDBusError(err, "NoSuchUnit") {
			err = nil
		}
		if rerr := c.ResetFailedUnitContext(ctx, m.unit); rerr != nil && !isDBusError(rerr, "NoSuchUnit") && err == nil {
			err = fmt.Errorf("reset-failed: %w", rerr)
		}
		if ctx.Err() != nil {
			m.queueUndo(c)
		}
		return err
	})
	if err != nil && !strings.HasPrefix(err.Error(), what) {
		err = fmt.Errorf("%s: %w", what, err)
	}
	destroy := m.inner.Destroy
	if IsStalled(err) {
		destroy = m.destroyUnwatched
	}
	if ierr := destroy(); err == nil || (IsStalled(err) && ierr != nil) {
		err = ierr
	}
	return err
}

// destroyUnwatched removes the directories systemd does not watch. The
// ones it does (the cgroup2 one, v1's name=systemd) are how it learns
// that the unit's processes are gone: a stalled systemd that wakes to
// find them empty stops the unit and removes them; removed under it,
// it would keep the unit active.
func (m *systemdManager) destroyUnwatched() error {
	fm, ok := m.inner.(*fsManager)
	if !ok {
		return nil // pure cgroup2: the one directory is systemd's
	}
	paths := make(map[string]string, len(fm.paths))
	for k, p := range fm.paths {
		if k != "" && k != "name=systemd" {
			paths[k] = p
		}
	}
	return newFs(paths, Options{}).Destroy()
}

// IsStalled reports whether err is systemd not answering in time.
func IsStalled(err error) bool {
	var s *errStalled
	return errors.As(err, &s)
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
		timeout: systemdTimeout(),
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
