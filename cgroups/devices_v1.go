package cgroups

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// setDevicesV1 resets the cgroup to "deny everything" and replays the
// rules in order: the kernel's v1 devices controller applies each line as
// it comes, so later rules override earlier ones exactly as the spec
// orders them. Rules are validated before the first write so a bad list
// never leaves a half-open cgroup behind.
func setDevicesV1(dir string, r *specs.LinuxResources) error {
	rules, err := parseDeviceRules(r.Devices)
	if err != nil {
		return err
	}
	if err := writeFile(dir, "devices.deny", "a"); err != nil {
		return err
	}
	for _, rule := range rules {
		file := "devices.deny"
		if rule.Allow {
			file = "devices.allow"
		}
		if err := writeFile(dir, file, rule.v1Line()); err != nil {
			return err
		}
	}
	return nil
}
