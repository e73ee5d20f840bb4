package cgroups

import (
	"os"
	"strconv"
	"strings"
)

// Helpers shared by the v1 and v2 stats readers.

// parseCPUList turns "0-3,8" into [0 1 2 3 8] (cpuset.cpus format).
func parseCPUList(s string) []uint16 {
	var out []uint16
	for _, part := range strings.Split(strings.TrimSpace(s), ",") {
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.ParseUint(lo, 10, 16)
		if err != nil {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 16); err != nil {
				continue
			}
		}
		for i := a; i <= b; i++ {
			out = append(out, uint16(i))
		}
	}
	return out
}

// parsePSI reads a *.pressure file ("some avg10=0.00 avg60=... total=N").
// A missing file (PSI disabled) gives nil.
func parsePSI(dir, file string) *PSIStats {
	s, err := readFile(dir, file)
	if err != nil {
		return nil
	}
	var out PSIStats
	for _, line := range strings.Split(s, "\n") {
		kind, rest, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		var d *PSIData
		switch kind {
		case "some":
			d = &out.Some
		case "full":
			d = &out.Full
		default:
			continue
		}
		for _, kv := range strings.Fields(rest) {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "avg10":
				d.Avg10, _ = strconv.ParseFloat(v, 64)
			case "avg60":
				d.Avg60, _ = strconv.ParseFloat(v, 64)
			case "avg300":
				d.Avg300, _ = strconv.ParseFloat(v, 64)
			case "total":
				d.Total, _ = strconv.ParseUint(v, 10, 64)
			}
		}
	}
	return &out
}

// hugePageSizes lists the host's huge page sizes in the cgroup file
// naming ("2MB", "1GB"), from /sys/kernel/mm/hugepages.
func hugePageSizes() []string {
	ents, err := os.ReadDir("/sys/kernel/mm/hugepages")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range ents {
		kb, ok := strings.CutPrefix(e.Name(), "hugepages-")
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSuffix(kb, "kB"), 10, 64)
		if err != nil {
			continue
		}
		out = append(out, pageSizeName(n*1024))
	}
	return out
}

// pageSizeName is the kernel's hugetlb_cgroup file naming: the largest
// unit that divides the size.
func pageSizeName(bytes uint64) string {
	units := []string{"B", "KB", "MB", "GB", "TB"}
	i := 0
	for bytes >= 1024 && bytes%1024 == 0 && i < len(units)-1 {
		bytes /= 1024
		i++
	}
	return strconv.FormatUint(bytes, 10) + units[i]
}

// readUintOr reads dir/file as a number; missing or odd content gives 0,
// because a stat the kernel does not provide is reported as zero.
func readUintOr(dir, file string) uint64 {
	v, err := readUint(dir, file)
	if err != nil {
		return 0
	}
	return v
}
