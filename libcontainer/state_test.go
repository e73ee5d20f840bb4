package libcontainer

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestReadProcStat reads a live process and then its zombie, through a
// command name made to look like more fields of /proc/<pid>/stat.
func TestReadProcStat(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skipf("no sleep to run: %v", err)
	}
	name := filepath.Join(t.TempDir(), "s) Z 1 4 (")
	if err := os.Symlink(sleep, name); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	st, err := readProcStat(pid)
	if err != nil {
		t.Fatal(err)
	}
	if st.zombie() || st.exiting() || st.start == 0 {
		t.Errorf("a running process reads as %+v", st)
	}
	if err := unix.Kill(pid, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// not reaped yet: it stays a zombie, exiting for good
	deadline := time.Now().Add(time.Minute)
	for {
		got, err := readProcStat(pid)
		if err != nil {
			t.Fatal(err)
		}
		if got.zombie() {
			if got.start != st.start || !got.exiting() {
				t.Errorf("the zombie reads as %+v, was %+v", got, st)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d never became a zombie: %+v", pid, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCanRun keeps a running process and drops its zombie and a reaped
// one: the kill of a cgroup waits only for processes that can still run.
func TestCanRun(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skipf("no sleep to run: %v", err)
	}
	cmd := exec.Command(sleep, "1000")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if got := canRun([]int{pid, os.Getpid()}); len(got) != 2 {
		t.Fatalf("canRun of two running processes: %v", got)
	}
	if err := unix.Kill(pid, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for len(canRun([]int{pid})) > 0 {
		if time.Now().After(deadline) {
			st, err := readProcStat(pid)
			t.Fatalf("killed process %d still counts as running: %+v %v", pid, st, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Wait()
	if got := canRun([]int{pid}); len(got) != 0 {
		t.Errorf("a reaped process counts as running: %v", got)
	}
}

// TestDescribePids names a process with its command and state, and a pid
// that is gone by its number alone.
func TestDescribePids(t *testing.T) {
	self := os.Getpid()
	got := describePids([]int{self, 1 << 30})
	want := fmt.Sprintf("%d (", self)
	if !strings.HasPrefix(got, want) || !strings.HasSuffix(got, fmt.Sprintf(", %d", 1<<30)) {
		t.Errorf("describePids = %q, want %q... and the gone pid alone", got, want)
	}
}

// TestLockDirBounded: a wait for a container's lock ends after the lock
// timeout, naming the lock and the pid holding it (from /proc/locks).
func TestLockDirBounded(t *testing.T) {
	dir := t.TempDir()
	held, err := lockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	t.Setenv(LockTimeoutEnv, "50ms")
	f, err := lockDir(dir) // another open of dir: flock makes it wait
	if err == nil {
		f.Close()
		t.Fatal("took a lock that is held")
	}
	want := fmt.Sprintf("held for more than 50ms (--lock-timeout) by pid %d", os.Getpid())
	if !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), want) {
		t.Errorf("error %q: want it to name %s and %q", err, dir, want)
	}
	held.Close()
	if f, err = lockDir(dir); err != nil {
		t.Fatalf("lock once released: %v", err)
	}
	f.Close()
}
