package cgroups

import (
	"strconv"
	"strings"
)

// clockTicks is USER_HZ, the unit of cpuacct.stat; 100 on every Linux
// architecture Go supports (sysconf(_SC_CLK_TCK) without cgo).
const clockTicks = 100

// Stats on v1 reads each controller's files the way runc does. A
// controller that is not mounted leaves its part zero; only the absence
// of the container's cgroup itself is an error (from the pids count).
func (m *fsManager) Stats() (*Stats, error) {
	s := &Stats{Hugetlb: map[string]Hugetlb{}}
	if dir, ok := m.paths["pids"]; ok {
		if _, err := readUint(dir, "pids.current"); err != nil {
			return nil, err
		}
		s.Pids.Current = readUintOr(dir, "pids.current")
		s.Pids.Limit = readUintOr(dir, "pids.max")
	} else {
		pids, err := m.Pids()
		if err != nil {
			return nil, err
		}
		s.Pids.Current = uint64(len(pids))
	}
	if dir, ok := m.paths["cpuacct"]; ok {
		statCpuacctV1(dir, s)
	}
	if dir, ok := m.paths["cpu"]; ok {
		st, _ := readKeyed(dir, "cpu.stat")
		s.CPU.Throttling = Throttling{Periods: st["nr_periods"], ThrottledPeriods: st["nr_throttled"], ThrottledTime: st["throttled_time"]}
	}
	if dir, ok := m.paths["memory"]; ok {
		statMemoryV1(dir, s)
	}
	if dir, ok := m.paths["blkio"]; ok {
		statBlkioV1(dir, s)
	}
	if dir, ok := m.paths["cpuset"]; ok {
		statCpusetV1(dir, s)
	}
	if dir, ok := m.paths["hugetlb"]; ok {
		for _, size := range hugePageSizes() {
			p := "hugetlb." + size
			s.Hugetlb[size] = Hugetlb{Usage: readUintOr(dir, p+".usage_in_bytes"), Max: readUintOr(dir, p+".max_usage_in_bytes"), Failcnt: readUintOr(dir, p+".failcnt")}
		}
	} else if u := m.unified(); u != "" {
		statHugetlbV2(u, s)
	}
	return s, nil
}

func readUintList(dir, file string) []uint64 {
	s, err := readFile(dir, file)
	if err != nil {
		return nil
	}
	var out []uint64
	for _, f := range strings.Fields(s) {
		n, _ := strconv.ParseUint(f, 10, 64)
		out = append(out, n)
	}
	return out
}

func statCpuacctV1(dir string, s *Stats) {
	s.CPU.Usage.Total = readUintOr(dir, "cpuacct.usage")
	s.CPU.Usage.Percpu = readUintList(dir, "cpuacct.usage_percpu")
	s.CPU.Usage.PercpuUser = readUintList(dir, "cpuacct.usage_percpu_user")
	s.CPU.Usage.PercpuKernel = readUintList(dir, "cpuacct.usage_percpu_sys")
	st, _ := readKeyed(dir, "cpuacct.stat")
	s.CPU.Usage.User = st["user"] * (1e9 / clockTicks)
	s.CPU.Usage.Kernel = st["system"] * (1e9 / clockTicks)
}

func memEntryV1(dir, prefix string) MemoryEntry {
	return MemoryEntry{
		Usage:   readUintOr(dir, prefix+"usage_in_bytes"),
		Max:     readUintOr(dir, prefix+"max_usage_in_bytes"),
		Limit:   readUintOr(dir, prefix+"limit_in_bytes"),
		Failcnt: readUintOr(dir, prefix+"failcnt"),
	}
}

func statMemoryV1(dir string, s *Stats) {
	raw, err := readKeyed(dir, "memory.stat")
	if err != nil {
		return
	}
	s.Memory.Raw = raw
	s.Memory.Cache = raw["total_cache"]
	if _, ok := raw["total_cache"]; !ok {
		s.Memory.Cache = raw["cache"]
	}
	s.Memory.Usage = memEntryV1(dir, "memory.")
	s.Memory.Swap = memEntryV1(dir, "memory.memsw.")
	s.Memory.Kernel = memEntryV1(dir, "memory.kmem.")
	s.Memory.KernelTCP = memEntryV1(dir, "memory.kmem.tcp.")
	if oc, err := readKeyed(dir, "memory.oom_control"); err == nil {
		s.Memory.EventCount.OOMKill = oc["oom_kill"]
	}
}

// statBlkioV1 prefers BFQ's per-cgroup stats and falls back to the
// throttle layer's, which every kernel has.
func statBlkioV1(dir string, s *Stats) {
	prefix := "blkio.throttle."
	if fileExists(dir, "blkio.bfq.io_service_bytes_recursive") {
		prefix = "blkio.bfq."
	}
	s.Blkio.IoServiceBytesRecursive = readBlkioEntries(dir, prefix+"io_service_bytes_recursive")
	s.Blkio.IoServicedRecursive = readBlkioEntries(dir, prefix+"io_serviced_recursive")
}

// readBlkioEntries parses "8:0 Read 4096" lines; the "Total" summary
// line has only two fields and is skipped.
func readBlkioEntries(dir, file string) []BlkioEntry {
	data, err := readFile(dir, file)
	if err != nil {
		return nil
	}
	var out []BlkioEntry
	for _, line := range strings.Split(data, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		majS, minS, ok := strings.Cut(f[0], ":")
		if !ok {
			continue
		}
		maj, _ := strconv.ParseUint(majS, 10, 64)
		min, _ := strconv.ParseUint(minS, 10, 64)
		v, _ := strconv.ParseUint(f[2], 10, 64)
		out = append(out, BlkioEntry{Major: maj, Minor: min, Op: f[1], Value: v})
	}
	return out
}

func statCpusetV1(dir string, s *Stats) {
	if c, err := readFile(dir, "cpuset.cpus"); err == nil {
		s.CPUSet.CPUs = parseCPUList(c)
	}
	if c, err := readFile(dir, "cpuset.mems"); err == nil {
		s.CPUSet.Mems = parseCPUList(c)
	}
	s.CPUSet.CPUExclusive = readUintOr(dir, "cpuset.cpu_exclusive")
	s.CPUSet.MemHardwall = readUintOr(dir, "cpuset.mem_hardwall")
	s.CPUSet.MemExclusive = readUintOr(dir, "cpuset.mem_exclusive")
	s.CPUSet.MemoryMigrate = readUintOr(dir, "cpuset.memory_migrate")
	s.CPUSet.MemorySpreadPage = readUintOr(dir, "cpuset.memory_spread_page")
	s.CPUSet.MemorySpreadSlab = readUintOr(dir, "cpuset.memory_spread_slab")
	s.CPUSet.MemoryPressure = readUintOr(dir, "cpuset.memory_pressure")
	s.CPUSet.SchedLoadBalance = readUintOr(dir, "cpuset.sched_load_balance")
	if v, err := readFile(dir, "cpuset.sched_relax_domain_level"); err == nil {
		s.CPUSet.SchedRelaxDomainLevel, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	}
}
