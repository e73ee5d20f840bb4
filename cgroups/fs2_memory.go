package cgroups

import (
	"errors"
	"strconv"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// v2Num renders a limit: -1 is "max". Other negatives are passed on for
// the kernel to reject, so the error names the file and the bad value.
func v2Num(v int64) string {
	if v == -1 {
		return "max"
	}
	return strconv.FormatInt(v, 10)
}

// setMemoryV2: memory.swap.max holds swap alone, while the spec's swap is
// memory+swap (v1's memsw), so it is converted as runc does. Swap goes
// first: lowering memory.max then never meets a stale swap.max.
func setMemoryV2(dir string, r *specs.LinuxResources) error {
	m := r.Memory
	if m == nil {
		return nil
	}
	if err := checkBeforeUpdate(dir, "memory.current", m); err != nil {
		return err
	}
	limit := i64(m.Limit)
	swap, err := SwapToV2(i64(m.Swap), limit)
	if err != nil {
		return err
	}
	if swap != 0 {
		err := writeFile(dir, "memory.swap.max", v2Num(swap))
		// Without swap accounting there is no memory.swap.max; "unlimited"
		// is then what the host gives anyway, so only a real limit fails.
		if err != nil && !(errors.Is(err, unix.ENOENT) && swap == -1) {
			return err
		}
	}
	if limit != 0 {
		if err := writeFile(dir, "memory.max", v2Num(limit)); err != nil {
			return err
		}
	}
	if v := i64(m.Reservation); v != 0 {
		if err := writeFile(dir, "memory.low", v2Num(v)); err != nil {
			return err
		}
	}
	return nil
}
