package security

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/tests/internal/harness"
)

// TestParallelCreateDelete: 200 creates at once, 100 on distinct IDs and
// 100 contending for 10 IDs, while a reader keeps decoding every
// state.json; then as many deletes, contending too. Exactly one create wins
// each contended ID, no state.json is ever seen half-written, and nothing
// is left at the end.
func TestParallelCreateDelete(t *testing.T) {
	r := newRT(t)
	b := newBundle(t, "sleep", "1000")
	b.Spec.Linux.CgroupsPath = "" // one cgroup per ID, named by the runtime
	b.save(t)
	const distinct, shared, contenders = 100, 10, 10
	var ids []string
	for i := 0; i < distinct; i++ {
		ids = append(ids, newID("par"))
	}
	sharedIDs := ids[:0:0]
	for i := 0; i < shared; i++ {
		sharedIDs = append(sharedIDs, newID("contend"))
	}
	t.Cleanup(func() {
		for _, id := range append(ids, sharedIDs...) {
			r.run("delete", "--force", id)
		}
	})

	stop := make(chan struct{})
	var corrupt atomic.Value
	var reads atomic.Int64
	go func() { // the reader: every state.json it finds must decode
		for {
			select {
			case <-stop:
				return
			default:
			}
			ents, _ := os.ReadDir(r.root)
			for _, e := range ents {
				data, err := os.ReadFile(filepath.Join(r.root, e.Name(), "state.json"))
				if err != nil {
					continue
				}
				var st map[string]any
				if err := json.Unmarshal(data, &st); err != nil {
					corrupt.Store(fmt.Sprintf("%s: %v (%d bytes)", e.Name(), err, len(data)))
				}
				reads.Add(1)
			}
		}
	}()

	var wg sync.WaitGroup
	start := make(chan struct{})
	results := make([][]res, shared)
	var mu sync.Mutex
	for _, id := range ids {
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			<-start
			if out := r.run("create", "--bundle", b.Dir, id); !out.ok() {
				t.Errorf("create %s: %s", id, out)
			}
		}(id)
	}
	for i, id := range sharedIDs {
		for j := 0; j < contenders; j++ {
			wg.Add(1)
			go func(i int, id string) {
				defer wg.Done()
				<-start
				out := r.run("create", "--bundle", b.Dir, id)
				mu.Lock()
				results[i] = append(results[i], out)
				mu.Unlock()
			}(i, id)
		}
	}
	close(start)
	wg.Wait()
	for i, id := range sharedIDs {
		wins := 0
		for _, out := range results[i] {
			if out.ok() {
				wins++
			} else if out.err != nil || !strings.Contains(out.stderr, "exist") {
				t.Errorf("a losing create of %s should say it exists: %s", id, out)
			}
		}
		if wins != 1 {
			t.Errorf("%d creates of %s succeeded, want exactly 1", wins, id)
		}
		if s, out := r.state(id); !out.ok() || s.Status != "created" || harness.ProcStart(s.Pid) == "" {
			t.Errorf("the winner of %s is not a created container with a live init: %+v %s", id, s, out)
		}
	}

	// deletes: one per distinct ID, `contenders` per shared ID, all at once
	start = make(chan struct{})
	for _, id := range ids {
		wg.Add(1)
		go func(id string) {
			defer wg.Done()
			<-start
			if out := r.run("delete", "--force", id); !out.ok() {
				t.Errorf("delete %s: %s", id, out)
			}
		}(id)
	}
	for _, id := range sharedIDs {
		for j := 0; j < contenders; j++ {
			wg.Add(1)
			go func(id string) {
				defer wg.Done()
				<-start
				if out := r.run("delete", "--force", id); out.err != nil || (out.code != 0 && !strings.Contains(out.stderr, "not exist")) {
					t.Errorf("a contending delete of %s: %s", id, out)
				}
			}(id)
		}
	}
	close(start)
	wg.Wait()
	close(stop)
	if c := corrupt.Load(); c != nil {
		t.Errorf("a reader saw a corrupt state.json: %s", c)
	}
	t.Logf("%d state.json reads during the run", reads.Load())
	if ents, _ := os.ReadDir(r.root); len(ents) > 0 {
		t.Errorf("%d entries left in the root, e.g. %s", len(ents), ents[0].Name())
	}
	for _, id := range append(ids, sharedIDs...) {
		for _, c := range []string{"pids", "memory", "unified", ""} {
			if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", c, id)); err == nil {
				t.Errorf("cgroup %s of %s is left", c, id)
			}
		}
	}
}

// TestKillStuckContainer: kill and delete --force of a container stuck in
// each phase finish within the guard and leave nothing.
func TestKillStuckContainer(t *testing.T) {
	phases := map[string]func(t *testing.T, r *rt, b *bundle, id string) func(){
		"paused": func(t *testing.T, r *rt, b *bundle, id string) func() {
			r.mustCreate(b, id)
			r.must("start", id)
			r.must("pause", id)
			return nil
		},
		"exec-in-progress": func(t *testing.T, r *rt, b *bundle, id string) func() {
			r.mustCreate(b, id)
			r.must("start", id)
			return background(t, r, inCgroup(id, 2), "exec", id, "sleep", "1000")
		},
		"exec-ignore-paused-in-progress": func(t *testing.T, r *rt, b *bundle, id string) func() {
			r.mustCreate(b, id)
			r.must("start", id)
			r.must("pause", id)
			return background(t, r, inCgroup(id, 2), "exec", "--ignore-paused", id, "true")
		},
		"poststart-hook-hanging": func(t *testing.T, r *rt, b *bundle, id string) func() {
			b.Spec.Hooks = &specs.Hooks{Poststart: []specs.Hook{hangingHook(id)}}
			r.mustCreate(b, id)
			return background(t, r, hookRunning(id), "start", id)
		},
		"createRuntime-hook-hanging": func(t *testing.T, r *rt, b *bundle, id string) func() {
			b.Spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{hangingHook(id)}}
			b.Spec.Linux.CgroupsPath = "/" + id
			b.save(t)
			return background(t, r, hookRunning(id), "create", "--bundle", b.Dir, id)
		},
	}
	for name, setup := range phases {
		t.Run(name, func(t *testing.T) {
			r := newRT(t)
			r.guard = 30 * time.Second // bounded: delete --force waits at most 10 s for a lock
			b := newBundle(t, "sleep", "1000")
			id := newID("stuck")
			b.Spec.Linux.CgroupsPath = "/" + id
			b.save(t)
			t.Cleanup(func() { r.run("delete", "--force", id) })
			wait := setup(t, r, b, id)
			if out := r.run("kill", id, "KILL"); out.err != nil {
				t.Errorf("kill: %s", out)
			}
			if out := r.run("delete", "--force", id); !out.ok() {
				t.Errorf("delete --force: %s", out)
			}
			if wait != nil {
				wait()
			}
			// the runtime ended (or was killed by the guard): its hooks
			// must not outlive it, orphaned
			if !harness.Poll(hangGuard, func() bool { return !hookRunning(id)() }) {
				t.Errorf("a hook of %s outlived its runtime: pid %d", id, hookPid(id))
			}
			nothingLeft(t, r, b, id)
		})
	}
}

// background starts a runtime command that stays (a foreground exec, a
// start held by a hook) once it has had time to take hold; the returned
// wait fails the test unless the command ends within the guard.
func background(t *testing.T, r *rt, held func() bool, args ...string) func() {
	done := make(chan res, 1)
	go func() { done <- r.run(args...) }()
	if !harness.Poll(hangGuard, held) {
		t.Fatalf("`%s` never got stuck where the test wants it", strings.Join(args, " "))
	}
	return func() {
		select {
		case <-done:
		case <-time.After(hangGuard):
			t.Errorf("`%s` did not end after the container was deleted", strings.Join(args, " "))
		}
	}
}

func inCgroup(id string, n int) func() bool {
	return func() bool { return countInCgroup(id) >= n }
}

// countInCgroup counts live processes whose cgroup path ends in /id.
func countInCgroup(id string) int {
	n := 0
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		data, err := os.ReadFile("/proc/" + p.Name() + "/cgroup")
		if err == nil && strings.Contains(string(data), "/"+id+"\n") {
			n++
		}
	}
	return n
}

// hangingHook sleeps far longer than any wait of the test, marked with
// the container's id in its environment: hookPid finds this test's hook,
// never another run's.
func hangingHook(id string) specs.Hook {
	return specs.Hook{Path: "/bin/sleep", Args: []string{"sleep", "1001"}, Env: []string{hookMark + id}}
}

const hookMark = "CASCO_TEST_HANGING_HOOK="

// hookPid is a live process of id's hanging hook, as /proc says (0: none;
// a zombie's environ reads empty).
func hookPid(id string) int {
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
		for _, kv := range strings.Split(string(env), "\x00") {
			if kv == hookMark+id {
				return pid
			}
		}
	}
	return 0
}

// hookRunning: id's hanging hook is running.
func hookRunning(id string) func() bool {
	return func() bool { return hookPid(id) != 0 }
}

// TestDeleteWhileInitExits: delete --force meets an init that another
// command has killed and that has not finished exiting (here: the pid
// namespace's init waits for a child held in a frozen cgroup). On a cgroup
// v1 hierarchy the kernel lists such a process in "/", so its cgroup paths
// cannot be checked against it; the delete must wait for the exit, not
// refuse the container as forged, and leave nothing.
func TestDeleteWhileInitExits(t *testing.T) {
	r := newRT(t)
	b := newBundle(t, "sh", "-c", "sleep 1000 & exec sleep 1000")
	id := newID("exiting")
	pid := r.mustCreate(b, id)
	r.must("start", id)
	freezer := filepath.Join("/sys/fs/cgroup/freezer", id)
	if _, err := os.Stat(freezer); err != nil {
		t.Skipf("no cgroup v1 freezer for the container (%v): the exiting init is seen in its cgroups", err)
	}
	if !harness.Poll(hangGuard, inCgroup(id, 2)) {
		t.Fatalf("the container's child never appeared in its cgroup")
	}
	child := 0
	data, _ := os.ReadFile(filepath.Join(freezer, "cgroup.procs"))
	for _, f := range strings.Fields(string(data)) {
		if p, _ := strconv.Atoi(f); p != pid {
			child = p
		}
	}
	held := filepath.Join(freezer, "held")
	if err := os.Mkdir(held, 0o755); err != nil {
		t.Fatal(err)
	}
	thaw := func() { os.WriteFile(filepath.Join(held, "freezer.state"), []byte("THAWED"), 0) }
	t.Cleanup(func() { thaw(); unix.Rmdir(held) })
	if err := os.WriteFile(filepath.Join(held, "cgroup.procs"), []byte(strconv.Itoa(child)), 0); err != nil {
		t.Fatalf("move child %d: %v", child, err)
	}
	if err := os.WriteFile(filepath.Join(held, "freezer.state"), []byte("FROZEN"), 0); err != nil {
		t.Fatal(err)
	}
	if !harness.Poll(hangGuard, func() bool { return strings.TrimSpace(readString(filepath.Join(held, "freezer.state"))) == "FROZEN" }) {
		t.Fatalf("the child's cgroup never froze")
	}
	if err := unix.Kill(pid, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !harness.Poll(hangGuard, func() bool { return exitingNotZombie(pid) }) {
		t.Fatalf("init %d never began to exit", pid)
	}
	t.Logf("the exiting init's cgroups, as the kernel lists them:\n%s", readString(fmt.Sprintf("/proc/%d/cgroup", pid)))

	done := make(chan res, 1)
	go func() { done <- r.run("delete", "--force", id) }()
	var out res
	waiting := harness.Poll(hangGuard, func() bool {
		select {
		case out = <-done:
			return true
		default:
		}
		return deleteHoldsPidfd(r, id)
	})
	if out.args != nil {
		t.Fatalf("delete --force ended while the init was still exiting: %s", out)
	}
	if !waiting {
		t.Fatalf("delete --force never waited on the exiting init")
	}
	thaw()
	if out = <-done; !out.ok() {
		t.Errorf("delete --force of a container whose init is exiting: %s", out)
	}
	nothingLeft(t, r, b, id)
}

// exitingNotZombie: the kernel has begun pid's exit (PF_EXITING in the
// flags of /proc/<pid>/stat) and it is not a zombie yet.
func exitingNotZombie(pid int) bool {
	s := readString(fmt.Sprintf("/proc/%d/stat", pid))
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 7 || f[0] == "Z" {
		return false
	}
	flags, _ := strconv.ParseUint(f[6], 10, 64)
	return flags&0x4 != 0
}

// deleteHoldsPidfd: a `delete` of container id run by r holds a pidfd.
func deleteHoldsPidfd(r *rt, id string) bool {
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		args := strings.Join(harness.Cmdline(pid), " ")
		if !strings.Contains(args, r.root+" delete") || !strings.Contains(args, id) {
			continue
		}
		for _, target := range fdsOf(pid) {
			if target == "anon_inode:[pidfd]" {
				return true
			}
		}
	}
	return false
}

func readString(path string) string {
	data, _ := os.ReadFile(path)
	return string(data)
}
