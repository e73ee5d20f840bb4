package main

import (
	"encoding/json"
	"testing"
)

func TestConvertKeepsNativeRulesAndHeldCaps(t *testing.T) {
	const src = `{
		"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "defaultErrno": "ENOSYS",
		"archMap": [
			{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]},
			{"architecture": "SCMP_ARCH_AARCH64", "subArchitectures": ["SCMP_ARCH_ARM"]}
		],
		"syscalls": [
			{"names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "args": [], "comment": "", "includes": {}, "excludes": {}},
			{"names": ["arch_prctl"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["amd64", "x32"]}, "excludes": {}},
			{"names": ["cacheflush"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm", "arm64"]}},
			{"names": ["chroot"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_CHROOT"]}},
			{"names": ["chroot"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "errno": "EPERM", "excludes": {"caps": ["CAP_SYS_CHROOT"]}},
			{"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": null, "includes": {"caps": ["CAP_AUDIT_WRITE"]}},
			{"names": ["socket"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 2, "value": 9, "op": "SCMP_CMP_NE"}], "excludes": {"caps": ["CAP_AUDIT_WRITE"]}},
			{"names": ["new_one"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "7.1"}},
			{"names": ["old_one"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "4.8"}}
		]
	}`
	var p profile
	if err := json.Unmarshal([]byte(src), &p); err != nil {
		t.Fatal(err)
	}
	caps := map[string]bool{"CAP_AUDIT_WRITE": true, "CAP_KILL": true}
	sc, err := convert(&p, "amd64", caps, [2]int{6, 18})
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Architectures) != 3 || sc.Architectures[0] != "SCMP_ARCH_X86_64" {
		t.Errorf("architectures %v", sc.Architectures)
	}
	if sc.DefaultErrnoRet == nil || *sc.DefaultErrnoRet != 38 {
		t.Errorf("defaultErrnoRet %v", sc.DefaultErrnoRet)
	}
	var got []string
	for _, r := range sc.Syscalls {
		got = append(got, r.Names[0]+":"+string(r.Action))
	}
	want := []string{"read:SCMP_ACT_ALLOW", "arch_prctl:SCMP_ACT_ALLOW", "chroot:SCMP_ACT_ERRNO", "socket:SCMP_ACT_ALLOW", "old_one:SCMP_ACT_ALLOW"}
	if len(got) != len(want) {
		t.Fatalf("kept %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("kept %v, want %v", got, want)
		}
	}
	if sc.Syscalls[3].Args != nil {
		t.Errorf("the unconditional socket rule got args %v", sc.Syscalls[3].Args)
	}
	// the output must be plain runtime-spec: no podman-only keys
	out, _ := json.Marshal(sc)
	var m map[string]any
	json.Unmarshal(out, &m)
	for _, k := range []string{"archMap", "defaultErrno"} {
		if _, ok := m[k]; ok {
			t.Errorf("output has %q", k)
		}
	}
}
