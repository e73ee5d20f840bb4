package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// Runtime is one OCI runtime under test, with its own state root.
type Runtime struct {
	Name    string
	Bin     string
	Root    string
	Version string
	// Hide is an empty file bound over the cgroup2 root's cgroup.controllers
	// in a private mount namespace, for crun 1.8, which refuses a hybrid
	// layout whose cgroup2 root lists controllers. "" runs in the host's
	// mount namespace.
	Hide string
	// Spawn, when set, is the launcher (tests/bench/spawn.c) every command
	// runs through: it times the command and reports its own ru_maxrss.
	Spawn string
}

// stopping is set by SIGINT or SIGTERM: every loop ends at its next
// command, and the containers left are deleted before the driver exits.
var (
	stopping       atomic.Bool
	errInterrupted = errors.New("interrupted")
)

const controllersFile = "/sys/fs/cgroup/unified/cgroup.controllers"

// worker runs functions on one locked OS thread. Go forks children from
// the calling thread, so a thread that unshared its mount namespace starts
// every runtime it executes in that namespace: the runtime under test is
// executed directly, with no unshare(1) or shell in the measured time.
type worker struct {
	rt   *Runtime
	jobs chan func()
	out  *os.File // the commands' stdout and stderr
	res  *os.File // spawn's result line
	last usage    // what the last command executed cost
}

// usage: what wait4 reports for a command, the runtime process together
// with the children it waited for (a `run`'s container init, runc's
// `runc init`): GNU time's %M and %U+%S. Only spawn's are right: see
// spawn.c for why the driver's own wait4 overstates ru_maxrss.
type usage struct {
	maxRSS float64 // KiB
	cpu    float64 // ms of user + system time
}

func (rt *Runtime) newWorker(tmp string) (*worker, error) {
	out, err := os.CreateTemp(tmp, "out-"+rt.Name+"-")
	if err != nil {
		return nil, err
	}
	res, err := os.CreateTemp(tmp, "res-"+rt.Name+"-")
	if err != nil {
		out.Close()
		return nil, err
	}
	w := &worker{rt: rt, jobs: make(chan func()), out: out, res: res}
	ready := make(chan error)
	go func() {
		// never unlocked: when the jobs channel closes, the goroutine ends and
		// the Go runtime ends the thread, and with it the private namespace
		runtime.LockOSThread()
		if rt.Hide != "" {
			if err := hideControllers(rt.Hide); err != nil {
				ready <- err
				return
			}
		}
		ready <- nil
		for job := range w.jobs {
			job()
		}
	}()
	if err := <-ready; err != nil {
		out.Close()
		return nil, fmt.Errorf("%s: private mount namespace: %w", rt.Name, err)
	}
	return w, nil
}

func hideControllers(empty string) error {
	if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
		return fmt.Errorf("unshare: %w", err)
	}
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("make / private: %w", err)
	}
	if err := unix.Mount(empty, controllersFile, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("bind %s over %s: %w", empty, controllersFile, err)
	}
	return nil
}

// do runs fn on the worker's thread and waits for it.
func (w *worker) do(fn func()) {
	done := make(chan struct{})
	w.jobs <- func() { fn(); close(done) }
	<-done
}

func (w *worker) close() {
	close(w.jobs)
	w.out.Close()
	w.res.Close()
}

// cmd executes the runtime with its --root and args and returns the wall
// time from fork to reaped exit. It must run on the worker's thread.
func (w *worker) cmd(args ...string) (time.Duration, error) {
	if stopping.Load() {
		return 0, errInterrupted
	}
	return w.exec(w.rt.Bin, append([]string{"--root", w.rt.Root}, args...)...)
}

func (w *worker) exec(bin string, args ...string) (time.Duration, error) {
	for _, f := range []*os.File{w.out, w.res} {
		if err := f.Truncate(0); err != nil {
			return 0, err
		}
		if _, err := f.Seek(0, 0); err != nil {
			return 0, err
		}
	}
	c := exec.Command(bin, args...)
	if w.rt.Spawn != "" {
		c = exec.Command(w.rt.Spawn, append([]string{bin}, args...)...)
		c.ExtraFiles = []*os.File{w.res}
	}
	c.Stdout, c.Stderr = w.out, w.out
	t0 := time.Now()
	err := c.Run()
	d := time.Since(t0)
	w.last = usage{}
	if err != nil {
		return d, fmt.Errorf("%s %s: %v: %s", filepath.Base(bin), strings.Join(args, " "), err, w.output())
	}
	if w.rt.Spawn == "" {
		return d, nil
	}
	line, _ := os.ReadFile(w.res.Name())
	var wall int64
	var maxRSS, utime, stime float64
	if _, err := fmt.Sscan(string(line), &wall, &maxRSS, &utime, &stime); err != nil {
		return d, fmt.Errorf("spawn %s: result %q: %v", filepath.Base(bin), line, err)
	}
	w.last = usage{maxRSS: maxRSS, cpu: (utime + stime) / 1000}
	return time.Duration(wall), nil
}

// output is the last few lines the last command wrote, for error messages.
func (w *worker) output() string {
	b, _ := os.ReadFile(w.out.Name())
	b = bytes.TrimSpace(b)
	lines := strings.Split(string(b), "\n")
	if len(lines) > 3 {
		lines = lines[len(lines)-3:]
	}
	return strings.Join(lines, " | ")
}

// cleanup removes whatever containers are left under the runtime's root
// (after a failure or an interrupt): SIGKILL, reap (the driver is the
// subreaper, so the init may be ours to reap), delete --force.
func (w *worker) cleanup() {
	entries, _ := os.ReadDir(w.rt.Root)
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		w.do(func() {
			pidfd := -1
			if _, err := w.exec(w.rt.Bin, "--root", w.rt.Root, "state", e.Name()); err == nil {
				var st struct{ Pid int }
				if b, err := os.ReadFile(w.out.Name()); err == nil && json.Unmarshal(b, &st) == nil && st.Pid > 0 {
					pidfd, _ = unix.PidfdOpen(st.Pid, 0)
				}
			}
			if pidfd >= 0 {
				unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0)
				waitExitWithin(pidfd, 10*time.Second)
				unix.Close(pidfd)
			}
			w.exec(w.rt.Bin, "--root", w.rt.Root, "delete", "--force", e.Name())
		})
	}
}

// stop ends a running container the way engines do: kill it, wait for
// its init to exit (reaping it, as a shim would), delete it.
func (w *worker) stop(id string, pidfd int) error {
	if _, err := w.cmd("kill", id, "KILL"); err != nil {
		return err
	}
	if err := waitExitWithin(pidfd, 10*time.Second); err != nil {
		return fmt.Errorf("%s kill %s KILL: %w; %s", w.rt.Name, id, err, pidNamespaceProcs(pidfd))
	}
	_, err := w.cmd("delete", id)
	return err
}

// pidNamespaceProcs lists the processes that share the pid namespace of
// the process behind pidfd, for a diagnosis of an init that cannot exit.
func pidNamespaceProcs(pidfd int) string {
	pid := pidOf(pidfd)
	if pid <= 0 {
		return "init pid unknown"
	}
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid_for_children", pid))
	if err != nil {
		return fmt.Sprintf("init %d: %v", pid, err)
	}
	var out []string
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if l, err := os.Readlink("/proc/" + e.Name() + "/ns/pid"); err == nil && l == ns {
			stat, _ := os.ReadFile("/proc/" + e.Name() + "/stat")
			out = append(out, strings.TrimSpace(string(stat)))
		}
	}
	return fmt.Sprintf("processes in its pid namespace (pid, comm, state, ppid): %s", strings.Join(out, "; "))
}

func pidOf(pidfd int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/self/fdinfo/%d", pidfd))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "Pid:"); ok {
			var pid int
			fmt.Sscanf(strings.TrimSpace(v), "%d", &pid)
			return pid
		}
	}
	return -1
}

// waitExit waits for a process that is not our child by the time it exits
// (a container's init after `create` returned) and reaps it: the driver is
// a child subreaper, so orphaned inits come to it.
func waitExit(pidfd int) error { return waitExitWithin(pidfd, 60*time.Second) }

func waitExitWithin(pidfd int, limit time.Duration) error {
	fds := []unix.PollFd{{Fd: int32(pidfd), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(fds, int(limit.Milliseconds()))
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return fmt.Errorf("poll pidfd: %w", err)
		}
		if fds[0].Revents&unix.POLLIN == 0 {
			return fmt.Errorf("container init did not exit within %s", limit)
		}
		break
	}
	reap(pidfd)
	return nil
}

// reap collects an exited init if it is ours (it is not when its parent
// was still alive at its exit); never blocks.
func reap(pidfd int) {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PIDFD, pidfd, &info, unix.WEXITED|unix.WNOHANG, nil)
		if err != unix.EINTR {
			return
		}
	}
}

// readPidFile opens a pidfd for the pid a runtime wrote.
func readPidFile(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return -1, err
	}
	var pid int
	if _, err := fmt.Sscanf(strings.TrimSpace(string(b)), "%d", &pid); err != nil {
		return -1, fmt.Errorf("pid file %s: %q", path, b)
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return -1, fmt.Errorf("pidfd_open %d: %w", pid, err)
	}
	return fd, nil
}
