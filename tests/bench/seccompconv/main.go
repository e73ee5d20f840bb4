// Command seccompconv turns a podman/Docker-style seccomp profile (such as
// /usr/share/containers/seccomp.json) into a plain runtime-spec
// linux.seccomp and writes it into a copy of a bundle's config.json.
//
// The profile format differs from the runtime-spec one: it has an archMap
// (an architecture and its sub-architectures), and every rule may carry
// includes/excludes conditions (capabilities, architectures, a minimum
// kernel) plus fields the spec does not know (comment, errno names). This
// program evaluates the conditions the way an engine does for one
// container: the native architecture (amd64 here), the capabilities of the
// config's bounding set, and the running kernel.
//
//	seccompconv -profile seccomp.json -config in/config.json -o out/config.json
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

type profile struct {
	DefaultAction   specs.LinuxSeccompAction `json:"defaultAction"`
	DefaultErrnoRet *uint                    `json:"defaultErrnoRet"`
	Architectures   []specs.Arch             `json:"architectures"`
	ArchMap         []struct {
		Arch    specs.Arch   `json:"architecture"`
		SubArch []specs.Arch `json:"subArchitectures"`
	} `json:"archMap"`
	Flags    []specs.LinuxSeccompFlag `json:"flags"`
	Syscalls []rule                   `json:"syscalls"`
}

type rule struct {
	Name     string                   `json:"name"`
	Names    []string                 `json:"names"`
	Action   specs.LinuxSeccompAction `json:"action"`
	ErrnoRet *uint                    `json:"errnoRet"`
	Args     []specs.LinuxSeccompArg  `json:"args"`
	Includes filter                   `json:"includes"`
	Excludes filter                   `json:"excludes"`
}

type filter struct {
	Caps      []string `json:"caps"`
	Arches    []string `json:"arches"`
	MinKernel string   `json:"minKernel"`
}

// libseccomp's name for each Go architecture this program may run on
var nativeArch = map[string]specs.Arch{
	"amd64":   specs.ArchX86_64,
	"386":     specs.ArchX86,
	"arm64":   specs.ArchAARCH64,
	"arm":     specs.ArchARM,
	"s390x":   specs.ArchS390X,
	"ppc64le": specs.ArchPPC64LE,
	"riscv64": specs.ArchRISCV64,
}

func main() {
	profilePath := flag.String("profile", "/usr/share/containers/seccomp.json", "podman/Docker seccomp profile")
	configPath := flag.String("config", "", "bundle config.json to read")
	outPath := flag.String("o", "", "config.json to write (with linux.seccomp set)")
	flag.Parse()
	if *configPath == "" || *outPath == "" {
		fmt.Fprintln(os.Stderr, "usage: seccompconv -profile PROFILE -config IN.json -o OUT.json")
		os.Exit(2)
	}
	if err := convertFiles(*profilePath, *configPath, *outPath); err != nil {
		fmt.Fprintln(os.Stderr, "seccompconv:", err)
		os.Exit(1)
	}
}

func convertFiles(profilePath, configPath, outPath string) error {
	var p profile
	if err := readJSON(profilePath, &p); err != nil {
		return err
	}
	var config map[string]any
	if err := readJSON(configPath, &config); err != nil {
		return err
	}
	caps, err := boundingCaps(config)
	if err != nil {
		return fmt.Errorf("%s: %w", configPath, err)
	}
	kernel, err := kernelVersion()
	if err != nil {
		return err
	}
	sc, err := convert(&p, runtime.GOARCH, caps, kernel)
	if err != nil {
		return fmt.Errorf("%s: %w", profilePath, err)
	}
	linux, _ := config["linux"].(map[string]any)
	if linux == nil {
		linux = map[string]any{}
		config["linux"] = linux
	}
	linux["seccomp"] = sc
	out, err := json.MarshalIndent(config, "", "\t")
	if err != nil {
		return err
	}
	if err := os.WriteFile(outPath, append(out, '\n'), 0o644); err != nil {
		return err
	}
	n := 0
	for _, r := range sc.Syscalls {
		n += len(r.Names)
	}
	fmt.Fprintf(os.Stderr, "seccompconv: %d rules (%d syscall names) of %d kept for %s, caps %v\n",
		len(sc.Syscalls), n, len(p.Syscalls), runtime.GOARCH, capNames(caps))
	return nil
}

// convert keeps the rules that apply to a container on goarch holding caps,
// on a kernel of version kernel.
func convert(p *profile, goarch string, caps map[string]bool, kernel [2]int) (*specs.LinuxSeccomp, error) {
	sc := &specs.LinuxSeccomp{
		DefaultAction:   p.DefaultAction,
		DefaultErrnoRet: p.DefaultErrnoRet,
		Flags:           p.Flags,
	}
	native, ok := nativeArch[goarch]
	if !ok {
		return nil, fmt.Errorf("no seccomp architecture known for %s", goarch)
	}
	switch {
	case len(p.Architectures) > 0:
		sc.Architectures = p.Architectures
	default:
		for _, m := range p.ArchMap {
			if m.Arch == native {
				sc.Architectures = append([]specs.Arch{m.Arch}, m.SubArch...)
			}
		}
	}
	for i, r := range p.Syscalls {
		keep, err := applies(r, goarch, caps, kernel)
		if err != nil {
			return nil, fmt.Errorf("syscalls[%d]: %w", i, err)
		}
		if !keep {
			continue
		}
		names := r.Names
		if r.Name != "" {
			names = append([]string{r.Name}, names...)
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("syscalls[%d]: no names", i)
		}
		sc.Syscalls = append(sc.Syscalls, specs.LinuxSyscall{
			Names:    names,
			Action:   r.Action,
			ErrnoRet: r.ErrnoRet,
			Args:     r.Args,
		})
	}
	return sc, nil
}

// applies evaluates a rule's includes (all must hold) and excludes (none may).
func applies(r rule, goarch string, caps map[string]bool, kernel [2]int) (bool, error) {
	in, ex := r.Includes, r.Excludes
	if len(in.Arches) > 0 && !contains(in.Arches, goarch) {
		return false, nil
	}
	for _, c := range in.Caps {
		if !caps[c] {
			return false, nil
		}
	}
	if in.MinKernel != "" {
		min, err := parseKernel(in.MinKernel)
		if err != nil {
			return false, fmt.Errorf("includes.minKernel: %w", err)
		}
		if less(kernel, min) {
			return false, nil
		}
	}
	if contains(ex.Arches, goarch) {
		return false, nil
	}
	for _, c := range ex.Caps {
		if caps[c] {
			return false, nil
		}
	}
	if ex.MinKernel != "" {
		min, err := parseKernel(ex.MinKernel)
		if err != nil {
			return false, fmt.Errorf("excludes.minKernel: %w", err)
		}
		if !less(kernel, min) {
			return false, nil
		}
	}
	return true, nil
}

// boundingCaps is the container's capability set as an engine would test it.
func boundingCaps(config map[string]any) (map[string]bool, error) {
	caps := map[string]bool{}
	proc, _ := config["process"].(map[string]any)
	if proc == nil {
		return nil, fmt.Errorf("no process")
	}
	c, _ := proc["capabilities"].(map[string]any)
	if c == nil {
		return caps, nil
	}
	list, _ := c["bounding"].([]any)
	for _, v := range list {
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("process.capabilities.bounding: %v is not a string", v)
		}
		caps[s] = true
	}
	return caps, nil
}

func kernelVersion() ([2]int, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return [2]int{}, err
	}
	return parseKernel(unix.ByteSliceToString(u.Release[:]))
}

// parseKernel reads "major.minor" from a release such as 6.18.44-foo.
func parseKernel(s string) ([2]int, error) {
	parts := strings.SplitN(s, ".", 3)
	if len(parts) < 2 {
		return [2]int{}, fmt.Errorf("kernel version %q: want major.minor", s)
	}
	var v [2]int
	for i := 0; i < 2; i++ {
		digits := strings.TrimRightFunc(parts[i], func(r rune) bool { return r < '0' || r > '9' })
		n, err := strconv.Atoi(digits)
		if err != nil {
			return [2]int{}, fmt.Errorf("kernel version %q: %w", s, err)
		}
		v[i] = n
	}
	return v, nil
}

func less(a, b [2]int) bool { return a[0] < b[0] || (a[0] == b[0] && a[1] < b[1]) }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func capNames(caps map[string]bool) []string {
	var out []string
	for c := range caps {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
