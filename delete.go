package main

import (
	"errors"

	"github.com/urfave/cli"

	"github.com/casco-runtime/casco/libcontainer"
)

var deleteCommand = cli.Command{
	Name:      "delete",
	Usage:     "delete a container: its processes (with --force), cgroups and state",
	ArgsUsage: "<container-id>",
	Flags: []cli.Flag{
		cli.BoolFlag{Name: "force, f", Usage: "kill the container first if it is running"},
	},
	Action: func(ctx *cli.Context) error {
		if ctx.Bool("force") {
			id, err := idArg(ctx)
			if err != nil {
				return err
			}
			if err := libcontainer.ForceDelete(ctx.GlobalString("root"), id); err != nil && !errors.Is(err, libcontainer.ErrNotExist) {
				return err
			}
			return nil
		}
		c, err := loadContainer(ctx)
		if err != nil {
			return err
		}
		return c.Delete(false)
	},
}
