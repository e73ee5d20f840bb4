package security

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/tests/internal/harness"
)

// inRoot opens path inside the container's root as the container sees it
// (absolute symlinks resolve to its root, not the host's), from the host.
func inRoot(t testing.TB, pid int, path string, flags int) (int, error) {
	t.Helper()
	root, err := unix.Open(fmt.Sprintf("/proc/%d/root", pid), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	defer unix.Close(root)
	how := &unix.OpenHow{
		Flags:   uint64(flags | unix.O_CLOEXEC),
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	// a scoped lookup that a rename or mount raced fails with EAGAIN (or
	// EXDEV): the kernel asks for a retry
	for i := 0; ; i++ {
		fd, err := unix.Openat2(root, strings.TrimPrefix(path, "/"), how)
		if (err != unix.EAGAIN && err != unix.EXDEV) || i == 63 {
			return fd, err
		}
	}
}

// fsMagic is the filesystem type of path in the container's root.
func fsMagic(t testing.TB, pid int, path string) int64 {
	t.Helper()
	fd, err := inRoot(t, pid, path, unix.O_PATH)
	if err != nil {
		t.Fatalf("open %s in the root of %d: %v", path, pid, err)
	}
	defer unix.Close(fd)
	var sf unix.Statfs_t
	if err := unix.Fstatfs(fd, &sf); err != nil {
		t.Fatal(err)
	}
	return sf.Type
}

// statIn is fstat of path in the container's root (symlinks followed in it).
func statIn(t testing.TB, pid int, path string) (unix.Stat_t, error) {
	var st unix.Stat_t
	fd, err := inRoot(t, pid, path, unix.O_PATH)
	if err != nil {
		return st, err
	}
	defer unix.Close(fd)
	return st, unix.Fstat(fd, &st)
}

// readIn reads a small file in the container's root.
func readIn(t testing.TB, pid int, path string) (string, error) {
	fd, err := inRoot(t, pid, path, unix.O_RDONLY|unix.O_NONBLOCK)
	if err != nil {
		return "", err
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	buf := make([]byte, 4096)
	n, err := f.Read(buf)
	if n > 0 {
		err = nil
	}
	return string(buf[:n]), err
}

func isNullDev(st unix.Stat_t) bool {
	return st.Mode&unix.S_IFMT == unix.S_IFCHR && unix.Major(st.Rdev) == 1 && unix.Minor(st.Rdev) == 3
}

// consoleServer is an engine's --console-socket: it keeps every pty master
// it receives, with the pty's name.
type consoleServer struct {
	Path    string
	masters chan *os.File
}

func newConsoleServer(t testing.TB) *consoleServer {
	t.Helper()
	dir, _ := os.MkdirTemp(topDir, "console-")
	cs := &consoleServer{Path: filepath.Join(dir, "sock"), masters: make(chan *os.File, 4)}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: cs.Path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close(); os.RemoveAll(dir) })
	go func() {
		for {
			c, err := l.AcceptUnix()
			if err != nil {
				return
			}
			buf, oob := make([]byte, 256), make([]byte, 64)
			_, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
			c.Close()
			if err != nil {
				continue
			}
			msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
			for _, m := range msgs {
				if fds, err := unix.ParseUnixRights(&m); err == nil {
					for _, fd := range fds {
						f := os.NewFile(uintptr(fd), "pty-master")
						t.Cleanup(func() { f.Close() })
						cs.masters <- f
					}
				}
			}
		}
	}()
	return cs
}

// fdsOf lists where the fds of pid point (readlink of /proc/<pid>/fd/*).
func fdsOf(pid int) map[string]string {
	out := map[string]string{}
	des, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, d := range des {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, d.Name())); err == nil {
			out[d.Name()] = l
		}
	}
	return out
}

// waitGone waits for pid (with its start time) to be gone or a zombie.
func waitGone(t testing.TB, pid int, start string) {
	t.Helper()
	if !harness.Poll(hangGuard, func() bool { return harness.ProcStart(pid) != start }) {
		t.Fatalf("process %d still alive after %v", pid, hangGuard)
	}
}

// procWait: a pid file's content once it exists.
func pidFromFile(t testing.TB, path string) int {
	t.Helper()
	var pid int
	fmt.Sscan(waitFile(t, path), &pid)
	if pid <= 0 {
		t.Fatalf("bad pid file %s", path)
	}
	return pid
}

var _ = time.Second

func itoa(i int) string { return fmt.Sprint(i) }
