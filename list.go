package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/urfave/cli"

	"github.com/casco-runtime/casco/libcontainer"
)

var listCommand = cli.Command{
	Name:  "list",
	Usage: "list the containers under --root",
	Flags: []cli.Flag{
		cli.StringFlag{Name: "format, f", Value: "table", Usage: "table or json"},
		cli.BoolFlag{Name: "quiet, q", Usage: "print only the IDs"},
	},
	Action: func(ctx *cli.Context) error {
		root := ctx.GlobalString("root")
		// as runc 1.2: a missing default root only means no container was
		// made yet, but a --root given that does not exist is a mistake
		if _, err := os.Stat(root); err != nil && ctx.GlobalIsSet("root") {
			return fmt.Errorf("list: %w", err)
		}
		states, err := libcontainer.List(root)
		if err != nil {
			return fmt.Errorf("list %s: %w", root, err)
		}
		users := userNames()
		for i := range states {
			states[i].Owner = dirOwner(filepath.Join(root, states[i].ID), users)
		}
		// one buffer for the whole listing: tabwriter and Println would
		// otherwise make a write(2) per cell or line, ~13 per container
		out := bufio.NewWriter(os.Stdout)
		if ctx.Bool("quiet") {
			for _, s := range states {
				fmt.Fprintln(out, s.ID)
			}
			return out.Flush()
		}
		switch f := ctx.String("format"); f {
		case "json":
			if states == nil {
				states = []libcontainer.OCIState{}
			}
			return json.NewEncoder(os.Stdout).Encode(states)
		case "table":
			w := tabwriter.NewWriter(out, 12, 1, 3, ' ', 0)
			fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
			for _, s := range states {
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle, s.Created.Format(time.RFC3339Nano), s.Owner)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			return out.Flush()
		default:
			return fmt.Errorf("unknown --format %q: table or json", f)
		}
	},
}

// dirOwner names the owner of a container's state directory, as runc does.
func dirOwner(dir string, users map[uint32]string) string {
	st, err := os.Stat(dir)
	if err != nil {
		return ""
	}
	uid := st.Sys().(*syscall.Stat_t).Uid
	if name, ok := users[uid]; ok {
		return name
	}
	return "#" + strconv.Itoa(int(uid))
}

// userNames reads /etc/passwd once for the whole list (uid -> first name),
// rather than once per container.
func userNames() map[uint32]string {
	users := map[uint32]string{}
	f, err := os.Open("/etc/passwd")
	if err != nil {
		return users
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) < 3 {
			continue
		}
		uid, err := strconv.ParseUint(fields[2], 10, 32)
		if err != nil {
			continue
		}
		if _, seen := users[uint32(uid)]; !seen {
			users[uint32(uid)] = fields[0]
		}
	}
	return users
}
