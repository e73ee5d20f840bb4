// Package intelrdt puts a container into Intel RDT (linux.intelRdt)
// through the resctrl filesystem: the container's processes join a
// resctrl group (its own, named after the container, or the existing one
// closID names), whose schemata limit cache and memory bandwidth;
// enableMonitoring adds a monitoring group below it.
package intelrdt

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	"golang.org/x/sys/unix"
)

// hostRoot is where the host's resctrl filesystem is mounted.
const hostRoot = "/sys/fs/resctrl"

const rdtgroupSuperMagic = 0x7655821

// Mounted says whether the host's resctrl filesystem is mounted.
func Mounted() bool { return mounted(hostRoot) }

// Validate refuses what the host's resctrl cannot do, naming the field,
// before anything is made.
func Validate(r *specs.LinuxIntelRdt) error { return resctrl{hostRoot}.validate(r, Mounted()) }

// Apply puts pid into the container's resctrl group on the host.
func Apply(r *specs.LinuxIntelRdt, id string, pid int) error {
	return resctrl{hostRoot}.apply(r, id, pid)
}

// Remove takes away the groups Apply made for container id.
func Remove(r *specs.LinuxIntelRdt, id string) error { return resctrl{hostRoot}.remove(r, id) }

// Feature is what `features` reports: resctrl support once its
// filesystem is mounted.
func Feature() *features.IntelRdt {
	no, yes := false, true
	if !Mounted() {
		return &features.IntelRdt{Enabled: &no}
	}
	_, err := os.Stat(hostRoot + "/info/L3_MON")
	mon := err == nil
	return &features.IntelRdt{Enabled: &yes, Schemata: &yes, Monitoring: &mon}
}

// resctrl is a resctrl mount (a directory in unit tests).
type resctrl struct{ root string }

// mounted says whether root is a mounted resctrl filesystem.
func mounted(root string) bool {
	var st unix.Statfs_t
	return unix.Statfs(root, &st) == nil && st.Type == rdtgroupSuperMagic
}

// validate refuses what resctrl at rc cannot do (mounted: whether it is
// mounted), naming the field.
func (rc resctrl) validate(r *specs.LinuxIntelRdt, mounted bool) error {
	if r == nil {
		return nil
	}
	if !mounted {
		return fmt.Errorf("linux.intelRdt: Intel RDT is not available on this host (%s is not a mounted resctrl filesystem)", rc.root)
	}
	if r.ClosID != "" && (strings.ContainsAny(r.ClosID, "/\n") || r.ClosID == "." || r.ClosID == ".." || r.ClosID == "info" || r.ClosID == "mon_groups" || r.ClosID == "mon_data") {
		return fmt.Errorf("linux.intelRdt.closID %q: not a valid resctrl group name", r.ClosID)
	}
	need := map[string]string{}
	if r.L3CacheSchema != "" {
		need["linux.intelRdt.l3CacheSchema"] = "info/L3"
	}
	if r.MemBwSchema != "" {
		need["linux.intelRdt.memBwSchema"] = "info/MB"
	}
	if r.EnableMonitoring {
		need["linux.intelRdt.enableMonitoring"] = "info/L3_MON"
	}
	for field, dir := range need {
		if _, err := os.Stat(filepath.Join(rc.root, dir)); err != nil {
			return fmt.Errorf("%s: this host's resctrl has no %s", field, dir)
		}
	}
	return nil
}

// groupDir is the container's resctrl group, and whether casco owns it.
func (rc resctrl) groupDir(r *specs.LinuxIntelRdt, id string) (string, bool) {
	if r.ClosID != "" {
		return filepath.Join(rc.root, r.ClosID), false
	}
	return filepath.Join(rc.root, id), true
}

// rdtSchemata is every line to write to the group's schemata file.
func rdtSchemata(r *specs.LinuxIntelRdt) []string {
	var lines []string
	for _, l := range append([]string{r.L3CacheSchema, r.MemBwSchema}, r.Schemata...) {
		for _, x := range strings.Split(l, "\n") {
			if x = strings.TrimSpace(x); x != "" {
				lines = append(lines, x)
			}
		}
	}
	return lines
}

// apply puts pid into the container's resctrl group (made if it is the
// container's own) and, with monitoring, into a monitoring group.
func (rc resctrl) apply(r *specs.LinuxIntelRdt, id string, pid int) error {
	dir, own := rc.groupDir(r, id)
	if own {
		if err := os.Mkdir(dir, 0755); err != nil {
			return fmt.Errorf("linux.intelRdt: create resctrl group %s: %w", dir, err)
		}
	} else if err := os.Mkdir(dir, 0755); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("linux.intelRdt.closID: create resctrl group %s: %w", dir, err)
	}
	// one write: resctrl takes several lines at once and checks them together
	if lines := rdtSchemata(r); len(lines) > 0 {
		if err := writeExisting(filepath.Join(dir, "schemata"), strings.Join(lines, "\n")+"\n"); err != nil {
			return fmt.Errorf("linux.intelRdt: schemata %q: %w", lines, err)
		}
	}
	if err := writeExisting(filepath.Join(dir, "tasks"), strconv.Itoa(pid)); err != nil {
		return fmt.Errorf("linux.intelRdt: join resctrl group %s: %w", dir, err)
	}
	if r.EnableMonitoring {
		mon := filepath.Join(dir, "mon_groups", id)
		if err := os.Mkdir(mon, 0755); err != nil {
			return fmt.Errorf("linux.intelRdt.enableMonitoring: create %s: %w", mon, err)
		}
		if err := writeExisting(filepath.Join(mon, "tasks"), strconv.Itoa(pid)); err != nil {
			return fmt.Errorf("linux.intelRdt.enableMonitoring: join %s: %w", mon, err)
		}
	}
	return nil
}

// remove takes away what apply made: the monitoring group, and the group
// itself when it was the container's own (a closID group is shared).
func (rc resctrl) remove(r *specs.LinuxIntelRdt, id string) error {
	dir, own := rc.groupDir(r, id)
	var first error
	if r.EnableMonitoring {
		if err := os.Remove(filepath.Join(dir, "mon_groups", id)); err != nil && !errors.Is(err, os.ErrNotExist) {
			first = err
		}
	}
	if own {
		if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) && first == nil {
			first = err
		}
	}
	return first
}

// writeExisting writes to a file that must exist (a resctrl control file).
func writeExisting(path, data string) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// CheckUpdate refuses `update --l3-cache-schema/--mem-bw-schema` where
// resctrl is not mounted, before anything changes.
func CheckUpdate(l3, mb string) error {
	if l3 == "" && mb == "" {
		return nil
	}
	if !Mounted() {
		flag := "--l3-cache-schema"
		if l3 == "" {
			flag = "--mem-bw-schema"
		}
		return fmt.Errorf("update: %s: Intel RDT is not enabled on this host (%s is not a mounted resctrl filesystem)", flag, hostRoot)
	}
	return nil
}

// Update writes new schemata to container id's resctrl group.
func Update(r *specs.LinuxIntelRdt, id, l3, mb string) error {
	dir, _ := (resctrl{hostRoot}).groupDir(r, id)
	lines := rdtSchemata(&specs.LinuxIntelRdt{L3CacheSchema: l3, MemBwSchema: mb})
	if err := writeExisting(filepath.Join(dir, "schemata"), strings.Join(lines, "\n")+"\n"); err != nil {
		return fmt.Errorf("update: intelRdt schemata %q: %w", lines, err)
	}
	return nil
}
