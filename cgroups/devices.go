package cgroups

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// deviceRule is a validated linux.resources.devices entry. Major/Minor -1
// is the wildcard '*'; Type 'a' matches block and char devices.
type deviceRule struct {
	Allow  bool
	Type   byte // 'a', 'b' or 'c'
	Major  int64
	Minor  int64
	Access string // subset of "rwm", never empty
}

func parseDeviceRule(d specs.LinuxDeviceCgroup) (deviceRule, error) {
	r := deviceRule{Allow: d.Allow, Major: -1, Minor: -1, Access: d.Access}
	switch d.Type {
	case "", "a":
		r.Type = 'a'
	case "b", "c":
		r.Type = d.Type[0]
	default:
		return r, fmt.Errorf("device rule type %q is not one of a, b, c", d.Type)
	}
	if d.Major != nil && *d.Major >= 0 {
		r.Major = *d.Major
	}
	if d.Minor != nil && *d.Minor >= 0 {
		r.Minor = *d.Minor
	}
	if r.Access == "" {
		r.Access = "rwm"
	}
	r.Access = accessSet(r.Access)
	if r.Access == "" {
		// as runc: letters other than r, w, m are not access; a wildcard
		// rule sets the default whatever its access, any other is a no-op
		if r.Type != 'a' {
			return r, errNoAccess
		}
		r.Access = "rwm"
	}
	return r, nil
}

// errNoAccess marks a rule that grants or denies nothing: skipped.
var errNoAccess = errors.New("device rule grants no access")

// accessSet is the access string as the kernel reads it: the letters r, w
// and m it holds, in that order. runc takes any string and drops other
// letters ("rwa", a common deny rule, is "rw").
func accessSet(access string) string {
	out := ""
	for _, c := range "rwm" {
		if strings.ContainsRune(access, c) {
			out += string(c)
		}
	}
	return out
}

func parseDeviceRules(in []specs.LinuxDeviceCgroup) ([]deviceRule, error) {
	out := make([]deviceRule, 0, len(in))
	for i, d := range in {
		r, err := parseDeviceRule(d)
		if errors.Is(err, errNoAccess) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("linux.resources.devices[%d]: %w", i, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// v1Line renders the rule as devices.allow/devices.deny expect it:
// "c 1:3 rwm", with '*' for wildcards.
func (r deviceRule) v1Line() string {
	num := func(n int64) string {
		if n < 0 {
			return "*"
		}
		return strconv.FormatInt(n, 10)
	}
	return fmt.Sprintf("%c %s:%s %s", r.Type, num(r.Major), num(r.Minor), r.Access)
}

func ptr(n int64) *int64 { return &n }

// DefaultAllowedDevices is the allow-list every container needs, as runc
// gives it: mknod of any node (creating one is harmless, using it is
// what the list controls), /dev/null, zero, full, random, urandom, tty,
// console, ptmx and the pts slaves, tun and fuse. It returns a new slice
// each call so callers may append to it.
func DefaultAllowedDevices() []specs.LinuxDeviceCgroup {
	c := func(major, minor int64, access string) specs.LinuxDeviceCgroup {
		d := specs.LinuxDeviceCgroup{Allow: true, Type: "c", Major: ptr(major), Access: access}
		if minor >= 0 {
			d.Minor = ptr(minor)
		}
		return d
	}
	return []specs.LinuxDeviceCgroup{
		{Allow: true, Type: "c", Access: "m"},
		{Allow: true, Type: "b", Access: "m"},
		c(1, 3, "rwm"),    // /dev/null
		c(1, 5, "rwm"),    // /dev/zero
		c(1, 7, "rwm"),    // /dev/full
		c(1, 8, "rwm"),    // /dev/random
		c(1, 9, "rwm"),    // /dev/urandom
		c(5, 0, "rwm"),    // /dev/tty
		c(5, 2, "rwm"),    // /dev/ptmx
		c(136, -1, "rwm"), // /dev/pts/*
		c(10, 200, "rwm"), // /dev/net/tun
	}
}

// DeviceRules builds the device rules for a container the way runc does:
// the spec's linux.resources.devices in order, then DefaultAllowedDevices.
// Set always starts from "deny all" before applying a non-empty list, so
// the result is an allow-list.
func DeviceRules(spec []specs.LinuxDeviceCgroup) []specs.LinuxDeviceCgroup {
	out := make([]specs.LinuxDeviceCgroup, 0, len(spec)+13)
	out = append(out, spec...)
	return append(out, DefaultAllowedDevices()...)
}

func needDevices(r *specs.LinuxResources) bool { return len(r.Devices) > 0 }
