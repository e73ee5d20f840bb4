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
	if err := setPeriodV1(dir, "cpu.cfs_period_us", u64(c.Period), "cpu.cfs_quota_us", i64(c.Quota)); err != nil {
		return err
	}
	if c.Burst != nil {
		if err := writeFile(dir, "cpu.cfs_burst_us", strconv.FormatUint(*c.Burst, 10)); err != nil {
			return err
		}
	}
	if err := setPeriodV1(dir, "cpu.rt_period_us", u64(c.RealtimePeriod), "cpu.rt_runtime_us", i64(c.RealtimeRuntime)); err != nil {
		return err
	}
	if c.Idle != nil {
		if err := writeFile(dir, "cpu.idle", strconv.FormatInt(*c.Idle, 10)); err != nil {
			return err
		}
	}
	return nil
}

// setPeriodV1 writes a period and the budget that must fit in it (CFS's
// quota, or the realtime runtime), period first. The kernel can refuse the
// new period (EINVAL) because the old budget does not fit it, or no longer
// fits the parent's limit (a pod cgroup with its own quota, the parent's
// realtime runtime); then the budget goes first and the period is
// retried, as runc orders the writes.
func setPeriodV1(dir, periodFile string, period uint64, budgetFile string, budget int64) error {
	budgetDone := false
	if period != 0 {
		err := writeFile(dir, periodFile, strconv.FormatUint(period, 10))
		if err != nil {
			if !errors.Is(err, unix.EINVAL) || budget == 0 {
				return err
			}
			if err := writeFile(dir, budgetFile, strconv.FormatInt(budget, 10)); err != nil {
				return err
			}
			budgetDone = true
			if err := writeFile(dir, periodFile, strconv.FormatUint(period, 10)); err != nil {
				return err
			}
		}
	}
	if budget != 0 && !budgetDone {
		return writeFile(dir, budgetFile, strconv.FormatInt(budget, 10))
	}
	return nil
}
