package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The commands engines call on a running container, beside start/run:
// containerd's shim calls `state` after nearly every operation, `exec`
// for every probe, `kill` and `delete` on every stop; podman calls
// `state`, `ps`, `update`.

func commandsStep() step {
	return step{name: "commands", run: (*bench).commands, rows: []*row{
		{key: "state", title: "`state` of a running container", unit: "ms", chart: "state", rss: true},
		{key: "exec", title: "`exec` /bin/true into a running container", unit: "ms", chart: "exec", rss: true},
		{key: "exec-t", title: "`exec -t -d --console-socket` /bin/true (as containerd's shim)", unit: "ms", chart: "exec -t", rss: true},
		{key: "ps", title: "`ps`", unit: "ms", chart: "ps", rss: true},
		{key: "events", title: "`events --stats` (one sample)", unit: "ms", chart: "events --stats", rss: true},
		{key: "update", title: "`update --pids-limit`", unit: "ms", chart: "update", rss: true},
	}}
}

func stopStep() step {
	return step{name: "stop", run: (*bench).stop, rows: []*row{
		{key: "kill", title: "`kill KILL` of a running container", unit: "ms", chart: "kill", rss: true},
		{key: "delete-f", title: "`delete -f` of a running container", unit: "ms", chart: "delete -f", rss: true},
	}}
}

// commands: one running `sleep` container; n/2 iterations of state, exec,
// exec -t, ps, events --stats, update, one after the other.
func (b *bench) commands(r *rt, round int) (map[string][]float64, error) {
	out := map[string][]float64{}
	id := b.id(round, "cmds", r, 0)
	console, err := listenConsole(filepath.Join(b.tmp, "console-"+r.Name+".sock"))
	if err != nil {
		return nil, err
	}
	defer console.Close()
	r.w.do(func() {
		var pidfd int
		if pidfd, err = b.startSleep(r, id); err != nil {
			return
		}
		defer b.teardown(r, id, pidfd, round, &err)
		execPid := filepath.Join(b.tmp, "exec-pid-"+r.Name)
		for i := 0; i < max(2, b.n/2) && err == nil; i++ {
			cmds := []struct {
				key  string
				args []string
			}{
				{"state", []string{"state", id}},
				{"exec", []string{"exec", id, "/bin/true"}},
				{"exec-t", []string{"exec", "-t", "-d", "--console-socket", console.path, "--pid-file", execPid, id, "/bin/true"}},
				{"ps", []string{"ps", id}},
				{"events", []string{"events", "--stats", id}},
				{"update", []string{"update", "--pids-limit", strconv.Itoa(1000 + i%2), id}},
			}
			for _, c := range cmds {
				if r.lacks[c.args[0]] {
					continue
				}
				os.Remove(execPid)
				var d time.Duration
				if d, err = r.w.cmd(c.args...); err != nil {
					return
				}
				sample(out, c.key, d, r.w)
				if c.key == "exec-t" {
					if err = console.finish(execPid); err != nil {
						return
					}
				}
			}
		}
	})
	for _, key := range []string{"exec", "exec-t", "events", "rss:exec", "rss:exec-t", "rss:events", "cpu:exec", "cpu:exec-t", "cpu:events"} {
		c := strings.TrimSuffix(key[strings.Index(key, ":")+1:], "-t")
		if s := b.row(key).per[r.Name]; r.lacks[c] && s.err == "" {
			s.err = r.Name + ": " + c + " not implemented"
		}
	}
	return out, err
}

// stop: n/4 times, a running container ended by `kill KILL` (then waited
// for and deleted) and another by `delete -f`.
func (b *bench) stop(r *rt, round int) (map[string][]float64, error) {
	out := map[string][]float64{}
	var err error
	r.w.do(func() {
		for i := 0; i < max(2, b.n/4); i++ {
			var pidfd int
			var d time.Duration
			id := b.id(round, "kill", r, i)
			if pidfd, err = b.startSleep(r, id); err != nil {
				return
			}
			d, err = r.w.cmd("kill", id, "KILL")
			if err == nil {
				sample(out, "kill", d, r.w)
				err = waitExitWithin(pidfd, 10*time.Second)
			}
			unix.Close(pidfd)
			if err != nil {
				return
			}
			if _, err = r.w.cmd("delete", id); err != nil {
				return
			}

			id = b.id(round, "deletef", r, i)
			if pidfd, err = b.startSleep(r, id); err != nil {
				return
			}
			d, err = r.w.cmd("delete", "--force", id)
			if err == nil {
				sample(out, "delete-f", d, r.w)
				err = waitExitWithin(pidfd, 10*time.Second)
			}
			unix.Close(pidfd)
			if err != nil {
				return
			}
		}
	})
	return out, err
}

// startSleep creates and starts a container running `sleep 1000` and
// returns a pidfd of its init. It runs on the worker's thread.
func (b *bench) startSleep(r *rt, id string) (int, error) {
	pidFile := filepath.Join(b.tmp, "pid-"+r.Name)
	os.Remove(pidFile)
	if _, err := r.w.cmd("create", "--bundle", b.bundle("sleep"), "--pid-file", pidFile, id); err != nil {
		return -1, err
	}
	pidfd, err := readPidFile(pidFile)
	if err != nil {
		return -1, err
	}
	if _, err := r.w.cmd("start", id); err != nil {
		unix.Close(pidfd)
		return -1, err
	}
	return pidfd, nil
}

// teardown stops a container the way engines do; a failure after good
// samples is a finding of its own, not a reason to drop them.
func (b *bench) teardown(r *rt, id string, pidfd, round int, err *error) {
	if serr := r.w.stop(id, pidfd); serr != nil {
		if *err == nil {
			r.notes = append(r.notes, fmt.Sprintf("round %d: tearing %s down failed: %v", round+1, id, serr))
		}
		r.w.cleanup()
	}
	unix.Close(pidfd)
}

// consoleSocket receives the pty masters of `exec -t --console-socket`,
// as an engine's shim does, and keeps each open until the process it
// belongs to has exited (closing it first would hang the process up).
type consoleSocket struct {
	path string
	l    *net.UnixListener
	fds  chan int
}

func listenConsole(path string) (*consoleSocket, error) {
	os.Remove(path)
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("console socket: %w", err)
	}
	c := &consoleSocket{path: path, l: l, fds: make(chan int, 16)}
	go c.accept()
	return c, nil
}

func (c *consoleSocket) accept() {
	for {
		conn, err := c.l.AcceptUnix()
		if err != nil {
			close(c.fds)
			return
		}
		buf, oob := make([]byte, 4096), make([]byte, unix.CmsgSpace(4*4))
		_, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
		conn.Close()
		if err != nil {
			continue
		}
		msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
		for _, m := range msgs {
			fds, _ := unix.ParseUnixRights(&m)
			for _, fd := range fds {
				c.fds <- fd
			}
		}
	}
}

// finish waits for the exec'd process (its pid file) to exit, reaps it
// (the driver is the subreaper) and closes its pty master.
func (c *consoleSocket) finish(pidFile string) error {
	var master int
	select {
	case fd, ok := <-c.fds:
		if !ok {
			return fmt.Errorf("console socket closed")
		}
		master = fd
	case <-time.After(10 * time.Second):
		return fmt.Errorf("no pty master on the console socket within 10s")
	}
	defer unix.Close(master)
	pidfd, err := readPidFile(pidFile)
	if err != nil {
		return err
	}
	defer unix.Close(pidfd)
	return waitExitWithin(pidfd, 10*time.Second)
}

func (c *consoleSocket) Close() { c.l.Close(); os.Remove(c.path) }
