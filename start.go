package main

import (
	"github.com/urfave/cli"

	"github.com/casco-runtime/casco/libcontainer"
)

var startCommand = cli.Command{
	Name:      "start",
	Usage:     "start a created container: run its process",
	ArgsUsage: "<container-id>",
	Action: func(ctx *cli.Context) error {
		return withContainer(ctx, func(c *libcontainer.Container) error { return c.Start(trace(ctx)) })
	},
}
