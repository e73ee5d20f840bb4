package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/tests/internal/harness"
)

// TestContractKillZero: `kill ID 0` asks whether the container is there, as
// kill(2) does: exit 0 while it runs (and the process is untouched),
// non-zero with `container not running` once it has stopped.
func TestContractKillZero(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	c, s := r.createStart(newBundle(t, sleeper...))
	proc := identify(s.Pid)
	r.mustRun("kill", c.ID, "0")
	if !proc.stillAlive() || r.mustState(c.ID).Status != "running" {
		t.Fatalf("kill 0 must leave the container running")
	}
	syscall.Kill(s.Pid, syscall.SIGKILL)
	waitGone(t, proc)
	r.waitStatus(c.ID, "stopped")
	r.mustFail([]string{"container not running"}, "kill", c.ID, "0")
}

// TestContractKillSharedPidns: in the host's pid namespace the init's death
// takes nobody with it: `kill KILL` kills every process of the container's
// cgroup (the init's children and five processes added by `exec -d`), also
// when the init is already gone or the container is paused, and the cgroup
// is empty afterwards
// (cgroup.procs, as the kernel lists it). Then `kill` says `container not
// running` (runc 1.5 exits 0: see RUNC-CONTRACT.md).
func TestContractKillSharedPidns(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"init-alive", "init-gone", "paused"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			b := newBundle(t, "sh", "-c", "sleep 1000 & sleep 1001 & wait")
			removeNamespace(b, specs.PIDNamespace)
			c, s := r.createStart(b)
			procsFile := cgroupProcsFile(t, s.Pid)
			for i := 0; i < 5; i++ {
				r.mustRun("exec", "-d", c.ID, "sleep", strconv.Itoa(2000+i))
			}
			var procs []procIdentity
			for _, pid := range waitProcs(t, s.Pid, 8) {
				procs = append(procs, identify(pid))
			}
			switch how {
			case "init-gone":
				syscall.Kill(s.Pid, syscall.SIGKILL)
				waitGone(t, identify(s.Pid))
			case "paused":
				r.mustRun("pause", c.ID)
			}
			r.mustRun("kill", c.ID, "KILL")
			if how == "paused" && isRunc() && r.mustState(c.ID).Status == "paused" &&
				knownRuncBug(t, "runc 1.5 signals a paused container's processes on a hybrid host but leaves them frozen") {
				r.mustRun("resume", c.ID)
			}
			for _, p := range procs {
				waitGone(t, p)
			}
			if left := lines(readFileString(procsFile)); len(left) > 0 {
				t.Errorf("%s still lists %v after kill KILL", procsFile, left)
			}
			r.waitStatus(c.ID, "stopped")
			if res := r.run("kill", c.ID, "KILL"); res.Code == 0 && isRunc() &&
				knownRuncBug(t, "runc 1.5 signals the empty cgroup of a stopped container and exits 0 (the runtime-spec: an error)") {
				return
			}
			r.mustFail([]string{"container not running"}, "kill", c.ID, "KILL")
		})
	}
}

// pfExiting is the kernel's PF_EXITING, a flag of /proc/<pid>/stat.
const pfExiting = 0x4

// TestKillSharedPidnsStuckInExit: `kill KILL` of a container without a pid
// namespace of its own succeeds although a killed process of it is still
// listed in its cgroup, because that process has begun to exit (the
// kernel sets PF_EXITING) and waits there for a FUSE server to answer the
// flush of a file it had open: it can never run again. Once the
// server lets go, the process is gone and the cgroup empty.
func TestKillSharedPidnsStuckInExit(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	removeNamespace(b, specs.PIDNamespace)
	fuse := newFlushHolder(t, filepath.Join(b.Rootfs, "fuse"))
	c, s := r.createStart(b)
	t.Cleanup(fuse.release) // before the container's cleanup: let its processes go
	procsFile := cgroupProcsFile(t, s.Pid)
	pidFile := filepath.Join(t.TempDir(), "exec.pid")
	r.mustRun("exec", "-d", "--pid-file", pidFile, c.ID, "sh", "-c", "exec 3</fuse/f; exec sleep 1001")
	pid, err := strconv.Atoi(strings.TrimSpace(readFileString(pidFile)))
	if err != nil {
		t.Fatalf("exec --pid-file: %v", err)
	}
	waitExec(t, pid, []string{"sleep", "1001"})
	stuck, init := identify(pid), identify(s.Pid)

	r.mustRun("kill", c.ID, "KILL")
	waitGone(t, init)
	select {
	case from := <-fuse.flushed:
		if from != pid {
			t.Errorf("the FLUSH held came from process %d, want %d", from, pid)
		}
	case <-time.After(hangGuard):
		t.Fatalf("process %d never flushed its FUSE file on its way out", pid)
	}
	// what the test is about: the kernel still lists the killed process,
	// which is exiting (PF_EXITING, not yet a zombie) and cannot run again
	st := readFileString(fmt.Sprintf("/proc/%d/stat", pid))
	if state := harness.ProcState(pid); state == "" || state == "Z" || harness.ProcFlags(pid)&pfExiting == 0 || !slices.Contains(lines(readFileString(procsFile)), strconv.Itoa(pid)) {
		t.Fatalf("process %d should be exiting (PF_EXITING) and still listed in %s: stat %q, cgroup.procs %q",
			pid, procsFile, st, readFileString(procsFile))
	}

	fuse.release()
	waitGone(t, stuck)
	if !harness.Poll(hangGuard, func() bool { return len(lines(readFileString(procsFile))) == 0 }) {
		t.Errorf("%s still lists %v once the process finished its exit", procsFile, lines(readFileString(procsFile)))
	}
}

// TestKillSharedPidnsBlockedInKernel: `kill KILL` of a container without a
// pid namespace of its own fails, naming the process and its state, when
// a killed process of it has not begun to exit after the bound: here it
// waits, unkillable, for a FUSE server to answer a read. A kill that
// reports success has killed. Once the server lets go, the process dies.
func TestKillSharedPidnsBlockedInKernel(t *testing.T) {
	t.Parallel()
	beyondRunc(t, "a kill KILL that waits for the container's cgroup to empty")
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	removeNamespace(b, specs.PIDNamespace)
	fuse := newFlushHolder(t, filepath.Join(b.Rootfs, "fuse"))
	c, s := r.createStart(b)
	t.Cleanup(fuse.release) // before the container's cleanup: let its processes go
	procsFile := cgroupProcsFile(t, s.Pid)
	r.mustRun("exec", "-d", c.ID, "cat", "/fuse/f")
	var pid int
	select {
	case pid = <-fuse.reads:
	case <-time.After(hangGuard):
		t.Fatal("cat never read its FUSE file")
	}
	blocked := identify(pid)

	res := r.mustFail([]string{"still in the container's cgroup"}, "kill", c.ID, "KILL")
	if want := fmt.Sprintf("%d (cat) D", pid); !strings.Contains(res.Stderr, want) {
		t.Errorf("the error should name %q: %s", want, res)
	}
	// the kernel agrees: killed, blocked, not exiting, still listed
	st := readFileString(fmt.Sprintf("/proc/%d/stat", pid))
	if harness.ProcState(pid) != "D" || harness.ProcFlags(pid)&pfExiting != 0 || !slices.Contains(lines(readFileString(procsFile)), strconv.Itoa(pid)) {
		t.Errorf("process %d should be blocked (D), not exiting, and listed in %s: stat %q, cgroup.procs %q",
			pid, procsFile, st, readFileString(procsFile))
	}

	fuse.release()
	waitGone(t, blocked)
	if !harness.Poll(hangGuard, func() bool { return len(lines(readFileString(procsFile))) == 0 }) {
		t.Errorf("%s still lists %v once the read was let go", procsFile, lines(readFileString(procsFile)))
	}
}

// TestContractKillCreatedTerm: SIGTERM ends a created container's parked
// init as it ends runc's (engines stop containers with TERM first), sent
// by `kill ID TERM` or through the pidfd --pidfd-socket handed over. The
// init is in a pid namespace of its own, where the kernel drops every
// signal its init has no handler for.
func TestContractKillCreatedTerm(t *testing.T) {
	t.Parallel()
	if runcBefore12(t, "--pidfd-socket") {
		return
	}
	for _, how := range []string{"kill", "pidfd"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			sock, fds := pidfdReceiver(t)
			c := r.create(newBundle(t, sleeper...), "--pidfd-socket", sock)
			pidfd := <-fds
			s := r.mustState(c.ID)
			proc := identify(s.Pid)
			if how == "kill" {
				r.mustRun("kill", c.ID, "TERM")
			} else {
				if pidfd < 0 {
					t.Fatal("no pidfd came over --pidfd-socket")
				}
				if err := unix.PidfdSendSignal(pidfd, unix.SIGTERM, nil, 0); err != nil {
					t.Fatalf("pidfd_send_signal: %v", err)
				}
			}
			waitGone(t, proc)
			r.waitStatus(c.ID, "stopped")
		})
	}
}

// removeNamespace leaves typ out of the bundle's namespaces: the process
// stays in the host's.
func removeNamespace(b *bundle, typ specs.LinuxNamespaceType) {
	var ns []specs.LinuxNamespace
	for _, n := range b.Spec.Linux.Namespaces {
		if n.Type != typ {
			ns = append(ns, n)
		}
	}
	b.Spec.Linux.Namespaces = ns
}

// cgroupProcsFile is the cgroup.procs of pid's cgroup (the pids
// hierarchy's on cgroup v1), found while pid is alive and readable after.
func cgroupProcsFile(t *testing.T, pid int) string {
	t.Helper()
	ctrl := "pids"
	if isCgroup2() {
		ctrl = ""
	}
	f := cgroupFile(t, pid, ctrl, "cgroup.procs")
	if _, err := os.Stat(filepath.Dir(f)); err != nil {
		t.Fatal(err)
	}
	return f
}
