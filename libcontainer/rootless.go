package libcontainer

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
)

// canSetGroups tells the init whether to call setgroups (1) or leave the
// groups alone (0), as the user namespace the process runs in allows
// (setgroupsAllowed). Where it is allowed the init sets exactly
// process.user.additionalGids, which must then be mapped. Where it is
// denied (an unprivileged caller's single-id mapping) the process keeps
// the groups it has, and a config asking for supplementary groups is
// refused, as runc refuses it, not run without them.
//
// runc (1.1 to 1.5) refuses additionalGids for any non-root caller, even where
// newgidmap left setgroups allowed; casco sets them there, as it does for
// root and as runc does under rootless podman.
//
// run.oci.keep_original_groups leaves the groups alone whatever the
// namespace allows, additionalGids unset, as crun does.
func canSetGroups(s *specs.Spec, ns *nsPlan) (uint64, error) {
	u := s.Process.User
	if keepOriginalGroups(s) {
		if len(u.AdditionalGids) > 0 {
			logrus.Debugf("%s: process.user.additionalGids %v not set, the caller's groups kept", annKeepOriginalGroups, u.AdditionalGids)
		}
		return 0, nil
	}
	if !setgroupsAllowed(ns) {
		if len(u.AdditionalGids) > 0 {
			return 0, fmt.Errorf("process.user.additionalGids %v: setgroups is denied in the container's user namespace (a single-id mapping, written without newgidmap): supplementary groups cannot be set; map subordinate gids (/etc/subgid) through linux.gidMappings to use them", u.AdditionalGids)
		}
		return 0, nil
	}
	if ns.has(specs.UserNamespace) && len(s.Linux.GIDMappings) > 0 {
		for _, g := range u.AdditionalGids {
			if !idMapped(s.Linux.GIDMappings, g) {
				return 0, fmt.Errorf("process.user.additionalGids: gid %d is not mapped by linux.gidMappings", g)
			}
		}
	}
	return 1, nil
}

func idMapped(m []specs.LinuxIDMapping, id uint32) bool {
	for _, r := range m {
		if uint64(id) >= uint64(r.ContainerID) && uint64(id) < uint64(r.ContainerID)+uint64(r.Size) {
			return true
		}
	}
	return false
}

// setgroupsAllowed reads the kernel's answer for the user namespace the
// process will run in: one joined as /proc/PID/ns/user (exec, a
// newuidmap/newgidmap holder, an engine's namespace) has it in
// /proc/PID/setgroups; a new one gets what spawn writes (denySetgroups);
// without one, casco's own namespace decides.
func setgroupsAllowed(ns *nsPlan) bool {
	for _, j := range ns.joins {
		if j.Type != specs.UserNamespace {
			continue
		}
		if pid, ok := strings.CutSuffix(strings.TrimPrefix(j.Path, "/proc/"), "/ns/user"); ok && pid != "" && !strings.Contains(pid, "/") {
			b, err := os.ReadFile("/proc/" + pid + "/setgroups")
			if err == nil {
				return !bytes.Equal(bytes.TrimSpace(b), []byte("deny"))
			}
		}
	}
	return !denySetgroups()
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
func bindSysWhereRefused(s *specs.Spec, ns *nsPlan) {
	if !ns.newUser || ns.isNew(specs.NetworkNamespace) {
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
