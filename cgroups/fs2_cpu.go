package cgroups

import (
	"errors"
	"fmt"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func setCPUV2(dir string, r *specs.LinuxResources) error {
	c := r.CPU
	if c == nil {
		return nil
	}
	if i64(c.RealtimeRuntime) != 0 || u64(c.RealtimePeriod) != 0 {
		return fmt.Errorf("cpu.realtimeRuntime/realtimePeriod: realtime group scheduling is not available on cgroup v2")
	}
	idle := c.Idle != nil && *c.Idle != 0
	if c.Idle != nil {
		if err := writeFile(dir, "cpu.idle", strconv.FormatInt(*c.Idle, 10)); err != nil {
			return err
		}
	}
	// An idle group has the minimum weight by definition; the kernel
	// refuses a cpu.weight write then.
	if w := SharesToWeight(u64(c.Shares)); w != 0 && !idle {
		if err := writeFile(dir, "cpu.weight", strconv.FormatUint(w, 10)); err != nil {
			return err
		}
	}
	return setCPUMaxV2(dir, i64(c.Quota), u64(c.Period), c.Burst)
}

// setCPUMaxV2 writes cpu.max ("quota period", quota "max" if unlimited)
// and cpu.max.burst. The kernel requires burst <= quota, so when lowering
// a quota below the old burst the burst has to go first; try the natural
// order and swap on EINVAL, as runc does.
func setCPUMaxV2(dir string, quota int64, period uint64, burst *uint64) error {
	writeBurst := func() error {
		if burst == nil {
			return nil
		}
		return writeFile(dir, "cpu.max.burst", strconv.FormatUint(*burst, 10))
	}
	if quota == 0 && period == 0 {
		return writeBurst()
	}
	v := "max"
	if quota > 0 {
		v = strconv.FormatInt(quota, 10)
	}
	if period != 0 {
		v += " " + strconv.FormatUint(period, 10)
	}
	err := writeFile(dir, "cpu.max", v)
	if err != nil && burst != nil && errors.Is(err, unix.EINVAL) {
		if berr := writeBurst(); berr != nil {
			return err
		}
		return writeFile(dir, "cpu.max", v)
	}
	if err != nil {
		return err
	}
	return writeBurst()
}
