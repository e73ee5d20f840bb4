package libcontainer

import (
	"encoding/json"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// TestCheckNUL: a NUL anywhere in the config is found and named through
// the raw JSON's \u0000, and an escaped backslash before "u0000" is not
// mistaken for one.
func TestCheckNUL(t *testing.T) {
	for field, set := range map[string]func(*specs.Spec){
		"process.args[1]":                 func(s *specs.Spec) { s.Process.Args = []string{"sh", "a\x00b"} },
		"linux.devices[0].path":           func(s *specs.Spec) { s.Linux.Devices = []specs.LinuxDevice{{Path: "/dev/x\x00/../y"}} },
		`annotations["k"]`:                func(s *specs.Spec) { s.Annotations = map[string]string{"k": "\x00"} },
		`linux.sysctl["a\x00"] (the key)`: func(s *specs.Spec) { s.Linux.Sysctl = map[string]string{"a\x00": "1"} },
		"mounts[0].options[0]":            func(s *specs.Spec) { s.Mounts = []specs.Mount{{Options: []string{"ro\x00"}}} },
	} {
		s := DefaultSpec()
		set(s)
		raw, _ := json.Marshal(s)
		var back specs.Spec
		json.Unmarshal(raw, &back)
		err := checkNUL(raw, &back)
		if err == nil || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: checkNUL = %v", field, err)
		}
	}
	s := DefaultSpec()
	s.Hostname = `a\u0000b` // a backslash, not a NUL
	raw, _ := json.Marshal(s)
	if err := checkNUL(raw, s); err != nil {
		t.Errorf("escaped backslash: %v", err)
	}
}
