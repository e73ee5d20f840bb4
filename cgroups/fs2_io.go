package cgroups

import (
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// setIOV2 maps blockIO onto the io controller. With BFQ active the
// io.bfq.* files take blkio's own 10-1000 scale; otherwise io.weight
// (1-10000) gets the runc conversion. Throttles become io.max lines, a
// rate of 0 meaning "no limit" as it does for v1's throttle files.
func setIOV2(dir string, r *specs.LinuxResources) error {
	b := r.BlockIO
	if b == nil || !needBlkio(r) {
		return nil
	}
	bfq := fileExists(dir, "io.bfq.weight")
	weight := func(w uint16) (string, string) {
		if bfq {
			return "io.bfq.weight", strconv.Itoa(int(w))
		}
		return "io.weight", strconv.FormatUint(BlkioWeightToIOWeight(uint64(w)), 10)
	}
	if b.Weight != nil && *b.Weight != 0 {
		file, v := weight(*b.Weight)
		if err := writeFile(dir, file, v); err != nil {
			return err
		}
	}
	for _, wd := range b.WeightDevice {
		if wd.Weight == nil {
			continue
		}
		file, v := weight(*wd.Weight)
		if err := writeFile(dir, file, fmt.Sprintf("%d:%d %s", wd.Major, wd.Minor, v)); err != nil {
			return err
		}
	}
	throttles := []struct {
		key  string
		devs []specs.LinuxThrottleDevice
	}{
		{"rbps", b.ThrottleReadBpsDevice}, {"wbps", b.ThrottleWriteBpsDevice},
		{"riops", b.ThrottleReadIOPSDevice}, {"wiops", b.ThrottleWriteIOPSDevice},
	}
	for _, t := range throttles {
		for _, d := range t.devs {
			rate := "max"
			if d.Rate != 0 {
				rate = strconv.FormatUint(d.Rate, 10)
			}
			if err := writeFile(dir, "io.max", fmt.Sprintf("%d:%d %s=%s", d.Major, d.Minor, t.key, rate)); err != nil {
				return err
			}
		}
	}
	return nil
}
