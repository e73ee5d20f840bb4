package libcontainer

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// addHome sets HOME, when the process has none, to the user's home in the
// container's /etc/passwd, or "/" — as runc does; images expect it.
func addHome(p *specs.Process, rootfs string) {
	for _, e := range p.Env {
		if strings.HasPrefix(e, "HOME=") {
			return
		}
	}
	p.Env = append(p.Env, "HOME="+homeOf(p.User.UID, rootfs))
}

func homeOf(uid uint32, rootfs string) string {
	path, err := securejoin.SecureJoin(rootfs, "/etc/passwd")
	if err != nil {
		return "/"
	}
	f, err := os.Open(path)
	if err != nil {
		return "/"
	}
	defer f.Close()
	want := strconv.FormatUint(uint64(uid), 10)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) >= 6 && fields[2] == want && fields[5] != "" {
			return fields[5]
		}
	}
	return "/"
}
