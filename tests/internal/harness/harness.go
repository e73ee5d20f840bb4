// Package harness is what the Go test suites (tests/integration,
// tests/security, tests/systemd) share to run containers as root: finding
// the runtime under test and busybox, a run directory of their own, a
// busybox rootfs and its cheap clones, and what the kernel says about
// processes (/proc), waited on with a deadline, never a fixed sleep.
package harness

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Run is what a suite's TestMain sets up before its tests: the runtime,
// busybox, the run's directory and tag (see RunDir) and the template rootfs
// bundles are cloned from.
type Run struct {
	Runtime, Busybox, Dir, Tag, Rootfs string
}

// Start checks that a suite can run (as root, with a runtime and busybox),
// makes its run directory /tmp/<prefix>* and in it the template rootfs
// with files (see BuildRootfs).
func Start(prefix string, files map[string]string) (*Run, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("they must run as root (they create real containers)")
	}
	var r Run
	var err error
	if r.Runtime, err = Runtime(); err != nil {
		return nil, err
	}
	if r.Busybox, err = Busybox(); err != nil {
		return nil, err
	}
	if r.Dir, r.Tag, err = RunDir(prefix); err != nil {
		return nil, err
	}
	r.Rootfs = filepath.Join(r.Dir, "template-rootfs")
	if err := BuildRootfs(r.Rootfs, r.Busybox, files); err != nil {
		os.RemoveAll(r.Dir)
		return nil, fmt.Errorf("building busybox rootfs: %w", err)
	}
	return &r, nil
}

// Runtime is the runtime under test: $RUNTIME (an absolute path), or the
// casco built at the repository's top, two levels above the suite.
func Runtime() (string, error) {
	p := os.Getenv("RUNTIME")
	if p == "" {
		wd, err := os.Getwd()
		if err != nil {
			return "", err
		}
		p = filepath.Join(wd, "..", "..", "casco")
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("RUNTIME is not set and %s does not exist: build casco (make casco) or set RUNTIME to a runc (make runc-ref builds the reference)", filepath.Clean(p))
		}
	}
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("RUNTIME=%q must be an absolute path", p)
	}
	st, err := os.Stat(p)
	if err != nil {
		return "", fmt.Errorf("RUNTIME: %w", err)
	}
	if st.IsDir() || st.Mode().Perm()&0o111 == 0 {
		return "", fmt.Errorf("RUNTIME=%s is not an executable file", p)
	}
	return filepath.Clean(p), nil
}

// Busybox is the static busybox every rootfs gets: $BUSYBOX or /bin/busybox.
func Busybox() (string, error) {
	p := os.Getenv("BUSYBOX")
	if p == "" {
		p = "/bin/busybox"
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("no static busybox at %s (apt-get install -y busybox-static, or set BUSYBOX): %w", p, err)
	}
	return p, nil
}

// RunDir makes the directory of one run, /tmp/<prefix>*, and makes it
// $TMPDIR, so that every t.TempDir() of the run is below it. Mapped users
// (user-namespace tests) can walk into it. tag, six lower-case letters and
// digits from its name, keeps the ids and cgroups of concurrent runs apart.
func RunDir(prefix string) (dir, tag string, err error) {
	if dir, err = os.MkdirTemp("/tmp", prefix); err != nil {
		return "", "", err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return "", "", err
	}
	tag = strings.TrimPrefix(filepath.Base(dir), prefix)
	if len(tag) > 6 {
		tag = tag[len(tag)-6:]
	}
	tag = strings.ToLower(regexp.MustCompile(`[^a-zA-Z0-9]`).ReplaceAllString(tag, "x"))
	os.Setenv("TMPDIR", dir)
	return dir, tag, nil
}

// BuildRootfs makes a minimal busybox root in dir: /bin/busybox and one
// symlink per applet, the usual top directories (/tmp sticky), and files
// (path relative to the root: content).
func BuildRootfs(dir, busybox string, files map[string]string) error {
	for _, d := range []string{"bin", "etc", "proc", "sys", "dev", "tmp", "root", "home/user", "secret"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			return err
		}
	}
	if err := os.Chmod(filepath.Join(dir, "tmp"), 0o1777); err != nil {
		return err
	}
	if err := CopyFile(busybox, filepath.Join(dir, "bin", "busybox"), 0o755); err != nil {
		return err
	}
	out, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		return fmt.Errorf("%s --list: %w", busybox, err)
	}
	for _, applet := range strings.Fields(string(out)) {
		if applet == "busybox" || strings.Contains(applet, "/") {
			continue
		}
		if err := os.Symlink("busybox", filepath.Join(dir, "bin", applet)); err != nil && !os.IsExist(err) {
			return err
		}
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// CopyFile copies the file src to dst, made with mode.
func CopyFile(src, dst string, mode os.FileMode) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, data, mode)
}

// CloneTree copies the rootfs src to dst: directories and small files are
// copied, symlinks recreated, and bin/busybox hard-linked (no test writes it).
func CloneTree(src, dst string) error {
	return filepath.Walk(src, func(path string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		switch {
		case info.IsDir():
			if err := os.MkdirAll(target, info.Mode().Perm()); err != nil {
				return err
			}
			return os.Chmod(target, info.Mode().Perm()|info.Mode()&os.ModeSticky)
		case info.Mode()&os.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case rel == filepath.Join("bin", "busybox"):
			return os.Link(path, target)
		default:
			return CopyFile(path, target, info.Mode().Perm())
		}
	})
}

// Poll waits until cond holds (true) or timeout passes (false). It waits
// on state the kernel reports: the pause between checks is no assertion.
func Poll(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// statFields are the fields of /proc/<pid>/stat after the command's name
// (field 3, the state, first); nil when the process is gone.
func statFields(pid int) []string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

// ProcState is the one-letter state of pid (R, S, T for stopped, Z...); "" once it is gone.
func ProcState(pid int) string {
	if f := statFields(pid); len(f) > 0 {
		return f[0]
	}
	return ""
}

// ProcFlags is the kernel's PF_* flags of pid (field 9 of
// /proc/<pid>/stat); 0 once it is gone.
func ProcFlags(pid int) uint64 {
	if f := statFields(pid); len(f) > 6 {
		n, _ := strconv.ParseUint(f[6], 10, 64)
		return n
	}
	return 0
}

// Alive says whether pid runs: a zombie has exited, it only waits for its parent.
func Alive(pid int) bool {
	f := statFields(pid)
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// ProcStart is the start time of pid (field 22 of /proc/<pid>/stat), which
// tells it from a later process given the same pid; "" once it has exited
// (a zombie too).
func ProcStart(pid int) string {
	f := statFields(pid)
	if len(f) < 20 || f[0] == "Z" || f[0] == "X" {
		return ""
	}
	return f[19]
}

// Cmdline is /proc/<pid>/cmdline split at its NULs.
func Cmdline(pid int) []string {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil || len(data) == 0 {
		return nil
	}
	return strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
}

// Processes lists the pids of the living processes for which match holds.
func Processes(match func(pid int) bool) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() || !Alive(pid) {
			continue
		}
		if match(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Cgroups is /proc/<pid>/cgroup as it is.
func Cgroups(pid int) string {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cgroup", pid))
	return string(data)
}

// Leftovers is what a run left on the host: mounts below dir, and the
// cgroups whose name starts with one of marks, and the processes in them.
func Leftovers(dir string, marks ...string) []string {
	var leaks []string
	has := func(s string, prefix bool) bool {
		for _, m := range marks {
			if prefix && strings.HasPrefix(s, m) || !prefix && strings.Contains(s, m) {
				return true
			}
		}
		return false
	}
	for _, pid := range Processes(func(pid int) bool { return has(Cgroups(pid), false) }) {
		leaks = append(leaks, fmt.Sprintf("process %d %q in cgroup %s", pid, Cmdline(pid), strings.TrimSpace(Cgroups(pid))))
	}
	if data, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) > 4 && strings.HasPrefix(UnescapeMount(f[4]), dir) {
				leaks = append(leaks, "mount "+line)
			}
		}
	}
	filepath.WalkDir("/sys/fs/cgroup", func(path string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && has(d.Name(), true) {
			leaks = append(leaks, "cgroup "+path)
			return filepath.SkipDir
		}
		return nil
	})
	return leaks
}

// UnescapeMount undoes the octal escapes (\040 for a space) of a path in mountinfo.
func UnescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
