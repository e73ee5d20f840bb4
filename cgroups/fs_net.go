package cgroups

import (
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Network class id and priorities exist only as v1 controllers (net_cls,
// net_prio); on v2 the equivalent is an eBPF or nftables cgroup match.

func needNetCls(r *specs.LinuxResources) bool {
	return r.Network != nil && r.Network.ClassID != nil
}

func needNetPrio(r *specs.LinuxResources) bool {
	return r.Network != nil && len(r.Network.Priorities) > 0
}

func setNetClsV1(dir string, r *specs.LinuxResources) error {
	return writeFile(dir, "net_cls.classid", strconv.FormatUint(uint64(*r.Network.ClassID), 10))
}

// setNetPrioV1 writes one "ifname prio" line per interface: the file
// takes a single mapping per write.
func setNetPrioV1(dir string, r *specs.LinuxResources) error {
	for _, p := range r.Network.Priorities {
		if err := writeFile(dir, "net_prio.ifpriomap", fmt.Sprintf("%s %d", p.Name, p.Priority)); err != nil {
			return err
		}
	}
	return nil
}
