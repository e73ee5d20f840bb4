package cgroups

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"

	sddbus "github.com/coreos/go-systemd/v22/dbus"
	godbus "github.com/godbus/dbus/v5"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// Unit properties for linux.resources. Every limit that has a systemd
// property is also given to systemd: systemd rewrites a unit's cgroup
// files from its properties whenever it re-realizes the unit (daemon-reload,
// daemon-reexec, a sibling's change), and a limit it does not know would
// be reset to its default. Limits without a property (hugetlb, rdma, io.max,
// memory.swappiness, ...) are only written to the cgroup files, which
// systemd leaves alone.

func newProp(name string, v interface{}) sddbus.Property {
	return sddbus.Property{Name: name, Value: godbus.MakeVariant(v)}
}

// sdLimit is a byte or task limit in systemd's terms: -1 is "infinity".
func sdLimit(v int64) uint64 {
	if v < 0 {
		return math.MaxUint64
	}
	return uint64(v)
}

func systemdProperties(r *specs.LinuxResources, v2 bool) ([]sddbus.Property, error) {
	var p []sddbus.Property
	if r.Memory != nil {
		mp, err := memoryProperties(r.Memory, v2)
		if err != nil {
			return nil, err
		}
		p = append(p, mp...)
	}
	if c := r.CPU; c != nil {
		if s := u64(c.Shares); s != 0 {
			if v2 {
				p = append(p, newProp("CPUWeight", SharesToWeight(s)))
			} else {
				p = append(p, newProp("CPUShares", s))
			}
		}
		p = append(p, cpuQuotaProperties(i64(c.Quota), u64(c.Period))...)
		if v2 {
			cp, err := cpusetProperties(c.Cpus, c.Mems)
			if err != nil {
				return nil, err
			}
			p = append(p, cp...)
		}
	}
	if needPids(r) {
		limit := *r.Pids.Limit
		if limit == 0 {
			limit = 1 // systemd refuses 0; the fs drivers write 1 too (pidsMax)
		}
		p = append(p, newProp("TasksMax", sdLimit(limit)))
	}
	if b := r.BlockIO; v2 && b != nil && b.Weight != nil && *b.Weight != 0 {
		p = append(p, newProp("IOWeight", BlkioWeightToIOWeight(uint64(*b.Weight))))
	}
	if v2 && len(r.Unified) > 0 {
		up, err := unifiedProperties(r.Unified)
		if err != nil {
			return nil, err
		}
		p = append(p, up...)
	}
	if len(r.Devices) > 0 {
		dp, err := deviceProperties(r.Devices)
		if err != nil {
			return nil, err
		}
		p = append(p, dp...)
	}
	return p, nil
}

func memoryProperties(m *specs.LinuxMemory, v2 bool) ([]sddbus.Property, error) {
	var p []sddbus.Property
	limit := i64(m.Limit)
	if !v2 {
		if limit != 0 {
			p = append(p, newProp("MemoryLimit", sdLimit(limit)))
		}
		return p, nil
	}
	if limit != 0 {
		p = append(p, newProp("MemoryMax", sdLimit(limit)))
	}
	if res := i64(m.Reservation); res != 0 {
		p = append(p, newProp("MemoryLow", sdLimit(res)))
	}
	swap, err := SwapToV2(i64(m.Swap), limit)
	if err != nil {
		return nil, err
	}
	if swap != 0 {
		p = append(p, newProp("MemorySwapMax", sdLimit(swap)))
	}
	return p, nil
}

// cpuQuotaProperties: systemd counts the quota as CPU time per second and
// rounds it up to 10ms; the period is a property of its own. A quota of
// -1 (or a period alone) means no limit: "infinity".
func cpuQuotaProperties(quota int64, period uint64) []sddbus.Property {
	if quota == 0 && period == 0 {
		return nil
	}
	perSec := uint64(math.MaxUint64)
	if quota > 0 {
		if period == 0 {
			period = 100000
		}
		perSec = uint64(quota) * 1000000 / period
		if perSec%10000 != 0 {
			perSec = (perSec/10000 + 1) * 10000
		}
	}
	p := []sddbus.Property{newProp("CPUQuotaPerSecUSec", perSec)}
	if period != 0 {
		p = append(p, newProp("CPUQuotaPeriodUSec", period))
	}
	return p
}

func cpusetProperties(cpus, mems string) ([]sddbus.Property, error) {
	var p []sddbus.Property
	for _, s := range []struct{ name, list string }{{"AllowedCPUs", cpus}, {"AllowedMemoryNodes", mems}} {
		if s.list == "" {
			continue
		}
		bits, err := listToBitmask(s.list)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", s.name, s.list, err)
		}
		p = append(p, newProp(s.name, bits))
	}
	return p, nil
}

// listToBitmask turns a cpuset list ("0-2,7") into systemd's byte array,
// lowest CPU in the lowest bit of the first byte.
func listToBitmask(list string) ([]byte, error) {
	var out []byte
	for _, part := range strings.Split(strings.TrimSpace(list), ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err := strconv.ParseUint(lo, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("bad range %q", part)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(hi, 10, 16); err != nil || b < a {
				return nil, fmt.Errorf("bad range %q", part)
			}
		}
		for i := a; i <= b; i++ {
			for int(i/8) >= len(out) {
				out = append(out, 0)
			}
			out[i/8] |= 1 << (i % 8)
		}
	}
	return out, nil
}

// unifiedProperties maps the linux.resources.unified keys that have a
// systemd property; the rest only go to the files.
func unifiedProperties(u map[string]string) ([]sddbus.Property, error) {
	var p []sddbus.Property
	num := func(k, v string) (uint64, error) {
		if v == "max" {
			return math.MaxUint64, nil
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("linux.resources.unified %q: %q is not a number or \"max\"", k, v)
		}
		return n, nil
	}
	memory := map[string]string{"memory.max": "MemoryMax", "memory.high": "MemoryHigh", "memory.low": "MemoryLow",
		"memory.min": "MemoryMin", "memory.swap.max": "MemorySwapMax", "pids.max": "TasksMax", "cpu.weight": "CPUWeight"}
	for k, v := range u {
		v = strings.TrimSpace(v)
		switch k {
		case "cpu.max":
			f := strings.Fields(v)
			if len(f) < 1 || len(f) > 2 {
				return nil, fmt.Errorf("linux.resources.unified %q: %q is not \"quota [period]\"", k, v)
			}
			quota, period := int64(-1), uint64(100000)
			if f[0] != "max" {
				q, err := strconv.ParseInt(f[0], 10, 64)
				if err != nil {
					return nil, fmt.Errorf("linux.resources.unified %q: bad quota %q", k, f[0])
				}
				quota = q
			}
			if len(f) == 2 {
				per, err := strconv.ParseUint(f[1], 10, 64)
				if err != nil {
					return nil, fmt.Errorf("linux.resources.unified %q: bad period %q", k, f[1])
				}
				period = per
			}
			p = append(p, cpuQuotaProperties(quota, period)...)
		case "cpuset.cpus", "cpuset.mems":
			cpus, mems := v, ""
			if k == "cpuset.mems" {
				cpus, mems = "", v
			}
			cp, err := cpusetProperties(cpus, mems)
			if err != nil {
				return nil, err
			}
			p = append(p, cp...)
		default:
			name, ok := memory[k]
			if !ok {
				continue
			}
			n, err := num(k, v)
			if err != nil {
				return nil, err
			}
			p = append(p, newProp(name, n))
		}
	}
	return p, nil
}

// deviceAllow is one DeviceAllow= entry: a(ss) on the bus.
type deviceAllow struct {
	Path  string
	Perms string
}

// deviceProperties turns the device rules into DevicePolicy= and
// DeviceAllow=. The rules are played in order from "deny everything"
// (as the fs drivers apply them); an allow-list becomes DevicePolicy=strict
// with one entry per allowed device ("/dev/char/M:N"), major ("char-NAME"
// from /proc/devices) or type ("char-*"). systemd has no deny entries, so
// when the rules end in "allow everything but ..." systemd gets no
// restriction (DevicePolicy=auto) and the runtime's own device program,
// which the kernel runs as well, enforces the denials. DeviceAllow= is
// reset first: systemd appends to it otherwise.
func deviceProperties(in []specs.LinuxDeviceCgroup) ([]sddbus.Property, error) {
	rules, err := parseDeviceRules(in)
	if err != nil {
		return nil, err
	}
	allowAll := false
	var allowed []deviceRule
	for _, r := range rules {
		if r.Type == 'a' && r.Major < 0 && r.Minor < 0 {
			if strings.Contains(r.Access, "r") && strings.Contains(r.Access, "w") && strings.Contains(r.Access, "m") {
				allowAll, allowed = r.Allow, nil
				continue
			}
		}
		switch {
		case r.Allow && !allowAll:
			allowed = append(allowed, r)
		case !r.Allow && !allowAll:
			allowed = removeDevice(allowed, r)
		}
	}
	reset := newProp("DeviceAllow", []deviceAllow{})
	if allowAll {
		return []sddbus.Property{newProp("DevicePolicy", "auto"), reset}, nil
	}
	names, err := deviceMajors()
	if err != nil {
		return nil, err
	}
	var entries []deviceAllow
	for _, r := range allowed {
		entries = append(entries, deviceEntries(r, names)...)
	}
	return []sddbus.Property{newProp("DevicePolicy", "strict"), reset, newProp("DeviceAllow", entries)}, nil
}

// removeDevice drops the access of deny rule d from the allowed rules it
// covers exactly (same type, major and minor), as the kernel's device
// cgroup does for a deny that matches an allow entry.
func removeDevice(allowed []deviceRule, d deviceRule) []deviceRule {
	out := allowed[:0]
	for _, a := range allowed {
		if a.Type == d.Type && a.Major == d.Major && a.Minor == d.Minor {
			a.Access = strings.Map(func(c rune) rune {
				if strings.ContainsRune(d.Access, c) {
					return -1
				}
				return c
			}, a.Access)
			if a.Access == "" {
				continue
			}
		}
		out = append(out, a)
	}
	return out
}

func deviceEntries(r deviceRule, names map[string]map[int64]string) []deviceAllow {
	types := []byte{r.Type}
	if r.Type == 'a' {
		types = []byte{'b', 'c'}
	}
	var out []deviceAllow
	for _, t := range types {
		kind := map[byte]string{'b': "block", 'c': "char"}[t]
		switch {
		case r.Major < 0:
			out = append(out, deviceAllow{kind + "-*", r.Access})
		case r.Minor < 0:
			// systemd names majors as /proc/devices does; an unnamed one
			// cannot be expressed and stays to the runtime's own program.
			if name, ok := names[kind][r.Major]; ok {
				out = append(out, deviceAllow{kind + "-" + name, r.Access})
			}
		default:
			out = append(out, deviceAllow{fmt.Sprintf("/dev/%s/%d:%d", kind, r.Major, r.Minor), r.Access})
		}
	}
	return out
}

// deviceMajors reads /proc/devices: "char"/"block" -> major -> name.
func deviceMajors() (map[string]map[int64]string, error) {
	f, err := os.Open("/proc/devices")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]map[int64]string{"char": {}, "block": {}}
	kind := ""
	s := bufio.NewScanner(f)
	for s.Scan() {
		line := strings.TrimSpace(s.Text())
		switch line {
		case "Character devices:":
			kind = "char"
			continue
		case "Block devices:":
			kind = "block"
			continue
		}
		num, name, ok := strings.Cut(line, " ")
		n, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || kind == "" {
			continue
		}
		out[kind][n] = strings.TrimSpace(name)
	}
	return out, s.Err()
}
