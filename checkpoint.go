package main

import (
	"fmt"

	"github.com/urfave/cli"

	"github.com/casco-runtime/casco/libcontainer"
)

// criuFlags are the flags checkpoint and restore share, runc's.
var criuFlags = []cli.Flag{
	cli.StringFlag{Name: "image-path", Usage: "directory of the CRIU image files"},
	cli.StringFlag{Name: "work-path", Usage: "directory for CRIU's work files and log (default: the image path)"},
	cli.BoolFlag{Name: "tcp-established", Usage: "allow open TCP connections"},
	cli.BoolFlag{Name: "ext-unix-sk", Usage: "allow external unix sockets"},
	cli.BoolFlag{Name: "shell-job", Usage: "allow shell jobs (a terminal from outside)"},
	cli.BoolFlag{Name: "file-locks", Usage: "handle file locks"},
	cli.StringFlag{Name: "manage-cgroups-mode", Usage: "cgroups mode: soft (default), full, strict or ignore"},
	cli.StringFlag{Name: "empty-ns", Usage: "create this namespace (network) but don't restore its contents"},
	cli.BoolFlag{Name: "auto-dedup", Usage: "deduplicate memory images automatically"},
	cli.BoolFlag{Name: "lazy-pages", Usage: "restore memory pages lazily, with userfaultfd"},
	cli.DurationFlag{Name: "criu-timeout", Value: libcontainer.DefaultCriuTimeout, EnvVar: "CASCO_CRIU_TIMEOUT", Usage: "kill CRIU when it does not answer for this long"},
}

var checkpointCommand = cli.Command{
	Name:      "checkpoint",
	Usage:     "checkpoint a running container with CRIU",
	ArgsUsage: "<container-id>",
	Flags: append([]cli.Flag{
		cli.StringFlag{Name: "parent-path", Usage: "an earlier (pre-)dump, relative to the image path"},
		cli.BoolFlag{Name: "leave-running", Usage: "leave the container running after the checkpoint"},
		cli.BoolFlag{Name: "pre-dump", Usage: "dump the memory only, leave the container running"},
		cli.IntFlag{Name: "status-fd", Value: -1, Usage: "CRIU writes \\0 to this fd once --lazy-pages serves pages"},
		cli.StringFlag{Name: "page-server", Usage: "ADDRESS:PORT of the page server"},
	}, criuFlags...),
	Action: func(ctx *cli.Context) error {
		id, err := idArg(ctx)
		if err != nil {
			return err
		}
		o := &libcontainer.CheckpointOpts{
			CriuOpts:     criuOpts(ctx),
			ParentPath:   ctx.String("parent-path"),
			LeaveRunning: ctx.Bool("leave-running"),
			PreDump:      ctx.Bool("pre-dump"),
			StatusFd:     ctx.Int("status-fd"),
			PageServer:   ctx.String("page-server"),
		}
		err = withContainer(ctx, func(c *libcontainer.Container) error {
			if err := c.Checkpoint(o); err != nil {
				return err
			}
			if o.LeaveRunning || o.PreDump {
				return nil
			}
			// CRIU ended the processes: the container is gone, as with runc
			return c.Delete(true)
		})
		if err != nil {
			return fmt.Errorf("checkpoint %q: %w", id, err)
		}
		return nil
	},
}

func criuOpts(ctx *cli.Context) libcontainer.CriuOpts {
	return libcontainer.CriuOpts{
		Criu:              ctx.GlobalString("criu"),
		ImagePath:         ctx.String("image-path"),
		WorkPath:          ctx.String("work-path"),
		TCPEstablished:    ctx.Bool("tcp-established"),
		ExtUnixSk:         ctx.Bool("ext-unix-sk"),
		ShellJob:          ctx.Bool("shell-job"),
		FileLocks:         ctx.Bool("file-locks"),
		AutoDedup:         ctx.Bool("auto-dedup"),
		LazyPages:         ctx.Bool("lazy-pages"),
		ManageCgroupsMode: ctx.String("manage-cgroups-mode"),
		EmptyNs:           ctx.String("empty-ns"),
		Timeout:           ctx.Duration("criu-timeout"),
	}
}
