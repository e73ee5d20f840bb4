package cgroups

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// The test binary doubles as a helper process: with CASCO_CG_HELPER set it
// waits for one line on stdin (the parent moves it into the cgroup
// meanwhile), then does what the variable says and exits.
func TestMain(m *testing.M) {
	if h := os.Getenv("CASCO_CG_HELPER"); h != "" {
		os.Exit(runHelper(h))
	}
	os.Exit(m.Run())
}

// runHelper "open:/dev/x,/dev/y" prints "path ok" or "path errno" per path.
func runHelper(h string) int {
	bufio.NewReader(os.Stdin).ReadString('\n')
	what, arg, _ := strings.Cut(h, ":")
	switch what {
	case "open":
		// "path[:r|w|rw]" entries: open each and print "path:mode ok|errno".
		for _, e := range strings.Split(arg, ",") {
			p, m, _ := strings.Cut(e, ":")
			flags := os.O_RDONLY
			switch m {
			case "w":
				flags = os.O_WRONLY
			case "rw":
				flags = os.O_RDWR
			case "":
				m = "r"
			}
			f, err := os.OpenFile(p, flags, 0)
			if err != nil {
				fmt.Printf("%s:%s %v\n", p, m, err.(*os.PathError).Err)
				continue
			}
			f.Close()
			fmt.Printf("%s:%s ok\n", p, m)
		}
	case "spin":
		// Burn 200ms of CPU time (not wall time: on a loaded machine the
		// spinner gets a fraction of a core) so cpu stats have something to show.
		var ru syscall.Rusage
		for {
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
			if time.Duration(ru.Utime.Nano()+ru.Stime.Nano()) >= 200*time.Millisecond {
				break
			}
		}
	case "alloc":
		// Touch N MiB so a small memory limit triggers the OOM killer.
		var n int
		fmt.Sscanf(arg, "%d", &n)
		keep := make([][]byte, 0, n)
		for i := 0; i < n; i++ {
			b := make([]byte, 1<<20)
			for j := range b {
				b[j] = 1
			}
			keep = append(keep, b)
		}
		fmt.Println("allocated", len(keep))
		if strings.HasSuffix(arg, ":hold") {
			os.Stdout.Sync()
			time.Sleep(time.Minute)
		}
	case "sleep":
		time.Sleep(time.Minute)
	}
	return 0
}

var testSeq atomic.Int64

// waitLimit bounds every wait of these tests on a helper process or the
// kernel. Generous: the wait ends as soon as the state is there, and a
// loaded machine (a CPU-limited helper, other suites beside) is slow.
const waitLimit = time.Minute

func requireRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create cgroups")
	}
}

func mode(t *testing.T) Mode {
	t.Helper()
	m, err := DetectMode()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// testPath is an absolute, unique cgroupsPath containing "casco-test".
func testPath(t *testing.T) string {
	return fmt.Sprintf("/casco-test-%d-%d-%s", os.Getpid(), testSeq.Add(1), strings.ReplaceAll(t.Name(), "/", "_"))
}

// newCreated makes a manager on a unique path, creates it and registers
// its destruction. The cleanup kills only processes the test started
// (tracked by startHelper), never "everything in the cgroup".
func newCreated(t *testing.T) Manager {
	t.Helper()
	requireRoot(t)
	m, err := New(testPath(t), "", Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Destroy(); err != nil {
			t.Errorf("cleanup destroy: %v", err)
		}
	})
	if err := m.Create(); err != nil {
		t.Fatal(err)
	}
	return m
}

type helperProc struct {
	cmd   *exec.Cmd
	stdin interface{ Write([]byte) (int, error) }
	out   *syncBuilder
}

// syncBuilder is a strings.Builder safe to read while the child writes.
type syncBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuilder) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitOutput polls the helper's output for want.
func (h *helperProc) waitOutput(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !strings.Contains(h.out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("helper never printed %q: %q", want, h.out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// startHelper starts this test binary as a helper that blocks on stdin.
func startHelper(t *testing.T, spec string, attr *syscall.SysProcAttr) *helperProc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), "CASCO_CG_HELPER="+spec)
	cmd.SysProcAttr = attr
	out := &syncBuilder{}
	cmd.Stdout = out
	cmd.Stderr = out
	w, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &helperProc{cmd: cmd, stdin: w, out: out}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill() // by PID: a process this test started
			_ = cmd.Wait()
		}
	})
	return h
}

// startSleep runs `sleep 100` (our own child, killed by PID in cleanup).
func startSleep(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sleep", "100")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd
}

func waitExit(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(waitLimit):
		t.Fatalf("pid %d did not exit within %v", cmd.Process.Pid, waitLimit)
	}
}

func readTrim(t *testing.T, dir, file string) string {
	t.Helper()
	s, err := readFile(dir, file)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(s)
}

func wantFile(t *testing.T, dir, file, want string) {
	t.Helper()
	if got := readTrim(t, dir, file); got != want {
		t.Errorf("%s/%s = %q, want %q", dir, file, got, want)
	}
}

// mainDir is the directory tests check process membership in.
func mainDir(m Manager) string {
	p := m.Paths()
	for _, c := range []string{"freezer", "memory", ""} {
		if d, ok := p[c]; ok {
			return d
		}
	}
	return ""
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func inCgroup(t *testing.T, pid int, m Manager) {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		t.Fatal(err)
	}
	for ctrl, dir := range m.Paths() {
		// dir is <mount>/<inner>; /proc/pid/cgroup shows <inner>.
		inner := dir
		if ctrl == "" && strings.HasPrefix(dir, unifiedRoot) {
			inner = strings.TrimPrefix(dir, unifiedRoot)
		} else if ctrl == "" {
			inner = strings.TrimPrefix(dir, Root)
		} else {
			rest := strings.TrimPrefix(dir, Root+"/")
			inner = rest[strings.Index(rest, "/"):]
		}
		found := false
		for _, line := range strings.Split(string(data), "\n") {
			parts := strings.SplitN(line, ":", 3)
			if len(parts) != 3 || parts[2] != inner {
				continue
			}
			if (ctrl == "" && parts[1] == "") || (ctrl != "" && containsField(parts[1], ctrl)) {
				found = true
			}
		}
		if !found {
			t.Errorf("pid %d is not in %q cgroup %s:\n%s", pid, ctrl, inner, data)
		}
	}
}

func containsField(list, f string) bool {
	for _, x := range strings.Split(list, ",") {
		if x == f {
			return true
		}
	}
	return false
}

func fmtSscanDev(s string, maj, min *int64) (int, error) {
	return fmt.Sscanf(s, "%d:%d", maj, min)
}

func itoa(n int64) string { return fmt.Sprint(n) }
