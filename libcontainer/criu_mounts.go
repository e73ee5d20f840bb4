package libcontainer

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/checkpoint-restore/go-criu/v7/rpc"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"

	"github.com/casco-runtime/casco/cgroups"
	"github.com/casco-runtime/casco/libcontainer/plan"
)

// CRIU dumps the mounts it can make again itself (proc, tmpfs with their
// contents, devpts, binds inside the container) and must be told about the
// rest: mounts whose source is outside the container. Each external mount
// is saved under a key, its destination, and on restore the key is mapped
// to the host path that is to be mounted there — as runc does.

// extMount is one external mount: its destination in the container and
// the host path mounted there.
type extMount struct{ dest, source string }

// externalMounts lists the config's mounts from outside the container:
// bind mounts, the binds that make up /sys/fs/cgroup (of the container's
// cgroups in cgroupPaths) and, in a user namespace, the device nodes
// bound from the host.
func externalMounts(s *specs.Spec, bundle string, cgroupPaths map[string]string) ([]extMount, error) {
	var out []extMount
	for _, m := range s.Mounts {
		flags, _, _, err := plan.ParseMountOptions(m.Options)
		if err != nil {
			return nil, fmt.Errorf("mount %s: %w", m.Destination, err)
		}
		dest := filepath.Clean("/" + m.Destination)
		switch {
		case m.Type == "cgroup" || m.Type == "cgroup2":
			out = append(out, cgroupBinds(dest, cgroupPaths, hasNamespace(s, specs.CgroupNamespace))...)
		case flags&unix.MS_BIND != 0 || m.Type == "bind":
			src := m.Source
			if !filepath.IsAbs(src) {
				src = filepath.Join(bundle, src)
			}
			out = append(out, extMount{dest, src})
		}
	}
	if hasNamespace(s, specs.UserNamespace) {
		for _, d := range append(append([]specs.LinuxDevice(nil), defaultDevices...), s.Linux.Devices...) {
			out = append(out, extMount{filepath.Clean(d.Path), d.Path})
		}
	}
	return out, nil
}

// cgroupBinds mirrors cgroupMount in plan_rootfs.go: on cgroup v2 one bind
// of the container's cgroup (a real cgroup2 mount with a cgroup namespace,
// which CRIU makes itself), on v1 one bind per hierarchy under a tmpfs.
func cgroupBinds(dest string, paths map[string]string, cgroupns bool) []extMount {
	if unified, ok := paths[""]; ok && len(paths) == 1 {
		if cgroupns {
			return nil
		}
		return []extMount{{dest, unified}}
	}
	var out []extMount
	for ctrl, dir := range paths {
		if ctrl == "" {
			continue
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(dir, cgroups.Root+"/"), "/")
		out = append(out, extMount{filepath.Join(dest, name), dir})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].dest < out[j].dest })
	return out
}

// maskedFiles returns the masked paths that are files: the init binds
// /dev/null over those (and an empty tmpfs over directories, which CRIU
// dumps itself). The kernel's mountinfo of the init says which is which:
// the root of a /dev/null bind is a file, not "/". Nothing under the
// container's rootfs is opened.
func maskedFiles(pid int, masked []string) ([]string, error) {
	if len(masked) == 0 {
		return nil, nil
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	want := map[string]bool{}
	for _, p := range masked {
		want[filepath.Clean("/"+p)] = true
	}
	var out []string
	s := bufio.NewScanner(f)
	s.Buffer(make([]byte, 64*1024), 1024*1024)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) < 5 {
			continue
		}
		root, point := unescapeOctal(fields[3]), unescapeOctal(fields[4])
		if want[point] && root != "/" {
			out = append(out, point)
			delete(want, point)
		}
	}
	sort.Strings(out)
	return out, s.Err()
}

// unescapeOctal undoes mountinfo's \040-style escapes.
func unescapeOctal(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v byte
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &v); err == nil {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// dumpMounts adds the external mounts to a dump request: each under its
// destination as key. Masked files are saved as "/dev/null".
func dumpMounts(req *rpc.CriuOpts, ext []extMount, masked []string) {
	for _, m := range ext {
		req.ExtMnt = append(req.ExtMnt, &rpc.ExtMountMap{Key: proto.String(m.dest), Val: proto.String(m.dest)})
	}
	for _, p := range masked {
		req.ExtMnt = append(req.ExtMnt, &rpc.ExtMountMap{Key: proto.String(p), Val: proto.String("/dev/null")})
	}
}

// restoreMounts maps each key of the image to the host path to mount.
// The host's /dev/null is the real null device, as the masks need.
func restoreMounts(req *rpc.CriuOpts, ext []extMount, anyMasked bool) {
	for _, m := range ext {
		req.ExtMnt = append(req.ExtMnt, &rpc.ExtMountMap{Key: proto.String(m.dest), Val: proto.String(m.source)})
	}
	if anyMasked {
		req.ExtMnt = append(req.ExtMnt, &rpc.ExtMountMap{Key: proto.String("/dev/null"), Val: proto.String("/dev/null")})
	}
}
