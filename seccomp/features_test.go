package seccomp

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestFeatures(t *testing.T) {
	f := Features()
	if f.Enabled == nil || !*f.Enabled {
		t.Fatal("not enabled")
	}
	for _, a := range []specs.LinuxSeccompAction{specs.ActKill, specs.ActKillProcess, specs.ActKillThread, specs.ActTrap,
		specs.ActErrno, specs.ActTrace, specs.ActAllow, specs.ActLog, specs.ActNotify} {
		if !slices.Contains(f.Actions, string(a)) {
			t.Errorf("action %s missing", a)
		}
	}
	if len(f.Actions) != 9 || len(f.Operators) != 7 {
		t.Errorf("actions %v operators %v", f.Actions, f.Operators)
	}
	for _, a := range []string{"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_S390X"} {
		if !slices.Contains(f.Archs, a) {
			t.Errorf("arch %s missing from %v", a, f.Archs)
		}
	}
	if !slices.IsSorted(f.Actions) || !slices.IsSorted(f.Archs) || !slices.IsSorted(f.Operators) {
		t.Error("lists not sorted")
	}
	if len(f.KnownFlags) != 4 {
		t.Errorf("known flags %v", f.KnownFlags)
	}
	// Linux 5.19+ has them all; every supported flag must also compile.
	for _, fl := range f.SupportedFlags {
		if _, err := Compile(&specs.LinuxSeccomp{DefaultAction: specs.ActAllow, Flags: []specs.LinuxSeccompFlag{specs.LinuxSeccompFlag(fl)}}); err != nil {
			t.Errorf("supported flag %s: %v", fl, err)
		}
	}
	if Annotations()[AnnotationLibseccompVersion] != LibseccompVersion() || LibseccompVersion() == "0.0.0" {
		t.Errorf("annotations %v", Annotations())
	}
	j, _ := json.Marshal(f)
	t.Logf("features: %s, libseccomp %s", j, LibseccompVersion())
}
