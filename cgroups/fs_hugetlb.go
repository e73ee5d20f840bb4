package cgroups

import (
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Hugepage limits. Every entry is written, including 0: Kubernetes sends
// a 0 for each page size a pod did not ask for, meaning "none".

func validPagesize(s string) error {
	if s == "" || strings.ContainsAny(s, "/. \n") {
		return fmt.Errorf("invalid hugepage size %q", s)
	}
	return nil
}

// setHugetlbV1 writes hugetlb.<size>.limit_in_bytes and, where the kernel
// has it (5.7+), the reservation limit too so reserved-but-unfaulted pages
// are bounded alike (runc does the same).
func setHugetlbV1(dir string, r *specs.LinuxResources) error {
	return setHugetlbFiles(dir, r, ".limit_in_bytes", ".rsvd.limit_in_bytes")
}

// setHugetlbV2 is the cgroup2 variant: hugetlb.<size>.max.
func setHugetlbV2(dir string, r *specs.LinuxResources) error {
	return setHugetlbFiles(dir, r, ".max", ".rsvd.max")
}

func setHugetlbFiles(dir string, r *specs.LinuxResources, limitSuffix, rsvdSuffix string) error {
	for _, h := range r.HugepageLimits {
		if err := validPagesize(h.Pagesize); err != nil {
			return err
		}
		v := strconv.FormatUint(h.Limit, 10)
		prefix := "hugetlb." + h.Pagesize
		if err := writeFile(dir, prefix+limitSuffix, v); err != nil {
			return err
		}
		if fileExists(dir, prefix+rsvdSuffix) {
			if err := writeFile(dir, prefix+rsvdSuffix, v); err != nil {
				return err
			}
		}
	}
	return nil
}
