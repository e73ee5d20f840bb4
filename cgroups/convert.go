package cgroups

import (
	"errors"
	"fmt"
)

// Conversions between the spec's v1-shaped values and cgroup2 files,
// identical to runc's so a config means the same under both runtimes.

// SharesToWeight maps cpu.shares [2, 262144] onto cpu.weight [1, 10000].
// 0 stays 0 ("unset").
func SharesToWeight(shares uint64) uint64 {
	if shares == 0 {
		return 0
	}
	if shares < 2 {
		shares = 2
	}
	if shares > 262144 {
		shares = 262144
	}
	return 1 + ((shares-2)*9999)/262142
}

// WeightToShares is the inverse, used to report cpu.weight as shares.
func WeightToShares(weight uint64) uint64 {
	if weight == 0 {
		return 0
	}
	return 2 + ((weight-1)*262142)/9999
}

// BlkioWeightToIOWeight maps blkio.weight [10, 1000] onto io.weight
// [1, 10000]. 0 stays 0 ("unset").
func BlkioWeightToIOWeight(w uint64) uint64 {
	if w == 0 {
		return 0
	}
	return 1 + (w-10)*9999/990
}

// SwapToV2 turns the spec's memory.swap (memory+swap, v1 style) into
// memory.swap.max (swap only). -1 is "max", 0 "unset".
func SwapToV2(swap, limit int64) (int64, error) {
	// "memory: -1" alone means unlimited memory and swap, as on v1.
	if limit == -1 && swap == 0 {
		return -1, nil
	}
	if swap == -1 || swap == 0 {
		return swap, nil
	}
	if limit == 0 || limit == -1 {
		return 0, errors.New("memory.swap is set but memory.limit is not: cannot compute memory.swap.max")
	}
	if limit < 0 {
		return 0, fmt.Errorf("invalid memory.limit %d", limit)
	}
	if swap < limit {
		return 0, fmt.Errorf("memory.swap %d must be >= memory.limit %d (it counts memory+swap)", swap, limit)
	}
	return swap - limit, nil
}
