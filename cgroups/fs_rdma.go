package cgroups

import (
	"fmt"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func needRdma(r *specs.LinuxResources) bool { return len(r.Rdma) > 0 }

// rdmaLines renders linux.resources.rdma as rdma.max lines
// ("mlx4_0 hca_handle=2 hca_object=2000"); the format is the same on v1
// and v2. Devices are sorted so the write order is deterministic.
func rdmaLines(m map[string]specs.LinuxRdma) ([]string, error) {
	devs := make([]string, 0, len(m))
	for d := range m {
		devs = append(devs, d)
	}
	sort.Strings(devs)
	var out []string
	for _, d := range devs {
		if d == "" || strings.ContainsAny(d, " \n/") {
			return nil, fmt.Errorf("invalid rdma device name %q", d)
		}
		l := m[d]
		line := d
		if l.HcaHandles != nil {
			line += fmt.Sprintf(" hca_handle=%d", *l.HcaHandles)
		}
		if l.HcaObjects != nil {
			line += fmt.Sprintf(" hca_object=%d", *l.HcaObjects)
		}
		if line != d {
			out = append(out, line)
		}
	}
	return out, nil
}

func setRdmaV1(dir string, r *specs.LinuxResources) error {
	lines, err := rdmaLines(r.Rdma)
	if err != nil {
		return err
	}
	for _, l := range lines {
		if err := writeFile(dir, "rdma.max", l); err != nil {
			return err
		}
	}
	return nil
}
