package integration

import (
	"os"
	"strconv"
	"syscall"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestIntelRdt: with resctrl, the container's init is in its own resctrl
// group, removed on delete; without it (most VMs), the
// field is refused naming linux.intelRdt, and nothing is left behind, as
// with runc.
func TestIntelRdt(t *testing.T) {
	t.Parallel()
	r := newRuntime(t)
	var st syscall.Statfs_t
	if syscall.Statfs("/sys/fs/resctrl", &st) != nil || st.Type != 0x7655821 {
		b := newBundle(t, "true")
		b.Spec.Linux.IntelRdt = &specs.LinuxIntelRdt{L3CacheSchema: "L3:0=f"}
		id, res := r.runForeground(b)
		// not just "intelrdt": the container id holds the test's name
		if res.Code == 0 || !holdsAll(res.Stderr, cascoWords(t, "linux.intelRdt")...) {
			t.Errorf("no resctrl here: want a refusal naming intelRdt: %s", res)
		}
		if n := len(lines(res.Stderr)); n > 2 {
			t.Errorf("want one error line, got %d: %q", n, res.Stderr)
		}
		noLeftovers(t, r, b, id, "")
		return
	}
	b := newBundle(t, sleeper...)
	b.Spec.Linux.IntelRdt = &specs.LinuxIntelRdt{}
	c, s := r.createStart(b)
	group := "/sys/fs/resctrl/" + c.ID
	if tasks := readFileString(group + "/tasks"); !containsLine(tasks, strconv.Itoa(s.Pid)) {
		t.Errorf("%s/tasks lacks the init %d: %q", group, s.Pid, tasks)
	}
	r.mustRun("delete", "--force", c.ID)
	if _, err := os.Stat(group); !os.IsNotExist(err) {
		t.Errorf("resctrl group %s left after delete: %v", group, err)
	}
}

// TestUpdateIntelRdt: update's Intel RDT flags write the container's
// resctrl group; where resctrl is absent they are refused, naming the flag.
func TestUpdateIntelRdt(t *testing.T) {
	t.Parallel()
	var st syscall.Statfs_t
	if syscall.Statfs("/sys/fs/resctrl", &st) == nil && st.Type == 0x7655821 {
		t.Skip("resctrl is mounted here: TestIntelRdt covers the group; schemata values depend on the hardware")
	}
	r := newRuntime(t)
	c, _ := r.createStart(newBundle(t, sleeper...))
	r.mustFail(cascoWords(t, "--l3-cache-schema"), "update", "--l3-cache-schema", "L3:0=f", c.ID)
	r.mustFail(cascoWords(t, "--mem-bw-schema"), "update", "--mem-bw-schema", "MB:0=50", c.ID)
}
