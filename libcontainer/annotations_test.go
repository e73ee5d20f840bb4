package libcontainer

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// crunDocumented are the run.oci.* annotations crun's man page (crun.1,
// "Extensions to OCI") documents, from crun 1.8 to today's.
var crunDocumented = []string{
	"run.oci.mount_context_type",
	"run.oci.seccomp.receiver",
	"run.oci.seccomp.plugins",
	"run.oci.seccomp_fail_unknown_syscall",
	"run.oci.seccomp_bpf_data",
	"run.oci.keep_original_groups",
	"run.oci.pidfd_receiver",
	"run.oci.systemd.force_cgroup_v1",
	"run.oci.timens_offset",
	"run.oci.systemd.subgroup",
	"run.oci.delegate-cgroup",
	"run.oci.hooks.stdout",
	"run.oci.hooks.stderr",
	"run.oci.handler",
}

// TestCrunAnnotationsDecided: every annotation crun documents is either
// honoured or refused, never both, never neither.
func TestCrunAnnotationsDecided(t *testing.T) {
	for _, k := range crunDocumented {
		_, honoured := honouredAnnotations[k]
		_, refused := refusedAnnotations[k]
		if honoured == refused {
			t.Errorf("%s: honoured %v, refused %v: want exactly one", k, honoured, refused)
		}
	}
	if n := len(honouredAnnotations) + len(refusedAnnotations); n != len(crunDocumented) {
		t.Errorf("%d annotations decided, crun documents %d", n, len(crunDocumented))
	}
}

func TestAnnotationTimeOffsets(t *testing.T) {
	good := map[string]map[string]specs.LinuxTimeOffset{
		"monotonic 5 1":               {"monotonic": {Secs: 5, Nanosecs: 1}},
		"1 -5 0\n7 10 999999999\n":    {"monotonic": {Secs: -5}, "boottime": {Secs: 10, Nanosecs: 999999999}},
		"boottime 864000 0\n\n":       {"boottime": {Secs: 864000}},
		"  monotonic   2  3  ":        {"monotonic": {Secs: 2, Nanosecs: 3}},
		"monotonic 1 0\nboottime 2 0": {"monotonic": {Secs: 1}, "boottime": {Secs: 2}},
	}
	for in, want := range good {
		got, err := annotationTimeOffsets(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if len(got) != len(want) {
			t.Errorf("%q: got %v, want %v", in, got, want)
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("%q: %s = %v, want %v", in, k, got[k], v)
			}
		}
	}
	for _, in := range []string{"realtime 1 0", "monotonic 1", "monotonic x 0", "monotonic 1 1000000000", "monotonic 1 -1", "monotonic 1 0\n1 2 0"} {
		if _, err := annotationTimeOffsets(in); err == nil {
			t.Errorf("%q: accepted", in)
		}
	}
}

func TestValidateAnnotations(t *testing.T) {
	spec := func(a map[string]string, ns ...specs.LinuxNamespaceType) *specs.Spec {
		s := &specs.Spec{Annotations: a, Linux: &specs.Linux{}}
		for _, n := range ns {
			s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: n})
		}
		return s
	}
	for _, tc := range []struct {
		s    *specs.Spec
		fail string // "" for none, else a word of the error
	}{
		{spec(map[string]string{"run.oci.keep_original_groups": "1"}), ""},
		{spec(map[string]string{"run.oci.krun.cpus": "2", "org.example": "x"}), ""},
		{spec(map[string]string{"run.oci.timens_offset": "monotonic 1 0"}, specs.TimeNamespace), ""},
		{spec(map[string]string{"run.oci.timens_offset": "monotonic 1 0"}), "run.oci.timens_offset"},
		{spec(map[string]string{"run.oci.systemd.subgroup": ""}), ""},
		{spec(map[string]string{"run.oci.systemd.subgroup": "container"}), "run.oci.systemd.subgroup"},
		{spec(map[string]string{"run.oci.hooks.stdout": "/var/log/hooks"}), ""},
		{spec(map[string]string{"run.oci.hooks.stderr": "hooks.log"}), "absolute"},
		{spec(map[string]string{"run.oci.mount_context_type": "fscontext"}), ""},
		{spec(map[string]string{"run.oci.handler": "wasm"}), "run.oci.handler"},
		{spec(map[string]string{"run.oci.pidfd_receiver": "/run/pidfd.sock"}), ""},
		{spec(map[string]string{"run.oci.pidfd_receiver": "pidfd.sock"}), "absolute"},
	} {
		err := validateAnnotations(tc.s)
		switch {
		case tc.fail == "" && err != nil:
			t.Errorf("%v: %v", tc.s.Annotations, err)
		case tc.fail != "" && (err == nil || !strings.Contains(err.Error(), tc.fail)):
			t.Errorf("%v: error %v, want one naming %s", tc.s.Annotations, err, tc.fail)
		}
	}
}

func TestTimeOffsetsMerged(t *testing.T) {
	s := &specs.Spec{
		Annotations: map[string]string{"run.oci.timens_offset": "boottime 7 0"},
		Linux:       &specs.Linux{TimeOffsets: map[string]specs.LinuxTimeOffset{"monotonic": {Secs: 3}}},
	}
	if got, want := timensOffsets(s), "monotonic 3 0\nboottime 7 0\n"; got != want {
		t.Errorf("timensOffsets = %q, want %q", got, want)
	}
}
