package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli"

	"github.com/casco-runtime/casco/libcontainer"
)

var eventsCommand = cli.Command{
	Name:      "events",
	Usage:     "display container events such as OOM kills and cpu, memory and IO usage statistics",
	ArgsUsage: "<container-id>",
	Description: `Prints one JSON object per line, as runc does: {"type":"stats","id":ID,"data":{...}}
every --interval and {"type":"oom","id":ID} for each process the OOM killer
kills in the container, until the container stops. With --stats, prints
the statistics once and exits.`,
	Flags: []cli.Flag{
		cli.DurationFlag{Name: "interval", Value: 5 * time.Second, Usage: "set the stats collection interval"},
		cli.BoolFlag{Name: "stats", Usage: "display the container's stats then exit"},
	},
	Action: func(ctx *cli.Context) error {
		interval := ctx.Duration("interval")
		if interval <= 0 {
			return fmt.Errorf("events: the interval must be greater than 0, not %v", interval)
		}
		c, err := openContainer(ctx)
		if err != nil {
			return err
		}
		enc := json.NewEncoder(os.Stdout)
		if ctx.Bool("stats") {
			s, err := c.Stats()
			if err != nil {
				return err
			}
			return enc.Encode(libcontainer.Event{Type: "stats", ID: c.State.ID, Data: s})
		}
		return c.Watch(interval, func(e libcontainer.Event) error { return enc.Encode(e) })
	},
}
