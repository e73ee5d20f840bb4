package cgroups

import (
	"errors"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func u64(p *uint64) uint64 {
	if p == nil {
		return 0
	}
	return *p
}

func needCPU(r *specs.LinuxResources) bool {
	c := r.CPU
	return c != nil && (u64(c.Shares) != 0 || i64(c.Quota) != 0 || u64(c.Period) != 0 ||
		c.Burst != nil || i64(c.RealtimeRuntime) != 0 || u64(c.RealtimePeriod) != 0 || c.Idle != nil)
}

func setCPUV1(dir string, r *specs.LinuxResources) error {
	c := r.CPU
	if v := u64(c.Shares); v != 0 {
		if err := writeFile(dir, "cpu.shares", strconv.FormatUint(v, 10)); err != nil {
			return err
		}
	}
	if err := setCFSV1(dir, u64(c.Period), i64(c.Quota)); err != nil {
		return err
	}
	if c.Burst != nil {
		if err := writeFile(dir, "cpu.cfs_burst_us", strconv.FormatUint(*c.Burst, 10)); err != nil {
			return err
		}
	}
	// RT: the period must be in place before a runtime that fits in it.
	if v := u64(c.RealtimePeriod); v != 0 {
		if err := writeFile(dir, "cpu.rt_period_us", strconv.FormatUint(v, 10)); err != nil {
			return err
		}
	}
	if v := i64(c.RealtimeRuntime); v != 0 {
		if err := writeFile(dir, "cpu.rt_runtime_us", strconv.FormatInt(v, 10)); err != nil {
			return err
		}
	}
	if c.Idle != nil {
		if err := writeFile(dir, "cpu.idle", strconv.FormatInt(*c.Idle, 10)); err != nil {
			return err
		}
	}
	return nil
}

// setCFSV1 writes period then quota. A new period can be refused (EINVAL)
// because the old quota does not fit it with the current burst; then the
// quota goes first and the period is retried, as runc does.
func setCFSV1(dir string, period uint64, quota int64) error {
	quotaDone := false
	if period != 0 {
		err := writeFile(dir, "cpu.cfs_period_us", strconv.FormatUint(period, 10))
		if err != nil {
			if !errors.Is(err, unix.EINVAL) || quota == 0 {
				return err
			}
			if err := writeFile(dir, "cpu.cfs_quota_us", strconv.FormatInt(quota, 10)); err != nil {
				return err
			}
			quotaDone = true
			if err := writeFile(dir, "cpu.cfs_period_us", strconv.FormatUint(period, 10)); err != nil {
				return err
			}
		}
	}
	if quota != 0 && !quotaDone {
		return writeFile(dir, "cpu.cfs_quota_us", strconv.FormatInt(quota, 10))
	}
	return nil
}
