package main

import (
	"github.com/urfave/cli"

	"github.com/casco-runtime/casco/libcontainer"
)

var pauseCommand = cli.Command{
	Name:      "pause",
	Usage:     "freeze every process of a container",
	ArgsUsage: "<container-id>",
	Action: func(ctx *cli.Context) error {
		return withContainer(ctx, (*libcontainer.Container).Pause)
	},
}

var resumeCommand = cli.Command{
	Name:      "resume",
	Usage:     "thaw a paused container",
	ArgsUsage: "<container-id>",
	Action: func(ctx *cli.Context) error {
		return withContainer(ctx, (*libcontainer.Container).Resume)
	},
}
