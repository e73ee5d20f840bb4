package integration

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestContractPidfdSocket: --pidfd-socket (runc 1.2) on create, run -d and
// exec sends one pidfd over the socket, and the kernel says it is a pidfd
// of the process the command started (fdinfo's Pid line).
func TestContractPidfdSocket(t *testing.T) {
	t.Parallel()
	if runcBefore12(t, "--pidfd-socket") {
		return
	}
	r := newRuntime(t)

	t.Run("create", func(t *testing.T) {
		sock, got := pidfdListener(t)
		c := r.create(newBundle(t, sleeper...), "--pidfd-socket", sock)
		if want := r.mustState(c.ID).Pid; <-got != want {
			t.Errorf("create: the pidfd is not the init's (want pid %d)", want)
		}
	})
	t.Run("run-detached", func(t *testing.T) {
		sock, got := pidfdListener(t)
		b := newBundle(t, sleeper...)
		b.save(t)
		id := newID(t)
		r.trackCleanup(id)
		r.mustRun("run", "-d", "--bundle", b.Dir, "--pidfd-socket", sock, id)
		if want := r.mustState(id).Pid; <-got != want {
			t.Errorf("run -d: the pidfd is not the init's (want pid %d)", want)
		}
	})
	t.Run("exec", func(t *testing.T) {
		c, _ := r.createStart(newBundle(t, sleeper...))
		sock, got := pidfdListener(t)
		pidFile := filepath.Join(t.TempDir(), "exec.pid")
		r.mustRun("exec", "-d", "--pid-file", pidFile, "--pidfd-socket", sock, c.ID, "sleep", "1000")
		want, err := strconv.Atoi(strings.TrimSpace(readFileString(pidFile)))
		if err != nil {
			t.Fatalf("exec's pid file: %v", err)
		}
		if <-got != want {
			t.Errorf("exec: the pidfd is not the exec'd process's (want pid %d)", want)
		}
	})
}

// pidfdListener listens on a unix socket and reports the pid of the one
// pidfd it receives, as the kernel names it in fdinfo (0: none came).
func pidfdListener(t *testing.T) (string, <-chan int) {
	t.Helper()
	path, fds := pidfdReceiver(t)
	got := make(chan int, 1)
	go func() {
		pid := 0
		if fd := <-fds; fd >= 0 {
			pid = fdinfoPid(fd)
		}
		got <- pid
	}()
	return path, got
}

// pidfdReceiver listens on a unix socket and hands over the one fd it
// receives (-1: none came); the test's cleanup closes it.
func pidfdReceiver(t *testing.T) (string, <-chan int) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pidfd.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan int, 1)
	kept := make(chan int, 1)
	t.Cleanup(func() {
		l.Close()
		if fd := <-kept; fd >= 0 {
			unix.Close(fd)
		}
	})
	go func() {
		fd := -1
		defer func() { kept <- fd; got <- fd }()
		conn, err := l.AcceptUnix()
		if err != nil {
			return
		}
		defer conn.Close()
		oob := make([]byte, unix.CmsgSpace(4))
		_, oobn, _, _, err := conn.ReadMsgUnix(make([]byte, 64), oob)
		if err != nil {
			return
		}
		msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
		if err != nil || len(msgs) != 1 {
			return
		}
		fds, err := unix.ParseUnixRights(&msgs[0])
		if err != nil || len(fds) != 1 {
			return
		}
		fd = fds[0]
	}()
	return path, got
}

// fdinfoPid is the Pid line of a pidfd's fdinfo (0 for any other fd).
func fdinfoPid(fd int) int {
	f, err := os.Open(fmt.Sprintf("/proc/self/fdinfo/%d", fd))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Pid:"); ok {
			pid, _ := strconv.Atoi(strings.TrimSpace(v))
			return pid
		}
	}
	return 0
}
