package libcontainer

import (
	"sort"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"

	"github.com/casco-runtime/casco/libcontainer/internal/intelrdt"
	"github.com/casco-runtime/casco/seccomp"
)

// Features says truthfully what this casco supports.
func Features() *features.Features {
	t := true
	opts := mountOptionNames()
	var ns []string
	for t := range namespaceFlags {
		ns = append(ns, string(t))
	}
	sort.Strings(ns)
	return &features.Features{
		OCIVersionMin: "1.0.0",
		OCIVersionMax: specs.Version,
		Hooks:         []string{"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"},
		MountOptions:  opts,
		Linux: &features.Linux{
			Namespaces:   ns,
			Capabilities: CapNames(),
			Cgroup:       &features.Cgroup{V1: &t, V2: &t, Systemd: &t, SystemdUser: &t},
			Seccomp:      seccomp.Features(),
			Apparmor:     &features.Apparmor{Enabled: &t},
			Selinux:      &features.Selinux{Enabled: new(bool)},
			IntelRdt:     intelrdt.Feature(),
			MemoryPolicy: memoryPolicyFeature(),
			NetDevices:   &features.NetDevices{Enabled: &t},
			MountExtensions: &features.MountExtensions{
				IDMap: &features.IDMap{Enabled: boolPtr(haveMountSetattr())},
			},
		},
		Annotations: featureAnnotations(),
		// the annotations that change what casco does: org.criu.config
		// (as runc lists it) and crun's run.oci.* ones it honours
		PotentiallyUnsafeConfigAnnotations: append([]string{"org.criu.config"}, UnderstoodAnnotations()...),
	}
}

func featureAnnotations() map[string]string {
	a := map[string]string{"org.opencontainers.runc.checkpoint.enabled": "false"}
	for k, v := range seccomp.Annotations() {
		a[k] = v
	}
	return a
}
