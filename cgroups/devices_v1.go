package cgroups

import (
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// setDevicesV1 moves the cgroup from what devices.list shows to the state
// the rules lead to with the fewest writes, as runc's transition does: no
// write at all when nothing changes (an update re-sends the full resources,
// devices included); on a deny-by-default cgroup, the access to take away
// first, then the access to add, so no write ever allows a device the
// rules deny, and no allowed device is denied for a moment. Only a change
// of default, or a cgroup whose exceptions devices.list hides (allow by
// default), starts from a reset ("a" to devices.allow or devices.deny).
// Rules are validated before the first write so a bad list never leaves a
// half-open cgroup behind.
func setDevicesV1(dir string, r *specs.LinuxResources) error {
	rules, err := parseDeviceRules(r.Devices)
	if err != nil {
		return err
	}
	target := emulateV1(rules)
	var from *v1DeviceState
	if list, err := readFile(dir, "devices.list"); err == nil {
		from = parseV1List(list)
	}
	for _, rule := range v1Transition(from, target) {
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

// v1Transition lists the writes that take a cgroup from "from" (nil:
// unknown) to "to": a reset when the default changes or the exceptions
// cannot be known, then the access each exception loses, then the access
// each one gains, in a stable order.
func v1Transition(from *v1DeviceState, to v1DeviceState) []deviceRule {
	var out []deviceRule
	old := map[deviceKey]int32{}
	if from == nil || from.defaultAllow || from.defaultAllow != to.defaultAllow {
		out = append(out, deviceRule{Type: 'a', Major: -1, Minor: -1, Access: "rwm", Allow: to.defaultAllow})
	} else {
		old = from.exceptions
	}
	for _, k := range sortedKeys(old) {
		if lost := old[k] &^ to.exceptions[k]; lost != 0 {
			out = append(out, deviceRule{Type: k.typ, Major: k.major, Minor: k.minor, Access: accessString(lost), Allow: to.defaultAllow})
		}
	}
	for _, k := range sortedKeys(to.exceptions) {
		if gained := to.exceptions[k] &^ old[k]; gained != 0 {
			out = append(out, deviceRule{Type: k.typ, Major: k.major, Minor: k.minor, Access: accessString(gained), Allow: !to.defaultAllow})
		}
	}
	return out
}

func sortedKeys(m map[deviceKey]int32) []deviceKey {
	keys := make([]deviceKey, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.typ != b.typ {
			return a.typ < b.typ
		}
		if a.major != b.major {
			return a.major < b.major
		}
		return a.minor < b.minor
	})
	return keys
}

// accessString renders access bits in v1's "rwm" order.
func accessString(bits int32) string {
	s := ""
	for _, a := range []struct {
		bit int32
		c   string
	}{{bpfAccRead, "r"}, {bpfAccWrite, "w"}, {bpfAccMknod, "m"}} {
		if bits&a.bit != 0 {
			s += a.c
		}
	}
	return s
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

// parseV1List reads devices.list into the state it shows, or nil when it
// cannot be read as one. In allow-by-default mode the kernel prints only
// "a *:* rwm" and hides the deny exceptions: that state has none listed,
// and v1Transition knows not to trust it.
func parseV1List(list string) *v1DeviceState {
	lines := strings.Fields(strings.ReplaceAll(list, "\n", " "))
	if len(lines)%3 != 0 {
		return nil
	}
	if strings.TrimSpace(list) == "a *:* rwm" {
		return &v1DeviceState{defaultAllow: true, exceptions: map[deviceKey]int32{}}
	}
	got := map[deviceKey]int32{}
	for i := 0; i < len(lines); i += 3 {
		r, err := parseDeviceRule(specs.LinuxDeviceCgroup{Type: lines[i], Access: lines[i+2]})
		if err != nil || r.Type == 'a' {
			return nil
		}
		majS, minS, ok := strings.Cut(lines[i+1], ":")
		if !ok {
			return nil
		}
		maj, min := parseDevNum(majS), parseDevNum(minS)
		if maj < -1 || min < -1 {
			return nil
		}
		got[deviceKey{typ: r.Type, major: maj, minor: min}] |= accessBits(r.Access)
	}
	return &v1DeviceState{exceptions: got}
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
