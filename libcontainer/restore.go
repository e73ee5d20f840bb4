package libcontainer

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/checkpoint-restore/go-criu/v7/rpc"
	pathrs "github.com/cyphar/filepath-securejoin/pathrs-lite"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"

	"github.com/casco-runtime/casco/cgroups"
	"github.com/casco-runtime/casco/libcontainer/internal/criu"
)

// RestoreOpts are `restore`'s flags.
type RestoreOpts struct {
	CriuOpts
	Root            string
	ID              string
	Bundle          string
	PidFile         string
	ConsoleSocket   string   // gets the new pty master, when the image has a terminal
	Console         *os.File // an already connected console socket (foreground restore)
	Systemd         bool
	Rootless        bool
	LsmProfile      string
	LsmMountContext string
	Stdin           *os.File
	Stdout          *os.File
	Stderr          *os.File
}

// Restore makes container o.ID from the bundle's config and a CRIU image:
// state directory and cgroups as create makes them, the processes from
// the image, restored as our children. On failure everything made is
// removed again.
func Restore(o *RestoreOpts) (c *Container, _ *Init, err error) {
	if err := ValidateID(o.ID); err != nil {
		return nil, nil, err
	}
	if o.ImagePath == "" {
		return nil, nil, errors.New("--image-path is required")
	}
	b, err := LoadBundle(o.Bundle)
	if err != nil {
		return nil, nil, err
	}
	s := b.Spec
	if _, err := planNamespaces(s); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", filepath.Join(b.Path, "config.json"), err)
	}
	if err := o.CheckVersion(); err != nil {
		return nil, nil, err
	}
	imageDir, err := os.OpenFile(o.ImagePath, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("--image-path: %w", err)
	}
	defer imageDir.Close()

	d, err := makeStateDir(o.Root, o.ID)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			d.remove()
		}
	}()
	c = d.container(newState(o.ID, b, o.Systemd, o.Rootless))
	mgr, pidsLater, err := d.makeCgroup(c.State, s)
	if err != nil {
		return nil, nil, err
	}
	d.onFailure(func() { mgr.Kill(unix.SIGKILL) }) // a half-restored tree, before its cgroup goes
	if err := c.setSpec(s); err != nil {
		return nil, nil, err
	}
	pid, err := c.restoreProcesses(o, imageDir, mgr)
	if err != nil {
		return nil, nil, err
	}
	if err := setPidsLater(mgr, pidsLater); err != nil {
		return nil, nil, err
	}
	if err := c.recordRestored(pid); err != nil {
		return nil, nil, err
	}
	if err := announce(o.PidFile, "", pid); err != nil {
		return nil, nil, err
	}
	return c, &Init{Pid: pid, child: pid}, nil
}

// restoreProcesses runs CRIU's restore into the container's cgroups and
// returns the restored init's pid.
func (c *Container) restoreProcesses(o *RestoreOpts, imageDir *os.File, mgr cgroups.Manager) (int, error) {
	req, err := o.Request(imageDir, "restore.log")
	if err != nil {
		return 0, err
	}
	workDir, err := o.OpenWorkDir(req)
	if err != nil {
		return 0, err
	}
	if workDir != nil {
		defer workDir.Close()
	}
	c.restoreOptions(req, o)

	root, err := c.bindCriuRoot()
	if err != nil {
		return 0, err
	}
	defer unmountCriuRoot(root)
	req.Root = proto.String(root)
	if err := c.prepareRestoreMounts(req); err != nil {
		return 0, err
	}

	var files criuFiles
	defer files.close()
	if err := joinedNamespaces(req, c.spec, &files); err != nil {
		return 0, err
	}
	if err := inheritStdio(req, o, &files); err != nil {
		return 0, err
	}
	cr, err := startCriuIn(o, files.list, mgr, req)
	if err != nil {
		return 0, err
	}
	defer cr.Close()
	return c.runRestore(o, cr, req)
}

// restoreOptions adds what a restore asks of CRIU beyond a dump's
// options: the restored init as our child, the LSM labels, the config file.
func (c *Container) restoreOptions(req *rpc.CriuOpts, o *RestoreOpts) {
	req.EvasiveDevices = proto.Bool(true)
	req.RstSibling = proto.Bool(true) // the restored init is our child, as a created one is create's
	if o.LsmProfile != "" {
		req.LsmProfile = proto.String(o.LsmProfile)
	}
	if o.LsmMountContext != "" {
		req.LsmMountContext = proto.String(o.LsmMountContext)
	}
	criu.ConfigFile(req, c.spec.Annotations)
}

// prepareRestoreMounts makes the mountpoints CRIU mounts onto and maps
// each external mount of the image to its host path.
func (c *Container) prepareRestoreMounts(req *rpc.CriuOpts) error {
	s := c.spec
	ext, err := externalMounts(s, c.State.Bundle, c.State.CgroupPaths)
	if err != nil {
		return err
	}
	if err := makeMountpoints(c.State.Rootfs, s, ext); err != nil {
		return err
	}
	restoreMounts(req, ext, len(s.Linux.MaskedPaths) > 0)
	return nil
}

// startCriuIn starts CRIU inside the container's cgroups, with the files
// it inherits: CRIU puts the tasks into its own cgroups (rewritten with
// CgRoot), so it must be in the container's first.
func startCriuIn(o *RestoreOpts, files []*os.File, mgr cgroups.Manager, req *rpc.CriuOpts) (*criu.Client, error) {
	var stdin *os.File
	if o.ShellJob {
		stdin = o.Stdin
	}
	cr, err := o.Start(stdin, files)
	if err != nil {
		return nil, err
	}
	if err := mgr.Add(cr.Pid()); err != nil {
		cr.Close()
		return nil, fmt.Errorf("cgroup: move criu: %w", err)
	}
	if err := cgroupRoots(req, cr.Pid()); err != nil {
		cr.Close()
		return nil, err
	}
	return cr, nil
}

// runRestore sends the restore request, answering CRIU's notifications,
// and returns the restored init's pid.
func (c *Container) runRestore(o *RestoreOpts, cr *criu.Client, req *rpc.CriuOpts) (int, error) {
	pid := 0
	notify := func(script string, p int32, fds []int) error {
		defer criu.CloseFds(fds)
		switch script {
		case "setup-namespaces":
			return c.restoreHooks(int(p))
		case "orphan-pts-master":
			if len(fds) == 0 {
				return errors.New("criu sent no pty master")
			}
			return o.sendPtyMaster(fds[0])
		case "post-restore":
			pid = int(p)
		}
		return nil
	}
	t := rpc.CriuReqType_RESTORE
	if _, err := cr.Call(&rpc.CriuReq{Type: &t, Opts: req}, notify); err != nil {
		return 0, o.WithLog(err, "restore.log")
	}
	if pid <= 0 {
		return 0, o.WithLog(errors.New("criu restore: no restored pid"), "restore.log")
	}
	return pid, nil
}

// restoreHooks runs the prestart and createRuntime hooks once CRIU has
// made the namespaces of the restored init pid, as create runs them.
func (c *Container) restoreHooks(pid int) error {
	h := c.hooks()
	if h == nil {
		return nil
	}
	state := c.hookState(Creating)
	state.Pid = pid
	if err := runHooks("prestart", h.Prestart, state); err != nil {
		return err
	}
	return runHooks("createRuntime", h.CreateRuntime, state)
}

// recordRestored writes the state of the running, restored container.
func (c *Container) recordRestored(pid int) error {
	start, _, err := processStart(pid)
	if err != nil {
		return fmt.Errorf("restored init %d: %w", pid, err)
	}
	c.State.Pid, c.State.PidStart = pid, start
	c.State.Created = time.Now().UTC()
	if hasOwnTimeNamespace(pid) && !hasNamespace(c.spec, specs.TimeNamespace) {
		// CRIU restores into a time namespace of its own (monotonic clocks
		// go on from the dump): exec must join it too
		c.spec.Linux.Namespaces = append(c.spec.Linux.Namespaces, specs.LinuxNamespace{Type: specs.TimeNamespace})
		if err := c.setSpec(c.spec); err != nil {
			return err
		}
	}
	return saveState(c.Dir, c.State)
}

func hasOwnTimeNamespace(pid int) bool {
	theirs, err1 := os.Readlink(fmt.Sprintf("/proc/%d/ns/time", pid))
	ours, err2 := os.Readlink("/proc/self/ns/time")
	return err1 == nil && err2 == nil && theirs != ours
}

// bindCriuRoot binds the rootfs onto <state>/criu-root: CRIU wants the
// root to be a mount point whose parent is not overmounted.
func (c *Container) bindCriuRoot() (string, error) {
	root := filepath.Join(c.Dir, "criu-root")
	if err := os.Mkdir(root, 0755); err != nil {
		return "", fmt.Errorf("criu root: %w", err)
	}
	if err := unix.Mount(c.State.Rootfs, root, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
		os.Remove(root)
		return "", fmt.Errorf("bind rootfs on %s: %w", root, err)
	}
	return root, nil
}

func unmountCriuRoot(root string) {
	unix.Unmount(root, unix.MNT_DETACH)
	os.Remove(root)
}

// makeMountpoints makes the destinations of the config's mounts and of the
// external mounts in the rootfs, as create would: CRIU mounts onto them
// but makes none, and a rootfs restored elsewhere (containerd restores
// onto a fresh snapshot of the image) lacks the ones create made. As
// runc's prepareCriuRestoreMounts: a bind's mountpoint is a file or a
// directory as its source is, any other a directory. Every path is
// resolved inside the rootfs; one under a tmpfs of the config is left
// alone (CRIU restores the tmpfs with its contents), and so is any under
// /proc or /sys (the kernel's).
func makeMountpoints(rootfs string, s *specs.Spec, ext []extMount) error {
	var tmpfs []string
	for _, m := range s.Mounts {
		if m.Type == "tmpfs" {
			tmpfs = append(tmpfs, filepath.Clean("/"+m.Destination))
		}
	}
	root, err := os.OpenFile(rootfs, os.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("rootfs: %w", err)
	}
	defer root.Close()
	skip := func(dest string) bool {
		return underAny(dest, tmpfs) || strings.HasPrefix(dest, "/sys/") || strings.HasPrefix(dest, "/proc/")
	}
	bound := make(map[string]bool, len(ext))
	for _, m := range ext {
		bound[m.dest] = true
		if skip(m.dest) {
			continue
		}
		st, err := os.Stat(m.source)
		if err != nil {
			return fmt.Errorf("mount source %s: %w", m.source, err)
		}
		if err := makeMountpoint(root, m.dest, st.IsDir()); err != nil {
			return fmt.Errorf("mountpoint %s: %w", m.dest, err)
		}
	}
	for _, m := range s.Mounts {
		dest := filepath.Clean("/" + m.Destination)
		if bound[dest] || skip(dest) || dest == "/" {
			continue
		}
		if err := makeMountpoint(root, dest, true); err != nil {
			return fmt.Errorf("mountpoint %s: %w", dest, err)
		}
	}
	return nil
}

func makeMountpoint(root *os.File, dest string, dir bool) error {
	if dir {
		d, err := pathrs.MkdirAllHandle(root, dest, 0755)
		if err != nil {
			return err
		}
		return d.Close()
	}
	parent, err := pathrs.MkdirAllHandle(root, filepath.Dir(dest), 0755)
	if err != nil {
		return err
	}
	defer parent.Close()
	fd, err := unix.Openat(int(parent.Fd()), filepath.Base(dest), unix.O_CREAT|unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_NONBLOCK|unix.O_CLOEXEC, 0644)
	if err != nil {
		return err
	}
	return unix.Close(fd)
}

func underAny(path string, dirs []string) bool {
	for _, d := range dirs {
		if strings.HasPrefix(path, d+"/") {
			return true
		}
	}
	return false
}

// joinedNamespaces tells CRIU about the namespaces of the config that have
// a path: a network or pid namespace was dumped as external and is handed
// over as an fd under its key; CRIU joins the others.
func joinedNamespaces(req *rpc.CriuOpts, s *specs.Spec, files *criuFiles) error {
	for _, ns := range s.Linux.Namespaces {
		if ns.Path == "" {
			continue
		}
		switch ns.Type {
		case specs.NetworkNamespace, specs.PIDNamespace:
			f, err := os.Open(ns.Path)
			if err != nil {
				return fmt.Errorf("%s namespace %s: %w", ns.Type, ns.Path, err)
			}
			req.InheritFd = append(req.InheritFd, &rpc.InheritFd{Key: proto.String(externalNsKey(ns.Type)), Fd: proto.Int32(files.add(f, true))})
		case specs.CgroupNamespace:
			return fmt.Errorf("restore into a joined cgroup namespace (%s): CRIU cannot", ns.Path)
		default:
			req.JoinNs = append(req.JoinNs, &rpc.JoinNamespace{Ns: proto.String(nsProcName[ns.Type]), NsFile: proto.String(ns.Path)})
		}
	}
	return nil
}

// inheritStdio gives the restored init our stdio where its stdio were
// pipes at the dump (descriptors.json): an engine restores a container
// with new pipes for its old ones.
func inheritStdio(req *rpc.CriuOpts, o *RestoreOpts, files *criuFiles) error {
	data, err := os.ReadFile(filepath.Join(o.ImagePath, descriptorsFile))
	if err != nil {
		return fmt.Errorf("image %s: %w", o.ImagePath, err)
	}
	var fds []string
	if err := json.Unmarshal(data, &fds); err != nil {
		return fmt.Errorf("image %s: %s: %w", o.ImagePath, descriptorsFile, err)
	}
	stdio := []*os.File{o.Stdin, o.Stdout, o.Stderr}
	for i, name := range fds {
		if i < len(stdio) && stdio[i] != nil && strings.HasPrefix(name, "pipe:") {
			req.InheritFd = append(req.InheritFd, &rpc.InheritFd{Key: proto.String(name), Fd: proto.Int32(files.add(stdio[i], false))})
		}
	}
	return nil
}

// criuFiles are the fds CRIU inherits, from its fd 4 on (3 is the RPC
// socket), and which of them are ours to close.
type criuFiles struct {
	list  []*os.File
	owned []*os.File
}

// add appends f and returns the fd number CRIU will know it by.
func (c *criuFiles) add(f *os.File, own bool) int32 {
	c.list = append(c.list, f)
	if own {
		c.owned = append(c.owned, f)
	}
	return int32(3 + len(c.list))
}

func (c *criuFiles) close() {
	for _, f := range c.owned {
		f.Close()
	}
}

// cgroupRoots tells CRIU to restore the tasks into the cgroups pid (CRIU
// itself, moved into the container's) is in, not into the dumped paths.
func cgroupRoots(req *rpc.CriuOpts, pid int) error {
	f, err := os.Open(fmt.Sprintf("/proc/%d/cgroup", pid))
	if err != nil {
		return err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		// hierarchy-id:controllers:path
		parts := strings.SplitN(s.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		req.CgRoot = append(req.CgRoot, &rpc.CgroupRoot{Ctrl: proto.String(parts[1]), Path: proto.String(parts[2])})
	}
	return s.Err()
}

// sendPtyMaster hands the restored terminal's new master to the console
// socket, as create does with a new container's.
func (o *RestoreOpts) sendPtyMaster(fd int) error {
	conn := o.Console
	if conn == nil {
		if o.ConsoleSocket == "" {
			return errors.New("the image has a terminal: a --console-socket is needed for its new pty master")
		}
		var err error
		if conn, err = dialUnix(o.ConsoleSocket); err != nil {
			return fmt.Errorf("console socket %s: %w", o.ConsoleSocket, err)
		}
		defer conn.Close()
	}
	if err := unix.Sendmsg(int(conn.Fd()), []byte("/dev/ptmx"), unix.UnixRights(fd), nil, 0); err != nil {
		return fmt.Errorf("send pty master: %w", err)
	}
	return nil
}
