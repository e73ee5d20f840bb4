package libcontainer

import (
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/cgroups"
	"github.com/casco-runtime/casco/libcontainer/internal/fault"
)

// Event is one line of `casco events`: runc's types.Event.
type Event struct {
	Type string `json:"type"` // "stats" or "oom"
	ID   string `json:"id"`
	Data any    `json:"data,omitempty"`
}

// errNotRunning is runc's wording for events on a stopped container.
func (c *Container) errNotRunning() error {
	return fmt.Errorf("container with id %s is not running", c.State.ID)
}

// Stats returns the statistics of the container's cgroup (the data of
// runc's `events --stats`).
func (c *Container) Stats() (*cgroups.Stats, error) {
	if c.Status() == Stopped {
		return nil, c.errNotRunning()
	}
	if c.noCgroup() {
		return cgroups.Unmanaged().Stats() // zero, as runc prints them
	}
	m, err := c.cgroup()
	if err != nil {
		return nil, err
	}
	s, err := m.Stats()
	if err != nil {
		return nil, fmt.Errorf("stats of %s: %w", c.State.ID, err)
	}
	return s, nil
}

// Watch emits a stats event every interval and one oom event for each
// process the OOM killer kills in the container's cgroup, until the
// container's init exits. The first stats event comes after one interval,
// as in runc.
//
// Watch releases the container's lock before it starts: a watcher lives as
// long as the container and must not hold up kill, pause or delete. It
// needs no lock afterwards: the init is pinned by a pidfd and the cgroup
// is only read.
//
// OOM kills are noticed at once through the kernel's notification (an
// eventfd on v1's memory.oom_control, inotify on v2's memory.events), and
// the count is also re-read at every tick and when the init exits, so a
// kill that ends the container is still reported before Watch returns.
// An error from emit (stdout gone) ends the watch.
func (c *Container) Watch(interval time.Duration, emit func(Event) error) error {
	defer c.Unlock()
	if interval <= 0 {
		return fmt.Errorf("events: the interval must be greater than 0, not %v", interval)
	}
	if !c.State.alive() {
		return c.errNotRunning()
	}
	pidfd, err := unix.PidfdOpen(c.State.Pid, 0)
	if err != nil {
		return c.errNotRunning()
	}
	defer unix.Close(pidfd)
	if !c.State.alive() { // the pid was recycled between the check and the open
		return c.errNotRunning()
	}
	m, err := c.cgroup()
	if err != nil {
		// runc fails here too: its OOM notifier finds no memory cgroup
		return fmt.Errorf("events %s: cannot watch it: %w", c.State.ID, err)
	}
	id := c.State.ID
	notify, closeNotify := oomNotifier(c.State.CgroupPaths)
	defer closeNotify()
	c.Unlock()

	kills, _ := m.OOMKillCount()
	checkOOM := func() error {
		n, err := m.OOMKillCount()
		if err != nil {
			return nil // the cgroup is being removed: nothing more to count
		}
		for ; kills < n; kills++ {
			if err := emit(Event{Type: "oom", ID: id}); err != nil {
				return err
			}
		}
		return nil
	}
	stats, err := newStatsReader(m)
	if err != nil {
		return fmt.Errorf("events %s: %w", id, err)
	}
	defer stats.close()
	next := time.Now().Add(interval)
	// The v1 notification comes when the OOM starts, before the killer
	// has picked a victim (and v2's memory.events changes at both steps):
	// after one, keep re-reading the count briefly.
	var recheckUntil time.Time
	buf := make([]byte, 4096)
	for {
		fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}, {Fd: int32(stats.ready), Events: unix.POLLIN}}
		if notify >= 0 {
			fds = append(fds, unix.PollFd{Fd: int32(notify), Events: unix.POLLIN})
		}
		wait := time.Until(next)
		if time.Now().Before(recheckUntil) && wait > recheckEvery {
			wait = recheckEvery
		}
		if wait < 0 {
			wait = 0
		}
		ms := int((wait + time.Millisecond - 1) / time.Millisecond)
		if _, err := unix.Poll(fds, ms); err != nil && err != unix.EINTR {
			return fmt.Errorf("events: poll: %w", err)
		}
		if fds[0].Revents != 0 { // the init has exited
			return checkOOM()
		}
		if fds[1].Revents != 0 {
			s, err := stats.result()
			if err != nil && c.State.alive() {
				logrus.Errorf("events %s: %v", id, err)
			} else if err == nil {
				if err := emit(Event{Type: "stats", ID: id, Data: s}); err != nil {
					return err
				}
			}
		}
		if len(fds) > 2 && fds[2].Revents != 0 {
			if fds[2].Revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0 {
				closeNotify()
				notify = -1
			} else {
				unix.Read(notify, buf) // drain: eventfd counter or inotify records
			}
			recheckUntil = time.Now().Add(recheckFor)
		}
		if err := checkOOM(); err != nil {
			return err
		}
		if now := time.Now(); !now.Before(next) {
			if next = next.Add(interval); next.Before(now) {
				next = now.Add(interval) // fell behind (a suspended host): don't burst
			}
			stats.start() // a read still in flight is not doubled
		}
	}
}

// statsReader reads the cgroup's statistics off Watch's loop: a read the
// kernel is slow to answer (a cgroup being torn down, memory.stat under
// pressure) must not keep Watch from seeing the init exit. ready (an
// eventfd) becomes readable when a result waits.
type statsReader struct {
	m       cgroups.Manager
	ready   int
	results chan statsResult
	busy    bool
}

type statsResult struct {
	s   *cgroups.Stats
	err error
}

func newStatsReader(m cgroups.Manager) (*statsReader, error) {
	fd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	return &statsReader{m: m, ready: fd, results: make(chan statsResult, 1)}, nil
}

// start begins a read unless one is in flight.
func (r *statsReader) start() {
	if r.busy {
		return
	}
	r.busy = true
	go func() {
		var res statsResult
		if res.err = fault.Step("events", "stats read"); res.err == nil {
			res.s, res.err = r.m.Stats()
		}
		r.results <- res
		unix.Write(r.ready, []byte{1, 0, 0, 0, 0, 0, 0, 0})
	}()
}

// result takes the finished read (ready was readable).
func (r *statsReader) result() (*cgroups.Stats, error) {
	var b [8]byte
	unix.Read(r.ready, b[:])
	res := <-r.results
	r.busy = false
	return res.s, res.err
}

// close leaves a stalled read to end with the process; the eventfd is
// kept open for it.
func (r *statsReader) close() {
	if !r.busy {
		unix.Close(r.ready)
	}
}

// After an OOM notification the kill count is re-read every recheckEvery
// for recheckFor: the killer may take a while to choose and kill.
const (
	recheckEvery = 20 * time.Millisecond
	recheckFor   = 2 * time.Second
)

// oomNotifier returns a non-blocking fd that becomes readable when the
// OOM killer acts in the container's memory cgroup, or -1 when the kernel
// offers no notification there (Watch then relies on its ticks).
func oomNotifier(paths map[string]string) (int, func()) {
	none := func() {}
	if dir, ok := paths["memory"]; ok { // v1 (and hybrid): memory.oom_control events
		efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
		if err != nil {
			return -1, none
		}
		ofd, err := unix.Open(filepath.Join(dir, "memory.oom_control"), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			unix.Close(efd)
			return -1, none
		}
		ctl, err := unix.Open(filepath.Join(dir, "cgroup.event_control"), unix.O_WRONLY|unix.O_CLOEXEC, 0)
		if err == nil {
			_, err = unix.Write(ctl, []byte(strconv.Itoa(efd)+" "+strconv.Itoa(ofd)))
			unix.Close(ctl)
		}
		if err != nil {
			unix.Close(efd)
			unix.Close(ofd)
			return -1, none
		}
		closed := false
		return efd, func() {
			if !closed {
				closed = true
				unix.Close(efd)
				unix.Close(ofd)
			}
		}
	}
	dir, ok := paths[""]
	if !ok {
		return -1, none
	}
	ifd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return -1, none
	}
	if _, err := unix.InotifyAddWatch(ifd, filepath.Join(dir, "memory.events"), unix.IN_MODIFY); err != nil {
		unix.Close(ifd)
		return -1, none
	}
	closed := false
	return ifd, func() {
		if !closed {
			closed = true
			unix.Close(ifd)
		}
	}
}
