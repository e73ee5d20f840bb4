package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/casco-runtime/casco/tests/internal/harness"
)

// sleeper is a container process that lives until it is killed.
var sleeper = []string{"sleep", "1000"}

// TestLifecycle walks one container through create, start, kill and delete,
// checking the state JSON and the kernel's view at every step.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	b.Spec.Annotations = map[string]string{"org.casco.test": "lifecycle", "empty": ""}
	before := time.Now()
	c := r.create(b)

	// create: state JSON with runc's names and types.
	res := r.mustRun("state", c.ID)
	var raw map[string]json.RawMessage
	if err := json.Unmarshal([]byte(res.Stdout), &raw); err != nil {
		t.Fatalf("state is not a JSON object: %v\n%s", err, res.Stdout)
	}
	wantKinds := map[string]byte{"ociVersion": '"', "id": '"', "pid": 'n', "status": '"', "bundle": '"', "rootfs": '"', "created": '"', "owner": '"'}
	for k, kind := range wantKinds {
		v, ok := raw[k]
		if !ok {
			t.Errorf("state lacks field %q: %s", k, res.Stdout)
			continue
		}
		if got := jsonKind(v); got != kind {
			t.Errorf("state field %q = %s: want a %s", k, v, kindName(kind))
		}
	}
	if v, ok := raw["annotations"]; !ok || jsonKind(v) != '{' {
		t.Errorf("state.annotations = %s, want an object (config has annotations)", v)
	}
	s := r.mustState(c.ID)
	if s.ID != c.ID || s.Status != "created" || s.Pid <= 0 {
		t.Errorf("state after create = %+v, want id %s, status created, pid > 0", s, c.ID)
	}
	if s.Bundle != b.Dir || s.Rootfs != b.Rootfs {
		t.Errorf("state bundle/rootfs = %q/%q, want %q/%q", s.Bundle, s.Rootfs, b.Dir, b.Rootfs)
	}
	if s.OCIVersion == "" {
		t.Errorf("state ociVersion is empty")
	}
	if s.Created.Before(before.Add(-time.Second)) || s.Created.After(time.Now().Add(time.Second)) {
		t.Errorf("state created = %v, want between %v and now", s.Created, before)
	}
	if s.Annotations["org.casco.test"] != "lifecycle" {
		t.Errorf("state annotations = %v, want the config's", s.Annotations)
	}

	// The init is parked: it has not exec'd the user's program yet.
	pid := s.Pid
	proc := identify(pid)
	if !proc.stillAlive() {
		t.Fatalf("created container's pid %d is not alive", pid)
	}
	if got := harness.Cmdline(pid); strings.Join(got, " ") == strings.Join(sleeper, " ") {
		t.Errorf("created container already runs the user's program: cmdline %q", got)
	}
	if sameFile(fmt.Sprintf("/proc/%d/exe", pid), filepath.Join(b.Rootfs, "bin", "busybox")) {
		t.Errorf("created container's /proc/%d/exe is already the user's busybox", pid)
	}
	// Created containers have their cgroup already: find it to check removal.
	cgs, err := procCgroups(pid)
	if err != nil {
		t.Fatal(err)
	}
	cgDirs := cgroupDirs(t, cgs)

	// start: running, the user's program.
	c.start()
	if s := r.mustState(c.ID); s.Status != "running" || s.Pid != pid {
		t.Errorf("state after start = %+v, want running with pid %d", s, pid)
	}
	if got := harness.Cmdline(pid); strings.Join(got, " ") != strings.Join(sleeper, " ") {
		t.Errorf("cmdline after start = %q, want %q", got, sleeper)
	}
	// start twice fails.
	r.mustFail([]string{"running", "start", "state", "created"}, "start", c.ID)

	// kill: stopped, the process is gone.
	r.mustRun("kill", c.ID, "KILL")
	waitGone(t, proc)
	// A stopped container reports pid 0: its old pid may be recycled, and an
	// engine must not signal whatever process gets it next.
	if s := r.waitStatus(c.ID, "stopped"); s.Pid != 0 {
		t.Errorf("stopped container reports pid %d, want 0", s.Pid)
	}
	r.mustFail([]string{"stopped", "start", "state"}, "start", c.ID)
	// containerd (pkg/process checkKillError) maps a kill error containing
	// "container not running", "no such process" or "os: process already
	// finished" to "process already finished": any other wording breaks it.
	r.mustFail([]string{"container not running", "no such process", "process already finished"}, "kill", c.ID, "KILL")

	// delete: state fails, root dir emptied, cgroups removed.
	r.mustRun("delete", c.ID)
	if _, res := r.state(c.ID); res.Code == 0 || res.Err != nil {
		t.Errorf("state after delete should fail: %s", res)
	}
	if e := r.entries(); len(e) != 0 {
		t.Errorf("root dir after delete holds %q", e)
	}
	for _, d := range cgDirs {
		if _, err := os.Stat(d); err == nil {
			t.Errorf("cgroup %s still exists after delete", d)
		}
	}
}

func jsonKind(v json.RawMessage) byte {
	s := strings.TrimSpace(string(v))
	if s == "" {
		return 0
	}
	switch s[0] {
	case '"', '{', '[':
		return s[0]
	case 'n':
		return 'N' // null
	case 't', 'f':
		return 'b'
	default:
		return 'n'
	}
}

func kindName(k byte) string {
	return map[byte]string{'"': "string", '{': "object", '[': "array", 'n': "number", 'N': "null", 'b': "bool"}[k]
}

// cgroupDirs maps a process's cgroup paths to directories on this host.
func cgroupDirs(t *testing.T, cgs map[string]string) []string {
	t.Helper()
	mounts := cgroupMounts(t)
	var dirs []string
	for ctrl, path := range cgs {
		mnt, ok := mounts[ctrl]
		if !ok || path == "/" {
			continue
		}
		dirs = append(dirs, filepath.Join(mnt, path))
	}
	return dirs
}

// TestNaturalExit: a container whose process exits by itself becomes
// "stopped" and can be deleted without --force.
func TestNaturalExit(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, "true")
	c := r.create(b)
	pid := r.mustState(c.ID).Pid
	proc := identify(pid)
	r.mustRun("start", c.ID)
	waitGone(t, proc)
	if s := r.waitStatus(c.ID, "stopped"); s.ID != c.ID {
		t.Errorf("stopped state has id %q", s.ID)
	}
	r.mustRun("delete", c.ID)
	noLeftovers(t, r, b, c.ID, "")
}

// TestKill sends signals by every spelling runc accepts and checks that the
// container's process got the right one.
func TestKill(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args   []string // after `kill ID`
		signal syscall.Signal
	}{
		{nil, syscall.SIGTERM}, // default
		{[]string{"TERM"}, syscall.SIGTERM},
		{[]string{"SIGTERM"}, syscall.SIGTERM},
		{[]string{"15"}, syscall.SIGTERM},
		{[]string{"USR1"}, syscall.SIGUSR1},
		{[]string{"SIGHUP"}, syscall.SIGHUP},
		{[]string{"KILL"}, syscall.SIGKILL},
		{[]string{"9"}, syscall.SIGKILL},
		{[]string{"SIGKILL"}, syscall.SIGKILL},
	}
	for _, tc := range cases {
		name := "default"
		if tc.args != nil {
			name = tc.args[0]
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := newRuntime(t)
			var b *bundle
			if tc.signal == syscall.SIGKILL {
				b = newBundle(t, sleeper...)
			} else {
				// A trap prints the signal's name, then exits; `wait` is
				// interrupted by the trapped signal at once.
				sig := strings.TrimPrefix(signalName(tc.signal), "SIG")
				b = newBundle(t, "sh", "-c", fmt.Sprintf("trap 'echo got-%s; exit 0' %s; sleep 1000 & wait", sig, sig))
			}
			c, s := r.createStart(b)
			proc := identify(s.Pid)
			if tc.signal != syscall.SIGKILL {
				waitSigCaught(t, s.Pid, tc.signal)
			}
			r.mustRun(append([]string{"kill", c.ID}, tc.args...)...)
			waitGone(t, proc)
			if tc.signal != syscall.SIGKILL {
				c.waitOutput("got-" + strings.TrimPrefix(signalName(tc.signal), "SIG"))
			}
			r.waitStatus(c.ID, "stopped")
		})
	}
	t.Run("unknown", func(t *testing.T) {
		t.Parallel()
		r := newRuntime(t)
		c, s := r.createStart(newBundle(t, sleeper...))
		for _, sig := range []string{"FOO", "SIGFOO"} {
			r.mustFail([]string{sig}, "kill", c.ID, sig)
		}
		r.mustFail(nil, "kill", c.ID, "99")
		if !harness.Alive(s.Pid) || r.mustState(c.ID).Status != "running" {
			t.Errorf("a failed kill must leave the container running")
		}
	})
	t.Run("missing", func(t *testing.T) {
		// containerd maps a kill error containing "does not exist" to "no
		// such container": the words are the contract.
		t.Parallel()
		r := newRuntime(t)
		r.mustFail([]string{"does not exist"}, "kill", "ct-missing", "KILL")
	})
	t.Run("created", func(t *testing.T) {
		// A created container can be signalled; its parked init dies.
		t.Parallel()
		r := newRuntime(t)
		c := r.create(newBundle(t, sleeper...))
		proc := identify(r.mustState(c.ID).Pid)
		r.mustRun("kill", c.ID, "KILL")
		waitGone(t, proc)
		r.waitStatus(c.ID, "stopped")
	})
}

func signalName(s syscall.Signal) string {
	return map[syscall.Signal]string{syscall.SIGTERM: "SIGTERM", syscall.SIGUSR1: "SIGUSR1", syscall.SIGHUP: "SIGHUP", syscall.SIGKILL: "SIGKILL"}[s]
}

// waitSigCaught waits until process pid has a handler for sig (SigCgt).
func waitSigCaught(t *testing.T, pid int, sig syscall.Signal) {
	t.Helper()
	var gone error
	ok := harness.Poll(hangGuard, func() bool {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
		if err != nil {
			gone = err
			return true
		}
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "SigCgt:"); ok {
				mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
				return err == nil && mask&(1<<(uint(sig)-1)) != 0
			}
		}
		return false
	})
	if gone != nil {
		t.Fatalf("process %d ended before installing a handler for %v: %v", pid, sig, gone)
	}
	if !ok {
		t.Fatalf("process %d never installed a handler for %v", pid, sig)
	}
}

// TestDelete covers delete's refusals and its --force.
func TestDelete(t *testing.T) {
	t.Parallel()
	t.Run("running-without-force", func(t *testing.T) {
		t.Parallel()
		r := newRuntime(t)
		b := newBundle(t, sleeper...)
		c, s := r.createStart(b)
		proc := identify(s.Pid)
		r.mustFail([]string{"running", "stopped", "force"}, "delete", c.ID)
		if !proc.stillAlive() || r.mustState(c.ID).Status != "running" {
			t.Fatalf("a refused delete must leave the container running")
		}
		r.mustRun("delete", "--force", c.ID)
		waitGone(t, proc)
		noLeftovers(t, r, b, c.ID, "")
	})
	t.Run("created", func(t *testing.T) {
		// runc deletes a created (never started) container without --force,
		// killing its parked init.
		t.Parallel()
		r := newRuntime(t)
		b := newBundle(t, sleeper...)
		c := r.create(b)
		proc := identify(r.mustState(c.ID).Pid)
		r.mustRun("delete", c.ID)
		waitGone(t, proc)
		noLeftovers(t, r, b, c.ID, "")
	})
	t.Run("force-missing", func(t *testing.T) {
		// runc: `delete --force` of an id that does not exist exits 0.
		t.Parallel()
		r := newRuntime(t)
		if res := r.run("delete", "--force", "ct-never-was"); res.Code != 0 || res.Err != nil {
			t.Errorf("delete --force of a missing container: %s", res)
		}
	})
	t.Run("missing", func(t *testing.T) {
		t.Parallel()
		r := newRuntime(t)
		r.mustFail([]string{"not exist", "ct-never-was"}, "delete", "ct-never-was")
	})
}

// TestStateUnknown: state of an id that does not exist fails.
func TestStateUnknown(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	res := r.mustFail([]string{"not exist", "ct-unknown"}, "state", "ct-unknown")
	if strings.TrimSpace(res.Stdout) != "" {
		t.Errorf("failed state printed to stdout: %q", res.Stdout)
	}
	r.mustFail([]string{"not exist", "ct-unknown"}, "start", "ct-unknown")
}

// TestList checks list's table, -q and -f json.
func TestList(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)

	// Empty root.
	if res := r.mustRun("list", "-q"); strings.TrimSpace(res.Stdout) != "" {
		t.Errorf("list -q of an empty root: %q", res.Stdout)
	}
	res := r.mustRun("list", "-f", "json")
	var empty []map[string]any
	if err := json.Unmarshal([]byte(res.Stdout), &empty); err != nil || len(empty) != 0 {
		t.Errorf("list -f json of an empty root = %q (%v), want an empty array (runc prints null)", res.Stdout, err)
	}
	if l := lines(r.mustRun("list").Stdout); len(l) != 1 || !strings.HasPrefix(strings.Join(strings.Fields(l[0]), " "), "ID PID STATUS BUNDLE CREATED OWNER") {
		t.Errorf("list of an empty root = %q, want just the header", l)
	}

	b1 := newBundle(t, sleeper...)
	c1 := r.create(b1)
	b2 := newBundle(t, sleeper...)
	c2, s2 := r.createStart(b2)
	s1 := r.mustState(c1.ID)

	ids := lines(r.mustRun("list", "-q").Stdout)
	if strings.Join(ids, " ") != strings.Join(sorted(c1.ID, c2.ID), " ") {
		t.Errorf("list -q = %q, want %q", ids, sorted(c1.ID, c2.ID))
	}

	table := lines(r.mustRun("list").Stdout)
	if len(table) != 3 {
		t.Fatalf("list printed %d lines, want header + 2: %q", len(table), table)
	}
	if h := strings.Fields(table[0]); strings.Join(h, " ") != "ID PID STATUS BUNDLE CREATED OWNER" {
		t.Errorf("list header = %q", h)
	}
	rows := map[string][]string{}
	for _, l := range table[1:] {
		f := strings.Fields(l)
		if len(f) < 5 {
			t.Errorf("list row %q has too few columns", l)
			continue
		}
		rows[f[0]] = f
	}
	for _, want := range []struct {
		s   state
		b   *bundle
		sts string
	}{{s1, b1, "created"}, {s2, b2, "running"}} {
		f := rows[want.s.ID]
		if f == nil {
			t.Errorf("list lacks %s", want.s.ID)
			continue
		}
		if f[1] != strconv.Itoa(want.s.Pid) || f[2] != want.sts || f[3] != want.b.Dir {
			t.Errorf("list row %q, want pid %d status %s bundle %s", f, want.s.Pid, want.sts, want.b.Dir)
		}
	}

	var entries []struct {
		OCIVersion string    `json:"ociVersion"`
		ID         string    `json:"id"`
		Pid        int       `json:"pid"`
		Status     string    `json:"status"`
		Bundle     string    `json:"bundle"`
		Rootfs     string    `json:"rootfs"`
		Created    time.Time `json:"created"`
		Owner      string    `json:"owner"`
	}
	res = r.mustRun("list", "-f", "json")
	if err := json.Unmarshal([]byte(res.Stdout), &entries); err != nil {
		t.Fatalf("list -f json: %v: %q", err, res.Stdout)
	}
	var raws []map[string]json.RawMessage
	json.Unmarshal([]byte(res.Stdout), &raws)
	for _, raw := range raws {
		for _, k := range []string{"ociVersion", "id", "pid", "status", "bundle", "rootfs", "created", "owner"} {
			if _, ok := raw[k]; !ok {
				t.Errorf("list -f json entry lacks %q: %s", k, res.Stdout)
			}
		}
	}
	got := map[string]string{}
	for _, e := range entries {
		got[e.ID] = fmt.Sprintf("%d %s %s %s", e.Pid, e.Status, e.Bundle, e.Rootfs)
		if e.Owner != "root" {
			t.Errorf("list -f json owner of %s = %q, want root (the owner of the state dir)", e.ID, e.Owner)
		}
	}
	for _, want := range []struct {
		s   state
		b   *bundle
		sts string
	}{{s1, b1, "created"}, {s2, b2, "running"}} {
		w := fmt.Sprintf("%d %s %s %s", want.s.Pid, want.sts, want.b.Dir, want.b.Rootfs)
		if got[want.s.ID] != w {
			t.Errorf("list -f json %s = %q, want %q", want.s.ID, got[want.s.ID], w)
		}
	}
}

func sorted(s ...string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestPidFile: --pid-file holds the init's pid, as a bare decimal (containerd
// parses it with strconv.Atoi, no trimming).
func TestPidFile(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	pidFile := filepath.Join(t.TempDir(), "init.pid")
	c := r.create(newBundle(t, sleeper...), "--pid-file", pidFile)
	s := r.mustState(c.ID)
	if got := readFileString(pidFile); got != strconv.Itoa(s.Pid) {
		t.Errorf("pid file holds %q, want %q", got, strconv.Itoa(s.Pid))
	}
	t.Run("run-detached", func(t *testing.T) {
		r := newRuntime(t)
		pidFile := filepath.Join(t.TempDir(), "run.pid")
		b := newBundle(t, sleeper...)
		id, res := r.runForeground(b, "-d", "--pid-file", pidFile)
		if res.Code != 0 {
			t.Fatalf("run -d: %s", res)
		}
		if got := readFileString(pidFile); got != strconv.Itoa(r.mustState(id).Pid) {
			t.Errorf("pid file holds %q, want the state's pid %d", got, r.mustState(id).Pid)
		}
	})
}

// TestRun: foreground run returns the container's exit code, 128+n when the
// container is killed by signal n; run -d returns with the container running.
func TestRun(t *testing.T) {
	t.Parallel()
	t.Run("exit-code", func(t *testing.T) {
		t.Parallel()
		r := newRuntime(t)
		b := newBundle(t, "sh", "-c", "echo out; echo err >&2; exit 3")
		id, res := r.runForeground(b)
		if res.Err != nil || res.Code != 3 {
			t.Fatalf("run of `exit 3`: %s", res)
		}
		if res.Stdout != "out\n" || !strings.Contains(res.Stderr, "err\n") {
			t.Errorf("run passes the container's stdio through: %s", res)
		}
		// run removes the container when it exits.
		if _, st := r.state(id); st.Code == 0 {
			t.Errorf("container %s still exists after run returned", id)
		}
		noLeftovers(t, r, b, id, "")
	})
	t.Run("exit-zero", func(t *testing.T) {
		t.Parallel()
		r := newRuntime(t)
		if _, res := r.runForeground(newBundle(t, "true")); res.Err != nil || res.Code != 0 {
			t.Fatalf("run of `true`: %s", res)
		}
	})
	t.Run("sigkill", func(t *testing.T) {
		t.Parallel()
		r := newRuntime(t)
		b := newBundle(t, sleeper...)
		id := newID(t)
		b.save(t)
		r.trackCleanup(id)
		var res result
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			res = r.run("run", "--bundle", b.Dir, id)
		}()
		var pid int
		ok := harness.Poll(hangGuard, func() bool {
			s, sr := r.state(id)
			if sr.Code == 0 && s.Status == "running" && strings.Join(harness.Cmdline(s.Pid), " ") == "sleep 1000" {
				pid = s.Pid
				return true
			}
			return false
		})
		if !ok {
			wg.Wait()
			t.Fatalf("container never ran: %s", res)
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if res.Err != nil || res.Code != 128+9 {
			t.Errorf("run of a SIGKILLed container: %s, want exit 137", res)
		}
	})
	t.Run("detached", func(t *testing.T) {
		t.Parallel()
		r := newRuntime(t)
		b := newBundle(t, sleeper...)
		// run -d returns while the container runs: the state below says so
		id, res := r.runForeground(b, "-d")
		if res.Err != nil || res.Code != 0 {
			t.Fatalf("run -d: %s", res)
		}
		s := r.mustState(id)
		if s.Status != "running" {
			t.Errorf("state after run -d = %+v", s)
		}
		waitExec(t, s.Pid, sleeper)
		r.mustRun("kill", id, "KILL")
		r.waitStatus(id, "stopped")
		r.mustRun("delete", id)
		noLeftovers(t, r, b, id, "")
	})
}

// TestSpecCommand: `spec` writes a config.json and refuses to overwrite one.
func TestSpecCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := newRuntime(t)
	if res := r.exec(runOpts{dir: dir}, "spec"); res.Code != 0 {
		t.Fatalf("spec: %s", res)
	}
	if _, err := os.Stat(filepath.Join(dir, "config.json")); err != nil {
		t.Fatal(err)
	}
	if res := r.exec(runOpts{dir: dir}, "spec"); res.Code == 0 || !mentions(res.Stderr, "config.json") {
		t.Errorf("spec over an existing config.json should fail naming it: %s", res)
	}
	other := t.TempDir()
	if res := r.run("spec", "--bundle", other); res.Code != 0 {
		t.Fatalf("spec --bundle: %s", res)
	}
	if _, err := os.Stat(filepath.Join(other, "config.json")); err != nil {
		t.Errorf("spec --bundle did not write there: %v", err)
	}
}

// TestLogFile: with --log FILE --log-format json the runtime appends JSON
// objects {"level","msg","time"} to FILE; containerd reads the last
// "error" msg from it as the failure's cause.
func TestLogFile(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	logFile := filepath.Join(t.TempDir(), "log.json")
	res := r.run("--log", logFile, "--log-format", "json", "state", "ct-nope")
	if res.Code <= 0 {
		t.Fatalf("state of a missing container: %s", res)
	}
	data := readFileString(logFile)
	dec := json.NewDecoder(strings.NewReader(data))
	var lastErr string
	for {
		var entry struct {
			Level string    `json:"level"`
			Msg   string    `json:"msg"`
			Time  time.Time `json:"time"`
		}
		if err := dec.Decode(&entry); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("log file is not a stream of JSON objects: %v: %q", err, data)
			}
			break
		}
		if entry.Time.IsZero() {
			t.Errorf("log entry without a time: %q", data)
		}
		if entry.Level == "error" {
			lastErr = entry.Msg
		}
	}
	if !mentions(lastErr, "does not exist") {
		t.Errorf("last error in the log = %q, want it to say the container does not exist (log %q)", lastErr, data)
	}
}
