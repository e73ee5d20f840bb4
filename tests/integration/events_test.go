package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/casco-runtime/casco/tests/internal/harness"
)

// events, and the other commands that read or drive a running container's
// cgroup: pause/resume, ps, kill --all. Each is checked against the
// kernel's files.

// cgroupProcs lists the pids in the cgroup of pid (cgroup.procs of the
// pids controller on v1), sorted.
func cgroupProcs(t *testing.T, pid int) []int {
	t.Helper()
	ctrl := "pids"
	if isCgroup2() {
		ctrl = ""
	}
	var out []int
	for _, l := range lines(readFileString(cgroupFile(t, pid, ctrl, "cgroup.procs"))) {
		n, err := strconv.Atoi(l)
		if err != nil {
			t.Fatalf("cgroup.procs line %q", l)
		}
		out = append(out, n)
	}
	sort.Ints(out)
	return out
}

// waitProcs waits until the cgroup of pid holds n processes.
func waitProcs(t *testing.T, pid, n int) []int {
	t.Helper()
	var procs []int
	if !harness.Poll(hangGuard, func() bool { procs = cgroupProcs(t, pid); return len(procs) == n }) {
		t.Fatalf("the container's cgroup never held %d processes: %v", n, procs)
	}
	return procs
}

// TestEventsStats: `events --stats` prints one stats event whose numbers
// are the kernel's.
func TestEventsStats(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, "sh", "-c", "sleep 1000 & sleep 1001 & wait")
	mem := int64(64 << 20)
	b.Spec.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &mem}
	b.Spec.Linux.Resources.Pids = &specs.LinuxPids{Limit: i64(42)}
	c, s := r.createStart(b)
	waitProcs(t, s.Pid, 3)

	res := r.mustRun("events", "--stats", c.ID)
	ls := lines(res.Stdout)
	if len(ls) != 1 {
		t.Fatalf("events --stats should print one line: %s", res)
	}
	var e harness.Event
	if err := json.Unmarshal([]byte(ls[0]), &e); err != nil {
		t.Fatalf("events --stats: not JSON: %v: %s", err, res)
	}
	if e.Type != "stats" || e.ID != c.ID {
		t.Errorf("event type %q id %q, want stats and %s", e.Type, e.ID, c.ID)
	}
	var d harness.Stats
	if err := json.Unmarshal(e.Data, &d); err != nil {
		t.Fatalf("stats data: %v: %s", err, e.Data)
	}
	if d.Memory.Usage.Usage == 0 {
		t.Errorf("memory.usage.usage is 0: %s", e.Data)
	}
	if d.Memory.Usage.Limit != uint64(mem) {
		t.Errorf("memory.usage.limit = %d, want %d", d.Memory.Usage.Limit, mem)
	}
	if d.Pids.Current != 3 {
		t.Errorf("pids.current = %d, want 3 (sh and two sleeps): %s", d.Pids.Current, e.Data)
	}
	if d.Pids.Limit != 42 {
		t.Errorf("pids.limit = %d, want 42", d.Pids.Limit)
	}
	if d.CPU.Usage.Total == 0 {
		t.Errorf("cpu.usage.total is 0: %s", e.Data)
	}
	if d.Blkio == nil || d.Hugetlb == nil {
		t.Errorf("stats lack blkio or hugetlb: %s", e.Data)
	}

	r.mustFail([]string{"does not exist"}, "events", "--stats", "ct-missing")
	proc := identify(s.Pid)
	r.mustRun("kill", c.ID, "KILL")
	waitGone(t, proc)
	r.waitStatus(c.ID, "stopped")
	r.mustFail([]string{"not running", "stopped"}, "events", "--stats", c.ID)
	r.mustFail([]string{"not running", "stopped"}, "events", c.ID)
}

// TestEventsOOM: `events` streams stats every --interval, reports an OOM
// kill in the container as an oom event, and exits when the container
// stops.
func TestEventsOOM(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	// Once /tmp/go exists, tail buffers /dev/zero (no newline ever) until
	// the OOM killer kills it; the shell lives on.
	b := newBundle(t, "sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.1; done; tail /dev/zero; echo tail-killed; sleep 1000")
	mem := int64(32 << 20)
	b.Spec.Linux.Resources.Memory = &specs.LinuxMemory{Limit: &mem, Swap: &mem}
	c, s := r.createStart(b)

	cmd := exec.Command(runtimeBin, "--root", r.root, "events", "--interval", "200ms", c.ID)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := filepath.Join(r.dir, "events-stderr")
	ef, err := os.Create(stderr)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	cmd.Stderr = ef
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	events := make(chan harness.Event, 1000)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var e harness.Event
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				e = harness.Event{Type: "bad-json: " + sc.Text()}
			}
			events <- e
		}
		close(events)
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
	})
	next := func(what string) harness.Event {
		t.Helper()
		select {
		case e, ok := <-events:
			if !ok {
				t.Fatalf("events exited before %s; stderr %q", what, readFileString(stderr))
			}
			if strings.HasPrefix(e.Type, "bad-json") {
				t.Fatalf("events printed a line that is not JSON: %s", e.Type)
			}
			if e.ID != c.ID {
				t.Errorf("event %s has id %q, want %s", e.Type, e.ID, c.ID)
			}
			return e
		case <-time.After(60 * time.Second):
			t.Fatalf("no event within 60s while waiting for %s; stderr %q", what, readFileString(stderr))
		}
		panic("unreachable")
	}

	// Two stats events: the stream is running (and has read the OOM
	// count it compares against).
	for i := 0; i < 2; i++ {
		if e := next("a stats event"); e.Type != "stats" {
			t.Fatalf("before any OOM, got a %q event", e.Type)
		}
	}
	mustWrite(t, filepath.Join(b.Rootfs, "tmp", "go"), "")
	deadline := time.Now().Add(60 * time.Second)
	for {
		e := next("the oom event")
		if e.Type == "oom" {
			break
		}
		if e.Type != "stats" {
			t.Fatalf("unexpected event type %q", e.Type)
		}
		if time.Now().After(deadline) {
			t.Fatalf("no oom event within 60s of the OOM; container stdout %q", c.stdout())
		}
	}
	c.waitOutput("tail-killed")

	// The container stops: events ends, with exit 0.
	r.mustRun("kill", c.ID, "KILL")
	r.waitStatus(c.ID, "stopped")
	ended := func(within time.Duration) bool {
		t.Helper()
		timeout := time.After(within)
		for {
			select {
			case _, ok := <-events:
				if ok {
					continue
				}
				if err := <-exited; err != nil {
					t.Errorf("events exited with %v after the container stopped; stderr %q", err, readFileString(stderr))
				}
				return true
			case <-timeout:
				return false
			}
		}
	}
	wait := 30 * time.Second
	if strings.HasPrefix(runtimeVersion(), "runc version ") {
		wait = 3 * time.Second // see below
	}
	if !ended(wait) {
		if !knownRuncBug(t, "runc events only ends when the cgroup is removed (delete), not when the container stops") {
			t.Fatalf("events still running 30s after the container stopped")
		}
		r.mustRun("delete", c.ID)
		if !ended(30 * time.Second) {
			t.Fatalf("events still running 30s after the container was deleted")
		}
	}
	waitGone(t, identify(s.Pid))
}

// TestPauseResume: pause freezes the cgroup (freezer.state, or
// cgroup.freeze and cgroup.events on v2) and state says paused; resume
// thaws it.
func TestPauseResume(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	c, s := r.createStart(newBundle(t, "sh", "-c", "sleep 1000 & wait"))
	waitProcs(t, s.Pid, 2)
	frozen := func() string {
		if isCgroup2() {
			ev := readFileString(cgroupFile(t, s.Pid, "", "cgroup.events"))
			return strings.TrimSpace(readFileString(cgroupFile(t, s.Pid, "", "cgroup.freeze"))) + " " +
				map[bool]string{true: "frozen", false: "thawed"}[containsLine(ev, "frozen 1")]
		}
		return strings.TrimSpace(readFileString(cgroupFile(t, s.Pid, "freezer", "freezer.state")))
	}
	wantFrozen, wantThawed := "FROZEN", "THAWED"
	if isCgroup2() {
		wantFrozen, wantThawed = "1 frozen", "0 thawed"
	}
	if got := frozen(); got != wantThawed {
		t.Errorf("before pause the cgroup is %q, want %q", got, wantThawed)
	}
	r.mustFail([]string{"not paused", "running"}, "resume", c.ID)

	r.mustRun("pause", c.ID)
	if got := frozen(); got != wantFrozen {
		t.Errorf("after pause the cgroup is %q, want %q", got, wantFrozen)
	}
	if st := r.mustState(c.ID); st.Status != "paused" || st.Pid != s.Pid {
		t.Errorf("state after pause: status %q pid %d, want paused and %d", st.Status, st.Pid, s.Pid)
	}
	r.mustFail([]string{"not running", "paused"}, "pause", c.ID)

	r.mustRun("resume", c.ID)
	if got := frozen(); got != wantThawed {
		t.Errorf("after resume the cgroup is %q, want %q", got, wantThawed)
	}
	if st := r.mustState(c.ID); st.Status != "running" {
		t.Errorf("state after resume: %q, want running", st.Status)
	}
	// A paused container can be deleted with --force (it is thawed to die).
	r.mustRun("pause", c.ID)
	r.mustRun("delete", "--force", c.ID)
	waitGone(t, identify(s.Pid))
}

// TestPsJSON: `ps --format json` lists exactly the pids in the
// container's cgroup, the init among them.
func TestPsJSON(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	c, s := r.createStart(newBundle(t, "sh", "-c", "sleep 1000 & sleep 1001 & wait"))
	procs := waitProcs(t, s.Pid, 3)
	res := r.mustRun("ps", "--format", "json", c.ID)
	var pids []int
	if err := json.Unmarshal([]byte(res.Stdout), &pids); err != nil {
		t.Fatalf("ps --format json: not a JSON array of pids: %v: %s", err, res)
	}
	sort.Ints(pids)
	if fmt.Sprint(pids) != fmt.Sprint(procs) {
		t.Errorf("ps --format json = %v, the cgroup holds %v", pids, procs)
	}
	found := false
	for _, p := range pids {
		found = found || p == s.Pid
	}
	if !found {
		t.Errorf("ps --format json = %v lacks the init %d", pids, s.Pid)
	}
}

// TestKillAll: `kill --all` signals every process in the cgroup, not only
// the init: three shells each trap SIGUSR1 and say so. runc 1.2 made --all
// a no-op (only a stopped container's kill no longer fails); casco keeps
// it for the engines that still pass it (containerd 1.6's kill --all).
func TestKillAll(t *testing.T) {
	t.Parallel()
	if isRunc() && !oldRunc() {
		t.Skipf("%s: kill --all signals the init alone since runc 1.2", runtimeVersion())
	}
	r := newRuntime(t)
	b := newBundle(t, "sh", "-c",
		`for i in 1 2; do sh -c "trap 'echo got-$i; exit 0' USR1; while :; do sleep 1; done" & done; `+
			`trap 'echo got-0; wait; exit 0' USR1; while :; do sleep 1; done`)
	c, s := r.createStart(b)
	// three shells, each with its sleep
	var procs, shells []int
	ok := harness.Poll(hangGuard, func() bool {
		procs, shells = cgroupProcs(t, s.Pid), nil
		for _, p := range procs {
			if cl := harness.Cmdline(p); len(cl) > 0 && cl[0] == "sh" {
				shells = append(shells, p)
			}
		}
		return len(procs) == 6 && len(shells) == 3
	})
	if !ok {
		t.Fatalf("want 3 shells and 3 sleeps in the container, found shells %v of %v", shells, procs)
	}
	var ids []procIdentity
	for _, p := range procs {
		ids = append(ids, identify(p))
	}
	for _, p := range shells {
		waitSigCaught(t, p, syscall.SIGUSR1)
	}
	r.mustRun("kill", "--all", c.ID, "USR1")
	for _, want := range []string{"got-0", "got-1", "got-2"} {
		c.waitOutput(want)
	}
	r.waitStatus(c.ID, "stopped")
	for _, p := range ids {
		waitGone(t, p)
	}
}

// TestPauseCreated: as runc, a created container can be paused (its cgroup
// frozen, state paused, start refused), and resume returns it to created,
// after which start runs it.
func TestPauseCreated(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	c := r.create(b)
	s := r.mustState(c.ID)
	r.mustRun("pause", c.ID)
	if st := r.mustState(c.ID); st.Status != "paused" {
		t.Errorf("state after pausing a created container: %q, want paused", st.Status)
	}
	var frozen string
	if isCgroup2() {
		frozen = strings.TrimSpace(readFileString(cgroupFile(t, s.Pid, "", "cgroup.freeze")))
		if frozen != "1" {
			t.Errorf("cgroup.freeze = %q, want 1", frozen)
		}
	} else if frozen = strings.TrimSpace(readFileString(cgroupFile(t, s.Pid, "freezer", "freezer.state"))); frozen != "FROZEN" {
		t.Errorf("freezer.state = %q, want FROZEN", frozen)
	}
	r.mustFail(nil, "start", c.ID)
	r.mustRun("resume", c.ID)
	if st := r.mustState(c.ID); st.Status != "created" {
		t.Errorf("state after resume: %q, want created", st.Status)
	}
	c.start()
	if st := r.mustState(c.ID); st.Status != "running" {
		t.Errorf("state after start: %q, want running", st.Status)
	}
}
