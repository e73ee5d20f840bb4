package cgroups

import (
	"errors"
	"fmt"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// fsManager drives cgroup v1 hierarchies directly through cgroupfs. On a
// hybrid host it also owns a cgroup in the unified (cgroup2) hierarchy,
// keyed "" in paths, so that cgroup2-only controllers and cgroup.kill work.
type fsManager struct {
	paths     map[string]string // controller -> absolute dir; "" = unified
	rootless  bool
	pathGiven bool // linux.cgroupsPath was set (Options.pathGiven)
}

// knownV1 are the v1 hierarchies a container joins (runc's list).
var knownV1 = map[string]bool{
	"cpu": true, "cpuacct": true, "cpuset": true, "memory": true, "devices": true,
	"freezer": true, "blkio": true, "pids": true, "hugetlb": true, "net_cls": true,
	"net_prio": true, "perf_event": true, "rdma": true, "misc": true, "name=systemd": true,
}

func newFs(paths map[string]string, opts Options) *fsManager {
	return &fsManager{paths: paths, rootless: opts.Rootless, pathGiven: opts.pathGiven}
}

// v1Hierarchies maps each mounted v1 controller to its mount directory,
// from one readdir of /sys/fs/cgroup plus a statfs per mount to make sure
// it really is cgroupfs. Symlinks ("cpu" -> "cpu,cpuacct") are skipped:
// the real directory's name lists every controller mounted there.
func v1Hierarchies() (map[string]string, error) {
	ents, err := os.ReadDir(Root)
	if err != nil {
		return nil, fmt.Errorf("list cgroup v1 hierarchies: %w", err)
	}
	out := map[string]string{}
	for _, e := range ents {
		if !e.IsDir() || e.Name() == "unified" {
			continue
		}
		dir := Root + "/" + e.Name()
		var st unix.Statfs_t
		if unix.Statfs(dir, &st) != nil || st.Type != unix.CGROUP_SUPER_MAGIC {
			continue
		}
		for _, c := range strings.Split(e.Name(), ",") {
			if c == "systemd" {
				c = "name=systemd"
			}
			if knownV1[c] {
				out[c] = dir
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no cgroup v1 hierarchy mounted under %s", Root)
	}
	return out, nil
}

// v1Paths resolves the container's directory in every v1 hierarchy (and
// in the unified one on a hybrid host).
func v1Paths(mode Mode, cgroupsPath, id string, own ownCgroups) (map[string]string, error) {
	hier, err := v1Hierarchies()
	if err != nil {
		return nil, err
	}
	paths := make(map[string]string, len(hier)+1)
	for ctrl, mnt := range hier {
		ownPath, ok := own[ctrl]
		if !ok && !path.IsAbs(cgroupsPath) {
			// Mounted but not in /proc/self/cgroup: a stale hierarchy; skip.
			continue
		}
		inner, err := innerPath(cgroupsPath, id, ownPath)
		if err != nil {
			return nil, err
		}
		paths[ctrl] = mnt + inner
	}
	if mode == Hybrid {
		// the cgroup2 side follows v2's rule: beside our own cgroup, not in it
		inner, err := innerPath(cgroupsPath, id, path.Dir(path.Join("/", own[""])))
		if err != nil {
			return nil, err
		}
		paths[""] = unifiedRoot + inner
	}
	return paths, nil
}

func (m *fsManager) Paths() map[string]string {
	out := make(map[string]string, len(m.paths))
	for k, v := range m.paths {
		out[k] = v
	}
	return out
}

// dirs returns each distinct directory once (co-mounted controllers share
// one), in a stable order.
func (m *fsManager) dirs() []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range m.paths {
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	sort.Strings(out)
	return out
}

func (m *fsManager) unified() string { return m.paths[""] }

func (m *fsManager) Create() error { return m.create(true) }

// mkdirs makes any missing directory without the busy check: for the
// systemd driver, whose unit already holds the process.
func (m *fsManager) mkdirs() error { return m.create(false) }

func (m *fsManager) create(checkBusy bool) error {
	keys := make([]string, 0, len(m.paths))
	for k := range m.paths {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	done := map[string]bool{}
	for _, ctrl := range keys {
		dir := m.paths[ctrl]
		if done[dir] {
			continue
		}
		done[dir] = true
		var existed bool
		var err error
		switch ctrl {
		case "":
			existed, err = createV2(unifiedRoot, dir)
		case "cpuset":
			if existed, err = mkdirCgroup(dir, nil); err == nil {
				err = fillCpuset(dir)
			}
		default:
			existed, err = mkdirCgroup(dir, nil)
		}
		if err != nil {
			if m.rootless && isPermission(err) {
				if m.pathGiven {
					return errPathNotWritable(dir, err)
				}
				delete(m.paths, ctrl)
				continue
			}
			return fmt.Errorf("create cgroup %s: %w", dir, err)
		}
		if existed && checkBusy {
			if err := refuseBusy(dir); err != nil {
				return err
			}
		}
	}
	return nil
}

// mkdirCgroup creates dir and any missing parents, calling init on each
// directory it made (parents first). It reports whether dir existed.
func mkdirCgroup(dir string, init func(dir string) error) (existed bool, err error) {
	err = unix.Mkdir(dir, 0o755)
	switch {
	case err == nil:
	case errors.Is(err, unix.EEXIST):
		return true, nil
	case errors.Is(err, unix.ENOENT):
		if _, err := mkdirCgroup(path.Dir(dir), init); err != nil {
			return false, err
		}
		if err := unix.Mkdir(dir, 0o755); err != nil {
			if errors.Is(err, unix.EEXIST) {
				return true, nil // lost a race with a sibling container
			}
			return false, fmt.Errorf("mkdir %s: %w", dir, err)
		}
	default:
		return false, fmt.Errorf("mkdir %s: %w", dir, err)
	}
	if init != nil {
		if err := init(dir); err != nil {
			return false, err
		}
	}
	return false, nil
}

// refuseBusy stops two containers from sharing one cgroup: an existing
// directory may be joined only while no process is in it (runc's rule).
func refuseBusy(dir string) error {
	pids, err := pidsRecursive(dir)
	if err != nil {
		return err
	}
	if len(pids) > 0 {
		return fmt.Errorf("container's cgroup is not empty: %d process(es) found in %s", len(pids), dir)
	}
	return nil
}

func isPermission(err error) bool {
	return errors.Is(err, unix.EACCES) || errors.Is(err, unix.EPERM) || errors.Is(err, unix.EROFS)
}

func (m *fsManager) Add(pid int) error {
	s := strconv.Itoa(pid)
	for _, dir := range m.dirs() {
		if err := writeFile(dir, "cgroup.procs", s); err != nil {
			if m.rootless && isPermission(err) {
				continue
			}
			return fmt.Errorf("add pid %d to cgroup %s: %w", pid, dir, err)
		}
	}
	return nil
}

// CloneFD opens the cgroup2 side of a hybrid host for CLONE_INTO_CGROUP;
// the v1 hierarchies are joined through JoinFiles.
func (m *fsManager) CloneFD() (int, error) {
	dir := m.unified()
	if dir == "" {
		return -1, nil
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("open cgroup %s: %w", dir, err)
	}
	return fd, nil
}

// JoinFiles opens the tasks file of every v1 hierarchy, once per directory.
func (m *fsManager) JoinFiles() ([]*os.File, error) {
	var files []*os.File
	done := map[string]bool{}
	for ctrl, dir := range m.paths {
		if ctrl == "" || done[dir] {
			continue
		}
		done[dir] = true
		// not os.OpenFile: it would register the (pollable) kernfs file
		// with Go's netpoller, only to take it out again when passed on
		fd, err := openRetry(dir+"/tasks", unix.O_WRONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW)
		if err != nil {
			for _, f := range files {
				f.Close()
			}
			return nil, fmt.Errorf("open %s/tasks: %w", dir, err)
		}
		files = append(files, os.NewFile(uintptr(fd), dir+"/tasks"))
	}
	return files, nil
}

// pidsDir picks the hierarchy to list processes from: any v1 hierarchy
// sees every process of the container; prefer the ones always mounted.
func (m *fsManager) pidsDir() (string, error) {
	for _, c := range []string{"freezer", "pids", "memory", "devices", "cpu", "name=systemd", ""} {
		if d, ok := m.paths[c]; ok {
			return d, nil
		}
	}
	for _, d := range m.paths {
		return d, nil
	}
	return "", fmt.Errorf("no cgroup paths")
}

func (m *fsManager) Pids() ([]int, error) {
	dir, err := m.pidsDir()
	if err != nil {
		return nil, err
	}
	return pidsRecursive(dir)
}

func (m *fsManager) Set(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	steps := []struct {
		ctrl string
		set  func(dir string, r *specs.LinuxResources) error
		need func(r *specs.LinuxResources) bool
	}{
		{"cpuset", setCpusetV1, needCpuset},
		{"devices", setDevicesV1, needDevices},
		{"memory", setMemoryV1, needMemory},
		{"cpu", setCPUV1, needCPU},
		{"pids", setPidsV1, needPids},
		{"blkio", setBlkioV1, needBlkio},
		{"net_cls", setNetClsV1, needNetCls},
		{"net_prio", setNetPrioV1, needNetPrio},
		{"rdma", setRdmaV1, needRdma},
	}
	for _, s := range steps {
		if !s.need(r) {
			continue
		}
		dir, ok := m.paths[s.ctrl]
		if !ok && m.rootless && s.ctrl == "devices" {
			continue // see rootlessDevices
		}
		if !ok && m.rootless {
			return rootlessLimitError(s.ctrl)
		}
		if !ok {
			return fmt.Errorf("cgroup controller %q is not available, cannot apply its resource limits", s.ctrl)
		}
		if err := s.set(dir, r); err != nil {
			if m.rootless && s.ctrl == "devices" && isPermission(err) {
				continue
			}
			return err
		}
	}
	if err := m.setHugetlb(r); err != nil {
		return err
	}
	return m.setUnified(r)
}

// setHugetlb writes to the v1 hugetlb hierarchy, or, on hybrid hosts where
// the kernel bound hugetlb to the unified hierarchy, to the cgroup2 files.
func (m *fsManager) setHugetlb(r *specs.LinuxResources) error {
	if len(r.HugepageLimits) == 0 {
		return nil
	}
	if dir, ok := m.paths["hugetlb"]; ok {
		return setHugetlbV1(dir, r)
	}
	if u := m.unified(); u != "" {
		return setHugetlbV2(u, r)
	}
	if m.rootless {
		return rootlessLimitError("hugetlb")
	}
	return fmt.Errorf("cgroup controller \"hugetlb\" is not available, cannot apply hugepageLimits")
}

// setUnified: linux.resources.unified is a cgroup2 interface; on a hybrid
// host it goes to the unified hierarchy (the spec: each key is a file there;
// runc refuses it on hybrid hosts too), on pure v1 it cannot be honoured.
func (m *fsManager) setUnified(r *specs.LinuxResources) error {
	if len(r.Unified) == 0 {
		return nil
	}
	u := m.unified()
	if u == "" && m.rootless {
		return rootlessLimitError("unified")
	}
	if u == "" {
		// runc's words (its ErrV1NoUnified), which engines and scripts know
		return errors.New("invalid configuration: cannot use unified on cgroup v1")
	}
	if err := setUnifiedV2(u, r.Unified); err != nil {
		// where the hybrid's cgroup2 half cannot take it either, runc's
		// words lead: runc refuses unified on every v1 host
		return fmt.Errorf("invalid configuration: cannot use unified on cgroup v1: %w", err)
	}
	return nil
}

func (m *fsManager) Destroy() error {
	var errs []error
	deadline := time.Now().Add(removeWait) // one wait for every hierarchy: the same reaping frees them all
	for _, dir := range m.dirs() {
		if err := removeCgroup(dir, deadline); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
