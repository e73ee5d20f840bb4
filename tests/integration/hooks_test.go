package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// hookDir is a host directory that is bind-mounted at the same path into
// the container, so that a hook writes to the same files whether it runs in
// the runtime's namespaces or in the container's (startContainer).
func hookDir(t *testing.T, b *bundle) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "hooks")
	if err := os.MkdirAll(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o777)
	b.Spec.Mounts = append(b.Spec.Mounts, specs.Mount{Destination: dir, Type: "bind", Source: dir, Options: []string{"rbind", "rw"}})
	return dir
}

// recordingHook appends its name to dir/log and saves its stdin (the
// state JSON) to dir/<name>.json.
func recordingHook(dir, name string) specs.Hook {
	return specs.Hook{
		Path: "/bin/sh",
		Args: []string{"sh", "-c", fmt.Sprintf("echo %s >> %s/log; cat > %s/%s.json", name, dir, dir, name)},
	}
}

func hookLog(dir string) []string { return lines(readFileString(filepath.Join(dir, "log"))) }

// TestHooks: every hook runs once, in the spec's order, at its step of the
// lifecycle, with the container's state on stdin.
func TestHooks(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	dir := hookDir(t, b)
	b.Spec.Hooks = &specs.Hooks{
		Prestart:        []specs.Hook{recordingHook(dir, "prestart")},
		CreateRuntime:   []specs.Hook{recordingHook(dir, "createRuntime")},
		CreateContainer: []specs.Hook{recordingHook(dir, "createContainer")},
		StartContainer:  []specs.Hook{recordingHook(dir, "startContainer")},
		Poststart:       []specs.Hook{recordingHook(dir, "poststart")},
		Poststop:        []specs.Hook{recordingHook(dir, "poststop")},
	}
	// runc has long run poststart hooks in create, before startContainer,
	// with status "created", against the spec's lifecycle (steps 6-9);
	// opencontainers/runc#5186 (merged 2026-03) moves them to start.
	oldRunc := knownRuncBug(t, "runc runs poststart hooks during create, with status created (fixed by runc#5186)")
	c := r.create(b)
	want := []string{"prestart", "createRuntime", "createContainer"}
	if got := hookLog(dir); strings.Join(got, " ") != strings.Join(want, " ") &&
		!(oldRunc && strings.Join(got, " ") == strings.Join(append(want, "poststart"), " ")) {
		t.Errorf("hooks run by create: %q, want %q", got, want)
	}
	pid := r.mustState(c.ID).Pid
	c.start()
	want = append(want, "startContainer", "poststart")
	if got := hookLog(dir); strings.Join(got, " ") != strings.Join(want, " ") &&
		!(oldRunc && strings.Join(got, " ") == "prestart createRuntime createContainer poststart startContainer") {
		t.Errorf("hooks run by create+start: %q, want %q", got, want)
	}
	r.mustRun("kill", c.ID, "KILL")
	r.waitStatus(c.ID, "stopped")
	if got := hookLog(dir); len(got) != len(want) {
		t.Errorf("kill ran hooks: %q", got)
	}
	r.mustRun("delete", c.ID)
	want = append(want, "poststop")
	if got := hookLog(dir); strings.Join(got, " ") != strings.Join(want, " ") &&
		!(oldRunc && strings.Join(got, " ") == "prestart createRuntime createContainer poststart startContainer poststop") {
		t.Errorf("hooks run by create+start+delete: %q, want %q", got, want)
	}

	// The state each hook read on stdin (runtime-spec "state"): the
	// container's id, its bundle, the status at that step, and the init's
	// pid while it lives: "for hooks executed in the runtime namespace, the
	// pid as seen by the runtime; for hooks executed in the container
	// namespace, the pid as seen by the container" (1 in a new pid ns).
	wantStatus := map[string]string{
		"prestart": "creating", "createRuntime": "creating", "createContainer": "creating",
		"startContainer": "created", "poststart": "running", "poststop": "stopped",
	}
	wantPid := map[string]int{
		"prestart": pid, "createRuntime": pid, "createContainer": 1,
		"startContainer": 1, "poststart": pid, "poststop": 0,
	}
	for _, name := range want {
		data := readFileString(filepath.Join(dir, name+".json"))
		var s state
		if err := json.Unmarshal([]byte(data), &s); err != nil {
			t.Errorf("%s hook's stdin is not a state JSON: %v: %q", name, err, data)
			continue
		}
		t.Logf("%s: %s", name, strings.TrimSpace(data))
		if s.ID != c.ID {
			t.Errorf("%s hook: state id %q, want %q", name, s.ID, c.ID)
		}
		if s.Pid != wantPid[name] && !(name == "poststop" && s.Pid == pid) { // pid is optional once stopped
			t.Errorf("%s hook: state pid %d, want %d", name, s.Pid, wantPid[name])
		}
		if s.Bundle != b.Dir {
			t.Errorf("%s hook: state bundle %q, want %q", name, s.Bundle, b.Dir)
		}
		if s.OCIVersion == "" {
			t.Errorf("%s hook: state has no ociVersion", name)
		}
		if s.Status != wantStatus[name] && !(oldRunc && name == "poststart" && s.Status == "created") {
			t.Errorf("%s hook: state status %q, want %q", name, s.Status, wantStatus[name])
		}
	}
}

// TestHookEnvArgs: hooks get their args and env.
func TestHookEnvArgs(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	out := filepath.Join(t.TempDir(), "out")
	b.Spec.Hooks = &specs.Hooks{CreateRuntime: []specs.Hook{{
		Path: "/bin/sh",
		Args: []string{"sh", "-c", `echo "$0|$1|$HOOKVAR" > ` + out, "zero", "first"},
		Env:  []string{"HOOKVAR=from-env"},
	}}}
	r.create(b)
	if got := readFileString(out); got != "zero|first|from-env\n" {
		t.Errorf("hook saw %q, want zero|first|from-env", got)
	}
}

// TestFailingHook: a failing prestart or createRuntime hook makes create
// fail, and nothing is left: no state, no process, no cgroup, no mount.
func TestFailingHook(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"prestart", "createRuntime", "createContainer"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			b := newBundle(t, sleeper...)
			id := newID(t)
			cg := "casco-test-" + id
			b.Spec.Linux.CgroupsPath = cg
			marker := filepath.Join(t.TempDir(), "ran")
			fail := specs.Hook{Path: "/bin/sh", Args: []string{"sh", "-c", "echo ran > " + marker + "; echo hook-says-no >&2; exit 7"}}
			b.Spec.Hooks = &specs.Hooks{}
			switch kind {
			case "prestart":
				b.Spec.Hooks.Prestart = []specs.Hook{fail}
			case "createRuntime":
				b.Spec.Hooks.CreateRuntime = []specs.Hook{fail}
			case "createContainer":
				b.Spec.Hooks.CreateContainer = []specs.Hook{fail}
			}
			b.save(t)
			r.trackCleanup(id)
			res := r.run("create", "--bundle", b.Dir, id)
			if res.Code <= 0 || res.Err != nil {
				t.Fatalf("create with a failing %s hook: %s", kind, res)
			}
			t.Logf("stderr: %s", strings.TrimSpace(res.Stderr))
			if readFileString(marker) != "ran\n" {
				t.Errorf("the %s hook never ran", kind)
			}
			if !mentions(res.Stderr, "hook") {
				t.Errorf("stderr should say a hook failed: %s", res)
			}
			if _, st := r.state(id); st.Code == 0 {
				t.Errorf("state of the failed container succeeds: %s", st)
			}
			noLeftovers(t, r, b, id, cg)
		})
	}
}

// TestHooksLeaveSignalsAlone: hooks the init runs in the container
// (createContainer, startContainer) leave the user process's signal
// dispositions as they were: no SIGPIPE ignored behind its back.
func TestHooksLeaveSignalsAlone(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, "grep", "SigIgn", "/proc/self/status")
	hook := specs.Hook{Path: "/bin/true"}
	b.Spec.Hooks = &specs.Hooks{CreateContainer: []specs.Hook{hook, hook}, StartContainer: []specs.Hook{hook}}
	_, res := r.runForeground(b)
	if res.Err != nil || res.Code != 0 {
		t.Fatalf("run: %s", res)
	}
	f := strings.Fields(res.Stdout)
	if len(f) != 2 {
		t.Fatalf("unexpected status line %q", res.Stdout)
	}
	mask, err := strconv.ParseUint(f[1], 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	if mask&(1<<(13-1)) != 0 {
		t.Errorf("the container's process starts with SIGPIPE ignored (SigIgn %s)", f[1])
	}
}
