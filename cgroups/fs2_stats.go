package cgroups

import (
	"strconv"
	"strings"
)

// Stats on v2 follows runc's mapping of the cgroup2 files onto the v1
// shaped runc types (e.g. swap usage is reported as memory+swap, like
// v1's memsw).
func (m *fs2Manager) Stats() (*Stats, error) {
	s := &Stats{Hugetlb: map[string]Hugetlb{}}
	if err := statPidsV2(m.dir, s); err != nil {
		return nil, err
	}
	statCPUV2(m.dir, s)
	statMemoryV2(m.dir, s)
	statIOV2(m.dir, s)
	statHugetlbV2(m.dir, s)
	statCpusetV2(m.dir, s)
	return s, nil
}

// statPidsV2: without the pids controller, count cgroup.procs instead.
// Its error is the one returned: a missing cgroup makes every stat moot.
func statPidsV2(dir string, s *Stats) error {
	if fileExists(dir, "pids.current") {
		s.Pids.Current = readUintOr(dir, "pids.current")
		s.Pids.Limit = readUintOr(dir, "pids.max")
		return nil
	}
	pids, err := pidsRecursive(dir)
	if err != nil {
		return err
	}
	s.Pids.Current = uint64(len(pids))
	return nil
}

func statCPUV2(dir string, s *Stats) {
	st, err := readKeyed(dir, "cpu.stat")
	if err != nil {
		return
	}
	s.CPU.Usage.Total = st["usage_usec"] * 1000
	s.CPU.Usage.User = st["user_usec"] * 1000
	s.CPU.Usage.Kernel = st["system_usec"] * 1000
	s.CPU.Throttling.Periods = st["nr_periods"]
	s.CPU.Throttling.ThrottledPeriods = st["nr_throttled"]
	s.CPU.Throttling.ThrottledTime = st["throttled_usec"] * 1000
	s.CPU.PSI = parsePSI(dir, "cpu.pressure")
}

func statMemoryV2(dir string, s *Stats) {
	raw, err := readKeyed(dir, "memory.stat")
	if err != nil {
		return
	}
	s.Memory.Raw = raw
	s.Memory.Cache = raw["file"]
	ev, _ := readKeyed(dir, "memory.events")
	s.Memory.Usage = MemoryEntry{
		Usage:   readUintOr(dir, "memory.current"),
		Max:     readUintOr(dir, "memory.peak"),
		Limit:   readUintOr(dir, "memory.max"),
		Failcnt: ev["max"],
	}
	if fileExists(dir, "memory.swap.current") {
		s.Memory.Swap = MemoryEntry{
			Usage: readUintOr(dir, "memory.swap.current") + s.Memory.Usage.Usage,
			Max:   readUintOr(dir, "memory.swap.peak"),
			Limit: readUintOr(dir, "memory.swap.max"),
		}
		if s.Memory.Swap.Limit != maxUint {
			s.Memory.Swap.Limit += s.Memory.Usage.Limit
		}
	}
	s.Memory.EventCount = MemoryEventCount{Low: ev["low"], High: ev["high"], Max: ev["max"], OOM: ev["oom"], OOMKill: ev["oom_kill"]}
	s.Memory.PSI = parsePSI(dir, "memory.pressure")
}

// statIOV2 parses io.stat ("8:0 rbytes=1 wbytes=2 rios=3 wios=4 ...").
func statIOV2(dir string, s *Stats) {
	data, err := readFile(dir, "io.stat")
	if err == nil {
		for _, line := range strings.Split(data, "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			majS, minS, _ := strings.Cut(f[0], ":")
			maj, _ := strconv.ParseUint(majS, 10, 64)
			min, _ := strconv.ParseUint(minS, 10, 64)
			for _, kv := range f[1:] {
				k, v, _ := strings.Cut(kv, "=")
				n, _ := strconv.ParseUint(v, 10, 64)
				e := BlkioEntry{Major: maj, Minor: min, Value: n}
				switch k {
				case "rbytes":
					e.Op = "Read"
					s.Blkio.IoServiceBytesRecursive = append(s.Blkio.IoServiceBytesRecursive, e)
				case "wbytes":
					e.Op = "Write"
					s.Blkio.IoServiceBytesRecursive = append(s.Blkio.IoServiceBytesRecursive, e)
				case "rios":
					e.Op = "Read"
					s.Blkio.IoServicedRecursive = append(s.Blkio.IoServicedRecursive, e)
				case "wios":
					e.Op = "Write"
					s.Blkio.IoServicedRecursive = append(s.Blkio.IoServicedRecursive, e)
				}
			}
		}
	}
	s.Blkio.PSI = parsePSI(dir, "io.pressure")
}

func statHugetlbV2(dir string, s *Stats) {
	for _, size := range hugePageSizes() {
		prefix := "hugetlb." + size
		if !fileExists(dir, prefix+".current") {
			continue
		}
		ev, _ := readKeyed(dir, prefix+".events")
		s.Hugetlb[size] = Hugetlb{Usage: readUintOr(dir, prefix+".current"), Failcnt: ev["max"]}
	}
}

func statCpusetV2(dir string, s *Stats) {
	if c, err := readFile(dir, "cpuset.cpus.effective"); err == nil {
		s.CPUSet.CPUs = parseCPUList(c)
	}
	if c, err := readFile(dir, "cpuset.mems.effective"); err == nil {
		s.CPUSet.Mems = parseCPUList(c)
	}
}
