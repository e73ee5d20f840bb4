package libcontainer

import (
	"bufio"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// maxPasswdSize bounds what casco reads of a container's /etc/passwd: real
// ones are a few KiB; a huge file must not cost the host its memory.
const maxPasswdSize = 4 << 20

// addHome sets HOME, when the process has none or an empty one, to the
// user's home in the container's /etc/passwd, or "/" — as runc does; images
// expect it. Duplicate variables are merged first, as runc's setenv does.
func addHome(p *specs.Process, rootfs string) {
	p.Env = dedupEnv(p.Env)
	for i, e := range p.Env {
		if strings.HasPrefix(e, "HOME=") {
			if e == "HOME=" {
				p.Env[i] = "HOME=" + homeOf(p.User.UID, rootfs)
			}
			return
		}
	}
	p.Env = append(p.Env, "HOME="+homeOf(p.User.UID, rootfs))
}

// homeReadBound bounds the wait for a container's /etc/passwd: a regular
// file on a FUSE mount of the container's can still block a read forever.
const homeReadBound = 2 * time.Second

// dedupEnv keeps one entry per variable: its last, in the place of the
// last, as runc 1.5 (and Go's os/exec) leave it.
func dedupEnv(env []string) []string {
	seen := make(map[string]bool, len(env))
	out := make([]string, 0, len(env))
	for i := len(env) - 1; i >= 0; i-- {
		name, _, _ := strings.Cut(env[i], "=")
		if seen[name] {
			continue
		}
		seen[name] = true
		out = append(out, env[i])
	}
	slices.Reverse(out)
	return out
}

func homeOf(uid uint32, rootfs string) string {
	home := make(chan string, 1)
	go func() { home <- readHome(uid, rootfs) }()
	select {
	case h := <-home:
		return h
	case <-time.After(homeReadBound):
		logrus.Warnf("reading the container's /etc/passwd took more than %v: HOME=/", homeReadBound)
		return "/"
	}
}

func readHome(uid uint32, rootfs string) string {
	f, err := openContainerFile(rootfs, "/etc/passwd")
	if err != nil {
		return "/"
	}
	defer f.Close()
	want := strconv.FormatUint(uint64(uid), 10)
	sc := bufio.NewScanner(io.LimitReader(f, maxPasswdSize))
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) >= 6 && fields[2] == want && fields[5] != "" {
			return fields[5]
		}
	}
	return "/"
}

// openContainerFile opens a file the container controls, from the host,
// so that nothing in it can block or redirect casco: the path is resolved
// with the rootfs as "/" (no symlink, "..", or magic link of /proc leads
// out of it), the open does not wait (a FIFO would block it forever) and
// only a regular file is accepted (a FIFO, a device or a socket is not).
// rootfs may be /proc/<pid>/root of a running container. The caller bounds
// how much it reads.
func openContainerFile(rootfs, path string) (*os.File, error) {
	root, err := unix.Open(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(root)
	fd, err := openat2Scoped(root, path, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return nil, err
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFREG {
		unix.Close(fd)
		return nil, &os.PathError{Op: "open", Path: path, Err: unix.EINVAL}
	}
	return os.NewFile(uintptr(fd), path), nil
}

// openat2Tries bounds the retries of a scoped openat2 (as the C init's
// open_in_root does).
const openat2Tries = 64

// openat2Scoped is openat2 with a scoped resolve (RESOLVE_IN_ROOT or
// RESOLVE_BENEATH), retried when the kernel could not prove the walk
// stayed in the root: EAGAIN when a rename or mount anywhere on the
// system raced one of its ".." steps, EXDEV when the result was moved out
// of the root under it. A container renaming its own directories must
// not make casco fail outright.
func openat2Scoped(dirfd int, path string, how *unix.OpenHow) (int, error) {
	for i := 1; ; i++ {
		fd, err := unix.Openat2(dirfd, path, how)
		if (err != unix.EAGAIN && err != unix.EXDEV) || i == openat2Tries {
			return fd, err
		}
	}
}
