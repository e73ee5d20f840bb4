// Command seccompagent is the seccomp helper of the integration tests
// (tests/integration/seccomp_test.go builds it with CGO_ENABLED=0). It has
// two modes.
//
// agent: a seccomp notify agent, as runtime-spec's linux.seccomp.listenerPath
// describes it. It listens on a unix socket, takes one connection, receives
// the runtime's message (the specs.ContainerProcessState JSON and the notify
// fd in one SCM_RIGHTS message), then answers every notification with an
// errno (SECCOMP_IOCTL_NOTIF_RECV / SECCOMP_IOCTL_NOTIF_SEND). It records
// what it saw in a JSON file (rewritten after each event) for the test to
// check, and exits when the container's last filtered task is gone.
//
//	seccompagent agent -socket PATH -out FILE -errno 30
//
// probe: runs inside a container (static, no libc) and makes raw syscalls,
// printing one line per call: "name OK" or "name ERRNONAME". It covers the
// syscalls busybox cannot be made to call directly (openat2, clone3, ...).
//
//	seccompagent probe getpid openat2 clone3 socket=2,1,0 personality=0xffffffff
//	probe getpid ...   (the same, when the binary is named probe)
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func main() {
	// Installed as /bin/probe in a rootfs, it is the probe.
	if filepath.Base(os.Args[0]) == "probe" {
		os.Exit(probe(os.Args[1:]))
	}
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: seccompagent agent|probe ...")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "agent":
		agent(os.Args[2:])
	case "probe":
		os.Exit(probe(os.Args[2:]))
	default:
		fmt.Fprintf(os.Stderr, "seccompagent: unknown mode %q\n", os.Args[1])
		os.Exit(2)
	}
}

// ---------------------------------------------------------------------------
// agent

// Report is what the agent writes to -out; the test decodes the same shape.
type Report struct {
	// Message is the data part of the runtime's message, verbatim.
	Message string `json:"message"`
	// Fds is how many fds the SCM_RIGHTS message carried.
	Fds int `json:"fds"`
	// FdIsListener: the fd answers SECCOMP_IOCTL_NOTIF_ID_VALID like a
	// seccomp listener (ENOENT for an unknown id), not ENOTTY.
	FdIsListener bool           `json:"fdIsListener"`
	Notifs       []Notification `json:"notifications"`
	Errors       []string       `json:"errors,omitempty"`
	Done         bool           `json:"done"`
}

// Notification is one seccomp_notif and the agent's answer.
type Notification struct {
	Pid   uint32    `json:"pid"`
	Nr    int32     `json:"nr"`
	Arch  uint32    `json:"arch"`
	Args  [6]uint64 `json:"args"`
	Path  string    `json:"path"` // the pathname argument, read from /proc/<pid>/mem
	Errno int       `json:"errno"`
	Sent  bool      `json:"sent"` // SECCOMP_IOCTL_NOTIF_SEND succeeded
}

// struct seccomp_data, struct seccomp_notif, struct seccomp_notif_resp.
type seccompData struct {
	Nr                 int32
	Arch               uint32
	InstructionPointer uint64
	Args               [6]uint64
}

type seccompNotif struct {
	ID    uint64
	Pid   uint32
	Flags uint32
	Data  seccompData
}

type seccompNotifResp struct {
	ID    uint64
	Val   int64
	Error int32
	Flags uint32
}

func agent(args []string) {
	fs := flag.NewFlagSet("agent", flag.ExitOnError)
	sock := fs.String("socket", "", "unix socket to listen on")
	out := fs.String("out", "", "report file")
	errnoRet := fs.Int("errno", int(unix.EROFS), "errno to answer every notification with")
	wantID := fs.String("want-id", "", "container id the state must name")
	wantMeta := fs.String("want-metadata", "", "listenerMetadata the message must carry")
	fs.Parse(args)
	if *sock == "" || *out == "" {
		fmt.Fprintln(os.Stderr, "seccompagent agent: -socket and -out are required")
		os.Exit(2)
	}
	rep := &Report{}
	save := func() {
		data, _ := json.MarshalIndent(rep, "", "  ")
		tmp := *out + ".tmp"
		if err := os.WriteFile(tmp, data, 0o644); err == nil {
			os.Rename(tmp, *out)
		}
	}
	fatal := func(format string, a ...any) {
		rep.Errors = append(rep.Errors, fmt.Sprintf(format, a...))
		rep.Done = true
		save()
		fmt.Fprintf(os.Stderr, "seccompagent: "+format+"\n", a...)
		os.Exit(1)
	}

	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: *sock, Net: "unix"})
	if err != nil {
		fatal("listen %s: %v", *sock, err)
	}
	save()
	fmt.Println("ready") // the test connects only after this line
	conn, err := l.AcceptUnix()
	if err != nil {
		fatal("accept: %v", err)
	}
	l.Close()

	buf := make([]byte, 1<<16)
	oob := make([]byte, unix.CmsgSpace(4*4))
	n, oobn, flags, _, err := conn.ReadMsgUnix(buf, oob)
	if err != nil {
		fatal("recvmsg: %v", err)
	}
	conn.Close()
	rep.Message = string(buf[:n])
	if flags&unix.MSG_TRUNC != 0 || flags&unix.MSG_CTRUNC != 0 {
		rep.Errors = append(rep.Errors, fmt.Sprintf("message truncated (flags %#x)", flags))
	}
	var fds []int
	cmsgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		fatal("parsing control message: %v", err)
	}
	for _, c := range cmsgs {
		if rights, err := unix.ParseUnixRights(&c); err == nil {
			fds = append(fds, rights...)
		}
	}
	rep.Fds = len(fds)
	var st specs.ContainerProcessState
	if err := json.Unmarshal(buf[:n], &st); err != nil {
		rep.Errors = append(rep.Errors, fmt.Sprintf("message is not a ContainerProcessState: %v", err))
	} else {
		rep.Errors = append(rep.Errors, checkState(&st, len(fds), *wantID, *wantMeta)...)
	}
	if len(fds) == 0 {
		fatal("no fd in the message")
	}
	// The fd the runtime names "seccompFd" (the only one it sends).
	fd := fds[0]
	for i, name := range st.Fds {
		if name == specs.SeccompFdName && i < len(fds) {
			fd = fds[i]
		}
	}
	bogus := uint64(0xdeadbeefcafe)
	_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_ID_VALID, uintptr(unsafe.Pointer(&bogus)))
	rep.FdIsListener = e == unix.ENOENT
	save()

	for {
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		if _, err := unix.Poll(pfd, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			fatal("poll: %v", err)
		}
		if pfd[0].Revents&unix.POLLIN == 0 {
			break // POLLHUP: every task that used the filter is gone
		}
		var req seccompNotif
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_RECV, uintptr(unsafe.Pointer(&req))); e != 0 {
			if e == unix.EINTR || e == unix.ENOENT {
				continue // the task died or was interrupted before we got it
			}
			fatal("SECCOMP_IOCTL_NOTIF_RECV: %v", e)
		}
		nt := Notification{Pid: req.Pid, Nr: req.Data.Nr, Arch: req.Data.Arch, Args: req.Data.Args, Errno: *errnoRet}
		nt.Path = pathArg(req)
		// The path was read from a task that may have gone (and its pid
		// reused) meanwhile: it is only trustworthy if the id is still valid.
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_ID_VALID, uintptr(unsafe.Pointer(&req.ID))); e != 0 {
			nt.Path = ""
		}
		resp := seccompNotifResp{ID: req.ID, Error: -int32(*errnoRet)}
		_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), unix.SECCOMP_IOCTL_NOTIF_SEND, uintptr(unsafe.Pointer(&resp)))
		nt.Sent = e == 0
		if e != 0 && e != unix.ENOENT {
			rep.Errors = append(rep.Errors, fmt.Sprintf("SECCOMP_IOCTL_NOTIF_SEND: %v", e))
		}
		rep.Notifs = append(rep.Notifs, nt)
		save()
	}
	rep.Done = true
	save()
}

// checkState is what runtime-spec asks of the container process state.
func checkState(st *specs.ContainerProcessState, nfds int, wantID, wantMeta string) []string {
	var errs []string
	bad := func(format string, a ...any) { errs = append(errs, fmt.Sprintf(format, a...)) }
	if st.Version == "" || st.State.Version == "" {
		bad("ociVersion missing (%q, state %q)", st.Version, st.State.Version)
	}
	if len(st.Fds) != 1 || st.Fds[0] != specs.SeccompFdName || nfds != len(st.Fds) {
		bad("fds %q with %d fd(s) in SCM_RIGHTS, want [%q] and one fd", st.Fds, nfds, specs.SeccompFdName)
	}
	if st.Pid <= 0 {
		bad("pid %d", st.Pid)
	}
	if wantMeta != "" && st.Metadata != wantMeta {
		bad("metadata %q, want %q", st.Metadata, wantMeta)
	}
	if wantID != "" && st.State.ID != wantID {
		bad("state.id %q, want %q", st.State.ID, wantID)
	}
	return errs
}

// pathArg reads the pathname argument of mkdir/mkdirat from the caller's memory.
func pathArg(req seccompNotif) string {
	var addr uint64
	switch req.Data.Nr {
	case unix.SYS_MKDIR:
		addr = req.Data.Args[0]
	case unix.SYS_MKDIRAT:
		addr = req.Data.Args[1]
	default:
		return ""
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/mem", req.Pid))
	if err != nil {
		return ""
	}
	defer f.Close()
	b := make([]byte, 4096)
	n, _ := f.ReadAt(b, int64(addr))
	s := string(b[:n])
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return ""
}

// ---------------------------------------------------------------------------
// probe

// probeCall makes one syscall with the given arguments (nil: the defaults)
// and returns the errno (0 for success).
type probeCall func(args []uint64) syscall.Errno

func arg(args []uint64, i int, def uint64) uintptr {
	if i < len(args) {
		return uintptr(args[i])
	}
	return uintptr(def)
}

func closeIfFd(r, _ uintptr, e syscall.Errno) syscall.Errno {
	if e == 0 {
		unix.Close(int(r))
	}
	return e
}

var rootPath = []byte("/\x00")

const atFdcwd = ^uintptr(99) // AT_FDCWD, -100

var probes = map[string]probeCall{
	"getpid": func([]uint64) syscall.Errno {
		_, _, e := unix.RawSyscall(unix.SYS_GETPID, 0, 0, 0)
		return e
	},
	// sysinfo is old and harmless; the tests keep it out of allow-lists.
	"sysinfo": func([]uint64) syscall.Errno {
		var si unix.Sysinfo_t
		_, _, e := unix.RawSyscall(unix.SYS_SYSINFO, uintptr(unsafe.Pointer(&si)), 0, 0)
		return e
	},
	"personality": func(a []uint64) syscall.Errno {
		_, _, e := unix.RawSyscall(unix.SYS_PERSONALITY, arg(a, 0, 0xffffffff), 0, 0)
		return e
	},
	"socket": func(a []uint64) syscall.Errno {
		return closeIfFd(unix.RawSyscall(unix.SYS_SOCKET, arg(a, 0, unix.AF_UNIX), arg(a, 1, unix.SOCK_STREAM), arg(a, 2, 0)))
	},
	// openat2(AT_FDCWD, "/", {O_PATH}, 24): a new fd when it is allowed.
	"openat2": func([]uint64) syscall.Errno {
		how := unix.OpenHow{Flags: unix.O_PATH | unix.O_CLOEXEC}
		return closeIfFd(unix.Syscall6(unix.SYS_OPENAT2, atFdcwd, uintptr(unsafe.Pointer(&rootPath[0])),
			uintptr(unsafe.Pointer(&how)), unsafe.Sizeof(how), 0, 0))
	},
	// faccessat2(AT_FDCWD, "/", F_OK, 0): success when it is allowed.
	"faccessat2": func([]uint64) syscall.Errno {
		_, _, e := unix.Syscall6(unix.SYS_FACCESSAT2, atFdcwd, uintptr(unsafe.Pointer(&rootPath[0])), unix.F_OK, 0, 0, 0)
		return e
	},
	// clone3(NULL, 0): EINVAL when it reaches the kernel (no process is made).
	"clone3": func([]uint64) syscall.Errno {
		_, _, e := unix.RawSyscall(unix.SYS_CLONE3, 0, 0, 0)
		return e
	},
	// fchmodat2(AT_FDCWD, "/nonexistent-probe", 0, 0): ENOENT when it reaches the kernel.
	"fchmodat2": func([]uint64) syscall.Errno {
		p := []byte("/nonexistent-probe\x00")
		_, _, e := unix.Syscall6(unix.SYS_FCHMODAT2, atFdcwd, uintptr(unsafe.Pointer(&p[0])), 0, 0, 0, 0)
		return e
	},
	// mkdir(path, 0755) of a fresh name under /tmp, removed again.
	"mkdir": func([]uint64) syscall.Errno {
		p := fmt.Sprintf("/tmp/probe-%d", os.Getpid())
		b := append([]byte(p), 0)
		_, _, e := unix.Syscall(unix.SYS_MKDIR, uintptr(unsafe.Pointer(&b[0])), 0o755, 0)
		if e == 0 {
			os.Remove(p)
		}
		return e
	},
}

// probe runs each "name" or "name=a,b,c" and prints "name OK" or "name ERRNO".
// It exits 0 when every call could be made (whatever their result).
func probe(calls []string) int {
	for _, c := range calls {
		name, list, _ := strings.Cut(c, "=")
		fn, ok := probes[name]
		if !ok {
			fmt.Fprintf(os.Stderr, "probe: unknown call %q\n", name)
			return 2
		}
		var args []uint64
		if list != "" {
			for _, s := range strings.Split(list, ",") {
				v, err := strconv.ParseUint(s, 0, 64)
				if err != nil {
					fmt.Fprintf(os.Stderr, "probe: %s: %v\n", c, err)
					return 2
				}
				args = append(args, v)
			}
		}
		e := fn(args)
		if e == 0 {
			fmt.Printf("%s OK\n", c)
		} else {
			fmt.Printf("%s %s\n", c, unix.ErrnoName(e))
		}
	}
	return 0
}
