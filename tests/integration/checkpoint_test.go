package integration

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/casco-runtime/casco/tests/internal/harness"
)

// Checkpoint and restore with a real CRIU. A test is skipped, with the
// reason, when criu is not installed or cannot work on this kernel at all
// (`criu check` fails: Debian's CRIU 3.17 on kernels >= 6.13, whose
// [vvar_vclock] mapping it does not know); tests/v2/run.sh runs them for
// real in the v2 guest's 6.1 kernel.

// criuCheck is why CRIU cannot be used here, or "" when it can.
var criuCheck = sync.OnceValue(func() string {
	path, err := exec.LookPath("criu")
	if err != nil {
		return "criu is not installed (apt-get install criu): " + err.Error()
	}
	out, err := exec.Command(path, "check").CombinedOutput()
	if err != nil {
		return fmt.Sprintf("CRIU cannot work on this kernel: `criu check`: %v: %s", err, lastLines(string(out), 4))
	}
	return ""
})

func needCriu(t *testing.T) {
	t.Helper()
	if why := criuCheck(); why != "" {
		t.Skip(why)
	}
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, " | ")
}

// counter is a container's stdout pipe, read line by line as it comes.
type counter struct {
	mu    sync.Mutex
	lines []string
	eof   chan struct{}
}

func readLines(f *os.File) *counter {
	c := &counter{eof: make(chan struct{})}
	go func() {
		defer close(c.eof)
		defer f.Close()
		s := bufio.NewScanner(f)
		for s.Scan() {
			c.mu.Lock()
			c.lines = append(c.lines, s.Text())
			c.mu.Unlock()
		}
	}()
	return c
}

func (c *counter) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.lines...)
}

// waitLine waits for a line that satisfies ok and returns it.
func (c *counter) waitLine(t *testing.T, what string, ok func(string) bool) string {
	t.Helper()
	var found string
	if !harness.Poll(hangGuard, func() bool {
		for _, l := range c.all() {
			if ok(l) {
				found = l
				return true
			}
		}
		return false
	}) {
		t.Fatalf("the container never printed %s; it printed %q", what, c.all())
	}
	return found
}

// waitEOF waits until every writer of the pipe is gone (the dumped
// processes are dead) and returns the last number read.
func (c *counter) waitEOF(t *testing.T) int {
	t.Helper()
	select {
	case <-c.eof:
	case <-time.After(hangGuard):
		t.Fatalf("the old stdout pipe never closed: a dumped process lives on")
	}
	l := c.all()
	if len(l) == 0 {
		t.Fatal("the container printed nothing before the checkpoint")
	}
	n, err := strconv.Atoi(l[len(l)-1])
	if err != nil {
		t.Fatalf("last line %q is no number", l[len(l)-1])
	}
	return n
}

// detached runs `$RUNTIME args...` (run -d or restore -d) with stdio on
// pipes, as engines give them (CRIU dumps pipes; a host file as stdio it
// cannot): it returns the container's stdout, read as it comes.
func (r *runtime) detached(args ...string) *counter {
	r.t.Helper()
	inR, inW, err := os.Pipe()
	if err != nil {
		r.t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		r.t.Fatal(err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { inW.Close(); errR.Close() })
	cmd := exec.Command(runtimeBin, append([]string{"--root", r.root}, args...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = inR, outW, errW
	done := make(chan error, 1)
	go func() { done <- cmd.Run() }()
	var runErr error
	select {
	case runErr = <-done:
	case <-time.After(hangGuard):
		cmd.Process.Kill()
		r.t.Fatalf("%s %v did not return", runtimeBin, args)
	}
	inR.Close()
	outW.Close()
	errW.Close()
	if runErr != nil {
		errR.SetReadDeadline(time.Now().Add(time.Second))
		buf := make([]byte, 8192)
		n, _ := errR.Read(buf)
		r.t.Fatalf("%s %v: %v: %s", runtimeBin, args, runErr, buf[:n])
	}
	return readLines(outR)
}

// countingBundle counts to stdout, ten a second, beside a long sleep.
func countingBundle(t *testing.T) *bundle {
	return newBundle(t, "sh", "-c", "sleep 1000 & i=0; while :; do i=$((i+1)); echo $i; sleep 0.1; done")
}

func isNumber(s string) bool { _, err := strconv.Atoi(s); return err == nil }

// innerPids maps the command line of each process in the pid namespace of
// pid to its pid inside that namespace (NSpid's last field), as the kernel
// says.
func innerPids(t *testing.T, pid int) map[string]string {
	t.Helper()
	ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		n, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		if other, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", n)); err != nil || other != ns {
			continue
		}
		st := readFileString(fmt.Sprintf("/proc/%d/status", n))
		for _, line := range strings.Split(st, "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[0] == "NSpid:" {
				out[strings.Join(harness.Cmdline(n), " ")] = f[len(f)-1]
			}
		}
	}
	return out
}

// criu runs a checkpoint or restore: CRIU takes its time on a loaded
// machine (and seconds under emulation), so the wait is the hang guard.
func (r *runtime) criu(args ...string) result {
	r.t.Helper()
	res := r.exec(runOpts{timeout: hangGuard}, args...)
	if res.Err != nil || res.Code != 0 {
		r.t.Fatalf("runtime failed: %s", res)
	}
	return res
}

// checkpointed checkpoints id into a new image directory and checks that
// the container is gone (runc deletes it) and its init dead.
func (r *runtime) checkpointed(id string, pid int, extra ...string) string {
	r.t.Helper()
	img := filepath.Join(r.t.TempDir(), "img")
	old := identify(pid)
	r.criu(append(append([]string{"checkpoint", "--image-path", img}, extra...), id)...)
	waitGone(r.t, old)
	if _, res := r.state(id); res.Code == 0 {
		r.t.Errorf("state %s after checkpoint: the container should be gone: %s", id, res)
	}
	return img
}

// TestCheckpointRestore: a counting container checkpointed and restored
// counts on from the number it had reached, its processes keep their pids
// inside the pid namespace, and the restored container is like any other:
// state, cgroup limits, exec, pause, update, kill and delete work on it.
func TestCheckpointRestore(t *testing.T) {
	needCriu(t)
	t.Parallel()
	r := newRuntime(t)
	b := countingBundle(t)
	mem, pids := int64(64<<20), int64(90)
	b.Spec.Linux.Resources = &specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: &mem}, Pids: &specs.LinuxPids{Limit: &pids}}
	b.save(t)
	id := newID(t)
	r.trackCleanup(id)
	out := r.detached("run", "-d", "--bundle", b.Dir, id)
	out.waitLine(t, "a count", func(l string) bool { return l == "3" })
	pid := r.mustState(id).Pid
	before := innerPids(t, pid)
	if before["sleep 1000"] == "" {
		t.Fatalf("no sleep 1000 in the container's pid namespace: %v", before)
	}

	img := r.checkpointed(id, pid)
	last := out.waitEOF(t)
	out = r.detached("restore", "-d", "--image-path", img, "--bundle", b.Dir, id)
	first := out.waitLine(t, "a count", isNumber)
	if first != strconv.Itoa(last+1) {
		t.Errorf("the restored container counted on from %s, want %d (the dumped one had reached %d)", first, last+1, last)
	}

	s := r.mustState(id)
	if s.Status != "running" || s.Pid <= 0 || s.Pid == pid {
		t.Fatalf("state after restore: %+v, want running with a new host pid", s)
	}
	after := innerPids(t, s.Pid)
	for _, cmd := range []string{"sleep 1000", strings.Join(b.Spec.Process.Args, " ")} {
		if after[cmd] == "" || after[cmd] != before[cmd] {
			t.Errorf("%q has pid %q in the restored pid namespace, had %q", cmd, after[cmd], before[cmd])
		}
	}
	if l := limits(t, s.Pid); l["memory"] != strconv.FormatInt(mem, 10) || l["pids"] != strconv.FormatInt(pids, 10) {
		t.Errorf("restored cgroup limits: memory %s pids %s, want %d and %d", l["memory"], l["pids"], mem, pids)
	}
	if res := r.mustRun("exec", id, "sh", "-c", "echo exec-$((6*7))"); strings.TrimSpace(res.Stdout) != "exec-42" {
		t.Errorf("exec into the restored container: %s", res)
	}
	r.mustRun("pause", id)
	if st := r.mustState(id); st.Status != "paused" {
		t.Errorf("status after pause: %s", st.Status)
	}
	r.mustRun("resume", id)
	r.mustRun("update", "--pids-limit", "77", id)
	if l := limits(t, s.Pid); l["pids"] != "77" {
		t.Errorf("pids.max after update: %s, want 77", l["pids"])
	}
	r.mustRun("kill", id, "KILL")
	r.waitStatus(id, "stopped")
	r.mustRun("delete", id)
	noLeftovers(t, r, b, id, id)
}

// TestCheckpointLeaveRunning: with --leave-running the container runs on,
// the same process, and the image is complete.
func TestCheckpointLeaveRunning(t *testing.T) {
	needCriu(t)
	t.Parallel()
	r := newRuntime(t)
	b := countingBundle(t)
	b.save(t)
	id := newID(t)
	r.trackCleanup(id)
	out := r.detached("run", "-d", "--bundle", b.Dir, id)
	out.waitLine(t, "a count", func(l string) bool { return l == "2" })
	s := r.mustState(id)
	p := identify(s.Pid)
	img := filepath.Join(t.TempDir(), "img")
	r.criu("checkpoint", "--leave-running", "--image-path", img, id)
	if !p.stillAlive() {
		t.Fatalf("init %d died with --leave-running", s.Pid)
	}
	if st := r.mustState(id); st.Status != "running" || st.Pid != s.Pid {
		t.Errorf("state after checkpoint --leave-running: %+v", st)
	}
	n := len(out.all())
	out.waitLine(t, "counting on after the checkpoint", func(l string) bool { v, _ := strconv.Atoi(l); return v > n+2 })
	for _, f := range []string{"inventory.img", "pstree.img", "descriptors.json"} {
		if _, err := os.Stat(filepath.Join(img, f)); err != nil {
			t.Errorf("image lacks %s: %v", f, err)
		}
	}
}

// pageBytes adds up the memory pages of an image.
func pageBytes(t *testing.T, dir string) int64 {
	t.Helper()
	m, _ := filepath.Glob(filepath.Join(dir, "pages-*.img"))
	var n int64
	for _, f := range m {
		if st, err := os.Stat(f); err == nil {
			n += st.Size()
		}
	}
	return n
}

// TestCheckpointPreDump: a pre-dump leaves the container running; the dump
// on top of it (--parent-path) holds only what changed, so it is smaller,
// and it restores: the container counts on.
func TestCheckpointPreDump(t *testing.T) {
	needCriu(t)
	t.Parallel()
	r := newRuntime(t)
	b := countingBundle(t)
	b.save(t)
	id := newID(t)
	r.trackCleanup(id)
	out := r.detached("run", "-d", "--bundle", b.Dir, id)
	out.waitLine(t, "a count", func(l string) bool { return l == "2" })
	s := r.mustState(id)
	dir := t.TempDir()
	pre, final := filepath.Join(dir, "pre"), filepath.Join(dir, "final")
	r.criu("checkpoint", "--pre-dump", "--image-path", pre, id)
	if !identify(s.Pid).stillAlive() || r.mustState(id).Status != "running" {
		t.Fatalf("the container stopped after a pre-dump")
	}
	r.criu("checkpoint", "--parent-path", "../pre", "--image-path", final, id)
	last := out.waitEOF(t)
	preSize, finalSize := pageBytes(t, pre), pageBytes(t, final)
	t.Logf("pages: pre-dump %d bytes, dump on top of it %d bytes", preSize, finalSize)
	if preSize == 0 || finalSize >= preSize {
		t.Errorf("the dump on top of the pre-dump holds %d bytes of pages, the pre-dump %d: want fewer", finalSize, preSize)
	}
	if _, err := os.Lstat(filepath.Join(final, "parent")); err != nil {
		t.Errorf("the dump does not link its parent: %v", err)
	}
	out = r.detached("restore", "-d", "--image-path", final, "--bundle", b.Dir, id)
	if first := out.waitLine(t, "a count", isNumber); first != strconv.Itoa(last+1) {
		t.Errorf("restored from the pre-dump chain, the container counted on from %s, want %d", first, last+1)
	}
}

// TestRestoreNewID: the image of a container that is gone restores as a
// container with another ID.
func TestRestoreNewID(t *testing.T) {
	needCriu(t)
	t.Parallel()
	r := newRuntime(t)
	b := countingBundle(t)
	b.save(t)
	id, id2 := newID(t), newID(t)
	r.trackCleanup(id)
	r.trackCleanup(id2)
	out := r.detached("run", "-d", "--bundle", b.Dir, id)
	out.waitLine(t, "a count", func(l string) bool { return l == "2" })
	img := r.checkpointed(id, r.mustState(id).Pid)
	last := out.waitEOF(t)
	if ls := r.mustRun("list", "-q"); strings.TrimSpace(ls.Stdout) != "" {
		t.Errorf("list after the checkpoint: %q, want nothing", ls.Stdout)
	}
	out = r.detached("restore", "-d", "--image-path", img, "--bundle", b.Dir, id2)
	if first := out.waitLine(t, "a count", isNumber); first != strconv.Itoa(last+1) {
		t.Errorf("restored as %s the container counted on from %s, want %d", id2, first, last+1)
	}
	if s := r.mustState(id2); s.Status != "running" || s.ID != id2 {
		t.Errorf("state %s: %+v", id2, s)
	}
	if ls := r.mustRun("list", "-q"); strings.TrimSpace(ls.Stdout) != id2 {
		t.Errorf("list after the restore: %q, want only %s", ls.Stdout, id2)
	}
	// the restored container lives in cgroups of its own name
	cg, err := procCgroups(r.mustState(id2).Pid)
	if err != nil {
		t.Fatal(err)
	}
	for ctrl, p := range cg {
		if ctrl == "pids" || ctrl == "" {
			if (!strings.Contains(p, id2) || strings.Contains(p, id+"/") || strings.HasSuffix(p, id)) &&
				!knownRuncBug(t, "runc 1.1.5 restores into the cgroup of the dumped container's ID") {
				t.Errorf("restored %s cgroup %q: want %s's, not %s's", ctrl, p, id2, id)
			}
		}
	}
}

// TestRestoreUntrustedRoot: restore makes its state directory as create
// does, so a --root that create refuses (owned by another user, or
// writable by group or others) is refused by restore too, before CRIU is
// asked to restore anything: no state, no cgroup, no process. The image is
// an empty directory: the root is checked before it is read.
func TestRestoreUntrustedRoot(t *testing.T) {
	t.Parallel()
	beyondRunc(t, "refusing a --root others can write")
	if _, err := exec.LookPath("criu"); err != nil {
		t.Skip("criu is not installed: restore stops at its version check")
	}
	b := newBundle(t, sleeper...)
	b.save(t)
	id := newID(t)
	for _, tc := range []struct {
		name string
		set  func(root string) error
		want string
	}{
		{"owned by uid 1000", func(root string) error { return os.Chown(root, 1000, 1000) }, "owned by"},
		{"of mode 0777", func(root string) error { return os.Chmod(root, 0o777) }, "writable"},
	} {
		r := newRuntime(t)
		r.trackCleanup(id)
		if err := tc.set(r.root); err != nil {
			t.Fatal(err)
		}
		res := r.exec(runOpts{timeout: hangGuard}, "restore", "-d", "--image-path", t.TempDir(), "--bundle", b.Dir, id)
		if res.Err != nil || res.Code == 0 || !strings.Contains(res.Stderr, tc.want) || !strings.Contains(res.Stderr, r.root) {
			t.Errorf("restore into a --root %s: want a refusal naming the root and %q: %s", tc.name, tc.want, res)
		}
		// trusted again, to list what is left in it
		os.Chown(r.root, 0, 0)
		os.Chmod(r.root, 0o700)
		noLeftovers(t, r, b, id, id)
	}
}

// TestCheckpointTerminal: a container with a terminal is checkpointed and
// restored; restore sends the new pty master over --console-socket, and
// the shell answers on it.
func TestCheckpointTerminal(t *testing.T) {
	needCriu(t)
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, "sh")
	b.Spec.Process.Terminal = true
	b.save(t)
	id := newID(t)
	r.trackCleanup(id)
	sock, msgs := listenConsole(t)
	r.mustRun("run", "-d", "--console-socket", sock, "--bundle", b.Dir, id)
	master := receiveMaster(t, msgs)
	talk(t, master, "echo before-$((20+1))", "before-21")
	pid := r.mustState(id).Pid
	img := r.checkpointed(id, pid)
	master.Close()

	sock2, msgs2 := listenConsole(t)
	r.criu("restore", "-d", "--console-socket", sock2, "--image-path", img, "--bundle", b.Dir, id)
	master2 := receiveMaster(t, msgs2)
	defer master2.Close()
	s := r.mustState(id)
	if tty, _ := os.Readlink(fmt.Sprintf("/proc/%d/fd/0", s.Pid)); !strings.HasPrefix(tty, "/dev/pts/") {
		t.Errorf("the restored shell's stdin is %q, want a pty", tty)
	}
	talk(t, master2, "echo after-$((40+2))", "after-42")
}

func receiveMaster(t *testing.T, msgs <-chan consoleMsg) *os.File {
	t.Helper()
	msg := <-msgs
	if msg.err != nil || len(msg.fds) != 1 {
		t.Fatalf("console socket: %v, %d fds", msg.err, len(msg.fds))
	}
	if _, err := ptyNumber(msg.fds[0]); err != nil {
		t.Fatalf("the fd received is no pty master: %v", err)
	}
	return os.NewFile(uintptr(msg.fds[0]), "pty-master")
}

// talk types line into the pty and waits for want in what comes back.
func talk(t *testing.T, master *os.File, line, want string) {
	t.Helper()
	if _, err := master.WriteString(line + "\n"); err != nil {
		t.Fatal(err)
	}
	var got []byte
	buf := make([]byte, 4096)
	deadline := time.Now().Add(hangGuard)
	for !strings.Contains(strings.ReplaceAll(string(got), line, ""), want) {
		master.SetReadDeadline(deadline)
		n, err := master.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("reading the pty after %q: %v (got %q)", line, err, got)
		}
	}
}

// listening reports whether the network namespace of pid has a TCP socket
// listening on port, as /proc/<pid>/net/tcp and tcp6 say.
func listening(pid, port int) bool {
	data := readFileString(fmt.Sprintf("/proc/%d/net/tcp", pid)) + readFileString(fmt.Sprintf("/proc/%d/net/tcp6", pid))
	for _, line := range strings.Split(data, "\n") {
		f := strings.Fields(line)
		if len(f) > 3 && strings.HasSuffix(f[1], fmt.Sprintf(":%04X", port)) && f[3] == "0A" {
			return true
		}
	}
	return false
}

// TestCheckpointTCPListen: a server listening on loopback in the
// container's own network namespace survives checkpoint and restore with
// --tcp-established and answers again.
func TestCheckpointTCPListen(t *testing.T) {
	needCriu(t)
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, "sh", "-c", "ip link set lo up && exec nc -ll -p 8080 -e echo pong")
	caps := b.Spec.Process.Capabilities
	caps.Bounding = append(caps.Bounding, "CAP_NET_ADMIN")
	caps.Effective = append(caps.Effective, "CAP_NET_ADMIN")
	caps.Permitted = append(caps.Permitted, "CAP_NET_ADMIN")
	b.save(t)
	id := newID(t)
	r.trackCleanup(id)
	r.detached("run", "-d", "--bundle", b.Dir, id)
	pid := r.mustState(id).Pid
	if !harness.Poll(hangGuard, func() bool { return listening(pid, 8080) }) {
		t.Fatalf("nothing listens on 8080 in the container: %s", readFileString(fmt.Sprintf("/proc/%d/net/tcp6", pid)))
	}
	ask := func() {
		t.Helper()
		if res := r.mustRun("exec", id, "nc", "127.0.0.1", "8080"); strings.TrimSpace(res.Stdout) != "pong" {
			t.Errorf("the server answered %q, want pong: %s", res.Stdout, res)
		}
	}
	ask()
	img := r.checkpointed(id, pid, "--tcp-established")
	r.detached("restore", "-d", "--tcp-established", "--image-path", img, "--bundle", b.Dir, id)
	s := r.mustState(id)
	if !listening(s.Pid, 8080) {
		t.Errorf("after restore nothing listens on 8080: %s", readFileString(fmt.Sprintf("/proc/%d/net/tcp6", s.Pid)))
	}
	if self, _ := os.Readlink("/proc/self/ns/net"); self == mustReadlink(t, fmt.Sprintf("/proc/%d/ns/net", s.Pid)) {
		t.Errorf("the restored container shares the host's network namespace")
	}
	if res := r.run("exec", id, "nc", "127.0.0.1", "8080"); strings.TrimSpace(res.Stdout) != "pong" &&
		!knownRuncBug(t, "runc 1.1.5's restored container has no route to 127.0.0.1 (Network is unreachable)") {
		t.Errorf("the restored server answered %q, want pong: %s", res.Stdout, res)
	}
}

func mustReadlink(t *testing.T, p string) string {
	t.Helper()
	s, err := os.Readlink(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestCheckpointMounts: a bind mount of a host directory and a tmpfs come
// back after restore: the bind is the host's directory again (a write
// reaches the host), the tmpfs has the contents it had, masked and
// read-only paths are masked and read-only again.
func TestCheckpointMounts(t *testing.T) {
	needCriu(t)
	t.Parallel()
	r := newRuntime(t)
	host := t.TempDir()
	mustWrite(t, filepath.Join(host, "hello"), "from the host\n")
	b := newBundle(t, "sh", "-c", "echo kept > /scratch/f; echo ready; exec sleep 1000")
	b.Spec.Mounts = append(b.Spec.Mounts,
		specs.Mount{Destination: "/data", Type: "bind", Source: host, Options: []string{"rbind", "rw"}},
		specs.Mount{Destination: "/scratch", Type: "tmpfs", Source: "tmpfs", Options: []string{"size=1m"}})
	b.save(t)
	id := newID(t)
	r.trackCleanup(id)
	out := r.detached("run", "-d", "--bundle", b.Dir, id)
	out.waitLine(t, "ready", func(l string) bool { return l == "ready" })
	img := r.checkpointed(id, r.mustState(id).Pid)
	r.detached("restore", "-d", "--image-path", img, "--bundle", b.Dir, id)
	s := r.mustState(id)

	ms := mountsOf(t, s.Pid)
	if m, ok := topMount(ms, "/scratch"); !ok || m.FSType != "tmpfs" {
		t.Errorf("/scratch after restore: %+v (found %v), want a tmpfs", m, ok)
	}
	if res := r.mustRun("exec", id, "cat", "/scratch/f", "/data/hello"); res.Stdout != "kept\nfrom the host\n" {
		t.Errorf("tmpfs and bind contents after restore: %q", res.Stdout)
	}
	r.mustRun("exec", id, "sh", "-c", "echo restored > /data/new")
	if got := readFileString(filepath.Join(host, "new")); got != "restored\n" {
		t.Errorf("a write to the bind mount after restore reached the host as %q", got)
	}
	for _, p := range b.Spec.Linux.MaskedPaths {
		if p == "/proc/kcore" {
			if res := r.run("exec", id, "head", "-c", "1", "/proc/kcore"); res.Code != 0 || res.Stdout != "" {
				t.Errorf("/proc/kcore is not masked after restore: %s", res)
			}
		}
	}
	if m, ok := topMount(ms, "/proc/sys"); ok && !m.has("ro") {
		t.Errorf("/proc/sys is writable after restore: %s", m)
	}
}

// TestCheckpointErrors: a CRIU that is not there is one clear error; a
// dump CRIU refuses names its log and quotes its errors; features says
// checkpoint works exactly when `criu check` passes.
func TestCheckpointErrors(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	c, _ := r.createStart(newBundle(t, "sleep", "1000"))
	if isRunc() && !runcOlderThan(4) {
		t.Logf("%s has no --criu (removed in runc 1.4; casco keeps it): the missing CRIU is not tried", runtimeVersion())
	} else {
		r.mustFail([]string{"not found", "no such file"}, "--criu", "/nonexistent/criu", "checkpoint", "--image-path", filepath.Join(t.TempDir(), "img"), c.ID)
		if r.mustState(c.ID).Status != "running" {
			t.Errorf("a failed checkpoint stopped the container")
		}
	}

	feat := r.mustRun("features")
	enabled := strings.Contains(strings.ReplaceAll(feat.Stdout, " ", ""), `"org.opencontainers.runc.checkpoint.enabled":"true"`)
	if why := criuCheck(); enabled != (why == "") && !(isRunc() && knownRuncBug(t, "runc's features says checkpoint is enabled when it is built with it, whatever `criu check` says")) {
		t.Errorf("features says checkpoint enabled=%v, but criu: %q", enabled, why)
	}

	if _, err := exec.LookPath("criu"); err != nil {
		t.Skip("criu is not installed: the failing dump cannot be tried")
	}
	// The container's stdout is a file of the host: CRIU cannot dump it
	// (and on kernels it does not know it cannot dump anything).
	img := filepath.Join(t.TempDir(), "img")
	res := r.exec(runOpts{timeout: hangGuard}, "checkpoint", "--image-path", img, c.ID)
	if res.Err != nil || res.Code <= 0 {
		t.Fatalf("want a failed checkpoint: %s", res)
	}
	if (!strings.Contains(res.Stderr, filepath.Join(img, "dump.log")) || !strings.Contains(res.Stderr, "Error (")) &&
		!knownRuncBug(t, "runc 1.1.5 names the log only as dump.log and quotes none of CRIU's errors") {
		t.Errorf("the error should name %s and quote CRIU's errors: %s", filepath.Join(img, "dump.log"), res)
	}
	if !identify(r.mustState(c.ID).Pid).stillAlive() {
		t.Errorf("the container died with the failed checkpoint")
	}
}

// TestCheckpointLazyPages: a lazy-pages checkpoint says on --status-fd
// when its page server is ready; a restore with --lazy-pages, fed by
// `criu lazy-pages`, runs on and counts on, and the checkpoint then ends.
func TestCheckpointLazyPages(t *testing.T) {
	needCriu(t)
	if out, err := exec.Command("criu", "check", "--feature", "uffd-noncoop").CombinedOutput(); err != nil {
		t.Skipf("CRIU cannot restore lazily here (no non-cooperative userfaultfd): %s", lastLines(string(out), 2))
	}
	t.Parallel()
	r, r2 := newRuntime(t), newRuntime(t)
	b := countingBundle(t)
	b.save(t)
	id, id2 := newID(t), newID(t)
	r.trackCleanup(id)
	r2.trackCleanup(id2)
	out := r.detached("run", "-d", "--bundle", b.Dir, id)
	out.waitLine(t, "a count", func(l string) bool { return l == "2" })
	img := filepath.Join(t.TempDir(), "img")
	port := strconv.Itoa(27000 + int(idCounter.Add(1))%1000)

	statusR, statusW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer statusR.Close()
	ckpt := exec.Command(runtimeBin, "--root", r.root, "checkpoint", "--lazy-pages", "--page-server", "127.0.0.1:"+port,
		"--status-fd", "3", "--image-path", img, id)
	ckpt.ExtraFiles = []*os.File{statusW}
	// a file, not a pipe: CRIU's page server may outlive the command holding it
	errFile := filepath.Join(t.TempDir(), "checkpoint.err")
	ef, err := os.Create(errFile)
	if err != nil {
		t.Fatal(err)
	}
	defer ef.Close()
	ckpt.Stderr = ef
	ckptErr := struct{ String func() string }{func() string { return readFileString(errFile) }}
	if err := ckpt.Start(); err != nil {
		t.Fatal(err)
	}
	statusW.Close()
	ckptDone := make(chan error, 1)
	go func() { ckptDone <- ckpt.Wait() }()
	ended := false
	defer func() {
		if !ended {
			ckpt.Process.Kill()
			<-ckptDone
		}
	}()
	ready := make(chan []byte, 1)
	go func() {
		buf := make([]byte, 1)
		n, _ := statusR.Read(buf)
		ready <- buf[:n]
	}()
	select {
	case b := <-ready:
		if len(b) != 1 || b[0] != 0 {
			t.Fatalf("--status-fd gave %q, want one \\0; checkpoint: %s", b, ckptErr.String())
		}
	case err := <-ckptDone:
		ended = true
		t.Fatalf("the lazy checkpoint ended before it was ready: %v: %s", err, ckptErr.String())
	case <-time.After(hangGuard):
		t.Fatalf("--status-fd never said ready")
	}

	lazy := exec.Command("criu", "lazy-pages", "--page-server", "--address", "127.0.0.1", "--port", port, "-D", img, "-o", "lazy-pages.log")
	if err := lazy.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { lazy.Process.Kill(); lazy.Wait() }()
	out2 := r2.detached("restore", "-d", "--lazy-pages", "--image-path", img, "--bundle", b.Dir, id2)
	first := out2.waitLine(t, "a count", isNumber)
	last := out.waitEOF(t)
	if first != strconv.Itoa(last+1) {
		t.Errorf("restored lazily the container counted on from %s, want %d", first, last+1)
	}
	select {
	case err := <-ckptDone:
		ended = true
		if err != nil {
			t.Errorf("the lazy checkpoint failed once its pages were taken: %v: %s", err, ckptErr.String())
		}
	case <-time.After(hangGuard):
		t.Errorf("the lazy checkpoint never ended")
	}
	if s := r2.mustState(id2); s.Status != "running" {
		t.Errorf("state of the lazily restored container: %+v", s)
	}
}

// TestStdioDevNullInside: stdio that is the host's /dev/null becomes the
// container's own /dev/null in its init, as runc's init makes it (CRIU
// cannot dump a file on a mount the container lacks: podman gives a
// detached container the host's /dev/null as stdin). The kernel's view:
// the mount of the init's fd 0 (fdinfo's mnt_id) is the container's /dev.
// Needs no CRIU.
func TestStdioDevNullInside(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, "sleep", "1000")
	b.save(t)
	id := newID(t)
	r.trackCleanup(id)
	r.mustRun("run", "-d", "--bundle", b.Dir, id) // stdin: the host's /dev/null
	pid := r.mustState(id).Pid
	if got := mustReadlink(t, fmt.Sprintf("/proc/%d/fd/0", pid)); got != "/dev/null" {
		t.Fatalf("the init's stdin is %s, want /dev/null", got)
	}
	mnt := ""
	for _, l := range strings.Split(readFileString(fmt.Sprintf("/proc/%d/fdinfo/0", pid)), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "mnt_id:" {
			mnt = f[1]
		}
	}
	dev, ok := topMount(mountsOf(t, pid), "/dev")
	if !ok {
		t.Fatal("the container has no /dev mount")
	}
	if mnt != strconv.Itoa(dev.ID) {
		t.Errorf("the init's stdin /dev/null is on mount %s, want the container's /dev (mount %d, %s)", mnt, dev.ID, dev.FSType)
	}
	r.mustRun("delete", "--force", id)
}
