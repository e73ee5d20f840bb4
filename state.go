package main

import (
	"encoding/json"
	"os"

	"github.com/urfave/cli"

	"github.com/casco-runtime/casco/libcontainer"
)

var stateCommand = cli.Command{
	Name:      "state",
	Usage:     "print a container's state as JSON",
	ArgsUsage: "<container-id>",
	Action: func(ctx *cli.Context) error {
		return withContainer(ctx, func(c *libcontainer.Container) error {
			enc := json.NewEncoder(os.Stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(c.OCIState())
		})
	},
}
