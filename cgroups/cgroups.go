// Package cgroups places a container's processes into cgroups and applies
// the OCI runtime-spec resource limits to them.
//
// One Manager interface has three implementations: v1 ("fs", also used on
// hybrid hosts, where it joins the cgroup2 hierarchy mounted at
// /sys/fs/cgroup/unified as well), v2 ("fs2") and systemd. Device access
// is enforced by devices.allow/deny lists on v1 and by an eBPF program on
// v2.
//
// Everything here is on the container start path, so the package never
// parses /proc/self/mountinfo: the mode comes from statfs(2), the
// hierarchies from a readdir of /sys/fs/cgroup, the caller's own cgroup
// from /proc/self/cgroup, and each control file is written once
// (BenchmarkLifecycle: New+Create+Set+Destroy is about 0.6 ms on a v1
// host with ten hierarchies, nearly all of it the kernel's mkdir/rmdir).
//
// How the runtime uses it:
//
//	m, err := cgroups.New(spec.Linux.CgroupsPath, id, cgroups.Options{Systemd: flag})
//	err = m.Create()
//	r := *spec.Linux.Resources // copy, then:
//	r.Devices = cgroups.DeviceRules(spec.Linux.Resources.Devices) // deny all + spec + defaults
//	err = m.Set(&r)
//	fd, err := m.CloneFD()  // >= 0: clone3(CLONE_INTO_CGROUP); -1: m.Add(pid) after fork
//	state.CgroupPaths = m.Paths()
//	...later, from state.json: m, err := cgroups.Load(state.CgroupPaths)
//
// Set leaves device access alone when r.Devices is empty, so the runtime
// must pass DeviceRules(...) to get runc's default allow-list; on failure
// after Create, call Destroy (it copes with half-made cgroups).
package cgroups

import (
	"fmt"
	"os"
	"path"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Options select the cgroup driver.
type Options struct {
	// Systemd asks systemd (over D-Bus) to create a transient scope;
	// cgroupsPath is then "slice:prefix:name".
	Systemd bool
	// Rootless tolerates missing permission to create or join cgroups as
	// long as no resource limit has to be written there (as runc does),
	// unless linux.cgroupsPath names the cgroup (see pathGiven).
	Rootless bool
	// pathGiven: the config set linux.cgroupsPath. A rootless container
	// must then get that cgroup or fail, as runc requires: the field is
	// honored or refused, never skipped.
	pathGiven bool
}

// errPathNotWritable is a rootless create refused on a linux.cgroupsPath
// the config named.
func errPathNotWritable(dir string, err error) error {
	return fmt.Errorf("create cgroup %s: %w (rootless: linux.cgroupsPath names this cgroup, so it must be made; delegate it to the user or leave cgroupsPath empty)", dir, err)
}

// Manager owns the cgroup(s) of one container.
type Manager interface {
	// Create makes the cgroup directories (and, on v2, enables the
	// controllers along the path). Joining an existing empty cgroup is
	// fine; one that already holds processes is refused, as runc does.
	Create() error
	// Set writes every resource in r. nil and zero-valued fields are left
	// as they are. A value the kernel rejects gives one *WriteError naming
	// the file and the value.
	Set(r *specs.LinuxResources) error
	// Add moves pid into the container's cgroup(s).
	Add(pid int) error
	// CloneFD opens the cgroup2 directory (O_PATH|O_DIRECTORY) for
	// clone3(CLONE_INTO_CGROUP): on v2, and for the cgroup2 side of a
	// hybrid host. It returns -1, nil when there is none.
	CloneFD() (int, error)
	// JoinFiles opens the v1 hierarchies' "tasks" files for writing, for
	// the new process to write "0" to them itself, first thing and while
	// single-threaded. A thread moving itself skips the kernel's global
	// threadgroup lock, whose RCU grace period makes a write of another
	// pid to cgroup.procs cost milliseconds per container. It returns nil
	// when there are no v1 hierarchies; on any error the caller uses Add.
	JoinFiles() ([]*os.File, error)
	// Pids lists every process in the cgroup and its descendants.
	Pids() ([]int, error)
	// Freeze and Thaw return once the kernel reports the cgroup
	// frozen/thawed.
	Freeze() error
	Thaw() error
	// State reports whether the cgroup is frozen.
	State() (paused bool, err error)
	// Kill signals every process in the cgroup.
	Kill(sig unix.Signal) error
	// Destroy removes the container's cgroup directories (and any
	// sub-cgroups made inside them). It kills nothing, tolerates
	// directories that were never created, and retries briefly on EBUSY.
	Destroy() error
	// Paths maps controller name to absolute directory; "" is the cgroup2
	// directory. Save it in state.json and hand it to Load later.
	Paths() map[string]string
	// Stats returns runc's `events --stats` data.
	Stats() (*Stats, error)
	// OOMKillCount is the number of processes the OOM killer killed here.
	OOMKillCount() (uint64, error)
}

// New prepares, but does not create, the manager for container id.
//
// cgroupsPath is the spec's linux.cgroupsPath:
//   - absolute ("/a/b"): relative to each hierarchy's root;
//   - relative ("a/b"): relative to the caller's own cgroup in each v1
//     hierarchy (from /proc/self/cgroup), never above it; on v2 relative to
//     the parent of the caller's cgroup, which has processes (us);
//   - empty: "<base>/<id>", base as for a relative path, as runc: delete
//     then leaves nothing behind.
//
// With opts.Systemd it is "slice:prefix:name" and systemd creates the unit.
func New(cgroupsPath, id string, opts Options) (Manager, error) {
	if opts.Systemd {
		return newSystemd(cgroupsPath, id, opts)
	}
	if cgroupsPath == "" {
		if err := validateID(id); err != nil {
			return nil, err
		}
	}
	opts.pathGiven = cgroupsPath != ""
	mode, err := DetectMode()
	if err != nil {
		return nil, err
	}
	var own ownCgroups
	if !path.IsAbs(cgroupsPath) {
		if own, err = readOwnCgroups("self"); err != nil {
			return nil, err
		}
	}
	if mode == Unified {
		// On v2 a cgroup with processes can't also have children using
		// controllers ("no internal processes"): our own cgroup holds at
		// least us, so containers go beside it, under its parent, as runc does.
		inner, err := innerPath(cgroupsPath, id, path.Dir(path.Join("/", own[""])))
		if err != nil {
			return nil, err
		}
		m := newFs2(path.Join(Root, inner), opts)
		if opts.Rootless && !opts.pathGiven {
			return &rootlessV2{m}, nil
		}
		return m, nil
	}
	paths, err := v1Paths(mode, cgroupsPath, id, own)
	if err != nil {
		return nil, err
	}
	return newFs(paths, opts), nil
}

// Load rebuilds a manager from the Paths() of an earlier one.
func Load(paths map[string]string) (Manager, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("load cgroup manager: no cgroup paths")
	}
	cp := make(map[string]string, len(paths))
	for k, p := range paths {
		if !path.IsAbs(p) || path.Clean(p) != p || !strings.HasPrefix(p, Root+"/") {
			return nil, fmt.Errorf("load cgroup manager: path %q for %q is not a clean path under %s", p, k, Root)
		}
		cp[k] = p
	}
	var inner Manager
	if len(cp) == 1 && cp[""] != "" && !strings.HasPrefix(cp[""], unifiedRoot+"/") {
		inner = newFs2(cp[""], Options{})
	} else {
		inner = newFs(cp, Options{})
	}
	return loadSystemd(cp, inner), nil
}

// innerPath resolves the cgroup path inside one hierarchy ("/a/b").
// own is the caller's cgroup in that hierarchy (needed unless cgroupsPath
// is absolute).
func innerPath(cgroupsPath, id, own string) (string, error) {
	var p string
	switch {
	case path.IsAbs(cgroupsPath):
		p = path.Clean(cgroupsPath)
	case cgroupsPath == "":
		p = path.Join("/", own, id)
	default:
		// Clean relative to "/" first, so "../../x" cannot climb above the
		// caller's cgroup (runc's CleanPath does the same).
		p = path.Join("/", own, path.Clean("/"+cgroupsPath))
	}
	if p == "/" {
		return "", fmt.Errorf("cgroupsPath %q: refusing to use the root cgroup for a container", cgroupsPath)
	}
	return p, nil
}

// validateID keeps a container id from steering a default cgroup path.
func validateID(id string) error {
	if id == "" || id == "." || id == ".." || strings.ContainsAny(id, "/\x00") || len(id) > 1024 {
		return fmt.Errorf("invalid container id %q for a cgroup name", id)
	}
	return nil
}
