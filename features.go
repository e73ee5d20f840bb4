package main

import (
	"encoding/json"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
	"github.com/urfave/cli"

	"github.com/casco-runtime/casco/libcontainer"
)

func specVersion() string { return specs.Version }

var featuresCommand = cli.Command{
	Name:  "features",
	Usage: "print what this casco supports, as JSON (runtime-spec features)",
	Action: func(ctx *cli.Context) error {
		f := libcontainer.Features()
		// only here does casco run CRIU to see whether it works
		if err := libcontainer.CriuUsable(ctx.GlobalString("criu")); err == nil {
			f.Annotations["org.opencontainers.runc.checkpoint.enabled"] = "true"
		} else {
			logrus.Debugf("checkpoint/restore not available: %v", err)
		}
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "    ")
		return enc.Encode(f)
	},
}
