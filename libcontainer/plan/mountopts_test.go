package plan

import (
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestParseMountExt(t *testing.T) {
	for _, tc := range []struct {
		opts     []string
		set, clr uint64
	}{
		{[]string{"rro"}, unix.MOUNT_ATTR_RDONLY, 0},
		{[]string{"rro", "rrw"}, 0, unix.MOUNT_ATTR_RDONLY},
		{[]string{"rrw", "rro"}, unix.MOUNT_ATTR_RDONLY, 0},
		{[]string{"rnosuid", "rnodev", "rnoexec"}, unix.MOUNT_ATTR_NOSUID | unix.MOUNT_ATTR_NODEV | unix.MOUNT_ATTR_NOEXEC, 0},
		// atime is a field: the last value wins and the field is always cleared first
		{[]string{"rnoatime"}, unix.MOUNT_ATTR_NOATIME, unix.MOUNT_ATTR__ATIME},
		{[]string{"rnoatime", "rstrictatime"}, unix.MOUNT_ATTR_STRICTATIME, unix.MOUNT_ATTR__ATIME},
		{[]string{"rstrictatime", "ratime"}, unix.MOUNT_ATTR_RELATIME, unix.MOUNT_ATTR__ATIME},
		{[]string{"rnodiratime", "rsymfollow"}, unix.MOUNT_ATTR_NODIRATIME, unix.MOUNT_ATTR_NOSYMFOLLOW},
	} {
		e := ParseMountExt(tc.opts)
		if !e.Recursive || e.AttrSet != tc.set || e.AttrClr != tc.clr {
			t.Errorf("%v: set %#x clr %#x recursive %v; want set %#x clr %#x", tc.opts, e.AttrSet, e.AttrClr, e.Recursive, tc.set, tc.clr)
		}
	}
	if e := ParseMountExt([]string{"ro", "nosuid"}); e.Recursive {
		t.Errorf("plain flags taken as recursive attributes")
	}
}

func TestCheckMountKind(t *testing.T) {
	bind := func(opts ...string) specs.Mount {
		return specs.Mount{Destination: "/d", Type: "bind", Source: "/tmp", Options: opts}
	}
	tmpfs := func(opts ...string) specs.Mount {
		return specs.Mount{Destination: "/d", Type: "tmpfs", Source: "tmpfs", Options: opts}
	}
	for _, m := range []specs.Mount{bind("rbind", "rro", "rnosuid"), tmpfs("size=1m", "rro"), bind("rbind", "x-foo"), tmpfs("tmpcopyup"), bind("rbind", "ridmap")} {
		if err := CheckMountKind(m); err != nil {
			t.Errorf("%v: %v", m.Options, err)
		}
	}
	for _, tc := range []struct {
		m    specs.Mount
		want string
	}{
		{bind("rbind", "size=1m"), "size=1m"},
		{specs.Mount{Destination: "/d", Type: "none", Source: "/tmp", Options: []string{"bind", "rdonly"}}, "rdonly"},
		{bind("rbind", "tmpcopyup"), "tmpcopyup"},
	} {
		err := CheckMountKind(tc.m)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want an error naming %q", tc.m.Options, err, tc.want)
		}
	}
}
