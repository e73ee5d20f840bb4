package main

import (
	"github.com/urfave/cli"
	"golang.org/x/sys/unix"

	"github.com/casco-runtime/casco/libcontainer"
)

var killCommand = cli.Command{
	Name:      "kill",
	Usage:     "send a signal to a container's init (default SIGTERM)",
	ArgsUsage: "<container-id> [signal]",
	Flags: []cli.Flag{
		cli.BoolFlag{Name: "all, a", Usage: "signal every process in the container's cgroup"},
	},
	Action: func(ctx *cli.Context) error {
		if ctx.NArg() < 1 || ctx.NArg() > 2 {
			return cli.NewExitError("kill: expects a container ID and an optional signal", 1)
		}
		id := ctx.Args().Get(0)
		sig := unix.SIGTERM
		if ctx.NArg() == 2 {
			s, err := libcontainer.ParseSignal(ctx.Args().Get(1))
			if err != nil {
				return err
			}
			sig = s
		}
		if err := libcontainer.ValidateID(id); err != nil {
			return err
		}
		// no lock: a signal must reach the container even while another
		// command holds it (an exec waiting on a frozen process, a start)
		c, err := libcontainer.Open(ctx.GlobalString("root"), id)
		if err != nil {
			return err
		}
		return c.Signal(sig, ctx.Bool("all"))
	},
}
