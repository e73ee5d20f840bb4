package libcontainer

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// canSetGroups tells the init whether to call setgroups (1) or leave the
// groups alone (0). Where setgroups is denied (denySetgroups) the init
// keeps the groups it has and a config
// asking for supplementary groups is refused, not silently run without
// them.
func canSetGroups(u specs.User) (uint64, error) {
	if !denySetgroups() {
		return 1, nil
	}
	if len(u.AdditionalGids) > 0 {
		return 0, fmt.Errorf("process.user.additionalGids %v: a rootless container cannot set supplementary groups (setgroups is denied in its user namespace)", u.AdditionalGids)
	}
	return 0, nil
}

// denySetgroups: the container's user namespace gets setgroups "deny"
// when casco runs as a non-root user (the kernel wants it before an
// unprivileged gid_map write), and when casco's own namespace already
// denies it (`unshare --map-root-user`, rootless podman's parent): a
// child namespace inherits the denial and cannot lift it.
func denySetgroups() bool {
	if os.Geteuid() != 0 {
		return true
	}
	b, err := os.ReadFile("/proc/self/setgroups")
	return err == nil && bytes.Equal(bytes.TrimSpace(b), []byte("deny"))
}

// bindSysWhereRefused turns a sysfs mount the kernel would refuse into a
// recursive bind of the host's /sys with the same options, as runc does.
// Mounting sysfs takes CAP_SYS_ADMIN over the user namespace that owns
// the network namespace: a container that creates its own user namespace
// but keeps a network namespace it did not create (the host's, or one
// joined by path) is always refused. The bind shows the same host sysfs a
// sysfs mount in that network namespace would, and the host's locked
// flags (nosuid, nodev, noexec) stay on it.
func bindSysWhereRefused(s *specs.Spec) {
	if !hasNamespace(s, specs.UserNamespace) || nsPath(s, specs.UserNamespace) != "" {
		return
	}
	if hasNamespace(s, specs.NetworkNamespace) && nsPath(s, specs.NetworkNamespace) == "" {
		return
	}
	for i, m := range s.Mounts {
		if m.Type != "sysfs" {
			continue
		}
		opts := []string{"rbind"}
		opts = append(opts, m.Options...)
		s.Mounts[i] = specs.Mount{Destination: m.Destination, Type: "bind", Source: "/sys", Options: opts}
	}
}

// RunningInUserNS reports whether casco runs in a user namespace other
// than the initial one, which alone maps the whole 32-bit range.
func RunningInUserNS() bool {
	f, err := os.Open("/proc/self/uid_map")
	if err != nil {
		return false
	}
	defer f.Close()
	line, _ := bufio.NewReader(f).ReadString('\n')
	return strings.Join(strings.Fields(line), " ") != "0 0 4294967295"
}
