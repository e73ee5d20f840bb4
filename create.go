package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli"

	"github.com/casco-runtime/casco/libcontainer"
)

var createFlags = []cli.Flag{
	cli.StringFlag{Name: "bundle, b", Value: "", Usage: "path to the bundle (default: current directory)"},
	cli.StringFlag{Name: "console-socket", Usage: "unix socket that receives the pty master when process.terminal is true"},
	cli.StringFlag{Name: "pid-file", Usage: "write the init's pid to this file"},
	cli.BoolFlag{Name: "no-pivot", Usage: "use move + chroot instead of pivot_root (for a rootfs on ramfs)"},
	cli.BoolFlag{Name: "no-new-keyring", Usage: "do not create a session keyring for the container"},
	cli.IntFlag{Name: "preserve-fds", Usage: "pass this many fds after stdio (3..3+N-1) to the container"},
	cli.StringFlag{Name: "pidfd-socket", Usage: "unix socket that receives a pidfd of the container's init"},
}

var createCommand = cli.Command{
	Name:      "create",
	Usage:     "create a container, parked before it runs its process",
	ArgsUsage: "<container-id>",
	Flags:     createFlags,
	Action: func(ctx *cli.Context) error {
		id, err := idArg(ctx)
		if err != nil {
			return err
		}
		o := createOpts(ctx, id)
		// a stop signal while the init is being set up ends create cleanly
		if o.Abort, err = catchStop(); err != nil {
			return fmt.Errorf("create %q: %w", id, err)
		}
		c, _, err := libcontainer.Create(o)
		if err != nil {
			return fmt.Errorf("create %q: %w", id, err)
		}
		c.Unlock()
		return nil
	},
}

func createOpts(ctx *cli.Context, id string) *libcontainer.CreateOpts {
	bundle := ctx.String("bundle")
	if bundle == "" {
		bundle = "."
	}
	return &libcontainer.CreateOpts{
		Root:          ctx.GlobalString("root"),
		ID:            id,
		Bundle:        bundle,
		PidFile:       ctx.String("pid-file"),
		PidfdSocket:   ctx.String("pidfd-socket"),
		ConsoleSocket: ctx.String("console-socket"),
		NoPivot:       ctx.Bool("no-pivot"),
		NoNewKeyring:  ctx.Bool("no-new-keyring"),
		PreserveFds:   ctx.Int("preserve-fds"),
		Systemd:       ctx.GlobalBool("systemd-cgroup"),
		Rootless:      rootlessCgroups(ctx),
		Stdin:         os.Stdin,
		Stdout:        os.Stdout,
		Stderr:        os.Stderr,
		Trace:         trace(ctx),
	}
}
