package libcontainer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/libcontainer/duration"
)

const (
	stateFile = "state.json"
	fifoName  = "exec.fifo"
)

// Status values, as runc reports them.
const (
	Creating = "creating"
	Created  = "created"
	Running  = "running"
	Paused   = "paused"
	Stopped  = "stopped"
)

// State is what casco keeps in <root>/<id>/state.json: enough to find the
// container's processes and undo what create did.
type State struct {
	ID          string            `json:"id"`
	Pid         int               `json:"init_process_pid"`
	PidStart    uint64            `json:"init_process_start"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations,omitempty"`
	CgroupPaths map[string]string `json:"cgroup_paths,omitempty"`
	Systemd     bool              `json:"systemd,omitempty"`
	Rootless    bool              `json:"rootless,omitempty"`
	// Config is config.json as it was at create, kept undecoded: most
	// commands need a small part of it or nothing, and decoding the whole
	// spec is the largest fixed cost of a short-lived command.
	Config json.RawMessage `json:"config"`
}

// OCIState is the JSON `casco state` prints: runc's shape.
type OCIState struct {
	Version     string            `json:"ociVersion"`
	ID          string            `json:"id"`
	Pid         int               `json:"pid"`
	Status      string            `json:"status"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Owner       string            `json:"owner"`
}

// saveState writes state.json atomically: a reader sees the old or the new
// file, never half of one. No fsync: the state lives on tmpfs (/run) and is
// meaningless after a reboot anyway.
func saveState(dir string, s *State) error {
	data, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	return writeFileAtomic(filepath.Join(dir, stateFile), data, 0600)
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp" + strconv.Itoa(os.Getpid())
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("rename %s: %w", path, err)
	}
	return nil
}

// loadState reads dir's state.json. A state dir without one is a create
// that has not written it yet or was killed first: it is returned as a
// partial state, which list shows and delete removes.
func loadState(dir, id string) (*State, error) {
	data, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		if st, serr := os.Stat(dir); serr == nil && st.IsDir() {
			return &State{ID: id}, nil
		}
	}
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&s); err != nil {
		return nil, fmt.Errorf("parse %s: %w", filepath.Join(dir, stateFile), err)
	}
	return &s, nil
}

// LockTimeoutEnv bounds each wait for a container's lock (casco's
// --lock-timeout sets it), as a Go duration or in seconds;
// DefaultLockTimeout when unset. A command holds the lock while it
// changes the container (create, start, pause, update, checkpoint...);
// one that holds it longer than this is stuck or stopped, and a command
// waiting behind it fails naming it rather than hanging as long as it
// does. state and kill take no lock; delete --force waits forceLockWait.
const (
	LockTimeoutEnv     = "CASCO_LOCK_TIMEOUT"
	DefaultLockTimeout = time.Minute
)

func lockTimeout() time.Duration {
	if d, err := duration.Parse(os.Getenv(LockTimeoutEnv)); err == nil {
		return d
	}
	return DefaultLockTimeout
}

// lockDir takes an exclusive lock on the container's state directory so
// that concurrent commands on one container take turns, waiting at most
// lockTimeout for the command before.
func lockDir(dir string) (*os.File, error) {
	timeout := lockTimeout()
	f, err := lockDirWithin(dir, timeout, nil)
	if errors.Is(err, errLockBusy) {
		return nil, fmt.Errorf("lock %s: held for more than %v (--lock-timeout) by %s", dir, timeout, lockHolder(dir))
	}
	return f, err
}

// lockHolder names the process holding dir's lock, as /proc/locks has it.
func lockHolder(dir string) string {
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return "another command"
	}
	// "1: FLOCK  ADVISORY  WRITE 1234 00:2a:5678 0 EOF"; a waiter's
	// line has "->" after the number
	inode := fmt.Sprintf("%02x:%02x:%d", unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
	data, _ := os.ReadFile("/proc/locks")
	for _, l := range strings.Split(string(data), "\n") {
		f := strings.Fields(l)
		if len(f) < 6 || f[1] != "FLOCK" || f[5] != inode {
			continue
		}
		pid, err := strconv.Atoi(f[4])
		if err != nil || pid <= 0 {
			break
		}
		desc := fmt.Sprintf("pid %d", pid)
		if cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && len(cmd) > 0 {
			args := strings.Split(strings.TrimRight(string(cmd), "\x00"), "\x00")
			args[0] = filepath.Base(args[0])
			desc += fmt.Sprintf(" (%s)", strings.Join(args[:min(len(args), 8)], " "))
		}
		if ps, err := readProcStat(pid); err == nil && (ps.state == 'T' || ps.state == 't') {
			desc += ", which is stopped"
		}
		return desc
	}
	return "another command"
}

// processStart returns the start time of pid (field 22 of /proc/<pid>/stat)
// and whether it is a zombie. With the pid it identifies a process for
// good: a recycled pid has another start time.
func processStart(pid int) (start uint64, zombie bool, err error) {
	st, err := readProcStat(pid)
	return st.start, st.zombie(), err
}

// procStat is what casco reads of /proc/<pid>/stat.
type procStat struct {
	comm  string // field 2: the command name, as the process set it
	state byte   // field 3: R, S, D, Z, X...
	flags uint64 // field 9: the kernel's PF_* flags
	start uint64 // field 22: start time, in clock ticks after boot
}

func (p procStat) zombie() bool { return p.state == 'Z' || p.state == 'X' }

// pfExiting is the kernel's PF_EXITING (include/linux/sched.h): set for
// good when the process starts to exit, before it is a zombie.
const pfExiting = 0x4

func (p procStat) exiting() bool { return p.flags&pfExiting != 0 }

func readProcStat(pid int) (procStat, error) {
	return readStatFile("/proc/" + strconv.Itoa(pid) + "/stat")
}

// readStatFile parses a stat file of /proc: a process's, or one of its
// threads' (/proc/<pid>/task/<tid>/stat).
func readStatFile(path string) (procStat, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return procStat{}, err
	}
	// the command name may hold spaces and parentheses: fields start after the last ')'
	open, i := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
	if open < 0 || i < open {
		return procStat{}, errors.New("malformed stat")
	}
	fields := bytes.Fields(data[i+1:])
	if len(fields) < 20 || len(fields[0]) != 1 {
		return procStat{}, errors.New("malformed stat")
	}
	flags, err := strconv.ParseUint(string(fields[6]), 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("malformed stat: flags: %w", err)
	}
	start, err := strconv.ParseUint(string(fields[19]), 10, 64)
	if err != nil {
		return procStat{}, fmt.Errorf("malformed stat: start time: %w", err)
	}
	return procStat{comm: string(data[open+1 : i]), state: fields[0][0], flags: flags, start: start}, nil
}

// partial reports whether this is the state of a create that has not
// finished (or never will: it was killed): it has no init to trust yet,
// only what create recorded before starting one.
func (s *State) partial() bool { return s.Created.IsZero() }

// lockBusy reports whether another command holds dir's lock, without
// waiting for it.
func lockBusy(dir string) bool {
	f, err := os.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return false
	}
	defer f.Close()
	return unix.Flock(int(f.Fd()), unix.LOCK_SH|unix.LOCK_NB) == unix.EWOULDBLOCK
}

// lockDirWithin takes dir's lock like lockDir but gives up after timeout
// (then returning errLockBusy), calling retry between attempts.
func lockDirWithin(dir string, timeout time.Duration, retry func()) (*os.File, error) {
	f, err := os.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(timeout)
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if err != unix.EWOULDBLOCK && err != unix.EINTR {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, errLockBusy
		}
		if retry != nil {
			retry()
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var errLockBusy = errors.New("another command holds the container's lock")

// alive reports whether the container's init is still the process we started.
func (s *State) alive() bool {
	if s.Pid <= 0 {
		return false
	}
	start, zombie, err := processStart(s.Pid)
	return err == nil && !zombie && start == s.PidStart
}

// initExiting reports whether the container's init has begun to exit
// (killed, or its last thread returned) and is not yet a zombie.
func (s *State) initExiting() bool {
	if s.Pid <= 0 {
		return false
	}
	st, err := readProcStat(s.Pid)
	return err == nil && st.start == s.PidStart && !st.zombie() && st.exiting()
}
