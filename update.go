package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli"

	"github.com/casco-runtime/casco/libcontainer"
)

var updateCommand = cli.Command{
	Name:      "update",
	Usage:     "update container resource constraints",
	ArgsUsage: "<container-id>",
	Description: `Changes the cgroup limits of a created, running or paused container and
records them in its state. Either --resources gives a runtime-spec
LinuxResources JSON (zero values mean "leave as it is", as engines send
them), or the flags below give single values.`,
	Flags: []cli.Flag{
		cli.StringFlag{Name: "resources, r", Usage: "path to a file with the linux.resources JSON to apply, or '-' for stdin"},
		cli.StringFlag{Name: "blkio-weight", Usage: "per-cgroup block IO weight, 10 to 1000"},
		cli.StringFlag{Name: "cpu-period", Usage: "CPU CFS period in microseconds"},
		cli.StringFlag{Name: "cpu-quota", Usage: "CPU CFS quota in microseconds per period (-1: no limit)"},
		cli.StringFlag{Name: "cpu-burst", Usage: "CPU CFS burst in microseconds"},
		cli.StringFlag{Name: "cpu-share", Usage: "CPU shares (relative weight)"},
		cli.StringFlag{Name: "cpu-rt-period", Usage: "CPU realtime period in microseconds"},
		cli.StringFlag{Name: "cpu-rt-runtime", Usage: "CPU realtime runtime in microseconds"},
		cli.StringFlag{Name: "cpu-idle", Usage: "1 makes the cgroup SCHED_IDLE, 0 undoes it"},
		cli.StringFlag{Name: "cpuset-cpus", Usage: "CPUs to allow (0-3, 0,1)"},
		cli.StringFlag{Name: "cpuset-mems", Usage: "memory nodes to allow (0-3, 0,1)"},
		cli.StringFlag{Name: "memory", Usage: "memory limit (in bytes, or 64m, 1g; -1: no limit)"},
		cli.StringFlag{Name: "memory-reservation", Usage: "memory soft limit (in bytes, or 64m, 1g)"},
		cli.StringFlag{Name: "memory-swap", Usage: "memory plus swap limit (in bytes, or 64m, 1g; -1: no limit)"},
		cli.StringFlag{Name: "kernel-memory", Usage: "ignored: the kernel no longer supports kernel memory limits"},
		cli.StringFlag{Name: "kernel-memory-tcp", Usage: "kernel TCP buffer memory limit (cgroup v1 only)"},
		cli.IntFlag{Name: "pids-limit", Usage: "maximum number of processes (-1: no limit)"},
		cli.StringFlag{Name: "l3-cache-schema", Usage: "Intel RDT L3 cache schema (needs resctrl)"},
		cli.StringFlag{Name: "mem-bw-schema", Usage: "Intel RDT memory bandwidth schema (needs resctrl)"},
	},
	Action: func(ctx *cli.Context) error {
		id, err := idArg(ctx)
		if err != nil {
			return err
		}
		l3, mb := ctx.String("l3-cache-schema"), ctx.String("mem-bw-schema")
		if err := libcontainer.CheckIntelRdtUpdate(l3, mb); err != nil {
			return err
		}
		r, err := updateResources(ctx)
		if err != nil {
			return err
		}
		c, err := loadContainer(ctx)
		if err != nil {
			return err
		}
		defer c.Unlock()
		if err := c.Update(r); err != nil {
			return err
		}
		if err := c.UpdateIntelRdt(l3, mb); err != nil {
			return err
		}
		logrus.Debugf("updated %s", id)
		return nil
	},
}

// updateResources builds the update from --resources or from the flags.
func updateResources(ctx *cli.Context) (*specs.LinuxResources, error) {
	if in := ctx.String("resources"); in != "" {
		for _, f := range ctx.FlagNames() {
			if f != "resources" && ctx.IsSet(f) {
				return nil, fmt.Errorf("update: --resources and --%s cannot be used together", f)
			}
		}
		return readResources(in)
	}
	r := &specs.LinuxResources{}
	for _, f := range updateFlags {
		v := ctx.String(f.name)
		if !ctx.IsSet(f.name) || v == "" {
			continue
		}
		if err := f.set(r, v); err != nil {
			return nil, fmt.Errorf("update: invalid --%s %q: %w", f.name, v, err)
		}
	}
	if ctx.IsSet("pids-limit") { // an IntFlag: cli parsed it
		n := int64(ctx.Int("pids-limit"))
		r.Pids = &specs.LinuxPids{Limit: &n}
	}
	return r, nil
}

// updateFlags are update's single-value flags, in the order they are
// checked: each parses its value into its field of the update.
var updateFlags = []struct {
	name string
	set  func(r *specs.LinuxResources, v string) error
}{
	{"blkio-weight", func(r *specs.LinuxResources, v string) error {
		w, err := strconv.ParseUint(v, 10, 16)
		if err != nil {
			return numErr(err)
		}
		u := uint16(w)
		r.BlockIO = &specs.LinuxBlockIO{Weight: &u}
		return nil
	}},
	{"cpu-period", setCPU(parseUint, func(c *specs.LinuxCPU) **uint64 { return &c.Period })},
	{"cpu-burst", setCPU(parseUint, func(c *specs.LinuxCPU) **uint64 { return &c.Burst })},
	{"cpu-share", setCPU(parseUint, func(c *specs.LinuxCPU) **uint64 { return &c.Shares })},
	{"cpu-rt-period", setCPU(parseUint, func(c *specs.LinuxCPU) **uint64 { return &c.RealtimePeriod })},
	{"cpu-quota", setCPU(parseInt, func(c *specs.LinuxCPU) **int64 { return &c.Quota })},
	{"cpu-rt-runtime", setCPU(parseInt, func(c *specs.LinuxCPU) **int64 { return &c.RealtimeRuntime })},
	{"cpu-idle", setCPU(parseInt, func(c *specs.LinuxCPU) **int64 { return &c.Idle })},
	{"cpuset-cpus", func(r *specs.LinuxResources, v string) error { cpuOf(r).Cpus = v; return nil }},
	{"cpuset-mems", func(r *specs.LinuxResources, v string) error { cpuOf(r).Mems = v; return nil }},
	{"memory", setSize(func(m *specs.LinuxMemory) **int64 { return &m.Limit })},
	{"memory-reservation", setSize(func(m *specs.LinuxMemory) **int64 { return &m.Reservation })},
	{"memory-swap", setSize(func(m *specs.LinuxMemory) **int64 { return &m.Swap })},
	{"kernel-memory-tcp", setSize(func(m *specs.LinuxMemory) **int64 { return &m.KernelTCP })},
	{"kernel-memory", func(*specs.LinuxResources, string) error {
		logrus.Warn("update: --kernel-memory is ignored: the kernel no longer supports kernel memory limits")
		return nil
	}},
}

// cpuOf is the update's cpu section, made on first use.
func cpuOf(r *specs.LinuxResources) *specs.LinuxCPU {
	if r.CPU == nil {
		r.CPU = &specs.LinuxCPU{}
	}
	return r.CPU
}

// memoryOf is the update's memory section, made on first use.
func memoryOf(r *specs.LinuxResources) *specs.LinuxMemory {
	if r.Memory == nil {
		r.Memory = &specs.LinuxMemory{}
	}
	return r.Memory
}

// setCPU sets a cpu field to the value parse makes of the flag's.
func setCPU[T any](parse func(string) (T, error), field func(*specs.LinuxCPU) **T) func(*specs.LinuxResources, string) error {
	return func(r *specs.LinuxResources, v string) error {
		n, err := parse(v)
		if err != nil {
			return err
		}
		*field(cpuOf(r)) = &n
		return nil
	}
}

// setSize sets a memory field from a size (64m, 1g, -1).
func setSize(field func(*specs.LinuxMemory) **int64) func(*specs.LinuxResources, string) error {
	return func(r *specs.LinuxResources, v string) error {
		n, err := ramInBytes(v)
		if err != nil {
			return err
		}
		*field(memoryOf(r)) = &n
		return nil
	}
}

func parseUint(v string) (uint64, error) {
	n, err := strconv.ParseUint(v, 10, 64)
	return n, numErr(err)
}

func parseInt(v string) (int64, error) {
	n, err := strconv.ParseInt(v, 10, 64)
	return n, numErr(err)
}

// readResources decodes a LinuxResources JSON from a file or stdin ("-").
func readResources(in string) (*specs.LinuxResources, error) {
	var src io.Reader = os.Stdin
	name := "stdin"
	if in != "-" {
		f, err := os.Open(in)
		if err != nil {
			return nil, fmt.Errorf("update: --resources: %w", err)
		}
		defer f.Close()
		src, name = f, in
	}
	var r specs.LinuxResources
	dec := json.NewDecoder(src)
	if err := dec.Decode(&r); err != nil {
		if err == io.EOF {
			return nil, fmt.Errorf("update: --resources %s: no JSON given", name)
		}
		return nil, fmt.Errorf("update: --resources %s: not a linux.resources JSON object: %w", name, err)
	}
	return &r, nil
}

func numErr(err error) error {
	var ne *strconv.NumError
	if errors.As(err, &ne) {
		return ne.Err
	}
	return err
}

// ramInBytes parses a size as docker/go-units' RAMInBytes does (the parser
// runc uses): a decimal number with an optional binary unit suffix
// (k, m, g, t, p; "b", "ib" allowed after it). "-1" means no limit.
// Scanned by hand: its regexp was the only one in casco, and the regexp
// package is set up by every casco start that links it.
func ramInBytes(s string) (int64, error) {
	if s == "-1" {
		return -1, nil
	}
	num, unit, ok := splitSize(s)
	if !ok {
		return 0, errors.New("want a size such as 1048576, 64m or 1g (or -1)")
	}
	n, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, numErr(err)
	}
	mult := 1.0
	if unit != 0 {
		mult = math.Pow(1024, float64(strings.IndexByte("kmgtp", unit|0x20)+1))
	}
	v := n * mult
	if v >= math.MaxInt64 {
		return 0, errors.New("value out of range")
	}
	return int64(v), nil
}

// splitSize matches ^(\d+(\.\d+)*) ?([kmgtp])?i?b?$ (letters in either
// case) and returns the number and the unit letter (0 for none).
func splitSize(s string) (num string, unit byte, ok bool) {
	digits := func(i int) int {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i
	}
	i := digits(0)
	if i == 0 {
		return "", 0, false
	}
	for i+1 < len(s) && s[i] == '.' && digits(i+1) > i+1 {
		i = digits(i + 1)
	}
	num, rest := s[:i], s[i:]
	rest = strings.TrimPrefix(rest, " ")
	if rest != "" && strings.IndexByte("kmgtp", rest[0]|0x20) >= 0 {
		unit, rest = rest[0], rest[1:]
	}
	if rest != "" && rest[0]|0x20 == 'i' {
		rest = rest[1:]
	}
	if rest != "" && rest[0]|0x20 == 'b' {
		rest = rest[1:]
	}
	return num, unit, rest == ""
}
