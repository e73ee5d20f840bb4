// Package criu drives CRIU for checkpoint and restore: the flags both
// share, the requests' common part, and a client for `criu swrk` that
// can hand CRIU file descriptors and take the one it sends back.
package criu

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/checkpoint-restore/go-criu/v7/rpc"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"
)

// minVersion is the oldest CRIU casco drives: 3.15 has external pid
// namespaces and tells a lazy-pages dump is ready with a notification.
const minVersion = 31500

// Opts are the flags checkpoint and restore share, as runc has them.
type Opts struct {
	Criu              string // the criu binary: --criu, default "criu" from PATH
	ImagePath         string
	WorkPath          string
	TCPEstablished    bool
	ExtUnixSk         bool
	ShellJob          bool
	FileLocks         bool
	AutoDedup         bool
	LazyPages         bool
	ManageCgroupsMode string        // soft (default), full, strict, ignore
	EmptyNs           string        // namespaces to create but not restore: "network"
	Timeout           time.Duration // bounds each answer of a dump or restore; 0: DefaultTimeout
}

// A CRIU that stops answering must not hold the runtime (and the
// container's lock) forever: every answer has a deadline, after which
// CRIU is killed. A dump or restore may take long (memory size, disk),
// hence the generous, settable default; the version and feature queries
// answer at once, or never.
const (
	DefaultTimeout = 10 * time.Minute
	queryTimeout   = 30 * time.Second
)

func (o *Opts) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultTimeout
}

// queryTimeout bounds CRIU's answer to a version or feature query.
func (o *Opts) queryTimeout() time.Duration {
	return min(o.timeout(), queryTimeout)
}

func (o *Opts) binary() string {
	if o.Criu == "" {
		return "criu"
	}
	return o.Criu
}

// logDir is where CRIU writes its log: the work directory, else the images.
func (o *Opts) logDir() string {
	if o.WorkPath != "" {
		return o.WorkPath
	}
	return o.ImagePath
}

func (o *Opts) cgroupMode() (*rpc.CriuCgMode, error) {
	modes := map[string]rpc.CriuCgMode{
		"": rpc.CriuCgMode_DEFAULT, "soft": rpc.CriuCgMode_SOFT, "full": rpc.CriuCgMode_FULL,
		"strict": rpc.CriuCgMode_STRICT, "ignore": rpc.CriuCgMode_IGNORE,
	}
	m, ok := modes[o.ManageCgroupsMode]
	if !ok {
		return nil, fmt.Errorf("--manage-cgroups-mode %q: soft, full, strict or ignore", o.ManageCgroupsMode)
	}
	return &m, nil
}

func (o *Opts) emptyNs() (uint32, error) {
	var flags uint32
	for _, name := range strings.Split(o.EmptyNs, ",") {
		switch name {
		case "":
		case "network", "net":
			flags |= unix.CLONE_NEWNET
		default:
			return 0, fmt.Errorf("--empty-ns %q: only the network namespace can be left empty", name)
		}
	}
	return flags, nil
}

// Request is the part of a dump or restore request both share, with
// CRIU's log going to logFile.
func (o *Opts) Request(imageDir *os.File, logFile string) (*rpc.CriuOpts, error) {
	mode, err := o.cgroupMode()
	if err != nil {
		return nil, err
	}
	empty, err := o.emptyNs()
	if err != nil {
		return nil, err
	}
	return &rpc.CriuOpts{
		ImagesDirFd:       proto.Int32(int32(imageDir.Fd())),
		LogLevel:          proto.Int32(4),
		LogFile:           proto.String(logFile),
		ManageCgroups:     proto.Bool(true),
		ManageCgroupsMode: mode,
		NotifyScripts:     proto.Bool(true),
		ShellJob:          proto.Bool(o.ShellJob),
		TcpEstablished:    proto.Bool(o.TCPEstablished),
		ExtUnixSk:         proto.Bool(o.ExtUnixSk),
		FileLocks:         proto.Bool(o.FileLocks),
		EmptyNs:           proto.Uint32(empty),
		OrphanPtsMaster:   proto.Bool(true),
		AutoDedup:         proto.Bool(o.AutoDedup),
		LazyPages:         proto.Bool(o.LazyPages),
	}, nil
}

// OpenWorkDir makes (if needed) and opens the work directory, when one
// is set, and puts it in req.
func (o *Opts) OpenWorkDir(req *rpc.CriuOpts) (*os.File, error) {
	if o.WorkPath == "" {
		return nil, nil
	}
	d, err := OpenDir(o.WorkPath)
	if err != nil {
		return nil, fmt.Errorf("--work-path: %w", err)
	}
	req.WorkDirFd = proto.Int32(int32(d.Fd()))
	return d, nil
}

// OpenDir makes dir (private) unless it exists and opens it.
func OpenDir(dir string) (*os.File, error) {
	if err := os.Mkdir(dir, 0700); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, err
	}
	return os.OpenFile(dir, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
}

// ConfigFile points CRIU at an operator's settings, as runc does: the
// annotation org.criu.config names a file ("" for none), else
// /etc/criu/runc.conf, the file operators already keep for runc.
func ConfigFile(req *rpc.CriuOpts, annotations map[string]string) {
	if f, ok := annotations["org.criu.config"]; ok {
		if f != "" {
			req.ConfigFile = proto.String(f)
		}
		return
	}
	req.ConfigFile = proto.String("/etc/criu/runc.conf")
}

// Client is one `criu swrk` process and the RPC socket to it. go-criu's own
// client cannot hand CRIU file descriptors (the container's stdio, a
// joined network namespace) nor receive the one CRIU sends back (the new
// pty master), so casco starts swrk itself and speaks go-criu's protocol
// messages over the socket.
type Client struct {
	cmd     *exec.Cmd
	sock    *os.File
	stderr  *tail
	timeout time.Duration // for each answer
}

// Start starts `criu swrk` with extra as its fds 4, 5, ... (3 is the
// socket) and stdin (nil: /dev/null) as its stdin, where a --shell-job
// restore finds the terminal.
func (o *Opts) Start(stdin *os.File, extra []*os.File) (*Client, error) {
	return start(o.binary(), stdin, extra, o.timeout())
}

// start starts `criu swrk`, each answer bounded by timeout. CRIU's stderr
// is kept for the error message: that is where it says why it cannot run
// at all.
func start(bin string, stdin *os.File, extra []*os.File, timeout time.Duration) (*Client, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("criu socketpair: %w", err)
	}
	ours, theirs := os.NewFile(uintptr(fds[0]), "criu-client"), os.NewFile(uintptr(fds[1]), "criu-server")
	defer theirs.Close()
	errR, errW, err := os.Pipe()
	if err != nil {
		ours.Close()
		return nil, err
	}
	defer errW.Close()
	cmd := exec.Command(bin, "swrk", "3")
	cmd.ExtraFiles = append([]*os.File{theirs}, extra...)
	cmd.Stderr = errW
	if stdin != nil {
		cmd.Stdin = stdin
	}
	if err := cmd.Start(); err != nil {
		ours.Close()
		errR.Close()
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("CRIU not found (%s): install criu %s or newer", bin, versionString(minVersion))
		}
		return nil, fmt.Errorf("start %s swrk: %w", bin, err)
	}
	return &Client{cmd: cmd, sock: ours, stderr: newTail(errR), timeout: timeout}, nil
}

// NotifyFunc handles one notification: its script name, pid and any fds
// CRIU sent with it (which it must close).
type NotifyFunc func(script string, pid int32, fds []int) error

// Pid is CRIU's process id.
func (c *Client) Pid() int { return c.cmd.Process.Pid }

// Call sends req and answers notifications until CRIU's final response.
func (c *Client) Call(req *rpc.CriuReq, notify NotifyFunc) (*rpc.CriuResp, error) {
	buf := make([]byte, 64*1024)
	oob := make([]byte, unix.CmsgSpace(4*16))
	for {
		data, err := proto.Marshal(req)
		if err != nil {
			return nil, err
		}
		if _, err := c.sock.Write(data); err != nil {
			return nil, c.died(err)
		}
		if err := c.awaitAnswer(req.GetType()); err != nil {
			return nil, err
		}
		n, oobn, _, _, err := unix.Recvmsg(int(c.sock.Fd()), buf, oob, unix.MSG_CMSG_CLOEXEC)
		if err != nil || n == 0 {
			return nil, c.died(err)
		}
		fds := parseRights(oob[:oobn])
		resp := new(rpc.CriuResp)
		if err := proto.Unmarshal(buf[:n], resp); err != nil {
			CloseFds(fds)
			return nil, fmt.Errorf("criu response: %w", err)
		}
		if !resp.GetSuccess() {
			CloseFds(fds)
			return resp, failed(resp)
		}
		if resp.GetType() != rpc.CriuReqType_NOTIFY {
			CloseFds(fds)
			return resp, nil
		}
		if notify == nil {
			CloseFds(fds)
		} else if err := notify(resp.GetNotify().GetScript(), resp.GetNotify().GetPid(), fds); err != nil {
			return nil, err
		}
		t := rpc.CriuReqType_NOTIFY
		req = &rpc.CriuReq{Type: &t, NotifySuccess: proto.Bool(true)}
	}
}

// awaitAnswer waits up to c.timeout for CRIU to answer (or close the
// socket); past it CRIU is killed and the request fails.
func (c *Client) awaitAnswer(what rpc.CriuReqType) error {
	deadline := time.Now().Add(c.timeout)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			bin := c.cmd.Path
			c.kill()
			return fmt.Errorf("CRIU (%s) did not answer the %s request within %v (--criu-timeout): killed it", bin, strings.ToLower(what.String()), c.timeout)
		}
		fds := []unix.PollFd{{Fd: int32(c.sock.Fd()), Events: unix.POLLIN}}
		n, err := unix.Poll(fds, int(min(left, time.Minute)/time.Millisecond)+1)
		if err != nil && err != unix.EINTR {
			return fmt.Errorf("criu socket: poll: %w", err)
		}
		if n > 0 {
			return nil
		}
	}
}

// kill ends a CRIU that stopped answering, and reaps it.
func (c *Client) kill() {
	c.sock.Close()
	if c.cmd != nil {
		c.cmd.Process.Kill()
		c.cmd.Wait()
		c.cmd = nil
	}
}

// died explains a socket CRIU closed: usually it exited early and said why
// on stderr.
func (c *Client) died(err error) error {
	c.sock.Close()
	if c.cmd == nil {
		return fmt.Errorf("criu swrk was killed: %v", err)
	}
	werr := c.cmd.Wait()
	msg := c.stderr.errors()
	if msg == "" && werr != nil {
		msg = werr.Error()
	}
	if msg == "" && err != nil {
		msg = err.Error()
	}
	c.cmd = nil
	return fmt.Errorf("criu swrk ended early: %s", msg)
}

// Close ends the session and waits for CRIU to exit: at once, as its
// socket is closed; one that lingers past its timeout is killed.
func (c *Client) Close() {
	c.sock.Close()
	if c.cmd == nil {
		return
	}
	done := make(chan struct{})
	go func() {
		c.cmd.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(c.timeout):
		c.cmd.Process.Kill()
		<-done
	}
	c.cmd = nil
}

func failed(resp *rpc.CriuResp) error {
	msg := strings.TrimSpace(resp.GetCrErrmsg())
	if msg == "" {
		msg = "failed"
	}
	if e := resp.GetCrErrno(); e != 0 {
		return fmt.Errorf("criu %s: %s: %w", strings.ToLower(resp.GetType().String()), msg, unix.Errno(e))
	}
	return fmt.Errorf("criu %s: %s", strings.ToLower(resp.GetType().String()), msg)
}

func parseRights(oob []byte) []int {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	var fds []int
	for i := range msgs {
		if f, err := unix.ParseUnixRights(&msgs[i]); err == nil {
			fds = append(fds, f...)
		}
	}
	return fds
}

// CloseFds closes the fds CRIU sent with a notification.
func CloseFds(fds []int) {
	for _, fd := range fds {
		unix.Close(fd)
	}
}

// version asks CRIU for its version: 31701 for 3.17.1.
func version(bin string, timeout time.Duration) (int, error) {
	c, err := start(bin, nil, nil, timeout)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	t := rpc.CriuReqType_VERSION
	resp, err := c.Call(&rpc.CriuReq{Type: &t}, nil)
	if err != nil {
		return 0, err
	}
	v := resp.GetVersion()
	return int(v.GetMajorNumber())*10000 + int(v.GetMinorNumber())*100 + int(v.GetSublevel()), nil
}

// CheckVersion fails unless a CRIU new enough to drive is there and can run.
func (o *Opts) CheckVersion() error { return checkVersion(o.binary(), o.queryTimeout()) }

func checkVersion(bin string, timeout time.Duration) error {
	v, err := version(bin, timeout)
	if err != nil {
		return err
	}
	if v < minVersion {
		return fmt.Errorf("CRIU %s is too old: casco needs %s or newer", versionString(v), versionString(minVersion))
	}
	return nil
}

func versionString(v int) string {
	return fmt.Sprintf("%d.%d.%d", v/10000, v/100%100, v%100)
}

// CheckFeatures asks CRIU whether this kernel has what a lazy-pages
// dump or a pre-dump needs.
func (o *Opts) CheckFeatures(want *rpc.CriuFeatures) error {
	c, err := start(o.binary(), nil, nil, o.queryTimeout())
	if err != nil {
		return err
	}
	defer c.Close()
	t := rpc.CriuReqType_FEATURE_CHECK
	resp, err := c.Call(&rpc.CriuReq{Type: &t, Features: want}, nil)
	if err != nil {
		return fmt.Errorf("CRIU feature check: %w", err)
	}
	got := resp.GetFeatures()
	if want.MemTrack != nil && !got.GetMemTrack() {
		return errors.New("CRIU cannot track memory changes on this kernel (soft-dirty bits): no --pre-dump or --parent-path")
	}
	if want.LazyPages != nil && !got.GetLazyPages() {
		return errors.New("CRIU cannot do --lazy-pages on this kernel (userfaultfd)")
	}
	return nil
}

// Usable tells whether checkpoint and restore can work here: a CRIU new
// enough, whose own check passes on this kernel (`criu check`: a CRIU too
// old for the kernel answers its version but cannot dump anything). It
// runs CRIU twice: `features` asks, no other command pays for it.
func Usable(bin string) error {
	if bin == "" {
		bin = "criu"
	}
	if err := checkVersion(bin, queryTimeout); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), queryTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "check").CombinedOutput()
	if ctx.Err() != nil {
		return fmt.Errorf("criu check: no answer within %v", queryTimeout)
	}
	if err != nil {
		var errs []string
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, "Error") {
				errs = append(errs, strings.TrimSpace(l))
			}
		}
		return fmt.Errorf("criu check: %w: %s", err, quoteErrors(errs))
	}
	return nil
}

// WithLog adds what CRIU's log file says to err: its path, and its last
// error lines.
func (o *Opts) WithLog(err error, file string) error {
	path := filepath.Join(o.logDir(), file)
	if lines := logErrors(path); lines != "" {
		return fmt.Errorf("%w (%s: %s)", err, path, lines)
	}
	return fmt.Errorf("%w (log: %s)", err, path)
}

// logErrors quotes the "Error" lines of a CRIU log on one line.
func logErrors(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var found []string
	s := bufio.NewScanner(io.LimitReader(f, 256<<20))
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	for s.Scan() {
		if line := s.Text(); strings.Contains(line, "Error") {
			found = append(found, strings.TrimSpace(line))
		}
	}
	return quoteErrors(found)
}

// quoteErrors joins the last four error lines: the cause and what failed
// because of it (CRIU logs harmless errors of its probes first).
func quoteErrors(errs []string) string {
	if len(errs) > 4 {
		errs = errs[len(errs)-4:]
	}
	return strings.Join(errs, "; ")
}

// tail keeps the last bytes a reader gives, until it ends.
type tail struct {
	done chan struct{}
	buf  bytes.Buffer
}

func newTail(r *os.File) *tail {
	t := &tail{done: make(chan struct{})}
	go func() {
		defer close(t.done)
		defer r.Close()
		chunk := make([]byte, 4096)
		for {
			n, err := r.Read(chunk)
			t.buf.Write(chunk[:n])
			if t.buf.Len() > 16*1024 {
				t.buf.Next(t.buf.Len() - 16*1024)
			}
			if err != nil {
				return
			}
		}
	}()
	return t
}

// errors returns CRIU's error lines (or its last line) once its stderr is
// closed; a process CRIU left holding the pipe does not make us wait long.
func (t *tail) errors() string {
	select {
	case <-t.done:
	case <-time.After(2 * time.Second):
		return ""
	}
	var errs []string
	lines := strings.Split(strings.TrimSpace(t.buf.String()), "\n")
	for _, l := range lines {
		if strings.Contains(l, "Error") {
			errs = append(errs, strings.TrimSpace(l))
		}
	}
	if len(errs) == 0 {
		return strings.TrimSpace(lines[len(lines)-1])
	}
	return quoteErrors(errs)
}
