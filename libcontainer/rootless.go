package libcontainer

import (
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// canSetGroups tells the init whether to call setgroups (1) or leave the
// groups alone (0). A caller without privileges over the host writes the
// container's gid_map only after denying setgroups in the new namespace
// (spawn.go), so there the init keeps the groups it has and a config
// asking for supplementary groups is refused, not silently run without
// them.
func canSetGroups(u specs.User) (uint64, error) {
	if os.Geteuid() == 0 {
		return 1, nil
	}
	if len(u.AdditionalGids) > 0 {
		return 0, fmt.Errorf("process.user.additionalGids %v: a rootless container cannot set supplementary groups (setgroups is denied in its user namespace)", u.AdditionalGids)
	}
	return 0, nil
}
