package main

import (
	"github.com/urfave/cli"
)

var pauseCommand = cli.Command{
	Name:      "pause",
	Usage:     "freeze every process of a container",
	ArgsUsage: "<container-id>",
	Action: func(ctx *cli.Context) error {
		c, err := loadContainer(ctx)
		if err != nil {
			return err
		}
		defer c.Unlock()
		return c.Pause()
	},
}

var resumeCommand = cli.Command{
	Name:      "resume",
	Usage:     "thaw a paused container",
	ArgsUsage: "<container-id>",
	Action: func(ctx *cli.Context) error {
		c, err := loadContainer(ctx)
		if err != nil {
			return err
		}
		defer c.Unlock()
		return c.Resume()
	},
}
