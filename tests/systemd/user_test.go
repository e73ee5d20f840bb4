package systemd

import (
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestUserInstance: the rootless path on a systemd host. Run as an
// unprivileged user whose `systemd --user` runs (run.sh's user suite):
// the container's scope is made by the user's manager, in its user.slice.
func TestUserInstance(t *testing.T) {
	if runtimeBin == "" {
		t.Skip("RUNTIME is not set (tests/systemd/run.sh runs these in the systemd guest)")
	}
	if os.Geteuid() == 0 {
		t.Skip("the user instance is for non-root callers (run.sh's user suite runs this as a user)")
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		t.Skip("no DBUS_SESSION_BUS_ADDRESS: no user bus to reach `systemd --user`")
	}
	id := newID(t)
	b := bundleFrom(t, []string{"spec", "--rootless"}, "", nil, "cat", "/proc/self/cgroup")
	t.Cleanup(func() { rt(t, "delete", "--force", id) })
	out := mustRT(t, "run", "--bundle", b, id)
	uid := os.Geteuid()
	want := fmt.Sprintf("0::/user.slice/user-%d.slice/user@%d.service/user.slice/%s-%s.scope", uid, uid, shortName(), id)
	if !strings.Contains(out, want) {
		t.Errorf("the container's /proc/self/cgroup is %q, want %q", out, want)
	}
}
