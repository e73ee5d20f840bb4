package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli"

	"github.com/casco-runtime/casco/libcontainer"
)

// defaultRoot is where state lives when --root is not given: /run/casco
// for root, $XDG_RUNTIME_DIR/casco for anyone else, as runc picks
// /run/runc or $XDG_RUNTIME_DIR/runc (an unprivileged user cannot write
// /run, and must not share a state root with root).
func defaultRoot() string {
	if xdg := os.Getenv("XDG_RUNTIME_DIR"); xdg != "" && honorXDGRuntimeDir() {
		return xdg + "/casco"
	}
	return "/run/casco"
}

// honorXDGRuntimeDir is runc's rule: any non-root caller; uid 0 only when
// it is root of a user namespace rather than of the host and USER does not
// say root (rootless podman calls the runtime that way).
func honorXDGRuntimeDir() bool {
	if os.Geteuid() != 0 {
		return true
	}
	if !libcontainer.RunningInUserNS() {
		return false
	}
	return os.Getenv("USER") != "root"
}

// rootlessCgroups reads --rootless: true or false as given; auto (the
// default) means true for a non-root caller and for uid 0 of a user
// namespace, which has no say over the host's cgroup tree either (runc's
// rule for its fs driver).
func rootlessCgroups(ctx *cli.Context) bool {
	switch ctx.GlobalString("rootless") {
	case "true":
		return true
	case "false":
		return false
	}
	return os.Geteuid() != 0 || libcontainer.RunningInUserNS()
}

// checkRootlessFlag refuses a --rootless value runc would refuse, before
// any command runs.
func checkRootlessFlag(ctx *cli.Context) error {
	switch v := ctx.GlobalString("rootless"); v {
	case "true", "false", "auto", "":
		return nil
	default:
		return fmt.Errorf("--rootless %q: want true, false or auto", v)
	}
}
