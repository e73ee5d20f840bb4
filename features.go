package main

import (
	"encoding/json"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/urfave/cli"

	"github.com/casco-runtime/casco/libcontainer"
)

func specVersion() string { return specs.Version }

var featuresCommand = cli.Command{
	Name:  "features",
	Usage: "print what this casco supports, as JSON (runtime-spec features)",
	Action: func(ctx *cli.Context) error {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "    ")
		return enc.Encode(libcontainer.Features())
	},
}
