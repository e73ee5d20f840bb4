package libcontainer

import (
	"bytes"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// maxConfigSize bounds config.json. The largest configs engines write are
// a few hundred KiB (Kubernetes caps a pod's annotations at 256 KiB, a
// full seccomp profile is ~30 KiB): 32 MiB is a hundred times that, and
// still decodes in about a second with a few hundred MiB of memory, where
// an unbounded file could take the host's memory.
const maxConfigSize = 32 << 20

// countLimits bound the lists whose length turns into work in the init or
// the kernel, far above what any engine writes: each item costs a syscall
// or more while the container starts.
var countLimits = []struct {
	field string
	max   int
	count func(*specs.Spec) int
}{
	{"mounts", 4096, func(s *specs.Spec) int { return len(s.Mounts) }},
	{"linux.devices", 4096, func(s *specs.Spec) int { return len(s.Linux.Devices) }},
	{"linux.resources.devices", 4096, func(s *specs.Spec) int {
		if s.Linux.Resources == nil {
			return 0
		}
		return len(s.Linux.Resources.Devices)
	}},
	{"linux.seccomp.syscalls", 4096, func(s *specs.Spec) int {
		if s.Linux.Seccomp == nil {
			return 0
		}
		return len(s.Linux.Seccomp.Syscalls)
	}},
	{"linux.sysctl", 4096, func(s *specs.Spec) int { return len(s.Linux.Sysctl) }},
	{"linux.maskedPaths", 4096, func(s *specs.Spec) int { return len(s.Linux.MaskedPaths) }},
	{"linux.readonlyPaths", 4096, func(s *specs.Spec) int { return len(s.Linux.ReadonlyPaths) }},
	{"hooks", 1024, func(s *specs.Spec) int {
		if s.Hooks == nil {
			return 0
		}
		h := s.Hooks
		return len(h.Prestart) + len(h.CreateRuntime) + len(h.CreateContainer) + len(h.StartContainer) + len(h.Poststart) + len(h.Poststop)
	}},
}

// validateInput refuses what no sane config holds: oversized lists, paths
// the runtime-spec wants absolute, cgroup paths that climb out, id maps
// the kernel would refuse with a bare EINVAL.
func validateInput(s *specs.Spec) error {
	for _, l := range countLimits {
		if n := l.count(s); n > l.max {
			return fmt.Errorf("%s has %d entries, more than the limit of %d", l.field, n, l.max)
		}
	}
	if err := validateHooks(s.Hooks); err != nil {
		return err
	}
	if s.Process != nil {
		if err := checkCwd(s.Process.Cwd); err != nil {
			return err
		}
	}
	if s.Linux != nil {
		if err := validateIDMaps("linux.uidMappings", s.Linux.UIDMappings); err != nil {
			return err
		}
		if err := validateIDMaps("linux.gidMappings", s.Linux.GIDMappings); err != nil {
			return err
		}
	}
	if s.Linux != nil && hasDotDot(s.Linux.CgroupsPath) {
		return fmt.Errorf("linux.cgroupsPath %q must not contain \"..\"", s.Linux.CgroupsPath)
	}
	return nil
}

// checkNUL refuses a config with a NUL byte in any string: a NUL ends a
// string in C, so "/dev/x\x00/../../etc/y" would be checked in Go as one
// path and made by the init as another. JSON can only carry a NUL as the
// escape \u0000, so the raw config is scanned first (microseconds) and the
// decoded config walked (to name the field) only when one is there.
func checkNUL(raw []byte, s *specs.Spec) error {
	if !bytes.Contains(raw, []byte(`\u0000`)) {
		return nil
	}
	if field := findNUL(reflect.ValueOf(s), ""); field != "" {
		return fmt.Errorf("%s contains a NUL byte", field)
	}
	return nil
}

// findNUL walks a config value and returns the name of the first string
// holding a NUL byte, in the config's own terms ("linux.devices[0].path").
// The name is built only on a hit: the walk is on every create's path.
func findNUL(v reflect.Value, name string) string {
	path, ok := nulPath(v)
	if !ok {
		return ""
	}
	out := name
	for i := len(path) - 1; i >= 0; i-- {
		if out != "" && path[i][0] != '[' {
			out += "."
		}
		out += path[i]
	}
	return out
}

// nulPath reports whether v holds a NUL byte, and where: the path's
// elements innermost first (field names, "[3]", "[\"key\"]").
func nulPath(v reflect.Value) ([]string, bool) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil, false
		}
		return nulPath(v.Elem())
	case reflect.String:
		return nil, strings.IndexByte(v.String(), 0) >= 0
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil, false // raw bytes, not a string
		}
		for i := 0; i < v.Len(); i++ {
			if p, ok := nulPath(v.Index(i)); ok {
				return append(p, "["+strconv.Itoa(i)+"]"), true
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			key := "[" + strconv.Quote(it.Key().String()) + "]"
			if _, ok := nulPath(it.Key()); ok {
				return []string{key + " (the key)"}, true
			}
			if p, ok := nulPath(it.Value()); ok {
				return append(p, key), true
			}
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if p, ok := nulPath(v.Field(i)); ok {
				return append(p, jsonName(v.Type().Field(i))), true
			}
		}
	}
	return nil, false
}

// jsonName is a struct field's name in config.json.
func jsonName(sf reflect.StructField) string {
	if tag, _, _ := strings.Cut(sf.Tag.Get("json"), ","); tag != "" && tag != "-" {
		return tag
	}
	return sf.Name
}

// validateHooks wants every hook path absolute, as the runtime-spec does:
// a bare name would be looked up in casco's own $PATH and a relative path
// would run a file relative to casco's working directory.
func validateHooks(h *specs.Hooks) error {
	if h == nil {
		return nil
	}
	for _, kind := range []struct {
		name  string
		hooks []specs.Hook
	}{
		{"prestart", h.Prestart}, {"createRuntime", h.CreateRuntime}, {"createContainer", h.CreateContainer},
		{"startContainer", h.StartContainer}, {"poststart", h.Poststart}, {"poststop", h.Poststop},
	} {
		for i, hook := range kind.hooks {
			if !strings.HasPrefix(hook.Path, "/") {
				return fmt.Errorf("hooks.%s[%d].path %q is not an absolute path", kind.name, i, hook.Path)
			}
		}
	}
	return nil
}

// hasDotDot reports whether a cgroups path (a path, or systemd's
// "slice:prefix:name") has a ".." element that could climb out of where
// the container's cgroup belongs.
func hasDotDot(p string) bool {
	for _, part := range strings.FieldsFunc(p, func(r rune) bool { return r == '/' || r == ':' }) {
		if part == ".." {
			return true
		}
	}
	return false
}

// checkCwd refuses a working directory reached through another process's
// fds or root in /proc (/proc/self/fd/N, /proc/1/cwd...): such a path can
// lead to a directory of the host (CVE-2024-21626). The init also checks
// where it landed; this says so before anything is started.
func checkCwd(cwd string) error {
	parts := strings.Split(filepath.Clean(cwd), "/")
	if len(parts) < 4 || parts[1] != "proc" {
		return nil
	}
	if _, err := strconv.Atoi(parts[2]); err != nil && parts[2] != "self" && parts[2] != "thread-self" {
		return nil
	}
	switch parts[3] {
	case "fd", "cwd", "root", "exe", "map_files", "task":
		return fmt.Errorf("process.cwd %q goes through /proc/%s/%s: refused, it can lead out of the container", cwd, parts[2], parts[3])
	}
	return nil
}

// checkPreserveFds refuses a negative --preserve-fds.
func checkPreserveFds(n int) error {
	if n < 0 {
		return fmt.Errorf("--preserve-fds %d must not be negative", n)
	}
	return nil
}

// validateIDMaps checks what the kernel would refuse in uid_map/gid_map
// with a bare EINVAL: empty or overflowing ranges, overlaps, too many lines.
func validateIDMaps(field string, maps []specs.LinuxIDMapping) error {
	const maxLines = 340 // the kernel's limit since 4.15
	if len(maps) > maxLines {
		return fmt.Errorf("%s has %d entries, more than the kernel's limit of %d", field, len(maps), maxLines)
	}
	for i, m := range maps {
		if m.Size == 0 {
			return fmt.Errorf("%s[%d]: size is 0", field, i)
		}
		if uint64(m.ContainerID)+uint64(m.Size) > 1<<32 || uint64(m.HostID)+uint64(m.Size) > 1<<32 {
			return fmt.Errorf("%s[%d]: range %d+%d (host %d) goes past the last id", field, i, m.ContainerID, m.Size, m.HostID)
		}
		for j := 0; j < i; j++ {
			o := maps[j]
			if overlap(m.ContainerID, m.Size, o.ContainerID, o.Size) {
				return fmt.Errorf("%s[%d]: container ids overlap with entry %d", field, i, j)
			}
			if overlap(m.HostID, m.Size, o.HostID, o.Size) {
				return fmt.Errorf("%s[%d]: host ids overlap with entry %d", field, i, j)
			}
		}
	}
	return nil
}

func overlap(a, an, b, bn uint32) bool {
	return uint64(a) < uint64(b)+uint64(bn) && uint64(b) < uint64(a)+uint64(an)
}
