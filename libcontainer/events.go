package libcontainer

import (
	"fmt"
	"path/filepath"
	"strconv"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/cgroups"
	"github.com/casco-runtime/casco/libcontainer/fault"
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
	pidfd, err := c.pinInit()
	if err != nil {
		return err
	}
	defer unix.Close(pidfd)
	m, err := c.cgroup()
	if err != nil {
		// runc fails here too: its OOM notifier finds no memory cgroup
		return fmt.Errorf("events %s: cannot watch it: %w", c.State.ID, err)
	}
	w := &watcher{id: c.State.ID, emit: emit, m: m, alive: c.State.alive}
	w.notify, w.closeNotify = oomNotifier(c.State.CgroupPaths)
	defer w.closeNotify()
	c.Unlock()

	w.kills, _ = m.OOMKillCount()
	if w.stats, err = newStatsReader(m); err != nil {
		return fmt.Errorf("events %s: %w", w.id, err)
	}
	defer w.stats.close()
	return w.run(pidfd, interval)
}

// pinInit opens a pidfd on the running container's init, so that its
// exit is seen even once the pid is reused.
func (c *Container) pinInit() (int, error) {
	if !c.State.alive() {
		return -1, c.errNotRunning()
	}
	pidfd, err := unix.PidfdOpen(c.State.Pid, 0)
	if err != nil {
		return -1, c.errNotRunning()
	}
	if !c.State.alive() { // the pid was recycled between the check and the open
		unix.Close(pidfd)
		return -1, c.errNotRunning()
	}
	return pidfd, nil
}

// watcher is one Watch: the container's cgroup, the OOM kills reported so
// far, the OOM notification (-1 for none) and the stats read off the loop.
type watcher struct {
	id          string
	emit        func(Event) error
	m           cgroups.Manager
	alive       func() bool
	kills       uint64
	notify      int
	closeNotify func()
	stats       *statsReader
	// The v1 notification comes when the OOM starts, before the killer
	// has picked a victim (and v2's memory.events changes at both steps):
	// after one, keep re-reading the count briefly.
	recheckUntil time.Time
}

// run waits on the init's pidfd, the stats reader and the OOM
// notification, and emits what they tell, until the init exits.
func (w *watcher) run(pidfd int, interval time.Duration) error {
	next := time.Now().Add(interval)
	buf := make([]byte, 4096)
	for {
		fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}, {Fd: int32(w.stats.ready), Events: unix.POLLIN}}
		if w.notify >= 0 {
			fds = append(fds, unix.PollFd{Fd: int32(w.notify), Events: unix.POLLIN})
		}
		if _, err := unix.Poll(fds, w.pollTimeout(next)); err != nil && err != unix.EINTR {
			return fmt.Errorf("events: poll: %w", err)
		}
		if fds[0].Revents != 0 { // the init has exited
			return w.checkOOM()
		}
		if fds[1].Revents != 0 {
			if err := w.emitStats(); err != nil {
				return err
			}
		}
		if len(fds) > 2 && fds[2].Revents != 0 {
			w.takeNotification(fds[2].Revents, buf)
		}
		if err := w.checkOOM(); err != nil {
			return err
		}
		if now := time.Now(); !now.Before(next) {
			if next = next.Add(interval); next.Before(now) {
				next = now.Add(interval) // fell behind (a suspended host): don't burst
			}
			w.stats.start() // a read still in flight is not doubled
		}
	}
}

// pollTimeout is how long to wait, in milliseconds: until the next tick,
// or the next re-read of the kill count after an OOM notification.
func (w *watcher) pollTimeout(next time.Time) int {
	wait := time.Until(next)
	if time.Now().Before(w.recheckUntil) && wait > recheckEvery {
		wait = recheckEvery
	}
	if wait < 0 {
		wait = 0
	}
	return int((wait + time.Millisecond - 1) / time.Millisecond)
}

// emitStats emits the finished stats read; a failed read is logged,
// unless the container is gone (its cgroup with it).
func (w *watcher) emitStats() error {
	s, err := w.stats.result()
	if err != nil {
		if w.alive() {
			logrus.Errorf("events %s: %v", w.id, err)
		}
		return nil
	}
	return w.emit(Event{Type: "stats", ID: w.id, Data: s})
}

// takeNotification drains the OOM notification (or drops it when the
// kernel closed it) and starts re-reading the kill count.
func (w *watcher) takeNotification(revents int16, buf []byte) {
	if revents&(unix.POLLERR|unix.POLLHUP|unix.POLLNVAL) != 0 {
		w.closeNotify()
		w.notify = -1
	} else {
		unix.Read(w.notify, buf) // drain: eventfd counter or inotify records
	}
	w.recheckUntil = time.Now().Add(recheckFor)
}

// checkOOM emits one oom event per kill counted since the last check.
func (w *watcher) checkOOM() error {
	n, err := w.m.OOMKillCount()
	if err != nil {
		return nil // the cgroup is being removed: nothing more to count
	}
	for ; w.kills < n; w.kills++ {
		if err := w.emit(Event{Type: "oom", ID: w.id}); err != nil {
			return err
		}
	}
	return nil
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
