package main

import "github.com/urfave/cli"

var startCommand = cli.Command{
	Name:      "start",
	Usage:     "start a created container: run its process",
	ArgsUsage: "<container-id>",
	Action: func(ctx *cli.Context) error {
		c, err := loadContainer(ctx)
		if err != nil {
			return err
		}
		defer c.Unlock()
		return c.Start(trace(ctx))
	},
}
