package cgroups

import (
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// setDevicesV1 resets the cgroup to "deny everything" and replays the
// rules in order: the kernel's v1 devices controller applies each line as
// it comes, so later rules override earlier ones exactly as the spec
// orders them. Rules are validated before the first write so a bad list
// never leaves a half-open cgroup behind.
//
// The reset briefly denies every device, which a running container would
// notice (an update re-sends the full resources, devices included). So
// when devices.list already shows exactly the state the rules lead to,
// nothing is written at all.
func setDevicesV1(dir string, r *specs.LinuxResources) error {
	rules, err := parseDeviceRules(r.Devices)
	if err != nil {
		return err
	}
	if cur, err := readFile(dir, "devices.list"); err == nil && emulateV1(rules).equalsList(cur) {
		return nil
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

// v1DeviceState is what the kernel keeps for a devices cgroup: a default
// (allow or deny) and exceptions keyed by exact type/major/minor.
type v1DeviceState struct {
	defaultAllow bool
	exceptions   map[deviceKey]int32 // access bits, bpfAcc* values
}

type deviceKey struct {
	typ          byte
	major, minor int64
}

// emulateV1 replays rules, starting from "deny a", the way
// security/device_cgroup.c does: an 'a' rule resets the default and drops
// the exceptions; any other rule adds access bits to the exact entry when
// it goes against the default, or removes them when it agrees with it.
func emulateV1(rules []deviceRule) v1DeviceState {
	s := v1DeviceState{exceptions: map[deviceKey]int32{}}
	for _, r := range rules {
		if r.Type == 'a' {
			s.defaultAllow = r.Allow
			s.exceptions = map[deviceKey]int32{}
			continue
		}
		k := deviceKey{r.Type, r.Major, r.Minor}
		bits := accessBits(r.Access)
		if r.Allow != s.defaultAllow {
			s.exceptions[k] |= bits
		} else if cur, ok := s.exceptions[k]; ok {
			if cur &^= bits; cur == 0 {
				delete(s.exceptions, k)
			} else {
				s.exceptions[k] = cur
			}
		}
	}
	return s
}

// equalsList compares with devices.list. In allow-by-default mode the
// kernel prints only "a *:* rwm" and hides the exceptions, so only the
// plain "allow everything" state can be recognised there.
func (s v1DeviceState) equalsList(list string) bool {
	lines := strings.Fields(strings.ReplaceAll(list, "\n", " "))
	if len(lines)%3 != 0 {
		return false
	}
	if s.defaultAllow {
		return len(s.exceptions) == 0 && strings.TrimSpace(list) == "a *:* rwm"
	}
	got := map[deviceKey]int32{}
	for i := 0; i < len(lines); i += 3 {
		r, err := parseDeviceRule(specs.LinuxDeviceCgroup{Type: lines[i], Access: lines[i+2]})
		if err != nil || r.Type == 'a' {
			return false
		}
		majS, minS, ok := strings.Cut(lines[i+1], ":")
		if !ok {
			return false
		}
		k := deviceKey{typ: r.Type, major: parseDevNum(majS), minor: parseDevNum(minS)}
		got[k] |= accessBits(r.Access)
	}
	if len(got) != len(s.exceptions) {
		return false
	}
	for k, v := range s.exceptions {
		if got[k] != v {
			return false
		}
	}
	return true
}

func parseDevNum(s string) int64 {
	if s == "*" {
		return -1
	}
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			return -2 // never equal to a real rule
		}
		n = n*10 + int64(c-'0')
	}
	return n
}
