package integration

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestExecDetachPipes: `exec --detach` as containerd's shim runs it: pipes as
// stdio, --user and --cwd, the output read once the runtime has exited. The
// process writes into the caller's own pipe (same inode, blocking), nothing
// but the process keeps a write end (EOF comes when it exits), and every
// line it wrote is there.
func TestExecDetachPipes(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	c, _ := r.createStart(b)

	// a process that stays: its fds as the kernel sees them
	out, outW := mustPipe(t)
	pidFile := r.dir + "/held.pid"
	execPiped(t, r, outW, "--pid-file", pidFile, c.ID, "sleep", "300")
	pid, err := strconv.Atoi(strings.TrimSpace(readFileString(pidFile)))
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	var ours unix.Stat_t
	if err := unix.Fstat(int(out.Fd()), &ours); err != nil {
		t.Fatal(err)
	}
	for _, fd := range []int{1, 2} {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, fd))
		if want := fmt.Sprintf("pipe:[%d]", ours.Ino); err != nil || link != want {
			t.Errorf("fd %d of the exec'd process is %q (%v), want the caller's %s", fd, link, err, want)
		}
		flags := fdinfoFlags(t, pid, fd)
		if flags&unix.O_NONBLOCK != 0 {
			t.Errorf("fd %d of the exec'd process has O_NONBLOCK (flags %o): its writes may fail with EAGAIN", fd, flags)
		}
	}
	out.Close()

	// short processes, each printing one line and exiting at once
	for i := range 20 {
		out, outW := mustPipe(t)
		execPiped(t, r, outW, "--user", "1000", "--cwd", "/tmp", c.ID, "sh", "-c", `echo "$(id -u) $(pwd)"; echo err >&2`)
		got, err := readToEOF(out, hangGuard)
		out.Close()
		if err != nil {
			t.Fatalf("exec %d: the pipe never reached EOF (something still holds a write end): %v; read %q", i, err, got)
		}
		if want := "1000 /tmp\nerr\n"; got != want {
			t.Fatalf("exec %d: the pipe carried %q, want %q", i, got, want)
		}
	}
}

// mustPipe makes a pipe whose write end stays blocking, as a caller passing
// it to a child through os/exec has it.
func mustPipe(t *testing.T) (r, w *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() })
	if err := unix.SetNonblock(int(w.Fd()), false); err != nil {
		t.Fatal(err)
	}
	return r, w
}

// execPiped runs `exec --detach ARGS` with stdin /dev/null and stdout and
// stderr both the write end w, then closes w: from then on only what the
// runtime left behind holds it.
func execPiped(t *testing.T, r *runtime, w *os.File, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), defaultTimeout)
	defer cancel()
	full := append([]string{"--root", r.root, "exec", "--detach"}, args...)
	cmd := exec.CommandContext(ctx, runtimeBin, full...)
	cmd.Stdout, cmd.Stderr = w, w
	err := cmd.Run()
	w.Close()
	if err != nil {
		t.Fatalf("%s: %v", strings.Join(full, " "), err)
	}
}

// readToEOF reads r until EOF or the deadline.
func readToEOF(r *os.File, d time.Duration) (string, error) {
	if err := r.SetReadDeadline(time.Now().Add(d)); err != nil {
		return "", err
	}
	data, err := io.ReadAll(r)
	return string(data), err
}

// fdinfoFlags is the file status flags of a process's fd, octal in
// /proc/PID/fdinfo/FD.
func fdinfoFlags(t *testing.T, pid, fd int) int {
	t.Helper()
	for _, line := range strings.Split(readFileString(fmt.Sprintf("/proc/%d/fdinfo/%d", pid, fd)), "\n") {
		if v, ok := strings.CutPrefix(line, "flags:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 8, 64)
			if err != nil {
				t.Fatalf("fdinfo flags %q: %v", v, err)
			}
			return int(n)
		}
	}
	t.Fatalf("no flags in /proc/%d/fdinfo/%d", pid, fd)
	return 0
}
