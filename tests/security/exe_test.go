package security

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/tests/internal/harness"
)

// CVE-2019-5736: a process in the container opens /proc/<pid>/exe of the
// runtime's process while that process is in the container (parked after
// create, starting the container's process in run, starting an exec'd
// one), keeps the fd, and writes through /proc/self/fd/N once the runtime
// has exec'd away from it. Nothing on the host may change: not the casco
// binary, not the file the runtime's process was executed from.
//
// The attacker is container A (CAP_SYS_PTRACE, the strongest case); the
// victims share its pid namespace. The runtime's process is held still at
// its final execve by a seccomp notify listener (this test), so the attack
// is deterministic, not a race.
func TestCVE_2019_5736_ExeOverwrite(t *testing.T) {
	before := sha(t, runtimeBin)
	r := newRT(t)
	a := newBundle(t, "sh", "-c", attackerScript)
	caps := append(a.Spec.Process.Capabilities.Bounding, "CAP_SYS_PTRACE")
	a.Spec.Process.Capabilities = &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps}
	aid := newID("attacker")
	apid := r.mustCreate(a, aid)
	r.must("start", aid)
	sharePidns := func(b *bundle) {
		for i, n := range b.Spec.Linux.Namespaces {
			if n.Type == specs.PIDNamespace {
				b.Spec.Linux.Namespaces[i].Path = fmt.Sprintf("/proc/%d/ns/pid", apid)
			}
		}
	}
	// attack: the attacker opens the exe of victim (a host pid), then the
	// victim is released; once it has exec'd, the attacker writes.
	attack := func(t *testing.T, victim int, release func()) {
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", victim))
		var exeSum [32]byte
		if !strings.HasPrefix(exe, "/memfd:") {
			exeSum = sha(t, exe)
		}
		nspid := strings.Fields(status(victim, "NSpid"))
		os.WriteFile(filepath.Join(a.Rootfs, "tmp/target"), []byte(nspid[len(nspid)-1]), 0o644)
		opened := waitFile(t, filepath.Join(a.Rootfs, "tmp/opened"))
		os.Remove(filepath.Join(a.Rootfs, "tmp/opened"))
		t.Logf("runtime process %d (exe %s): attacker: %s", victim, exe, opened)
		release()
		if !harness.Poll(hangGuard, func() bool { l, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", victim)); return l != exe }) {
			t.Fatalf("process %d never exec'd", victim)
		}
		os.WriteFile(filepath.Join(a.Rootfs, "tmp/go"), []byte("go"), 0o644)
		result := waitFile(t, filepath.Join(a.Rootfs, "tmp/result"))
		os.Remove(filepath.Join(a.Rootfs, "tmp/result"))
		if result == "written" {
			t.Errorf("the container wrote to the runtime's executable %s", exe)
		}
		if !strings.HasPrefix(exe, "/memfd:") && sha(t, exe) != exeSum {
			t.Errorf("host file %s, the runtime process's executable, was changed", exe)
		}
		if sha(t, runtimeBin) != before {
			t.Fatalf("the runtime binary %s was changed", runtimeBin)
		}
	}

	t.Run("parked-after-create", func(t *testing.T) {
		b := newBundle(t, "sleep", "1000")
		sharePidns(b)
		id := newID("parked")
		pid := r.mustCreate(b, id)
		attack(t, pid, func() { r.must("start", id) })
	})
	listener := newNotifyListener(t)
	notifyExecve := func(b *bundle) {
		b.Spec.Linux.Seccomp = &specs.LinuxSeccomp{
			DefaultAction: specs.ActAllow,
			ListenerPath:  listener.path,
			Syscalls:      []specs.LinuxSyscall{{Names: []string{"execve"}, Action: specs.ActNotify}},
		}
	}
	b := newBundle(t, "sleep", "1000")
	sharePidns(b)
	notifyExecve(b)
	bid := newID("victim")
	b.Spec.Linux.CgroupsPath = "/" + bid
	b.save(t)
	t.Cleanup(func() { r.run("delete", "--force", bid) })
	t.Run("run", func(t *testing.T) {
		done := make(chan res, 1)
		go func() { done <- r.run("run", "-d", "--bundle", b.Dir, bid) }()
		stalled := listener.next(t, done)
		attack(t, stalled.pid, stalled.release)
		if out := <-done; !out.ok() {
			t.Fatalf("run: %s", out)
		}
	})
	t.Run("exec", func(t *testing.T) {
		done := make(chan res, 1)
		go func() { done <- r.run("exec", "-d", bid, "sleep", "999") }()
		stalled := listener.next(t, done)
		attack(t, stalled.pid, stalled.release)
		if out := <-done; !out.ok() {
			t.Fatalf("exec: %s", out)
		}
	})
}

// attackerScript: for each target pid, hold its exe open, and on "go"
// write through the held fd; report what happened.
const attackerScript = `
while :; do
	while [ ! -s /tmp/target ]; do usleep 2000; done
	pid=$(cat /tmp/target); rm -f /tmp/target
	if ( exec 3</proc/$pid/exe ) 2>/dev/null; then
		exec 3</proc/$pid/exe; echo opened > /tmp/opened
	else
		echo open-refused > /tmp/opened
	fi
	while [ ! -e /tmp/go ]; do usleep 2000; done; rm -f /tmp/go
	if ( echo PWNED >> /proc/self/fd/3 ) 2>/dev/null; then echo written > /tmp/result; else echo refused > /tmp/result; fi
	exec 3<&-
done`

func sha(t testing.TB, path string) [32]byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(data)
}

// notifyListener is a seccomp agent: it takes the notify fds the runtime
// hands over, lets every syscall continue, except that it holds still the
// first execve of each runtime process (casco-init or the runtime itself)
// until the test releases it.
type notifyListener struct {
	path    string
	stalled chan stalledProc
}

type stalledProc struct {
	pid     int
	release func()
}

const (
	ioctlNotifRecv = 0xc0502100 // SECCOMP_IOCTL_NOTIF_RECV
	ioctlNotifSend = 0xc0182101 // SECCOMP_IOCTL_NOTIF_SEND
	flagContinue   = 1          // SECCOMP_USER_NOTIF_FLAG_CONTINUE
)

type seccompNotif struct {
	ID    uint64
	Pid   uint32
	Flags uint32
	Nr    int32
	Arch  uint32
	IP    uint64
	Args  [6]uint64
}

type seccompResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

func newNotifyListener(t testing.TB) *notifyListener {
	dir, _ := os.MkdirTemp(topDir, "agent-")
	nl := &notifyListener{path: filepath.Join(dir, "sock"), stalled: make(chan stalledProc)}
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: nl.path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.AcceptUnix()
			if err != nil {
				return
			}
			buf, oob := make([]byte, 64<<10), make([]byte, 64)
			n, oobn, _, _, err := c.ReadMsgUnix(buf, oob)
			c.Close()
			var st specs.ContainerProcessState
			if err != nil || json.Unmarshal(buf[:n], &st) != nil {
				continue
			}
			msgs, _ := unix.ParseSocketControlMessage(oob[:oobn])
			for _, m := range msgs {
				if fds, err := unix.ParseUnixRights(&m); err == nil && len(fds) == 1 {
					go nl.serve(fds[0])
				}
			}
		}
	}()
	return nl
}

// next waits for the runtime's process to be held at its execve.
func (nl *notifyListener) next(t *testing.T, done chan res) stalledProc {
	t.Helper()
	select {
	case s := <-nl.stalled:
		return s
	case out := <-done:
		t.Fatalf("the runtime ended before its process reached execve: %s", out)
	case <-time.After(hangGuard):
		t.Fatalf("no runtime process reached its execve within %v", hangGuard)
	}
	return stalledProc{}
}

func (nl *notifyListener) serve(fd int) {
	defer unix.Close(fd)
	held := false
	for {
		var req seccompNotif
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), ioctlNotifRecv, uintptr(unsafe.Pointer(&req))); e != 0 {
			if e == unix.EINTR {
				continue
			}
			return // the filter's processes are gone
		}
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", req.Pid))
		if !held && (strings.Contains(exe, "casco") || strings.Contains(exe, "runc") || strings.HasPrefix(exe, "/memfd:")) {
			held = true
			released := make(chan struct{})
			nl.stalled <- stalledProc{pid: int(req.Pid), release: func() { close(released) }}
			<-released
		}
		resp := seccompResp{ID: req.ID, Flags: flagContinue}
		unix.Syscall(unix.SYS_IOCTL, uintptr(fd), ioctlNotifSend, uintptr(unsafe.Pointer(&resp)))
	}
}
