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
	cpu := func() *specs.LinuxCPU {
		if r.CPU == nil {
			r.CPU = &specs.LinuxCPU{}
		}
		return r.CPU
	}
	mem := func() *specs.LinuxMemory {
		if r.Memory == nil {
			r.Memory = &specs.LinuxMemory{}
		}
		return r.Memory
	}
	given := func(name string) (string, bool) {
		v := ctx.String(name)
		return v, ctx.IsSet(name) && v != ""
	}
	if v, ok := given("blkio-weight"); ok {
		w, err := strconv.ParseUint(v, 10, 16)
		if err != nil {
			return nil, fmt.Errorf("update: invalid --blkio-weight %q: %w", v, numErr(err))
		}
		u := uint16(w)
		r.BlockIO = &specs.LinuxBlockIO{Weight: &u}
	}
	for _, f := range []struct {
		name string
		dst  func() **uint64
	}{
		{"cpu-period", func() **uint64 { return &cpu().Period }},
		{"cpu-burst", func() **uint64 { return &cpu().Burst }},
		{"cpu-share", func() **uint64 { return &cpu().Shares }},
		{"cpu-rt-period", func() **uint64 { return &cpu().RealtimePeriod }},
	} {
		if v, ok := given(f.name); ok {
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("update: invalid --%s %q: %w", f.name, v, numErr(err))
			}
			*f.dst() = &n
		}
	}
	for _, f := range []struct {
		name string
		dst  func() **int64
	}{
		{"cpu-quota", func() **int64 { return &cpu().Quota }},
		{"cpu-rt-runtime", func() **int64 { return &cpu().RealtimeRuntime }},
		{"cpu-idle", func() **int64 { return &cpu().Idle }},
	} {
		if v, ok := given(f.name); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("update: invalid --%s %q: %w", f.name, v, numErr(err))
			}
			*f.dst() = &n
		}
	}
	if v, ok := given("cpuset-cpus"); ok {
		cpu().Cpus = v
	}
	if v, ok := given("cpuset-mems"); ok {
		cpu().Mems = v
	}
	for _, f := range []struct {
		name string
		dst  func() **int64
	}{
		{"memory", func() **int64 { return &mem().Limit }},
		{"memory-reservation", func() **int64 { return &mem().Reservation }},
		{"memory-swap", func() **int64 { return &mem().Swap }},
		{"kernel-memory-tcp", func() **int64 { return &mem().KernelTCP }},
	} {
		if v, ok := given(f.name); ok {
			n, err := ramInBytes(v)
			if err != nil {
				return nil, fmt.Errorf("update: invalid --%s %q: %w", f.name, v, err)
			}
			*f.dst() = &n
		}
	}
	if _, ok := given("kernel-memory"); ok {
		logrus.Warn("update: --kernel-memory is ignored: the kernel no longer supports kernel memory limits")
	}
	if ctx.IsSet("pids-limit") {
		n := int64(ctx.Int("pids-limit"))
		r.Pids = &specs.LinuxPids{Limit: &n}
	}
	return r, nil
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
