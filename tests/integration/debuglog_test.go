package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	goruntime "runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// What --debug tells about a container's process, held against the kernel.
// runc and casco word their debug lines differently (runc's CPU affinity
// comes from its C init: "nsexec[PID]: affinity: 0xMASK"); the facts are
// the same. runc logs no affinity after its final change: for runc the
// kernel alone is checked there.

var (
	cascoAffinity = regexp.MustCompile(`(init|exec): cpu affinity (at start|at exec): ([0-9,-]+)`)
	runcAffinity  = regexp.MustCompile(`nsexec(?:-\d)?\[\d+\]: affinity: 0x([0-9a-f]+)`)
)

// affinityFacts reads the affinity a debug log gives the process: at its
// start (before it joins the container; execCPUAffinity.initial when set)
// and, for casco, at exec. who is "init" or "exec".
func affinityFacts(t *testing.T, log, who string) (start, atExec string) {
	t.Helper()
	if isRunc() {
		m := runcAffinity.FindStringSubmatch(log)
		if m == nil {
			return "", ""
		}
		mask, err := strconv.ParseUint(m[1], 16, 64)
		if err != nil {
			t.Fatalf("affinity mask %q: %v", m[1], err)
		}
		var cpus []int
		for i := 0; i < 64; i++ {
			if mask&(1<<i) != 0 {
				cpus = append(cpus, i)
			}
		}
		return cpuListOf(cpus...), ""
	}
	for _, m := range cascoAffinity.FindAllStringSubmatch(log, -1) {
		if m[1] != who {
			continue
		}
		if m[2] == "at start" {
			start = m[3]
		} else {
			atExec = m[3]
		}
	}
	return start, atExec
}

// cpuListOf writes CPUs as the kernel's Cpus_allowed_list does: "0-2,5".
func cpuListOf(cpus ...int) string {
	var parts []string
	for i := 0; i < len(cpus); {
		j := i
		for j+1 < len(cpus) && cpus[j+1] == cpus[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, strconv.Itoa(cpus[i]))
		} else {
			parts = append(parts, fmt.Sprintf("%d-%d", cpus[i], cpus[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// jsonLogMsgs is the msg of every line of a --log-format json file; a
// line that is not a JSON object fails the test.
func jsonLogMsgs(t *testing.T, path string) string {
	t.Helper()
	var msgs []string
	for _, line := range lines(readFileString(path)) {
		if line == "" {
			continue
		}
		var e struct {
			Level string `json:"level"`
			Msg   string `json:"msg"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("--log-format json wrote a line that is not JSON: %q: %v", line, err)
		}
		msgs = append(msgs, e.Msg)
	}
	return strings.Join(msgs, "\n")
}

// pinned runs the runtime from a thread whose affinity is cpu alone, so
// the runtime and what it starts inherit it (runc starts its exec process
// the same way to give it execCPUAffinity.initial).
func (r *runtime) pinned(cpu int, args ...string) result {
	done := make(chan result, 1)
	go func() {
		// No other goroutine runs on the thread while it is narrowed. It
		// gets its affinity back before it is unlocked: a goroutine that
		// ends locked on the main thread leaves that thread parked, and
		// narrowed, for the rest of the run (/proc/PID/status is its).
		goruntime.LockOSThread()
		var old, set unix.CPUSet
		if err := unix.SchedGetaffinity(0, &old); err != nil {
			done <- result{Args: args, Code: -1, Err: fmt.Errorf("sched_getaffinity: %w", err)}
			return
		}
		set.Set(cpu)
		if err := unix.SchedSetaffinity(0, &set); err != nil {
			done <- result{Args: args, Code: -1, Err: fmt.Errorf("sched_setaffinity %d: %w", cpu, err)}
			return
		}
		res := r.run(args...)
		if err := unix.SchedSetaffinity(0, &old); err == nil {
			goruntime.UnlockOSThread()
		}
		done <- res
	}()
	return <-done
}

// TestDebugCPUAffinity: `--debug` (text on stderr, and JSON in --log) says
// which CPUs a process may use as it starts, the inherited affinity or
// execCPUAffinity.initial, and casco also says which it is exec'd with;
// every figure is the kernel's (Cpus_allowed_list). A process with no
// execCPUAffinity, the container's init always, does not keep the
// affinity of whoever ran the runtime (runc 1.5 resets it): it may run on
// every CPU the test may.
func TestDebugCPUAffinity(t *testing.T) {
	t.Parallel()
	first, second := twoCPUs(t)
	all := procStatus(t, os.Getpid())["Cpus_allowed_list"]
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	b.save(t)
	id := newID(t)
	r.trackCleanup(id)
	log := filepath.Join(t.TempDir(), "create.json")
	res := r.pinned(second, "--debug", "--log", log, "--log-format", "json", "create", "--bundle", b.Dir, id)
	if res.Err != nil || res.Code != 0 {
		t.Fatalf("create: %s", res)
	}
	st := r.mustState(id)
	msgs := jsonLogMsgs(t, log)
	if got := procStatus(t, st.Pid)["Cpus_allowed_list"]; got != all {
		t.Errorf("init run from CPU %d: Cpus_allowed_list %q, want %q (every CPU, not the caller's)", second, got, all)
	}
	start, atExec := affinityFacts(t, msgs, "init")
	// the init starts with the caller's affinity; on cgroup v2 it is
	// cloned into the container's cgroup (CLONE_INTO_CGROUP), and the
	// kernel's cpuset gives it that cgroup's CPUs as it enters
	wantStart := strconv.Itoa(second)
	if isCgroup2() {
		wantStart = all
	}
	if start != wantStart {
		t.Errorf("create's JSON log gives the init's affinity at start as %q, want %q:\n%s", start, wantStart, msgs)
	}
	if !isRunc() && atExec != all {
		t.Errorf("create's JSON log gives the init's affinity at exec as %q, the kernel %q:\n%s", atExec, all, msgs)
	}
	r.mustRun("start", id)

	// exec with its own affinity, text on stderr
	proc := *b.Spec.Process
	proc.Args = []string{"sleep", "300"}
	proc.ExecCPUAffinity = &specs.CPUAffinity{Initial: strconv.Itoa(second), Final: strconv.Itoa(first)}
	procFile := filepath.Join(r.dir, "process.json")
	data, _ := json.Marshal(proc)
	if err := os.WriteFile(procFile, data, 0o644); err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(r.dir, "exec.pid")
	res = r.pinned(first, "--debug", "exec", "--detach", "--pid-file", pidFile, "--process", procFile, id)
	if res.Err != nil || res.Code != 0 {
		t.Fatalf("exec: %s", res)
	}
	pid := readPid(t, pidFile)
	waitExec(t, pid, proc.Args)
	if got := procStatus(t, pid)["Cpus_allowed_list"]; got != strconv.Itoa(first) {
		t.Errorf("exec: Cpus_allowed_list %q, want %d (execCPUAffinity.final)", got, first)
	}
	start, atExec = affinityFacts(t, res.Stderr, "exec")
	if start != strconv.Itoa(second) {
		t.Errorf("exec's debug output gives the affinity at start as %q, want %d (execCPUAffinity.initial):\n%s", start, second, res.Stderr)
	}
	if !isRunc() && atExec != strconv.Itoa(first) {
		t.Errorf("exec's debug output gives the affinity at exec as %q, want %d (execCPUAffinity.final):\n%s", atExec, first, res.Stderr)
	}

	// exec with none, JSON in --log: the caller's at start, every CPU after
	log = filepath.Join(t.TempDir(), "exec.json")
	pidFile = filepath.Join(r.dir, "exec2.pid")
	res = r.pinned(first, "--debug", "--log", log, "--log-format", "json", "exec", "--detach", "--pid-file", pidFile, id, "sleep", "301")
	if res.Err != nil || res.Code != 0 {
		t.Fatalf("exec: %s", res)
	}
	pid = readPid(t, pidFile)
	waitExec(t, pid, []string{"sleep", "301"})
	if got := procStatus(t, pid)["Cpus_allowed_list"]; got != all {
		t.Errorf("exec run from CPU %d without execCPUAffinity: Cpus_allowed_list %q, want %q", first, got, all)
	}
	msgs = jsonLogMsgs(t, log)
	start, atExec = affinityFacts(t, msgs, "exec")
	wantStart = strconv.Itoa(first) // the caller's, or on v2 the cgroup's (see the init's above)
	if isCgroup2() {
		wantStart = all
	}
	if start != wantStart {
		t.Errorf("exec's JSON log gives the affinity at start as %q, want %q:\n%s", start, wantStart, msgs)
	}
	if !isRunc() && atExec != all {
		t.Errorf("exec's JSON log gives the affinity at exec as %q, the kernel %q:\n%s", atExec, all, msgs)
	}
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	pid, err := strconv.Atoi(strings.TrimSpace(readFileString(path)))
	if err != nil {
		t.Fatalf("pid file %s: %v", path, err)
	}
	return pid
}

// TestDebugSeccompFlags: `--debug` gives the flags the seccomp filter is
// loaded with in runc's words ("seccomp filter flags: N"), the numbers of
// the kernel's SECCOMP_FILTER_FLAG_* bits, for the flags the config gives;
// with no flags field at all the filter gets SPEC_ALLOW, as with runc.
// The container runs under the filter (Seccomp: 2, mkdir refused).
func TestDebugSeccompFlags(t *testing.T) {
	t.Parallel()
	if oldRunc() {
		t.Skip("runc 1.1 has no linux.seccomp.flags")
	}
	var f struct {
		Linux struct {
			Seccomp struct {
				SupportedFlags []specs.LinuxSeccompFlag `json:"supportedFlags"`
			} `json:"seccomp"`
		} `json:"linux"`
	}
	if err := json.Unmarshal([]byte(newRuntime(t).mustRun("features").Stdout), &f); err != nil {
		t.Fatalf("features: %v", err)
	}
	supported := map[specs.LinuxSeccompFlag]bool{}
	for _, s := range f.Linux.Seccomp.SupportedFlags {
		supported[s] = true
	}
	bits := map[specs.LinuxSeccompFlag]uint{
		specs.LinuxSeccompFlagLog:       unix.SECCOMP_FILTER_FLAG_LOG,
		specs.LinuxSeccompFlagSpecAllow: unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW,
	}
	for _, tc := range []struct {
		name  string
		flags []specs.LinuxSeccompFlag
		json  bool // --log --log-format json, else text on stderr
	}{
		{"absent", nil, true},
		{"empty", []specs.LinuxSeccompFlag{}, false},
		{"log", []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog}, true},
		{"spec-allow", []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagSpecAllow}, false},
		{"log+spec-allow", []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var want uint
			for _, fl := range tc.flags {
				if !supported[fl] {
					t.Skipf("the runtime's features do not list %s", fl)
				}
				want |= bits[fl]
			}
			if tc.flags == nil && supported[specs.LinuxSeccompFlagSpecAllow] {
				want = unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW
			}
			r := newRuntime(t)
			b := seccompBundle(t, &specs.LinuxSeccomp{
				DefaultAction: specs.ActAllow,
				Flags:         tc.flags,
				Syscalls:      []specs.LinuxSyscall{mkdirRule(specs.ActErrno, errnoRet(syscall.EROFS))},
			}, "sh", "-c", "grep '^Seccomp:' /proc/self/status; mkdir /tmp/x; echo mkdir=$?")
			b.save(t)
			if tc.flags != nil && len(tc.flags) == 0 {
				emptyFlags(t, b)
			}
			id := newID(t)
			r.trackCleanup(id)
			args := []string{"--debug"}
			log := filepath.Join(t.TempDir(), "log.json")
			if tc.json {
				args = append(args, "--log", log, "--log-format", "json")
			}
			res := r.run(append(args, "run", "--bundle", b.Dir, id)...)
			if res.Err != nil || res.Code != 0 {
				t.Fatalf("run: %s", res)
			}
			if w := "Seccomp:\t2\nmkdir=1\n"; res.Stdout != w {
				t.Errorf("stdout %q, want %q (the filter in force)", res.Stdout, w)
			}
			line := fmt.Sprintf("seccomp filter flags: %d", want)
			if tc.json {
				msgs := jsonLogMsgs(t, log)
				if !strings.Contains("\n"+msgs+"\n", "\n"+line+"\n") {
					t.Errorf("the JSON log has no message %q:\n%s", line, msgs)
				}
				return
			}
			if !regexp.MustCompile(`msg="?` + line + `["\s]`).MatchString(res.Stderr) {
				t.Errorf("the debug output has no message %q: %s", line, res)
			}
		})
	}
}

// emptyFlags writes "flags": [] into the bundle's seccomp section: the spec
// package omits an empty list, and an empty list is not an absent one.
func emptyFlags(t *testing.T, b *bundle) {
	t.Helper()
	path := filepath.Join(b.Dir, "config.json")
	var cfg map[string]any
	if err := json.Unmarshal([]byte(readFileString(path)), &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["linux"].(map[string]any)["seccomp"].(map[string]any)["flags"] = []string{}
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
