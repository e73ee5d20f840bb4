package cgroups

import (
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

func needBlkio(r *specs.LinuxResources) bool {
	b := r.BlockIO
	return b != nil && ((b.Weight != nil && *b.Weight != 0) || (b.LeafWeight != nil && *b.LeafWeight != 0) ||
		len(b.WeightDevice) > 0 || len(b.ThrottleReadBpsDevice) > 0 || len(b.ThrottleWriteBpsDevice) > 0 ||
		len(b.ThrottleReadIOPSDevice) > 0 || len(b.ThrottleWriteIOPSDevice) > 0)
}

func devLine(major, minor int64, v uint64) string {
	return fmt.Sprintf("%d:%d %d", major, minor, v)
}

// setBlkioV1 writes weights and throttles. Kernels without CFQ (all
// current ones) have no blkio.weight; BFQ's blkio.bfq.weight takes the
// same 10-1000 range, so it is used instead, as runc does.
func setBlkioV1(dir string, r *specs.LinuxResources) error {
	b := r.BlockIO
	weightFile, weightDevFile := "blkio.weight", "blkio.weight_device"
	if !fileExists(dir, weightFile) && fileExists(dir, "blkio.bfq.weight") {
		weightFile, weightDevFile = "blkio.bfq.weight", "blkio.bfq.weight_device"
	}
	if b.Weight != nil && *b.Weight != 0 {
		if err := writeFile(dir, weightFile, strconv.Itoa(int(*b.Weight))); err != nil {
			return err
		}
	}
	if b.LeafWeight != nil && *b.LeafWeight != 0 {
		if err := writeFile(dir, "blkio.leaf_weight", strconv.Itoa(int(*b.LeafWeight))); err != nil {
			return err
		}
	}
	for _, wd := range b.WeightDevice {
		if wd.Weight != nil {
			if err := writeFile(dir, weightDevFile, devLine(wd.Major, wd.Minor, uint64(*wd.Weight))); err != nil {
				return err
			}
		}
		if wd.LeafWeight != nil {
			if err := writeFile(dir, "blkio.leaf_weight_device", devLine(wd.Major, wd.Minor, uint64(*wd.LeafWeight))); err != nil {
				return err
			}
		}
	}
	throttles := []struct {
		file string
		devs []specs.LinuxThrottleDevice
	}{
		{"blkio.throttle.read_bps_device", b.ThrottleReadBpsDevice},
		{"blkio.throttle.write_bps_device", b.ThrottleWriteBpsDevice},
		{"blkio.throttle.read_iops_device", b.ThrottleReadIOPSDevice},
		{"blkio.throttle.write_iops_device", b.ThrottleWriteIOPSDevice},
	}
	for _, t := range throttles {
		for _, d := range t.devs {
			if err := writeFile(dir, t.file, devLine(d.Major, d.Minor, d.Rate)); err != nil {
				return err
			}
		}
	}
	return nil
}
