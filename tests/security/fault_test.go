package security

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/casco-runtime/casco/tests/internal/harness"
)

// faultRuntime is casco built with -tags faultinject (make casco-faultinject).
func faultRuntime(t *testing.T) *rt {
	t.Helper()
	bin := os.Getenv("FAULT_RUNTIME")
	if bin == "" {
		t.Skip("FAULT_RUNTIME is not set: build casco with -tags faultinject (make casco-faultinject; make security sets it)")
	}
	r := newRT(t)
	r.bin = bin
	return r
}

// withFault runs the fault build with CASCO_FAULT=op:n:action and a step log.
func withFault(spec, log string) func(*exec.Cmd) {
	return func(cmd *exec.Cmd) {
		cmd.Env = append(os.Environ(), "CASCO_FAULT="+spec, "CASCO_FAULT_LOG="+log)
	}
}

// stepsPassed counts the steps of op in a fault log.
func stepsPassed(log, op string) int {
	data, _ := os.ReadFile(log)
	n := 0
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, op+" ") {
			n++
		}
	}
	return n
}

// nothingLeft asserts, from the kernel and the filesystem, that container
// id left nothing: no state dir, no process in its cgroup, no cgroup
// directory, no mount below the bundle or the root, no process holding an
// fd into them, and that `list` does not show it.
func nothingLeft(t *testing.T, r *rt, b *bundle, id string) {
	t.Helper()
	if _, err := os.Lstat(filepath.Join(r.root, id)); err == nil {
		t.Errorf("state dir %s is left", filepath.Join(r.root, id))
	}
	filepath.WalkDir("/sys/fs/cgroup", func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && d.Name() == id {
			t.Errorf("cgroup %s is left", p)
			return filepath.SkipDir
		}
		return nil
	})
	for _, m := range mounts("/proc/self/mountinfo") {
		if strings.HasPrefix(m.Point, b.Dir) || strings.HasPrefix(m.Point, r.root) {
			t.Errorf("mount %s is left", m.Point)
		}
	}
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == os.Getpid() || harness.ProcStart(pid) == "" {
			continue
		}
		if data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid)); strings.Contains(string(data), "/"+id+"\n") {
			t.Errorf("process %d %q is left in the container's cgroup", pid, harness.Cmdline(pid))
		}
		for fd, target := range fdsOf(pid) {
			if strings.HasPrefix(target, b.Dir) || strings.HasPrefix(target, filepath.Join(r.root, id)) {
				t.Errorf("process %d %q holds fd %s on %s", pid, harness.Cmdline(pid), fd, target)
			}
		}
	}
	if out := r.run("list", "-q"); strings.Contains(out.stdout, id) {
		t.Errorf("list still shows %s", id)
	}
}

// TestFaultInjection: for every step of create, start, exec and delete,
// casco is killed (SIGKILL) there, or the step fails. A failed create must
// leave nothing by itself; after a kill, `delete --force` must leave
// nothing. Steps are numbered by the runtime (CASCO_FAULT_LOG), so a new
// step is covered without changing this test.
func TestFaultInjection(t *testing.T) {
	r := faultRuntime(t)
	steps := countSteps(t, r)
	for _, op := range lifecycle {
		if steps[op] == 0 {
			t.Errorf("%s passes no fault step: the hook is gone from the runtime", op)
		}
		for _, action := range []string{"fail", "kill"} {
			for n := 1; n <= steps[op]; n++ {
				t.Run(fmt.Sprintf("%s-%d-%s", op, n, action), func(t *testing.T) {
					faultAt(t, r, op, n, action)
				})
			}
		}
	}
}

var lifecycle = []string{"create", "start", "exec", "delete"}

// countSteps runs one lifecycle without a fault and counts each
// operation's steps in the log.
func countSteps(t *testing.T, r *rt) map[string]int {
	b := newBundle(t, "sleep", "1000")
	id := newID("fault")
	b.Spec.Linux.CgroupsPath = "/" + id
	b.save(t)
	t.Cleanup(func() { r.run("delete", "--force", id) })
	log := filepath.Join(b.Dir, "fault.log")
	for _, args := range [][]string{{"create", "--bundle", b.Dir, id}, {"start", id}, {"exec", id, "true"}, {"delete", "--force", id}} {
		if out := r.runWith(withFault("none:0:fail", log), args...); !out.ok() {
			t.Fatalf("%s: %s", args[0], out)
		}
	}
	steps := map[string]int{}
	for _, op := range lifecycle {
		steps[op] = stepsPassed(log, op)
	}
	t.Logf("fault steps: %v", steps)
	return steps
}

// faultAt injects one fault: step n of op fails or casco is killed there.
func faultAt(t *testing.T, r *rt, op string, n int, action string) {
	b := newBundle(t, "sleep", "1000")
	id := newID("fault")
	b.Spec.Linux.CgroupsPath = "/" + id
	b.save(t)
	log := filepath.Join(b.Dir, "fault.log")
	spec := fmt.Sprintf("%s:%d:%s", op, n, action)
	run := func(args ...string) res {
		if args[0] == op {
			return r.runWith(withFault(spec, log), args...)
		}
		return r.run(args...)
	}
	t.Cleanup(func() { r.run("delete", "--force", id) })
	var faulted res
	for _, step := range lifecycle {
		var out res
		switch step {
		case "create":
			out = run("create", "--bundle", b.Dir, id)
		case "start":
			out = run("start", id)
		case "exec":
			out = run("exec", id, "true")
		case "delete":
			out = run("delete", "--force", id)
		}
		if step == op {
			faulted = out
			break
		}
		if !out.ok() {
			t.Fatalf("%s before the fault: %s", step, out)
		}
	}
	if faulted.err != nil {
		t.Fatalf("%s with fault %s: %s", op, spec, faulted)
	}
	if faulted.ok() {
		t.Fatalf("%s succeeded although step %d was made to %s: %s", op, n, action, faulted)
	}
	if action == "fail" && !strings.Contains(faulted.stderr, "fault injected") {
		t.Errorf("%s: the injected failure is not reported: %s", op, faulted)
	}
	if action == "kill" {
		// the caller killed the runtime: whatever it left must be visible
		// to the engine, which only knows what list shows
		if _, err := os.Lstat(filepath.Join(r.root, id)); err == nil {
			if out := r.run("list", "-q"); !strings.Contains(out.stdout, id) {
				t.Errorf("%s killed at step %d left state %s that list does not show: %s", op, n, filepath.Join(r.root, id), out)
			}
		}
	}
	if !(op == "create" && action == "fail") {
		// the engine's recovery: delete --force, which must work whatever was left
		if out := r.run("delete", "--force", id); out.err != nil {
			t.Errorf("delete --force after the fault: %s", out)
		}
	}
	nothingLeft(t, r, b, id)
}

// TestFreezeReadBackFails: pause writes the freezer, then its read back of
// the state fails (the fault build fails it): pause must fail saying so and
// leave the cgroup thawed, as the kernel's freezer files say (v1
// freezer.state THAWED, v2 cgroup.freeze 0 and cgroup.events frozen 0),
// with the container running; a pause and resume without the fault then
// work.
func TestFreezeReadBackFails(t *testing.T) {
	r := faultRuntime(t)
	b := newBundle(t, "sleep", "1000")
	id := newID("freeze")
	b.Spec.Linux.CgroupsPath = "/" + id
	b.save(t)
	t.Cleanup(func() { r.run("delete", "--force", id) })
	r.mustCreate(b, id)
	r.must("start", id)
	log := filepath.Join(b.Dir, "fault.log")
	out := r.runWith(withFault("freeze:1:fail", log), "pause", id)
	if out.err != nil || out.ok() {
		t.Fatalf("pause with its read back failing: want a non-zero exit: %s", out)
	}
	if !strings.Contains(out.stderr, "fault injected") || !strings.Contains(out.stderr, "thawed again") {
		t.Errorf("pause does not report the failed read back and the thaw: %s", out)
	}
	if frozen := freezerSays(id); frozen != "" {
		t.Errorf("after the failed pause the cgroup is left frozen: %s", frozen)
	}
	if st, res := r.state(id); st.Status != "running" {
		t.Errorf("after the failed pause the state is %q, want running: %s", st.Status, res)
	}
	r.must("pause", id)
	if frozen := freezerSays(id); frozen == "" {
		t.Errorf("pause without the fault did not freeze the cgroup")
	}
	r.must("resume", id)
	r.must("delete", "--force", id)
	nothingLeft(t, r, b, id)
}

// freezerSays is what the kernel's freezer files of cgroup /id say when
// they say frozen (or freezing); "" when they say thawed.
func freezerSays(id string) string {
	if v1 := filepath.Join("/sys/fs/cgroup/freezer", id, "freezer.state"); readString(v1) != "" {
		s := strings.TrimSpace(readString(v1))
		if s == "THAWED" {
			return ""
		}
		return v1 + " = " + s
	}
	dir := filepath.Join("/sys/fs/cgroup", id)
	freeze := strings.TrimSpace(readString(filepath.Join(dir, "cgroup.freeze")))
	events := readString(filepath.Join(dir, "cgroup.events"))
	if freeze == "0" && strings.Contains(events, "frozen 0\n") {
		return ""
	}
	return fmt.Sprintf("%s/cgroup.freeze = %s, cgroup.events %q", dir, freeze, events)
}

// TestLockHolderStopped: a command holding a container's lock is stopped
// (SIGSTOP) while it holds it: the fault build stalls `start` with the
// lock held, and the test stops it. state and kill, which take no lock,
// still answer; a command that needs the lock (pause) gives up after
// --lock-timeout with one line naming the lock's holder by pid and saying
// it is stopped; delete --force still removes the container. The holder is
// resumed and killed afterwards, and nothing is left.
func TestLockHolderStopped(t *testing.T) {
	r := faultRuntime(t)
	b := newBundle(t, "sleep", "1000")
	id := newID("lock")
	b.Spec.Linux.CgroupsPath = "/" + id
	b.save(t)
	t.Cleanup(func() { r.run("delete", "--force", id) })
	r.mustCreate(b, id)
	log := filepath.Join(b.Dir, "fault.log")
	holder := exec.Command(r.bin, "--root", r.root, "start", id)
	withFault("start:1:stall", log)(holder)
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	pid := holder.Process.Pid
	t.Cleanup(func() {
		holder.Process.Signal(syscall.SIGCONT)
		holder.Process.Kill()
		holder.Wait()
	})
	if !harness.Poll(hangGuard, func() bool { return stepsPassed(log, "start") > 0 }) {
		t.Fatalf("start never reached its stall with the lock held")
	}
	if err := holder.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	if !harness.Poll(hangGuard, func() bool { return harness.ProcState(pid) == "T" }) {
		t.Fatalf("start (pid %d) did not stop: state %q", pid, harness.ProcState(pid))
	}

	if st, out := r.state(id); !out.ok() || st.Status != "created" {
		t.Errorf("state while the lock's holder is stopped: %q, %s", st.Status, out)
	}
	out := r.run("--lock-timeout", "1s", "pause", id)
	if out.err != nil || out.ok() {
		t.Fatalf("pause behind a stopped lock holder: want a non-zero exit: %s", out)
	}
	line := strings.TrimSpace(out.stderr)
	t.Logf("pause: %s", line)
	if strings.Count(line, "\n") != 0 || !strings.Contains(line, "lock") ||
		!strings.Contains(line, fmt.Sprintf("pid %d", pid)) || !strings.Contains(line, "stopped") {
		t.Errorf("pause should fail in one line naming the lock and its stopped holder, pid %d: %s", pid, out)
	}
	if out := r.run("kill", id, "KILL"); !out.ok() {
		t.Errorf("kill while the lock's holder is stopped: %s", out)
	}
	if out := r.run("delete", "--force", id); !out.ok() {
		t.Errorf("delete --force while the lock's holder is stopped: %s", out)
	}
	holder.Process.Signal(syscall.SIGCONT)
	holder.Process.Kill()
	holder.Wait()
	nothingLeft(t, r, b, id)
}

// TestEventsStalledRead: events ends when its container is deleted even
// while its read of the cgroup's statistics never returns (the fault
// build stalls it).
func TestEventsStalledRead(t *testing.T) {
	r := faultRuntime(t)
	b := newBundle(t, "sleep", "1000")
	id := newID("events")
	r.mustCreate(b, id)
	r.must("start", id)
	log := filepath.Join(b.Dir, "fault.log")
	done := make(chan res, 1)
	go func() {
		done <- r.runWith(withFault("events:1:stall", log), "events", "--interval", "100ms", id)
	}()
	if !harness.Poll(hangGuard, func() bool { return stepsPassed(log, "events") > 0 }) {
		t.Fatalf("events never read the cgroup's statistics")
	}
	r.must("delete", "--force", id)
	out := <-done // bounded by the runner's guard
	if out.err != nil {
		t.Fatalf("events did not end after its container was deleted: %s", out)
	}
	if strings.Contains(out.stdout, `"stats"`) {
		t.Errorf("events printed stats although the read never returned: %s", out)
	}
}

// TestCallerKill: the caller (an engine on its timeout) SIGKILLs the
// runtime at an arbitrary moment of create, start, exec or delete, not
// only at the steps the fault build names: whatever is left is shown by
// list when it has a state, and delete --force removes all of it.
func TestCallerKill(t *testing.T) {
	r := newRT(t)
	for _, op := range lifecycle {
		// from at once to past the end of the operation (tens of ms)
		for _, delay := range []time.Duration{0, 1, 2, 4, 7, 10, 15, 20, 30, 50} {
			t.Run(fmt.Sprintf("%s-%dms", op, delay), func(t *testing.T) {
				callerKillAt(t, r, op, delay*time.Millisecond)
			})
		}
	}
}

func callerKillAt(t *testing.T, r *rt, op string, delay time.Duration) {
	b := newBundle(t, "sleep", "1000")
	id := newID("callerkill")
	b.Spec.Linux.CgroupsPath = "/" + id
	b.save(t)
	t.Cleanup(func() { r.run("delete", "--force", id) })
	args := map[string][]string{
		"create": {"create", "--bundle", b.Dir, id},
		"start":  {"start", id},
		"exec":   {"exec", id, "true"},
		"delete": {"delete", "--force", id},
	}
	for _, step := range lifecycle {
		if step == op {
			break
		}
		if out := r.run(args[step]...); !out.ok() {
			t.Fatalf("%s before the kill: %s", step, out)
		}
	}
	if op == "exec" {
		args["exec"] = []string{"exec", id, "sleep", "1000"} // still running when killed
	}
	cmd := exec.Command(r.bin, append([]string{"--root", r.root}, args[op]...)...)
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer devnull.Close()
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, devnull, devnull
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(delay) // the moment of the kill, not a wait for anything
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := os.Lstat(filepath.Join(r.root, id)); err == nil {
		if out := r.run("list", "-q"); !strings.Contains(out.stdout, id) {
			t.Errorf("%s killed after %v left state %s that list does not show: %s", op, delay, filepath.Join(r.root, id), out)
		}
	}
	if out := r.run("delete", "--force", id); !out.ok() {
		t.Errorf("delete --force after the kill: %s", out)
	}
	nothingLeft(t, r, b, id)
}
