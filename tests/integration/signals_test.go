package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/casco-runtime/casco/tests/internal/harness"
)

// trapScript says "ready" once its traps are set, prints each signal it
// gets and exits 7 on SIGTERM.
const trapScript = `trap 'echo got-USR1' USR1; trap 'echo got-HUP' HUP; trap 'echo got-37' 37; trap 'echo got-ABRT' ABRT; trap 'echo got-TERM; exit 7' TERM; echo ready; while true; do sleep 0.1; done`

// TestForwardSignals: a foreground run or exec passes the signals it gets
// to the container's process and exits with that process's code, as runc
// does (shells and supervisors signal the runtime, not the container).
func TestForwardSignals(t *testing.T) {
	t.Parallel()
	t.Run("run", func(t *testing.T) {
		t.Parallel()
		r := newRuntime(t)
		b := newBundle(t, "sh", "-c", trapScript)
		id := newID(t)
		b.save(t)
		r.trackCleanup(id)
		checkForwarding(t, r, "run", "--bundle", b.Dir, id)
	})
	t.Run("exec", func(t *testing.T) {
		t.Parallel()
		r := newRuntime(t)
		c, _ := r.createStart(newBundle(t, sleeper...))
		checkForwarding(t, r, "exec", c.ID, "sh", "-c", trapScript)
	})
}

// checkForwarding starts `$RUNTIME args...` in the foreground, signals it
// once the container's process is ready and checks what that process saw.
func checkForwarding(t *testing.T, r *runtime, args ...string) {
	t.Helper()
	out := filepath.Join(r.dir, "forward-out")
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cmd := exec.Command(runtimeBin, append([]string{"--root", r.root}, args...)...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	waitFor := func(s string) {
		t.Helper()
		if !harness.Poll(hangGuard, func() bool { return strings.Contains(readFileString(out), s) }) {
			cmd.Process.Kill()
			<-done
			t.Fatalf("`%s` never printed %q; output %q", strings.Join(args, " "), s, readFileString(out))
		}
	}
	waitFor("ready")
	for _, s := range []struct {
		sig  syscall.Signal
		name string
	}{
		{syscall.SIGUSR1, "got-USR1"}, {syscall.SIGHUP, "got-HUP"},
		{syscall.Signal(37), "got-37"}, // a real-time signal (SIGRTMIN+3 to glibc: systemd's halt)
		{syscall.SIGABRT, "got-ABRT"},  // one the Go runtime keeps for its own faults
	} {
		if err := cmd.Process.Signal(s.sig); err != nil {
			t.Fatal(err)
		}
		waitFor(s.name)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	case <-time.After(defaultTimeout):
		cmd.Process.Kill()
		<-done
		t.Fatalf("`%s` did not exit after SIGTERM; output %q", strings.Join(args, " "), readFileString(out))
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() || ws.ExitStatus() != 7 {
		t.Errorf("`%s` ended with %v, want exit 7 (the process's own code after its TERM trap); output %q",
			strings.Join(args, " "), cmd.ProcessState, readFileString(out))
	}
	if !strings.Contains(readFileString(out), "got-TERM") {
		t.Errorf("the process never saw SIGTERM; output %q", readFileString(out))
	}
}
