package integration

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// consoleMsg is what arrived on the console socket.
type consoleMsg struct {
	fds  []int
	data string // runc sends the pty's name alongside the fd
	err  error
}

// listenConsole listens on a unix socket and receives one message with
// SCM_RIGHTS from the first connection.
func listenConsole(t *testing.T) (string, <-chan consoleMsg) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "console.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ch := make(chan consoleMsg, 1)
	go func() {
		var msg consoleMsg
		defer func() { ch <- msg }()
		l.SetDeadline(time.Now().Add(defaultTimeout))
		conn, err := l.AcceptUnix()
		if err != nil {
			msg.err = err
			return
		}
		defer conn.Close()
		buf := make([]byte, 4096)
		oob := make([]byte, syscall.CmsgSpace(4*8))
		conn.SetDeadline(time.Now().Add(defaultTimeout))
		n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
		if err != nil {
			msg.err = err
			return
		}
		msg.data = string(buf[:n])
		cmsgs, err := syscall.ParseSocketControlMessage(oob[:oobn])
		if err != nil {
			msg.err = err
			return
		}
		for _, c := range cmsgs {
			fds, err := syscall.ParseUnixRights(&c)
			if err == nil {
				msg.fds = append(msg.fds, fds...)
			}
		}
	}()
	return path, ch
}

// awaitConsole waits for what the console socket received.
func awaitConsole(t *testing.T, ch <-chan consoleMsg) consoleMsg {
	t.Helper()
	select {
	case msg := <-ch:
		if msg.err != nil {
			t.Fatalf("console socket: %v", msg.err)
		}
		return msg
	case <-time.After(defaultTimeout):
		t.Fatal("nothing arrived on the console socket")
	}
	return consoleMsg{}
}

// ptyNumber asks the kernel which pty a master fd belongs to (TIOCGPTN);
// it fails for anything that is not a pty master.
func ptyNumber(fd int) (uint32, error) {
	var n uint32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); errno != 0 {
		return 0, errno
	}
	return n, nil
}

// readAll reads a pty master until the slave side is closed (EIO).
func readPty(t *testing.T, f *os.File, timeout time.Duration) string {
	t.Helper()
	f.SetReadDeadline(time.Now().Add(timeout))
	var out []byte
	buf := make([]byte, 4096)
	for {
		n, err := f.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			if !errors.Is(err, syscall.EIO) {
				t.Errorf("reading the pty master: %v (got %q so far)", err, out)
			}
			return string(out)
		}
	}
}

// TestTerminal: with process.terminal, create sends the pty master over
// --console-socket as one SCM_RIGHTS fd; the container's stdio is the
// slave, sized as process.consoleSize says.
func TestTerminal(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, "sh", "-c", "tty; stty size; echo done")
	b.Spec.Process.Terminal = true
	b.Spec.Process.ConsoleSize = &specs.Box{Height: 30, Width: 100}
	sock, ch := listenConsole(t)
	c := r.create(b, "--console-socket", sock)

	msg := awaitConsole(t, ch)
	t.Logf("console socket message: %d fd(s), data %q", len(msg.fds), msg.data)
	if len(msg.fds) != 1 {
		for _, fd := range msg.fds {
			syscall.Close(fd)
		}
		t.Fatalf("console socket carried %d fds, want exactly 1", len(msg.fds))
	}
	fd := msg.fds[0]
	ptn, err := ptyNumber(fd)
	if err != nil {
		syscall.Close(fd)
		t.Fatalf("the fd received is not a pty master: %v", err)
	}
	syscall.SetNonblock(fd, true)
	master := os.NewFile(uintptr(fd), "pty-master")
	defer master.Close()
	t.Logf("pty master of pts %d (the container's devpts instance)", ptn)

	c.r.mustRun("start", c.ID)
	out := strings.ReplaceAll(readPty(t, master, defaultTimeout), "\r\n", "\n")
	got := lines(out)
	want := []string{"/dev/pts/0", "30 100", "done"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("container output through the pty: %q, want %q", got, want)
	}
	if s := c.stdout(); s != "" {
		t.Errorf("with a terminal the container wrote to the runtime's stdout: %q", s)
	}
}

// TestTerminalWithoutSocket: a detached container with a terminal needs a
// console socket.
func TestTerminalWithoutSocket(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	b := newBundle(t, sleeper...)
	b.Spec.Process.Terminal = true
	id := newID(t)
	b.save(t)
	r.trackCleanup(id)
	r.mustFail([]string{"console", "socket", "tty", "terminal"}, "create", "--bundle", b.Dir, id)
	noLeftovers(t, r, b, id, "")
}
