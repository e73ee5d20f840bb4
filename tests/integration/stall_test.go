package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
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

// processesNamed lists the pids whose command line starts with path.
func processesNamed(path string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if cl := cmdline(pid); len(cl) > 0 && cl[0] == path {
			pids = append(pids, pid)
		}
	}
	return pids
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
			if pids := processesNamed(bin); len(pids) > 0 {
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
	if !poll(hangGuard, func() bool { return freezerOf(t, st.Pid) == "FROZEN" }) {
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
