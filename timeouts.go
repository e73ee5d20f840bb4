package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/urfave/cli"

	"github.com/casco-runtime/casco/cgroups"
)

// setSystemdTimeout checks --systemd-timeout (or CASCO_SYSTEMD_TIMEOUT) and
// hands it to the cgroup driver through the environment, where every
// manager of this command, made or loaded, reads it.
func setSystemdTimeout(ctx *cli.Context) error {
	v := ctx.GlobalString("systemd-timeout")
	if v == "" {
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		n, nerr := strconv.Atoi(v)
		d, err = time.Duration(n)*time.Second, nerr
	}
	if err != nil || d <= 0 {
		return fmt.Errorf("--systemd-timeout %q: want a positive duration such as 20s", v)
	}
	return os.Setenv(cgroups.TimeoutEnv, d.String())
}
