package libcontainer

import (
	"fmt"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

const selinuxMagic = 0xf97cff8c

// selinuxEnabled says whether the kernel enforces SELinux (selinuxfs mounted).
func selinuxEnabled() bool {
	var st unix.Statfs_t
	return unix.Statfs("/sys/fs/selinux", &st) == nil && st.Type == selinuxMagic
}

// checkSelinux: casco does not label processes or mounts. On a host
// without SELinux, labels have no meaning and are ignored, as runc ignores
// them there; on a host with SELinux, a label casco would not apply is
// refused rather than silently dropped.
func checkSelinux(processLabel, mountLabel string) error {
	if processLabel == "" && mountLabel == "" {
		return nil
	}
	if !selinuxEnabled() {
		return nil
	}
	field := "process.selinuxLabel"
	if processLabel == "" {
		field = "linux.mountLabel"
	}
	return fmt.Errorf("%s: this host enforces SELinux and casco does not apply SELinux labels", field)
}

func validateSelinux(s *specs.Spec) error {
	var mountLabel string
	if s.Linux != nil {
		mountLabel = s.Linux.MountLabel
	}
	return checkSelinux(s.Process.SelinuxLabel, mountLabel)
}
