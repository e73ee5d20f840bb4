package cgroups

import (
	"fmt"
	"strconv"
	"strings"
)

// Verify checks cgroup paths read from a container's state against what
// the kernel says before anything is signalled through them: state.json
// is only a file, and a forged one must not point a kill at the host.
//
// Every path must be below the root of its hierarchy and must not hold
// the calling process (a cgroup of the host, or of the engine). When the
// container's init is alive (pid > 0, already verified by its start time),
// it must be in that cgroup or below it, as the kernel lists it in
// /proc/<pid>/cgroup.
func Verify(pid int, paths map[string]string) error {
	self, err := readOwnCgroups("self")
	if err != nil {
		return err
	}
	var init ownCgroups
	if pid > 0 {
		if init, err = readOwnCgroups(strconv.Itoa(pid)); err != nil {
			return err
		}
	}
	for key, p := range paths {
		rel := relToHierarchy(key, p)
		if rel == "" || rel == "/" {
			return fmt.Errorf("cgroup path %s is the root of its hierarchy: refusing to signal through it", p)
		}
		if own, ok := self[key]; ok && within(own, rel) {
			return fmt.Errorf("cgroup path %s holds casco itself, not a container: refusing to signal through it", p)
		}
		if init == nil {
			continue
		}
		if got, ok := init[key]; !ok || !within(got, rel) {
			return fmt.Errorf("cgroup path %s does not hold the container's init %d (the kernel says %q): refusing to signal through it", p, pid, got)
		}
	}
	return nil
}

// relToHierarchy turns a cgroup directory into its path inside the
// hierarchy, as /proc/<pid>/cgroup writes it.
func relToHierarchy(key, p string) string {
	switch {
	case strings.HasPrefix(p, unifiedRoot+"/") || p == unifiedRoot:
		return strings.TrimPrefix(p, unifiedRoot)
	case key == "":
		return strings.TrimPrefix(p, Root)
	}
	rest := strings.TrimPrefix(p, Root+"/")
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[i:]
	}
	return "/"
}

// within reports whether cgroup path p is dir or below it.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}
