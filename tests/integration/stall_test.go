package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/casco-runtime/casco/tests/internal/harness"
)

// A CRIU that stops answering (testdata/hangcriu) must not hang
// checkpoint nor leave the container frozen; these run everywhere,
// CRIU or not: the stand-in needs no kernel support.

// hangCriu builds testdata/hangcriu once per run.
var hangCriu = sync.OnceValues(func() (string, error) {
	if p := os.Getenv("HANGCRIU_BIN"); p != "" {
		return p, nil
	}
	out := filepath.Join(topDir, "hangcriu")
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = "/usr/local/go/bin/go"
	}
	cmd := exec.Command(goBin, "build", "-o", out, "./testdata/hangcriu")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./testdata/hangcriu: %v\n%s", err, msg)
	}
	return out, nil
})

// hangCriuAs writes a --criu wrapper that runs hangcriu in mode.
func hangCriuAs(t *testing.T, mode string) string {
	t.Helper()
	bin, err := hangCriu()
	if err != nil {
		t.Fatal(err)
	}
	w := filepath.Join(t.TempDir(), "criu")
	script := fmt.Sprintf("#!/bin/sh\nHANGCRIU=%s exec %s \"$@\"\n", mode, bin)
	if err := os.WriteFile(w, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return w
}

// freezerOf is the kernel's word on whether pid's cgroup is frozen: v1's
// freezer.state, or v2's cgroup.events.
func freezerOf(t *testing.T, pid int) string {
	t.Helper()
	cgs, err := procCgroups(pid)
	if err != nil {
		t.Fatalf("cgroups of %d: %v", pid, err)
	}
	if p, ok := cgs["freezer"]; ok {
		return strings.TrimSpace(readFileString(filepath.Join("/sys/fs/cgroup/freezer", p, "freezer.state")))
	}
	ev := readFileString(filepath.Join("/sys/fs/cgroup", cgs[""], "cgroup.events"))
	if strings.Contains(ev, "frozen 1") {
		return "FROZEN"
	}
	return "THAWED"
}

func needCriuDeadline(t *testing.T) {
	t.Helper()
	if strings.HasPrefix(runtimeVersion(), "runc version ") {
		t.Skip("runc has no deadline on CRIU: its checkpoint waits for a hung CRIU forever")
	}
}

// TestCheckpointCriuHangs: checkpoint with a CRIU that stops answering
// ends at its deadline (CASCO_CRIU_TIMEOUT) with an error that says so,
// kills CRIU, and the container keeps running, thawed, even when CRIU had
// frozen its cgroup first.
func TestCheckpointCriuHangs(t *testing.T) {
	needCriuDeadline(t)
	t.Setenv("CASCO_CRIU_TIMEOUT", "3s")
	bin, err := hangCriu()
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{"silent", "freeze"} {
		t.Run(mode, func(t *testing.T) {
			r := newRuntime(t)
			c, st := r.createStart(newBundle(t, "sleep", "1000"))
			init := identify(st.Pid)
			criu := hangCriuAs(t, mode)
			res := r.exec(runOpts{timeout: hangGuard}, "--criu", criu, "checkpoint", "--image-path", t.TempDir(), c.ID)
			if res.Err != nil {
				t.Fatalf("checkpoint did not end: %s", res)
			}
			if res.Code == 0 || !mentions(res.Stderr, "did not answer") || !mentions(res.Stderr, "criu") {
				t.Errorf("want a failed checkpoint that names CRIU's silence: %s", res)
			}
			if pids := harness.Processes(func(pid int) bool { cl := harness.Cmdline(pid); return len(cl) > 0 && cl[0] == bin }); len(pids) > 0 {
				t.Errorf("the hung CRIU is left running: %v", pids)
			}
			if !init.stillAlive() {
				t.Fatalf("the container's init died with the failed checkpoint")
			}
			if f := freezerOf(t, st.Pid); f != "THAWED" {
				t.Errorf("the container's cgroup is left %s after the failed checkpoint: %s", f, res)
			}
			if s := r.mustState(c.ID).Status; s != "running" {
				t.Errorf("state after the failed checkpoint: %s, want running", s)
			}
		})
	}
}

// TestDeleteDuringHungCheckpoint: while a checkpoint waits on a CRIU that
// froze the container and stopped answering, delete --force removes the
// container; the checkpoint then still ends at its deadline.
func TestDeleteDuringHungCheckpoint(t *testing.T) {
	needCriuDeadline(t)
	t.Setenv("CASCO_CRIU_TIMEOUT", "20s")
	r := newRuntime(t)
	c, st := r.createStart(newBundle(t, "sleep", "1000"))
	init := identify(st.Pid)
	criu := hangCriuAs(t, "freeze")
	done := make(chan result, 1)
	go func() {
		done <- r.exec(runOpts{timeout: hangGuard}, "--criu", criu, "checkpoint", "--image-path", t.TempDir(), c.ID)
	}()
	if !harness.Poll(hangGuard, func() bool { return freezerOf(t, st.Pid) == "FROZEN" }) {
		t.Fatalf("CRIU's stand-in never froze the container")
	}
	r.mustRun("delete", "--force", c.ID)
	waitGone(t, init)
	if _, res := r.state(c.ID); res.Code == 0 {
		t.Errorf("state after delete --force: the container is still there: %s", res)
	}
	select {
	case res := <-done:
		if res.Err != nil || res.Code == 0 {
			t.Errorf("checkpoint of a deleted container: %s", res)
		}
	case <-time.After(hangGuard):
		t.Errorf("checkpoint did not end after %v", hangGuard)
	}
}

// freezeDir freezes a cgroup as someone else would (v1 freezer.state,
// v2 cgroup.freeze) and registers its thaw; dir is relative to the
// freezer hierarchy (v1) or the cgroup2 root.
func freezeDir(t *testing.T, dir string) {
	t.Helper()
	v1 := filepath.Join("/sys/fs/cgroup/freezer", dir, "freezer.state")
	if isCgroup2() {
		f := filepath.Join("/sys/fs/cgroup", dir, "cgroup.freeze")
		mustWrite(t, f, "1")
		t.Cleanup(func() { os.WriteFile(f, []byte("0"), 0) })
		return
	}
	mustWrite(t, v1, "FROZEN")
	t.Cleanup(func() { os.WriteFile(v1, []byte("THAWED"), 0) })
}

// frozenContainer starts a container in cgroup /<id> and freezes that
// cgroup from outside, waiting for the kernel to report it frozen.
func frozenContainer(t *testing.T, r *runtime, cgroupsPath string) (*container, *bundle, procIdentity) {
	t.Helper()
	b := newBundle(t, "sleep", "1000")
	b.Spec.Linux.CgroupsPath = cgroupsPath
	b.save(t)
	c, st := r.createStart(b)
	freezeDir(t, cgroupsPath)
	if !harness.Poll(hangGuard, func() bool { return freezerOf(t, st.Pid) == "FROZEN" }) {
		t.Fatalf("the cgroup never froze: %s", freezerOf(t, st.Pid))
	}
	return c, b, identify(st.Pid)
}

// TestFrozenByOthers: a container whose cgroup someone else froze reads
// paused, and both kill KILL and delete --force end it: the processes die
// (the runtime thaws them; frozen tasks cannot die on v1) and nothing is
// left.
func TestFrozenByOthers(t *testing.T) {
	t.Run("kill", func(t *testing.T) {
		r := newRuntime(t)
		id := "frozen-kill-" + runTag
		c, b, init := frozenContainer(t, r, "/"+id)
		if s := r.mustState(c.ID).Status; s != "paused" {
			t.Errorf("state of the frozen container: %s, want paused", s)
		}
		r.mustRun("kill", c.ID, "KILL")
		waitGone(t, init)
		r.mustRun("delete", c.ID)
		noLeftovers(t, r, b, c.ID, id)
	})
	t.Run("delete-force", func(t *testing.T) {
		r := newRuntime(t)
		id := "frozen-delete-" + runTag
		c, b, init := frozenContainer(t, r, "/"+id)
		r.mustRun("delete", "--force", c.ID)
		waitGone(t, init)
		noLeftovers(t, r, b, c.ID, id)
	})
}

// TestFrozenAncestor: when someone froze a cgroup above the container's
// (v1: its tasks can then neither run nor die), delete --force ends in
// time with an error naming that cgroup, keeps the state, and succeeds
// once it is thawed, leaving nothing.
func TestFrozenAncestor(t *testing.T) {
	if isCgroup2() {
		t.Skip("cgroup v2: a frozen task dies of SIGKILL, whoever froze it")
	}
	r := newRuntime(t)
	parent := "frozen-parent-" + runTag
	t.Cleanup(func() { os.Remove(filepath.Join("/sys/fs/cgroup/freezer", parent)) })
	b := newBundle(t, "sleep", "1000")
	b.Spec.Linux.CgroupsPath = "/" + parent + "/ctr"
	b.save(t)
	c, st := r.createStart(b)
	init := identify(st.Pid)
	freezeDir(t, "/"+parent)
	if !harness.Poll(hangGuard, func() bool { return freezerOf(t, st.Pid) == "FROZEN" }) {
		t.Fatalf("the cgroup never froze")
	}
	res := r.exec(runOpts{timeout: hangGuard}, "delete", "--force", c.ID)
	if res.Err != nil || res.Code == 0 {
		t.Errorf("delete --force under a frozen parent should fail in time: %s", res)
	} else if !mentions(res.Stderr, filepath.Join("/sys/fs/cgroup/freezer", parent)) &&
		!knownRuncBug(t, "runc says only \"container init still running\"") {
		t.Errorf("delete --force under a frozen parent should name it: %s", res)
	}
	if !init.stillAlive() {
		t.Fatalf("the container died while its parent cgroup was frozen")
	}
	if r.mustState(c.ID).Pid != st.Pid {
		t.Errorf("the failed delete lost the state")
	}
	mustWrite(t, filepath.Join("/sys/fs/cgroup/freezer", parent, "freezer.state"), "THAWED")
	r.mustRun("delete", "--force", c.ID)
	waitGone(t, init)
	noLeftovers(t, r, b, c.ID, parent+"/ctr")
}
