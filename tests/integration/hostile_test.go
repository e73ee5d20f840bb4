package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/tests/internal/harness"
)

// casco-only tests look at casco's own state dir (its lock, state.json):
// runc keeps another format there.
func needCasco(t *testing.T) {
	t.Helper()
	if strings.HasPrefix(runtimeVersion(), "runc version ") {
		t.Skipf("skipped for %s: the test works on casco's state directory format", runtimeVersion())
	}
}

// TestPasswdFifoBlocksNothing: a container that replaces its /etc/passwd
// with a FIFO (which the runtime reads to find HOME) must not block exec
// or create, and must not keep the engine from stopping it.
func TestPasswdFifoBlocksNothing(t *testing.T) {
	t.Parallel()
	beyondRunc(t, "a deadline on reading the container's /etc/passwd (runc hangs on a FIFO there)")
	t.Run("exec", func(t *testing.T) {
		t.Parallel()
		r := newRuntime(t)
		c, _ := r.createStart(newBundle(t, sleeper...))
		passwd := filepath.Join(c.B.Rootfs, "etc", "passwd")
		os.Remove(passwd)
		if err := unix.Mkfifo(passwd, 0o644); err != nil {
			t.Fatal(err)
		}
		res := r.mustRun("exec", "--user", "1000", c.ID, "sh", "-c", "echo home=$HOME")
		if !strings.Contains(res.Stdout, "home=/") {
			t.Errorf("exec without a passwd entry should get HOME=/: %s", res)
		}
		r.mustState(c.ID)
		r.mustRun("delete", "--force", c.ID)
	})
	t.Run("create", func(t *testing.T) {
		t.Parallel()
		r := newRuntime(t)
		b := newBundle(t, "sh", "-c", "echo home=$HOME")
		passwd := filepath.Join(b.Rootfs, "etc", "passwd")
		os.Remove(passwd)
		if err := unix.Mkfifo(passwd, 0o644); err != nil {
			t.Fatal(err)
		}
		_, res := r.runForeground(b)
		if res.Err != nil || res.Code != 0 || !strings.Contains(res.Stdout, "home=/") {
			t.Errorf("run with a FIFO for /etc/passwd: %s", res)
		}
	})
}

// freezerDir is the container's v1 freezer cgroup (or its cgroup2 one),
// found through the init's /proc/<pid>/cgroup.
func freezerDir(t *testing.T, initPid int) string {
	t.Helper()
	cgs, err := procCgroups(initPid)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := cgs["freezer"]; ok {
		return filepath.Join("/sys/fs/cgroup/freezer", p)
	}
	if p, ok := cgs[""]; ok && isCgroup2() {
		return filepath.Join("/sys/fs/cgroup", p)
	}
	t.Fatalf("no freezer cgroup for %d: %v", initPid, cgs)
	return ""
}

// freezerProcs lists the pids of the container's freezer cgroup.
func freezerProcs(t *testing.T, initPid int) []int {
	t.Helper()
	dir := freezerDir(t, initPid)
	var pids []int
	for _, f := range strings.Fields(readFileString(filepath.Join(dir, "cgroup.procs"))) {
		if n, err := strconv.Atoi(f); err == nil {
			pids = append(pids, n)
		}
	}
	return pids
}

// startBackground starts `$RUNTIME --root R args...` and returns it with
// a channel that receives its Wait result.
func startBackground(t *testing.T, r *runtime, args ...string) (*exec.Cmd, chan error, string) {
	t.Helper()
	out := filepath.Join(r.dir, fmt.Sprintf("bg-%d", r.seq.Add(1)))
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(runtimeBin, append([]string{"--root", r.root}, args...)...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})
	return cmd, done, out
}

// waitDone waits (bounded by hangGuard) for a background command to end.
func waitDone(t *testing.T, what string, done chan error, out string) error {
	t.Helper()
	var err error
	ok := harness.Poll(hangGuard, func() bool {
		select {
		case err = <-done:
			done <- err
			return true
		default:
			return false
		}
	})
	if !ok {
		t.Fatalf("%s never returned; output %q", what, readFileString(out))
	}
	return err
}

// TestPauseExecResume: the engines' sequence "pause, exec --ignore-paused,
// resume" completes: the exec waits for its frozen process without
// keeping resume out.
func TestPauseExecResume(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	c, s := r.createStart(newBundle(t, sleeper...))
	r.mustRun("pause", c.ID)
	before := len(freezerProcs(t, s.Pid))
	_, done, out := startBackground(t, r, "exec", "--ignore-paused", c.ID, "sh", "-c", "echo exec-ran")
	// the exec's process is in the (frozen) cgroup: exec now waits on it
	if !harness.Poll(hangGuard, func() bool { return len(freezerProcs(t, s.Pid)) > before }) {
		t.Fatalf("the exec's process never joined the container's cgroup; output %q", readFileString(out))
	}
	res := r.run("resume", c.ID)
	if res.Err != nil || res.Code != 0 {
		t.Fatalf("resume while an exec waits on the paused container: %s", res)
	}
	if err := waitDone(t, "exec", done, out); err != nil || !strings.Contains(readFileString(out), "exec-ran") {
		t.Errorf("exec after resume: %v, output %q", err, readFileString(out))
	}
}

// TestDeleteForcePausedWithWaitingExec: delete --force of a paused
// container ends it while an exec waits on it, its process frozen in the
// container's cgroup before it could enter the container's pid namespace.
// Such a process is the exec's, not a stranger's: it must not make the
// delete refuse the cgroup, and nothing of the container may be left.
// (runc 1.5 passes too: its delete kills through the cgroup.)
func TestDeleteForcePausedWithWaitingExec(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	c, s := r.createStart(newBundle(t, sleeper...))
	r.mustRun("pause", c.ID)
	before := len(freezerProcs(t, s.Pid))
	dir := freezerDir(t, s.Pid)
	_, done, out := startBackground(t, r, "exec", "--ignore-paused", c.ID, "sh", "-c", "echo exec-ran")
	if !harness.Poll(hangGuard, func() bool { return len(freezerProcs(t, s.Pid)) > before }) {
		t.Fatalf("the exec's process never joined the container's cgroup; output %q", readFileString(out))
	}
	r.mustRun("delete", "--force", c.ID)
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("freezer cgroup %s still there after delete --force (%v)", dir, err)
	}
	// the delete thaws the cgroup before it kills, so the exec may get to
	// run an instant first; what matters is that it ends, and the harness
	// checks that none of its processes is left
	waitDone(t, "exec of a deleted container", done, out)
}

// TestSignalEndsWaitingExec: SIGTERM to an exec that waits on the
// container (here: its process is frozen) ends it; nothing of it runs
// once the container is resumed.
func TestSignalEndsWaitingExec(t *testing.T) {
	t.Parallel()
	beyondRunc(t, "an exec that SIGTERM ends while it waits on the container")
	r := newRuntime(t)
	c, s := r.createStart(newBundle(t, sleeper...))
	marker := filepath.Join(c.B.Rootfs, "exec-ran")
	r.mustRun("pause", c.ID)
	before := len(freezerProcs(t, s.Pid))
	cmd, done, out := startBackground(t, r, "exec", "--ignore-paused", c.ID, "touch", "/exec-ran")
	if !harness.Poll(hangGuard, func() bool { return len(freezerProcs(t, s.Pid)) > before }) {
		t.Fatalf("the exec's process never joined the container's cgroup; output %q", readFileString(out))
	}
	waitSigCaught(t, cmd.Process.Pid, syscall.SIGTERM)
	cmd.Process.Signal(syscall.SIGTERM)
	err := waitDone(t, "exec after SIGTERM", done, out)
	if err == nil {
		t.Errorf("an interrupted exec exited 0; output %q", readFileString(out))
	}
	t.Logf("exec: %v: %s", err, strings.TrimSpace(readFileString(out)))
	r.mustRun("resume", c.ID)
	if !harness.Poll(hangGuard, func() bool { return len(freezerProcs(t, s.Pid)) == before }) {
		t.Errorf("the interrupted exec's process is still in the container: %v", freezerProcs(t, s.Pid))
	}
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("the interrupted exec's command ran after resume")
	}
}

// TestSignalEndsWaitingCreate: SIGTERM to a create waiting on its
// container's init (which here waits forever on a createContainer hook it
// runs in the container's namespaces) ends it and removes what it made,
// the init and its hook included.
func TestSignalEndsWaitingCreate(t *testing.T) {
	t.Parallel()
	beyondRunc(t, "a create that SIGTERM ends while it waits on its init")
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	id := newID(t)
	cg := "casco-test-" + id
	b.Spec.Linux.CgroupsPath = cg
	started := filepath.Join(t.TempDir(), "hook-started")
	b.Spec.Hooks = &specs.Hooks{CreateContainer: hangingHook(started).CreateRuntime}
	b.save(t)
	r.trackCleanup(id)
	cmd, done, out := startBackground(t, r, "create", "--bundle", b.Dir, id)
	// the hook runs: the init exists, so create catches SIGTERM by now
	waitHook(t, started, out)
	cmd.Process.Signal(syscall.SIGTERM)
	if err := waitDone(t, "create after SIGTERM", done, out); err == nil {
		t.Errorf("an interrupted create exited 0; output %q", readFileString(out))
	}
	t.Logf("create: %s", strings.TrimSpace(readFileString(out)))
	// no process in the container's cgroup: the init and the hook are gone
	noLeftovers(t, r, b, id, cg)
}

// hangingHook is a createRuntime hook that writes its pid to started and
// then waits forever.
func hangingHook(started string) *specs.Hooks {
	return &specs.Hooks{CreateRuntime: []specs.Hook{{Path: "/bin/sh", Args: []string{"sh", "-c", "echo $$ > " + started + "; exec sleep 1000000"}}}}
}

func waitHook(t *testing.T, started, out string) int {
	t.Helper()
	var pid int
	if !harness.Poll(hangGuard, func() bool {
		pid, _ = strconv.Atoi(strings.TrimSpace(readFileString(started)))
		return pid > 0
	}) {
		t.Fatalf("the hook never started; output %q", readFileString(out))
	}
	return pid
}

// TestReadersNeverWait: while another command holds a container's lock
// (here the test holds it, as a stuck command would), state, list, ps,
// events --stats and kill answer, and delete --force still removes it.
func TestReadersNeverWait(t *testing.T) {
	t.Parallel()
	needCasco(t)
	r := newRuntime(t)
	c, s := r.createStart(newBundle(t, sleeper...))
	lock, err := os.Open(filepath.Join(r.root, c.ID))
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	if st := r.mustState(c.ID); st.Status != "running" {
		t.Errorf("state: %+v", st)
	}
	if res := r.mustRun("list", "-q"); !strings.Contains(res.Stdout, c.ID) {
		t.Errorf("list: %s", res)
	}
	r.mustRun("ps", "--format", "json", c.ID)
	r.mustRun("events", "--stats", c.ID)
	r.mustRun("kill", c.ID, "KILL")
	waitGone(t, identify(s.Pid))
	r.mustRun("delete", "--force", c.ID)
	if _, err := os.Stat(filepath.Join(r.root, c.ID)); err == nil {
		t.Errorf("delete --force left the state dir")
	}
}

// TestKilledCreateIsRemovable: a create killed half way (SIGKILL while a
// hook runs) leaves a partial container: list shows it, delete --force
// removes all of it, and the id can be used again.
func TestKilledCreateIsRemovable(t *testing.T) {
	t.Parallel()
	beyondRunc(t, "listing and removing what a killed create left")
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	id := newID(t)
	cg := "casco-test-" + id
	b.Spec.Linux.CgroupsPath = cg
	started := filepath.Join(t.TempDir(), "hook-started")
	b.Spec.Hooks = hangingHook(started)
	b.save(t)
	r.trackCleanup(id)
	cmd, done, out := startBackground(t, r, "create", "--bundle", b.Dir, id)
	hook := waitHook(t, started, out)
	cmd.Process.Kill()
	waitDone(t, "create", done, out)
	syscall.Kill(hook, syscall.SIGKILL)

	if res := r.mustRun("list", "-q"); !strings.Contains(res.Stdout, id) {
		t.Errorf("list does not show the partial container: %s", res)
	}
	if st, res := r.state(id); res.Code != 0 || st.Status != "stopped" {
		t.Errorf("state of the partial container: %+v %s", st, res)
	}
	r.mustRun("delete", "--force", id)
	noLeftovers(t, r, b, id, cg)

	b.Spec.Hooks = nil
	b.save(t)
	r.mustRun("create", "--bundle", b.Dir, id)
	r.mustRun("delete", "--force", id)
}

// TestTamperedStateKillAll: state.json is only a file: with its
// cgroup_paths pointing at a host cgroup, kill --all must not signal the
// host's processes there. Two forgeries: a cgroup beside the container's,
// and the parent of the container's own cgroup (which holds its init too).
func TestTamperedStateKillAll(t *testing.T) {
	t.Parallel()
	needCasco(t)
	base := "/sys/fs/cgroup/unified"
	if isCgroup2() {
		base = "/sys/fs/cgroup"
	}
	for _, ancestor := range []bool{false, true} {
		name := map[bool]string{false: "beside", true: "ancestor"}[ancestor]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			b := newBundle(t, sleeper...)
			key, dir := "", base
			if ancestor {
				// cgroup2 allows no process in a cgroup whose children use
				// controllers: the victim goes into the v1 pids hierarchy
				if isCgroup2() {
					t.Skip("skipped on cgroup v2: no process can sit in the parent of a container's cgroup (no internal processes)")
				}
				key, dir = "pids", "/sys/fs/cgroup/pids"
			}
			victimCg := filepath.Join(dir, "casco-test-"+runTag+"-victim-"+name+"-"+strconv.Itoa(os.Getpid()))
			if err := os.Mkdir(victimCg, 0o755); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Remove(victimCg) })
			if ancestor {
				// the container's cgroup below the victim's, in every hierarchy
				b.Spec.Linux.CgroupsPath = "/" + filepath.Base(victimCg) + "/" + newID(t)
				t.Cleanup(func() {
					for _, d := range cgroupCandidates(t, filepath.Base(victimCg)) {
						os.Remove(d)
					}
				})
			}
			c, _ := r.createStart(b)
			victim := exec.Command("/bin/sleep", "1000000")
			if err := victim.Start(); err != nil {
				t.Fatal(err)
			}
			me := identify(victim.Process.Pid)
			t.Cleanup(func() {
				victim.Process.Kill()
				victim.Wait()
			})
			mustWrite(t, filepath.Join(victimCg, "cgroup.procs"), strconv.Itoa(victim.Process.Pid))

			statePath := filepath.Join(r.root, c.ID, "state.json")
			var st map[string]any
			if err := json.Unmarshal([]byte(readFileString(statePath)), &st); err != nil {
				t.Fatal(err)
			}
			st["cgroup_paths"] = map[string]string{key: victimCg}
			data, _ := json.Marshal(st)
			orig := readFileString(statePath)
			mustWrite(t, statePath, string(data))
			// the real state back before the cleanup's delete, or its cgroups stay
			t.Cleanup(func() { os.WriteFile(statePath, []byte(orig), 0o600) })

			res := r.run("kill", "--all", c.ID, "KILL")
			t.Logf("kill --all with forged cgroup_paths: %s", res)
			if !me.stillAlive() {
				t.Fatalf("kill --all with a forged state.json killed host process %d in %s", me.pid, victimCg)
			}
			if res.Code == 0 {
				t.Errorf("kill --all through a cgroup that is not the container's succeeded")
			}
		})
	}
}

// TestUntrustedRoot: a --root another user owns, or that group or others
// can write, is refused: whoever can write it could forge a state.json.
func TestUntrustedRoot(t *testing.T) {
	t.Parallel()
	beyondRunc(t, "refusing a --root others can write")
	r := newRuntime(t)
	c, _ := r.createStart(newBundle(t, sleeper...))
	if err := os.Chown(r.root, 1000, 1000); err != nil {
		t.Fatal(err)
	}
	r.mustFail([]string{"owned by"}, "kill", c.ID, "KILL")
	r.mustFail([]string{"owned by"}, "state", c.ID)
	os.Chown(r.root, 0, 0)
	os.Chmod(r.root, 0o777)
	r.mustFail([]string{"writable"}, "kill", c.ID, "KILL")
	os.Chmod(r.root, 0o700)
	r.mustRun("delete", "--force", c.ID)
}

// TestParkedInitHoldsNothingOfTheHost: an fd the caller of create leaked
// without close-on-exec (a host directory on fd 240) must not reach the
// parked init, and the init of a non-root container user must not be
// dumpable while parked (another process of that user could otherwise
// open its fds through /proc). CVE-2024-21626's class.
func TestParkedInitHoldsNothingOfTheHost(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	b.Spec.Process.User = specs.User{UID: 1000, GID: 1000}
	id := newID(t)
	b.save(t)
	r.trackCleanup(id)
	hostDir := t.TempDir()
	dir, err := os.Open(hostDir)
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	cmd := exec.Command(runtimeBin, "--root", r.root, "create", "--bundle", b.Dir, id)
	cmd.ExtraFiles = make([]*os.File, 238)
	cmd.ExtraFiles[237] = dir // fd 240 in casco, without close-on-exec
	// a file, not a pipe: the parked init keeps its stdio open
	out, err := os.Create(filepath.Join(r.dir, "create-out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		t.Fatalf("create: %v: %s", err, readFileString(out.Name()))
	}
	s := r.mustState(id)
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		target, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", s.Pid, fd.Name()))
		if target == hostDir {
			t.Errorf("the parked init holds the caller's host directory on fd %s", fd.Name())
		}
	}
	// /proc/<pid>/fd of a non-dumpable process belongs to root
	fi, err := os.Stat(fmt.Sprintf("/proc/%d/fd", s.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if uid := fi.Sys().(*syscall.Stat_t).Uid; uid != 0 {
		t.Errorf("the parked init is dumpable (its /proc fd dir belongs to uid %d): the container's user can open its fds", uid)
	}
	r.mustRun("start", id)
	waitUserExec(t, s.Pid, b)
}

// TestExecCwdThroughProcFdRefused: exec --cwd /proc/self/fd/N is refused
// before anything is started, naming the field.
func TestExecCwdThroughProcFdRefused(t *testing.T) {
	t.Parallel()
	beyondRunc(t, "refusing an exec --cwd through /proc/self/fd up front")
	r := newRuntime(t)
	c, s := r.createStart(newBundle(t, sleeper...))
	before := len(freezerProcs(t, s.Pid))
	res := r.mustFail([]string{"process.cwd"}, "exec", "--cwd", "/proc/self/fd/3", c.ID, "true")
	if !mentions(res.Stderr, "refused") {
		t.Errorf("want the cwd refused up front: %s", res)
	}
	if n := len(freezerProcs(t, s.Pid)); n != before {
		t.Errorf("a process was left in the container: %d, was %d", n, before)
	}
}

// TestSysctlThroughBindRefused: a host procfs file bind-mounted over a
// sysctl's path (the CVE-2025-52881 shape; here the host's global
// kernel.printk_ratelimit_burst over the container's kernel.domainname)
// must not receive the sysctl's write: create fails naming the path.
func TestSysctlThroughBindRefused(t *testing.T) {
	t.Parallel()
	host := "/proc/sys/kernel/printk_ratelimit_burst"
	orig := strings.TrimSpace(readFileString(host))
	n, err := strconv.Atoi(orig)
	if err != nil {
		t.Skipf("skipped: %s is not readable as a number (%q)", host, orig)
	}
	t.Cleanup(func() {
		if strings.TrimSpace(readFileString(host)) != orig {
			os.WriteFile(host, []byte(orig), 0o644)
		}
	})
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/proc/sys/kernel/domainname", Type: "bind", Source: host, Options: []string{"bind"}})
	b.Spec.Linux.Sysctl = map[string]string{"kernel.domainname": strconv.Itoa(n + 1)}
	id := newID(t)
	b.save(t)
	r.trackCleanup(id)
	res := r.run("create", "--bundle", b.Dir, id)
	if got := strings.TrimSpace(readFileString(host)); got != orig {
		t.Errorf("the sysctl write went to the host's %s: %s -> %s", host, orig, got)
	}
	if res.Code == 0 {
		t.Errorf("create wrote a sysctl through a bind mount over /proc: %s", res)
	} else if !mentions(res.Stderr, "domainname") {
		t.Errorf("the error should name the path: %s", res)
	}
}

// TestRoRbindIsRecursive: "ro" on an rbind of the host's /sys makes every
// mount of the tree read-only, the cgroup mounts below it included: the
// config's author asked for a read-only /sys, and a writable cgroup mount
// there lets the container change the host's limits. (runc leaves the
// submounts writable: see RUNC-CONTRACT.md.)
func TestRoRbindIsRecursive(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: "/hostsys", Type: "bind", Source: "/sys", Options: []string{"rbind", "ro"}})
	_, s := r.createStart(b)
	var sub int
	for _, m := range mountsOf(t, s.Pid) {
		if m.MountPoint != "/hostsys" && !strings.HasPrefix(m.MountPoint, "/hostsys/") {
			continue
		}
		sub++
		if !m.has("ro") {
			if m.MountPoint == "/hostsys" || !knownRuncBug(t, "ro on an rbind leaves its submounts writable") {
				t.Errorf("writable mount under a read-only rbind: %s", m)
			}
		}
	}
	if sub < 2 {
		t.Errorf("the rbind of /sys brought %d mounts, want its submounts too", sub)
	}
}
