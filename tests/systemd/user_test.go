package systemd

import (
	"encoding/json"
	"fmt"
	"os"
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
	b := bundleFrom(t, []string{"spec", "--rootless"}, "", nil, "sleep", "1000")
	t.Cleanup(func() { rt(t, "delete", "--force", id) })
	mustRT(t, "create", "--bundle", b, id)
	mustRT(t, "start", id)
	var st struct {
		Pid int `json:"pid"`
	}
	if err := json.Unmarshal([]byte(mustRT(t, "state", id)), &st); err != nil {
		t.Fatal(err)
	}
	uid := os.Geteuid()
	unit := fmt.Sprintf("%s-%s.scope", shortName(), id)
	want := fmt.Sprintf("/sys/fs/cgroup/user.slice/user-%d.slice/user@%d.service/user.slice/%s", uid, uid, unit)
	if dir := cgroupOf(t, st.Pid); dir != want {
		t.Errorf("the container's init is in %s, want %s", dir, want)
	}
	mustRT(t, "delete", "--force", id)
	poll(t, "the user's "+unit+" gone", func() bool {
		_, err := os.Stat(want)
		return os.IsNotExist(err)
	})
}
