package libcontainer

import (
	"encoding/json"
	"fmt"
	"reflect"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"

	"github.com/casco-runtime/casco/libcontainer/internal/intelrdt"
)

// Update writes new resource limits to the cgroup of a created, running or
// paused container and records them in state.json's linux.resources, as
// `runc update` does.
//
// A field counts as "given" exactly when cgroups.Manager.Set would write
// it: zero numbers and empty strings are unset (engines send them), while
// a non-nil cpu.burst, cpu.idle, memory.swappiness or network.classID is a
// real value even when zero. Device rules are never touched (runc skips
// them on update too).
//
// If the kernel rejects a value, the sections of the update that may
// already have been written are set back to their recorded values (best
// effort, as runc does), state.json is left alone, and the error names
// the control file and the value.
func (c *Container) Update(r *specs.LinuxResources) error {
	if r == nil {
		return nil
	}
	if c.Status() == Stopped {
		return fmt.Errorf("update %s: %w", c.State.ID, ErrNotRunning)
	}
	config, err := c.Spec()
	if err != nil {
		return fmt.Errorf("update %s: %w", c.State.ID, err)
	}
	upd := copyResources(r)
	upd.Devices = nil
	old := config.Linux.Resources
	if old == nil {
		old = &specs.LinuxResources{}
	}
	m, err := c.cgroup()
	if err != nil {
		return fmt.Errorf("update %s: %w", c.State.ID, err)
	}
	if err := m.Set(withCompanions(upd, old)); err != nil {
		if rerr := m.Set(sectionsOf(old, upd)); rerr != nil {
			logrus.Warnf("update %s: restoring the previous limits: %v", c.State.ID, rerr)
		}
		return fmt.Errorf("update %s: %w", c.State.ID, err)
	}
	config.Linux.Resources = mergeResources(old, upd)
	if err := c.setSpec(config); err != nil {
		return fmt.Errorf("update %s: %w", c.State.ID, err)
	}
	if err := saveState(c.Dir, c.State); err != nil {
		return fmt.Errorf("update %s: limits applied, but recording them failed: %w", c.State.ID, err)
	}
	return nil
}

// copyResources deep-copies r (it is small; a JSON round trip keeps the
// copy correct whatever the spec adds).
func copyResources(r *specs.LinuxResources) *specs.LinuxResources {
	data, err := json.Marshal(r)
	if err != nil {
		panic(err) // LinuxResources always marshals
	}
	var out specs.LinuxResources
	if err := json.Unmarshal(data, &out); err != nil {
		panic(err)
	}
	return &out
}

func setI64(p *int64) bool  { return p != nil && *p != 0 }
func setU64(p *uint64) bool { return p != nil && *p != 0 }
func setU16(p *uint16) bool { return p != nil && *p != 0 }
func isTrue(p *bool) bool   { return p != nil && *p }

// withCompanions returns what to hand to Set for upd: the CFS quota and
// period, and memory limit and swap, only make sense as pairs, and cgroup
// v2 writes each pair in one file (cpu.max "quota period"; memory.swap.max
// is derived from swap minus limit). A half given alone is completed from
// the recorded configuration, so `update --cpu-period` keeps the quota
// and `update --memory-swap` computes swap against the current limit, on
// v1 and v2 alike.
func withCompanions(upd, old *specs.LinuxResources) *specs.LinuxResources {
	set := copyResources(upd)
	if c, o := set.CPU, old.CPU; c != nil && o != nil {
		if setU64(c.Period) && !setI64(c.Quota) && setI64(o.Quota) {
			c.Quota = o.Quota
		}
		if setI64(c.Quota) && !setU64(c.Period) && setU64(o.Period) {
			c.Period = o.Period
		}
	}
	if m, o := set.Memory, old.Memory; m != nil && o != nil {
		swap := m.Swap != nil && *m.Swap > 0
		limit := m.Limit != nil && *m.Limit > 0
		if swap && !limit && o.Limit != nil && *o.Limit > 0 {
			m.Limit = o.Limit
		}
		// memory+swap stays what it was when only the memory changes,
		// as long as it still covers the memory (v1 keeps memsw as it
		// is; this makes v2's swap.max follow).
		if limit && !swap && o.Swap != nil && *o.Swap >= *m.Limit {
			m.Swap = o.Swap
		}
	}
	return set
}

// sectionsOf returns the parts of old that upd touches, to put back after
// a failed update.
func sectionsOf(old, upd *specs.LinuxResources) *specs.LinuxResources {
	old = copyResources(old)
	var out specs.LinuxResources
	if upd.Memory != nil {
		out.Memory = old.Memory
	}
	if upd.CPU != nil {
		out.CPU = old.CPU
	}
	if upd.Pids != nil {
		out.Pids = old.Pids
	}
	if upd.BlockIO != nil {
		out.BlockIO = old.BlockIO
	}
	if len(upd.HugepageLimits) > 0 {
		out.HugepageLimits = old.HugepageLimits
	}
	if upd.Network != nil {
		out.Network = old.Network
	}
	if len(upd.Rdma) > 0 {
		out.Rdma = old.Rdma
	}
	if len(upd.Unified) > 0 {
		out.Unified = old.Unified
	}
	return &out
}

// mergeResources returns old with every field upd gives (see Update)
// replacing the old value; per-device, per-page-size, per-interface and
// per-key entries replace their own entry only.
func mergeResources(old, upd *specs.LinuxResources) *specs.LinuxResources {
	out := copyResources(old)
	upd = copyResources(upd)
	if upd.Memory != nil {
		out.Memory = mergeMemory(out.Memory, upd.Memory)
	}
	if upd.CPU != nil {
		out.CPU = mergeCPU(out.CPU, upd.CPU)
	}
	if u := upd.Pids; u != nil && setI64(u.Limit) {
		if out.Pids == nil {
			out.Pids = &specs.LinuxPids{}
		}
		out.Pids.Limit = u.Limit
	}
	if upd.BlockIO != nil {
		out.BlockIO = mergeBlockIO(out.BlockIO, upd.BlockIO)
	}
	out.HugepageLimits = mergeBy(out.HugepageLimits, upd.HugepageLimits, func(h specs.LinuxHugepageLimit) string { return h.Pagesize })
	if upd.Network != nil {
		out.Network = mergeNetwork(out.Network, upd.Network)
	}
	out.Rdma = mergeMap(out.Rdma, upd.Rdma)
	out.Unified = mergeMap(out.Unified, upd.Unified)
	// an update that only sent zeros adds no empty sections to the record
	dropEmpty(&out.Memory, old.Memory != nil)
	dropEmpty(&out.CPU, old.CPU != nil)
	dropEmpty(&out.BlockIO, old.BlockIO != nil)
	dropEmpty(&out.Network, old.Network != nil)
	return out
}

// mergeMemory merges the memory section (o may be nil): zero limits and
// false flags mean "not given".
func mergeMemory(o, u *specs.LinuxMemory) *specs.LinuxMemory {
	if o == nil {
		o = &specs.LinuxMemory{}
	}
	for _, f := range []struct{ dst, src **int64 }{
		{&o.Limit, &u.Limit}, {&o.Reservation, &u.Reservation}, {&o.Swap, &u.Swap}, {&o.KernelTCP, &u.KernelTCP},
	} {
		if setI64(*f.src) {
			*f.dst = *f.src
		}
	}
	if u.Swappiness != nil {
		o.Swappiness = u.Swappiness
	}
	if isTrue(u.DisableOOMKiller) {
		o.DisableOOMKiller = u.DisableOOMKiller
	}
	if isTrue(u.UseHierarchy) {
		o.UseHierarchy = u.UseHierarchy
	}
	return o
}

// mergeCPU merges the cpu section (o may be nil): zero shares, periods
// and quotas and empty sets mean "not given"; burst and idle count when
// present, zero included.
func mergeCPU(o, u *specs.LinuxCPU) *specs.LinuxCPU {
	if o == nil {
		o = &specs.LinuxCPU{}
	}
	for _, f := range []struct{ dst, src **uint64 }{
		{&o.Shares, &u.Shares}, {&o.Period, &u.Period}, {&o.RealtimePeriod, &u.RealtimePeriod},
	} {
		if setU64(*f.src) {
			*f.dst = *f.src
		}
	}
	for _, f := range []struct{ dst, src **int64 }{
		{&o.Quota, &u.Quota}, {&o.RealtimeRuntime, &u.RealtimeRuntime},
	} {
		if setI64(*f.src) {
			*f.dst = *f.src
		}
	}
	if u.Burst != nil {
		o.Burst = u.Burst
	}
	if u.Idle != nil {
		o.Idle = u.Idle
	}
	if u.Cpus != "" {
		o.Cpus = u.Cpus
	}
	if u.Mems != "" {
		o.Mems = u.Mems
	}
	return o
}

// mergeBlockIO merges the blkio section (o may be nil): weights when not
// zero, device entries by major:minor.
func mergeBlockIO(o, u *specs.LinuxBlockIO) *specs.LinuxBlockIO {
	if o == nil {
		o = &specs.LinuxBlockIO{}
	}
	if setU16(u.Weight) {
		o.Weight = u.Weight
	}
	if setU16(u.LeafWeight) {
		o.LeafWeight = u.LeafWeight
	}
	o.WeightDevice = mergeBy(o.WeightDevice, u.WeightDevice, func(d specs.LinuxWeightDevice) [2]int64 { return [2]int64{d.Major, d.Minor} })
	thr := func(d specs.LinuxThrottleDevice) [2]int64 { return [2]int64{d.Major, d.Minor} }
	o.ThrottleReadBpsDevice = mergeBy(o.ThrottleReadBpsDevice, u.ThrottleReadBpsDevice, thr)
	o.ThrottleWriteBpsDevice = mergeBy(o.ThrottleWriteBpsDevice, u.ThrottleWriteBpsDevice, thr)
	o.ThrottleReadIOPSDevice = mergeBy(o.ThrottleReadIOPSDevice, u.ThrottleReadIOPSDevice, thr)
	o.ThrottleWriteIOPSDevice = mergeBy(o.ThrottleWriteIOPSDevice, u.ThrottleWriteIOPSDevice, thr)
	return o
}

// mergeNetwork merges the network section (o may be nil): priorities by
// interface name.
func mergeNetwork(o, u *specs.LinuxNetwork) *specs.LinuxNetwork {
	if o == nil {
		o = &specs.LinuxNetwork{}
	}
	if u.ClassID != nil {
		o.ClassID = u.ClassID
	}
	o.Priorities = mergeBy(o.Priorities, u.Priorities, func(p specs.LinuxInterfacePriority) string { return p.Name })
	return o
}

// mergeMap sets each entry of upd in old, made when upd has any.
func mergeMap[V any](old, upd map[string]V) map[string]V {
	for k, v := range upd {
		if old == nil {
			old = map[string]V{}
		}
		old[k] = v
	}
	return old
}

// dropEmpty removes a section the merge created but left empty.
func dropEmpty[T any](p **T, had bool) {
	if !had && *p != nil && reflect.ValueOf(**p).IsZero() {
		*p = nil
	}
}

// mergeBy replaces the entries of old whose key an entry of upd has and
// appends the rest of upd, keeping old's order.
func mergeBy[T any, K comparable](old, upd []T, key func(T) K) []T {
	if len(upd) == 0 {
		return old
	}
	idx := map[K]int{}
	for i, e := range old {
		idx[key(e)] = i
	}
	for _, e := range upd {
		if i, ok := idx[key(e)]; ok {
			old[i] = e
			continue
		}
		idx[key(e)] = len(old)
		old = append(old, e)
	}
	return old
}

// CheckIntelRdtUpdate refuses `update --l3-cache-schema/--mem-bw-schema`
// where resctrl is not mounted, before anything changes.
func CheckIntelRdtUpdate(l3, mb string) error { return intelrdt.CheckUpdate(l3, mb) }

// UpdateIntelRdt writes new schemata to the container's resctrl group.
func (c *Container) UpdateIntelRdt(l3, mb string) error {
	if l3 == "" && mb == "" {
		return nil
	}
	s, err := c.Spec()
	if err != nil {
		return err
	}
	if s.Linux == nil || s.Linux.IntelRdt == nil {
		return fmt.Errorf("update: container %s has no linux.intelRdt: it is in no resctrl group", c.State.ID)
	}
	return intelrdt.Update(s.Linux.IntelRdt, c.State.ID, l3, mb)
}
