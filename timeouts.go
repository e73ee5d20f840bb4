package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli"

	"github.com/casco-runtime/casco/cgroups"
	"github.com/casco-runtime/casco/libcontainer"
	"github.com/casco-runtime/casco/libcontainer/duration"
)

// setTimeouts checks --systemd-timeout and --lock-timeout (or their
// environment variables) and hands them on through the environment, where
// every cgroup manager and every wait for a container's lock of this
// command reads them.
func setTimeouts(ctx *cli.Context) error {
	for flag, env := range map[string]string{"systemd-timeout": cgroups.TimeoutEnv, "lock-timeout": libcontainer.LockTimeoutEnv} {
		v := ctx.GlobalString(flag)
		if v == "" {
			continue
		}
		d, err := duration.Parse(v)
		if err != nil {
			return fmt.Errorf("--%s %w", flag, err)
		}
		if err := os.Setenv(env, d.String()); err != nil {
			return err
		}
	}
	return nil
}
