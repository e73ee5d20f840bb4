package seccomp

import (
	"encoding/json"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// FuzzCompile: linux.seccomp of any shape converts to a BPF program or is
// refused with an error; an accepted one is whole instructions and asks
// for notify exactly when an action is SCMP_ACT_NOTIFY. Runs a few seconds
// in `make fuzz`; corpus in testdata/fuzz/FuzzCompile.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		`{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["read","write"],"action":"SCMP_ACT_ALLOW"}]}`,
		`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":1,"args":[{"index":1,"value":448,"valueTwo":0,"op":"SCMP_CMP_MASKED_EQ"}]}]}`,
		`{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/x","syscalls":[{"names":["execve"],"action":"SCMP_ACT_NOTIFY"}]}`,
		`{"defaultAction":"SCMP_ACT_KILL_PROCESS","flags":["SECCOMP_FILTER_FLAG_LOG"],"syscalls":[{"names":["nosuchcall"],"action":"SCMP_ACT_TRACE"}]}`,
		`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":9,"value":1,"op":"SCMP_CMP_EQ"}]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var cfg specs.LinuxSeccomp
		if json.Unmarshal(data, &cfg) != nil {
			return
		}
		if len(cfg.Syscalls) > 64 {
			return // keeps each run fast; size limits are the config loader's
		}
		flt, err := Compile(&cfg)
		if err != nil {
			return
		}
		if flt.Len() == 0 || len(flt.Program)%bpfInsnSize != 0 {
			t.Fatalf("program of %d bytes", len(flt.Program))
		}
		notify := cfg.DefaultAction == specs.ActNotify
		for _, sc := range cfg.Syscalls {
			notify = notify || sc.Action == specs.ActNotify
		}
		if flt.Notify != notify {
			t.Fatalf("Notify %v, config asks %v", flt.Notify, notify)
		}
	})
}
