package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func ioprioGet(t *testing.T, pid int) int {
	t.Helper()
	r, _, errno := unix.Syscall(unix.SYS_IOPRIO_GET, 1 /* IOPRIO_WHO_PROCESS */, uintptr(pid), 0)
	if errno != 0 {
		t.Fatalf("ioprio_get %d: %v", pid, errno)
	}
	return int(r)
}

func schedGet(t *testing.T, pid int) *unix.SchedAttr {
	t.Helper()
	a, err := unix.SchedGetAttr(pid, 0)
	if err != nil {
		t.Fatalf("sched_getattr %d: %v", pid, err)
	}
	return a
}

// twoCPUs returns two online CPUs the test process may run on, or skips.
func twoCPUs(t *testing.T) (int, int) {
	t.Helper()
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Fatal(err)
	}
	var cpus []int
	for i := 0; i < goruntime.NumCPU()*4 && len(cpus) < 2; i++ {
		if set.IsSet(i) {
			cpus = append(cpus, i)
		}
	}
	if len(cpus) < 2 {
		t.Skipf("needs 2 CPUs, this process may run on %d", set.Count())
	}
	return cpus[0], cpus[1]
}

// TestProcessScheduling: process.scheduler and ioPriority of the init and
// of an exec'd process (given with --process), and execCPUAffinity of the
// exec'd one (the init's is left alone), read back from the kernel:
// sched_getattr, ioprio_get, Cpus_allowed_list.
func TestProcessScheduling(t *testing.T) {
	t.Parallel()
	first, second := twoCPUs(t)
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	b.Spec.Process.Scheduler = &specs.Scheduler{Policy: specs.SchedBatch, Nice: 7, Flags: []specs.LinuxSchedulerFlag{specs.SchedFlagResetOnFork}}
	b.Spec.Process.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 6}
	b.Spec.Process.ExecCPUAffinity = &specs.CPUAffinity{Initial: strconv.Itoa(first), Final: strconv.Itoa(second)}
	c, s := r.createStart(b)

	a := schedGet(t, s.Pid)
	if a.Policy != 3 || a.Nice != 7 || a.Flags&1 == 0 {
		t.Errorf("init: sched_getattr policy %d nice %d flags %#x, want SCHED_BATCH(3) nice 7 reset-on-fork", a.Policy, a.Nice, a.Flags)
	}
	if got := ioprioGet(t, s.Pid); got != 2<<13|6 {
		t.Errorf("init: ioprio_get = %#x, want class BE(2) level 6 (%#x)", got, 2<<13|6)
	}
	// execCPUAffinity "is not applicable to the container's init process"
	if got, want := procStatus(t, s.Pid)["Cpus_allowed_list"], procStatus(t, os.Getpid())["Cpus_allowed_list"]; got != want {
		t.Errorf("init: Cpus_allowed_list %q, want %q as the runtime's caller (execCPUAffinity is for exec only)", got, want)
	}

	// exec with its own settings from --process
	proc := *b.Spec.Process
	proc.Args = []string{"sleep", "300"}
	proc.Scheduler = &specs.Scheduler{Policy: specs.SchedIdle}
	proc.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_IDLE}
	proc.ExecCPUAffinity = &specs.CPUAffinity{Initial: strconv.Itoa(second), Final: fmt.Sprintf("%d,%d", first, second)}
	data, _ := json.Marshal(proc)
	procFile := filepath.Join(r.dir, "process.json")
	if err := os.WriteFile(procFile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(r.dir, "exec.pid")
	r.mustRun("exec", "--detach", "--pid-file", pidFile, "--process", procFile, c.ID)
	pid, err := strconv.Atoi(strings.TrimSpace(readFileString(pidFile)))
	if err != nil {
		t.Fatalf("pid file: %v", err)
	}
	waitExec(t, pid, proc.Args)
	if a := schedGet(t, pid); a.Policy != 5 {
		t.Errorf("exec: sched_getattr policy %d, want SCHED_IDLE(5)", a.Policy)
	}
	if got := ioprioGet(t, pid); got>>13 != 3 {
		t.Errorf("exec: ioprio_get = %#x, want class IDLE(3)", got)
	}
	want := fmt.Sprintf("%d-%d", first, second)
	if second != first+1 {
		want = fmt.Sprintf("%d,%d", first, second)
	}
	if got := procStatus(t, pid)["Cpus_allowed_list"]; got != want {
		t.Errorf("exec: Cpus_allowed_list %q, want %q", got, want)
	}
}

// TestProcessSchedulingRefused: a value the kernel would refuse, or a
// policy Linux lacks, is refused with the field named, before anything is
// made.
func TestProcessSchedulingRefused(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		set  func(p *specs.Process)
		want string
	}{
		"iso":       {func(p *specs.Process) { p.Scheduler = &specs.Scheduler{Policy: specs.SchedISO} }, "process.scheduler.policy"},
		"fifo-prio": {func(p *specs.Process) { p.Scheduler = &specs.Scheduler{Policy: specs.SchedFIFO, Priority: 0} }, "process.scheduler.priority"},
		"ioprio": {func(p *specs.Process) {
			p.IOPriority = &specs.LinuxIOPriority{Class: specs.IOPRIO_CLASS_BE, Priority: 9}
		}, "process.ioPriority"},
		"cpus": {func(p *specs.Process) { p.ExecCPUAffinity = &specs.CPUAffinity{Final: "1-x"} }, "process.execCPUAffinity.final"},
	} {
		t.Run(name, func(t *testing.T) {
			b := newBundle(t, "true")
			tc.set(b.Spec.Process)
			mustRefuseNaming(t, b, tc.want)
		})
	}
}

// mustRefuseNaming runs b in the foreground and wants it refused with an
// error naming field, leaving nothing behind.
func mustRefuseNaming(t *testing.T, b *bundle, field string) {
	t.Helper()
	r := newRuntime(t)
	id, res := r.runForeground(b)
	if res.Code == 0 || !strings.Contains(res.Stderr, field) {
		if res.Code != 0 && knownRuncBug(t, "runc names the field differently") {
			return
		}
		t.Errorf("want a refusal naming %s: %s", field, res)
	}
	noLeftovers(t, r, b, id, "")
}
