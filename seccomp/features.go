package seccomp

import (
	"sort"
	"sync"

	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"
	libseccomp "github.com/seccomp/libseccomp-golang"
)

// AnnotationLibseccompVersion is the features annotation runc uses for the
// libseccomp version.
const AnnotationLibseccompVersion = "io.github.seccomp.libseccomp.version"

// Annotations are the seccomp entries of the features "annotations" object.
func Annotations() map[string]string {
	return map[string]string{AnnotationLibseccompVersion: libVersion()}
}

// LibseccompVersion is the version of the libseccomp casco is running with.
func LibseccompVersion() string { return libVersion() }

var (
	featuresOnce sync.Once
	featuresArch []string
)

// Features describes casco's seccomp support for `casco features`, in the
// shape of runc's "seccomp" object. Actions and operators are what Compile
// accepts; archs are those this libseccomp can add to a filter; supported
// flags are the known flags the running kernel accepts (the init passes them
// to seccomp(2) itself, so libseccomp's version does not limit them).
func Features() *features.Seccomp {
	featuresOnce.Do(func() {
		// An architecture this libseccomp was built without cannot
		// resolve even "read". (Adding archs to one filter would not do:
		// libseccomp refuses to mix endiannesses.)
		for name, a := range archByName {
			if nr, err := libseccomp.GetSyscallFromNameByArch("read", a); err == nil && nr >= 0 {
				featuresArch = append(featuresArch, string(name))
			}
		}
		sort.Strings(featuresArch)
	})

	enabled := true
	var actions, ops, known, supported []string
	for a := range simpleActions {
		actions = append(actions, string(a))
	}
	actions = append(actions, string(specs.ActErrno), string(specs.ActTrace))
	for o := range operators {
		ops = append(ops, string(o))
	}
	for name, bit := range knownFlags {
		known = append(known, string(name))
		if kernelHasFlag(bit) {
			supported = append(supported, string(name))
		}
	}
	sort.Strings(actions)
	sort.Strings(ops)
	sort.Strings(known)
	sort.Strings(supported)
	return &features.Seccomp{
		Enabled:        &enabled,
		Actions:        actions,
		Operators:      ops,
		Archs:          append([]string(nil), featuresArch...),
		KnownFlags:     known,
		SupportedFlags: supported,
	}
}
