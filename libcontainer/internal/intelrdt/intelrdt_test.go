package intelrdt

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestIntelRdt runs the resctrl logic against a directory laid out as
// resctrl is: this machine has no resctrl to test the kernel's side.
func TestIntelRdt(t *testing.T) {
	rc := resctrl{t.TempDir()}
	r := &specs.LinuxIntelRdt{L3CacheSchema: "L3:0=f"}
	if err := rc.validate(r, false); err == nil || !strings.Contains(err.Error(), "linux.intelRdt") {
		t.Errorf("no resctrl: got %v, want an error naming linux.intelRdt", err)
	}
	if err := rc.validate(r, true); err == nil || !strings.Contains(err.Error(), "l3CacheSchema") {
		t.Errorf("no info/L3: got %v, want an error naming l3CacheSchema", err)
	}
	if err := rc.validate(&specs.LinuxIntelRdt{ClosID: "../x"}, true); err == nil {
		t.Errorf("closID ../x accepted")
	}
	os.MkdirAll(filepath.Join(rc.root, "info", "L3"), 0755)
	if err := rc.validate(r, true); err != nil {
		t.Errorf("with info/L3: %v", err)
	}

	// a closID group that exists: joined, schemata written in one go, kept on remove
	shared := filepath.Join(rc.root, "shared")
	os.MkdirAll(shared, 0755)
	for _, f := range []string{"schemata", "tasks"} {
		os.WriteFile(filepath.Join(shared, f), nil, 0644)
	}
	r = &specs.LinuxIntelRdt{ClosID: "shared", L3CacheSchema: "L3:0=f", MemBwSchema: "MB:0=50", Schemata: []string{"L2:0=3"}}
	if err := rc.apply(r, "ct1", 42); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(shared, "schemata")); string(got) != "L3:0=f\nMB:0=50\nL2:0=3\n" {
		t.Errorf("schemata = %q", got)
	}
	if got, _ := os.ReadFile(filepath.Join(shared, "tasks")); string(got) != "42" {
		t.Errorf("tasks = %q", got)
	}
	if err := rc.remove(r, "ct1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(shared); err != nil {
		t.Errorf("a closID group was removed: %v", err)
	}
	// the container's own group: made, and removed again
	own := &specs.LinuxIntelRdt{}
	if err := rc.apply(own, "ct2", 43); err == nil {
		t.Errorf("apply on a plain directory should fail writing tasks (no resctrl to create it)")
	}
	if err := rc.remove(own, "ct2"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(rc.root, "ct2")); !os.IsNotExist(err) {
		t.Errorf("the container's own group is left: %v", err)
	}
}
