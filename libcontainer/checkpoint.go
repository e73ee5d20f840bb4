package libcontainer

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/checkpoint-restore/go-criu/v7/rpc"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"

	"github.com/casco-runtime/casco/libcontainer/internal/criu"
)

// descriptorsFile records, in the image, what the init's stdio were (runc's
// name and format): restore hands the new stdio to the pipes among them.
const descriptorsFile = "descriptors.json"

// CriuOpts are the flags checkpoint and restore share, as runc has them.
type CriuOpts = criu.Opts

// DefaultCriuTimeout bounds each of CRIU's answers unless --criu-timeout
// says otherwise.
const DefaultCriuTimeout = criu.DefaultTimeout

// CriuUsable tells whether checkpoint and restore can work here (for
// `features`): a CRIU new enough, whose own check passes on this kernel.
func CriuUsable(bin string) error { return criu.Usable(bin) }

// CheckpointOpts are `checkpoint`'s flags.
type CheckpointOpts struct {
	CriuOpts
	ParentPath   string // an earlier (pre-)dump, relative to ImagePath
	LeaveRunning bool
	PreDump      bool
	PageServer   string // ADDRESS:PORT
	StatusFd     int    // -1 for none: gets \0 once a lazy-pages dump serves pages
}

// Checkpoint dumps the container's processes with CRIU into o.ImagePath.
// Without LeaveRunning (or PreDump) CRIU ends them: the caller then
// deletes the container, as runc does.
func (c *Container) Checkpoint(o *CheckpointOpts) error {
	st := c.Status()
	if st != Running && st != Paused {
		return fmt.Errorf("container %q is %s: only a running or paused container can be checkpointed", c.State.ID, st)
	}
	if o.ImagePath == "" {
		return errors.New("--image-path is required")
	}
	if err := o.checkParentPath(); err != nil {
		return err
	}
	if err := o.CheckVersion(); err != nil {
		return err
	}
	s, err := c.Spec()
	if err != nil {
		return err
	}
	imageDir, err := criu.OpenDir(o.ImagePath)
	if err != nil {
		return fmt.Errorf("--image-path: %w", err)
	}
	defer imageDir.Close()
	req, err := o.Request(imageDir, "dump.log")
	if err != nil {
		return err
	}
	workDir, err := o.OpenWorkDir(req)
	if err != nil {
		return err
	}
	if workDir != nil {
		defer workDir.Close()
	}
	req.Pid = proto.Int32(int32(c.State.Pid))
	req.Root = proto.String(c.State.Rootfs)
	req.LeaveRunning = proto.Bool(o.LeaveRunning || o.PreDump)
	criu.ConfigFile(req, s.Annotations)
	if err := externalNamespaces(req, s); err != nil {
		return err
	}
	if fz := c.freezerPath(); fz != "" {
		req.FreezeCgroup = proto.String(fz) // else CRIU stops the tasks with ptrace
	}
	if err := o.addPageServer(req); err != nil {
		return err
	}
	if o.ParentPath != "" {
		req.ParentImg = proto.String(o.ParentPath)
		req.TrackMem = proto.Bool(true)
	}
	kind := rpc.CriuReqType_DUMP
	if o.PreDump {
		kind = rpc.CriuReqType_PRE_DUMP
		if err := o.CheckFeatures(&rpc.CriuFeatures{MemTrack: proto.Bool(true)}); err != nil {
			return err
		}
	}
	if err := o.checkLazyPages(); err != nil {
		return err
	}
	if !o.PreDump {
		if err := c.describeForRestore(req, s, o.ImagePath); err != nil {
			return err
		}
	}
	err = o.dump(req, kind)
	if err != nil && req.FreezeCgroup != nil && st != Paused {
		// CRIU froze the cgroup; one that failed or was killed on its
		// deadline may not have thawed it
		if m, cerr := c.cgroup(); cerr == nil {
			if terr := m.Thaw(); terr != nil {
				err = fmt.Errorf("%w; and thawing the container after it: %v", err, terr)
			}
		}
	}
	return err
}

// checkParentPath refuses, before CRIU is asked, a --parent-path that is
// not a directory relative to the image path, in runc's words: CRIU would
// only say that it cannot open the parent images.
func (o *CheckpointOpts) checkParentPath() error {
	if o.ParentPath == "" {
		return nil
	}
	if filepath.IsAbs(o.ParentPath) {
		return errors.New("--parent-path must be relative")
	}
	dir := filepath.Join(o.ImagePath, o.ParentPath)
	fi, err := os.Stat(dir)
	if err == nil && !fi.IsDir() {
		err = &os.PathError{Op: "stat", Path: dir, Err: unix.ENOTDIR}
	}
	if err != nil {
		return fmt.Errorf("invalid --parent-path: %w", err)
	}
	return nil
}

// dump runs the request, answering CRIU's notifications.
func (o *CheckpointOpts) dump(req *rpc.CriuOpts, kind rpc.CriuReqType) error {
	cr, err := o.Start(nil, nil)
	if err != nil {
		return err
	}
	defer cr.Close()
	notify := func(script string, _ int32, fds []int) error {
		criu.CloseFds(fds)
		if script == "status-ready" && o.StatusFd >= 0 {
			// the lazy-pages page server is up: tell whoever waits on --status-fd
			unix.Write(o.StatusFd, []byte{0})
			unix.Close(o.StatusFd)
			o.StatusFd = -1
		}
		return nil
	}
	if _, err := cr.Call(&rpc.CriuReq{Type: &kind, Opts: req}, notify); err != nil {
		return o.WithLog(err, "dump.log")
	}
	return nil
}

// describeForRestore adds what a restore needs to know beyond the
// processes: the external mounts, and the init's stdio (descriptors.json).
func (c *Container) describeForRestore(req *rpc.CriuOpts, s *specs.Spec, imagePath string) error {
	ext, err := externalMounts(s, c.State.Bundle, c.State.CgroupPaths)
	if err != nil {
		return err
	}
	masked, err := maskedFiles(c.State.Pid, s.Linux.MaskedPaths)
	if err != nil {
		return fmt.Errorf("masked paths: %w", err)
	}
	dumpMounts(req, ext, masked)
	fds := make([]string, 3)
	for i := range fds {
		// the kernel's name for the file: "pipe:[1234]", "/dev/null", ...
		fds[i], _ = os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", c.State.Pid, i))
	}
	data, err := json.Marshal(fds)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(imagePath, descriptorsFile), data, 0600)
}

// externalNamespaces tells CRIU not to dump a network or pid namespace the
// container joined (linux.namespaces[].path): it belongs to someone else
// and must be there again at restore.
func externalNamespaces(req *rpc.CriuOpts, s *specs.Spec) error {
	for _, t := range []specs.LinuxNamespaceType{specs.NetworkNamespace, specs.PIDNamespace} {
		path := nsPath(s, t)
		if path == "" {
			continue
		}
		var st unix.Stat_t
		if err := unix.Stat(path, &st); err != nil {
			return fmt.Errorf("%s namespace %s: %w", t, path, err)
		}
		req.External = append(req.External, fmt.Sprintf("%s[%d]:%s", nsProcName[t], st.Ino, externalNsKey(t)))
	}
	return nil
}

// externalNsKey is the key a joined namespace is saved under, runc's.
func externalNsKey(t specs.LinuxNamespaceType) string {
	if t == specs.NetworkNamespace {
		return "extRootNetNS"
	}
	return "extRootPidNS"
}

// freezerPath is the cgroup CRIU freezes the container with: v1's freezer
// hierarchy, or the cgroup v2 directory.
func (c *Container) freezerPath() string {
	if p, ok := c.State.CgroupPaths["freezer"]; ok {
		return p
	}
	if p, ok := c.State.CgroupPaths[""]; ok && len(c.State.CgroupPaths) == 1 {
		return p
	}
	return ""
}

func (o *CheckpointOpts) addPageServer(req *rpc.CriuOpts) error {
	if o.PageServer == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(o.PageServer)
	if err != nil {
		return fmt.Errorf("--page-server %q: ADDRESS:PORT: %w", o.PageServer, err)
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 {
		return fmt.Errorf("--page-server %q: bad port", o.PageServer)
	}
	req.Ps = &rpc.CriuPageServerInfo{Address: proto.String(host), Port: proto.Int32(int32(p))}
	return nil
}

// checkLazyPages checks --lazy-pages and --status-fd before anything is dumped.
func (o *CheckpointOpts) checkLazyPages() error {
	if !o.LazyPages {
		if o.StatusFd >= 0 {
			return errors.New("--status-fd needs --lazy-pages")
		}
		return nil
	}
	if o.StatusFd >= 0 {
		flags, err := unix.FcntlInt(uintptr(o.StatusFd), unix.F_GETFL, 0)
		if err != nil {
			return fmt.Errorf("--status-fd %d: %w", o.StatusFd, err)
		}
		if flags&(unix.O_WRONLY|unix.O_RDWR) == 0 {
			return fmt.Errorf("--status-fd %d: not open for writing", o.StatusFd)
		}
	}
	return o.CheckFeatures(&rpc.CriuFeatures{LazyPages: proto.Bool(true)})
}
